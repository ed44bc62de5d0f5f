"""Acceptance: the ``leadsonar`` command line, run as real subprocesses.

Every command gets a clean environment (no inherited ``LEADSONAR_*``), its own SQLite file, a
loopback DNS server (``LEADSONAR_DNS_SERVERS``) and ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS=
127.0.0.0/8``, so nothing ever leaves the machine. Servers are started with ``leadsonar serve``
on a free loopback port and stopped with SIGINT/SIGTERM.

The SMTP servers (:class:`SmtpWorld`) run in the test's own event loop, so the commands that
probe them run through ``asyncio.create_subprocess_exec`` inside async tests.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.ports import free_port
from leadsonar.testing.smtpserver import SmtpWorld

KEY_LINE = re.compile(r"^ls_live_[A-Za-z0-9_-]{40}$")
COMMAND_TIMEOUT = 30.0  # seconds one CLI command may take (it starts in 1-3 s)
SERVER_START_TIMEOUT = 30.0


# -- how to run the CLI ----------------------------------------------------------------------


def leadsonar_command(*args: str) -> list[str]:
    """The console script next to the interpreter, or ``python -m leadsonar.cli``."""
    script = Path(sys.executable).with_name("leadsonar")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), *args]
    return [sys.executable, "-m", "leadsonar.cli", *args]


_BYTECODE_CACHE: Path | None = None


@pytest.fixture(scope="session", autouse=True)
def _bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Let the commands keep their bytecode in a temporary folder (PYTHONPYCACHEPREFIX), outside
    the source tree: a command then starts in about 1 s instead of 3 s."""
    global _BYTECODE_CACHE
    _BYTECODE_CACHE = tmp_path_factory.mktemp("pycache")


