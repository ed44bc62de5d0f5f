"""Database.fetch, write_statement and execute_in: the hot path's prebuilt statements, run on
the driver's own connections (psycopg's pool on PostgreSQL, the inline sqlite3 connection on a
SQLite file).

They must return exactly what SQLAlchemy returns for the same statement (types converted
alike), see every write committed before them, survive a broken PostgreSQL connection, and on
a locked SQLite file wait off the event loop. The writes (PostgreSQL) bind values as
SQLAlchemy does, write a batch of rows all or nothing, and run to their end when their caller
is cancelled."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import PoolTimeout
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    column,
    func,
    literal,
    select,
    table,
    text,
)

from leadsonar.config import Settings
from leadsonar.kit import prebuilt as prebuilt_module
from leadsonar.kit.db import Database, as_utc
from leadsonar.kit.prebuilt import (
    APPLICATION_NAME,
    POSTGRESQL,
    SQLITE,
    PostgresStatements,
    conninfo,
    prebuilt,
)

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


def _point_read_backends(url: str, what: str) -> list[tuple[Any, ...]]:
    """``SELECT <what>`` over the server processes of the point reads' connections to
    ``url``'s database (``pg_stat_activity``, by application name)."""
    with psycopg.connect(conninfo(url), autocommit=True) as admin:
        return admin.execute(
            f"SELECT {what} FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,),
        ).fetchall()


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
    db.prebuilt_listeners.append(seen.append)
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
        ended = _point_read_backends(postgres_url, "pg_terminate_backend(pid)")
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
        opened = _point_read_backends(postgres_url, "count(*)")
        assert 1 <= opened[0][0] <= 3
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
        db.prebuilt_listeners.append(lambda _sql: seen.append(threading.current_thread().name))
        assert [tuple(row) for row in await db.fetch(query, {"low": 2})] == [(2,)]
        assert seen == [inline]
    finally:
        release.cancel()
        ticker.cancel()
        await db.dispose()


async def test_escaped_bind_names_and_a_literal_null_are_bound(database_url: str) -> None:
    """A bindparam whose name SQLAlchemy escapes in the SQL (``since.x`` → ``since_x``) is
    passed by its own name; a literal ``NULL`` goes along as a value."""
    db = await _database(database_url)
    try:
        await _add(db, id=1, body="one", seen_at=T0)
        dotted = select(NOTES.c.body, literal(None, String)).where(
            NOTES.c.id == bindparam("note.id")
        )
        assert await db.fetch_first(dotted, {"note.id": 1}) == ("one", None)
    finally:
        await db.dispose()


async def test_statements_that_cannot_be_prebuilt_are_refused() -> None:
    """Numeric columns (psycopg's converter needs the column's type code), values rendered
    into the SQL and writes of a column whose Python-side default SQLAlchemy computes per
    execution (prebuilt, it would go as NULL) are refused up front, on either dialect, not
    failed or mis-written at run time."""
    totals = select(func.sum(column("amount", Numeric(10, 2))))
    rendered = select(NOTES.c.body).where(NOTES.c.id == bindparam("id", literal_execute=True))
    flags = Table(
        "flags",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("on", Boolean, default=False),
        Column("changed_at", DateTime(timezone=True), onupdate=lambda: datetime.now(UTC)),
    )
    defaulted = flags.insert().values(name=bindparam("name"))
    stamped = flags.update().values(name=bindparam("name"))
    for dialect in (POSTGRESQL, SQLITE):
        for statement in (totals, rendered, defaulted, stamped):
            with pytest.raises(ValueError, match="prebuilt"):
                prebuilt(statement, dialect)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://app:my%20secret%20pass@db.internal:5433/leads",
            {
                "host": "db.internal",
                "port": "5433",
                "user": "app",
                "password": "my secret pass",
                "dbname": "leads",
            },
        ),
        (
            "postgresql+psycopg://u@/leads?host=h1:5432&host=h2:5433&sslmode=require",
            {"host": "h1,h2", "port": "5432,5433", "sslmode": "require", "dbname": "leads"},
        ),
        ("postgresql://u:p%27q@/leads?host=/run/postgresql", {"password": "p'q"}),
    ],
)
async def test_a_database_url_becomes_the_connection_string_libpq_reads(
    url: str, expected: dict[str, str]
) -> None:
    """Spaces and quotes in a password stay one value (libpq refused the URL rendering, and
    the pool logged the password with its error); several hosts stay several hosts."""
    parsed = psycopg.conninfo.conninfo_to_dict(conninfo(url))
    assert {key: parsed.get(key) for key in expected} == expected


