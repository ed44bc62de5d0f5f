"""The ledger in constant time (issue 9 §1): balance rows beside the append-only entries, one
conditional statement per charge, ``ledger check``, and the migration that backfills balances.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import event, func, select, text
from typer.testing import CliRunner

from leadsonar.accounts import service as accounts
from leadsonar.cli import app as cli_app
from leadsonar.config import Settings
from leadsonar.exceptions import InsufficientCredits
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import alembic_config, upgrade_to_head
from leadsonar.ledger import service as ledger
from leadsonar.ledger.models import AccountBalance, LedgerEntry
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio


async def _fresh(url: str) -> Database:
    db = Database(url)
    await upgrade_to_head(db.engine)
    return db


async def _funded(db: Database, name: str, credits: int) -> int:
    """A new account ``name`` granted ``credits``; returns its id."""
    async with db.write_session() as session:
        account = await accounts.create_account(session, name)
        await ledger.grant(session, account.id, credits)
    return account.id


async def _entries(db: Database, account_id: int) -> int:
    async with db.read_session() as session:
        return int(
            await session.scalar(select(func.count()).where(LedgerEntry.account_id == account_id))
            or 0
        )


async def test_grant_charge_refund_keep_the_balance_row(database_url: str) -> None:
    db = await _fresh(database_url)
    try:
        async with db.write_session() as session:
            account = await accounts.create_account(session, "books")
            await ledger.grant(session, account.id, 5, "initial")
        async with db.write_session() as session:
            assert await ledger.charge(session, account.id, 3, "find-email", "r1") == 2
            await ledger.refund(session, account.id, 1, "refund:failed", "r1")
        async with db.read_session() as session:
            balance = await ledger.balance_of(session, account.id)
            assert (balance.balance, balance.total_earned, balance.total_spent) == (3, 6, 3)
            assert await ledger.check(session) == []
        before = await _entries(db, account.id)
        with pytest.raises(InsufficientCredits) as refused:
            async with db.write_session() as session:
                await ledger.charge(session, account.id, 4, "enrich", "job")
        assert refused.value.balance == 3
        assert await _entries(db, account.id) == before  # nothing written when refused
        async with db.read_session() as session:
            assert (await ledger.balance_of(session, account.id)).balance == 3
    finally:
        await db.dispose()


async def test_ledger_check_reports_a_balance_row_that_disagrees(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await _fresh(database_url)
    try:
        async with db.write_session() as session:
            good = await accounts.create_account(session, "good")
            bad = await accounts.create_account(session, "tampered")
            await ledger.grant(session, good.id, 10)
            await ledger.grant(session, bad.id, 10)
            await ledger.charge(session, bad.id, 4, "find-email")
    finally:
        await db.dispose()
    monkeypatch.setenv("LEADSONAR_DATABASE_URL", database_url)
    runner = CliRunner()
    ok = await asyncio.to_thread(runner.invoke, cli_app, ["ledger", "check"])
    assert ok.exit_code == 0, ok.output
    assert "balanced" in ok.output

    db = Database(database_url)
    try:
        async with db.session() as session:  # an operator's stray UPDATE
            await session.execute(
                sa.update(AccountBalance)
                .where(AccountBalance.account_id == bad.id)
                .values(balance=AccountBalance.balance + 1)
            )
    finally:
        await db.dispose()
    broken = await asyncio.to_thread(runner.invoke, cli_app, ["ledger", "check"])
    assert broken.exit_code == 1, broken.output
    assert "tampered" in broken.output and "good" not in broken.output
    assert "(7, 10, 4)" in broken.output and "(6, 10, 4)" in broken.output


async def test_the_hot_path_never_sums_the_entries(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """``GET /credits`` and the charge read the balance row: no statement of theirs aggregates
    ``ledger_entries`` (their cost must not grow with the account's history)."""
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as live:
        key = await live.create_account("history", credits=5)
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement.lower())

        engines = live.services.db.sync_engines
        for engine in engines:
            event.listen(engine, "before_cursor_execute", seen)
        # the prebuilt statements (PostgreSQL's charge runs on the driver's own pool)
        live.services.db.prebuilt_listeners.append(lambda sql: statements.append(sql.lower()))
        try:
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                body = {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}
                assert (await client.post("/api/v1/find-email", json=body)).status_code == 200
                credits = (await client.get("/api/v1/credits")).json()
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", seen)
    assert credits == {"balance": 4, "totalEarned": 5, "totalSpent": 1}
    touching = [s for s in statements if "ledger_entries" in s or "account_balances" in s]
    assert any("update account_balances" in s for s in touching), touching
    assert not [s for s in touching if "sum(" in s], touching


