"""One quota bucket of a provider: its rate windows and its cap on requests in flight.

Each bucket (a provider's name, or ``hunter.verify`` for an endpoint the provider limits apart)
has a list of ``limits`` rate items — per second or minute (a pace: ``15/second``), per day or
month (a quota: ``300/day``, ``10000/month``) — with defaults from the provider's documentation,
overridden by ``LEADSONAR_PROVIDER_LIMITS``, and a cap on requests in flight
(``LEADSONAR_PROVIDER_CONCURRENCY``). An HTTP adapter wraps every request it sends in ``async
with books.slot(bucket, ctx.call) as turn`` and passes ``turn.extensions`` to ``httpx``: the
block starts only when a concurrency slot is free, and the request's headers leave only when
every rate window has room — the windows count a request when it is sent, after any connection
was opened, so a slow connect never squeezes two windows' requests into one of the provider's.
Windows are counted in ``LEADSONAR_RATE_LIMIT_STORAGE``
(:class:`~leadsonar.kit.ratelimit.Pacer`); the cap is an ``asyncio`` semaphore in one process,
or a Redis semaphore with expiring leases (:class:`~leadsonar.kit.ratelimit.LeaseSemaphore`)
when the storage is a Redis server, so N processes together hold at most the cap.

Time spent waiting here is ours, not the provider's: the call context's ``waiting`` flag is set
while queueing so that the waterfall does not count a deadline reached in the queue as the
provider timing out; and a call whose windows have no room before its own deadline
(``ctx.call.until``) is not queued at all: it raises :class:`QuotaWait` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from limits import RateLimitItem, parse_many

from leadsonar.kit.ratelimit import Pacer, Semaphore, WindowsSpent
from leadsonar.providers.base import CallContext, ProviderError

NAMESPACE = "leadsonar-provider"


class QuotaWait(ProviderError):
    """Our own rate windows for the provider have no room before the call's deadline: the
    provider was not asked (``neutral``: no verdict on its health).

    Attributes:
        reset_in: seconds until the windows have room again.
    """

    error_class = "queue"
    neutral = True

    def __init__(self, reset_in: float) -> None:
        super().__init__(f"no quota slot for {reset_in:.1f}s")
        self.reset_in = reset_in


class Quota:
    """One bucket's rate windows and concurrency cap.

    Args:
        name: the bucket (``hunter``, ``hunter.verify``).
        rates: ``limits`` rate items (empty: no rate limit).
        semaphore: the cap on requests in flight, or None for no cap.
        pacer: counts the rate windows (shared by every bucket of the installation).
    """

    def __init__(
        self,
        name: str,
        rates: list[RateLimitItem],
        semaphore: Semaphore | None,
        pacer: Pacer,
    ) -> None:
        self.name = name
        self.rates = rates
        self.semaphore = semaphore
        self.pacer = pacer

    @staticmethod
    def parse(name: str, rates: str | None, concurrency: int | None) -> list[RateLimitItem]:
        """``rates`` in ``limits`` syntax (``"15/second,500/minute,300/day"``) as items.

        Raises:
            ValueError: ``rates`` is not ``limits`` syntax or ``concurrency`` < 1.
        """
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency for {name!r} must be at least 1")
        return parse_many(rates) if rates else []

    def describe(self) -> tuple[str | None, int | None]:
        """``("15 per 1 second, 500 per 1 minute", 5)`` for ``/providers``."""
        rate = ", ".join(str(item) for item in self.rates) or None
        return rate, self.semaphore.cap if self.semaphore is not None else None

    @asynccontextmanager
    async def slot(self, call: CallContext | None = None) -> AsyncIterator[Turn]:
        """Hold one request slot for the duration of the block.

        Waits until a concurrency slot is free, the request's paced moment has come and every
        rate window has room, then yields the request's :class:`Turn`: pass
        ``turn.extensions`` to the ``httpx`` request, and the turn is counted the moment the
        request's headers are about to be sent (after any connection was opened), so the
        windows count requests when they leave, not when they were allowed. A
        request that never fires that event (a mock transport) takes its turn when the block
        ends normally. ``call`` (the provider call's context) is marked ``waiting`` while
        queueing and told the seconds queued; its ``until`` (monotonic) bounds the wait for
        rate windows.

        Raises:
            QuotaWait: the windows have no room before ``call.until``; nothing was counted.
            asyncio.CancelledError: cancelled while waiting (``waiting`` stays set).
        """
        context = call if call is not None else CallContext()
        began = time.monotonic()
        context.waiting = True
        token: str | None = None
        try:
            if self.semaphore is not None:
                token = await self.semaphore.acquire()
            # Wait for the paced moment and room in the windows before any connection is
            # taken; the turn is counted when the request leaves (seldom a further wait).
            max_wait = context.until - time.monotonic() if context.until is not None else None
            await self.pacer.ready(self.name, self.rates, max_wait)
        except WindowsSpent as spent:
            context.queued += time.monotonic() - began
            await self._give_back(token)
            raise QuotaWait(spent.reset_in) from None
        except BaseException:
            # Cancelled (a deadline) while queueing: ``waiting`` stays set so the waterfall
            # knows the call never reached the provider.
            context.queued += time.monotonic() - began
            await self._give_back(token)
            raise
        context.waiting = False
        context.queued += time.monotonic() - began
        keeper = None
        if token:  # a Redis lease: renew it while the request runs
            keeper = asyncio.create_task(self._keep(token), name=f"lease-{self.name}")
        turn = Turn(self, context)
        try:
            yield turn
            await turn.take()
        finally:
            if keeper is not None:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
            await self._give_back(token)

    async def _give_back(self, token: str | None) -> None:
        if self.semaphore is not None and token is not None:
            await asyncio.shield(self.semaphore.release(token))

    async def _keep(self, token: str) -> None:
        lease = getattr(self.semaphore, "lease", 30.0)
        while True:
            await asyncio.sleep(lease / 3)
            if self.semaphore is not None:
                await self.semaphore.renew(token)


class Turn:
    """One request's turn in its bucket's rate windows, taken once, as late as possible.

    Attributes:
        extensions: ``httpx`` request extensions whose ``trace`` hook takes the turn when the
            request's headers are about to be sent (``http11``/``http2``
            ``send_request_headers.started``).
    """

    def __init__(self, quota: Quota, context: CallContext) -> None:
        self.quota = quota
        self.context = context
        self.taken = False
        self.extensions: dict[str, Any] = {"trace": self._trace}

    async def take(self) -> None:
        """Wait for room in every window and count the request (once; later calls return).

        Raises:
            QuotaWait: no room before ``context.until``; nothing was counted.
        """
        if self.taken:
            return
        context = self.context
        began = time.monotonic()
        context.waiting = True
        try:
            max_wait = context.until - began if context.until is not None else None
            await self.quota.pacer.take_ready(self.quota.name, self.quota.rates, max_wait)
        except WindowsSpent as spent:
            context.queued += time.monotonic() - began
            raise QuotaWait(spent.reset_in) from None
        except BaseException:
            context.queued += time.monotonic() - began
            raise
        self.taken = True
        context.waiting = False
        context.queued += time.monotonic() - began

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_headers.started"):
            await self.take()
