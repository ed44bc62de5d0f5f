"""Rate limits and shared slots through the ``limits`` library and Redis.

- :class:`KeyRateLimiter` / :class:`FailureThrottle`: per-API-key request limits and the
  failed-authentication throttle (moving window).
- :class:`Pacer`: waits for room in a set of rate windows (``15/second``, ``500/minute``,
  ``300/day``) and takes it, sleeping exactly until the oldest request leaves the fullest window.
- :class:`LocalSemaphore` / :class:`LeaseSemaphore`: a cap on requests in flight, in one process
  or shared by every process through Redis with leases that expire, so a killed process does not
  keep its slots.

``LEADSONAR_RATE_LIMIT`` is a ``limits`` expression (``10/second``, ``600/minute``);
``LEADSONAR_RATE_LIMIT_STORAGE`` is ``memory://`` for one process or ``redis://host:6379`` when
several processes must share the counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from leadsonar.exceptions import RateLimited

SWEEP_SECONDS = 1.0
"""Seconds between two sweeps of expired counts in the in-process storage
(:class:`SweptMemoryStorage`)."""


class SweptMemoryStorage(MemoryStorage):
    """``limits``' in-process async storage, its sweep of expired counts run at most once per
    :data:`SWEEP_SECONDS`.

    ``limits`` 5.8 starts the sweep after every hit that finds the last one finished: a task
    each time, and for every key with a moving window a hop to a worker thread
    (``asyncio.to_thread``) to bisect its list. Under load that was about a sixth of an API
    request's CPU (docs/benchmarks.md). The sweep frees memory: a moving window's hit reads
    the entry at the limit's position against the window and a counter's read checks its own
    expiry, whatever has not been swept yet, so :class:`KeyRateLimiter`'s and
    :class:`FailureThrottle`'s answers are the same. :class:`Pacer` reads its windows over a
    span longer than their expiry (its margin), where an entry swept early was not seen: it
    now sees entries up to a sweep period old, as its margin intends (a sweep that lands
    within the margin still drops them, as before). Entries of many keys are held for about
    a sweep's own duration longer (one thread hop per key).
    """

    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]  # mangled name


def async_storage(storage_uri: str) -> Any:
    """A ``limits`` async storage for ``storage_uri`` (``memory://``, ``redis://host:6379/0``;
    ``async+`` is added when missing); ``memory://`` is a :class:`SweptMemoryStorage`.

    Raises:
        ConfigurationError (from ``limits``): the scheme is unknown or its client is missing.
    """
    if not storage_uri.startswith("async+"):
        storage_uri = "async+" + storage_uri
    if storage_uri == "async+memory://":
        return SweptMemoryStorage()
    return storage_from_string(storage_uri)


def redis_url(storage_uri: str) -> str | None:
    """The redis-py URL of a storage URI naming one Redis server (``redis://``, ``rediss://``,
    ``redis+unix://``, with or without ``async+``), else ``None`` (``memory://``, memcached,
    Sentinel and Cluster URIs: :class:`LeaseSemaphore` and shared breaker state need one server).
    """
    uri = storage_uri.removeprefix("async+")
    parts = urlsplit(uri)
    if parts.scheme in ("redis", "rediss"):
        return uri
    if parts.scheme == "redis+unix":
        return urlunsplit(parts._replace(scheme="unix"))
    return None


class KeyRateLimiter:
    """Checks one request against the per-key limit.

    Args:
        rate: a ``limits`` rate expression, e.g. ``"10/second"``.
        storage_uri: ``memory://`` or ``redis://…`` (``async+`` is added when missing).
    """

    def __init__(self, rate: str, storage_uri: str) -> None:
        self.item = parse(rate)
        self.storage = async_storage(storage_uri)
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
        self.storage = async_storage(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        # In-process storage sees only this process's failures: while none was counted within
        # a window, no address can be throttled and the storage is not asked (every request
        # asks). A shared storage (Redis) is always asked: other processes count there too.
        self._local = storage_uri.removeprefix("async+").startswith("memory")
        self._last_failure = -math.inf

    async def retry_after(self, address: str) -> int | None:
        """Whole seconds ``address`` must wait when it is throttled now, else ``None``."""
        if self._local and time.monotonic() - self._last_failure > self.item.get_expiry():
            return None
        if await self.limiter.test(self.item, "auth-failure", address):
            return None
        stats = await self.limiter.get_window_stats(self.item, "auth-failure", address)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def failed(self, address: str) -> None:
        """Count one failed authentication from ``address``."""
        self._last_failure = time.monotonic()
        await self.limiter.hit(self.item, "auth-failure", address)


class WindowsSpent(Exception):
    """A rate window has no room for longer than the caller may wait.

    Attributes:
        reset_in: seconds until every window has room again.
    """

    def __init__(self, reset_in: float) -> None:
        super().__init__(f"no room in the rate windows for {reset_in:.1f}s")
        self.reset_in = reset_in


# Reserve the next send time of a paced key: one request every ``spacing`` seconds at most.
_SPACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local spacing = tonumber(ARGV[1])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local keep = math.ceil((at + spacing - now) * 1000) + 1000
redis.call('SET', KEYS[1], tostring(at + spacing), 'PX', keep)
return tostring(at - now)
"""


