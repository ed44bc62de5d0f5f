"""Acceptance (issue 11 §3, §5): ``leadsonar enrich`` and ``import`` read lead lists with the one
reader (Latin-1, ``;``, header aliases; exit 2 with one sentence on a bad file), the progress bar
shows rate and time left, and ``leadsonar webhooks secret`` prints the signing secret last."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from leadsonar.testing.dnsserver import LoopbackDns
from tests.acceptance.test_cli import arun_cli, cli_env, dns_zone, run_cli

__all__ = ["dns_zone"]  # the fixture, shared with test_cli.py

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("Sarah,Chen,figma.com\nMike,Lee,linear.app\n", "first-name and last-name columns"),
        ("Frist Name,Last Name,Website\nSarah,Chen,figma.com\n", "'Frist Name'"),
        ("First Name,Last Name,Title\nSarah,Chen,CEO\n", "company or website column"),
    ],
)
def test_enrich_refuses_a_file_without_the_columns_with_exit_2(
    dns_zone: LoopbackDns, tmp_path: Path, content: str, says: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    done = run_cli(env, tmp_path, "enrich", str(source), "-o", str(tmp_path / "out.csv"))
    assert done.returncode == 2, done.describe()
    assert says in done.stderr, done.describe()
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


async def test_enrich_reads_a_latin1_semicolon_file_and_shows_rate_and_time_left(
    dns_zone: LoopbackDns, tmp_path: Path
) -> None:
    dns_zone.add_null_mx("creme.test")  # answers at once: the domain takes no mail
    source = tmp_path / "export.csv"
    source.write_bytes(
        "Prénom;Nom;Société;Site web\r\nÉlodie;Marchand;Crème SA;creme.test\r\n"
        "José;Núñez;Crème SA;creme.test\r\n;Sans nom;Crème SA;creme.test\r\n".encode("cp1252")
    )
    target = tmp_path / "out.csv"
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    done = await arun_cli(env, tmp_path, "enrich", str(source), "-o", str(target))
    assert done.returncode == 0, done.describe()
    assert "Wrote 3 rows" in done.stdout, done.describe()
    assert "rows/s" in done.stderr and "left" in done.stderr, done.describe()
    with target.open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [row["Prénom"] for row in written] == ["Élodie", "José", ""]
    assert written[0]["Société"] == "Crème SA" and written[0]["reason"]
    assert "no first name" in written[2]["reason"]


async def test_import_reads_latin1_and_refuses_a_bad_header_with_exit_2(
    dns_zone: LoopbackDns, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(
        "First Name;Last Name;Company;Website;Email\r\n"
        "Élodie;Marchand;Initech;initech.test;elodie.marchand@initech.test\r\n".encode("latin-1")
    )
    imported = await arun_cli(env, tmp_path, "import", str(contacts))
    assert imported.returncode == 0, imported.describe()
    assert "Imported 1 of 1 contacts" in imported.stdout, imported.describe()
    found = await arun_cli(env, tmp_path, "find-email", "Élodie", "Marchand", "initech.test")
    assert "elodie.marchand@initech.test" in found.stdout, found.describe()

    bad = tmp_path / "bad.csv"
    bad.write_text("email;phone\nx@y.test;1\n", encoding="utf-8")
    refused = await arun_cli(env, tmp_path, "import", str(bad))
    assert refused.returncode == 2, refused.describe()
    assert "firstName and lastName" in refused.stderr and "Traceback" not in refused.stderr


def test_webhooks_secret_is_stable_until_rotated(dns_zone: LoopbackDns, tmp_path: Path) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", dns_zone)
    assert run_cli(env, tmp_path, "accounts", "create", "acme").returncode == 0
    first = run_cli(env, tmp_path, "webhooks", "secret", "acme")
    again = run_cli(env, tmp_path, "webhooks", "secret", "acme")
    rotated = run_cli(env, tmp_path, "webhooks", "secret", "acme", "--rotate")
    assert first.returncode == 0, first.describe()
    secret = first.lines[-1]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert again.lines[-1] == secret
    assert rotated.lines[-1].startswith("whsec_") and rotated.lines[-1] != secret
    missing = run_cli(env, tmp_path, "webhooks", "secret", "nobody")
    assert missing.returncode == 1 and "No account named" in missing.stderr