async def test_migration_backfills_balances_and_assigns_contacts(database_url: str) -> None:
    """A database made before balance rows and tenancy: 0003 sums each account's entries into
    its balance row, gives existing imports to ``default`` and drops double imports."""
    db = Database(database_url)
    try:

        def to_0001(connection: Any) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")

        async with db.engine.begin() as connection:
            await connection.run_sync(to_0001)
            await connection.execute(text("INSERT INTO accounts (name) VALUES ('other')"))
            await connection.execute(text("INSERT INTO accounts (name) VALUES ('default')"))
            ids = dict((await connection.execute(text("SELECT name, id FROM accounts"))).all())
            for account, amount in [
                ("default", 100),
                ("default", -1),
                ("default", -1),
                ("default", 1),
                ("other", 7),
            ]:
                await connection.execute(
                    text(
                        "INSERT INTO ledger_entries (account_id, amount, reason) "
                        "VALUES (:a, :n, 'x')"
                    ),
                    {"a": ids[account], "n": amount},
                )
            for _ in range(2):  # the same file imported twice
                await connection.execute(
                    text(
                        "INSERT INTO known_contacts (first_name, last_name, name_key, domain, "
                        "email) VALUES ('Jane', 'Roe', 'jane|roe', 'globex.test', "
                        "'Jane.Roe@globex.test')"
                    )
                )
        await upgrade_to_head(db.engine)
        async with db.read_session() as session:
            balances = {
                row.account_id: (row.balance, row.total_earned, row.total_spent)
                for row in (await session.scalars(select(AccountBalance))).all()
            }
            contacts = (
                await session.execute(text("SELECT account_id, contact_key FROM known_contacts"))
            ).all()
            assert await ledger.check(session) == []
    finally:
        await db.dispose()
    assert balances == {ids["default"]: (99, 101, 2), ids["other"]: (7, 7, 0)}
    assert [tuple(c) for c in contacts] == [(ids["default"], "email:jane.roe@globex.test")]


async def test_concurrent_charges_are_committed_together_and_never_overspend(
    database_url: str,
) -> None:
    """Group commit: 100 charges arriving at once on 60 credits become a few transactions;
    exactly 60 are taken (in arrival order), 40 refused with nothing written for them."""
    from leadsonar.ledger.reservations import Reservations

    db = await _fresh(database_url)
    try:
        account_id = await _funded(db, "batched", 60)
        reservations = Reservations(db)
        outcomes = await asyncio.gather(
            *(reservations.charge(account_id, 1, "find-email", f"r{i}") for i in range(100)),
            return_exceptions=True,
        )
        refused = [o for o in outcomes if isinstance(o, InsufficientCredits)]
        assert outcomes[:60] == [None] * 60
        assert len(refused) == 40
        assert 1 <= reservations.batches < 100
        assert await _entries(db, account_id) == 61  # the grant and the 60 charges
        async with db.read_session() as session:
            balance = await ledger.balance_of(session, account_id)
            assert (balance.balance, balance.total_spent) == (0, 60)
            assert await ledger.check(session) == []
    finally:
        await db.dispose()


async def test_under_concurrent_load_a_lone_charge_waits_for_the_next_one(
    database_url: str,
) -> None:
    """After a batch of several charges, a charge that arrives alone is not written in a
    transaction of its own when another arrives a moment later (GATHER_SECONDS); with one
    request at a time nothing waits: each charge is its own batch."""
    from leadsonar.ledger.reservations import Reservations

    db = await _fresh(database_url)
    try:
        account_id = await _funded(db, "gathered", 100)
        reservations = Reservations(db)
        for i in range(3):  # one at a time: three batches
            await reservations.charge(account_id, 1, "find-email", f"one{i}")
        assert reservations.batches == 3

        async def later(reference: str) -> None:
            for _ in range(3):  # a few event-loop turns after the first charge
                await asyncio.sleep(0)
            await reservations.charge(account_id, 1, "find-email", reference)

        await asyncio.gather(
            *(reservations.charge(account_id, 1, "find-email", f"load{i}") for i in range(4))
        )
        before = reservations.batches
        await asyncio.gather(
            reservations.charge(account_id, 1, "find-email", "lone"), later("next")
        )
        assert reservations.batches == before + 1
        assert await _entries(db, account_id) == 1 + 3 + 4 + 2
    finally:
        await db.dispose()


async def test_charges_all_back_from_the_last_batch_are_written_without_gathering(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When as many charges wait as the last batch held, no other is on its way: the batch is
    written at once (a gather would only add its wait to every request; found by review with
    callers that charge again as soon as their charge commits)."""
    from leadsonar.ledger import reservations as module

    monkeypatch.setattr(module, "GATHER_SECONDS", 30.0)  # a gather would show as a hang
    db = await _fresh(database_url)
    try:
        account_id = await _funded(db, "all-back", 100)
        reservations = module.Reservations(db)

        async def charge_all() -> None:
            await asyncio.gather(
                *(reservations.charge(account_id, 1, "find-email") for _ in range(3))
            )

        await asyncio.wait_for(charge_all(), 10)  # the first batch: nothing to gather for
        for _ in range(3):  # the same three callers, back together each time
            await asyncio.wait_for(charge_all(), 10)
        assert reservations.batches == 4
        assert await _entries(db, account_id) == 1 + 12  # the grant and the charges
    finally:
        await db.dispose()


async def test_a_charge_writer_cancelled_while_gathering_cancels_the_waiting_charges(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A charge waiting in the writer's gather learns of the writer's cancellation (shutdown)
    at once instead of hanging until another charge starts a new writer; nothing is
    written for it."""
    from leadsonar.ledger import reservations as module

    monkeypatch.setattr(module, "GATHER_SECONDS", 30.0)
    db = await _fresh(database_url)
    try:
        account_id = await _funded(db, "cancelled", 100)
        reservations = module.Reservations(db)
        reservations._last_batch = 4  # concurrent load just now: the next charge gathers
        waiting = asyncio.ensure_future(reservations.charge(account_id, 1, "find-email"))
        for _ in range(5):
            await asyncio.sleep(0)  # the writer starts and sleeps in its gather
        assert reservations._writer is not None and not reservations._writer.done()
        reservations._writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 10)
        assert await _entries(db, account_id) == 1  # the grant only
    finally:
        await db.dispose()