class Pacer:
    """Takes one request's turn in a set of rate windows shared through ``limits`` storage.

    Each window is a ``limits`` moving window (``15/second``: never more than 15 requests in
    any second). A request waits until every window has room, then counts itself in each with
    ``limits``' atomic hit. The wait is exact: the reset time ``limits`` reports for a full
    window is when its oldest request leaves it (a float, from the stored timestamps), and the
    waiter sleeps until then plus a margin — never a whole second nor a polling tick.

    Two things keep what the far side counts within the limit although requests reach it a
    little after they were counted here (a connection opened, a process descheduled):

    - a margin at window edges: a request goes only while the window stretched by the margin
      (``1 s + margin`` for a per-second limit, ``60 s + 2 %`` for a minute, half an hour
      more for a day) holds fewer than the limit, read from the stored timestamps of the
      requests actually counted (``limits``' ``get_moving_window`` with the longer span);
    - pacing within a second: requests of a key held to R per second leave one every 1/R
      seconds at most (a reservation shared through Redis when ``redis`` is given, else kept
      in this process), so none arrives as the tail of a burst queued into the next second.

    A caller held to R/second thus reaches R / (1 + margin) per second, together with every
    other process counting in the same storage; ``limits``' own windows stay the hard bound.

    Args:
        storage_uri: ``memory://`` or ``redis://…`` (see :func:`async_storage`).
        namespace: the ``limits`` key prefix.
        margin: seconds added to a per-second window (0.05: 5 % under the limit).
        redis: a ``redis.asyncio.Redis`` client sharing the pacing reservations, or None.
    """

    def __init__(
        self, storage_uri: str, namespace: str, margin: float = 0.05, redis: Any = None
    ) -> None:
        self.storage = async_storage(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace
        self.margin = margin
        self._turns: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}
        self._space = redis.register_script(_SPACE) if redis is not None else None

    async def ready(
        self, key: str, items: Sequence[RateLimitItem], max_wait: float | None = None
    ) -> None:
        """Wait for this request's paced moment and for room in every window, counting
        nothing: what a caller does before it opens a connection, so that :meth:`take`, right
        before the request leaves, seldom has to wait (a pooled connection is not held idle
        while waiting, which a server may close).

        Raises:
            WindowsSpent: room comes only after more than ``max_wait`` seconds.
        """
        await self._pass(key, items, max_wait, count=False)

    async def take(
        self, key: str, items: Sequence[RateLimitItem], max_wait: float | None = None
    ) -> None:
        """Wait for room in every one of ``items`` for ``key``, then count one request in each.

        Waiters of one process are served in arrival order (one of them at a time talks to the
        storage). Another process may win the race between the room seen and the hit; the
        loser looks again (a window counted before the race was lost stays counted:
        conservative, never above the limit). A hit that took longer than half the margin to
        answer (a stalled process or server) is counted again, now. Paced keys wait for their
        moment first unless :meth:`ready` was awaited for this request.

        Args:
            max_wait: seconds the caller can wait at most; None waits as long as needed.

        Raises:
            WindowsSpent: room comes only after more than ``max_wait`` seconds (nothing is
                counted).
        """
        await self._pass(key, items, max_wait, count=True)

    async def _pass(
        self,
        key: str,
        items: Sequence[RateLimitItem],
        max_wait: float | None,
        *,
        count: bool,
        paced: bool = True,
    ) -> None:
        if not items:
            return
        # Waiters queue in arrival order; a request already made ready (``paced`` False) is
        # counted at once, never behind waiters still sleeping to their paced moment.
        turn = self._turns.setdefault(key, asyncio.Lock()) if paced else contextlib.nullcontext()
        began = time.monotonic()
        spacing = max(
            (i.get_expiry() / i.amount for i in items if i.get_expiry() <= 1), default=0.0
        )
        async with turn:
            if spacing and paced:
                await asyncio.sleep(await self._reserve(key, spacing))
            while True:
                wait = await self._wait_for(key, items)
                if wait <= 0:
                    if not count:
                        return
                    asked = time.time()
                    if await self._hit_all(key, items):
                        if time.time() - asked <= self.margin / 2:
                            return
                        # The count is stamped with the time it was asked (``limits`` takes
                        # the client's clock): a slow answer leaves it too old to stand for
                        # a request sent now. Count again (conservative: a stale count only
                        # costs room).
                    continue
                if max_wait is not None and wait > max_wait - (time.monotonic() - began):
                    raise WindowsSpent(wait)
                await asyncio.sleep(wait)

    async def take_ready(
        self, key: str, items: Sequence[RateLimitItem], max_wait: float | None = None
    ) -> None:
        """:meth:`take` for a request that already awaited :meth:`ready` (not paced again)."""
        await self._pass(key, items, max_wait, count=True, paced=False)

    async def _reserve(self, key: str, spacing: float) -> float:
        """Seconds until ``key``'s next paced send time, reserving it."""
        if self._space is not None:
            wait = float(await self._space(keys=[f"{self.namespace}:pace:{key}"], args=[spacing]))
            return max(wait, 0.0)
        now = time.monotonic()
        at = max(now, self._next.get(key, 0.0))
        self._next[key] = at + spacing
        return at - now

    async def _wait_for(self, key: str, items: Sequence[RateLimitItem]) -> float:
        """Seconds until every window has room (0 when they all have room now)."""
        wait = 0.0
        for item in items:
            span = item.get_expiry() + max(self.margin, 0.02 * item.get_expiry())
            oldest, count = await self.storage.get_moving_window(
                item.key_for(self.namespace, key), item.amount, span
            )
            if count >= item.amount:
                wait = max(wait, oldest + span - time.time(), 0.001)
        return wait

    async def _hit_all(self, key: str, items: Sequence[RateLimitItem]) -> bool:
        for item in items:
            if not await self.limiter.hit(item, self.namespace, key):
                return False
        return True


