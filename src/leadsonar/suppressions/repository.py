"""The suppression queries (DESIGN.md §2a: queries live in repositories; callers commit).

Every function takes the caller's session and only reads, adds or flushes; the request, the
CLI command or the job item that opened the session commits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.models import DomainFacts, KnownContact
from leadsonar.enrichment.models import EnrichmentItem
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
