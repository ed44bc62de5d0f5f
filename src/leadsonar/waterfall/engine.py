"""The waterfall: ask providers in order until one answer is good enough, then merge.

Rules (DESIGN.md §2–3, issue 5 §5):

- **Order.** Providers are tried in the configured order for the field (``LEADSONAR_PROVIDERS``);
  a field ordered ``auto`` ranks them by :func:`rank_auto`: free providers first, then the best
  observed hit rate per unit of cost.
- **Budgets.** Each provider gets at most ``provider_timeout`` seconds and the whole lookup at
  most ``lookup_deadline`` seconds. A provider that times out is a *timeout*, never "not found";
  time spent queueing for our own rate-limit slot is not held against the provider.
- **Free providers at once.** Consecutive free providers (``known``, ``website``, ``smtp``) do
  not depend on each other's answers, so they are called concurrently (the prober probes while
  the crawl runs) and merged in chain order; once the findings in hand meet the bar, the calls
  still running are cancelled (a crawl goes on in the background for later lookups). Paid
  providers are asked one at a time after them, under the rules below.
- **Stop rule.** The cascade stops at the first merged answer that meets the request's bar
  (default ``high``, ``LEADSONAR_CONFIDENCE_BAR``), and an e-mail lookup as soon as the domain
  is proved to take no mail (null MX, RFC 7505: no address found there could be kept). Once
  a ``medium`` answer is in hand it is kept and only providers that are free, or cheaper than
  the one that answered, are still asked — so no provider is paid for an address already
  found.
- **Health.** A provider that is resting (throttled, out of credits, bad key, quota spent) or
  whose circuit is open is skipped; each call is recorded once in the provider's book
  (:class:`~leadsonar.providers.book.ProviderBook`: outcome, latency, credits, breaker, usage
  persisted in ``provider_usage``), shared across processes through Redis when configured.
- **Merge.** Findings that agree on a value are merged: ``sources`` counts the independent ones,
  and two independent agreeing findings of at least ``medium`` make the answer ``high``.
- **The company's line is not the person's.** A phone finding of kind ``office`` (a
  switchboard, a main line, a provider's ``work_hq`` number) never becomes the answer: it is
  kept as :attr:`WaterfallResult.company_phone` and the cascade goes on for the person's own
  number; a finding may also name the company's line in ``evidence["company_phone"]``. A
  finding whose number is a known company line (another source's ``office``) is dropped.
- **Knowledge.** Providers record what they learn about domains into the lookup's
  ``ctx.learned`` instead of writing; :meth:`Waterfall.run` persists it once, in one write
  transaction, when the providers are done (:mod:`leadsonar.domains.knowledge`).
- **Cache.** An identical lookup within ``LEADSONAR_LOOKUP_CACHE_TTL`` seconds is answered from
  the ``lookup_cache`` table without calling any provider (:mod:`leadsonar.waterfall.cache`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leadsonar.domains.names import local_part_fit
from leadsonar.providers.base import (
    Company,
    Confidence,
    ErrorClass,
    Finding,
    LookupContext,
    Outcome,
    Person,
    ProbeStats,
    Provider,
    ProviderError,
)
from leadsonar.providers.book import CallRecord, ProviderStats
from leadsonar.providers.registry import ProviderRegistry
from leadsonar.waterfall.cache import LookupCacheStore, cache_key

if TYPE_CHECKING:
    from leadsonar.config import Settings
    from leadsonar.kit.db import Database

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    """One provider within a lookup.

    Attributes:
        provider: its name.
        outcome: ``hit``, ``miss``, ``error``, ``timeout`` or ``skipped``.
        seconds: time spent on it.
        error_class: why it failed or was skipped (``throttled``, ``out of credits``, ``bad key``,
            ``timeout``, ``server error``, ``circuit open``, ``answered``, ``deadline``, ``queue``).
        cost: provider-side credits the call spent.
    """

    provider: str
    outcome: Outcome
    seconds: float
    error_class: str | None = None
    cost: float = 0.0


@dataclass
class WaterfallResult:
    """The merged answer for one field.

    Attributes:
        finding: the chosen finding (its confidence already merged), or ``None``.
        sources: independent sources agreeing on the chosen value (0 when not found).
        attempts: every provider considered, in order (skipped ones included).
        probe: SMTP connections and RCPT commands spent.
        notes: why providers found nothing, in their words (``LookupContext.note``).
        cached: the answer came from the lookup cache (no provider was called).
        company_phone: for phones, the company's main line in E.164 (``+14155550100``) when a
            provider published one, else ``None``; never the same as ``finding`` (a
            switchboard is never a person's direct dial, issue 8 §2).
        provisional: a provider asked to be asked again later (greylisting: ``retryAfter``
            evidence); the answer may change and is not cached.
    """

    finding: Finding | None
    sources: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    probe: ProbeStats = field(default_factory=ProbeStats)
    notes: list[str] = field(default_factory=list)
    cached: bool = False
    company_phone: str | None = None
    provisional: bool = False

    @property
    def confidence(self) -> Confidence | None:
        return self.finding.confidence if self.finding else None

    @property
    def tried(self) -> list[str]:
        """Providers actually called."""
        return [a.provider for a in self.attempts if a.outcome != Outcome.SKIPPED]

    @property
    def answered(self) -> list[str]:
        """Providers that returned a finding."""
        return [a.provider for a in self.attempts if a.outcome == Outcome.HIT]

    @property
    def cost(self) -> float:
        """Provider-side credits this lookup spent."""
        return sum(a.cost for a in self.attempts)

    def summary(self) -> dict[str, Any]:
        """``{"tried": […], "answered": […], "cost": n, "cached": bool}`` for answers and logs."""
        return {
            "tried": self.tried,
            "answered": self.answered,
            "cost": round(self.cost, 4),
            "cached": self.cached,
        }


def _key(fld: str, value: str) -> str:
    return value.strip().lower() if fld == "email" else value.strip()


def merge(fld: str, findings: list[Finding]) -> tuple[Finding | None, int]:
    """Group agreeing findings and pick the best group.

    Returns:
        ``(finding, sources)``: the best group's representative with its merged confidence,
        and how many independent findings agree on it.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_key(fld, finding.value), []).append(finding)
    best: tuple[tuple[int, int, int], Finding, int] | None = None
    for position, members in enumerate(groups.values()):
        top = max(members, key=lambda f: f.confidence.rank)
        independent = [f for f in members if f.independent]
        sources = max(1, len({f.provider for f in independent}))
        strong = {f.provider for f in independent if f.confidence.rank >= Confidence.MEDIUM.rank}
        confidence = Confidence.HIGH if len(strong) >= 2 else top.confidence
        merged = Finding(
            value=top.value,
            confidence=confidence,
            verification=top.verification,
            provider=top.provider,
            kind=top.kind,
            evidence=dict(top.evidence),
            independent=top.independent,
        )
        score = (confidence.rank, sources, -position)
        if best is None or score > best[0]:
            best = (score, merged, sources)
    if best is None:
        return None, 0
    return best[1], best[2]