class Semaphore(Protocol):
    """A cap on requests in flight: :meth:`acquire` waits for a slot and returns its token."""

    cap: int

    async def acquire(self) -> str: ...

    async def release(self, token: str) -> None: ...

    async def renew(self, token: str) -> None: ...


class LocalSemaphore:
    """A cap on requests in flight in this process (an ``asyncio.Semaphore``, FIFO)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._slots = asyncio.Semaphore(cap)

    async def acquire(self) -> str:
        await self._slots.acquire()
        return ""

    async def release(self, token: str) -> None:
        self._slots.release()

    async def renew(self, token: str) -> None:
        return None


# A lease is a member of a sorted set scored by its expiry (Redis server time, seconds).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cap, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < cap then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000) + 1000)
  return '0'
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(math.max(tonumber(first[2]) - now, 0.001))
"""
_RELEASE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], '1')
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
  redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[3]) * 1000))
end
return 1
"""
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lease = tonumber(ARGV[2])
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000) + 1000)
return renewed
"""


class LeaseSemaphore:
    """A cap on requests in flight shared by every process through one Redis server.

    Each slot is a lease: a member of the sorted set ``key`` scored by its expiry on the Redis
    server's clock (``TIME``), so machines need not agree on the time. Holders renew their
    lease while they run (:meth:`renew`, every third of ``lease``); the lease of a process that
    was killed expires after ``lease`` seconds and its slot is free again. A release wakes one
    waiter through the list ``key:freed`` (``BLPOP``); a waiter also wakes when the oldest
    lease would expire, so no slot is lost. Waiters of one process queue locally (FIFO) and
    only the first talks to Redis.

    Args:
        redis: a ``redis.asyncio.Redis`` client (strings decoded).
        key: the sorted set's key.
        cap: slots.
        lease: seconds a slot is held without renewal.
    """

    def __init__(self, redis: Any, key: str, cap: int, lease: float = 30.0) -> None:
        self.redis = redis
        self.key = key
        self.freed = f"{key}:freed"
        self.cap = cap
        self.lease = lease
        self._turn = asyncio.Lock()
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    async def acquire(self) -> str:
        """Wait for a slot; returns the lease's token (for :meth:`release`/:meth:`renew`)."""
        token = uuid.uuid4().hex
        async with self._turn:
            while True:
                wait = float(
                    await self._acquire(keys=[self.key], args=[token, self.cap, self.lease])
                )
                if wait <= 0:
                    return token
                # Wake on a release, or when the oldest lease runs out (a killed holder).
                await self.redis.blpop([self.freed], timeout=min(wait, 1.0))

    async def release(self, token: str) -> None:
        """Give the slot back (a no-op when its lease already expired)."""
        await self._release(keys=[self.key, self.freed], args=[token, self.cap, self.lease])

    async def renew(self, token: str) -> None:
        """Extend the lease by ``lease`` seconds from now."""
        await self._renew(keys=[self.key, self.freed], args=[token, self.lease])
