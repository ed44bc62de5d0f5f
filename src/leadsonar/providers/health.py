"""Provider health: the circuit breaker and rests after throttles, lost credits or a spent quota.

A provider's health is one small state machine, kept by a :class:`HealthStore`: in this process
(:class:`LocalHealth`) or in one Redis hash shared by every process (:class:`RedisHealth`, when
``LEADSONAR_RATE_LIMIT_STORAGE`` names a Redis server). Both implement the same rules:

- **Circuit breaker**: ``failure_threshold`` consecutive failures that may be transient
  (timeouts, 5xx, network errors, unreadable answers) open the circuit until ``reset_timeout``
  seconds later; then it is half-open and one probe call is let through (the probe holds a
  lease of ``probe_lease`` seconds, so a process killed while probing does not keep the circuit
  shut); the probe's success closes the circuit, its failure opens it for a full period again.
- **Throttled** (HTTP 429, Hunter's 403 …): the provider rests for its ``Retry-After`` (or the
  configured throttle cooldown) and the cascade goes on without it (FC-31).
- **Out of credits**: the provider is ``degraded`` and skipped for the quota cooldown, then probed
  once; a successful call clears it.
- **Bad key**: the provider is ``down`` with reason ``bad key`` and skipped for the auth cooldown.
- **Quota spent** (our own daily/monthly window for the provider is full): skipped until the
  window has room again.

:func:`verdict` turns how one call ended into what it means for health; the store applies it.
Nothing here ever holds a key or a provider's own error text: only error classes (``bad key``,
``out of credits``, ``throttled``, ``timeout``, ``server error`` …).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from leadsonar.providers.base import (
    CallContext,
    ProviderAuthError,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderThrottled,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Rest(StrEnum):
    """Why a provider is resting (skipped for a while)."""

    THROTTLED = "throttled"
    OUT_OF_CREDITS = "out of credits"
    BAD_KEY = "bad key"
    QUOTA_SPENT = "quota spent"


class BreakerMove(StrEnum):
    """What a call's ending does to the breaker."""

    SUCCESS = "success"  # closes it, resets the failure count
    FAILURE = "failure"  # counts toward opening; a failed probe reopens
    RELEASE = "release"  # no verdict on the provider: frees a half-open probe


@dataclass(frozen=True)
class HealthPolicy:
    """The breaker's and rests' settings (``LEADSONAR_PROVIDER_BREAKER_*``, ``…_COOLDOWN``).

    Attributes:
        failure_threshold: consecutive failures that open the circuit.
        reset_timeout: seconds the circuit stays open before a probe.
        throttle_cooldown: seconds to rest after a throttle without ``Retry-After``.
        quota_cooldown: seconds to rest after "out of credits" before one probe.
        auth_cooldown: seconds to rest after a rejected key.
        probe_lease: seconds a half-open probe may run before another one is let through.
    """

    failure_threshold: int = 5
    reset_timeout: float = 30.0
    throttle_cooldown: float = 10.0
    quota_cooldown: float = 300.0
    auth_cooldown: float = 600.0
    probe_lease: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> HealthPolicy:
        return cls(
            failure_threshold=settings.provider_breaker_failures,
            reset_timeout=settings.provider_breaker_reset,
            throttle_cooldown=settings.provider_throttle_cooldown,
            quota_cooldown=settings.provider_quota_cooldown,
            auth_cooldown=settings.provider_auth_cooldown,
            probe_lease=max(60.0, float(settings.provider_timeout) + 5.0),
        )


@dataclass(frozen=True)
class Verdict:
    """What one call's ending means for the provider's health.

    Attributes:
        breaker: the breaker move.
        rest: a rest to start (or extend), for ``rest_seconds``.
        condition: ``"set"`` the account-level ``rest`` as the condition (bad key, out of
            credits: it sets the status until a call succeeds), ``"clear"`` it, or ``"keep"``.
        error_class: the last error's class to show, or None to keep the shown one.
    """

    breaker: BreakerMove
    rest: Rest | None = None
    rest_seconds: float = 0.0
    condition: str = "keep"
    error_class: str | None = None


