"""The charge writer (Database.write_sync / write_statement): a charge that is
reported failed must not have been written (Reservations.charge's contract: "Exception: the
batch's transaction failed (nothing was written for it)"), whatever part of the batch failed.
A connection that breaks *after* a statement was sent leaves it in doubt (it may have
committed without the answer arriving, as any lost COMMIT reply); these tests break it before
the statement is sent."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from leadsonar.accounts import service as accounts
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.prebuilt import APPLICATION_NAME
from leadsonar.ledger import service as ledger
from leadsonar.ledger.models import AccountBalance, LedgerEntry
from leadsonar.ledger.reservations import Reservations

pytestmark = pytest.mark.asyncio


async def _fresh(url: str) -> Database:
    db = Database(url)
    await upgrade_to_head(db.engine)
    return db


async def _account(db: Database, name: str, credits: int) -> int:
    async with db.write_session() as session:
        account = await accounts.create_account(session, name)
        if credits:
            await ledger.grant(session, account.id, credits, "initial")
        return account.id


async def _state(db: Database, account_id: int) -> tuple[int, int]:
    """(balance, charge entries) of the account."""
    async with db.read_session() as session:
        balance = await session.scalar(
            select(AccountBalance.balance).where(AccountBalance.account_id == account_id)
        )
        charges = await session.scalar(
            select(func.count()).where(LedgerEntry.account_id == account_id, LedgerEntry.amount < 0)
        )
    return int(balance or 0), int(charges or 0)


def _drop_connection_on(db: Database, url: str, marker: str, nth: int) -> None:
    """Terminate the PostgreSQL backend of the connection about to run the ``nth`` statement
    containing ``marker`` (a connection dropped mid-batch: restart, failover, idle killer):
    the writer thread's connection, or for a prebuilt write (Database.write_statement) every
    connection of the event loop's pool, since which one it takes is not known yet."""
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    seen = [0]

    def reached(statement: str) -> bool:
        seen[0] += marker in statement
        return marker in statement and seen[0] == nth

    def before(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if reached(statement):
            with psycopg.connect(admin, autocommit=True) as killer:
                killer.execute(
                    "SELECT pg_terminate_backend(%s)", (cursor.connection.info.backend_pid,)
                )

    def before_prebuilt(statement: str) -> None:
        if reached(statement):
            with psycopg.connect(admin, autocommit=True) as killer:
                killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s AND datname = current_database()",
                    (APPLICATION_NAME,),
                )

    event.listen(db.sync_engines[-1], "before_cursor_execute", before)
    db.prebuilt_listeners.append(before_prebuilt)


@pytest.mark.parametrize(
    ("marker", "nth", "second_credits"),
    [
        # phase 1: A's one-statement debit commits (autocommit), B's statement loses the
        # connection.
        ("WITH debited", 2, 10),
        # phase 2: A's one-statement debit commits, B's balance does not cover it and the
        # fallback transaction (SELECT ... FOR UPDATE) loses the connection.
        ("FOR UPDATE", 1, 0),
    ],
)
async def test_a_charge_reported_failed_was_not_written_postgres(
    postgres_url: str, marker: str, nth: int, second_credits: int
) -> None:
    db = await _fresh(postgres_url)
    try:
        rich = await _account(db, "rich", 10)
        other = await _account(db, "other", second_credits)
        reservations = Reservations(db)
        # Warm the writers' connections so the listeners see established ones.
        await reservations.charge(rich, 1, "find-email", "warm")
        _drop_connection_on(db, postgres_url, marker, nth)
        outcomes = await asyncio.gather(
            reservations.charge(rich, 1, "find-email", "r-rich"),
            reservations.charge(other, 1, "find-email", "r-other"),
            return_exceptions=True,
        )
        rich_outcome = outcomes[0]
        # the other account's statement (or transaction) lost its connection
        assert isinstance(outcomes[1], psycopg.OperationalError | OperationalError), outcomes
        balance, charges = await _state(db, rich)
        if isinstance(rich_outcome, BaseException):
            # The request was answered with an error (500): it must not have been charged.
            assert (balance, charges) == (9, 1), (
                f"rich's charge failed with {rich_outcome!r} but was committed: "
                f"balance {balance}, charge entries {charges}"
            )
        else:
            assert (balance, charges) == (8, 2)
    finally:
        await db.dispose()


async def test_a_charge_whose_writer_is_cancelled_learns_what_was_written_postgres(
    postgres_url: str,
) -> None:
    """Shutdown cancels the charge writer while its batch's debit waits for the balance row:
    the statement still runs to its end (here it commits), and the charge is told it was
    taken, not cancelled (its request is answered as charged)."""
    db = await _fresh(postgres_url)
    try:
        rich = await _account(db, "rich", 10)
        reservations = Reservations(db)
        await reservations.charge(rich, 1, "find-email", "warm")
        admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
        async with await psycopg.AsyncConnection.connect(admin) as holder:
            await holder.execute(
                "SELECT 1 FROM account_balances WHERE account_id = %s FOR UPDATE", (rich,)
            )
            charge = asyncio.ensure_future(reservations.charge(rich, 1, "find-email", "r1"))
            await asyncio.sleep(0.3)  # its debit waits for the row lock
            writer = reservations._writer
            assert writer is not None and not charge.done()
            writer.cancel()
            await asyncio.sleep(0.1)
            assert not charge.done()  # the statement is still running
            await holder.commit()  # the lock goes: the debit commits
        await charge  # taken: neither an error nor a cancellation
        assert await _state(db, rich) == (8, 2)
        with pytest.raises(asyncio.CancelledError):
            await writer
    finally:
        await db.dispose()


