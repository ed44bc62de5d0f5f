"""The hot path's prebuilt statements, run on the database driver's own connections.

A lookup reads a few single rows (a cached answer, an imported contact, a domain's facts and
patterns) by key, and writes two small batches (the group-committed charges, the cached
answers). Through SQLAlchemy each such statement costs far more than the database's work:

- on PostgreSQL, through SQLAlchemy's asyncio layer, about half a millisecond of CPU (a pool
  checkout with its pre-ping round trip, the autocommit switch and its reset, a greenlet hop,
  psycopg's async cursor behind SQLAlchemy's adaptor). Measured with 16 concurrent readers
  (``SELECT 1``): 560 µs of CPU per read that way, 314 µs on an engine born in autocommit
  without pre-ping, 92 µs on a ``psycopg_pool`` connection running the statement compiled
  once;
- on SQLite, inline on the event loop's thread, SQLAlchemy's execution context, result
  object and transaction bookkeeping are nine tenths of a point read's time (py-spy); the
  ``sqlite3`` call itself is the rest;
- on PostgreSQL the writes went to a writer thread through SQLAlchemy's synchronous engine:
  each batch a connection checkout with its pre-ping round trip, and each of the thread's
  statements handing the GIL back and forth with the event loop, whose requests waited for
  that commit meanwhile (docs/benchmarks.md).

So each statement is a Core statement (a ``SELECT``, a ``text()`` with its ``.columns()``,
an ``INSERT``, ``UPDATE`` or ``DELETE``) built once at import time with named ``bindparam``
values, compiled once per dialect (literal binds such as ``LIMIT 1`` kept as defaults), its
column types' bind and result processors looked up once (:func:`prebuilt`), and run straight
on the driver's connection: values bound and rows converted exactly as SQLAlchemy would.

:class:`PostgresStatements` runs them on a pool of autocommit psycopg connections (no ``BEGIN``
for a single statement, nothing held between statements; psycopg prepares a statement on the
server after its fifth run on a connection), and asks concurrent first-row reads of one
statement together, in one statement (:meth:`PostgresStatements.fetch_first`, a group read).
:meth:`leadsonar.kit.db.Database.fetch` runs the reads on SQLite.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import psycopg
from cachetools import LRUCache
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout
from sqlalchemy import (
    CHAR,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Executable,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    TextualSelect,
)
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

# Longest a statement waits for a pooled connection (the server down, or every connection
# busy) before it fails: a lookup fails fast instead of piling up behind an outage.
CONNECTION_WAIT_SECONDS = 5.0
# how the prebuilt statements' connections show in pg_stat_activity
APPLICATION_NAME = "leadsonar-prebuilt"
# a Core SELECT of any columns
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
# what prebuilt() compiles: a SELECT, a text() with its columns, an INSERT/UPDATE/DELETE
AnyStatement: TypeAlias = AnySelect | TextualSelect | UpdateBase

POSTGRESQL: Dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]
# named placeholders (``:name``), which sqlite3 binds from a dict
SQLITE: Dialect = SQLiteDialect_pysqlite(paramstyle="named")


@dataclass(frozen=True, slots=True)
class Prebuilt:
    """A statement as one driver runs it: its SQL (``%(name)s`` for psycopg, ``:name`` for
    sqlite3), the defaults of its literal binds, the bind processors by name and one result
    processor per column (``None``: the driver's value as it is)."""

    sql: str
    defaults: Mapping[str, Any]
    binds: Mapping[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]
    escaped: Mapping[str, str]  # bind name → the name the SQL uses, where they differ
    # PostgreSQL: the SQL asking many calls at once (:func:`first_rows_sql`), or None
    first_rows: str | None = None
    required: tuple[str, ...] = ()  # the binds every call must give, as the SQL names them

    def values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` (by bind name) with the literal binds' defaults, each processed for the
        driver (an aware ``datetime`` becomes SQLite's stored text, for one), keyed as the
        SQL names them."""
        values = dict(self.defaults)
        for name, value in params.items():
            values[self.escaped.get(name, name)] = value
        for name, process in self.binds.items():
            if name in values:
                values[name] = process(values[name])
        return values

    def rows(self, rows: list[Any]) -> list[tuple[Any, ...]]:
        """The driver's ``rows`` converted as SQLAlchemy converts them (SQLite's stored text
        back to ``datetime``, its JSON text to objects)."""
        if not any(self.results):
            return rows
        return [_converted(row, self.results) for row in rows]


# (statement, dialect) → its Prebuilt; the repositories' statements are module constants, so
# the bound only matters for callers that build a statement per call (each then compiled anew)
_PREBUILT: LRUCache[tuple[Executable, Dialect], Prebuilt] = LRUCache(maxsize=1024)
# result types whose processor needs the driver's column type code (psycopg's numerics)
_UNCONVERTIBLE = (Numeric, Float)


def prebuilt(statement: AnyStatement, dialect: Dialect) -> Prebuilt:
    """``statement`` compiled for ``dialect`` (:data:`POSTGRESQL` or :data:`SQLITE`), once.

    Its result columns are those it selects or returns (``RETURNING``; none for a write
    without it).

    Raises:
        ValueError: the statement cannot be prebuilt: an expanding or literal-execute bind
            (``IN`` over a list; its SQL depends on each call's values), a ``Numeric`` or
            ``Float`` column (its conversion needs the driver's column type code), or a write
            of a column whose Python-side ``default`` or ``onupdate`` SQLAlchemy would compute
            at each execution (prebuilt, it would be sent as NULL); run it through SQLAlchemy
            (``Database.read_sync``, ``Database.write_sync``) instead.
    """
    found = _PREBUILT.get((statement, dialect))
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect)
    if any(bind.expanding or bind.literal_execute for bind in compiled.binds.values()):
        raise ValueError("a prebuilt statement cannot expand a list into IN (…) or render a value")
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a prebuilt statement cannot compute a column's Python-side default")
    columns = statement.exported_columns
    if any(isinstance(c.type, _UNCONVERTIBLE) for c in columns):
        raise ValueError("a prebuilt statement cannot convert Numeric or Float columns")
    # The SQL names each bind by its rendered name (``param_1`` for a literal ``LIMIT``),
    # escaped where SQLAlchemy had to (``a.b`` → ``a_b``); callers pass bindparams' own names.
    escaped = dict(compiled.escaped_bind_names)
    binds: dict[str, Callable[[Any], Any]] = {}
    defaults: dict[str, Any] = {}
    arrays: dict[str, str | None] = {}  # required bind → the SQL type of its array
    for bind, rendered in compiled.bind_names.items():
        name = escaped.get(rendered, rendered)
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
        if not bind.required:  # a literal (LIMIT 1, literal(None)): its value goes along
            defaults[name] = bind.effective_value
        else:
            arrays[name] = _array_type(bind.type)
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    sql = str(compiled)
    first_rows = first_rows_sql(sql, arrays) if dialect.name == "postgresql" else None
    found = Prebuilt(sql, defaults, binds, results, escaped, first_rows, tuple(arrays))
    _PREBUILT[(statement, dialect)] = found
    return found


GROUP_ALIAS = "leadsonar_group"
GROUP_CALL = "leadsonar_call"  # the column numbering the calls of a grouped read
GROUP_STALL_SECONDS = 0.02
"""How long a grouped read may be out before the calls that came meanwhile go out in another
statement beside it: a slow read (a lock wait, a pool full) holds the next calls back at most
this long, and their wait for a pooled connection starts then, not after it."""
# psycopg's placeholders: an escaped ``%%`` (kept as it is) or a named ``%(name)s``
_PLACEHOLDER = re.compile(r"%%|%\(([^)]+)\)s")


def _array_type(type_: TypeEngine[Any]) -> str | None:
    """The SQL type of an array of a bind's values for a grouped read, without the column's
    length or precision (a value is compared as the single read's ``%(x)s::VARCHAR`` compares
    it, never cut to the column's length); ``None`` for the types a grouped read does not take
    (``CHAR``'s padding, enums, numerics, JSON, …: those reads are asked one by one)."""
    if isinstance(type_, Enum | CHAR):
        return None
    if isinstance(type_, String):
        return "TEXT"
    if isinstance(type_, Boolean):
        return "BOOLEAN"
    if isinstance(type_, Integer):
        return "BIGINT"
    if isinstance(type_, DateTime) and getattr(type_, "precision", None) is None:
        return "TIMESTAMPTZ" if type_.timezone else "TIMESTAMP"
    return None


def first_rows_sql(sql: str, arrays: Mapping[str, str | None]) -> str | None:
    """PostgreSQL: the SQL that answers many calls of a read (``sql``, psycopg's named
    placeholders) in one statement, each call's first row. The required binds (``arrays``:
    name → its array's element type, :func:`_array_type`) become arrays, one element per call,
    unnested with the call's position (``WITH ORDINALITY``) and joined ``LATERAL`` to the read
    limited to one row, so each call's row is what the read alone returns first (its own
    ``ORDER BY`` and ``LIMIT`` run per call). Rows come back as ``(position, *the read's
    columns)``, at most one per call. ``None`` (the read is asked call by call) when a required
    bind's type has no array here, when there is no required bind, or when a name would clash.
    """
    if not arrays or GROUP_CALL in arrays or any(t is None for t in arrays.values()):
        return None
    replaced: set[str] = set()

    def column(match: re.Match[str]) -> str:
        name = match[1]
        if name is None or name not in arrays:
            return match[0]  # ``%%``, or a literal bind's placeholder (LIMIT): kept
        replaced.add(name)
        return f'{GROUP_ALIAS}."{name}"'

    inner = _PLACEHOLDER.sub(column, sql)
    if replaced != set(arrays) or any('"' in name for name in arrays):
        return None
    unnested = ", ".join(f"%({name})s::{arrays[name]}[]" for name in arrays)
    columns = ", ".join(f'"{name}"' for name in arrays)
    return (
        f"SELECT {GROUP_ALIAS}.{GROUP_CALL}, leadsonar_first.* "
        f"FROM unnest({unnested}) WITH ORDINALITY AS {GROUP_ALIAS}({columns}, {GROUP_CALL}) "
        f"CROSS JOIN LATERAL (SELECT * FROM ({inner}) AS leadsonar_read LIMIT 1) "
        "AS leadsonar_first"
    )


def _first(read: Prebuilt, rows: list[Any]) -> tuple[Any, ...] | BaseException | None:
    """The first of the driver's ``rows`` converted (``None`` for no row), or the error its
    conversion raised (one call's row, not its neighbours')."""
    if not rows:
        return None
    try:
        return read.rows(rows[:1])[0]
    except Exception as exc:
        return exc


class ReadStopped(RuntimeError):
    """A grouped read was stopped before its statement answered (the process shutting down)."""

    def __init__(self) -> None:
        super().__init__("The database read was stopped before it was answered.")


@dataclass
class _Group:
    """One read's calls waiting for the next grouped statement, on one event loop, and the
    task asking for them."""

    read: Prebuilt
    loop: asyncio.AbstractEventLoop
    pending: list[tuple[dict[str, Any], asyncio.Future[tuple[Any, ...] | None]]] = field(
        default_factory=list
    )
    task: asyncio.Task[None] | None = None


def _converted(
    row: Sequence[Any], results: Sequence[Callable[[Any], Any] | None]
) -> tuple[Any, ...]:
    return tuple(
        value if process is None else process(value)
        for process, value in zip(results, row, strict=True)
    )


def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (any driver): the keywords
    SQLAlchemy's psycopg dialect itself connects with (user, password, host, port, database,
    query options; several hosts included), quoted by psycopg's ``make_conninfo`` (a password
    with spaces or quotes stays one value)."""
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    _, params = POSTGRESQL.create_connect_args(parsed)
    return psycopg.conninfo.make_conninfo("", **params)


class PostgresStatements:
    """Prebuilt statements run on a pool of autocommit psycopg connections.

    A read whose connection broke (the server restarted) is asked once more: the pool's idle
    connections are first tested (one round trip each) and the broken ones dropped, which is
    safe because a read changes nothing. A write is never asked again: its statement may have
    committed before the connection broke, so the error goes to the caller, who reports it.

    Args:
        url: the SQLAlchemy URL of the PostgreSQL database.
        max_size: connections the pool may open (it opens one at first and more while
            statements wait for one); each is a server process, so count it against
            PostgreSQL's ``max_connections`` (docs/deploy.md).
    """

    def __init__(self, url: str, max_size: int) -> None:
        self._conninfo = conninfo(url)
        self._max_size = max_size
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()
        self._groups: dict[int, _Group] = {}  # fetch_first's group reads, by id of the read

    async def _open(self) -> AsyncConnectionPool:
        async with self._opening:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self._max_size,
                    kwargs={"autocommit": True, "application_name": APPLICATION_NAME},
                    open=False,
                    name="leadsonar-prebuilt",
                )
                await pool.open()
                self._pool = pool
            return self._pool

    async def fetch(self, read: Prebuilt, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row ``read`` (a statement :func:`prebuilt` for :data:`POSTGRESQL`) selects
        with ``params`` (by bind name), each a tuple in the statement's column order.

        Raises:
            psycopg.Error: the read failed (twice, when the first failure was a broken
                connection).
        """
        return read.rows(await self._rows(read.sql, read.values(params)))

    async def fetch_first(
        self, read: Prebuilt, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row :meth:`fetch` would return, or ``None``; concurrent calls of the same
        ``read`` are asked together (a group read).

        While a statement of ``read`` is out, the calls that come meanwhile wait, and the next
        statement asks for all of them at once (:attr:`Prebuilt.first_rows`): one round trip
        and one pass through psycopg instead of one each (the hot path's point reads, a cached
        answer and an imported contact, under concurrent requests; docs/benchmarks.md). A call
        alone is asked as it is, at once; a statement out longer than
        :data:`GROUP_STALL_SECONDS` no longer holds the next calls back. A read that cannot be
        grouped, and a call whose literal binds differ from the statement's (a caller's own
        ``LIMIT``) or that lacks a bind, are asked alone, as :meth:`fetch` asks.

        Raises:
            psycopg.Error: the statement failed (a call's own value refused by the server, or
                its row not convertible, fails only that call: the calls are then asked one
                by one; a broken connection is asked once more first, as :meth:`fetch` does).
            ReadStopped: the grouped statement was stopped (shutdown) before it answered.
        """
        values = read.values(params)
        if (
            read.first_rows is None
            or any(name not in values for name in read.required)
            or any(values[name] != value for name, value in read.defaults.items())
        ):
            first = _first(read, await self._rows(read.sql, values))
            if isinstance(first, BaseException):
                raise first
            return first
        loop = asyncio.get_running_loop()
        key = id(read)
        group = self._groups.get(key)
        if group is None or group.read is not read or group.loop is not loop:
            # new, or left behind by an event loop that ended under it: its waiters are gone
            group = self._groups[key] = _Group(read, loop)
        waiter: asyncio.Future[tuple[Any, ...] | None] = loop.create_future()
        group.pending.append((values, waiter))
        if group.task is None:
            group.task = asyncio.create_task(self._ask(key, group), name="leadsonar-group-read")
        return await waiter

    async def _ask(self, key: int, group: _Group) -> None:
        """Ask for ``group``'s waiting calls until none wait: a statement for the calls that
        came while the last one was out, once that one answered or had been out
        :data:`GROUP_STALL_SECONDS`."""
        out: set[asyncio.Task[None]] = set()
        try:
            while group.pending or out:
                calls = [(v, w) for v, w in group.pending if not w.done()]  # not cancelled
                group.pending = []
                if calls:
                    out.add(asyncio.create_task(self._answer(group.read, calls)))
                if out:
                    _, out = await asyncio.wait(
                        out, timeout=GROUP_STALL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
        except BaseException:
            # cancelled (shutdown): the statements out are stopped, every waiting call told
            for task in out:
                task.cancel()
            for _, waiter in group.pending:
                if not waiter.done():
                    waiter.set_exception(ReadStopped())
            group.pending = []
            raise
        finally:
            if self._groups.get(key) is group:
                del self._groups[key]

    async def _answer(
        self, read: Prebuilt, calls: list[tuple[dict[str, Any], asyncio.Future[Any]]]
    ) -> None:
        """Ask for ``calls`` and give each waiter its row or its error."""
        firsts: list[tuple[Any, ...] | BaseException | None]
        try:
            firsts = await self._firsts(read, [values for values, _ in calls])
        except asyncio.CancelledError:
            for _, waiter in calls:
                if not waiter.done():
                    waiter.set_exception(ReadStopped())
            raise
        except Exception as exc:
            firsts = [exc] * len(calls)
        for (_, waiter), first in zip(calls, firsts, strict=True):
            if waiter.done():
                continue
            if isinstance(first, BaseException):
                waiter.set_exception(first)
            else:
                waiter.set_result(first)

    async def _firsts(
        self, read: Prebuilt, calls: list[dict[str, Any]]
    ) -> list[tuple[Any, ...] | BaseException | None]:
        """Each call's first row (or its error): several calls in one grouped statement, one
        call as it is. When the grouped statement fails for a reason of its values (one call's
        value the server refuses), each call is asked alone, so that only the calls that fail
        alone fail; a lost connection or a pool timeout fails them all."""
        if len(calls) > 1:
            try:
                return await self._grouped(read, calls)
            except (PoolTimeout, PoolClosed, psycopg.OperationalError):
                raise
            except psycopg.Error:
                pass
        alone = await asyncio.gather(
            *(self._rows(read.sql, call) for call in calls), return_exceptions=True
        )
        return [rows if isinstance(rows, BaseException) else _first(read, rows) for rows in alone]

    async def _grouped(
        self, read: Prebuilt, calls: list[dict[str, Any]]
    ) -> list[tuple[Any, ...] | BaseException | None]:
        assert read.first_rows is not None
        values = dict(read.defaults)
        for name in read.required:
            values[name] = [call[name] for call in calls]
        firsts: list[tuple[Any, ...] | BaseException | None] = [None] * len(calls)
        for row in await self._rows(read.first_rows, values):
            firsts[row[0] - 1] = _first(read, [row[1:]])
        return firsts

    async def _rows(self, sql: str, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The driver's rows of one read, asked once more when the first connection broke."""
        pool = self._pool or await self._open()
        try:
            return await self._run(pool, sql, values)
        except (PoolTimeout, PoolClosed, psycopg.errors.QueryCanceled):
            raise  # no connection in time, or the statement timed out: asking again waits again
        except psycopg.OperationalError:
            # The server ended the connection (a restart, an operator's pg_terminate_backend):
            # its idle siblings likely went with it. Drop the broken ones and ask once more.
            await self._drop_broken(pool)
            return await self._run(pool, sql, values)

    async def execute(self, write: Prebuilt, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``write`` (a statement :func:`prebuilt` for :data:`POSTGRESQL`) once with
        ``params``, in autocommit mode: the statement is its own transaction, committed in its
        one round trip. Returns the rows it returns (``RETURNING``), converted. A broken
        connection is not asked again, but the pool's idle connections are then tested and
        the broken ones dropped.

        Raises:
            psycopg.Error: the statement failed; it was not asked again. On a broken connection
                (``psycopg.OperationalError``) it may have committed or not.
        """
        pool = self._pool or await self._open()
        try:
            return write.rows(await self._run(pool, write.sql, write.values(params)))
        except psycopg.OperationalError:
            await self._drop_broken(pool)
            raise

    @staticmethod
    async def _drop_broken(pool: AsyncConnectionPool) -> None:
        """After a statement failed on a broken connection (the server restarted, an
        operator's ``pg_terminate_backend``), test the pool's idle connections and drop the
        broken ones, so that the next statements do not fail on them one by one."""
        if pool.closed:
            return
        try:
            await pool.check()
        except (PoolClosed, psycopg.Error):
            pass  # the statement's own error (or its retry's) is the one to report

    @staticmethod
    async def _run(
        pool: AsyncConnectionPool, sql: str, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        async with pool.connection(timeout=CONNECTION_WAIT_SECONDS) as connection:
            cursor = await connection.execute(sql, values)
            # a write without RETURNING has no result rows to fetch
            return await cursor.fetchall() if cursor.description is not None else []

    async def close(self) -> None:
        """Close the pool's connections (a statement after this opens a new pool)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
