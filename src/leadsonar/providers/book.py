"""One book per provider: its health, circuit breaker, quotas, usage and stats, in one object.

The waterfall asks a provider's :class:`ProviderBook` before a call (:meth:`ProviderBook.gate`:
``None`` means go, otherwise why it is skipped) and tells it once how the call went
(:meth:`ProviderBook.record` with a :class:`CallRecord`); HTTP adapters hold a quota slot around
each request (:meth:`ProviderBooks.slot`). What lives where:

======================  ======================================  ==============================
part                    one process (``memory://``)             ``LEADSONAR_RATE_LIMIT_STORAGE``
                                                                 = ``redis://…``
======================  ======================================  ==============================
breaker, rests          :class:`~.health.LocalHealth`           one Redis hash per provider
                                                                 (:class:`~.health.RedisHealth`)
rate windows, quotas    ``limits`` in memory                    ``limits`` in Redis
concurrency cap         ``asyncio.Semaphore``                   Redis semaphore with leases
stats, usage deltas     this process                            this process (usage is summed
                                                                 in ``provider_usage``)
======================  ======================================  ==============================

Built-in providers (``known``, ``website``, ``smtp``) keep their health in the process even with
Redis: what fails them (this process's database, DNS or outbound SMTP) is the process's own.

Status on ``/providers`` comes from the health (bad key → ``down``, open circuit → ``down``, out
of credits, resting or half-open → ``degraded``), then from the rolling window of this process's
recent outcomes (:class:`ProviderStats`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leadsonar.kit.ratelimit import LeaseSemaphore, LocalSemaphore, Pacer, Semaphore, redis_url
from leadsonar.providers import repository
from leadsonar.providers.base import CallContext, ErrorClass, Outcome, ProviderError
from leadsonar.providers.health import (
    BreakerMove,
    BreakerState,
    Clock,
    HealthPolicy,
    HealthStore,
    HealthView,
    LocalHealth,
    RedisHealth,
    Rest,
    Verdict,
    verdict,
)
from leadsonar.providers.quotas import NAMESPACE, Quota, QuotaWait, Turn
from leadsonar.providers.repository import UsageDelta
from leadsonar.providers.schemas import ProviderCallStats, ProviderLimits

if TYPE_CHECKING:
    from leadsonar.kit.db import Database

log = logging.getLogger(__name__)

WINDOW = 50  # outcomes kept per provider for /providers
QUOTA_REST = 60.0  # a full window that frees later than this is a spent quota: rest until then
KEY_PREFIX = "leadsonar:provider"


@dataclass(frozen=True)
class CallRecord:
    """One provider call, as the waterfall saw it.

    Attributes:
        fld: the field looked up, ``email`` or ``phone``.
        seconds: wall time the call took (queueing included).
        found: it returned a finding.
        error: what it raised, or None.
        timed_out: the waterfall's budget for it ran out.
        context: the call's context: credits spent, requests sent, time queued, rate-limit hints.
    """

    fld: str
    seconds: float
    found: bool = False
    error: BaseException | None = None
    timed_out: bool = False
    context: CallContext = field(default_factory=CallContext)


@dataclass(frozen=True)
class Recorded:
    """What :meth:`ProviderBook.record` made of a call: the attempt's outcome and error class."""

    outcome: Outcome
    error_class: str | None = None


@dataclass
class FieldStats:
    """Calls and hits of one provider for one field (what ``auto`` ranks by)."""

    calls: int = 0
    hits: int = 0


