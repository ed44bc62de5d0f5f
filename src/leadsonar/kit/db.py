"""The database: one async engine, session scopes that commit at the edge, read sessions that
never commit, and write transactions.

SQLite (the default) runs in WAL mode with a busy timeout; a *write* session starts with
``BEGIN IMMEDIATE`` (and queues on one in-process lock) so that a transaction that reads and then
writes cannot fail on another writer's commit (https://www.sqlite.org/lang_transaction.html); a
*read* session sends no ``BEGIN`` at all (on PostgreSQL it runs in autocommit mode). The
ledger's debit is a single conditional ``UPDATE``, which serialises on the balance row on
PostgreSQL and on the write lock on SQLite.

The hot path's small writes (group-committed charges and cached answers) run as one synchronous
transaction each on SQLite (:meth:`Database.write_sync`): inline on the event loop's thread
while the write lock is free, else in one hop to a writer thread with a connection of its own,
instead of the event loop driving each statement through the async driver. On PostgreSQL they
are prebuilt statements on the event loop's pooled psycopg connections
(:meth:`Database.write_statement`); the writer thread keeps only
the charges' rare fallback transaction (a balance that did not cover a batch).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, overload

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from leadsonar.kit.prebuilt import (
    POSTGRESQL,
    SQLITE,
    AnySelect,
    AnyStatement,
    PostgresStatements,
    Prebuilt,
    prebuilt,
)

SQLITE_BUSY_TIMEOUT_MS = 60_000
# PostgreSQL connections a process keeps in its session pool (LEADSONAR_DATABASE_POOL_SIZE)
DEFAULT_POOL_SIZE = 10
# How long an inline read on the event loop's thread waits for a locked SQLite file before it
# is asked again through the async engine (Database.read_sync).
SQLITE_INLINE_READ_BUSY_MS = 20
T = TypeVar("T")


class Base(DeclarativeBase):
    """Declarative base of every table."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Every SQLite connection's settings (the async engine's, the inline reader's and the
    writer thread's): transactions begun by us (the driver's own ``BEGIN`` off), WAL, the
    busy timeout (``busy_ms``), foreign keys, and no disk sync per commit in WAL mode
    (``synchronous=NORMAL``)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """Take transaction control from the sqlite3 driver so ``BEGIN`` is ours to write.

    Recipe from SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" notes
    for pysqlite/aiosqlite.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("sqlite_autocommit"):
            return  # reads only: each statement is its own implicit transaction
        mode = "IMMEDIATE" if options.get("sqlite_immediate") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_in_memory(url: str) -> bool:
    """Whether a SQLite URL names an in-memory database (no file another connection could
    open: ``sqlite://``, ``:memory:``, ``file:…?mode=memory&uri=true``)."""
    parsed = make_url(url)
    database = parsed.database or ""
    return database in ("", ":memory:") or parsed.query.get("mode") == "memory"


def _sqlite_sync_engine(url: str, busy_ms: int) -> Engine:
    """A synchronous engine of one connection on the SQLite file of ``url`` (its query,
    ``uri=true`` included), usable from any one thread at a time, with every connection's
    settings (:func:`_sqlite_pragmas`) and a busy timeout of ``busy_ms``."""
    engine = create_engine(
        make_url(url).set(drivername="sqlite"),
        pool_size=1,
        max_overflow=0,
        connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, busy_ms)

    return engine


def _begin_immediate(engine: Engine) -> None:
    """Begin every transaction of ``engine`` with ``BEGIN IMMEDIATE`` (the write lock taken
    before the first statement)."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _reader_engine(url: str) -> Engine | None:
    """The synchronous engine of :meth:`Database.read_sync` on a SQLite file: one connection,
    kept open, that the event loop's thread reads through, each ``SELECT`` its own implicit
    transaction (the driver's ``BEGIN`` off, so nothing is held between reads). A reader never
    waits for a writer in WAL mode; the busy timeout is short (``SQLITE_INLINE_READ_BUSY_MS``)
    because a wait here holds up the loop. ``None`` on PostgreSQL and for an in-memory
    SQLite."""
    if not is_sqlite(url) or _sqlite_in_memory(url):
        return None
    return _sqlite_sync_engine(url, SQLITE_INLINE_READ_BUSY_MS)


def _writer_engine(url: str) -> Engine | None:
    """The synchronous engine of :meth:`Database.write_sync`: one connection, used only by the
    writer thread. On a SQLite file its transactions begin with ``BEGIN IMMEDIATE``; on
    PostgreSQL the same psycopg driver as the async engine, the connection tested before use
    (``pool_pre_ping``). ``None`` for an in-memory SQLite (another connection would open
    another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            parsed.set(drivername="postgresql+psycopg"),
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
            isolation_level="AUTOCOMMIT",  # write_sync begins its transactions itself
        )
    if _sqlite_in_memory(url):
        return None
    engine = _sqlite_sync_engine(url, SQLITE_BUSY_TIMEOUT_MS)
    _begin_immediate(engine)
    return engine


def _inline_writer_engine(url: str) -> Engine | None:
    """The synchronous engine of :meth:`Database.write_sync`'s inline transactions on a SQLite
    file: one connection, kept open, written through on the event loop's thread. Its
    ``BEGIN IMMEDIATE`` does not wait (busy timeout 0): when another connection holds the
    write lock the transaction goes to the writer thread instead, which may wait. ``None`` on
    PostgreSQL and for an in-memory SQLite."""
    if not is_sqlite(url) or _sqlite_in_memory(url):
        return None
    engine = _sqlite_sync_engine(url, 0)
    _begin_immediate(engine)
    return engine


class _WriteLockBusy(Exception):
    """The inline writer's ``BEGIN IMMEDIATE`` found SQLite's write lock taken."""


class Database:
    """The engine and its session factory.

    Args:
        url: a SQLAlchemy async URL (``sqlite+aiosqlite:///./leadsonar.db`` or
            ``postgresql+psycopg://…``).
        pool_size: on PostgreSQL, the connections the session pool keeps open (as many more
            may open while it is busy, closed again when they come back) and the most the
            pool of prebuilt statements (:meth:`fetch`, :meth:`write_statement`) opens;
            ``LEADSONAR_DATABASE_POOL_SIZE``.
    """

    def __init__(self, url: str, pool_size: int = DEFAULT_POOL_SIZE, **engine_kwargs: Any) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.sqlite}
        if self.sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            # Each pooled aiosqlite connection is a thread: keep enough of them open that busy
            # moments reuse connections instead of opening (and closing) overflow ones.
            kwargs["pool_size"] = 32
            kwargs["max_overflow"] = 16
            kwargs["pool_timeout"] = 120
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
        kwargs.update(engine_kwargs)
        self.engine = create_async_engine(url, **kwargs)
        if self.sqlite:
            _install_sqlite_hooks(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads of the hot path: on SQLite without BEGIN/ROLLBACK round trips (each SELECT is
        # its own implicit transaction, which is all a single read needs).
        # On PostgreSQL the same in autocommit mode: no BEGIN before the SELECT and no ROLLBACK
        # when the connection goes back to the pool (two round trips of three).
        self.read_engine = (
            self.engine.execution_options(sqlite_autocommit=True)
            if self.sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # One writer at a time inside this process: SQLite would serialise writers anyway, and
        # queueing here is cheaper than threads spinning on the busy timeout.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        self._writer_engine = _writer_engine(url)
        self._writer: ThreadPoolExecutor | None = None
        self._inline_writer_engine = _inline_writer_engine(url)
        self._inline_writer: Connection | None = None  # opened on first use
        self._reader_engine = _reader_engine(url)
        self._reader: Connection | None = None  # read_sync's connection, opened on first use
        # held while the inline connection reads: a read_sync from another thread meanwhile
        # goes through the async engine instead
        self._reader_lock = threading.Lock()
        self._postgres = None if self.sqlite else PostgresStatements(url, pool_size)
        # Called with each prebuilt statement's SQL before it runs (:meth:`fetch`,
        # :meth:`write_statement` on PostgreSQL, :meth:`execute_in` on a SQLite file): how tests and
        # diagnostics see the statements that bypass SQLAlchemy's engine events.
        self.prebuilt_listeners: list[Callable[[str], None]] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends normally and rolls back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: its transaction is ended (rolled back) when the block
        ends, never committed, so nothing written in it is kept. Use it for the short reads of
        the hot path (a cached answer, an imported contact) instead of a committed session."""
        async with self.read_sessionmaker() as session:  # close() ends it, keeps loaded rows
            yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for the hot path's single-statement reads (a cached answer, a
        suppression check): no ORM session to build and tear down, no transaction (SQLite:
        no ``BEGIN``; PostgreSQL: autocommit), so nothing can be held or committed by it."""
        async with self.read_engine.connect() as connection:
            yield connection

    async def read_sync(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous Core reads on the connection it is given, nothing written)
        and return what it returns: for the hot path's point reads (a cached answer, an
        imported contact).

        On a SQLite file ``work`` runs inline on the event loop's thread through a connection
        of its own: an indexed point read takes some tens of microseconds there, less than
        the two thread hand-offs (and the GIL hand-offs under load) of a round trip through
        aiosqlite's thread. Should the file be locked beyond the short busy timeout
        (``SQLITE_INLINE_READ_BUSY_MS``; a WAL reader waits only on recovery or an exclusive
        lock) the read is asked again through the async engine, which may wait. On PostgreSQL
        and an in-memory SQLite it runs on a pooled async connection in autocommit
        (:meth:`read_connection`), through :meth:`AsyncConnection.run_sync`.
        """
        if self._reader_engine is not None and self._reader_lock.acquire(blocking=False):
            try:
                if self._reader is None:
                    self._reader = self._reader_engine.connect()
                return work(self._reader)
            except OperationalError as exc:
                if "locked" not in str(exc.orig):
                    raise
            finally:
                if self._reader is not None and self._reader.in_transaction():
                    self._reader.rollback()  # SQLAlchemy's bookkeeping; SQLite holds nothing
                self._reader_lock.release()
        async with self.read_connection() as connection:
            return await connection.run_sync(work)

    async def fetch(
        self, statement: AnySelect, params: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        """The rows of a prebuilt ``SELECT`` (built once, values as named ``bindparam``s given
        in ``params``), each a tuple in the statement's column order: the hot path's point
        reads (a cached answer, an imported contact, a domain's facts).

        The statement is compiled once per dialect and run on the driver's own connection
        (:mod:`leadsonar.kit.prebuilt`): on PostgreSQL a pool of autocommit psycopg
        connections, on a SQLite file the inline reader's connection of :meth:`read_sync`
        (asked again through the async engine when the file is locked beyond a moment); an
        in-memory SQLite reads through the async engine.

        Raises:
            ValueError: ``statement`` expands a list into ``IN (…)`` (use :meth:`read_sync`).
        """
        read = self._prebuilt(statement)  # compiled (or refused) whichever way the read goes
        if self._postgres is not None:
            return await self._postgres.fetch(read, params)
        if self._reader_engine is not None and self._reader_lock.acquire(blocking=False):
            try:
                if self._reader is None:
                    self._reader = self._reader_engine.connect()
                driver = self._reader.connection.driver_connection
                assert driver is not None
                return read.rows(driver.execute(read.sql, read.values(params)).fetchall())
            except (sqlite3.OperationalError, OperationalError) as exc:  # OperationalError: connect
                if "locked" not in str(exc):
                    raise
            finally:
                self._reader_lock.release()
        async with self.read_connection() as connection:
            return (await connection.execute(statement, params)).all()

    def _prebuilt(self, statement: AnyStatement) -> Prebuilt:
        """``statement`` prebuilt for this database's dialect, told to every
        :attr:`prebuilt_listeners` before it runs."""
        built = prebuilt(statement, SQLITE if self.sqlite else POSTGRESQL)
        for listener in self.prebuilt_listeners:
            listener(built.sql)
        return built

    async def fetch_first(
        self, statement: AnySelect, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row :meth:`fetch` reads, or ``None``. On PostgreSQL, concurrent reads of
        the same statement go out together, one statement for all of them
        (:meth:`~leadsonar.kit.prebuilt.PostgresStatements.fetch_first`)."""
        if self._postgres is not None:
            return await self._postgres.fetch_first(self._prebuilt(statement), params)
        rows = await self.fetch(statement, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A short session for read-then-write work (credit reservations, CLI changes).

        Use it whenever a transaction reads before it writes: on SQLite in WAL mode a deferred
        transaction that reads and then writes fails at once (``SQLITE_BUSY``, no busy wait)
        if another process wrote in between; ``BEGIN IMMEDIATE`` takes the write lock first and
        waits for it instead.

        On SQLite it begins with ``BEGIN IMMEDIATE`` (the write lock is taken before the first
        read); on PostgreSQL callers lock the rows they decide on (``with_for_update``).
        """
        if self._write_lock is None:
            async with self.session() as session:
                yield session
            return
        async with self._write_lock, self.sessionmaker() as session:
            await session.connection(execution_options={"sqlite_immediate": True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a write transaction, for prebuilt statements on the hot path
        (the group-committed charges): no ORM session to build, track and tear down. Commits
        when the block ends normally, rolls back on error; on SQLite it begins with
        ``BEGIN IMMEDIATE`` under this process's write lock, as :meth:`write_session` does."""
        if self._write_lock is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._write_lock, self.engine.connect() as connection:
            await connection.execution_options(sqlite_immediate=True)
            async with connection.begin():
                yield connection

    @property
    def sync_engines(self) -> tuple[Engine, ...]:
        """Every synchronous engine statements go through, in this order: the async engine's,
        the inline reader's of :meth:`read_sync` (a SQLite file only), the writer thread's of
        :meth:`write_sync` (not for an in-memory SQLite) and its inline writer's (a SQLite
        file only): where tests listen for SQLAlchemy events."""
        engines: tuple[Engine, ...] = (self.engine.sync_engine,)
        engines += (self._reader_engine,) if self._reader_engine is not None else ()
        engines += (self._writer_engine,) if self._writer_engine is not None else ()
        if self._inline_writer_engine is not None:
            engines += (self._inline_writer_engine,)
        return engines

    async def write_sync(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous Core statements on the connection it is given) in one
        write transaction; returns what it returns. Commits when it returns, rolls back when
        it raises (and re-raises).

        For the hot path's small writes on SQLite (the group-committed charges, the cached
        answers) and the charges' fallback transaction on PostgreSQL. On a SQLite file the
        transaction runs inline on the event loop's thread, through a connection kept open
        for it, whenever the write lock is free (this process's and SQLite's: ``BEGIN
        IMMEDIATE`` without waiting): a batch of charges takes some hundreds of microseconds
        there, while a hop to a thread costs the loop more than that under load — each of
        the thread's statements hands the GIL back and forth with the loop, and the requests
        waiting for the commit leave the loop idle meanwhile (measured: docs/benchmarks.md).
        When another connection holds the lock (a CLI import, another process, a session of
        this one) the transaction goes to a writer thread with its own connection, which
        waits for the lock there (busy timeout), off the loop; on PostgreSQL it always goes
        there (the hot path's own PostgreSQL writes are prebuilt statements on the loop's
        pool instead: :meth:`write_statement`). An in-memory SQLite runs
        it on an async connection through :meth:`AsyncConnection.run_sync`.
        """
        if self._writer_engine is None:
            async with self.write_connection() as connection:
                return await connection.run_sync(work)
        if self._write_lock is None:
            return await self._on_writer(_in_write_transaction, work)
        if self._inline_writer_engine is not None and not self._write_lock.locked():
            try:
                return self._write_inline(work)
            except _WriteLockBusy:
                pass  # another connection writes: wait for it on the writer thread
        async with self._write_lock:
            return await self._on_writer(_in_write_transaction, work)

    def execute_in(
        self,
        connection: Connection,
        statement: AnyStatement,
        rows: Sequence[Mapping[str, Any]],
    ) -> Sequence[tuple[Any, ...]]:
        """Run a prebuilt statement (``INSERT``, ``UPDATE``, ``DELETE`` or ``SELECT``; values as
        named ``bindparam``s) once per row of ``rows`` on ``connection``, inside the write
        transaction of :meth:`write_sync`'s ``work``; returns the rows it returns (for a
        single row of values; none for several).

        On a SQLite file the statement runs straight on the ``sqlite3`` connection, compiled
        once (:mod:`leadsonar.kit.prebuilt`, told to :attr:`prebuilt_listeners`): a batch of
        charges or cached answers then costs the ``sqlite3`` calls, not SQLAlchemy's
        execution context per statement (about half of a batch's CPU, docs/benchmarks.md).
        Elsewhere (PostgreSQL's writer thread, an in-memory SQLite's async connection) it
        runs through ``connection.execute``.

        Raises:
            ValueError: ``statement`` cannot be prebuilt (:func:`~leadsonar.kit.prebuilt.prebuilt`).
            sqlite3.Error, sqlalchemy.exc.DBAPIError: the statement failed (the transaction
                then rolls back when ``work`` raises it).
        """
        if not rows:
            return []
        driver = connection.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            result = connection.execute(statement, rows[0] if len(rows) == 1 else list(rows))
            return [tuple(row) for row in result] if result.returns_rows else []
        built = self._prebuilt(statement)
        if len(rows) == 1:
            return built.rows(driver.execute(built.sql, built.values(rows[0])).fetchall())
        driver.executemany(built.sql, [built.values(row) for row in rows])
        return []

    def _write_inline(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one ``BEGIN IMMEDIATE`` … ``COMMIT`` on the inline writer's connection.

        Raises:
            _WriteLockBusy: the write lock was taken (nothing was run).
        """
        engine = self._inline_writer_engine
        assert engine is not None
        try:
            if self._inline_writer is None:
                self._inline_writer = engine.connect()
            connection = self._inline_writer
            transaction = connection.begin()
        except OperationalError as exc:
            if "locked" in str(exc.orig) or "busy" in str(exc.orig):
                raise _WriteLockBusy from exc
            raise
        try:
            with transaction:
                return work(connection)
        except BaseException:
            # A COMMIT that failed (a full disk, an I/O error) leaves SQLite inside the
            # transaction, holding the write lock, while SQLAlchemy counts it ended: the
            # connection is closed (SQLite rolls back what it held) and the next write opens
            # a new one.
            self._inline_writer = None
            connection.invalidate()
            raise

    async def _on_writer(
        self, run: Callable[[Engine, Callable[[Connection], T]], T], work: Callable[[Connection], T]
    ) -> T:
        """``run(writer engine, work)`` on the writer thread. A cancelled caller still waits
        for the thread to finish (its transaction commits or rolls back there, whatever the
        caller does), so the write lock is not released while the thread holds SQLite's, and
        then the cancellation goes on."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="leadsonar-db-writer")
        engine = self._writer_engine
        assert engine is not None
        return await _to_the_end(
            asyncio.get_running_loop().run_in_executor(self._writer, run, engine, work)
        )

    async def write_statement(
        self, statement: AnyStatement, params: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        """PostgreSQL: run one prebuilt write (an ``INSERT``, ``UPDATE`` or ``DELETE``, a
        ``text()`` with its ``.columns()``; values as named ``bindparam``s in ``params``) in
        autocommit mode on the pool of :meth:`fetch`: the statement is its own transaction,
        committed in its one round trip (no ``BEGIN``, no ``COMMIT``), so it must be complete
        by itself. Returns the rows it returns (``RETURNING``).

        For the charge batch's common case, a conditional debit and its ledger entries in one
        statement (:func:`leadsonar.ledger.repository.debit_with_entries`), run on the event
        loop's connections instead of a writer thread's. A cancelled caller still waits for
        the statement to end (it commits or fails whatever the caller does), then the
        cancellation goes on.

        Raises:
            RuntimeError: not PostgreSQL (SQLite has no statement that updates one table and
                inserts into another; use :meth:`write_sync`).
            psycopg.Error: the statement failed; it is never asked again (on a broken
                connection it may have committed or not).
        """
        if self._postgres is None:
            raise RuntimeError("prebuilt writes need PostgreSQL")
        return await _to_the_end(self._postgres.execute(self._prebuilt(statement), params))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._postgres is not None:
            await self._postgres.close()
        writer, self._writer = self._writer, None
        if writer is not None:  # a write still running finishes on its thread, off the loop
            await asyncio.to_thread(writer.shutdown, True)
        if self._writer_engine is not None:
            await asyncio.to_thread(self._writer_engine.dispose)
        inline_writer, self._inline_writer = self._inline_writer, None
        if inline_writer is not None:
            inline_writer.close()
        if self._inline_writer_engine is not None:
            self._inline_writer_engine.dispose()
        with self._reader_lock:
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.close()
        if self._reader_engine is not None:
            self._reader_engine.dispose()


def _in_write_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in one transaction on ``engine`` (the writer thread's side of
    :meth:`Database.write_sync`): ``BEGIN IMMEDIATE`` … ``COMMIT`` on SQLite, ``BEGIN`` …
    ``COMMIT`` on PostgreSQL (whose writer connection is otherwise in autocommit mode)."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            connection.execution_options(isolation_level="READ COMMITTED")
        with connection.begin():
            return work(connection)


async def _to_the_end(write: Awaitable[T]) -> T:
    """Await ``write`` (a database write: a coroutine, or a writer thread's future); if the
    caller is cancelled meanwhile, the write still runs to its end (committed or failed, never
    cut between sending and reading its answer), then the cancellation goes on."""
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # its failure, if any, is not the caller's to hear any more
        raise


async def upsert(
    session: AsyncSession,
    table: type[Base],
    values: dict[str, Any],
    keys: list[str],
    update: dict[str, Any] | None = None,
) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` on SQLite and PostgreSQL alike.

    Args:
        table: the mapped class.
        values: the row to insert.
        keys: the columns of the unique key the conflict is on.
        update: what to set on conflict (column → value or SQL expression); defaults to every
            non-key column of ``values``.
    """
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    changes = update if update is not None else {k: v for k, v in values.items() if k not in keys}
    if changes:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=changes)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    await session.execute(statement)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime: SQLite returns stored ``DateTime(timezone=True)``
    values naive (they were written in UTC); PostgreSQL's are aware and returned as they are."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