def cli_env(database_url: str, dns: LoopbackDns, **settings: object) -> dict[str, str]:
    """The parent's environment minus every ``LEADSONAR_*`` variable, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSONAR_")}
    if _BYTECODE_CACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(_BYTECODE_CACHE)
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "DNS_SERVERS": dns.address,
        "DNS_TIMEOUT": 2,
        "ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "SMTP_HELO_NAME": "probe.leadsonar.test",  # not socket.getfqdn(): no system lookups
        "SMTP_MAIL_FROM": "verify@leadsonar.test",
        "SMTP_PORT": 9,  # nothing listens; tests with mail servers set the world's port
        "SMTP_TIMEOUT": 2,
        "SMTP_CONNECT_TIMEOUT": 2,
        "SMTP_BANNER_TIMEOUT": 2,
        "RATE_LIMIT": "1000/second",
        "COMPANY_WIKIDATA": "false",  # public by default: commands here reach loopback only
    }
    values.update(settings)
    env.update({f"LEADSONAR_{name}": str(value) for name, value in values.items()})
    env["COLUMNS"] = "200"  # rich: no wrapping of what the commands print
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> Result:
    """Run one command to the end (for tests that need no event loop)."""
    done = subprocess.run(
        leadsonar_command(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


async def arun_cli(env: dict[str, str], cwd: Path, *args: str) -> Result:
    """Run one command without blocking the event loop (the SMTP servers live in it)."""
    process = await asyncio.create_subprocess_exec(
        *leadsonar_command(*args),
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            out, errs = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), errs.decode())


def last_line_key(result: Result) -> str:
    assert result.returncode == 0, result.describe()
    assert result.lines, result.describe()
    key = result.lines[-1].strip()
    assert KEY_LINE.match(key), result.describe()
    return key


# -- a server process ------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """``leadsonar serve`` on a free loopback port, its output kept in files."""

    env: dict[str, str]
    cwd: Path
    name: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout(self) -> str:
        return (self.cwd / f"{self.name}.out").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return (self.cwd / f"{self.name}.err").read_text(errors="replace")

    def start(self) -> ServerProcess:
        with (
            (self.cwd / f"{self.name}.out").open("wb") as out,
            (self.cwd / f"{self.name}.err").open("wb") as errs,
        ):
            self.process = subprocess.Popen(
                leadsonar_command("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=errs,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self.stop()
                    pytest.fail(f"serve exited while starting:\n{self.describe()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"serve did not answer /healthz in {SERVER_START_TIMEOUT} s:\n{self.describe()}"
        )

    def stop(self, how: signal.Signals = signal.SIGINT) -> int | None:
        """Signal the server, wait for it (kill it after 10 s); returns its exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(how)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def describe(self) -> str:
        code = self.process.returncode if self.process else None
        return f"exit {code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def get_credits(self, key: str) -> httpx.Response:
        return httpx.get(
            f"{self.url}/api/v1/credits", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def dns_zone() -> Iterator[LoopbackDns]:
    """A loopback DNS server, empty zone: every name NXDOMAIN until a test adds records."""
    with LoopbackDns() as server:
        yield server


@pytest.fixture
async def smtp_world() -> AsyncIterator[SmtpWorld]:
    async with SmtpWorld() as world:
        yield world


@dataclass
class Installation:
    """One database shared by the account, key and credit tests, and a server on it."""

    env: dict[str, str]
    cwd: Path
    server: ServerProcess
    acme_create: Result


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    cwd = tmp_path_factory.mktemp("installation")
    with LoopbackDns() as dns:
        env = cli_env(f"sqlite+aiosqlite:///{cwd / 'x.db'}", dns)
        server = ServerProcess(env, cwd, "first-serve")
        try:
            server.start()
            acme = run_cli(env, cwd, "accounts", "create", "acme", "--credits", "500")
            yield Installation(env, cwd, server, acme)
        finally:
            server.stop()


# -- accounts, keys, credits, serve ------------------------------------------------------------


@pytest.mark.slow
def test_accounts_create_prints_the_key_last_and_refuses_a_taken_name(
    installation: Installation,
) -> None:
    created = installation.acme_create
    key = last_line_key(created)
    assert "acme" in created.stdout and "500" in created.stdout
    response = installation.server.get_credits(key)
    assert response.status_code == 200, response.text
    assert response.json()["totalEarned"] >= 500

    again = run_cli(
        installation.env, installation.cwd, "accounts", "create", "acme", "--credits", "99"
    )
    assert again.returncode != 0, again.describe()
    assert "already exists" in again.stderr, again.describe()
    assert "Traceback" not in again.stderr, again.describe()
    assert not any(KEY_LINE.match(line) for line in again.lines), again.describe()


@pytest.mark.slow
def test_keys_create_and_revoke_by_prefix(installation: Installation) -> None:
    first = last_line_key(installation.acme_create)
    created = run_cli(installation.env, installation.cwd, "keys", "create", "acme")
    second = last_line_key(created)
    assert second != first
    server = installation.server
    assert server.get_credits(second).status_code == 200

    revoked = run_cli(installation.env, installation.cwd, "keys", "revoke", second[:16])
    assert revoked.returncode == 0, revoked.describe()
    assert "Revoked 1 key" in revoked.stdout, revoked.describe()

    # The server is another process: it stops accepting the key when its key cache's entry
    # expires (LEADSONAR_AUTH_CACHE_TTL, docs/configuration.md), not at the CLI's commit.
    give_up = time.monotonic() + Settings.model_fields["auth_cache_ttl"].default + 10
    refused = server.get_credits(second)
    while refused.status_code == 200 and time.monotonic() < give_up:
        time.sleep(0.5)
        refused = server.get_credits(second)
    assert refused.status_code == 401, refused.text
    body = refused.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    still = server.get_credits(first)
    assert still.status_code == 200, still.text
    assert set(still.json()) == {"balance", "totalEarned", "totalSpent"}


@pytest.mark.slow
def test_credits_grant_adds_to_the_balance(installation: Installation) -> None:
    key = last_line_key(installation.acme_create)
    granted = run_cli(installation.env, installation.cwd, "credits", "grant", "acme", "250")
    assert granted.returncode == 0, granted.describe()
    assert "balance 750" in granted.stdout, granted.describe()
    response = installation.server.get_credits(key)
    assert response.status_code == 200, response.text
    assert response.json() == {"balance": 750, "totalEarned": 750, "totalSpent": 0}


@pytest.mark.slow
def test_serve_prints_a_first_key_once(dns_zone: LoopbackDns, tmp_path: Path) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    first_start = ServerProcess(env, tmp_path, "first-start")
    try:
        first_start.start()
        keys = [line.strip() for line in first_start.stdout.splitlines() if KEY_LINE.match(line)]
        assert len(keys) == 1, first_start.describe()
        assert "1000 credits" in first_start.stdout, first_start.describe()
        response = first_start.get_credits(keys[0])
        assert response.status_code == 200, response.text
        assert response.json() == {"balance": 1000, "totalEarned": 1000, "totalSpent": 0}
    finally:
        first_code = first_start.stop(signal.SIGINT)
    assert_stopped_cleanly(first_start, first_code, signal.SIGINT)

    second_start = ServerProcess(env, tmp_path, "second-start")
    try:
        second_start.start()
        assert second_start.get_credits(keys[0]).json()["balance"] == 1000
    finally:
        second_code = second_start.stop(signal.SIGTERM)
    assert_stopped_cleanly(second_start, second_code, signal.SIGTERM)
    assert "ls_live_" not in second_start.stdout, second_start.describe()
    assert "First start" not in second_start.stdout, second_start.describe()


def assert_stopped_cleanly(server: ServerProcess, code: int | None, how: signal.Signals) -> None:
    """uvicorn shuts down gracefully, then re-raises the signal it caught (uvicorn ≥ 0.29), so
    the exit status is 0 or "killed by that signal"."""
    assert code in (0, -how), server.describe()
    assert "Application shutdown complete" in server.stderr, server.describe()


# -- import, find-email, enrich ----------------------------------------------------------------

CONTACTS_CSV = """\
First_Name,LAST NAME,company,Website,email,phone
Jane,Roe,Globex,globex.test,jane.roe@globex.test,+1 415 555 0100
Bob,Stone,Globex,https://www.globex.test/about,bstone@globex.test,
Eve,Bad,Globex,globex.test,not-an-email,
,Nofirst,Globex,globex.test,nofirst@globex.test,
Élodie,Marchand,Initech,initech.test,elodie.marchand@initech.test,
"""


async def test_import_then_find_email_answers_from_the_known_contacts(
    dns_zone: LoopbackDns, tmp_path: Path
) -> None:
    # globex.test's DNS fails (SERVFAIL) and initech.test does not exist (NXDOMAIN): only the
    # imported contacts can answer. (A null MX domain would drop them: it takes no mail.)
    dns_zone.fail("globex.test")
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    source = tmp_path / "contacts.csv"
    source.write_text(CONTACTS_CSV, encoding="utf-8")

    imported = await arun_cli(env, tmp_path, "import", str(source))
    assert imported.returncode == 0, imported.describe()
    assert "Imported 3 of 5 contacts" in imported.stdout, imported.describe()
    skipped = [line for line in imported.stderr.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 2, imported.describe()
    assert skipped[0].startswith("skipped line 4:"), imported.describe()
    assert skipped[1].startswith("skipped line 5:"), imported.describe()

    jane, elodie = await asyncio.gather(
        arun_cli(env, tmp_path, "find-email", "Jane", "Roe", "globex.test"),
        arun_cli(env, tmp_path, "find-email", "Elodie", "Marchand", "initech.test"),
    )
    assert jane.returncode == 0, jane.describe()
    body = json.loads(jane.stdout)
    assert body["email"] == "jane.roe@globex.test", jane.describe()
    assert body["confidence"] == "medium"
    assert body["provider"] == "known"
    assert body["smtpConnections"] == 0

    assert elodie.returncode == 0, elodie.describe()
    body = json.loads(elodie.stdout)
    assert body["email"] == "elodie.marchand@initech.test", elodie.describe()
    assert body["confidence"] == "medium"
    assert ("globex.test", "MX") in dns_zone.queries


async def test_find_email_probes_the_mail_server(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_mx("notion.so", [(10, "mx1.notion.so")])
    dns_zone.add_a("mx1.notion.so", "127.0.0.2")
    server = await smtp_world.serve("127.0.0.2", mailboxes={"alex.johnson@notion.so"})
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone, SMTP_PORT=smtp_world.port)

    found = await arun_cli(env, tmp_path, "find-email", "Alex", "Johnson", "notion.so")
    assert found.returncode == 0, found.describe()
    body = json.loads(found.stdout)
    assert body["email"] == "alex.johnson@notion.so", found.describe()
    assert body["confidence"] == "high"
    assert body["provider"] == "smtp"
    assert server.connections == 1
    assert "alex.johnson@notion.so" in server.rcpts


async def test_enrich_writes_the_rows_in_order_with_their_emails(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, tmp_path: Path
) -> None:
    dns_zone.add_mx("hooli.test", [(10, "mx.hooli.test")])
    dns_zone.add_a("mx.hooli.test", "127.0.0.3")
    people = [
        ("Ada", "Lovelace"),
        ("Grace", "Hopper"),
        ("Alan", "Turing"),
        ("Edsger", "Dijkstra"),
        ("Barbara", "Liskov"),
        ("Donald", "Knuth"),
        ("Ken", "Thompson"),
        ("Dennis", "Ritchie"),
        ("Margaret", "Hamilton"),
        ("John", "Backus"),
        ("Frances", "Allen"),
        ("Niklaus", "Wirth"),
        ("Leslie", "Lamport"),
        ("Radia", "Perlman"),
        ("Tony", "Hoare"),
    ]
    ghosts = [(f"Ghost{n}", f"Nobody{n}") for n in range(15)]
    mailboxes = {f"{first}.{last}@hooli.test".lower() for first, last in people}
    server = await smtp_world.serve("127.0.0.3", mailboxes=mailboxes)

    rows: list[dict[str, str]] = []
    for n in range(15):  # people and ghosts interleaved
        for first, last in (people[n], ghosts[n]):
            rows.append(
                {
                    "firstName": first,
                    "lastName": last,
                    "website": "hooli.test",
                    "note": f"row {len(rows) + 1}",
                }
            )
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["firstName", "lastName", "website", "note"])
        writer.writeheader()
        writer.writerows(rows)
    target = tmp_path / "out.csv"
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone, SMTP_PORT=smtp_world.port)

    done = await arun_cli(env, tmp_path, "enrich", str(source), "-o", str(target))
    assert done.returncode == 0, done.describe()
    assert "Wrote 30 rows" in done.stdout, done.describe()
    assert "enriching" in done.stderr, done.describe()
    assert "enriching" not in done.stdout, done.describe()

    with target.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        written = list(reader)
    assert header[:4] == ["firstName", "lastName", "website", "note"]
    assert {"email", "confidence"} <= set(header[4:])
    assert len(written) == 30
    for row, out in zip(rows, written, strict=True):
        assert {k: out[k] for k in row} == row  # input columns kept, in input order
        expected = f"{row['firstName']}.{row['lastName']}@hooli.test".lower()
        if expected in mailboxes:
            assert (out["email"], out["confidence"]) == (expected, "high"), out
        else:
            assert (out["email"], out["confidence"]) == ("", ""), out
    assert server.connections >= 1