@dataclass
class ProviderStats:
    """Recent outcomes of one provider in this process (latencies in seconds).

    The totals (``calls``, ``hits``, …) cover every field and are what ``/providers`` shows;
    ``fields`` keeps calls and hits per field, so ``auto`` ranks a provider's email answers by
    its email lookups only (a provider good at phones is not thereby ranked high for emails).
    """

    calls: int = 0
    hits: int = 0
    misses: int = 0
    errors: int = 0
    timeouts: int = 0
    last_error_class: str | None = None
    last_error_at: float | None = None
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=WINDOW))
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))
    fields: dict[str, FieldStats] = field(default_factory=dict)

    def record(
        self,
        outcome: str,
        latency: float,
        error_class: str | None = None,
        *,
        fld: str | None = None,
    ) -> None:
        """Count one call; ``outcome`` is ``hit``, ``miss``, ``error`` or ``timeout``; ``fld``
        is the field looked up (``email``/``phone``), counted apart as well when given."""
        self.calls += 1
        self.recent.append(outcome)
        self.latencies.append(latency)
        if fld is not None:
            counts = self.fields.setdefault(fld, FieldStats())
            counts.calls += 1
            counts.hits += int(outcome == "hit")
        if outcome == "hit":
            self.hits += 1
        elif outcome == "miss":
            self.misses += 1
        else:
            self.errors += 1
            if outcome == "timeout":
                self.timeouts += 1
            self.last_error_class = error_class or outcome
            self.last_error_at = time.time()

    def for_field(self, fld: str) -> FieldStats:
        """Calls and hits of lookups of ``fld`` (zero when none yet)."""
        return self.fields.get(fld) or FieldStats()

    def status(self) -> str:
        """``down`` if most recent calls failed, ``degraded`` if some did, else ``operational``."""
        if not self.recent:
            return "operational"
        failed = sum(1 for o in self.recent if o in ("error", "timeout"))
        share = failed / len(self.recent)
        if len(self.recent) >= 3 and share >= 0.8:
            return "down"
        if share >= 0.2:
            return "degraded"
        return "operational"

    def latency_ms(self, quantile: float) -> int | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, round(quantile * (len(ordered) - 1)))
        return int(ordered[index] * 1000)


class ProviderBook:
    """Everything LeadSonar knows and enforces about one provider.

    Args:
        name: the provider's name.
        health: where its breaker and rests live.
        policy: breaker and rest settings.

    Attributes:
        stats: this process's recent outcomes.
        quotas: its quota buckets (its name, and e.g. ``hunter.verify``).
        pending: usage counted since the last write to ``provider_usage``.
        credits_spent: provider-side credits spent, the stored totals included.
        requests: HTTP requests sent to the provider by this process.
    """

    def __init__(self, name: str, health: HealthStore, policy: HealthPolicy) -> None:
        self.name = name
        self.health = health
        self.policy = policy
        self.stats = ProviderStats()
        self.quotas: dict[str, Quota] = {}
        self.pending = UsageDelta()
        self.credits_spent = 0.0
        self.requests = 0

    async def gate(self) -> str | None:
        """``None`` if the provider may be called now, else why not (``throttled``, ``out of
        credits``, ``bad key``, ``quota spent``, ``circuit open``). A ``None`` from a
        half-open breaker takes the single probe: :meth:`record` or :meth:`release` must
        follow."""
        return await self.health.gate()

    async def release(self) -> None:
        """The call :meth:`gate` allowed ended without a verdict (cancelled)."""
        await self.health.release()

    async def record(self, call: CallRecord) -> Recorded:
        """Record one call, once: stats, usage, credits and requests, and its verdict on the
        provider's health (breaker, rests).

        A call that never reached the provider — its deadline came while it queued for our own
        slot, or its windows had no room before the deadline (:class:`QuotaWait`) — is
        ``skipped`` (``queue``): no verdict, not counted as a call. A window that frees only in
        more than a minute (a daily or monthly quota spent) rests the provider until then
        (``quota spent``), so lookups skip it without asking the windows again.
        """
        context = call.context
        self.requests += context.requests
        self.credits_spent += context.spent
        waited = isinstance(call.error, QuotaWait) or (call.timed_out and context.waiting)
        if waited:
            if context.spent:
                self.pending.add(UsageDelta(cost=context.spent))
            if isinstance(call.error, QuotaWait) and call.error.reset_in >= QUOTA_REST:
                await self.health.apply(
                    Verdict(BreakerMove.RELEASE, Rest.QUOTA_SPENT, call.error.reset_in)
                )
                return Recorded(Outcome.SKIPPED, Rest.QUOTA_SPENT.value)
            await self.health.release()
            return Recorded(Outcome.SKIPPED, ErrorClass.QUEUE)
        if call.timed_out:
            outcome, error_class = Outcome.TIMEOUT, ErrorClass.TIMEOUT
        elif call.error is not None:
            error = call.error
            outcome = Outcome.ERROR
            error_class = (
                error.error_class if isinstance(error, ProviderError) else ErrorClass.INTERNAL
            )
        else:
            outcome, error_class = (Outcome.HIT if call.found else Outcome.MISS), None
        self.stats.record(outcome.value, call.seconds, error_class, fld=call.fld)
        self.pending.add(
            UsageDelta(
                calls=1,
                hits=int(outcome is Outcome.HIT),
                errors=int(outcome in (Outcome.ERROR, Outcome.TIMEOUT)),
                cost=context.spent,
            )
        )
        await self.health.apply(
            verdict(call.error, self.policy, timed_out=call.timed_out, context=context)
        )
        return Recorded(outcome, error_class)

    @staticmethod
    def status(view: HealthView, stats: ProviderStats) -> tuple[str, str | None]:
        """``(status, reason)`` for ``/providers``: ``down`` for a rejected key or an open
        circuit, ``degraded`` when out of credits, resting or half-open, then from the rolling
        window of recent outcomes."""
        if view.condition is Rest.BAD_KEY:
            return "down", Rest.BAD_KEY.value
        if view.breaker is BreakerState.OPEN:
            return "down", "circuit open"
        if view.condition is Rest.OUT_OF_CREDITS:
            return "degraded", Rest.OUT_OF_CREDITS.value
        if view.rest is not None:
            return "degraded", view.rest.value
        if view.breaker is BreakerState.HALF_OPEN:
            return "degraded", "circuit half-open"
        window = stats.status()
        if window != "operational":
            return window, view.last_error_class or stats.last_error_class
        return "operational", None

    def limits(self) -> ProviderLimits:
        """Its own bucket's rate windows and cap."""
        return _limits(self.quotas.get(self.name))

    def call_stats(self, view: HealthView) -> ProviderCallStats:
        stats = self.stats
        return ProviderCallStats(
            calls=stats.calls,
            hits=stats.hits,
            misses=stats.misses,
            errors=stats.errors,
            timeouts=stats.timeouts,
            requests=self.requests,
            lastErrorClass=view.last_error_class or stats.last_error_class,
            latencyP50Ms=stats.latency_ms(0.5),
            latencyP95Ms=stats.latency_ms(0.95),
            creditsSpent=round(self.credits_spent, 4),
        )


