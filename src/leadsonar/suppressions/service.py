"""Suppression and erasure (GDPR Art. 17 and 21, CAN-SPAM opt-out; docs/privacy.md).

A suppression names an address (``ada@acme.com``) or a domain (``acme.com``, which covers its
subdomains). Suppressions are installation-wide: one added by any account, by the operator's
``leadsonar suppress`` or by an erasure protects the person in every account's lookups and jobs.
Each account lists and lifts only the entries it added itself (``account_id``; ``0`` is the
operator's), so no account sees another's list.

A suppressed address is never returned (the answer is ``null`` with reason ``suppressed``) and
never probed: :class:`SuppressionList` filters the prober's addresses before any SMTP command,
and a suppressed domain is not looked up at all (no DNS, SMTP or HTTP request for it).

:func:`erase` removes a person's address from imported contacts, the lookup cache, cached
website crawls and stored job results, then suppresses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.models import DomainFacts, KnownContact
from leadsonar.enrichment.models import EnrichmentItem
from leadsonar.exceptions import BadRequest
from leadsonar.kit.db import Database
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.net.hostnames import to_a_label
from leadsonar.suppressions.models import EVERYONE, Suppression
from leadsonar.waterfall.models import LookupCache

SUPPRESSED = "suppressed"
"""The ``reason`` of an answer withheld because of a suppression."""


@dataclass(frozen=True)
class Entry:
    """One suppression as the API shows it."""

    kind: str
    value: str
    reason: str | None
    created_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            self.kind: self.value,
            "kind": self.kind,
            "reason": self.reason,
            "createdAt": self.created_at.isoformat() if self.created_at else None,
        }


def normalise_domain(value: str) -> str:
    """A domain as stored: lower-case A-label, no trailing dot, no scheme or path.

    Raises:
        BadRequest: not a domain name.
    """
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.split("/", 1)[0].rstrip(".").removeprefix("www.")
    if not text or "." not in text or "@" in text or " " in text:
        raise BadRequest(f"{value!r} is not a domain name (e.g. acme.com).")
    try:
        return to_a_label(text)
    except Exception as error:  # InvalidDomain or idna's own errors: one sentence either way
        raise BadRequest(f"{value!r} is not a domain name (e.g. acme.com).") from error


def parse_target(email: str | None, domain: str | None) -> tuple[str, str]:
    """``(kind, value)`` from a body with exactly one of ``email`` and ``domain``.

    Raises:
        BadRequest: both or neither given, or the value is not valid.
    """
    if bool(email) == bool(domain):
        raise BadRequest('Give exactly one of "email" and "domain".')
    if email:
        return "email", normalise_email(email, allow_reserved=True)
    assert domain is not None
    return "domain", normalise_domain(domain)


def _domains_covering(domain: str) -> list[str]:
    """``a.b.acme.com`` → ``[a.b.acme.com, b.acme.com, acme.com, com]`` (a suppressed domain
    covers its subdomains)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


async def add(
    session: AsyncSession, account_id: int, kind: str, value: str, reason: str | None = None
) -> Entry:
    """Suppress ``value`` (already normalised) on behalf of ``account_id`` (``0``: operator).
    Adding an existing entry again changes nothing and returns it."""
    row = await session.scalar(
        select(Suppression).where(
            Suppression.account_id == account_id,
            Suppression.kind == kind,
            Suppression.value == value,
        )
    )
    if row is None:
        row = Suppression(account_id=account_id, kind=kind, value=value, reason=reason)
        session.add(row)
        await session.flush()
        await session.refresh(row)
    return Entry(row.kind, row.value, row.reason, row.created_at)