# -- regressions: inputs that once crashed the CLI ---------------------------------------------


async def test_enrich_survives_rows_without_a_domain_and_ragged_rows(
    dns_zone: LoopbackDns, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "firstName,lastName,website\n"
        "Ada,Lovelace,\n"  # no website, no company column
        "Alan,Turing,nomail.test,surplus cell\n"  # one cell more than the header
        "Grace,Hopper,nomail.test\n",
        encoding="utf-8",
    )
    dns_zone.add_null_mx("nomail.test")
    target = tmp_path / "out.csv"
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    done = await arun_cli(env, tmp_path, "enrich", str(source), "-o", str(target))
    assert done.returncode == 0, done.describe()
    with target.open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [row["firstName"] for row in written] == ["Ada", "Alan", "Grace"]
    assert all(row["email"] == "" for row in written)


def test_account_names_with_brackets_are_printed_verbatim(
    dns_zone: LoopbackDns, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    created = run_cli(env, tmp_path, "accounts", "create", "team[/]")
    last_line_key(created)
    assert "team[/]" in created.stdout, created.describe()


def test_negative_credits_are_refused(dns_zone: LoopbackDns, tmp_path: Path) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    created = run_cli(env, tmp_path, "accounts", "create", "neg", "--credits", "-5")
    assert created.returncode != 0
    assert "ls_live_" not in created.stdout


def test_import_clears_cached_not_found_answers(dns_zone: LoopbackDns, tmp_path: Path) -> None:
    """A "not found" is cached for a day, but new contacts must be used at once. (later.test
    does not exist in DNS: a null MX domain would drop any address, imported ones too.)"""
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    before = run_cli(env, tmp_path, "find-email", "Tom", "Baker", "later.test")
    assert json.loads(before.stdout)["email"] is None, before.describe()
    source = tmp_path / "contacts.csv"
    source.write_text(
        "firstName,lastName,company,website,email,phone\n"
        "Tom,Baker,Later,later.test,tom.baker@later.test,\n",
        encoding="utf-8",
    )
    assert run_cli(env, tmp_path, "import", str(source)).returncode == 0
    after = run_cli(env, tmp_path, "find-email", "Tom", "Baker", "later.test")
    assert json.loads(after.stdout)["email"] == "tom.baker@later.test", after.describe()
