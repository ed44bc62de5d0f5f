"""Nothing secret in logs (issue 12 §2): ``leadsonar serve`` as a process, keys sent every way,
its output grepped; ``LEADSONAR_LOG_FORMAT=json`` gives one object per line with the request id
the client saw; ``--port`` out of range is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from tests.acceptance.test_cli import ServerProcess, cli_env, last_line_key, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def dns() -> Iterator[LoopbackDns]:
    with LoopbackDns() as server:
        yield server


def _send_keys_every_way(url: str, key: str) -> list[str]:
    """Requests carrying ``key`` in every place a client might put it; returns request ids."""
    ids = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for name in ("api_key", "key", "access_token", "token", "apiKey", "X-API-Key", "auth"):
            response = client.get("/api/v1/credits", params={name: key, "page": "2"})
            assert response.status_code == 401
            ids.append(response.headers["X-Request-ID"])
        for path in ("/api/v1/credits", f"/api/v1/enrich/{key}", "/nowhere"):
            for headers in (
                {"Authorization": f"Bearer {key}"},
                {"X-API-Key": key},
                {"Authorization": f"Basic {key}"},
            ):
                response = client.get(path, headers=headers)
                ids.append(response.headers["X-Request-ID"])
        wrong = key[:-4] + "AAAA"
        client.get("/api/v1/credits", params={"api_key": wrong})
        client.get("/api/v1/credits", headers={"Authorization": f"Bearer {wrong}"})
        client.post(
            "/api/v1/find-email",
            params={"access_token": key},
            headers={"X-API-Key": key},
            json={"firstName": "A", "lastName": "B", "website": "example.com"},
        )
    return ids


def _serve(tmp_path: Path, dns: LoopbackDns, **settings: object) -> tuple[ServerProcess, str]:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}", dns, **settings)
    key = last_line_key(run_cli(env, tmp_path, "accounts", "create", "acme", "--credits", "5"))
    return ServerProcess(env, tmp_path, "serve").start(), key


def test_access_logs_never_contain_keys_sent_any_way(tmp_path: Path, dns: LoopbackDns) -> None:
    server, key = _serve(tmp_path, dns)
    try:
        ids = _send_keys_every_way(server.url, key)
    finally:
        server.stop()
    logs = server.stdout + server.stderr
    secret = key.removeprefix("ls_live_")
    assert secret[:12] not in logs, logs
    assert "[redacted]" in logs  # the query parameters were logged, their values were not
    assert "page=2" in logs  # … and the harmless ones kept
    for request_id in ids:
        assert request_id in logs  # every request has its access line


def test_json_log_format_is_one_object_per_line_with_the_request_fields(
    tmp_path: Path, dns: LoopbackDns
) -> None:
    server, key = _serve(tmp_path, dns, LOG_FORMAT="json")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            ok = client.get("/api/v1/credits", headers={"X-API-Key": key})
            job = client.get("/api/v1/enrich/nope", headers={"X-API-Key": key})
            denied = client.get("/api/v1/credits", params={"token": key})
    finally:
        server.stop()
    assert ok.status_code == 200 and job.status_code == 404 and denied.status_code == 401
    records = [json.loads(line) for line in server.stderr.splitlines() if line.strip()]
    assert records, server.describe()
    access = {r["request_id"]: r for r in records if r["logger"] == "leadsonar.access"}
    first = access[ok.headers["X-Request-ID"]]
    assert first["route"] == "/api/v1/credits" and first["status"] == 200
    assert isinstance(first["latency_ms"], float | int) and first["latency_ms"] >= 0
    assert isinstance(first["account_id"], int)
    assert access[job.headers["X-Request-ID"]]["route"] == "/api/v1/enrich/{job_id}"
    refused = access[denied.headers["X-Request-ID"]]
    assert refused["status"] == 401 and refused["account_id"] is None
    assert key not in server.stderr and key not in server.stdout
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)


@pytest.mark.parametrize("port", ["181441", "0", "-1", "65536"])
def test_serve_refuses_a_port_out_of_range(tmp_path: Path, dns: LoopbackDns, port: str) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", dns)
    result = run_cli(env, tmp_path, "serve", "--port", port)
    assert result.returncode == 2, result.describe()
    assert "Invalid value for '--port'" in result.stderr, result.describe()


def test_suppress_and_erase_from_the_command_line(tmp_path: Path, dns: LoopbackDns) -> None:
    """Issue 12 §5: ``leadsonar suppress`` and ``leadsonar erase`` (operator commands)."""
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'privacy.db'}", dns)
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "firstName,lastName,company,website,email,phone\n"
        "Ada,Lovelace,Acme,acme.test,ada@acme.test,\n",
        encoding="utf-8",
    )
    assert run_cli(env, tmp_path, "import", str(contacts)).returncode == 0
    suppressed = run_cli(env, tmp_path, "suppress", "Spam.Example", "--reason", "asked")
    assert suppressed.returncode == 0 and "Suppressed domain spam.example" in suppressed.stdout
    bad = run_cli(env, tmp_path, "suppress", "not a domain")
    assert bad.returncode == 1 and "not a domain name" in bad.stderr
    lifted = run_cli(env, tmp_path, "suppress", "spam.example", "--lift")
    assert lifted.returncode == 0 and "Lifted" in lifted.stdout
    erased = run_cli(env, tmp_path, "erase", "ADA@acme.test")
    assert erased.returncode == 0, erased.describe()
    assert "Erased ada@acme.test: 1 imported contacts" in erased.stdout
    found = run_cli(env, tmp_path, "find-email", "Ada", "Lovelace", "acme.test")
    assert found.returncode == 0, found.describe()
    assert '"email": null' in found.stdout and "ada@acme.test" not in found.stdout
    assert run_cli(env, tmp_path, "suppress", "acme.test").returncode == 0
    withheld = run_cli(env, tmp_path, "find-email", "Ada", "Lovelace", "acme.test")
    assert '"reason": "suppressed"' in withheld.stdout, withheld.describe()
