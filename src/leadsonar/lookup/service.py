"""Single lookups: validate → charge 1 credit → waterfall → answer (refund if it failed).

The charge is committed in its own short write transaction before the waterfall runs, so a
lookup that takes seconds never holds the ledger's write lock, and concurrent requests can never
spend more than the balance (DESIGN.md §1, "Credits").
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from leadsonar.config import Settings
from leadsonar.domains.contacts import domain_for_company
from leadsonar.exceptions import BadRequest, InvalidDomain
from leadsonar.kit.db import Database
from leadsonar.kit.net.hostnames import display_domain, domain_from_website
from leadsonar.kit.phones import display_from_e164
from leadsonar.ledger import service as ledger
from leadsonar.lookup.schemas import EmailAnswer, PersonLookup, PhoneAnswer
from leadsonar.providers.base import Company, Person
from leadsonar.waterfall.engine import Waterfall, WaterfallResult

log = logging.getLogger(__name__)

LOOKUP_COST = 1  # credits per find-email / find-phone request (spec)


@dataclass(frozen=True)
class Target:
    """A validated lookup: the person, the company, and why the domain is unknown if it is."""

    person: Person
    company: Company
    reason: str | None = None


class LookupService:
    """Runs single lookups for the API, the CLI and the job runner."""

    def __init__(self, db: Database, waterfall: Waterfall, settings: Settings) -> None:
        self.db = db
        self.waterfall = waterfall
        self.settings = settings

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
        async with self.db.session() as session:
            domain = await domain_for_company(session, company)
        if domain:
            return Target(person, Company(domain=domain, name=company))
        return Target(
            person,
            Company(domain=None, name=company),
            reason=f"The company {company!r} could not be resolved to a domain; pass website.",
        )

    async def run(self, fld: str, target: Target) -> WaterfallResult:
        """The waterfall for one field, uncharged (jobs charge on their own)."""
        return await self.waterfall.run(fld, target.person, target.company)

    async def _charged(
        self, account_id: int, fld: str, target: Target
    ) -> tuple[WaterfallResult, int]:
        reference = f"{fld}_{uuid.uuid4().hex[:16]}"
        async with self.db.write_session() as session:
            await ledger.charge(session, account_id, LOOKUP_COST, f"find-{fld}", reference)
        try:
            result = await self.run(fld, target)
        except BaseException:
            async with self.db.session() as session:
                await ledger.refund(session, account_id, LOOKUP_COST, "refund:failed", reference)
            raise
        if result.finding is None and self.settings.refund_not_found:
            async with self.db.session() as session:
                await ledger.refund(session, account_id, LOOKUP_COST, "refund:not-found", reference)
            return result, 0
        return result, LOOKUP_COST

    async def find_email(self, account_id: int, body: PersonLookup) -> EmailAnswer:
        """Answer ``POST /find-email`` (1 credit, refunded only if the lookup crashed or the
        deployment refunds not-found).

        Raises:
            InvalidDomain: bad ``website`` (400, nothing charged).
            InsufficientCredits: balance below 1 (402, nothing charged).
        """
        target = await self.target(body.firstName, body.lastName, body.website, body.company)
        result, used = await self._charged(account_id, "email", target)
        finding = result.finding
        return EmailAnswer(
            email=finding.value if finding else None,
            confidence=finding.confidence.value if finding else None,
            sources=result.sources,
            credits_used=used,
            domain=display_domain(target.company.domain) if target.company.domain else None,
            provider=finding.provider if finding else None,
            verification=finding.verification.value if finding else None,
            reason=None if finding else target.reason,
        )

    async def find_phone(self, account_id: int, body: PersonLookup) -> PhoneAnswer:
        """Answer ``POST /find-phone`` (1 credit, same rules as :meth:`find_email`)."""
        target = await self.target(body.firstName, body.lastName, body.website, body.company)
        result, used = await self._charged(account_id, "phone", target)
        finding = result.finding
        return PhoneAnswer(
            phone=display_from_e164(finding.value) if finding else None,
            type=finding.kind if finding else None,
            credits_used=used,
            e164=finding.value if finding else None,
            domain=display_domain(target.company.domain) if target.company.domain else None,
            provider=finding.provider if finding else None,
            confidence=finding.confidence.value if finding else None,
            reason=None if finding else target.reason,
        )