def _limits(quota: Quota | None) -> ProviderLimits:
    """A bucket's rate windows and cap for ``/providers`` (both ``None`` without limits)."""
    rate, cap = quota.describe() if quota is not None else (None, None)
    return ProviderLimits(rate=rate, concurrency=cap)


@contextlib.asynccontextmanager
async def _no_slot() -> AsyncIterator[Turn | None]:
    yield None


class ProviderBooks:
    """Every provider's book, their shared storage and the usage writer.

    Implements the quota port HTTP adapters are built with (:meth:`configure`, :meth:`slot`).

    Args:
        storage_uri: ``LEADSONAR_RATE_LIMIT_STORAGE``: ``memory://`` or ``redis://…``; a URI
            naming one Redis server also shares breakers, rests and concurrency caps.
        policy: breaker and rest settings.
        db: where usage totals are kept (``provider_usage``); None keeps them in memory.
        flush_every: seconds between two writes of usage at most.
        lease: seconds a shared concurrency slot is held without renewal (a killed process's
            slots free after this).
        margin: seconds added after a rate window's edge (see :class:`Pacer`).
        clock: monotonic seconds for local health (injectable for tests).
    """

    def __init__(
        self,
        storage_uri: str = "memory://",
        policy: HealthPolicy | None = None,
        *,
        db: Database | None = None,
        flush_every: float = 2.0,
        lease: float = 30.0,
        margin: float = 0.05,
        clock: Clock = time.monotonic,
    ) -> None:
        self.policy = policy or HealthPolicy()
        self.db = db
        self.flush_every = flush_every
        self.lease = lease
        self.clock = clock
        url = redis_url(storage_uri)
        self.redis: Any = None
        if url is not None:
            from redis.asyncio import Redis

            self.redis = Redis.from_url(url, decode_responses=True)
        self.pacer = Pacer(storage_uri, NAMESPACE, margin, self.redis)
        self._books: dict[str, ProviderBook] = {}
        self._quotas: dict[str, Quota] = {}
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Any, db: Database | None = None) -> ProviderBooks:
        """Books with ``LEADSONAR_RATE_LIMIT_STORAGE`` and the breaker/cooldown settings."""
        return cls(settings.rate_limit_storage, HealthPolicy.from_settings(settings), db=db)

    # -- the books ---------------------------------------------------------------------

    def register(self, name: str, kind: str = "builtin") -> ProviderBook:
        """The book of provider ``name`` (made on first call). Its health is shared through
        Redis when the storage is Redis and the provider is remote (``kind`` not
        ``builtin``)."""
        book = self._books.get(name)
        if book is None:
            health: HealthStore
            if self.redis is not None and kind != "builtin":
                health = RedisHealth(self.redis, f"{KEY_PREFIX}:{name}:health", self.policy)
            else:
                health = LocalHealth(self.policy, self.clock)
            book = ProviderBook(name, health, self.policy)
            book.quotas = {b: q for b, q in self._quotas.items() if _owner(b) == name}
            self._books[name] = book
        return book

    def __getitem__(self, name: str) -> ProviderBook:
        return self.register(name)

    def __contains__(self, name: object) -> bool:
        return name in self._books

    def stats(self) -> Mapping[str, ProviderStats]:
        """Each provider's stats, by name (what ``auto`` ranks by)."""
        return {name: book.stats for name, book in self._books.items()}

    # -- the quota port ----------------------------------------------------------------

    def configure(self, name: str, rates: str | None, concurrency: int | None) -> None:
        """Set bucket ``name``'s limits: ``rates`` in ``limits`` syntax (``"15/second,
        500/minute,300/day"``, empty or None for none) and ``concurrency`` requests in flight
        (None for no cap). A bucket ``hunter.verify`` belongs to provider ``hunter``'s book.

        Raises:
            ValueError: ``rates`` is not ``limits`` syntax or ``concurrency`` < 1.
        """
        items = Quota.parse(name, rates, concurrency)
        semaphore: Semaphore | None = None
        if concurrency is not None:
            if self.redis is not None:
                key = f"{KEY_PREFIX}:{name}:slots"
                semaphore = LeaseSemaphore(self.redis, key, concurrency, self.lease)
            else:
                semaphore = LocalSemaphore(concurrency)
        quota = Quota(name, items, semaphore, self.pacer)
        self._quotas[name] = quota
        owner = self._books.get(_owner(name))
        if owner is not None:
            owner.quotas[name] = quota

    def slot(
        self, name: str, call: CallContext | None = None
    ) -> AbstractAsyncContextManager[Turn | None]:
        """Hold one of bucket ``name``'s request slots for the block (see :meth:`Quota.slot`).

        Raises:
            QuotaWait: the bucket's windows have no room before ``call.until``.
        """
        quota = self._quotas.get(name)
        return quota.slot(call) if quota is not None else _no_slot()

    def describe(self, name: str) -> dict[str, object]:
        """``{"rate": "15 per 1 second, …", "concurrency": 5}`` of bucket ``name``."""
        return _limits(self._quotas.get(name)).model_dump()

    # -- usage across restarts ---------------------------------------------------------

    async def open(self) -> None:
        """Read the stored usage (credits spent count toward each book's total) and start
        writing usage every ``flush_every`` seconds in the background, off the requests'
        path."""
        if self.db is None:
            return
        async with self.db.read_session() as session:
            stored = await repository.load_usage(session)
        for name, totals in stored.items():
            self.register(name).credits_spent += totals.cost
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_forever(), name="leadsonar-usage")

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            await self.flush()

    async def flush(self) -> None:
        """Write pending usage as increments; on failure it stays pending for the next try."""
        if self.db is None:
            return
        pending: dict[str, UsageDelta] = {}
        for name, book in self._books.items():
            if book.pending.calls or book.pending.cost:
                pending[name], book.pending = book.pending, UsageDelta()
        if not pending:
            return
        try:
            async with self.db.session() as session:
                await repository.add_usage(session, pending)
        except Exception:
            log.warning("provider usage could not be saved; it is kept for the next try")
            for name, delta in pending.items():
                self._books[name].pending.add(delta)

    async def stop_writing(self) -> None:
        """Stop the background usage writer and write what is pending."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush()

    async def aclose(self) -> None:
        """Stop the usage writer, write what is pending, close the Redis client."""
        await self.stop_writing()
        if self.redis is not None:
            await self.redis.aclose()


def _owner(bucket: str) -> str:
    """The provider a quota bucket belongs to (``hunter.verify`` → ``hunter``)."""
    return bucket.split(".", 1)[0]
