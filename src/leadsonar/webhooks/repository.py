"""Webhook queries (DESIGN.md §2a: queries live in repositories; the caller's edge commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.enrichment.models import EnrichmentJob
from leadsonar.kit.db import Database, upsert
from leadsonar.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSecret


async def store_secret(
    session: AsyncSession, account_id: int, secret: str, now: datetime, *, replace: bool
) -> str:
    """Insert ``secret`` as the account's webhook secret unless it has one (``replace``: replace
    it); returns the secret now stored. ``INSERT … ON CONFLICT``, so concurrent callers all get
    the one secret."""
    await upsert(
        session,
        WebhookSecret,
        {"account_id": account_id, "secret": secret, "created_at": now},
        ["account_id"],
        update={"secret": secret, "created_at": now} if replace else {},
    )
    stored = await session.scalar(
        select(WebhookSecret.secret)
        .where(WebhookSecret.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    assert stored is not None
    return stored


async def stored_secret(session: AsyncSession, account_id: int) -> str | None:
    """The account's webhook secret, if one was made."""
    return await session.scalar(
        select(WebhookSecret.secret).where(WebhookSecret.account_id == account_id)
    )


async def delivery_of(session: AsyncSession, job_id: str) -> WebhookDelivery | None:
    """The job's delivery row, if it has one."""
    return await session.scalar(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id))


async def has_delivery(session: AsyncSession, job_id: str) -> bool:
    """Whether the job's delivery row exists."""
    found = await session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.job_id == job_id))
    return found is not None


async def attempts_of(session: AsyncSession, delivery_id: int) -> Sequence[WebhookAttempt]:
    """A delivery's attempts, oldest first."""
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.id)
    )
    return rows.all()


async def release_sending(session: AsyncSession) -> None:
    """Put every ``sending`` delivery back to ``pending`` (attempts a killed process left)."""
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.status == "sending").values(status="pending")
    )


# one delivery due at ``now``, if any (built once: run on every idle poll)
_ANY_DUE = (
    select(WebhookDelivery.id)
    .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= bindparam("now"))
    .limit(1)
)


async def any_due(db: Database, now: datetime) -> bool:
    """Whether a delivery is due at ``now``: one prebuilt read, no transaction
    (:meth:`Database.fetch`), so that an idle poll does not take the write lock."""
    return await db.fetch_first(_ANY_DUE, {"now": now}) is not None


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` deliveries due at ``now`` (``pending`` → ``sending``), oldest due
    first; rows another process holds are skipped (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
    the write lock on SQLite). Returns their ids."""
    ids = list(
        (
            await session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if ids:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.status == "pending")
            .values(status="sending")
        )
    return ids


async def delivery(session: AsyncSession, delivery_id: int) -> WebhookDelivery | None:
    """The delivery row, if it still exists."""
    return await session.get(WebhookDelivery, delivery_id)


async def job_account(session: AsyncSession, job_id: str) -> int | None:
    """The account that owns the job, if the job still exists."""
    return await session.scalar(select(EnrichmentJob.account_id).where(EnrichmentJob.id == job_id))


def add_attempt(session: AsyncSession, attempt: WebhookAttempt) -> None:
    """Add one attempt's log row (written when the caller's edge commits)."""
    session.add(attempt)