def _company_line(fld: str, finding: Finding) -> bool:
    """A phone finding that is the company's main line (``kind == "office"``): it goes to
    ``companyPhone``, never into the person's answer (issue 8 §2)."""
    return fld == "phone" and finding.kind == "office"


def pick_company_phone(
    answer: Finding | None, findings: list[Finding], company_lines: list[Finding]
) -> str | None:
    """The company's main line for a phone lookup, in E.164 without extension, or ``None``.

    From the ``office`` findings first (the most sure one, then the first), else from a
    finding's ``evidence["company_phone"]``; never the answer's own number (an answer that is
    an extension of the main line, ``+442079460300;ext=85``, keeps the main line beside it:
    that is how the person is reached from outside).
    """
    numbers = [f.value for f in sorted(company_lines, key=lambda f: -f.confidence.rank)]
    numbers += [
        str(f.evidence["company_phone"]) for f in findings if f.evidence.get("company_phone")
    ]
    own = answer.value if answer is not None else None
    for number in numbers:
        e164 = number.split(";", 1)[0]
        if e164 and e164 != own:
            return e164
    return None


def screen_emails(findings: list[Finding], person: Person, ctx: LookupContext) -> list[Finding]:
    """The email findings that may be the person's working address (issue 8 §3).

    - an address the domain's mail server refused in this lookup, or at a domain that accepts
      no mail (null MX, RFC 7505), is dropped: a team page or a provider's record can outlive
      the mailbox (``ctx.mailbox_facts`` ``refuted``);
    - an address whose numbered sibling exists (``ctx.mailbox_facts`` ``shared``) is kept at
      ``low``: two people map to its form and a name next to it cannot tell which;
    - an address that spells another person's name (``pauline.ndiaye@`` for Gaëlle Bélanger:
      two or more name words, none the person's) is dropped, and a one-word local part that
      is none of the person's names (``bob@`` for Robert, a nickname or someone else's) is
      kept at ``low`` (:func:`~leadsonar.domains.names.local_part_fit`).
    """
    kept: list[Finding] = []
    for finding in findings:
        address = finding.value.strip().lower()
        local, _, domain = address.partition("@")
        fact = ctx.mailbox_facts.get(address) or ctx.mailbox_facts.get(f"@{domain}")
        if fact is not None and fact[0] == "refuted":
            continue
        fit = local_part_fit(local, person.first_name, person.last_name)
        if fit == "other":
            continue
        doubt = fact[1] if fact is not None else None
        if fit == "unclear":
            doubt = doubt or "The address's local part is none of this person's names."
        if doubt and finding.confidence.rank > Confidence.LOW.rank:
            finding.confidence = Confidence.LOW
            finding.evidence["reason"] = doubt
        kept.append(finding)
    return kept