async def remove(session: AsyncSession, account_id: int, kind: str, value: str) -> bool:
    """Lift ``account_id``'s own suppression of ``value``; ``False`` when it had none."""
    result = await session.execute(
        delete(Suppression).where(
            Suppression.account_id == account_id,
            Suppression.kind == kind,
            Suppression.value == value,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def entries(session: AsyncSession, account_id: int) -> list[Entry]:
    """``account_id``'s own suppressions, newest first."""
    rows = await session.scalars(
        select(Suppression)
        .where(Suppression.account_id == account_id)
        .order_by(Suppression.id.desc())
    )
    return [Entry(r.kind, r.value, r.reason, r.created_at) for r in rows]


# Built once: every lookup runs it. An empty ``domains`` list matches no domain row.
_SUPPRESSED = (
    select(Suppression.id)
    .where(
        or_(
            (Suppression.kind == "email") & (Suppression.value == bindparam("email")),
            (Suppression.kind == "domain")
            & Suppression.value.in_(bindparam("domains", expanding=True)),
        )
    )
    .limit(1)
)

_SUPPRESSED_AMONG = select(Suppression.kind, Suppression.value).where(
    or_(
        (Suppression.kind == "email") & Suppression.value.in_(bindparam("emails", expanding=True)),
        (Suppression.kind == "domain")
        & Suppression.value.in_(bindparam("domains", expanding=True)),
    )
)


class SuppressionList:
    """Answers "is this address or domain suppressed?" from the database (one indexed query).

    Args:
        db: the database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def suppressed(self, *, email: str | None = None, domain: str | None = None) -> bool:
        """Whether ``email`` (lower-case) or ``domain`` (A-label), or a parent domain of either,
        is suppressed by anyone."""
        if email:
            domain = domain or email.rpartition("@")[2]
        if not email and not domain:
            return False
        covering = _domains_covering(domain.lower().rstrip(".")) if domain else []
        # Every lookup asks this (twice): one prebuilt statement on a bare connection, no ORM
        # session (issue 9 §7's profile).
        async with self.db.read_connection() as connection:  # a read on the hot path
            found = await connection.scalar(
                _SUPPRESSED, {"email": email.lower() if email else "", "domains": covering}
            )
        return found is not None

    async def filter_addresses(self, domain: str, addresses: list[str]) -> list[str]:
        """``addresses`` without the suppressed ones (all of them when ``domain`` is); one
        query."""
        covering = _domains_covering(domain.lower().rstrip("."))
        async with self.db.read_connection() as connection:  # a read on the hot path
            rows = (
                await connection.execute(
                    _SUPPRESSED_AMONG,
                    {"emails": [a.lower() for a in addresses], "domains": covering},
                )
            ).all()
        if any(kind == "domain" for kind, _ in rows):
            return []
        taken = {value for _, value in rows}
        return [a for a in addresses if a.lower() not in taken]


@dataclass
class ErasureReport:
    """What :func:`erase` removed."""

    contacts: int = 0
    cache_entries: int = 0
    crawls: int = 0
    job_results: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "contacts": self.contacts,
            "cacheEntries": self.cache_entries,
            "crawls": self.crawls,
            "jobResults": self.job_results,
        }


async def erase(db: Database, email: str) -> ErasureReport:
    """Remove every stored copy of ``email`` (normalised) and suppress it installation-wide.

    Removes imported contacts with that address, lookup-cache answers and cached website
    crawls that mention it, and the address from every stored bulk-job result; then adds an
    ``email`` suppression (reason ``erased``) so it is never found again. One transaction.
    """
    report = ErasureReport()
    domain = email.rpartition("@")[2]
    async with db.write_session() as session:
        result = await session.execute(delete(KnownContact).where(KnownContact.email == email))
        report.contacts = int(result.rowcount or 0)  # type: ignore[attr-defined]
        cached = (await session.execute(select(LookupCache.key, LookupCache.payload))).all()
        stale = [key for key, payload in cached if email in json.dumps(payload).lower()]
        if stale:
            await session.execute(delete(LookupCache).where(LookupCache.key.in_(stale)))
        report.cache_entries = len(stale)
        facts = await session.get(DomainFacts, domain)
        if facts is not None and facts.crawl and email in json.dumps(facts.crawl).lower():
            facts.crawl = None
            facts.crawled_at = None
            report.crawls = 1
        result = await session.execute(
            update(EnrichmentItem)
            .where(EnrichmentItem.email == email)
            .values(
                email=None,
                confidence=None,
                email_provider=None,
                email_verification=None,
                detail=None,  # the evidence kept for operators may quote the address
            )
        )
        report.job_results = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await add(session, EVERYONE, "email", email, "erased")
    return report