async def _tick(gaps: list[float]) -> None:
    """Every 10 ms, append to ``gaps`` the seconds since the last tick (a blocked event loop
    shows as a long gap), until cancelled."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last)
        last = now


async def test_sqlite_uri_url_writes_where_the_app_reads(tmp_path: Any) -> None:
    """A SQLite URL in URI form (``file:…?uri=true``) names the same database for the async
    engine and the writer thread."""
    path = tmp_path / "uri.db"
    url = f"sqlite+aiosqlite:///file:{path}?uri=true"
    db = await _fresh(url)
    try:
        account = await _account(db, "uri", 5)
        await Reservations(db).charge(account, 1, "find-email", "r1")
        assert await _state(db, account) == (4, 1)
    finally:
        await db.dispose()
    assert not os.path.exists(f"file:{path}")


async def test_dispose_does_not_block_the_event_loop_while_a_write_waits(tmp_path: Any) -> None:
    """Another process holds SQLite's write lock for a while; a charge is waiting for it on the
    writer thread when the app shuts down (Database.dispose). The event loop must keep
    running meanwhile (other requests, other shutdown work, timers)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    db = await _fresh(url)
    account = await _account(db, "busy", 5)
    await Reservations(db).charge(account, 1, "find-email", "warm")  # (inline: the lock is free)

    other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # "another process" holds the write lock ...
    release = threading.Timer(2.0, other.rollback)  # ... for two seconds
    release.start()
    charge = asyncio.create_task(Reservations(db).charge(account, 1, "find-email", "r1"))
    await asyncio.sleep(0.1)  # the charge is waiting on the writer thread

    gaps: list[float] = []
    ticker = asyncio.create_task(_tick(gaps))
    await asyncio.sleep(0.05)
    try:
        await db.dispose()
        await charge
    finally:
        ticker.cancel()
        release.join()
        other.close()
    assert max(gaps) < 0.5, f"the event loop was blocked for {max(gaps):.2f} s in dispose()"


def _committing_threads(db: Database) -> list[int]:
    """The thread of every commit on ``db``'s synchronous engines, in order."""
    threads: list[int] = []
    for engine in db.sync_engines:
        event.listen(engine, "commit", lambda _conn: threads.append(threading.get_ident()))
    return threads


async def test_a_sqlite_charge_is_committed_inline_while_the_write_lock_is_free(
    tmp_path: Any,
) -> None:
    """With nobody else writing, a charge's transaction runs on the event loop's thread (no
    hop to the writer thread, Database.write_sync), and the next one too."""
    db = await _fresh(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    try:
        account = await _account(db, "inline", 5)
        threads = _committing_threads(db)
        await Reservations(db).charge(account, 1, "find-email", "r1")
        await Reservations(db).charge(account, 1, "find-email", "r2")
        assert threads == [threading.get_ident()] * 2
        assert await _state(db, account) == (3, 2)
    finally:
        await db.dispose()


async def test_a_charge_waits_on_the_writer_thread_while_another_connection_writes(
    tmp_path: Any,
) -> None:
    """Another process holds SQLite's write lock for half a second: the inline ``BEGIN
    IMMEDIATE`` does not wait for it (that would hold up the loop), the charge waits on the
    writer thread instead and is committed there once the lock is free; the loop keeps
    running meanwhile, and the next charge, the lock free again, is inline."""
    path = tmp_path / "busy.db"
    db = await _fresh(f"sqlite+aiosqlite:///{path}")
    try:
        account = await _account(db, "busy", 5)
        threads = _committing_threads(db)
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.5, other.rollback)
        release.start()
        gaps: list[float] = []
        ticker = asyncio.create_task(_tick(gaps))
        began = time.monotonic()
        try:
            await Reservations(db).charge(account, 1, "find-email", "r1")
        finally:
            ticker.cancel()
            release.join()
            other.close()
        assert time.monotonic() - began >= 0.4  # it waited for the other writer
        assert max(gaps) < 0.2, f"the event loop was blocked for {max(gaps):.2f} s"
        assert len(threads) == 1 and threads[0] != threading.get_ident()
        await Reservations(db).charge(account, 1, "find-email", "r2")
        assert threads[1:] == [threading.get_ident()]
        assert await _state(db, account) == (3, 2)
    finally:
        await db.dispose()


async def test_a_failed_inline_commit_leaves_no_write_lock_held(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inline writer's COMMIT fails once (a full disk, an I/O error): the charge fails,
    nothing of it is kept, SQLite's write lock is not left held (another connection can take
    it at once) and the next charge is written."""
    path = tmp_path / "commit.db"
    db = await _fresh(f"sqlite+aiosqlite:///{path}")
    try:
        account = await _account(db, "commit", 5)
        await Reservations(db).charge(account, 1, "find-email", "r1")  # the inline connection
        inline = db.sync_engines[-1]
        commit = inline.dialect.do_commit
        failures = [sqlite3.OperationalError("disk I/O error")]

        def failing_commit(dbapi_connection: Any) -> None:
            if failures:
                raise failures.pop()
            commit(dbapi_connection)

        monkeypatch.setattr(inline.dialect, "do_commit", failing_commit)
        with pytest.raises(Exception, match="disk I/O error"):
            await Reservations(db).charge(account, 1, "find-email", "r2")
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if it were held
            other.execute("ROLLBACK")
        finally:
            other.close()
        await Reservations(db).charge(account, 1, "find-email", "r3")
        assert await _state(db, account) == (3, 2)
    finally:
        await db.dispose()