async def test_no_connection_in_time_fails_once_without_asking_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the server unreachable a read fails after one connection wait (not two: a pool
    timeout is not a broken connection worth a retry)."""
    monkeypatch.setattr(prebuilt_module, "CONNECTION_WAIT_SECONDS", 0.5)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there once closed
    reads = PostgresStatements(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", 1)
    began = time.monotonic()
    try:
        with pytest.raises(PoolTimeout):
            await reads.fetch(prebuilt(BY_ID, POSTGRESQL), {"id": 1})
    finally:
        await reads.close()
    assert time.monotonic() - began < 0.95


# prebuilt writes (PostgreSQL): one row's insert, a statement returning what it wrote
ADD_NOTE = NOTES.insert()
ADD_TWO = text("INSERT INTO notes (id, body) VALUES (:id, 'a'), (:again, 'b')").columns()
RENAME = text("UPDATE notes SET body = :body WHERE id = :id RETURNING id AS renamed").columns(
    column("renamed", Integer)
)
SLOW_ADD = text(
    "INSERT INTO notes (id, body) SELECT :id, 'slow' FROM pg_sleep(:seconds) RETURNING id AS added"
).columns(column("added", Integer))


async def test_prebuilt_writes_commit_return_and_are_all_or_nothing(postgres_url: str) -> None:
    db = await _database(postgres_url)
    seen: list[str] = []
    db.prebuilt_listeners.append(seen.append)
    try:
        rows = [
            {"id": 1, "body": "one", "seen_at": T0, "data": {"tags": ["a", None]}, "done": True},
            {"id": 2, "body": "two", "seen_at": None, "data": None, "done": False},
        ]
        for row in rows:
            await db.write_statement(ADD_NOTE, row)
        async with db.read_connection() as connection:
            stored = (await connection.execute(select(NOTES).order_by(NOTES.c.id))).all()
        assert [tuple(row) for row in stored] == [
            (1, "one", T0, {"tags": ["a", None]}, True),
            (2, "two", None, None, False),
        ]
        # bound as SQLAlchemy binds them: the same rows written through SQLAlchemy are the
        # same in the database, as PostgreSQL prints them (a JSON null is not SQL's NULL)
        async with db.engine.begin() as connection:
            await connection.execute(ADD_NOTE, [{**row, "id": row["id"] + 100} for row in rows])
        as_stored = text(
            "SELECT body, seen_at::text, data::text, data IS NULL, done FROM notes WHERE id = :id"
        )
        async with db.read_connection() as connection:
            for i in (1, 2):
                ours = (await connection.execute(as_stored, {"id": i})).one()
                theirs = (await connection.execute(as_stored, {"id": i + 100})).one()
                assert ours == theirs
        assert await db.write_statement(RENAME, {"id": 2, "body": "deux"}) == [(2,)]
        assert await db.write_statement(RENAME, {"id": 99, "body": "none"}) == []
        # a statement that fails on its second row (a duplicate key) writes none of them
        with pytest.raises(psycopg.errors.UniqueViolation):
            await db.write_statement(ADD_TWO, {"id": 3, "again": 3})
        assert await db.fetch_first(BY_ID, {"id": 3}) is None
        assert await db.fetch_first(BY_ID, {"id": 2}) == ("deux",)
        verbs = [sql.split()[0] for sql in seen]
        assert verbs == ["INSERT", "INSERT", "UPDATE", "UPDATE", "INSERT", "SELECT", "SELECT"]
    finally:
        await db.dispose()


async def test_a_cancelled_prebuilt_write_runs_to_its_end_first(postgres_url: str) -> None:
    """The caller is cancelled while its statement runs: the statement is not cut between
    sending and reading its answer (it commits), and only then does the cancellation go on."""
    db = await _database(postgres_url)
    try:
        write = asyncio.ensure_future(db.write_statement(SLOW_ADD, {"id": 7, "seconds": 0.4}))
        await asyncio.sleep(0.1)
        began = time.monotonic()
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        assert time.monotonic() - began > 0.2  # it waited for the statement
        assert await db.fetch_first(BY_ID, {"id": 7}) == ("slow",)
    finally:
        await db.dispose()


async def test_prebuilt_writes_need_postgres(tmp_path: Path) -> None:
    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            await db.write_statement(RENAME, {"id": 1, "body": "x"})
    finally:
        await db.dispose()


async def test_execute_in_writes_in_the_write_transaction_as_sqlalchemy_would(
    database_url: str,
) -> None:
    """Database.execute_in: the statements of a write_sync transaction. On a SQLite file they
    run on the sqlite3 connection (prebuilt, told to the listeners); elsewhere through
    SQLAlchemy. Either way the rows stored are those SQLAlchemy stores, a RETURNING comes
    back, and a transaction that fails keeps none of them."""
    db = await _database(database_url)
    seen: list[str] = []
    db.prebuilt_listeners.append(seen.append)
    rows = [
        {"id": 1, "body": "one", "seen_at": T0, "data": {"tags": ["a", None]}, "done": True},
        {"id": 2, "body": "two", "seen_at": None, "data": None, "done": False},
    ]

    def work(connection: Any) -> Any:
        db.execute_in(connection, ADD_NOTE, rows)
        db.execute_in(connection, ADD_NOTE, [])  # nothing to write: nothing sent
        return db.execute_in(connection, RENAME, [{"id": 2, "body": "deux"}])

    def failing(connection: Any) -> None:
        db.execute_in(connection, ADD_NOTE, [{**rows[1], "id": 3}])
        raise RuntimeError("after the insert")

    try:
        assert await db.write_sync(work) == [(2,)]
        async with db.engine.begin() as connection:  # the same rows through SQLAlchemy
            await connection.execute(ADD_NOTE, [{**row, "id": row["id"] + 100} for row in rows])
            await connection.execute(RENAME, {"id": 102, "body": "deux"})
        with pytest.raises(RuntimeError, match="after the insert"):
            await db.write_sync(failing)
        async with db.read_connection() as connection:
            stored = [tuple(r) for r in await connection.execute(select(NOTES).order_by("id"))]
        assert [row[1:] for row in stored[2:]] == [row[1:] for row in stored[:2]]
        assert [(row[1], row[3], row[4]) for row in stored[:2]] == [
            ("one", {"tags": ["a", None]}, True),
            ("deux", None, False),
        ]
        assert as_utc(stored[0][2]) == T0 and stored[1][2] is None
        assert [row[0] for row in stored] == [1, 2, 101, 102]  # nothing of the failed one
        assert [sql.split()[0] for sql in seen] == (
            ["INSERT", "UPDATE", "INSERT"] if db.sqlite else []
        )
    finally:
        await db.dispose()


# the newest note with a body, as the imported-contact read (ORDER BY … LIMIT 1 per call)
NEWEST = (
    select(NOTES.c.id, NOTES.c.seen_at, NOTES.c.data)
    .where(NOTES.c.body == bindparam("body"))
    .order_by(NOTES.c.id.desc())
    .limit(1)
)


def _count_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement the point reads send to PostgreSQL, in order."""
    sent: list[str] = []
    run = PostgresStatements._run

    async def counted(pool: Any, sql: str, values: Any) -> list[tuple[Any, ...]]:
        sent.append(sql)
        return await run(pool, sql, values)

    monkeypatch.setattr(PostgresStatements, "_run", staticmethod(counted))
    return sent