def verdict(
    error: BaseException | None,
    policy: HealthPolicy,
    *,
    timed_out: bool = False,
    context: CallContext | None = None,
) -> Verdict:
    """How a call that ended with ``error`` (None: a hit or a miss) or ``timed_out`` moves the
    provider's health.

    A success closes the breaker and clears a bad-key/out-of-credits condition, but still rests
    the provider when its rate-limit headers said the window is spent (``context.rest_for``).
    Throttles, lost credits and rejected keys rest it without feeding the breaker; a provider
    refusing this input (``neutral`` errors) is no verdict at all; everything else — transient
    failures, unreadable answers, an adapter's own bug — feeds the breaker.
    """
    if timed_out:
        return Verdict(BreakerMove.FAILURE, error_class="timeout")
    if error is None:
        rest_for = context.rest_for if context is not None else None
        if rest_for:
            return Verdict(BreakerMove.SUCCESS, Rest.THROTTLED, rest_for, "clear")
        return Verdict(BreakerMove.SUCCESS, condition="clear")
    if isinstance(error, ProviderThrottled):
        wait = error.retry_after if error.retry_after is not None else policy.throttle_cooldown
        return Verdict(BreakerMove.RELEASE, Rest.THROTTLED, wait, error_class=Rest.THROTTLED)
    if isinstance(error, ProviderQuotaExceeded):
        return Verdict(
            BreakerMove.RELEASE,
            Rest.OUT_OF_CREDITS,
            policy.quota_cooldown,
            "set",
            Rest.OUT_OF_CREDITS,
        )
    if isinstance(error, ProviderAuthError):
        return Verdict(BreakerMove.RELEASE, Rest.BAD_KEY, policy.auth_cooldown, "set", Rest.BAD_KEY)
    if getattr(error, "neutral", False):  # the provider refused this input: no verdict
        return Verdict(BreakerMove.RELEASE, error_class=getattr(error, "error_class", "error"))
    error_class = error.error_class if isinstance(error, ProviderError) else "internal error"
    return Verdict(BreakerMove.FAILURE, error_class=error_class)


@dataclass(frozen=True)
class HealthView:
    """A provider's health now, for ``/providers``.

    Attributes:
        breaker: the breaker's state.
        rest: why it rests now, or None; ``rest_left`` the seconds it still rests.
        condition: an account-level problem (bad key, out of credits) not yet cleared by a
            successful call.
        last_error_class: the last error's class, secret-free.
        reopen_in: seconds until an open circuit lets a probe through (0 unless open).
    """

    breaker: BreakerState = BreakerState.CLOSED
    rest: Rest | None = None
    rest_left: float = 0.0
    condition: Rest | None = None
    last_error_class: str | None = None
    reopen_in: float = 0.0


class HealthStore(Protocol):
    """Where one provider's health lives (this process, or Redis)."""

    async def gate(self) -> str | None:
        """``None`` if the provider may be called now, else why not (``throttled``, ``out of
        credits``, ``bad key``, ``quota spent``, ``circuit open``). A ``None`` from a half-open
        breaker takes the single probe: the caller must :meth:`apply` or :meth:`release`."""
        ...

    async def release(self) -> None:
        """The call allowed by :meth:`gate` ended without a verdict (cancelled, our own wait)."""
        ...

    async def apply(self, verdict: Verdict) -> None:
        """Record how a call ended."""
        ...

    async def view(self) -> HealthView:
        """The health now."""
        ...


