"""Single lookups: validate → charge 1 credit → waterfall → answer (refund if it failed).

The charge is committed in its own short write transaction before the waterfall runs (together
with the charges of concurrent requests: :mod:`leadsonar.ledger.reservations`), so a lookup that
takes seconds never holds the ledger's write lock, and concurrent requests can never spend more
than the balance (DESIGN.md §1, "Credits").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from leadsonar.config import Settings
from leadsonar.domains.candidates import is_role_local_part
from leadsonar.domains.companies import CompanyResolver, CompanySearch, Resolution, WikidataSource
from leadsonar.domains.repository import count_namesakes
from leadsonar.exceptions import BadRequest, InvalidDomain
from leadsonar.kit import metrics
from leadsonar.kit.crypto import unique_id
from leadsonar.kit.db import Database
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.hostnames import display_domain, domain_from_website
from leadsonar.kit.net.resolver_check import ResolverCheck, broken_dns_note
from leadsonar.kit.net.safe_http import SafeHttp
from leadsonar.kit.phones import display_from_e164, parse_phone
from leadsonar.ledger import service as ledger
from leadsonar.ledger.reservations import reservations_for
from leadsonar.lookup.schemas import EmailAnswer, PersonLookup, PhoneAnswer, WaterfallSummary
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    Verification,
)
from leadsonar.suppressions.service import SUPPRESSED, SuppressionList
from leadsonar.waterfall.engine import Waterfall, WaterfallResult

log = logging.getLogger(__name__)

LOOKUP_COST = 1  # credits per find-email / find-phone / verify-email request (spec)
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """A validated lookup: the person, the company, why the domain is unknown if it is, and
    how a company name was resolved (``None`` when the caller gave the website)."""

    person: Person
    company: Company
    reason: str | None = None
    resolution: Resolution | None = None

    @property
    def domain_source(self) -> str | None:
        """``website`` (given), or the company resolution's source (``wikidata``, ``guess`` …)."""
        if self.resolution is None:
            return "website" if self.company.domain else None
        return self.resolution.source

    @property
    def domain_reason(self) -> str | None:
        """Why this domain, for a resolved company name."""
        return self.resolution.reason if self.resolution and self.company.domain else None


async def run_charged(
    db: Database,
    settings: Settings,
    account_id: int,
    label: str,
    work: Callable[[], Awaitable[T]],
    found: Callable[[T], bool],
) -> tuple[T, int]:
    """Charge :data:`LOOKUP_COST`, run ``work``, refund when it crashed (or found nothing and
    the deployment refunds not-found: ``LEADSONAR_REFUND_NOT_FOUND``).

    Returns:
        ``(work's result, credits used)``.

    Raises:
        InsufficientCredits: the balance is below the cost (402; nothing charged, no work).
    """
    reference = f"{label}_{unique_id()}"
    # A short reservation, committed (with the charges of concurrent requests) before the work
    # does any network I/O.
    await reservations_for(db).charge(account_id, LOOKUP_COST, label, reference)
    try:
        result = await work()
    except BaseException:
        async with db.write_session() as session:
            await ledger.refund(session, account_id, LOOKUP_COST, "refund:failed", reference)
        raise
    if settings.refund_not_found and not found(result):
        async with db.write_session() as session:
            await ledger.refund(session, account_id, LOOKUP_COST, "refund:not-found", reference)
        return result, 0
    return result, LOOKUP_COST


def phone_type(finding: Finding) -> str:
    """``direct`` or ``mobile`` for a person's number: the source's word when it is one of
    those, else the number's own range (libphonenumber: a mobile range is ``mobile``)."""
    if finding.kind in ("direct", "mobile"):
        return finding.kind
    parsed = parse_phone(finding.value)
    return "mobile" if parsed is not None and parsed.mobile else "direct"


def answer_reason(result: WaterfallResult, target: Target) -> str | None:
    """Why the answer is missing or weak, for users (``None`` for a verified answer)."""
    finding = result.finding
    if finding is None:
        return target.reason or (result.notes[-1] if result.notes else None)
    if finding.confidence is Confidence.HIGH:
        return None
    reason = finding.evidence.get("reason") or finding.evidence.get("ambiguous")
    return str(reason) if reason else None


