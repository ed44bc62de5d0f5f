"""Per-provider rate limits and concurrency caps, shared by every lookup and job in the process.

Each provider has a list of ``limits`` rate items (``15/second``, ``500/minute`` — defaults from
the provider's documentation, overridden by ``LEADSONAR_PROVIDER_LIMITS``) and a cap on requests
in flight (``LEADSONAR_PROVIDER_CONCURRENCY``). An HTTP adapter wraps every request it sends in
``async with quotas.slot(name)``: the block starts only when a concurrency slot is free and every
rate window has room, so a bulk job keeps a provider as busy as its limits allow and never
busier. Counting uses the moving-window strategy of the ``limits`` library on the storage named by
``LEADSONAR_RATE_LIMIT_STORAGE`` (``memory://`` in one process, ``redis://…`` to share counts
between processes).

Time spent waiting here is ours, not the provider's: the call context's ``waiting`` flag (the
``ctx.call`` the adapter passes in) is set
while queueing so that the waterfall does not count a deadline reached in the queue as the
provider timing out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from leadsonar.providers.base import CallContext

NAMESPACE = "leadsonar-provider"


class ProviderQuotas:
    """Rate windows and concurrency caps per provider name.

    Args:
        storage_uri: a ``limits`` storage URI (``memory://``, ``redis://host:6379``); ``async+``
            is added when missing.
        margin: seconds added after a window edge before the next request: the provider counts
            arrivals on its side, and network jitter must not squeeze two windows' requests into
            one of its windows.
    """

    def __init__(self, storage_uri: str = "memory://", margin: float = 0.1) -> None:
        self.margin = margin
        if not storage_uri.startswith("async+"):
            storage_uri = "async+" + storage_uri
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.rates: dict[str, list[RateLimitItem]] = {}
        self.concurrency: dict[str, int] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._turns: dict[str, asyncio.Lock] = {}

    def configure(self, name: str, rates: str | None, concurrency: int | None) -> None:
        """Set ``name``'s limits: ``rates`` in ``limits`` syntax (``"15/second,500/minute"``,
        empty or None for none) and ``concurrency`` requests in flight (None for no cap).

        Raises:
            ValueError: ``rates`` is not ``limits`` syntax or ``concurrency`` < 1.
        """
        self.rates[name] = parse_many(rates) if rates else []
        if concurrency is not None:
            if concurrency < 1:
                raise ValueError(f"concurrency for {name!r} must be at least 1")
            self.concurrency[name] = concurrency
            self._slots[name] = asyncio.Semaphore(concurrency)
        else:
            self.concurrency.pop(name, None)
            self._slots.pop(name, None)

    def describe(self, name: str) -> dict[str, object]:
        """``{"rate": "15 per 1 second, …", "concurrency": 5}`` for ``/providers``."""
        rates = self.rates.get(name) or []
        return {
            "rate": ", ".join(str(item) for item in rates) or None,
            "concurrency": self.concurrency.get(name),
        }

    @asynccontextmanager
    async def slot(self, name: str, call: CallContext | None = None) -> AsyncIterator[None]:
        """Hold one of ``name``'s request slots for the duration of the block.

        Waits (never raises for the limit) until a concurrency slot is free and every rate
        window has room, then counts the request. Cancellation while waiting propagates.
        ``call`` (the provider call's context) is marked ``waiting`` while queueing and told
        the seconds queued.
        """
        context = call if call is not None else CallContext()
        began = time.monotonic()
        context.waiting = True
        semaphore = self._slots.get(name)
        try:
            if semaphore is not None:
                await semaphore.acquire()
            try:
                await self._take_turn(name)
            except BaseException:
                if semaphore is not None:
                    semaphore.release()
                raise
        except BaseException:
            # Cancelled (a deadline) while queueing: ``waiting`` stays set so the waterfall
            # knows the call never reached the provider.
            context.queued += time.monotonic() - began
            raise
        context.waiting = False
        context.queued += time.monotonic() - began
        try:
            yield
        finally:
            if semaphore is not None:
                semaphore.release()

    async def _take_turn(self, name: str) -> None:
        items = self.rates.get(name)
        if not items:
            return
        turn = self._turns.setdefault(name, asyncio.Lock())
        # One waiter per provider checks the windows at a time, so waiters are served in order.
        # Each window is then taken with an atomic hit: another process sharing the storage may
        # win the race between test and hit, and then this one looks again (a window taken
        # before the race was lost stays counted: conservative, never above the limit).
        async with turn:
            while True:
                waits = []
                for item in items:
                    if not await self.limiter.test(item, NAMESPACE, name):
                        stats = await self.limiter.get_window_stats(item, NAMESPACE, name)
                        waits.append(stats.reset_time - time.time())
                if not waits:
                    for item in items:
                        if not await self.limiter.hit(item, NAMESPACE, name):
                            break
                    else:
                        return
                    continue
                await asyncio.sleep(min(max(max(waits), 0.0) + self.margin, 60.0))