class LocalHealth:
    """One provider's health in this process.

    Args:
        policy: breaker and rest settings.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, policy: HealthPolicy, clock: Clock = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.failures = 0
        self.reopen_at: float | None = None  # set while open or half-open
        self.probe_until = 0.0
        self.rest: Rest | None = None
        self.rest_until = 0.0
        self.condition: Rest | None = None
        self.last_error_class: str | None = None

    def breaker_state(self) -> BreakerState:
        if self.reopen_at is None:
            return BreakerState.CLOSED
        return BreakerState.OPEN if self.clock() < self.reopen_at else BreakerState.HALF_OPEN

    async def gate(self) -> str | None:
        now = self.clock()
        if self.rest is not None and now < self.rest_until:
            return self.rest.value
        if self.reopen_at is None:
            return None
        if now < self.reopen_at or self.probe_until > now:
            return "circuit open"
        self.probe_until = now + self.policy.probe_lease
        return None

    async def release(self) -> None:
        self.probe_until = 0.0

    async def apply(self, verdict: Verdict) -> None:
        now = self.clock()
        if verdict.error_class is not None:
            self.last_error_class = verdict.error_class
        if verdict.condition == "set":
            self.condition = verdict.rest
        elif verdict.condition == "clear":
            self.condition = None
        self.probe_until = 0.0
        if verdict.breaker is BreakerMove.SUCCESS:
            self.failures = 0
            self.reopen_at = None
        elif verdict.breaker is BreakerMove.FAILURE:
            if self.reopen_at is not None:  # a failed probe: open again for a full period
                self.reopen_at = now + self.policy.reset_timeout
            else:
                self.failures += 1
                if self.failures >= self.policy.failure_threshold:
                    self.reopen_at = now + self.policy.reset_timeout
        if verdict.rest is not None:
            until = now + max(0.0, verdict.rest_seconds)
            resting = self.rest is not None and now < self.rest_until
            if not resting or until > self.rest_until or verdict.rest is not Rest.THROTTLED:
                self.rest = verdict.rest
                self.rest_until = until

    async def view(self) -> HealthView:
        now = self.clock()
        resting = self.rest is not None and now < self.rest_until
        return HealthView(
            breaker=self.breaker_state(),
            rest=self.rest if resting else None,
            rest_left=self.rest_until - now if resting else 0.0,
            condition=self.condition,
            last_error_class=self.last_error_class,
            reopen_in=max(0.0, self.reopen_at - now) if self.reopen_at is not None else 0.0,
        )


# One hash per provider; times are the Redis server's clock (seconds), so machines agree.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""
_GATE = (
    _NOW
    + """
local h = redis.call('HMGET', KEYS[1], 'rest', 'rest_until', 'reopen_at', 'probe_until')
if h[1] and h[1] ~= '' and now < tonumber(h[2] or '0') then return h[1] end
local reopen = tonumber(h[3] or '0')
if reopen == 0 then return '' end
if now < reopen or tonumber(h[4] or '0') > now then return 'circuit open' end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[1])))
return ''
"""
)
_APPLY = (
    _NOW
    + """
local move, threshold, reset = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local rest, rest_seconds, condition, error_class = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
if error_class ~= '' then redis.call('HSET', KEYS[1], 'last_error', error_class) end
if condition == 'set' then redis.call('HSET', KEYS[1], 'condition', rest)
elseif condition == 'clear' then redis.call('HDEL', KEYS[1], 'condition') end
redis.call('HSET', KEYS[1], 'probe_until', '0')
if move == 'success' then
  redis.call('HSET', KEYS[1], 'failures', '0', 'reopen_at', '0')
elseif move == 'failure' then
  if tonumber(redis.call('HGET', KEYS[1], 'reopen_at') or '0') > 0 then
    redis.call('HSET', KEYS[1], 'reopen_at', tostring(now + reset))
  elseif redis.call('HINCRBY', KEYS[1], 'failures', 1) >= threshold then
    redis.call('HSET', KEYS[1], 'reopen_at', tostring(now + reset))
  end
