"""Provider usage totals kept across restarts in the ``provider_usage`` table.

The waterfall adds each provider call to an in-memory delta (:meth:`UsageBook.add`); deltas are
written as increments (``calls = calls + n``) at most once per ``flush_every`` seconds, after a
lookup, and when the app stops, so a busy server does not write a row per provider call. On start
:meth:`UsageBook.load` gives the :class:`~leadsonar.providers.health.HealthBook` the credits
spent before, so ``/providers`` shows the provider-side credits spent overall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from leadsonar.kit.db import Database, upsert
from leadsonar.providers.health import HealthBook
from leadsonar.waterfall.models import ProviderUsage

log = logging.getLogger(__name__)


@dataclass
class UsageDelta:
    calls: int = 0
    hits: int = 0
    errors: int = 0
    cost: float = 0.0


class UsageBook:
    """Pending usage per provider and its persistence.

    Args:
        db: the database.
        health: receives the persisted credits on :meth:`load`.
        flush_every: seconds between two writes at most.
    """

    def __init__(self, db: Database, health: HealthBook, flush_every: float = 2.0) -> None:
        self.db = db
        self.health = health
        self.flush_every = flush_every
        self.pending: dict[str, UsageDelta] = {}
        self.totals: dict[str, UsageDelta] = {}
        self._flushed_at = time.monotonic()
        self._flusher: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Write pending usage every ``flush_every`` seconds from a background task, off the
        requests' path (a lookup's unit of work never carries this bookkeeping)."""
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_forever(), name="leadsonar-usage")

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            await self.flush()

    async def stop(self) -> None:
        """Stop the background writer and write what is pending."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush()

    async def load(self) -> None:
        """Read the stored totals; credits spent go to the health book's counters."""
        async with self.db.session() as session:
            rows = (await session.scalars(select(ProviderUsage))).all()
            for row in rows:
                self.totals[row.provider] = UsageDelta(
                    row.calls, row.hits, row.errors, row.cost_spent
                )
                self.health[row.provider].credits_spent += row.cost_spent

    def add(
        self, provider: str, *, hit: bool = False, error: bool = False, cost: float = 0.0
    ) -> None:
        """Count one call of ``provider``."""
        delta = self.pending.setdefault(provider, UsageDelta())
        delta.calls += 1
        delta.hits += int(hit)
        delta.errors += int(error)
        delta.cost += cost

    async def maybe_flush(self) -> None:
        """:meth:`flush` when ``flush_every`` seconds have passed since the last one."""
        if self.pending and time.monotonic() - self._flushed_at >= self.flush_every:
            await self.flush()

    async def flush(self) -> None:
        """Write pending deltas as increments; on failure they stay pending for the next try."""
        pending, self.pending = self.pending, {}
        self._flushed_at = time.monotonic()
        if not pending:
            return
        try:
            async with self.db.session() as session:
                for provider, delta in pending.items():
                    await upsert(
                        session,
                        ProviderUsage,
                        {
                            "provider": provider,
                            "calls": delta.calls,
                            "hits": delta.hits,
                            "errors": delta.errors,
                            "cost_spent": delta.cost,
                            "updated_at": datetime.now(UTC),
                        },
                        keys=["provider"],
                        update={
                            "calls": ProviderUsage.calls + delta.calls,
                            "hits": ProviderUsage.hits + delta.hits,
                            "errors": ProviderUsage.errors + delta.errors,
                            "cost_spent": ProviderUsage.cost_spent + delta.cost,
                            "updated_at": datetime.now(UTC),
                        },
                    )
        except Exception:
            log.warning("provider usage could not be saved; it is kept for the next try")
            for provider, delta in pending.items():
                again = self.pending.setdefault(provider, UsageDelta())
                again.calls += delta.calls
                again.hits += delta.hits
                again.errors += delta.errors
                again.cost += delta.cost
            return
        for provider, delta in pending.items():
            total = self.totals.setdefault(provider, UsageDelta())
            total.calls += delta.calls
            total.hits += delta.hits
            total.errors += delta.errors
            total.cost += delta.cost
