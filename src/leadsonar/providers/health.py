"""Provider health: circuit breakers, rests after throttles or lost credits, `/providers` status.

Every provider gets one :class:`ProviderHealth` in a :class:`HealthBook`. The waterfall asks
:meth:`HealthBook.gate` before a call (``None`` means go, otherwise the reason it is skipped) and
tells :meth:`HealthBook.record` how the call went. The rules:

- **Circuit breaker** (:class:`CircuitBreaker`): ``failure_threshold`` consecutive failures that
  may be transient (timeouts, 5xx, network errors, unreadable answers) open the circuit; after
  ``reset_timeout`` seconds one probe call is let through (half-open); its success closes the
  circuit, its failure opens it again.
- **Throttled** (HTTP 429, Hunter's 403 …): the provider rests for its ``Retry-After`` (or the
  configured throttle cooldown) and the cascade goes on without it (FC-31).
- **Out of credits**: the provider is ``degraded`` and skipped for the quota cooldown, then probed
  once; a successful call clears it.
- **Bad key**: the provider is ``down`` with reason ``bad key`` and skipped for the auth cooldown.

Status on ``/providers`` comes from the above, then from the rolling window of outcomes kept by
:class:`leadsonar.providers.registry.ProviderStats`. Nothing here ever holds a key or a provider's
own error text: only error classes (``bad key``, ``out of credits``, ``throttled``, ``timeout``,
``server error`` …).

Each call's :class:`~leadsonar.providers.base.CallContext` (``ctx.call`` of the explicit
:class:`~leadsonar.providers.base.LookupContext`) reports provider-side credits spent, rate-limit
hints and time spent queueing for a slot; the waterfall hands it to :meth:`HealthBook.record`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadsonar.providers.base import (
    CallContext,
    ProviderAuthError,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderThrottled,
)

if TYPE_CHECKING:
    from leadsonar.providers.registry import ProviderStats

Clock = Callable[[], float]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """A small circuit breaker: closed → open after ``failure_threshold`` consecutive failures;
    open → half-open after ``reset_timeout`` seconds (one probe allowed); half-open → closed on
    a success, → open on a failure.

    Args:
        failure_threshold: consecutive failures that open the circuit.
        reset_timeout: seconds the circuit stays open before a probe.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self, failure_threshold: int = 5, reset_timeout: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self.opened_at >= self.reset_timeout:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a call may go now; in half-open state only one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def release(self) -> None:
        """A call that was allowed ended without a verdict on the provider (e.g. cancelled)."""
        self._probing = False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._probing = False
        if self.opened_at is not None:  # a failed probe: open again for a full period
            self.opened_at = self.clock()
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self.opened_at = self.clock()


class Rest(StrEnum):
    """Why a provider is resting (skipped for a while)."""

    THROTTLED = "throttled"
    OUT_OF_CREDITS = "out of credits"
    BAD_KEY = "bad key"


@dataclass
class ProviderHealth:
    """One provider's breaker, rest and totals.

    Attributes:
        breaker: the circuit breaker.
        rest: why it rests, or None; ``rest_until`` is the monotonic time it ends.
        condition: the last account-level problem (``bad key`` / ``out of credits``) not yet
            cleared by a successful call; it sets the status even after the rest ended.
        last_error_class: the last error's class, secret-free.
        credits_spent: provider-side credits spent, persisted totals included.
        requests: HTTP requests sent to the provider by this process.
    """

    breaker: CircuitBreaker
    rest: Rest | None = None
    rest_until: float = 0.0
    condition: Rest | None = None
    last_error_class: str | None = None
    credits_spent: float = 0.0
    requests: int = 0


