"""The waterfall's cost-aware stop rule, health gates, ``auto`` order and timeouts, with the
in-package scripted provider fake (no network, no database)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderAuthError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    Verification,
)
from leadsonar.providers.registry import ProviderRegistry, parse_order
from leadsonar.testing.providers import Pause, ScriptedProvider, found
from leadsonar.waterfall.cache import cacheable
from leadsonar.waterfall.engine import Waterfall, rank_auto

pytestmark = pytest.mark.asyncio

ALEX = Person("Alex", "Johnson")
NOTION = Company("notion.so", "Notion")
EMAIL = "alex.johnson@notion.so"


def waterfall(
    *providers: ScriptedProvider, order: str | None = None, **kwargs: object
) -> Waterfall:
    names = ",".join(p.name for p in providers)
    registry = ProviderRegistry(
        {p.name: p for p in providers}, parse_order(order or f"email={names};phone=")
    )
    return Waterfall(registry, provider_timeout=1.0, deadline=5.0, **kwargs)  # type: ignore[arg-type]


async def described(flow: Waterfall) -> list[dict[str, Any]]:
    """``/providers`` rows as the wire shows them."""
    return list((await flow.registry.describe()).model_dump()["providers"])


async def test_stops_at_the_bar_and_never_pays_twice_for_an_address() -> None:
    """A medium answer from a paid provider is kept; the next paid provider (not cheaper) is
    not asked; a free one still is, and its agreement makes the answer high."""
    first = ScriptedProvider("first", cost=1.0, email=[found(EMAIL)])
    same_price = ScriptedProvider("same", cost=1.0, email=[found(EMAIL)])
    free = ScriptedProvider("free", cost=0.0, email=[found(EMAIL)])
    result = await waterfall(first, same_price, free).run("email", ALEX, NOTION)
    assert result.finding is not None and result.finding.confidence is Confidence.HIGH
    assert (first.calls["email"], same_price.calls["email"], free.calls["email"]) == (1, 0, 1)
    assert result.tried == ["first", "free"] and result.answered == ["first", "free"]
    assert result.cost == 1.0
    skipped = [a for a in result.attempts if a.outcome == "skipped"]
    assert [(a.provider, a.error_class) for a in skipped] == [("same", "answered")]


async def test_a_cheaper_provider_is_still_asked_after_a_medium_answer() -> None:
    dear = ScriptedProvider("dear", cost=3.0, email=[found(EMAIL)])
    cheap = ScriptedProvider("cheap", cost=1.0, email=[found(EMAIL)])
    result = await waterfall(dear, cheap).run("email", ALEX, NOTION)
    assert cheap.calls["email"] == 1 and result.sources == 2
    assert result.finding is not None and result.finding.confidence is Confidence.HIGH


async def test_a_low_answer_does_not_stop_the_cascade_and_bar_medium_does() -> None:
    guess = ScriptedProvider(
        "guess", cost=0.0, email=[found(EMAIL, Confidence.LOW, Verification.GUESSED)]
    )
    paid = ScriptedProvider("paid", cost=1.0, email=[found("a.johnson@notion.so")])
    after = ScriptedProvider("after", cost=1.0, email=[found("other@notion.so")])
    flow = waterfall(guess, paid, after)
    result = await flow.run("email", ALEX, NOTION, bar=Confidence.MEDIUM)
    assert result.finding is not None and result.finding.value == "a.johnson@notion.so"
    assert (paid.calls["email"], after.calls["email"]) == (1, 0)


async def test_throttled_provider_rests_and_the_cascade_goes_on() -> None:
    """FC-31 at the waterfall: a throttled provider is recorded and skipped while resting."""
    busy = ScriptedProvider("busy", cost=1.0, email=[ProviderThrottled("429", retry_after=60)])
    backup = ScriptedProvider("backup", cost=1.0, email=[found(EMAIL)])
    flow = waterfall(busy, backup)
    first = await flow.run("email", ALEX, NOTION)
    second = await flow.run("email", ALEX, NOTION)
    assert first.finding is not None and second.finding is not None
    assert busy.calls["email"] == 1  # not called again while resting
    assert (
        second.attempts[0].provider,
        second.attempts[0].outcome,
        second.attempts[0].error_class,
    ) == ("busy", "skipped", "throttled")
    rows = {row["name"]: row for row in await described(flow)}
    assert rows["busy"]["status"] == "degraded"
    assert rows["busy"]["stats"]["lastErrorClass"] == "throttled"
    assert rows["backup"]["stats"]["creditsSpent"] == 2.0


async def test_out_of_credits_and_bad_key_are_skipped_with_their_reason() -> None:
    broke = ScriptedProvider("broke", cost=1.0, email=[ProviderQuotaExceeded("402")])
    locked = ScriptedProvider("locked", cost=1.0, email=[ProviderAuthError("401")])
    flow = waterfall(broke, locked)
    await flow.run("email", ALEX, NOTION)
    again = await flow.run("email", ALEX, NOTION)
    assert [a.error_class for a in again.attempts] == ["out of credits", "bad key"]
    rows = {row["name"]: row for row in await described(flow)}
    assert (rows["broke"]["status"], rows["broke"]["reason"]) == ("degraded", "out of credits")
    assert (rows["locked"]["status"], rows["locked"]["reason"]) == ("down", "bad key")


async def test_a_timeout_is_a_timeout_and_repeated_ones_open_the_circuit() -> None:
    slow = ScriptedProvider("slow", cost=1.0, email=[Pause(5)])
    flow = waterfall(slow)
    flow.provider_timeout = 0.05
    for _ in range(5):
        result = await flow.run("email", ALEX, NOTION)
        assert result.finding is None
        assert result.attempts[0].outcome == "timeout"
    result = await flow.run("email", ALEX, NOTION)
    assert result.attempts[0].error_class == "circuit open" and slow.calls["email"] == 5
    row = (await described(flow))[0]
    assert (row["status"], row["breaker"]) == ("down", "open")


async def test_unconfigured_providers_are_never_called() -> None:
    keyless = ScriptedProvider(
        "keyless", cost=1.0, email=[found(EMAIL)], detail="missing LEADSONAR_KEYLESS_API_KEY"
    )
    result = await waterfall(keyless).run("email", ALEX, NOTION)
    assert keyless.calls["email"] == 0 and result.finding is None
    row = (await described(waterfall(keyless)))[0]
    assert (row["status"], row["reason"]) == ("unconfigured", "missing LEADSONAR_KEYLESS_API_KEY")


async def test_auto_order_ranks_free_first_then_hit_rate_per_cost() -> None:
    free = ScriptedProvider("free", cost=0.0)
    pricey = ScriptedProvider("pricey", cost=4.0, email=[found(EMAIL)])
    good = ScriptedProvider("good", cost=1.0, email=[found(EMAIL)])
    poor = ScriptedProvider("poor", cost=1.0, email=[None])
    flow = waterfall(pricey, poor, good, free, order="email=auto;phone=")
    assert flow.registry.auto == {"email"}
    assert [p.name for p in flow.chain("email")] == ["free", "poor", "good", "pricey"]
    for _ in range(4):  # observed: poor never answers, good always does
        await flow.registry.providers["poor"].find_email(ALEX, NOTION, LookupContext())
        flow.registry.books["poor"].stats.record("miss", 0.1, fld="email")
        flow.registry.books["good"].stats.record("hit", 0.1, fld="email")
    ranked = rank_auto(flow.registry.chain("email"), "email", flow.registry.books.stats())
    assert [p.name for p in ranked] == ["free", "good", "poor", "pricey"]


async def test_auto_order_ranks_each_field_by_that_fields_hits_only() -> None:
    """A provider that finds every phone but no email is not ranked high for emails: the
    waterfall counts each call under its field too, and /providers keeps the totals."""
    both = ScriptedProvider("both", cost=1.0, email=[None], phone=[found("+14155550192")])
    emails = ScriptedProvider("emails", cost=1.0, email=[found(EMAIL, Confidence.LOW), None, None])
    flow = waterfall(both, emails, order="email=both,emails;phone=both")
    for _ in range(3):
        await flow.run("email", ALEX, NOTION)  # both misses; emails answers once in three
    for _ in range(6):
        await flow.run("phone", ALEX, NOTION)  # both answers every phone
    stats = flow.registry.books.stats()
    assert (stats["both"].for_field("email").calls, stats["both"].for_field("email").hits) == (3, 0)
    assert (stats["both"].for_field("phone").calls, stats["both"].for_field("phone").hits) == (6, 6)
    assert (stats["emails"].for_field("email").hits, stats["emails"].for_field("phone").calls) == (
        1,
        0,
    )
    ranked = rank_auto([both, emails], "email", stats)  # pooled, both's 6/9 would beat 1/3
    assert [p.name for p in ranked] == ["emails", "both"]
    assert [p.name for p in rank_auto([emails, both], "phone", stats)] == ["both", "emails"]
    row = next(r for r in await described(flow) if r["name"] == "both")
    assert (row["stats"]["calls"], row["stats"]["hits"]) == (9, 6)


async def test_auto_with_names_ranks_only_those() -> None:
    a = ScriptedProvider("a", cost=2.0)
    b = ScriptedProvider("b", cost=1.0)
    c = ScriptedProvider("c", cost=1.0)
    flow = waterfall(a, b, c, order="email=auto,a,b;phone=")
    assert [p.name for p in flow.chain("email")] == ["b", "a"]


# -- free providers at once (issue 8 §6) ---------------------------------------------------


class _Crawl:
    """A free provider that stays busy until cancelled (a long website crawl)."""

    name, kind, cost = "website", "builtin", 0.0
    fields = frozenset({"email"})

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return None

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    def status_detail(self) -> str | None:
        return None


class _Probe:
    """A free provider that answers only once the crawl has started: called after the crawl
    instead of beside it, it would never run before the crawl's timeout."""

    name, kind, cost = "smtp", "builtin", 0.0
    fields = frozenset({"email"})

    def __init__(self, crawl: _Crawl) -> None:
        self.crawl = crawl

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        await self.crawl.started.wait()
        return Finding(EMAIL, Confidence.HIGH, Verification.VALID, evidence={"rcpts": 1})

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    def status_detail(self) -> str | None:
        return None


