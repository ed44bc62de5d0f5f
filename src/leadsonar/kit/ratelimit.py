"""Per-API-key request limits through the ``limits`` library (moving window).

``LEADSONAR_RATE_LIMIT`` is a ``limits`` expression (``10/second``, ``600/minute``);
``LEADSONAR_RATE_LIMIT_STORAGE`` is ``memory://`` for one process or ``redis://host:6379`` when
several processes must share the counts.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from leadsonar.exceptions import RateLimited


class KeyRateLimiter:
    """Checks one request against the per-key limit.

    Args:
        rate: a ``limits`` rate expression, e.g. ``"10/second"``.
        storage_uri: ``memory://`` or ``redis://…`` (``async+`` is added when missing).
    """

    def __init__(self, rate: str, storage_uri: str) -> None:
        self.item = parse(rate)
        if not storage_uri.startswith("async+"):
            storage_uri = "async+" + storage_uri
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def check(self, identity: str) -> None:
        """Count one request for ``identity`` (a key hash, never the key).

        Raises:
            RateLimited: over the limit; ``Retry-After`` is the whole seconds until a slot frees.
        """
        if await self.limiter.hit(self.item, "api", identity):
            return
        stats = await self.limiter.get_window_stats(self.item, "api", identity)
        raise RateLimited(retry_after=max(1, math.ceil(stats.reset_time - time.time())))


class FailureThrottle:
    """Throttles clients that fail authentication: after ``rate`` failures (a ``limits``
    expression, e.g. ``"20/minute"``) from one address, every request from it is refused until
    the window frees a slot (moving window), whatever key it carries.

    Args:
        rate: failures allowed per address and window.
        storage_uri: ``memory://`` or ``redis://…``, shared with :class:`KeyRateLimiter`.
    """

    def __init__(self, rate: str, storage_uri: str) -> None:
        self.item = parse(rate)
        if not storage_uri.startswith("async+"):
            storage_uri = "async+" + storage_uri
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def retry_after(self, address: str) -> int | None:
        """Whole seconds ``address`` must wait when it is throttled now, else ``None``."""
        if await self.limiter.test(self.item, "auth-failure", address):
            return None
        stats = await self.limiter.get_window_stats(self.item, "auth-failure", address)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def failed(self, address: str) -> None:
        """Count one failed authentication from ``address``."""
        await self.limiter.hit(self.item, "auth-failure", address)
