"""Database.read_sync: the hot path's point reads (a cached answer, an imported contact).

On a SQLite file they run inline on the event loop's thread through a connection kept open;
they must see every write committed before they run (no snapshot kept between reads), never
hold SQLite's locks, and, when the file is locked for longer than a moment, be asked again
through the async engine instead of holding up the loop. On PostgreSQL they run on a pooled
async connection."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import OperationalError

from leadsonar.kit.db import Database

pytestmark = pytest.mark.asyncio


async def _table(db: Database) -> None:
    key = "INTEGER PRIMARY KEY" if db.sqlite else "SERIAL PRIMARY KEY"
    async with db.engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE notes (id {key}, body TEXT)"))


def _bodies(connection: Connection) -> list[str]:
    return [row[0] for row in connection.execute(text("SELECT body FROM notes ORDER BY id"))]


async def _add(db: Database, body: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})


async def test_a_read_sees_each_write_committed_before_it(database_url: str) -> None:
    db = Database(database_url)
    try:
        await _table(db)
        assert await db.read_sync(_bodies) == []
        await _add(db, "one")
        assert await db.read_sync(_bodies) == ["one"]
        await _add(db, "two")  # committed by another connection between two inline reads
        assert await db.read_sync(_bodies) == ["one", "two"]
    finally:
        await db.dispose()


async def test_a_failed_read_raises_and_the_next_one_works(database_url: str) -> None:
    db = Database(database_url)
    try:
        await _table(db)
        await _add(db, "kept")

        def broken(connection: Connection) -> Any:
            return connection.execute(text("SELECT nothing FROM nowhere")).all()

        with pytest.raises(Exception, match="nowhere"):
            await db.read_sync(broken)
        assert await db.read_sync(_bodies) == ["kept"]
    finally:
        await db.dispose()


async def test_inline_reads_hold_no_lock_a_writer_waits_for(tmp_path: Any) -> None:
    """After an inline read, another process can take SQLite's write lock and checkpoint the
    whole WAL (a read transaction left open would keep the checkpoint from finishing)."""
    path = tmp_path / "inline.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await _table(db)
        await _add(db, "one")
        assert await db.read_sync(_bodies) == ["one"]
        other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO notes (body) VALUES ('two')")
            other.execute("COMMIT")
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            other.close()
        assert busy == 0, "an inline read left a read transaction open"
        assert await db.read_sync(_bodies) == ["one", "two"]
    finally:
        await db.dispose()


async def test_a_locked_file_is_read_through_the_async_engine(tmp_path: Any) -> None:
    """When SQLite answers the inline read with "database is locked" (WAL recovery, another
    process in exclusive locking mode; injected here at the inline connection's statement),
    the read is asked again through the async engine, which waits off the loop, and the
    inline connection keeps serving the reads after it."""
    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await _table(db)
        await _add(db, "before")
        assert await db.read_sync(_bodies) == ["before"]  # the inline connection is open
        inline = db.sync_engines[1]  # the async engine's, the inline reader's, the writer's
        threads: list[str] = []

        def locked_once(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            threads.append(threading.current_thread().name)
            if len(threads) == 1:
                raise OperationalError(
                    statement, params, sqlite3.OperationalError("database is locked")
                )

        event.listen(inline, "before_cursor_execute", locked_once)
        assert await db.read_sync(_bodies) == ["before"]
        assert await db.read_sync(_bodies) == ["before"]
        loop_thread = threading.current_thread().name
        assert threads == [loop_thread, loop_thread], "each read tried the inline connection first"
    finally:
        await db.dispose()