async def test_free_providers_run_at_once_and_a_verified_answer_ends_the_rest() -> None:
    crawl = _Crawl()
    probe = _Probe(crawl)
    paid = ScriptedProvider("paid", cost=1.0, email=[found(EMAIL)])
    registry = ProviderRegistry(
        {"website": crawl, "smtp": probe, "paid": paid},  # type: ignore[dict-item]
        parse_order("email=website,smtp,paid;phone="),
    )
    result = await Waterfall(registry, provider_timeout=30.0, deadline=60.0).run(
        "email", ALEX, NOTION
    )
    assert result.finding is not None and result.finding.confidence is Confidence.HIGH
    assert crawl.cancelled  # still crawling when the prober's high answer came back
    assert [(a.provider, a.outcome, a.error_class) for a in result.attempts] == [
        ("website", "skipped", "answered"),  # chain order, whatever order the calls ended in
        ("smtp", "hit", None),
    ]
    assert paid.calls["email"] == 0  # the stop rule still spares the paid provider


async def test_free_findings_merge_in_chain_order_and_paid_ones_still_wait_their_turn() -> None:
    slow = ScriptedProvider("known", email=[Pause(0.05), found(EMAIL)], kind="builtin")
    fast = ScriptedProvider("website", email=[found(EMAIL)], kind="builtin")
    paid = ScriptedProvider("paid", cost=1.0, email=[found("other@notion.so")])
    result = await waterfall(slow, fast, paid).run("email", ALEX, NOTION)
    assert result.tried == ["known", "website"]  # two agreeing mediums make high: no paid call
    assert result.sources == 2 and result.finding is not None
    assert result.finding.confidence is Confidence.HIGH
    assert result.finding.provider == "known"  # the earlier provider in the chain leads
    assert paid.calls["email"] == 0