end
if rest ~= '' then
  local h = redis.call('HMGET', KEYS[1], 'rest', 'rest_until')
  local current = tonumber(h[2] or '0')
  local untill = now + math.max(0, rest_seconds)
  local resting = h[1] and h[1] ~= '' and now < current
  if (not resting) or untill > current or rest ~= 'throttled' then
    redis.call('HSET', KEYS[1], 'rest', rest, 'rest_until', tostring(untill))
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[8]))
return 1
"""
)
_RELEASE = "redis.call('HSET', KEYS[1], 'probe_until', '0') return 1"
_VIEW = (
    _NOW
    + """
local h = redis.call('HMGET', KEYS[1], 'rest', 'rest_until', 'reopen_at', 'condition', 'last_error')
return {tostring(now), h[1] or '', h[2] or '0', h[3] or '0', h[4] or '', h[5] or ''}
"""
)


class RedisHealth:
    """One provider's health in a Redis hash, shared by every process using that server.

    The hash ``key`` holds the failure count, the reopen time, the half-open probe's lease, the
    rest and its end, the condition and the last error class; each operation is one Lua script
    (atomic, one round trip) on the server's clock. The hash expires ``ttl`` seconds after the
    last call recorded. A Redis error never fails a lookup: :meth:`gate` then lets the call go
    and :meth:`apply` is skipped (logged).

    Args:
        redis: a ``redis.asyncio.Redis`` client (strings decoded).
        key: the hash's key.
        policy: breaker and rest settings.
        ttl: seconds the state outlives the last call recorded.
    """

    def __init__(self, redis: Any, key: str, policy: HealthPolicy, ttl: int = 86_400) -> None:
        self.key = key
        self.policy = policy
        self.ttl = max(ttl, int(policy.auth_cooldown) + 60, int(policy.quota_cooldown) + 60)
        self._gate = redis.register_script(_GATE)
        self._apply = redis.register_script(_APPLY)
        self._release = redis.register_script(_RELEASE)
        self._view = redis.register_script(_VIEW)

    async def gate(self) -> str | None:
        try:
            reason = await self._gate(keys=[self.key], args=[self.policy.probe_lease])
        except Exception as exc:  # Redis down: fail open rather than stop every lookup
            log.warning("provider health in Redis unavailable (%s)", type(exc).__name__)
            return None
        return str(reason) or None

    async def release(self) -> None:
        try:
            await self._release(keys=[self.key])
        except Exception as exc:
            log.warning("provider health in Redis unavailable (%s)", type(exc).__name__)

    async def apply(self, verdict: Verdict) -> None:
        args = [
            verdict.breaker.value,
            self.policy.failure_threshold,
            self.policy.reset_timeout,
            verdict.rest.value if verdict.rest is not None else "",
            verdict.rest_seconds,
            verdict.condition,
            verdict.error_class or "",
            self.ttl,
        ]
        try:
            await self._apply(keys=[self.key], args=args)
        except Exception as exc:
            log.warning("provider health in Redis unavailable (%s)", type(exc).__name__)

    async def view(self) -> HealthView:
        try:
            now, rest, rest_until, reopen_at, condition, last = await self._view(keys=[self.key])
        except Exception as exc:
            log.warning("provider health in Redis unavailable (%s)", type(exc).__name__)
            return HealthView(last_error_class="health store unavailable")
        clock, until, reopen = float(now), float(rest_until), float(reopen_at)
        resting = bool(rest) and clock < until
        if reopen <= 0:
            breaker = BreakerState.CLOSED
        else:
            breaker = BreakerState.OPEN if clock < reopen else BreakerState.HALF_OPEN
        return HealthView(
            breaker=breaker,
            rest=Rest(rest) if resting else None,
            rest_left=until - clock if resting else 0.0,
            condition=Rest(condition) if condition else None,
            last_error_class=last or None,
            reopen_in=max(0.0, reopen - clock) if reopen > 0 else 0.0,
        )
