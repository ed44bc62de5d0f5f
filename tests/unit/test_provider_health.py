"""The circuit breaker state machine and the `/providers` status rules of
:mod:`leadsonar.providers.health`, on a fake clock."""

from __future__ import annotations

from leadsonar.providers.base import (
    CallContext,
    ProviderAuthError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    ProviderUnavailable,
)
from leadsonar.providers.health import BreakerState, CircuitBreaker, HealthBook
from leadsonar.providers.registry import ProviderStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_half_opens_later() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=30, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_success()  # a success resets the count
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # no second probe while the first runs
    breaker.record_failure()  # the probe failed: open for a full period again
    assert breaker.state is BreakerState.OPEN
    clock.now += 29
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_a_cancelled_probe_frees_the_half_open_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def _book(clock: Clock) -> HealthBook:
    return HealthBook(
        ["p"],
        failure_threshold=2,
        reset_timeout=30,
        throttle_cooldown=10,
        quota_cooldown=300,
        auth_cooldown=600,
        clock=clock,
    )


def test_throttle_rests_for_retry_after_or_the_cooldown() -> None:
    clock = Clock()
    book = _book(clock)
    book.record("p", ProviderThrottled("slow down", retry_after=3))
    assert book.gate("p") == "throttled"
    assert book.status("p", ProviderStats()) == ("degraded", "throttled")
    clock.now += 3
    assert book.gate("p") is None
    book.record("p", ProviderThrottled("slow down"))  # no Retry-After: the cooldown
    clock.now += 9
    assert book.gate("p") == "throttled"
    clock.now += 1
    assert book.gate("p") is None
    assert book["p"].breaker.state is BreakerState.CLOSED  # throttling is not a breaker failure


def test_out_of_credits_is_degraded_and_skipped_until_a_probe_succeeds() -> None:
    clock = Clock()
    book = _book(clock)
    book.record("p", ProviderQuotaExceeded("no credits"))
    assert book.gate("p") == "out of credits"
    assert book.status("p", ProviderStats()) == ("degraded", "out of credits")
    clock.now += 300
    assert book.gate("p") is None  # one probe after the cooldown
    assert book.status("p", ProviderStats()) == ("degraded", "out of credits")
    book.record("p", None)  # the probe answered: recovered
    assert book.status("p", ProviderStats()) == ("operational", None)


def test_bad_key_is_down_with_reason_bad_key() -> None:
    clock = Clock()
    book = _book(clock)
    book.record("p", ProviderAuthError("rejected"))
    assert book.status("p", ProviderStats()) == ("down", "bad key")
    assert book.gate("p") == "bad key"
    assert book.describe("p")["lastErrorClass"] == "bad key"


def test_failures_open_the_circuit_and_status_is_down() -> None:
    clock = Clock()
    book = _book(clock)
    book.record("p", None, timed_out=True)
    book.record("p", ProviderUnavailable("5xx"))
    assert book.gate("p") == "circuit open"
    assert book.status("p", ProviderStats()) == ("down", "circuit open")
    clock.now += 30
    assert book.gate("p") is None
    assert book.gate("p") == "circuit open"  # only one probe at a time


def test_credits_and_requests_are_counted_and_a_spent_window_rests() -> None:
    clock = Clock()
    book = _book(clock)
    book.record("p", None, context=CallContext(spent=2.0, requests=3, rest_for=5.0))
    book.record("p", None, context=CallContext(spent=1.5, requests=1))
    described = book.describe("p")
    assert described["creditsSpent"] == 3.5 and described["requests"] == 4
    assert book.gate("p") == "throttled"  # the provider said its window is spent
    clock.now += 5
    assert book.gate("p") is None


def test_status_falls_back_to_the_rolling_window() -> None:
    book = _book(Clock())
    stats = ProviderStats()
    for outcome in ("hit", "miss", "error", "hit", "miss"):
        stats.record(outcome, 0.1, "server error" if outcome == "error" else None)
    assert book.status("p", stats)[0] == "degraded"
    healthy = ProviderStats()
    healthy.record("hit", 0.1)
    assert book.status("p", healthy) == ("operational", None)


def test_a_rejected_request_is_no_verdict_on_the_provider() -> None:
    from leadsonar.providers.http.base import ProviderRejectedRequest

    book = _book(Clock())
    for _ in range(5):
        book.record("p", ProviderRejectedRequest("400"))
    assert book.gate("p") is None
    assert book.describe("p")["lastErrorClass"] == "bad request"