def takes_no_mail(fld: str, company: Company, ctx: LookupContext) -> bool:
    """Whether an e-mail lookup can no longer be answered: the mail server's side proved in
    this lookup that ``company.domain`` takes no mail at all (a null MX, RFC 7505 §3; the
    prober's ``@domain`` ``refuted`` fact), so every address another source finds there
    would be dropped by :func:`screen_emails`. The providers still running or not yet asked
    are then skipped (``no mail``): a crawl waited for, or a paid provider's credits, would
    buy nothing."""
    if fld != "email" or not company.domain:
        return False
    fact = ctx.mailbox_facts.get(f"@{company.domain}")
    return fact is not None and fact[0] == "refuted"


def cost_of(provider: Provider, fld: str) -> float:
    """What one answered lookup of ``fld`` costs at ``provider`` (its ``cost_for`` when it has
    one, else its ``cost``)."""
    cost_for = getattr(provider, "cost_for", None)
    return float(cost_for(fld)) if callable(cost_for) else float(provider.cost)


def rank_auto(
    providers: list[Provider], fld: str, stats: Mapping[str, ProviderStats]
) -> list[Provider]:
    """Order for an ``auto`` field: free providers first (in configured order), then paid ones
    by observed hit rate per unit of cost, best first. The hit rate is the provider's for
    ``fld`` only (its email lookups rank it for emails, its phone lookups for phones).

    The hit rate is smoothed, ``(hits + 1) / (calls + 2)`` (Laplace), so a provider not yet
    called starts at one half instead of never being tried.
    """

    def score(item: tuple[int, Provider]) -> tuple[int, float, int]:
        position, provider = item
        cost = cost_of(provider, fld)
        if cost <= 0:
            return (0, 0.0, position)
        seen = (stats.get(provider.name) or ProviderStats()).for_field(fld)
        rate = (seen.hits + 1) / (seen.calls + 2)
        return (1, -rate / cost, position)

    return [p for _, p in sorted(enumerate(providers), key=score)]


