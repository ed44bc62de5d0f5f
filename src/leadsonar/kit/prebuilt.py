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
server after its fifth run on a connection). :meth:`leadsonar.kit.db.Database.fetch` runs the
reads on SQLite.
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
from sqlalchemy import Dialect, Executable, Float, Numeric, Select, TextualSelect
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url
from sqlalchemy.sql.dml import UpdateBase

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
    # PostgreSQL: each required bind's SQL name → its column type as SQL (``VARCHAR(64)``),
    # for the grouped form's arrays; empty when one has no type (a ``text()`` bind)
    types: Mapping[str, str] = field(default_factory=dict)

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
    types: dict[str, str] = {}
    typed = True
    for bind, rendered in compiled.bind_names.items():
        name = escaped.get(rendered, rendered)
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
        if not bind.required:  # a literal (LIMIT 1, literal(None)): its value goes along
            defaults[name] = bind.effective_value
        elif bind.type._isnull:
            typed = False
        else:
            types[name] = bind.type.compile(dialect=dialect)
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    found = Prebuilt(
        str(compiled), defaults, binds, results, escaped, types if typed and types else {}
    )
    _PREBUILT[(statement, dialect)] = found
    return found


GROUP_ALIAS = "leadsonar_group"
# a read's SQL → its grouped form (first_rows_sql), bounded as _PREBUILT is
_FIRST_ROWS: LRUCache[str, str] = LRUCache(maxsize=1024)
# psycopg's named placeholder (``%(name)s``), not an escaped ``%%``
_PLACEHOLDER = re.compile(r"(?<!%)%\((\w+)\)s")


def first_rows_sql(read: Prebuilt) -> str | None:
    """PostgreSQL: the SQL that answers many calls of ``read`` in one statement, each call's
    first row: the required binds become arrays, one element per call, unnested with the
    call's position (``WITH ORDINALITY``) and joined ``LATERAL`` to ``read`` limited to one
    row, so each call's row is what ``read`` alone returns first (its own ``ORDER BY`` and
    ``LIMIT`` run per call). Rows come back as ``(position, *read's columns)``, at most one
    per call. ``None`` when a required bind has no SQL type (a ``text()`` bind without one):
    such reads are asked one by one."""
    if not read.types:
        return None
    found = _FIRST_ROWS.get(read.sql)
    if found is None:
        found = _FIRST_ROWS[read.sql] = _first_rows_sql(read)
    return found


def _first_rows_sql(read: Prebuilt) -> str:
    names = list(read.types)
    inner = _PLACEHOLDER.sub(
        lambda m: f'{GROUP_ALIAS}."{m[1]}"' if m[1] in read.types else m[0], read.sql
    )
    arrays = ", ".join(f"%({name})s::{read.types[name]}[]" for name in names)
    columns = ", ".join(f'"{name}"' for name in names)
    return (
        f"SELECT {GROUP_ALIAS}.leadsonar_call, leadsonar_first.* "
        f"FROM unnest({arrays}) WITH ORDINALITY AS {GROUP_ALIAS}({columns}, leadsonar_call) "
        f"CROSS JOIN LATERAL (SELECT * FROM ({inner}) AS leadsonar_read LIMIT 1) "
        "AS leadsonar_first"
    )


@dataclass
class _Group:
    """The calls of one read waiting for the next grouped statement, and the task asking."""

    sql: str
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
        self._groups: dict[str, _Group] = {}  # fetch_first's group reads by their SQL

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

        While one statement of ``read`` is out, the calls that come meanwhile wait, and the
        next statement asks for all of them at once (:func:`first_rows_sql`): one round trip
        and one pass through psycopg instead of one each (the hot path's point reads, a cached
        answer and an imported contact, under concurrent requests; docs/benchmarks.md). A call
        alone is asked as it is, at once. A call whose literal binds differ from the
        statement's (a caller's own ``LIMIT``) is asked alone.

        Raises:
            psycopg.Error: the statement failed (every call it asked for gets the error; a
                broken connection is asked once more first, as :meth:`fetch` does).
        """
        values = read.values(params)
        sql = first_rows_sql(read) if read.types else None
        if sql is None or any(values[name] != value for name, value in read.defaults.items()):
            rows = await self._rows(read.sql, values)
            return read.rows(rows[:1])[0] if rows else None
        group = self._groups.get(sql)
        if group is None:
            group = self._groups[sql] = _Group(sql)
        waiter: asyncio.Future[tuple[Any, ...] | None] = asyncio.get_running_loop().create_future()
        group.pending.append((values, waiter))
        if group.task is None or group.task.done():  # done: its event loop ended under it
            group.task = asyncio.create_task(self._ask(read, group), name="leadsonar-group-read")
        return await waiter

    async def _ask(self, read: Prebuilt, group: _Group) -> None:
        """Ask for ``group``'s waiting calls, one statement at a time, until none wait."""
        try:
            while group.pending:
                calls = [(v, w) for v, w in group.pending if not w.done()]  # not cancelled
                group.pending = []
                if not calls:
                    continue
                try:
                    firsts = await self._firsts(read, group.sql, [v for v, _ in calls])
                except BaseException as exc:
                    for _, waiter in calls:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise  # cancelled (shutdown): the waiters got the cancellation
                    continue
                for (_, waiter), first in zip(calls, firsts, strict=True):
                    if waiter.done():
                        continue
                    if isinstance(first, BaseException):
                        waiter.set_exception(first)
                    else:
                        waiter.set_result(first)
        finally:
            group.task = None

    async def _firsts(
        self, read: Prebuilt, sql: str, calls: list[dict[str, Any]]
    ) -> list[tuple[Any, ...] | BaseException | None]:
        """Each call's first row (or its error): one call asked as it is, several in one
        grouped statement. When the grouped statement fails for a reason of its values (one
        call's value the server refuses), each call is asked alone, so that only the calls
        that fail alone fail; a lost connection or a pool timeout fails them all."""
        if len(calls) > 1:
            try:
                return await self._grouped(read, sql, calls)
            except (PoolTimeout, PoolClosed, psycopg.OperationalError):
                raise
            except psycopg.Error:
                pass
        alone = await asyncio.gather(
            *(self._rows(read.sql, call) for call in calls), return_exceptions=True
        )
        return [
            rows if isinstance(rows, BaseException) else read.rows(rows[:1])[0] if rows else None
            for rows in alone
        ]

    async def _grouped(
        self, read: Prebuilt, sql: str, calls: list[dict[str, Any]]
    ) -> list[tuple[Any, ...] | BaseException | None]:
        values = dict(read.defaults)
        for name in read.types:
            values[name] = [call[name] for call in calls]
        firsts: list[tuple[Any, ...] | BaseException | None] = [None] * len(calls)
        for row in await self._rows(sql, values):
            firsts[row[0] - 1] = read.rows([row[1:]])[0]
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

    async def execute_many(self, write: Prebuilt, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run ``write`` once per row of ``rows`` (each by bind name) in one transaction
        (``BEGIN`` … ``COMMIT``, psycopg's ``executemany`` sending the rows in one pipeline):
        all of them are written or none.

        Raises:
            psycopg.Error: the transaction failed (rolled back; not asked again).
        """
        pool = self._pool or await self._open()
        try:
            async with pool.connection(timeout=CONNECTION_WAIT_SECONDS) as connection:
                async with connection.transaction(), connection.cursor() as cursor:
                    await cursor.executemany(write.sql, [write.values(row) for row in rows])
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
