"""Lookup-cache queries (DESIGN.md §2a: queries live in repositories).

The statements are built once, at import: the read runs on every lookup and the upsert on every
group commit of cached answers. :class:`~leadsonar.waterfall.cache.LookupCacheStore` owns the
connections and transactions (a bare read connection; the group-commit writer's write session);
these functions only run statements in what they are given (the read: :meth:`Database.fetch`;
the SQLite write: :meth:`Database.write_sync`), and the PostgreSQL writes are statements the
store runs (:meth:`Database.write_statement`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.kit.db import Database
from leadsonar.waterfall.models import LookupCache

# Two columns on a bare connection: no ORM session, no timestamps loaded beyond the expiry.
_FRESH_PAYLOAD = select(LookupCache.payload, LookupCache.expires_at).where(
    LookupCache.key == bindparam("key"), LookupCache.expires_at > bindparam("now")
)


# SQLite: one Core statement, the same for every batch (compiled once), executed for all rows
# at once (executemany) on the sqlite3 connection (Database.execute_in).
_insert = sqlite_insert(LookupCache)
_UPSERT_SQLITE = _insert.on_conflict_do_update(
    index_elements=["key"],
    set_={
        name: _insert.excluded[name] for name in ("field", "payload", "created_at", "expires_at")
    },
)

# PostgreSQL: the whole batch as one JSON document that the server unpacks
# (``json_to_recordset``), one statement in autocommit mode (Database.write_statement): all the
# rows are written or none. psycopg's ``executemany`` cost about 60 µs of CPU per row (its
# binding per row), a ``text[]`` of payloads more (its array dumper escapes every quote of every
# payload); one JSON text costs one ``json.dumps`` (measured: 62 → 32 µs per row in batches
# of 10, the statement's round trip included).
UPSERT_POSTGRESQL = text(
    """
    INSERT INTO lookup_cache (key, field, payload, created_at, expires_at)
    SELECT r.key, r.field, r.payload, r.created_at, r.expires_at
      FROM json_to_recordset(CAST(:rows AS json))
           AS r(key text, field text, payload json, created_at timestamptz,
                expires_at timestamptz)
    ON CONFLICT (key) DO UPDATE
       SET field = excluded.field, payload = excluded.payload,
           created_at = excluded.created_at, expires_at = excluded.expires_at
    """
).columns()


def postgres_upsert_values(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The values of :data:`UPSERT_POSTGRESQL` for ``rows`` (``key``, ``field``, ``payload``
    (a JSON object), ``created_at``, ``expires_at`` (aware datetimes)), in their order: two
    processes writing overlapping keys lock them in the order given (sort them)."""
    return {
        "rows": json.dumps(
            [
                {
                    "key": row["key"],
                    "field": row["field"],
                    "payload": row["payload"],
                    "created_at": row["created_at"].isoformat(),
                    "expires_at": row["expires_at"].isoformat(),
                }
                for row in rows
            ]
        )
    }


async def fresh_payload(db: Database, key: str, now: datetime) -> tuple[Any, datetime] | None:
    """``(payload, expires_at)`` of the answer stored under ``key`` that expires after ``now``
    (aware, UTC), or None, in a read of its own (:meth:`Database.fetch`). ``payload`` is the
    stored JSON object (or None); ``expires_at`` may come back naive on SQLite
    (``kit.db.as_utc`` reads it)."""
    row = await db.fetch_first(_FRESH_PAYLOAD, {"key": key, "now": now})
    return None if row is None else (row[0], row[1])


async def delete_all(session: AsyncSession) -> int:
    """Delete every cached answer; returns how many rows were deleted."""
    dropped = await session.execute(delete(LookupCache))
    return int(dropped.rowcount or 0)  # type: ignore[attr-defined]


# the answers that expired at or before ``now``
EXPIRED = delete(LookupCache).where(LookupCache.expires_at <= bindparam("now"))


def store(connection: Connection, db: Database, rows: list[dict[str, Any]], purge: bool) -> None:
    """SQLite: insert ``rows`` (``key``, ``field``, ``payload``, ``created_at``,
    ``expires_at``), each replacing the row already stored under its key, in one
    executemany statement, and when ``purge`` delete the answers that expired by now, on the
    write transaction's synchronous connection (:meth:`Database.write_sync`; the statements
    prebuilt, :meth:`Database.execute_in`). ``rows`` must not repeat a key."""
    db.execute_in(connection, _UPSERT_SQLITE, rows)
    if purge:
        db.execute_in(connection, EXPIRED, [{"now": datetime.now(UTC)}])