class Waterfall:
    """Runs one field's providers for one person.

    Args:
        registry: providers, their order and their books (health, quotas, usage, stats).
        provider_timeout: seconds one provider may take.
        deadline: seconds the whole lookup may take.
        bar: the default confidence at which the cascade stops.
        cache: the lookup cache (None: no cache).
    """

    def __init__(
        self,
        registry: ProviderRegistry,
        provider_timeout: float,
        deadline: float,
        *,
        bar: Confidence = Confidence.HIGH,
        cache: LookupCacheStore | None = None,
    ) -> None:
        self.registry = registry
        self.provider_timeout = provider_timeout
        self.deadline = deadline
        self.bar = bar
        self.cache = cache

    @classmethod
    def from_settings(
        cls, registry: ProviderRegistry, settings: Settings, db: Database
    ) -> Waterfall:
        """The app's waterfall: timeouts, bar, cache TTL from the settings."""
        return cls(
            registry,
            settings.provider_timeout,
            settings.lookup_deadline,
            bar=Confidence(settings.confidence_bar),
            cache=LookupCacheStore(db, settings.lookup_cache_ttl),
        )

    async def open(self) -> None:
        """Load the providers' stored usage into their books and start writing usage in the
        background."""
        await self.registry.books.open()

    async def aclose(self) -> None:
        """Write the cached answers still pending; stop the background writer, write pending
        usage, close the books' storage."""
        try:
            if self.cache is not None:
                await self.cache.flush()
        finally:
            await self.registry.books.aclose()

    def chain(self, fld: str) -> list[Provider]:
        """The usable providers for ``fld``, ranked when the field's order is ``auto``."""
        chain = self.registry.chain(fld)
        if fld in self.registry.auto:
            chain = rank_auto(chain, fld, self.registry.books.stats())
        return chain

    async def run(
        self,
        fld: str,
        person: Person,
        company: Company,
        ctx: LookupContext | None = None,
        *,
        bar: Confidence | None = None,
        cache_not_found: bool = True,
    ) -> WaterfallResult:
        """Find ``fld`` (``email`` or ``phone``) for ``person`` at ``company``.

        Args:
            ctx: the lookup's context (account, retry deadline); a fresh one when omitted
                (tools, tests). Each provider call gets its own :meth:`LookupContext.for_call`
                view; the notes and SMTP work they leave become the result's.
            bar: stop at the first answer at least this sure (default: the waterfall's).
            cache_not_found: ``False`` keeps a "not found" out of the lookup cache (while DNS
                is broken, kit/net/resolver_check.py).

        What the providers learned (``ctx.learned``: MX answers, catch-all verdicts, blocks,
        addresses that teach patterns) is persisted once when the providers are done, in one
        write transaction through the registry's
        :class:`~leadsonar.domains.knowledge.DomainKnowledge` port, before the answer is
        cached; a lookup answered from the cache learned nothing and writes nothing.

        Never raises for a provider's failure nor for a failed write of what was learned
        (logged); only cancellation propagates.
        """
        bar = bar or self.bar
        ctx = ctx if ctx is not None else LookupContext()
        chain = self.chain(fld)
        key = None
        if self.cache is not None and self.cache.enabled:
            key = cache_key(fld, person, company, [p.name for p in chain], bar, ctx.account_id)
            hit = await self.cache.get(key)
            if hit is not None:
                finding, sources, notes, company_phone = hit
                return WaterfallResult(
                    finding=finding,
                    sources=sources,
                    cached=True,
                    notes=notes,
                    company_phone=company_phone,
                )
        result = WaterfallResult(finding=None, probe=ctx.probe)
        findings: list[Finding] = []
        company_lines: list[Finding] = []  # phones: the company's main line, never the answer
        paid_for: dict[str, float] = {}  # provider → cost of the findings in hand
        started = time.monotonic()
        try:
            index = 0
            while index < len(chain):
                if fld == "email":  # what the mail server proved weighs on the stop rule too
                    findings[:] = screen_emails(findings, person, ctx)
                merged, _ = merge(fld, findings)
                if merged is not None and merged.confidence.rank >= bar.rank:
                    break
                if takes_no_mail(fld, company, ctx):
                    result.attempts.extend(
                        Attempt(p.name, Outcome.SKIPPED, 0.0, ErrorClass.NO_MAIL)
                        for p in chain[index:]
                    )
                    break
                if cost_of(chain[index], fld) <= 0:
                    # A run of free providers: their answers do not depend on each other (the
                    # prober does not wait for the crawl, nor the crawl for the prober), so
                    # they run at once and are merged in chain order.
                    end = index
                    while end < len(chain) and cost_of(chain[end], fld) <= 0:
                        end += 1
                    await self._run_free(
                        chain[index:end],
                        fld,
                        person,
                        company,
                        bar,
                        started,
                        (findings, company_lines),
                        result,
                        ctx,
                    )
                    index = end
                    continue
                provider = chain[index]
                index += 1
                cost = cost_of(provider, fld)
                if merged is not None and merged.confidence.rank >= Confidence.MEDIUM.rank:
                    answer_cost = min(
                        (
                            paid_for.get(f.provider, 0.0)
                            for f in findings
                            if _key(fld, f.value) == _key(fld, merged.value)
                        ),
                        default=0.0,
                    )
                    if cost >= answer_cost:
                        result.attempts.append(
                            Attempt(provider.name, Outcome.SKIPPED, 0.0, ErrorClass.ANSWERED)
                        )
                        continue
                budget = await self._budget(provider, started, result)
                if budget is None:
                    continue
                finding = await self._call(provider, fld, person, company, budget, result, ctx)
                if finding is not None and _company_line(fld, finding):
                    company_lines.append(finding)
                elif finding is not None:
                    findings.append(finding)
                    paid_for[finding.provider] = cost
        finally:
            result.notes = ctx.notes  # what the providers said, also when cut short
            # what the providers learned, in one write transaction, also when cut short
            # (shielded: a cancelled lookup keeps what it learned)
            if self.registry.knowledge is not None:
                await self.registry.knowledge.persist(ctx.learned)
        if fld == "phone" and company_lines:
            # a source that calls the company's known switchboard someone's direct dial is wrong
            switchboards = {f.value.split(";", 1)[0] for f in company_lines}
            findings = [f for f in findings if f.value not in switchboards]
        if fld == "email":
            findings = screen_emails(findings, person, ctx)
        result.provisional = any("retryAfter" in f.evidence for f in findings)
        result.finding, result.sources = merge(fld, findings)
        if fld == "phone":
            result.company_phone = pick_company_phone(result.finding, findings, company_lines)
        if result.attempts and log.isEnabledFor(logging.INFO):  # no summary built for nobody
            log.info("waterfall %s: %s", fld, result.summary())
        if key is not None and self.cache is not None:
            if cache_not_found or result.finding is not None:
                self.cache.put(key, fld, result)  # written behind the answer
        return result

    async def _budget(
        self, provider: Provider, started: float, result: WaterfallResult
    ) -> float | None:
        """Seconds ``provider`` may take now, or ``None`` (recorded as skipped) when the
        lookup's deadline has passed or the provider is resting or its circuit is open."""
        remaining = self.deadline - (time.monotonic() - started)
        if remaining <= 0:
            result.attempts.append(
                Attempt(provider.name, Outcome.SKIPPED, 0.0, ErrorClass.DEADLINE)
            )
            return None
        closed = await self.registry.books[provider.name].gate()
        if closed is not None:
            result.attempts.append(Attempt(provider.name, Outcome.SKIPPED, 0.0, closed))
            return None
        return min(remaining, self.provider_timeout)

    async def _run_free(
        self,
        providers: list[Provider],
        fld: str,
        person: Person,
        company: Company,
        bar: Confidence,
        started: float,
        into: tuple[list[Finding], list[Finding]],
        result: WaterfallResult,
        ctx: LookupContext,
    ) -> None:
        """Call free ``providers`` concurrently; add their findings to ``into`` (the person's
        findings, and for phones the company's main lines, which never answer) in chain order.

        As soon as the findings in hand (earlier ones and those of the calls already back)
        meet ``bar``, the calls still running are cancelled and recorded as skipped
        (``answered``), as the sequential stop rule would have skipped them; a crawl they
        started goes on in the background and serves later lookups. So are they, as ``no
        mail``, once the prober proved the domain takes no mail (:func:`takes_no_mail`).
        Attempts are recorded in chain order whatever order the calls end in.
        """
        slots: list[tuple[Provider, WaterfallResult, asyncio.Task[Finding | None]] | None] = []
        said: list[list[str]] = []  # each call's notes, added to the lookup's in chain order
        for provider in providers:
            budget = await self._budget(provider, started, result)
            if budget is None:
                slots.append(None)
                continue
            scratch = WaterfallResult(finding=None)  # this call's attempt, kept for chain order
            # The call's own notes (shared account, deadline and probe counters): the answer's
            # reason must not depend on which concurrent call happened to finish last.
            own = LookupContext(
                account_id=ctx.account_id,
                retry_wait_until=ctx.retry_wait_until,
                probe=ctx.probe,
                mailbox_facts=ctx.mailbox_facts,  # what the mail server proved is shared
                learned=ctx.learned,  # persisted once when the lookup ends
            )
            said.append(own.notes)
            task = asyncio.create_task(
                self._call(provider, fld, person, company, budget, scratch, own)
            )
            slots.append((provider, scratch, task))
        findings, company_lines = into
        running = {slot[2] for slot in slots if slot is not None}
        stopped = ErrorClass.ANSWERED  # why the calls still running were cancelled
        try:
            while running:
                _, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                back = [
                    f
                    for slot in slots
                    if slot is not None and slot[2].done() and not slot[2].cancelled()
                    for f in [slot[2].result()]
                    if f is not None and not _company_line(fld, f)
                ]
                merged, _ = merge(fld, findings + back)
                if running and takes_no_mail(fld, company, ctx):
                    stopped = ErrorClass.NO_MAIL
                answered = merged is not None and merged.confidence.rank >= bar.rank
                if running and (answered or stopped is ErrorClass.NO_MAIL):
                    for task in running:
                        task.cancel()
                    await asyncio.gather(*running, return_exceptions=True)
                    running = set()
        finally:
            for task in running:  # the lookup itself was cancelled
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        for slot in slots:
            if slot is None:
                continue
            provider, scratch, task = slot
            if task.cancelled():
                result.attempts.append(Attempt(provider.name, Outcome.SKIPPED, 0.0, stopped))
                continue
            result.attempts.extend(scratch.attempts)
            finding = task.result()
            if finding is not None and _company_line(fld, finding):
                company_lines.append(finding)
            elif finding is not None:
                findings.append(finding)
        for notes in said:
            for note in notes:
                ctx.note(note)

    async def _call(
        self,
        provider: Provider,
        fld: str,
        person: Person,
        company: Company,
        budget: float,
        result: WaterfallResult,
        lookup: LookupContext,
    ) -> Finding | None:
        """Call ``provider`` within ``budget`` seconds and record the call once in its book."""
        name = provider.name
        book = self.registry.books[name]
        method = provider.find_email if fld == "email" else provider.find_phone
        began = time.monotonic()
        ctx = lookup.for_call()
        ctx.call.until = began + budget
        finding: Finding | None = None
        error: Exception | None = None
        timed_out = settled = False  # settled: the call ended with a verdict (not cancelled)
        try:
            async with asyncio.timeout(budget):
                finding = await method(person, company, ctx)
            settled = True
        except TimeoutError:
            timed_out = settled = True
        except Exception as exc:
            error, settled = exc, True
        finally:
            lookup.probe.add(ctx.probe)
            if not settled:
                await asyncio.shield(book.release())  # cancelled: no verdict on the provider
        elapsed = time.monotonic() - began
        call = CallRecord(fld, elapsed, finding is not None, error, timed_out, ctx.call)
        recorded = await book.record(call)
        spent = ctx.call.spent
        result.attempts.append(
            Attempt(name, recorded.outcome, elapsed, recorded.error_class, spent)
        )
        if recorded.outcome is Outcome.SKIPPED:
            log.info("provider %s: no quota slot within %.1fs", name, elapsed)
        elif timed_out:
            log.warning("provider %s timed out after %.1fs", name, elapsed)
        elif error is not None and not isinstance(error, ProviderError):
            log.error("provider %s raised", name, exc_info=error)
        elif error is not None:
            log.warning("provider %s failed: %s", name, recorded.error_class)
        if finding is not None and not finding.provider:
            finding.provider = name
        return finding
