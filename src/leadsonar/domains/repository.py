"""Queries about domains and imported contacts (DESIGN.md §2a: queries live in repositories;
callers commit at their edge).

Imported contacts belong to one account; what is learned about domains is shared knowledge
(docs/architecture.md, "Tenancy").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.contacts import name_key
from leadsonar.domains.models import DomainFacts, KnownContact
from leadsonar.kit.db import Database


class StoredFacts(NamedTuple):
    """The catch-all and block columns of a ``domain_facts`` row."""

    catch_all: bool | None
    catch_all_checked_at: datetime | None
    blocked_until: datetime | None
    blocked_reason: str | None


async def stored_facts(db: Database, domain: str) -> StoredFacts | None:
    """The domain's catch-all and block columns (not the crawl, often kilobytes of JSON), in a
    read of its own: the prober asks mid-lookup, outside any unit of work."""
    async with db.read_session() as session:
        row = (
            await session.execute(
                select(
                    DomainFacts.catch_all,
                    DomainFacts.catch_all_checked_at,
                    DomainFacts.blocked_until,
                    DomainFacts.blocked_reason,
                ).where(DomainFacts.domain == domain)
            )
        ).first()
    return StoredFacts(*row) if row is not None else None


async def find_contact(
    session: AsyncSession,
    first: str,
    last: str,
    domain: str | None,
    company: str | None,
    account_id: int | None,
) -> KnownContact | None:
    """The newest contact ``account_id`` imported with this name at ``domain`` (or, without a
    domain, at a company of the same name, case-insensitive); ``None`` without an account."""
    if account_id is None:
        return None
    query = select(KnownContact).where(
        KnownContact.account_id == account_id, KnownContact.name_key == name_key(first, last)
    )
    if domain:
        query = query.where(KnownContact.domain == domain)
    elif company:
        query = query.where(func.lower(KnownContact.company) == company.strip().lower())
    else:
        return None
    return await session.scalar(query.order_by(KnownContact.id.desc()).limit(1))


async def domain_for_company(session: AsyncSession, company: str) -> str | None:
    """A domain for a company name from imported contacts, or ``None``.

    Company → domain is shared knowledge (DESIGN.md §6): a domain any account's contacts show
    for a company serves every account (the contacts themselves never leave their account).
    """
    return await session.scalar(
        select(KnownContact.domain)
        .where(func.lower(KnownContact.company) == company.strip().lower())
        .where(KnownContact.domain.is_not(None))
        .order_by(KnownContact.id.desc())
        .limit(1)
    )


async def count_namesakes(
    session: AsyncSession, first: str, last: str, domain: str, account_id: int | None
) -> int:
    """How many different addresses ``account_id``'s imported people named ``first last`` have
    at ``domain`` (0 without an account)."""
    if account_id is None:
        return 0
    emails = await session.scalars(
        select(func.lower(KnownContact.email))
        .where(
            KnownContact.account_id == account_id,
            KnownContact.name_key == name_key(first, last),
            KnownContact.domain == domain,
            KnownContact.email.is_not(None),
        )
        .distinct()
    )
    return len(emails.all())


async def crawl_time(db: Database, domain: str) -> datetime | None:
    """When the domain's stored crawl was made (``None``: no crawl stored), in a read of its
    own; one small column, so a caller holding a parsed copy can tell whether it is current."""
    async with db.read_session() as session:
        return await session.scalar(
            select(DomainFacts.crawled_at).where(
                DomainFacts.domain == domain, DomainFacts.crawl.is_not(None)
            )
        )


async def stored_crawl(db: Database, domain: str) -> tuple[datetime | None, Any] | None:
    """``(crawled_at, crawl JSON)`` of the domain's stored crawl, or ``None``, in a read of its
    own."""
    async with db.read_session() as session:
        row = (
            await session.execute(
                select(DomainFacts.crawled_at, DomainFacts.crawl).where(
                    DomainFacts.domain == domain
                )
            )
        ).first()
    if row is None or row.crawl is None:
        return None
    return row.crawled_at, row.crawl
