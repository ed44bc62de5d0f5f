"""Tenant-scoped data (issue 9 §5): an account's imported contacts, and answers cached from them,
are never served to another account; importing again updates instead of duplicating; each
address teaches its domain's pattern once. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.domains.models import KnownContact
from leadsonar.domains.repository import learned_patterns
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio

JANE = {
    "firstname": "Jane",
    "lastname": "Roe",
    "company": "Globex",
    "website": "globex.test",
    "email": "jane.roe@globex.test",
    "phone": "+1 415 555 0100",
}
BODY = {"firstName": "Jane", "lastName": "Roe", "website": "globex.test"}


async def _find(live: LiveServer, key: str, path: str = "/api/v1/find-email") -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        response = await client.post(path, json=BODY)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_one_accounts_import_is_never_served_to_another(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as live:
        owner = await live.create_account("owner", credits=10)
        stranger = await live.create_account("stranger", credits=10)
        async with live.services.db.write_session() as session:
            await import_rows(session, [(2, JANE)], ImportReport(), await live.account_id("owner"))

        mine = await _find(live, owner)
        assert (mine["email"], mine["provider"]) == ("jane.roe@globex.test", "known")
        # The owner's answer is now cached; the stranger gets neither the import nor the cache.
        theirs = await _find(live, stranger)
        assert theirs["email"] is None and theirs["provider"] is None
        assert theirs["waterfall"]["cached"] is False
        phone = await _find(live, stranger, "/api/v1/find-phone")
        assert phone["phone"] is None
        again = await _find(live, owner)
        assert again["email"] == "jane.roe@globex.test" and again["waterfall"]["cached"] is True


async def test_reimport_updates_and_teaches_the_pattern_once(database_url: str) -> None:
    from leadsonar.accounts import service as accounts
    from leadsonar.kit.db import Database
    from leadsonar.kit.migrate import upgrade_to_head

    db = Database(database_url)
    try:
        await upgrade_to_head(db.engine)
        async with db.write_session() as session:
            first = (await accounts.create_account(session, "first")).id
            second = (await accounts.create_account(session, "second")).id
        reports = []
        for phone in ("+1 415 555 0100", "+1 415 555 0199"):  # the same file, edited
            report = ImportReport()
            async with db.write_session() as session:
                await import_rows(session, [(2, {**JANE, "phone": phone})], report, first)
            reports.append(report)
        async with db.write_session() as session:  # another account imports the same person
            await import_rows(session, [(2, JANE)], ImportReport(), second)
        async with db.read_session() as session:
            rows = (
                await session.execute(
                    select(KnownContact.account_id, KnownContact.phone).order_by(
                        KnownContact.account_id
                    )
                )
            ).all()
            patterns = dict(await learned_patterns(session, "globex.test"))
            count = await session.scalar(select(func.count()).select_from(KnownContact))
    finally:
        await db.dispose()
    assert count == 2
    assert [tuple(r) for r in rows] == [(first, "+14155550199"), (second, "+14155550100")]
    assert patterns["first.last"] == 1  # one address, one unit of evidence
    assert [r.imported for r in reports] == [1, 1]
    assert [r.patterns_learned for r in reports] == [1, 0]


async def test_import_names_its_account_and_refuses_an_unknown_one(
    sqlite_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, dns_zone: LoopbackDns
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from leadsonar.cli import app as cli_app

    source = tmp_path / "contacts.csv"
    source.write_text(
        "firstName,lastName,website,email\nJane,Roe,globex.test,jane.roe@globex.test\n"
    )
    monkeypatch.setenv("LEADSONAR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("LEADSONAR_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("LEADSONAR_DNS_SERVERS", dns_zone.address)  # globex.test: NXDOMAIN
    runner = CliRunner()
    created = await asyncio.to_thread(runner.invoke, cli_app, ["accounts", "create", "acme"])
    assert created.exit_code == 0, created.output
    unknown = await asyncio.to_thread(
        runner.invoke, cli_app, ["import", str(source), "--account", "nobody"]
    )
    assert unknown.exit_code == 1 and "No account named 'nobody'" in unknown.output
    for _ in range(2):
        done = await asyncio.to_thread(
            runner.invoke, cli_app, ["import", str(source), "--account", "acme"]
        )
        assert done.exit_code == 0 and "Imported 1 of 1 contacts" in done.output, done.output
    found = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["find-email", "Jane", "Roe", "globex.test", "--account", "acme"],
    )
    assert '"email": "jane.roe@globex.test"' in found.output, found.output
    other = await asyncio.to_thread(
        runner.invoke, cli_app, ["find-email", "Jane", "Roe", "globex.test", "--account", "x"]
    )
    assert '"email": null' in other.output, other.output
