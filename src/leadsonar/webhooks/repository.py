"""Webhook queries (DESIGN.md §2a: queries live in repositories; the caller's edge commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.kit.db import upsert
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
