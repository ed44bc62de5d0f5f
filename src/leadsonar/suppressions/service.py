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

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.exceptions import BadRequest
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.net.hostnames import to_a_label
from leadsonar.suppressions import repository
from leadsonar.suppressions.repository import SuppressionList

__all__ = [
    "SUPPRESSED",
    "Entry",
    "ErasureReport",
    "SuppressionList",
    "add",
    "entries",
    "erase",
    "normalise_domain",
    "parse_target",
    "remove",
]
from leadsonar.suppressions.models import EVERYONE

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


async def add(
    session: AsyncSession, account_id: int, kind: str, value: str, reason: str | None = None
) -> Entry:
    """Suppress ``value`` (already normalised) on behalf of ``account_id`` (``0``: operator).
    Adding an existing entry again changes nothing and returns it. Flushes; the caller's edge
    commits."""
    row = await repository.find(session, account_id, kind, value)
    if row is None:
        row = await repository.insert(session, account_id, kind, value, reason)
        repository.changed(session)
    return Entry(row.kind, row.value, row.reason, row.created_at)


async def remove(session: AsyncSession, account_id: int, kind: str, value: str) -> bool:
    """Lift ``account_id``'s own suppression of ``value``; ``False`` when it had none."""
    removed = await repository.delete_one(session, account_id, kind, value) > 0
    if removed:
        repository.changed(session)
    return removed


async def entries(session: AsyncSession, account_id: int) -> list[Entry]:
    """``account_id``'s own suppressions, newest first."""
    rows = await repository.of_account(session, account_id)
    return [Entry(r.kind, r.value, r.reason, r.created_at) for r in rows]


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


async def erase(session: AsyncSession, email: str) -> ErasureReport:
    """Remove every stored copy of ``email`` (normalised) and suppress it installation-wide.

    Removes imported contacts with that address, lookup-cache answers and cached website
    crawls that mention it, and the address from every stored bulk-job result; then adds an
    ``email`` suppression (reason ``erased``) so it is never found again. All in the caller's
    transaction (open it with ``db.write_session()``): one commit at the edge.
    """
    report = ErasureReport()
    domain = email.rpartition("@")[2]
    report.contacts = await repository.delete_contacts(session, email)
    cached = await repository.cache_entries(session)
    stale = [key for key, payload in cached if email in json.dumps(payload).lower()]
    if stale:
        await repository.delete_cache_entries(session, stale)
    report.cache_entries = len(stale)
    facts = await repository.domain_facts(session, domain)
    if facts is not None and facts.crawl and email in json.dumps(facts.crawl).lower():
        facts.crawl = None
        facts.crawled_at = None
        report.crawls = 1
    report.job_results = await repository.clear_job_results(session, email)
    await add(session, EVERYONE, "email", email, "erased")
    return report
