"""The suppression queries (DESIGN.md §2a: queries live in repositories; callers commit).

Every function takes the caller's session and only reads, adds or flushes; the request, the
CLI command or the job item that opened the session commits it. :class:`SuppressionList` is the
read port of the lookup hot path: its checks run mid-lookup, outside any unit of work (never a
transaction across DNS, SMTP or HTTP), so it opens its own read, which is never committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cachetools import TTLCache
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.models import DomainFacts, KnownContact
from leadsonar.enrichment.models import EnrichmentItem
from leadsonar.kit.db import Database
from leadsonar.suppressions.models import Suppression
from leadsonar.waterfall.models import LookupCache


async def find(session: AsyncSession, account_id: int, kind: str, value: str) -> Suppression | None:
    """``account_id``'s own suppression of ``value`` (``kind`` ``email`` or ``domain``)."""
    return await session.scalar(
        select(Suppression).where(
            Suppression.account_id == account_id,
            Suppression.kind == kind,
            Suppression.value == value,
        )
    )


async def insert(
    session: AsyncSession, account_id: int, kind: str, value: str, reason: str | None
) -> Suppression:
    """Add a suppression row (flushed, with its ``created_at`` loaded)."""
    row = Suppression(account_id=account_id, kind=kind, value=value, reason=reason)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def delete_one(session: AsyncSession, account_id: int, kind: str, value: str) -> int:
    """Delete ``account_id``'s own suppression of ``value``; returns the rows deleted (0 or 1)."""
    result = await session.execute(
        delete(Suppression).where(
            Suppression.account_id == account_id,
            Suppression.kind == kind,
            Suppression.value == value,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def of_account(session: AsyncSession, account_id: int) -> Sequence[Suppression]:
    """``account_id``'s own suppressions, newest first."""
    rows = await session.scalars(
        select(Suppression)
        .where(Suppression.account_id == account_id)
        .order_by(Suppression.id.desc())
    )
    return rows.all()


async def any_covering(session: AsyncSession, email: str | None, domains: Sequence[str]) -> bool:
    """Whether anyone suppressed ``email`` (lower-case) or one of ``domains`` (one indexed
    query)."""
    conditions = []
    if email:
        conditions.append((Suppression.kind == "email") & (Suppression.value == email))
    if domains:
        conditions.append((Suppression.kind == "domain") & Suppression.value.in_(list(domains)))
    if not conditions:
        return False
    found = await session.scalar(select(Suppression.id).where(or_(*conditions)).limit(1))
    return found is not None


async def suppressed_emails(session: AsyncSession, emails: Sequence[str]) -> set[str]:
    """Which of ``emails`` (lower-case) anyone suppressed."""
    rows = await session.scalars(
        select(Suppression.value).where(Suppression.kind == "email", Suppression.value.in_(emails))
    )
    return set(rows)


async def delete_contacts(session: AsyncSession, email: str) -> int:
    """Delete imported contacts with address ``email``; returns how many."""
    result = await session.execute(delete(KnownContact).where(KnownContact.email == email))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cache_entries(session: AsyncSession) -> list[tuple[str, Any]]:
    """Every lookup-cache entry as ``(key, payload)`` (erasure scans them for an address)."""
    return [
        (k, p) for k, p in (await session.execute(select(LookupCache.key, LookupCache.payload)))
    ]


async def delete_cache_entries(session: AsyncSession, keys: Sequence[str]) -> None:
    """Delete the lookup-cache entries ``keys``."""
    await session.execute(delete(LookupCache).where(LookupCache.key.in_(list(keys))))


async def domain_facts(session: AsyncSession, domain: str) -> DomainFacts | None:
    """The ``domain_facts`` row of ``domain`` (loaded for change), if any."""
    return await session.get(DomainFacts, domain)


async def clear_job_results(session: AsyncSession, email: str) -> int:
    """Remove ``email`` (and the evidence that may quote it) from stored job results; returns
    the items changed."""
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
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _domains_covering(domain: str) -> list[str]:
    """``a.b.acme.com`` → ``[a.b.acme.com, b.acme.com, acme.com, com]`` (a suppressed domain
    covers its subdomains)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


class _Changes:
    """A counter of the suppression changes committed in this process: a
    :class:`SuppressionList` drops its memo when it moved."""

    def __init__(self) -> None:
        self.count = 0

    def bump(self, *_: object) -> None:
        self.count += 1


_CHANGES = _Changes()


def changed(session: AsyncSession) -> None:
    """The suppressions change in ``session``'s transaction: once it commits (not before, or a
    check in between would remember the old answer for :data:`SUPPRESSION_CACHE_SECONDS`),
    this process's :class:`SuppressionList` memos are dropped. Nothing happens on rollback."""
    event.listen(session.sync_session, "after_commit", _CHANGES.bump, once=True)


SUPPRESSION_CACHE_SECONDS = 10.0
"""Seconds a "this domain is (not) suppressed" answer is reused. Changes made in this process
(``add``, ``remove``, ``erase``) are seen at once; another process's within this time."""
MAX_CACHED_DOMAINS = 10_000


class SuppressionList:
    """Answers "is this address or domain suppressed?" from the database (one indexed query;
    a domain's answer is reused for :data:`SUPPRESSION_CACHE_SECONDS`, so a bulk job's rows
    at one domain ask once, not once per row and provider).

    Args:
        db: the database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._domains: TTLCache[str, bool] = TTLCache(
            maxsize=MAX_CACHED_DOMAINS, ttl=SUPPRESSION_CACHE_SECONDS
        )
        self._seen_changes = _CHANGES.count

    async def suppressed(self, *, email: str | None = None, domain: str | None = None) -> bool:
        """Whether ``email`` (lower-case) or ``domain`` (A-label), or a parent domain of either,
        is suppressed by anyone."""
        if email:
            domain = domain or email.rpartition("@")[2]
        if not email and not domain:
            return False
        if self._seen_changes != _CHANGES.count:
            self._domains.clear()
            self._seen_changes = _CHANGES.count
        covering = _domains_covering(domain.lower().rstrip(".")) if domain else []
        if domain and not email:
            known = self._domains.get(covering[0])
            if known is not None:
                return known
        async with self.db.read_session() as session:  # a read on the hot path: no commit
            found = await any_covering(session, email.lower() if email else None, covering)
        if domain and not email:
            self._domains[covering[0]] = found
        return found

    async def filter_addresses(self, domain: str, addresses: list[str]) -> list[str]:
        """``addresses`` without the suppressed ones (all of them when ``domain`` is)."""
        if await self.suppressed(domain=domain):
            return []
        if not addresses:
            return addresses
        async with self.db.read_session() as session:
            taken = await suppressed_emails(session, [a.lower() for a in addresses])
        return [a for a in addresses if a.lower() not in taken]