async def test_a_lookup_a_provider_asked_to_retry_is_provisional_and_not_cached() -> None:
    greylisted = Finding(
        EMAIL, Confidence.LOW, Verification.GREYLISTED, evidence={"retryAfter": 65.0}
    )
    prober = ScriptedProvider("smtp", email=[greylisted], kind="builtin")
    website = ScriptedProvider("website", email=[found("a.johnson@notion.so")], kind="builtin")
    result = await waterfall(website, prober).run("email", ALEX, NOTION)
    assert result.finding is not None and result.finding.confidence is Confidence.MEDIUM
    assert result.provisional
    assert not cacheable(result)


class _Noting(ScriptedProvider):
    """A free provider that finds nothing and says why after ``delay`` seconds."""

    def __init__(self, name: str, delay: float) -> None:
        super().__init__(name, kind="builtin")
        self.delay = delay

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        await asyncio.sleep(self.delay)
        ctx.note(f"{self.name} says no")
        return None


async def test_concurrent_free_providers_leave_their_notes_in_chain_order() -> None:
    """The free providers run at once; the first in the chain ends last, yet the notes (and so
    the answer's reason, the last note) follow the chain's order, not the finishing order."""
    result = await waterfall(_Noting("slow", 0.2), _Noting("fast", 0.0)).run("email", ALEX, NOTION)
    assert result.finding is None
    assert result.notes == ["slow says no", "fast says no"]


class NullMxProber(ScriptedProvider):
    """A free prober that finds the domain's null MX (RFC 7505) and says so in the lookup's
    mailbox facts, as the SMTP prober does."""

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        ctx.mailbox_fact(f"@{company.domain}", "refuted", f"{company.domain} has a null MX")
        return await self._next("email", ctx)


async def test_a_domain_that_takes_no_mail_ends_the_email_lookup() -> None:
    """Once the prober proved a null MX, the slow crawl still running is cancelled (``no
    mail``) and the paid provider after it is not asked: no address there could be kept."""
    crawl = ScriptedProvider("crawl", cost=0.0, email=[Pause(30.0), found(EMAIL)])
    prober = NullMxProber("prober", cost=0.0)
    paid = ScriptedProvider("paid", cost=1.0, email=[found(EMAIL)])
    flow = waterfall(crawl, prober, paid)
    flow.deadline = flow.provider_timeout = 60.0  # only the stop rule can end the crawl early
    result = await asyncio.wait_for(flow.run("email", ALEX, NOTION), timeout=10)
    assert result.finding is None
    assert paid.calls["email"] == 0
    skipped = [(a.provider, a.error_class) for a in result.attempts if a.outcome == "skipped"]
    assert skipped == [("crawl", "no mail"), ("paid", "no mail")]
