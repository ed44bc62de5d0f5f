"""One provider's book (:mod:`leadsonar.providers.book`): breaker transitions, rests, quotas
and the concurrency cap, each call recorded once — in one process, on a fake clock."""

from __future__ import annotations

import asyncio
import time

import pytest

from leadsonar.providers.base import (
    CallContext,
    ProviderAuthError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    ProviderUnavailable,
)
from leadsonar.providers.book import CallRecord, Outcome, ProviderBook, ProviderBooks
from leadsonar.providers.health import BreakerState, HealthPolicy
from leadsonar.providers.http.base import ProviderRejectedRequest
from leadsonar.providers.quotas import QuotaWait

pytestmark = pytest.mark.asyncio

POLICY = HealthPolicy(
    failure_threshold=2,
    reset_timeout=30,
    throttle_cooldown=10,
    quota_cooldown=300,
    auth_cooldown=600,
    probe_lease=60,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _book(clock: Clock, policy: HealthPolicy = POLICY) -> ProviderBook:
    return ProviderBooks(policy=policy, clock=clock).register("p", "http")


def _failed(error: BaseException | None = None, *, timed_out: bool = False) -> CallRecord:
    return CallRecord("email", 0.1, error=error or ProviderUnavailable("5xx"), timed_out=timed_out)


def _ok(found: bool = True, context: CallContext | None = None) -> CallRecord:
    return CallRecord("email", 0.1, found=found, context=context or CallContext())


async def _status(book: ProviderBook) -> tuple[str, str | None]:
    return book.status(await book.health.view(), book.stats)


async def test_breaker_opens_after_consecutive_failures_and_half_opens_later() -> None:
    clock = Clock()
    book = _book(clock, HealthPolicy(failure_threshold=3, reset_timeout=30, probe_lease=60))
    for _ in range(2):
        assert await book.gate() is None
        await book.record(_failed())
    assert (await book.health.view()).breaker is BreakerState.CLOSED
    await book.record(_ok())  # a success resets the count
    for _ in range(3):
        await book.record(_failed())
    assert (await book.health.view()).breaker is BreakerState.OPEN
    assert await book.gate() == "circuit open"
    clock.now += 30
    assert (await book.health.view()).breaker is BreakerState.HALF_OPEN
    assert await book.gate() is None  # the one probe
    assert await book.gate() == "circuit open"  # no second probe while the first runs
    await book.record(_failed())  # the probe failed: open for a full period again
    assert (await book.health.view()).breaker is BreakerState.OPEN
    clock.now += 29
    assert await book.gate() == "circuit open"
    clock.now += 1
    assert await book.gate() is None
    await book.record(_ok())
    assert (await book.health.view()).breaker is BreakerState.CLOSED
    assert await book.gate() is None


async def test_a_cancelled_probe_frees_the_half_open_slot_and_a_lost_one_expires() -> None:
    clock = Clock()
    book = _book(clock, HealthPolicy(failure_threshold=1, reset_timeout=5, probe_lease=20))
    await book.record(_failed())
    clock.now += 5
    assert await book.gate() is None
    await book.release()
    assert await book.gate() is None  # released: the next caller probes
    assert await book.gate() == "circuit open"
    clock.now += 20  # the prober vanished (a killed process): its lease ran out
    assert await book.gate() is None


async def test_throttle_rests_for_retry_after_or_the_cooldown() -> None:
    clock = Clock()
    book = _book(clock)
    await book.record(_failed(ProviderThrottled("slow down", retry_after=3)))
    assert await book.gate() == "throttled"
    assert await _status(book) == ("degraded", "throttled")
    clock.now += 3
    assert await book.gate() is None
    await book.record(_failed(ProviderThrottled("slow down")))  # no Retry-After: the cooldown
    clock.now += 9
    assert await book.gate() == "throttled"
    clock.now += 1
    assert await book.gate() is None
    view = await book.health.view()
    assert view.breaker is BreakerState.CLOSED  # throttling is not a breaker failure


async def test_out_of_credits_is_degraded_and_skipped_until_a_probe_succeeds() -> None:
    clock = Clock()
    book = _book(clock)
    await book.record(_failed(ProviderQuotaExceeded("no credits")))
    assert await book.gate() == "out of credits"
    assert await _status(book) == ("degraded", "out of credits")
    clock.now += 300
    assert await book.gate() is None  # one probe after the cooldown
    assert await _status(book) == ("degraded", "out of credits")
    await book.record(_ok())  # the probe answered: recovered
    assert (await book.health.view()).condition is None
    for _ in range(4):  # the rolling window forgets the failure as calls succeed
        await book.record(_ok())
    assert await _status(book) == ("operational", None)


async def test_bad_key_is_down_with_reason_bad_key() -> None:
    book = _book(Clock())
    recorded = await book.record(_failed(ProviderAuthError("rejected")))
    assert (recorded.outcome, recorded.error_class) == (Outcome.ERROR, "bad key")
    assert await _status(book) == ("down", "bad key")
    assert await book.gate() == "bad key"
    assert book.call_stats(await book.health.view()).lastErrorClass == "bad key"


async def test_failures_open_the_circuit_and_status_is_down() -> None:
    clock = Clock()
    book = _book(clock)
    await book.record(_failed(timed_out=True))
    await book.record(_failed())
    assert await book.gate() == "circuit open"
    assert await _status(book) == ("down", "circuit open")
    clock.now += 30
    assert await _status(book) == ("degraded", "circuit half-open")
    assert await book.gate() is None
    assert await book.gate() == "circuit open"  # only one probe at a time


async def test_each_call_is_recorded_once_in_stats_usage_credits_and_requests() -> None:
    clock = Clock()
    book = _book(clock)
    await book.record(_ok(context=CallContext(spent=2.0, requests=3, rest_for=5.0)))
    await book.record(_ok(found=False, context=CallContext(spent=1.5, requests=1)))
    await book.record(_failed(timed_out=True))
    stats = book.call_stats(await book.health.view())
    assert (stats.calls, stats.hits, stats.misses, stats.timeouts) == (3, 1, 1, 1)
    assert (stats.creditsSpent, stats.requests) == (3.5, 4)
    assert (book.pending.calls, book.pending.hits, book.pending.errors) == (3, 1, 1)
    assert book.pending.cost == 3.5
    assert await book.gate() == "throttled"  # the provider said its window is spent
    clock.now += 5
    assert await book.gate() is None


async def test_status_falls_back_to_the_rolling_window() -> None:
    book = _book(Clock())
    for outcome in ("hit", "miss", "error", "hit", "miss"):
        book.stats.record(outcome, 0.1, "server error" if outcome == "error" else None)
    assert (await _status(book))[0] == "degraded"
    healthy = _book(Clock())
    healthy.stats.record("hit", 0.1)
    assert await _status(healthy) == ("operational", None)


async def test_a_rejected_request_is_no_verdict_on_the_provider() -> None:
    book = _book(Clock())
    for _ in range(5):
        await book.record(_failed(ProviderRejectedRequest("400")))
    assert await book.gate() is None
    assert (await book.health.view()).last_error_class == "bad request"


async def test_a_deadline_reached_in_our_own_queue_is_skipped_not_a_timeout() -> None:
    book = _book(Clock())
    waited = CallRecord("email", 1.0, timed_out=True, context=CallContext(waiting=True))
    for _ in range(3):
        assert await book.record(waited) == (await book.record(waited))
    recorded = await book.record(waited)
    assert (recorded.outcome, recorded.error_class) == (Outcome.SKIPPED, "queue")
    assert book.stats.calls == 0 and book.pending.calls == 0
    assert await book.gate() is None  # never fed the breaker


async def test_a_spent_daily_quota_skips_at_once_and_rests_the_provider() -> None:
    books = ProviderBooks(policy=POLICY)
    name = f"daily-{time.monotonic_ns()}"
    books.configure(name, "2/day", None)
    book = books.register(name, "http")
    for _ in range(2):
        async with books.slot(name, CallContext(until=time.monotonic() + 5)):
            pass
    context = CallContext(until=time.monotonic() + 5)
    with pytest.raises(QuotaWait) as raised:
        async with books.slot(name, context):
            pass
    assert raised.value.reset_in > 86_000  # a day's window, told at once, never slept on
    recorded = await book.record(CallRecord("email", 0.0, error=raised.value, context=context))
    assert (recorded.outcome, recorded.error_class) == (Outcome.SKIPPED, "quota spent")
    assert await book.gate() == "quota spent"
    assert await _status(book) == ("degraded", "quota spent")
    assert book.limits().rate == "2 per 1 day"


async def test_rate_window_spaces_requests() -> None:
    books = ProviderBooks()
    books.configure("p", "5/second", None)
    stamps: list[float] = []

    async def one() -> None:
        async with books.slot("p") as turn:
            assert turn is not None
            await turn.take()  # what the request's send hook does (httpx trace extension)
            stamps.append(time.time())

    await asyncio.gather(*(one() for _ in range(12)))
    stamps.sort()
    # a moving window: never more than 5 starts within any second
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 1.0


async def test_concurrency_cap_holds_requests_in_flight() -> None:
    books = ProviderBooks()
    books.configure("p", None, 2)
    running = peak = 0

    async def one() -> None:
        nonlocal running, peak
        async with books.slot("p"):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    await asyncio.gather(*(one() for _ in range(8)))
    assert peak == 2


async def test_queueing_is_flagged_as_our_own_wait() -> None:
    books = ProviderBooks()
    books.configure("p", "1/second", None)
    context = CallContext()
    async with books.slot("p", context):
        pass
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            async with books.slot("p", context):
                pass
    assert context.waiting is True  # the deadline came while queueing: not the provider's fault
    assert context.queued >= 0.09


async def test_unknown_bucket_buckets_of_a_provider_and_describe() -> None:
    books = ProviderBooks()
    async with books.slot("nobody"):
        pass
    books.configure("hunter", "15/second,500/minute", 4)
    books.configure("hunter.verify", "10/second", None)
    book = books.register("hunter", "http")
    assert set(book.quotas) == {"hunter", "hunter.verify"}
    assert books.describe("hunter") == {
        "rate": "15 per 1 second, 500 per 1 minute",
        "concurrency": 4,
    }
    assert book.limits().concurrency == 4
    with pytest.raises(ValueError):
        books.configure("q", "fast please", None)
    with pytest.raises(ValueError):
        books.configure("q", None, 0)
