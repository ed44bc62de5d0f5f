"""Bulk-job queries (DESIGN.md §2a: queries live in repositories; the edge commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob, ItemState, JobState
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


# The job-item edge's statements (``enrichment/runner.py`` and ``enrichment/tasks.py`` commit;
# these only run in the session they are given).


async def take_item(session: AsyncSession, item_id: int) -> bool:
    """Mark the item ``running`` if it is still to be worked; True when it was.

    Changes nothing (False) when the item is gone, ``done`` or ``cancelled``, its job is no
    longer ``processing``, or its ``not_before`` time is still to come. An item left ``running``
    by a killed worker is taken again. One ``UPDATE … RETURNING``: the row's write lock is held
    until the caller's transaction ends.
    """
    taken = await session.execute(
        update(EnrichmentItem)
        .where(
            EnrichmentItem.id == item_id,
            EnrichmentItem.status.in_((ItemState.PENDING, ItemState.RUNNING)),
            or_(
                EnrichmentItem.not_before.is_(None), EnrichmentItem.not_before <= datetime.now(UTC)
            ),
            EnrichmentItem.job_id.in_(
                select(EnrichmentJob.id).where(EnrichmentJob.status == JobState.PROCESSING)
            ),
        )
        .values(status=ItemState.RUNNING)
        .returning(EnrichmentItem.id)
    )
    return taken.first() is not None


async def item_and_job(
    session: AsyncSession, item_id: int
) -> tuple[EnrichmentItem | None, EnrichmentJob | None]:
    """The item and its job (from the session's identity map when already loaded); either is
    None when missing. Nothing is locked."""
    item = await session.get(EnrichmentItem, item_id)
    job = await session.get(EnrichmentJob, item.job_id) if item else None
    return item, job


async def defer_item(
    session: AsyncSession, item_id: int, seconds: float, connections: int, rcpts: int
) -> bool:
    """Put a ``running`` item back to ``pending`` until ``seconds`` from now, one more attempt
    counted and ``connections``/``rcpts`` added to its SMTP totals. True when the item was
    ``running`` (and so moved); False, changing nothing, otherwise."""
    moved = await session.execute(
        update(EnrichmentItem)
        .where(EnrichmentItem.id == item_id, EnrichmentItem.status == ItemState.RUNNING)
        .values(
            status=ItemState.PENDING,
            attempts=EnrichmentItem.attempts + 1,
            not_before=datetime.now(UTC) + timedelta(seconds=seconds),
            smtp_connections=EnrichmentItem.smtp_connections + connections,
            smtp_rcpts=EnrichmentItem.smtp_rcpts + rcpts,
        )
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


async def lock_item(session: AsyncSession, item_id: int) -> EnrichmentItem | None:
    """The item, row-locked (``FOR UPDATE``; SQLite: the caller's ``BEGIN IMMEDIATE``) and
    reloaded from the database (``populate_existing``: what a finisher that held the lock
    before wrote), or None when it is gone."""
    return await session.scalar(
        select(EnrichmentItem)
        .where(EnrichmentItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def names_at_website(
    session: AsyncSession, job_id: str, website: str
) -> list[tuple[str, str]]:
    """``(first_name, last_name)`` of every item of the job at ``website``.

    Without autoflush: a finishing item's pending changes go out in one UPDATE at the end. A
    second UPDATE of a row this transaction already updated makes PostgreSQL re-check its
    foreign key (FOR KEY SHARE on the job's row: a multixact on a row every finisher of the job
    touches).
    """
    with session.no_autoflush:
        rows = await session.execute(
            select(EnrichmentItem.first_name, EnrichmentItem.last_name).where(
                EnrichmentItem.job_id == job_id, EnrichmentItem.website == website
            )
        )
    return [(first, last) for first, last in rows.all()]


async def pending_and_repeated(
    session: AsyncSession, job_id: str, position: int
) -> tuple[bool, bool]:
    """In one query: whether the job has a ``pending`` item, and whether it has ``waiting``
    rows that repeat the row at ``position``. Nothing is locked."""
    others = select(EnrichmentItem.id).where(EnrichmentItem.job_id == job_id)
    pending, repeated = (
        await session.execute(
            select(
                others.where(EnrichmentItem.status == ItemState.PENDING).exists(),
                others.where(
                    EnrichmentItem.duplicate_of == position,
                    EnrichmentItem.status == ItemState.WAITING,
                ).exists(),
            )
        )
    ).one()
    return bool(pending), bool(repeated)


async def lock_job(session: AsyncSession, job_id: str) -> None:
    """Take the job's row lock until the caller's transaction ends: ``FOR NO KEY UPDATE``
    (``key_share``), which does not conflict with a foreign-key check's ``FOR KEY SHARE``."""
    await session.execute(
        select(EnrichmentJob.id).where(EnrichmentJob.id == job_id).with_for_update(key_share=True)
    )


async def unfinished_count(session: AsyncSession, job_id: str) -> int:
    """How many of the job's items are neither ``done`` nor ``cancelled``."""
    remaining = await session.scalar(
        select(func.count())
        .select_from(EnrichmentItem)
        .where(
            EnrichmentItem.job_id == job_id,
            EnrichmentItem.status.notin_((ItemState.DONE, ItemState.CANCELLED)),
        )
    )
    return int(remaining or 0)


async def fresh_job(session: AsyncSession, job_id: str) -> EnrichmentJob | None:
    """The job reloaded from the database (``populate_existing``), or None."""
    return await session.get(EnrichmentJob, job_id, populate_existing=True)


async def failed_count(session: AsyncSession, job_id: str) -> int:
    """How many of the job's items ended with an error."""
    failed = await session.scalar(
        select(func.count())
        .select_from(EnrichmentItem)
        .where(EnrichmentItem.job_id == job_id, EnrichmentItem.error.is_not(None))
    )
    return int(failed or 0)


async def finished_processing_jobs(session: AsyncSession) -> list[str]:
    """Ids of the ``processing`` jobs with no item left to work (none neither ``done`` nor
    ``cancelled``)."""
    left = select(EnrichmentItem.id).where(
        EnrichmentItem.job_id == EnrichmentJob.id,
        EnrichmentItem.status.notin_((ItemState.DONE, ItemState.CANCELLED)),
    )
    return list(
        await session.scalars(
            select(EnrichmentJob.id).where(
                EnrichmentJob.status == JobState.PROCESSING, ~left.exists()
            )
        )
    )


async def release_running(session: AsyncSession) -> None:
    """Put every ``running`` item back to ``pending`` (a killed runner's items)."""
    await session.execute(
        update(EnrichmentItem)
        .where(EnrichmentItem.status == ItemState.RUNNING)
        .values(status=ItemState.PENDING)
    )


def _due(now: Any) -> Any:
    """The conditions of a due item: ``pending``, of a ``processing`` job, without a
    ``not_before`` or with one passed at ``now``."""
    return (
        EnrichmentJob.status == JobState.PROCESSING,
        EnrichmentItem.status == ItemState.PENDING,
        or_(EnrichmentItem.not_before.is_(None), EnrichmentItem.not_before <= now),
    )


# one due item, if any (built once: run on every idle poll of the embedded runner)
_ANY_DUE = (
    select(EnrichmentItem.id)
    .join(EnrichmentJob, EnrichmentJob.id == EnrichmentItem.job_id)
    .where(*_due(bindparam("now")))
    .limit(1)
)


async def any_due_item(db: Database, now: datetime) -> bool:
    """Whether an item is due at ``now`` (as :func:`due_items` counts them): one prebuilt
    read, no transaction (:meth:`Database.fetch`), so that an idle poll does not take the
    write lock."""
    return await db.fetch_first(_ANY_DUE, {"now": now}) is not None


async def due_items(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[int, str, str | None]]:
    """Up to ``limit`` ``(id, website, company_name)`` of ``pending`` items due at ``now``
    (no ``not_before``, or passed) of ``processing`` jobs: oldest job first, then by job,
    website and position (a domain's items together). Nothing is locked: the caller's write
    transaction (SQLite ``BEGIN IMMEDIATE``) serialises claims."""
    rows = await session.execute(
        select(EnrichmentItem.id, EnrichmentItem.website, EnrichmentItem.company_name)
        .join(EnrichmentJob, EnrichmentJob.id == EnrichmentItem.job_id)
        .where(*_due(now))
        .order_by(
            EnrichmentJob.created_at,
            EnrichmentItem.job_id,
            EnrichmentItem.website,
            EnrichmentItem.position,
        )
        .limit(limit)
    )
    return [(item_id, website, company) for item_id, website, company in rows.all()]


async def mark_running(session: AsyncSession, item_ids: Sequence[int]) -> None:
    """Mark the given items ``running`` (those still ``pending``)."""
    await session.execute(
        update(EnrichmentItem)
        .where(EnrichmentItem.id.in_(item_ids), EnrichmentItem.status == ItemState.PENDING)
        .values(status=ItemState.RUNNING)
    )