class HealthBook:
    """Health of every provider in the registry.

    Args:
        names: provider names.
        failure_threshold: see :class:`CircuitBreaker`.
        reset_timeout: see :class:`CircuitBreaker` (seconds).
        throttle_cooldown: seconds to rest after a throttle without ``Retry-After``.
        quota_cooldown: seconds to rest after "out of credits" before one probe.
        auth_cooldown: seconds to rest after a rejected key.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        names: list[str] | None = None,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        throttle_cooldown: float = 10.0,
        quota_cooldown: float = 300.0,
        auth_cooldown: float = 600.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.throttle_cooldown = throttle_cooldown
        self.quota_cooldown = quota_cooldown
        self.auth_cooldown = auth_cooldown
        self.clock = clock
        self._health: dict[str, ProviderHealth] = {}
        for name in names or []:
            self[name]

    @classmethod
    def from_settings(cls, settings: Any, names: list[str]) -> HealthBook:
        """A book with ``LEADSONAR_PROVIDER_BREAKER_*`` and ``…_COOLDOWN`` settings."""
        return cls(
            names,
            failure_threshold=settings.provider_breaker_failures,
            reset_timeout=settings.provider_breaker_reset,
            throttle_cooldown=settings.provider_throttle_cooldown,
            quota_cooldown=settings.provider_quota_cooldown,
            auth_cooldown=settings.provider_auth_cooldown,
        )

    def __getitem__(self, name: str) -> ProviderHealth:
        health = self._health.get(name)
        if health is None:
            health = ProviderHealth(
                CircuitBreaker(self.failure_threshold, self.reset_timeout, self.clock)
            )
            self._health[name] = health
        return health

    def gate(self, name: str) -> str | None:
        """``None`` if ``name`` may be called now, else why not (``throttled``, ``out of
        credits``, ``bad key``, ``circuit open``). A ``None`` from a half-open breaker reserves
        the single probe: the caller must :meth:`record` or :meth:`release` afterwards."""
        health = self[name]
        if health.rest is not None:
            if self.clock() < health.rest_until:
                return health.rest.value
            health.rest = None
        if not health.breaker.allow():
            return "circuit open"
        return None

    def release(self, name: str) -> None:
        """The call allowed by :meth:`gate` ended without a verdict (cancelled, our own wait)."""
        self[name].breaker.release()

    def record(
        self,
        name: str,
        error: BaseException | None,
        *,
        timed_out: bool = False,
        context: CallContext | None = None,
    ) -> None:
        """Record how a call ended: ``error`` None (a hit or a miss), a :class:`ProviderError`,
        or ``timed_out``.

        Args:
            context: the call's context: credits spent, requests sent and any rest the
                provider's rate-limit headers asked for.
        """
        health = self[name]
        if context is not None:
            health.credits_spent += context.spent
            health.requests += context.requests
        if timed_out:
            health.last_error_class = "timeout"
            health.breaker.record_failure()
        elif error is None:
            health.breaker.record_success()
            health.condition = None
            if context is not None and context.rest_for:
                self._rest(health, Rest.THROTTLED, context.rest_for)
        elif isinstance(error, ProviderThrottled):
            health.last_error_class = Rest.THROTTLED.value
            health.breaker.release()
            wait = error.retry_after if error.retry_after is not None else self.throttle_cooldown
            self._rest(health, Rest.THROTTLED, wait)
        elif isinstance(error, ProviderQuotaExceeded):
            health.last_error_class = Rest.OUT_OF_CREDITS.value
            health.breaker.release()
            health.condition = Rest.OUT_OF_CREDITS
            self._rest(health, Rest.OUT_OF_CREDITS, self.quota_cooldown)
        elif isinstance(error, ProviderAuthError):
            health.last_error_class = Rest.BAD_KEY.value
            health.breaker.release()
            health.condition = Rest.BAD_KEY
            self._rest(health, Rest.BAD_KEY, self.auth_cooldown)
        elif getattr(error, "neutral", False):  # the provider refused this input: no verdict
            health.last_error_class = error.error_class  # type: ignore[union-attr]
            health.breaker.release()
        else:
            # Transient failures and unreadable answers feed the breaker; so does an adapter's
            # own bug (``internal error``): the provider may not be to blame, but hammering a
            # call that keeps failing helps nobody.
            health.last_error_class = (
                error.error_class if isinstance(error, ProviderError) else "internal error"
            )
            health.breaker.record_failure()

    def _rest(self, health: ProviderHealth, why: Rest, seconds: float) -> None:
        until = self.clock() + max(0.0, seconds)
        if health.rest is None or until > health.rest_until or why is not Rest.THROTTLED:
            health.rest = why
            health.rest_until = until

    def status(self, name: str, stats: ProviderStats) -> tuple[str, str | None]:
        """``(status, reason)`` for ``/providers``: ``down`` for a rejected key or an open
        circuit, ``degraded`` when out of credits, throttled or failing often, else from the
        rolling window."""
        health = self[name]
        if health.condition is Rest.BAD_KEY:
            return "down", Rest.BAD_KEY.value
        state = health.breaker.state
        if state is BreakerState.OPEN:
            return "down", "circuit open"
        if health.condition is Rest.OUT_OF_CREDITS:
            return "degraded", Rest.OUT_OF_CREDITS.value
        resting = health.rest is not None and self.clock() < health.rest_until
        if resting:
            return "degraded", health.rest.value if health.rest else None
        if state is BreakerState.HALF_OPEN:
            return "degraded", "circuit half-open"
        window = stats.status()
        if window != "operational":
            return window, health.last_error_class
        return "operational", None

    def describe(self, name: str) -> dict[str, Any]:
        """Secret-free health facts for ``/providers``."""
        health = self[name]
        rest_left = max(0.0, health.rest_until - self.clock()) if health.rest else 0.0
        return {
            "breaker": health.breaker.state.value,
            "restingFor": round(rest_left, 1) if rest_left else None,
            "lastErrorClass": health.last_error_class,
            "requests": health.requests,
            "creditsSpent": round(health.credits_spent, 4),
        }
