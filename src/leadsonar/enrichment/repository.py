"""Bulk-job queries (DESIGN.md §2a: queries live in repositories; the edge commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob, ItemState
from leadsonar.kit.db import Database


async def item_page(db: Database, job_id: str, after: int, limit: int) -> Sequence[EnrichmentItem]:
    """Up to ``limit`` rows of the job after position ``after``, in position order, read in a
    read of their own (results.csv streams page by page and holds no transaction while the
    client reads)."""
    async with db.read_session() as session:
        rows = await session.scalars(
            select(EnrichmentItem)
            .where(EnrichmentItem.job_id == job_id, EnrichmentItem.position > after)
            .order_by(EnrichmentItem.position)
            .limit(limit)
        )
        return rows.all()


async def add_items(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert a job's items: one executemany INSERT (SQLAlchemy's insertmanyvalues), 50,000
    rows in seconds rather than 50,000 ORM objects flushed one by one."""
    await session.execute(insert(EnrichmentItem), rows)


async def pending_ids(session: AsyncSession, job_id: str) -> list[int]:
    """The ids of the job's ``pending`` items, in input order."""
    rows = await session.scalars(
        select(EnrichmentItem.id)
        .where(EnrichmentItem.job_id == job_id, EnrichmentItem.status == ItemState.PENDING)
        .order_by(EnrichmentItem.position)
    )
    return list(rows)


async def job_of(
    session: AsyncSession, account_id: int, job_id: str, *, lock: bool = False
) -> EnrichmentJob | None:
    """The account's job, or None (another account's job included). ``lock``: take its row
    lock (PostgreSQL ``FOR NO KEY UPDATE``-compatible ``FOR UPDATE``, key share)."""
    query = select(EnrichmentJob).where(
        EnrichmentJob.id == job_id, EnrichmentJob.account_id == account_id
    )
    if lock:
        query = query.with_for_update(key_share=True)
    return await session.scalar(query)


async def done_items(
    session: AsyncSession, job_id: str, after: int, limit: int | None
) -> Sequence[EnrichmentItem]:
    """The job's finished items after position ``after``, in order, at most ``limit``."""
    query = (
        select(EnrichmentItem)
        .where(
            EnrichmentItem.job_id == job_id,
            EnrichmentItem.status == ItemState.DONE,
            EnrichmentItem.position > after,
        )
        .order_by(EnrichmentItem.position)
    )
    return (await session.scalars(query if limit is None else query.limit(limit))).all()


async def done_counts(session: AsyncSession, job_ids: Sequence[str]) -> dict[str, int]:
    """Finished items per job, for the given jobs (a job with none is absent)."""
    if not job_ids:
        return {}
    rows = await session.execute(
        select(EnrichmentItem.job_id, func.count())
        .where(EnrichmentItem.job_id.in_(job_ids), EnrichmentItem.status == ItemState.DONE)
        .group_by(EnrichmentItem.job_id)
    )
    return {job_id: int(count) for job_id, count in rows.all()}


async def smtp_totals(session: AsyncSession, job_id: str) -> tuple[int, int]:
    """SMTP connections and RCPT commands the job's items used, summed."""
    connections, rcpts = (
        await session.execute(
            select(
                func.coalesce(func.sum(EnrichmentItem.smtp_connections), 0),
                func.coalesce(func.sum(EnrichmentItem.smtp_rcpts), 0),
            ).where(EnrichmentItem.job_id == job_id)
        )
    ).one()
    return int(connections), int(rcpts)


async def jobs_page(
    session: AsyncSession, account_id: int, before: tuple[datetime, str] | None, limit: int
) -> list[EnrichmentJob]:
    """Up to ``limit`` of the account's jobs, newest first, created before ``before``
    (``(created_at, id)`` of the previous page's last job; None: from the newest)."""
    query = select(EnrichmentJob).where(EnrichmentJob.account_id == account_id)
    if before is not None:
        query = query.where(tuple_(EnrichmentJob.created_at, EnrichmentJob.id) < tuple_(*before))
    query = query.order_by(EnrichmentJob.created_at.desc(), EnrichmentJob.id.desc())
    return list((await session.scalars(query.limit(limit))).all())


async def cancel_unworked(
    session: AsyncSession, job_id: str, now: datetime, reason: str
) -> list[int | None]:
    """End the job's ``pending`` and ``waiting`` items ``cancelled`` with ``reason``; returns
    each one's ``duplicate_of`` (None for a row that would have been looked up)."""
    rows = await session.execute(
        update(EnrichmentItem)
        .where(
            EnrichmentItem.job_id == job_id,
            EnrichmentItem.status.in_((ItemState.PENDING, ItemState.WAITING)),
        )
        .values(status=ItemState.CANCELLED, reason=reason, finished_at=now)
        .returning(EnrichmentItem.duplicate_of)
    )
    return [duplicate for (duplicate,) in rows.all()]


async def waiting_repeats(
    session: AsyncSession, job_id: str, position: int
) -> Sequence[EnrichmentItem]:
    """The job's ``waiting`` rows that repeat the row at ``position``."""
    rows = await session.scalars(
        select(EnrichmentItem).where(
            EnrichmentItem.job_id == job_id,
            EnrichmentItem.duplicate_of == position,
            EnrichmentItem.status == ItemState.WAITING,
        )
    )
    return rows.all()