def company_sources(
    settings: Settings, waterfall: Waterfall, api: httpx.AsyncClient | None
) -> list[CompanySearch]:
    """Company-knowing sources in waterfall order: Wikidata (``LEADSONAR_COMPANY_WIKIDATA``,
    through the shared API client ``api``), then every registered provider with a company
    search (Hunter, Apollo, People Data Labs; used only while its key is set)."""
    sources: list[CompanySearch] = []
    if settings.company_wikidata and api is not None:
        languages = ("en", "de", "fr")
        sources.append(WikidataSource(api, settings.company_wikidata_url, languages))
    sources += [p for p in waterfall.registry.providers.values() if isinstance(p, CompanySearch)]
    return sources


class LookupService:
    """Runs single lookups for the API, the CLI and the job runner."""

    dns_check: ResolverCheck | None = None  # the resolver self-check, set by the app
    suppressions: SuppressionList | None = None  # the suppression list, set by the app

    def __init__(
        self,
        db: Database,
        waterfall: Waterfall,
        settings: Settings,
        web: SafeHttp | None = None,
        api: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.waterfall = waterfall
        self.settings = settings
        resolver = web.resolver if web is not None else Resolver.from_settings(settings)
        # The crawler's fetcher when given: one connection pool and one politeness clock per
        # web host for crawling and company resolution alike.
        self.companies = CompanyResolver(
            settings,
            db,
            resolver,
            web or SafeHttp(settings, resolver),
            sources=company_sources(settings, waterfall, api),
            knowledge=waterfall.registry.knowledge,
        )

    @property
    def allow_reserved(self) -> bool:
        """Test domains (``.test``, ``.example``) are accepted only where private networks are
        explicitly allowed (tests, intranets)."""
        return bool(self.settings.allowed_private_networks)

    async def target(
        self, first: str, last: str, website: str | None, company: str | None
    ) -> Target:
        """Validate the company part of a lookup.

        Raises:
            InvalidDomain: ``website`` is not a usable public domain (400).
        """
        person = Person(first_name=first, last_name=last)
        if website:
            try:
                domain = domain_from_website(website, allow_reserved=self.allow_reserved)
            except InvalidDomain as exc:
                raise InvalidDomain(f"website: {exc.message}") from None
            return Target(person, Company(domain=domain, name=company))
        if not company:
            raise BadRequest("Provide at least company or website alongside the name.")
        resolution = await self.companies.resolve(company, self.dns_check)
        reason = None if resolution.domain else resolution.reason
        if reason is not None and self.dns_check is not None:
            # With a broken resolver every guessed domain looks nonexistent: say so rather
            # than blame the company name (kit/net/resolver_check.py).
            dns = await self.dns_check.check()
            if not dns.ok:
                reason = broken_dns_note(dns)
        return Target(
            person,
            Company(domain=resolution.domain, name=company),
            reason=reason,
            resolution=resolution,
        )

    async def run(
        self, fld: str, target: Target, *, wait: bool = True, account_id: int | None = None
    ) -> WaterfallResult:
        """The waterfall for one field, uncharged (jobs charge on their own).

        Args:
            fld: ``email`` or ``phone``.
            target: from :meth:`target`.
            wait: providers may wait within the lookup's deadline to retry (greylisting); bulk
                jobs pass ``False`` and schedule the retry instead.
            account_id: the account the lookup is for (carried in the :class:`LookupContext`).

        Role addresses (``info@``, ``sales@``) are never a person's answer; a ``high`` email
        shared by namesakes (two imported people with this name at the domain) is only
        ``medium``.
        """
        domain = target.company.domain
        if self.suppressions is not None and domain:
            if await self.suppressions.suppressed(domain=domain):
                # Nothing is asked about a suppressed domain: no DNS, SMTP or HTTP request.
                return WaterfallResult(finding=None, notes=[SUPPRESSED])
        deadline = time.monotonic() + self.settings.lookup_deadline if wait else None
        # While the resolver is broken every domain looks nonexistent: keep "not found" out of
        # the cache and say why nothing was found (kit/net/resolver_check.py).
        dns = await self.dns_check.check() if self.dns_check is not None else None
        ctx = LookupContext(account_id=account_id, retry_wait_until=deadline)
        result = await self.waterfall.run(
            fld, target.person, target.company, ctx, cache_not_found=dns is None or dns.ok
        )
        metrics.record_lookup(fld, result)
        if dns is not None and not dns.ok:
            # A guess made while DNS is broken was checked against nothing (the mail hosts
            # could not even be looked up): answer none and say why, as for a lookup that found
            # nothing (README, "DNS is not working").
            if result.finding is not None and result.finding.verification is Verification.GUESSED:
                result.finding, result.sources = None, 0
            if result.finding is None:
                result.notes.append(broken_dns_note(dns))
        if (
            fld == "email"
            and result.finding is not None
            and self.suppressions is not None
            and await self.suppressions.suppressed(email=result.finding.value)
        ):
            result.finding, result.sources = None, 0
            result.notes.append(SUPPRESSED)
        finding = result.finding
        if fld != "email" or finding is None:
            return result
        if is_role_local_part(finding.value.partition("@")[0]):
            result.finding, result.sources = None, 0
        elif (
            finding.confidence is Confidence.HIGH
            and target.company.domain
            and account_id is not None
        ):
            namesakes = await count_namesakes(
                self.db,
                target.person.first_name,
                target.person.last_name,
                target.company.domain,
                account_id,
            )
            if namesakes > 1:
                finding.confidence = Confidence.MEDIUM
                finding.evidence["ambiguous"] = f"{namesakes} people share this name at the domain"
        return result

    async def _charged(
        self, account_id: int, fld: str, body: PersonLookup
    ) -> tuple[tuple[Target, WaterfallResult], int]:
        """Validate, charge, then resolve the company and run the waterfall.

        A website is checked before the charge (bad input costs nothing and does nothing); a
        company name is resolved only after it (resolving means DNS and web requests, which an
        account without credits must not get for free) and the credit is refunded if the name
        turns out unusable.
        """
        early = None
        if body.website:
            early = await self.target(body.firstName, body.lastName, body.website, body.company)
        elif not body.company:
            raise BadRequest("Provide at least company or website alongside the name.")

        async def work() -> tuple[Target, WaterfallResult]:
            target = early or await self.target(
                body.firstName, body.lastName, body.website, body.company
            )
            return target, await self.run(fld, target, account_id=account_id)

        return await run_charged(
            self.db,
            self.settings,
            account_id,
            f"find-{fld}",
            work,
            lambda answer: answer[1].finding is not None,
        )

    async def find_email(self, account_id: int, body: PersonLookup) -> EmailAnswer:
        """Answer ``POST /find-email`` (1 credit, refunded only if the lookup crashed or the
        deployment refunds not-found).

        Raises:
            InvalidDomain: bad ``website`` (400, nothing charged).
            InsufficientCredits: balance below 1 (402, nothing charged).
        """
        (target, result), used = await self._charged(account_id, "email", body)
        finding = result.finding
        return EmailAnswer(
            email=finding.value if finding else None,
            confidence=finding.confidence.value if finding else None,
            sources=result.sources,
            credits_used=used,
            domain=display_domain(target.company.domain) if target.company.domain else None,
            domainSource=target.domain_source,
            domainReason=target.domain_reason,
            provider=finding.provider if finding else None,
            verification=finding.verification.value if finding else None,
            reason=answer_reason(result, target),
            smtpConnections=result.probe.connections,
            smtpRcpts=result.probe.rcpts,
            waterfall=WaterfallSummary(**result.summary()),
        )

    async def find_phone(self, account_id: int, body: PersonLookup) -> PhoneAnswer:
        """Answer ``POST /find-phone`` (1 credit, same rules as :meth:`find_email`)."""
        (target, result), used = await self._charged(account_id, "phone", body)
        finding = result.finding
        return PhoneAnswer(
            phone=display_from_e164(finding.value) if finding else None,
            type=phone_type(finding) if finding else None,
            credits_used=used,
            companyPhone=display_from_e164(result.company_phone) if result.company_phone else None,
            e164=finding.value.split(";")[0] if finding else None,
            domain=display_domain(target.company.domain) if target.company.domain else None,
            domainSource=target.domain_source,
            domainReason=target.domain_reason,
            provider=finding.provider if finding else None,
            confidence=finding.confidence.value if finding else None,
            reason=answer_reason(result, target),
            waterfall=WaterfallSummary(**result.summary()),
        )
