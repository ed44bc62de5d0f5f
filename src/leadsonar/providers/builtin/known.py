"""The ``known`` provider: the account's own imported contacts (``leadsonar import FILE.csv
--account NAME``); a lookup for one account never sees another's (``ctx.account_id``).

An exact name match at the company's domain answers directly with ``medium`` confidence: it is
one good source (DESIGN.md §3); when the mailbox prober agrees, the waterfall makes it ``high``.
"""

from __future__ import annotations

from leadsonar.domains import repository
from leadsonar.kit.db import Database
from leadsonar.kit.phones import parse_phone
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    Verification,
)


class KnownContactsProvider:
    """Answers from imported contacts; free; finds email and phone."""

    name = "known"
    kind = "builtin"
    fields = frozenset({"email", "phone"})
    cost = 0.0

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _contact(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> repository.ImportedContact | None:
        """``ctx.account_id``'s newest imported contact for the person (a read of its own,
        never committed), or ``None``."""
        if ctx.account_id is None:
            return None
        return await repository.imported_contact(
            self.db,
            person.first_name,
            person.last_name,
            company.domain,
            company.name,
            ctx.account_id,
        )

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        contact = await self._contact(person, company, ctx)
        if contact is None or not contact.email:
            return None
        return Finding(
            value=contact.email,
            confidence=Confidence.MEDIUM,
            verification=Verification.PUBLISHED,
            evidence={"source": "imported contact"},
        )

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        contact = await self._contact(person, company, ctx)
        if contact is None or not contact.phone:
            return None
        phone = parse_phone(contact.phone)
        if phone is None:
            return None
        return Finding(
            value=phone.e164,
            confidence=Confidence.MEDIUM,
            verification=Verification.PUBLISHED,
            kind="mobile" if phone.mobile else "direct",
            evidence={"source": "imported contact"},
        )

    def status_detail(self) -> str | None:
        return None