async def test_concurrent_first_row_reads_go_out_together_each_answered_as_alone(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty concurrent reads of one statement (a missing key, repeated keys, an ORDER BY …
    LIMIT 1 per call) each get exactly the row the read alone returns, converted alike, in
    a few statements instead of forty."""
    db = await _database(postgres_url)
    try:
        for i in range(30):
            for copy in range(2):  # the newest of two notes per body is the answer
                await _add(
                    db,
                    id=i * 10 + copy + 1,
                    body=f"b{i}",
                    seen_at=T0 + timedelta(minutes=i),
                    data={"i": i, "copy": copy},
                )
        bodies = [f"b{i % 35}" for i in range(40)]  # b30…b34 do not exist; b0…b4 twice
        alone = [await db.fetch_first(NEWEST, {"body": body}) for body in bodies]
        sent = _count_statements(monkeypatch)
        together = await asyncio.gather(
            *(db.fetch_first(NEWEST, {"body": body}) for body in bodies)
        )
        assert together == alone
        assert together[3] == (32, T0 + timedelta(minutes=3), {"i": 3, "copy": 1})
        assert together[31] is None and together[36] == together[1]
        assert len(sent) <= 2, sent  # all forty asked before the first statement went out
        assert all("unnest" in sql for sql in sent)
    finally:
        await db.dispose()


async def test_a_grouped_read_that_one_value_breaks_fails_only_that_call(
    postgres_url: str,
) -> None:
    """One call's value makes the grouped statement fail (a division by zero): each call is
    then asked alone, so the others get their rows and only that one its error."""
    db = await _database(postgres_url)
    ratio = select(NOTES.c.body, (NOTES.c.id // bindparam("by", type_=Integer))).where(
        NOTES.c.id == bindparam("id")
    )
    try:
        for i in (1, 2, 3):
            await _add(db, id=i, body=f"n{i}")
        calls = [{"id": 1, "by": 1}, {"id": 2, "by": 0}, {"id": 3, "by": 1}, {"id": 9, "by": 1}]
        answers = await asyncio.gather(
            *(db.fetch_first(ratio, call) for call in calls), return_exceptions=True
        )
        assert answers[0] == ("n1", 1) and answers[2] == ("n3", 3) and answers[3] is None
        assert isinstance(answers[1], psycopg.errors.DivisionByZero)
    finally:
        await db.dispose()


async def test_a_cancelled_read_waiting_in_a_group_leaves_the_others_answered(
    postgres_url: str,
) -> None:
    """While a slow read is out, more calls wait for the next statement; one of them is
    cancelled: the others are still answered, and later reads too."""
    db = await _database(postgres_url)
    slow = select(NOTES.c.body, func.pg_sleep(bindparam("seconds", type_=Integer))).where(
        NOTES.c.id == bindparam("id")
    )
    try:
        for i in (1, 2, 3):
            await _add(db, id=i, body=f"n{i}")
        first = asyncio.ensure_future(db.fetch_first(slow, {"id": 1, "seconds": 1}))
        await asyncio.sleep(0.1)  # out; the next ones wait for it
        waiting = [
            asyncio.ensure_future(db.fetch_first(slow, {"id": i, "seconds": 0})) for i in (2, 3)
        ]
        await asyncio.sleep(0)  # both wait in the group (for at most GROUP_STALL_SECONDS)
        waiting[0].cancel()
        assert (await first)[0] == "n1"
        with pytest.raises(asyncio.CancelledError):
            await waiting[0]
        assert (await waiting[1])[0] == "n3"
        assert (await db.fetch_first(slow, {"id": 2, "seconds": 0}))[0] == "n2"
    finally:
        await db.dispose()


async def test_reads_of_the_same_sql_with_other_literals_are_never_mixed(
    postgres_url: str,
) -> None:
    """Two statements whose SQL is the same text and whose literal values differ (``body =
    'one'`` and ``body = 'two'``, each ``%(body_1)s``) are two reads: concurrent calls of
    both each get their own statement's row, not the other's."""
    db = await _database(postgres_url)
    one = select(NOTES.c.id).where(NOTES.c.body == "one", NOTES.c.id >= bindparam("low"))
    two = select(NOTES.c.id).where(NOTES.c.body == "two", NOTES.c.id >= bindparam("low"))
    try:
        await _add(db, id=1, body="one")
        await _add(db, id=2, body="two")
        answers = await asyncio.gather(
            *(db.fetch_first(read, {"low": 0}) for read in (one, two, one, two))
        )
        assert answers == [(1,), (2,), (1,), (2,)]
    finally:
        await db.dispose()


async def test_grouped_values_are_compared_whole_and_by_any_bind_name(postgres_url: str) -> None:
    """A value longer than its column (``VARCHAR(50)``) finds nothing, as alone, instead of
    being cut to the column's length in the group's array; a bind named with a character
    outside ``\\w`` (``a-b``) is grouped as well; a call lacking a bind fails alone."""
    db = await _database(postgres_url)
    dashed = select(NOTES.c.id).where(NOTES.c.body == bindparam("a-b", type_=String))
    try:
        await _add(db, id=1, body="x" * 50)
        await _add(db, id=2, body="short")
        bodies = ["x" * 60, "x" * 50, "short", "x" * 51]
        alone = [await db.fetch_first(NEWEST, {"body": body}) for body in bodies]
        together = await asyncio.gather(*(db.fetch_first(NEWEST, {"body": b}) for b in bodies))
        assert together == alone and together[0] is None and together[1] is not None
        by_dashed = await asyncio.gather(
            *(db.fetch_first(dashed, {"a-b": b}) for b in ("short", "none", "x" * 50))
        )
        assert by_dashed == [(2,), None, (1,)]
        lacking = await asyncio.gather(
            db.fetch_first(NEWEST, {"body": "short"}),
            db.fetch_first(NEWEST, {}),
            db.fetch_first(NEWEST, {"body": "x" * 50}),
            return_exceptions=True,
        )
        assert lacking[0] is not None and lacking[2] is not None
        assert isinstance(lacking[1], Exception)
    finally:
        await db.dispose()


async def test_a_slow_grouped_read_holds_the_next_calls_back_only_briefly(
    postgres_url: str,
) -> None:
    """A read that takes a second is out; a quick call of the same statement goes out beside
    it soon after (GROUP_STALL_SECONDS) instead of waiting for it to end."""
    db = await _database(postgres_url)
    slow = select(NOTES.c.body, func.pg_sleep(bindparam("seconds", type_=Integer))).where(
        NOTES.c.id == bindparam("id")
    )
    try:
        await _add(db, id=1, body="n1")
        first = asyncio.ensure_future(db.fetch_first(slow, {"id": 1, "seconds": 1}))
        await asyncio.sleep(0.05)
        began = time.monotonic()
        assert (await db.fetch_first(slow, {"id": 1, "seconds": 0}))[0] == "n1"
        assert time.monotonic() - began < 0.8  # not after the slow one's second
        assert not first.done()
        assert (await first)[0] == "n1"
    finally:
        await db.dispose()
