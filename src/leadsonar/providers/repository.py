"""Queries on ``provider_usage``: running totals per provider (calls, hits, errors, credits).

Only flushes: the caller's session scope commits (DESIGN.md §2a).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.kit.db import upsert
from leadsonar.providers.models import ProviderUsage


@dataclass
class UsageDelta:
    """Calls, hits and errors counted, and provider-side credits spent."""

    calls: int = 0
    hits: int = 0
    errors: int = 0
    cost: float = 0.0

    def add(self, other: UsageDelta) -> None:
        self.calls += other.calls
        self.hits += other.hits
        self.errors += other.errors
        self.cost += other.cost


async def load_usage(session: AsyncSession) -> dict[str, UsageDelta]:
    """Every provider's stored totals, keyed by provider name."""
    rows = (await session.scalars(select(ProviderUsage))).all()
    return {r.provider: UsageDelta(r.calls, r.hits, r.errors, r.cost_spent) for r in rows}


async def add_usage(session: AsyncSession, deltas: dict[str, UsageDelta]) -> None:
    """Add ``deltas`` to the stored totals as increments (``calls = calls + n``), so processes
    writing at once never lose each other's counts."""
    for provider, delta in deltas.items():
        now = datetime.now(UTC)
        await upsert(
            session,
            ProviderUsage,
            {
                "provider": provider,
                "calls": delta.calls,
                "hits": delta.hits,
                "errors": delta.errors,
                "cost_spent": delta.cost,
                "updated_at": now,
            },
            keys=["provider"],
            update={
                "calls": ProviderUsage.calls + delta.calls,
                "hits": ProviderUsage.hits + delta.hits,
                "errors": ProviderUsage.errors + delta.errors,
                "cost_spent": ProviderUsage.cost_spent + delta.cost,
                "updated_at": now,
            },
        )
