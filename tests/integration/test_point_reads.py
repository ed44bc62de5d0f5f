"""Database.fetch: the hot path's prebuilt reads, run on the driver's own connections
(psycopg's pool on PostgreSQL, the inline sqlite3 connection on a SQLite file).

They must return exactly what SQLAlchemy returns for the same statement (types converted
alike), see every write committed before them, survive a broken PostgreSQL connection, and on
a locked SQLite file wait off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    column,
    func,
    select,
    table,
)

from leadsonar.config import Settings
from leadsonar.kit.db import Database
from leadsonar.kit.point_reads import APPLICATION_NAME, conninfo

pytestmark = pytest.mark.asyncio

metadata = MetaData()
NOTES = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(50)),
    Column("seen_at", DateTime(timezone=True)),
    Column("data", JSON),
    Column("done", Boolean),
)
# prebuilt as the repositories build theirs: once, values bound by name, a literal LIMIT
BY_TIME = (
    select(NOTES.c.body, NOTES.c.seen_at, NOTES.c.data, NOTES.c.done, func.lower(NOTES.c.body))
    .where(NOTES.c.seen_at > bindparam("since"))
    .order_by(NOTES.c.id)
    .limit(5)
)
BY_ID = select(NOTES.c.body).where(NOTES.c.id == bindparam("id"))
T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


async def _database(url: str) -> Database:
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return db


async def _add(db: Database, **values: Any) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(NOTES.insert().values(**values))


async def test_a_prebuilt_read_returns_what_sqlalchemy_returns(database_url: str) -> None:
    db = await _database(database_url)
    try:
        for i in range(7):
            await _add(
                db,
                body=f"Note {i}",
                seen_at=T0 + timedelta(hours=i),
                data={"i": i, "tags": ["a", None]} if i % 2 else None,
                done=i % 3 == 0,
            )
        since = T0 + timedelta(minutes=30)
        fetched = await db.fetch(BY_TIME, {"since": since})
        async with db.read_connection() as connection:
            expected = [tuple(row) for row in await connection.execute(BY_TIME, {"since": since})]
        assert [tuple(row) for row in fetched] == expected
        assert len(fetched) == 5  # the literal LIMIT kept, the time compared as a time
        assert fetched[0][0] == "Note 1" and fetched[0][2] == {"i": 1, "tags": ["a", None]}
        assert fetched[0][3] is False and fetched[2][3] is True and fetched[0][4] == "note 1"
        assert isinstance(fetched[0][1], datetime)
        assert await db.fetch_first(BY_ID, {"id": 10_000}) is None
    finally:
        await db.dispose()


async def test_a_read_sees_each_write_committed_before_it(database_url: str) -> None:
    db = await _database(database_url)
    try:
        assert await db.fetch(BY_ID, {"id": 1}) == []
        await _add(db, id=1, body="one")
        assert [tuple(row) for row in await db.fetch(BY_ID, {"id": 1})] == [("one",)]
        async with db.engine.begin() as connection:
            await connection.execute(NOTES.update().values(body="changed"))
        assert await db.fetch_first(BY_ID, {"id": 1}) == ("changed",)
    finally:
        await db.dispose()


async def test_a_read_that_expands_a_list_is_refused_and_listeners_see_each_read(
    database_url: str,
) -> None:
    db = await _database(database_url)
    seen: list[str] = []
    db.point_read_listeners.append(seen.append)
    try:
        listed = select(NOTES.c.body).where(NOTES.c.id.in_(bindparam("ids", expanding=True)))
        with pytest.raises(ValueError, match="IN"):
            await db.fetch(listed, {"ids": [1, 2]})
        seen.clear()
        await db.fetch(BY_ID, {"id": 1})
        await db.fetch(BY_ID, {"id": 2})
        assert len(seen) == 2 and all("FROM notes" in sql for sql in seen)
    finally:
        await db.dispose()


async def test_a_broken_postgres_connection_is_replaced_and_the_read_answered(
    postgres_url: str,
) -> None:
    """The server ends the point reads' connection (a restart, an operator's
    ``pg_terminate_backend``): the next read is answered on a new connection, no error."""
    db = await _database(postgres_url)
    try:
        await _add(db, id=1, body="kept")
        assert await db.fetch_first(BY_ID, {"id": 1}) == ("kept",)
        with psycopg.connect(conninfo(postgres_url), autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchall()
        assert ended and all(row[0] for row in ended)
        assert await db.fetch_first(BY_ID, {"id": 1}) == ("kept",)
        assert await db.fetch_first(BY_ID, {"id": 1}) == ("kept",)
    finally:
        await db.dispose()


async def test_the_pool_size_setting_bounds_both_postgres_pools(postgres_url: str) -> None:
    """``LEADSONAR_DATABASE_POOL_SIZE`` is what the app passes as ``pool_size``: twelve
    concurrent slow reads share at most that many point-read connections, and the session
    pool keeps that many (deploy.md counts connections per process from it)."""
    settings = Settings(database_url=postgres_url, database_pool_size=3)
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    slow = select(func.pg_sleep(bindparam("seconds")))
    try:
        await asyncio.gather(*(db.fetch(slow, {"seconds": 0.05}) for _ in range(12)))
        with psycopg.connect(conninfo(postgres_url), autocommit=True) as admin:
            opened = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchone()
        assert opened is not None and 1 <= opened[0] <= 3
        assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_a_locked_sqlite_file_is_read_through_the_async_engine_off_the_loop(
    tmp_path: Path,
) -> None:
    """Another process holds the file in exclusive locking mode: the inline read gives up
    after its short busy timeout and the read waits on the async engine's thread (the event
    loop keeps running) until the lock is released; later reads go inline again."""
    path = tmp_path / "locked.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (2)")  # takes the lock and keeps it
    values = table("t", column("x", Integer))
    query = select(values.c.x).where(values.c.x >= bindparam("low")).order_by(values.c.x)
    db = Database(f"sqlite+aiosqlite:///{path}")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    release = threading.Timer(0.5, holder.close)
    try:
        release.start()
        began = time.monotonic()
        assert [tuple(row) for row in await db.fetch(query, {"low": 0})] == [(1,), (2,)]
        assert time.monotonic() - began >= 0.4  # it waited for the lock
        assert ticks >= 20, "the loop was held while the file was locked"
        inline = threading.current_thread().name
        seen: list[str] = []
        db.point_read_listeners.append(lambda _sql: seen.append(threading.current_thread().name))
        assert [tuple(row) for row in await db.fetch(query, {"low": 2})] == [(2,)]
        assert seen == [inline]
    finally:
        release.cancel()
        ticker.cancel()
        await db.dispose()
