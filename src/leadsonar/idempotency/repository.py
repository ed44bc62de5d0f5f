"""Idempotency-key queries (DESIGN.md §2a: queries live in repositories).

:class:`~leadsonar.idempotency.middleware.IdempotencyMiddleware` owns the transactions (each of
these runs in a short session of its own around the request, outside the request's unit of
work); these functions only run statements in the session they are given.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.idempotency.models import IdempotencyKey


async def claim(
    session: AsyncSession,
    account_id: int,
    key: str,
    fingerprint: str,
    now: datetime,
    ttl: timedelta,
) -> int | None:
    """Claim ``(account_id, key)`` for a request whose fingerprint is ``fingerprint``: delete the
    key's row if it expired before ``now``, then insert a ``running`` row that expires at
    ``now + ttl`` (``INSERT … ON CONFLICT (account_id, key) DO NOTHING RETURNING id``, so of
    concurrent claims one wins, on SQLite and PostgreSQL alike).

    Returns:
        The new row's id, or None when the key is taken by a row that has not expired.
    """
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at < now,
        )
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(IdempotencyKey)
        .values(
            account_id=account_id,
            key=key,
            fingerprint=fingerprint,
            status="running",
            created_at=now,
            expires_at=now + ttl,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "key"])
        .returning(IdempotencyKey.id)
    )
    claimed = (await session.execute(statement)).scalar_one_or_none()
    return None if claimed is None else int(claimed)


async def keep_answer(
    session: AsyncSession,
    row_id: int,
    status: int,
    headers: list[list[str]],
    body: bytes,
) -> None:
    """Mark the row ``done`` with the answer to replay: HTTP ``status``, ``headers`` as
    ``[name, value]`` pairs (latin-1 text), the body bytes."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id)
        .values(status="done", response_status=status, response_headers=headers, response_body=body)
    )


async def release(session: AsyncSession, row_id: int) -> None:
    """Delete the row (a request that kept no answer frees its key)."""
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))


async def stored(session: AsyncSession, account_id: int, key: str) -> IdempotencyKey | None:
    """The account's row for ``key`` (running or done, expired or not), or None."""
    return await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
        )
    )
