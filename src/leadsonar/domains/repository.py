"""Queries about domains and imported contacts (DESIGN.md §2a: queries live in repositories;
callers commit at their edge).

Imported contacts belong to one account; what is learned about domains is shared knowledge
(docs/architecture.md, "Tenancy"). Reads for the lookup hot path run in read sessions of their
own (never committed, never held across DNS, SMTP or HTTP); writes take the caller's session
and only flush: what a lookup learned is written by :meth:`DomainKnowledge.persist
<leadsonar.domains.knowledge.DomainKnowledge.persist>` (:func:`store_learned`), imports by the
CLI's unit of work (:func:`learn_address`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Integer, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

# module attributes, not names: contacts.py imports this module (import_rows learns patterns)
from leadsonar.domains import contacts, patterns
from leadsonar.domains.models import (
    CompanyDomain,
    DomainFacts,
    DomainPattern,
    KnownContact,
    LearnedAddress,
)
from leadsonar.kit.db import Database, upsert

if TYPE_CHECKING:
    from leadsonar.domains.knowledge import Learned


class StoredFacts(NamedTuple):
    """The catch-all and block columns of a ``domain_facts`` row."""

    catch_all: bool | None
    catch_all_checked_at: datetime | None
    blocked_until: datetime | None
    blocked_reason: str | None


_STORED_FACTS = select(
    DomainFacts.catch_all,
    DomainFacts.catch_all_checked_at,
    DomainFacts.blocked_until,
    DomainFacts.blocked_reason,
).where(DomainFacts.domain == bindparam("domain"))


async def stored_facts(db: Database, domain: str) -> StoredFacts | None:
    """The domain's catch-all and block columns (not the crawl, often kilobytes of JSON), in a
    read of its own (:meth:`Database.fetch`): the prober asks mid-lookup, outside any unit of
    work."""
    row = await db.fetch_first(_STORED_FACTS, {"domain": domain})
    return StoredFacts(*row) if row is not None else None


class ImportedContact(NamedTuple):
    """What the ``known`` provider needs of an imported contact."""

    email: str | None
    phone: str | None


def _contact_query(by_domain: bool) -> Any:
    """The newest contact of an account with a name key at a domain (``by_domain``) or at a
    company of that name (case-insensitive): built once, bound per call."""
    query = select(KnownContact.email, KnownContact.phone).where(
        # typed: the foreign key's column type is resolved too late for the bind to take it,
        # and a grouped read (Database.fetch_first) needs every bind's type
        KnownContact.account_id == bindparam("account", type_=Integer),
        KnownContact.name_key == bindparam("name_key"),
    )
    if by_domain:
        query = query.where(KnownContact.domain == bindparam("where"))
    else:
        query = query.where(func.lower(KnownContact.company) == bindparam("where", type_=String))
    return query.order_by(KnownContact.id.desc()).limit(1)


# Prebuilt (asked on every lookup's cache miss): no statement built and cache-keyed per call.
_CONTACT_BY_DOMAIN = _contact_query(True)
_CONTACT_BY_COMPANY = _contact_query(False)


def _contact_params(
    first: str, last: str, domain: str | None, company: str | None, account_id: int
) -> dict[str, Any]:
    return {
        "account": account_id,
        "name_key": contacts.name_key(first, last),
        "where": domain if domain else (company or "").strip().lower(),
    }


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


async def earlier_company_answers(
    db: Database, name: str, key: str
) -> tuple[list[CompanyDomain], str | None]:
    """What is already known of the company ``name`` (folded to ``key`` by
    :func:`~leadsonar.domains.companies.names.company_key`), read in a read session of its own
    (never committed, nothing locked; the company resolver holds no transaction across its
    DNS and HTTP work).

    Returns:
        ``(rows, contact_domain)``: the ``company_domains`` rows of ``key``, newest first
        (imported, resolved and unresolved answers, with ``checked_at`` naive on SQLite), and
        the domain imported contacts show for ``name`` (:func:`domain_for_company`), read only
        when no imported row has a domain (``None`` then, as when no contact has one).
    """
    async with db.read_session() as session:
        rows = list(
            (
                await session.scalars(
                    select(CompanyDomain)
                    .where(CompanyDomain.name_key == key)
                    .order_by(CompanyDomain.id.desc())
                )
            ).all()
        )
        if any(row.source == "import" and row.domain for row in rows):
            return rows, None
        return rows, await domain_for_company(session, name)


_ADDRESSES = (
    select(func.lower(KnownContact.email))
    .where(
        KnownContact.account_id == bindparam("account"),
        KnownContact.name_key == bindparam("name_key"),
        KnownContact.domain == bindparam("domain"),
        KnownContact.email.is_not(None),
    )
    .distinct()
)


async def count_namesakes(
    db: Database, first: str, last: str, domain: str, account_id: int | None
) -> int:
    """How many different addresses ``account_id``'s imported people named ``first last`` have
    at ``domain`` (0 without an account), in a read of its own."""
    if account_id is None:
        return 0
    params = {"account": account_id, "name_key": contacts.name_key(first, last), "domain": domain}
    return len(await db.fetch(_ADDRESSES, params))


_CRAWL_TIME = select(DomainFacts.crawled_at).where(
    DomainFacts.domain == bindparam("domain"), DomainFacts.crawl.is_not(None)
)
_STORED_CRAWL = select(DomainFacts.crawled_at, DomainFacts.crawl).where(
    DomainFacts.domain == bindparam("domain")
)


async def crawl_time(db: Database, domain: str) -> datetime | None:
    """When the domain's stored crawl was made (``None``: no crawl stored), in a read of its
    own; one small column, so a caller holding a parsed copy can tell whether it is current."""
    row = await db.fetch_first(_CRAWL_TIME, {"domain": domain})
    return None if row is None else row[0]


async def stored_crawl(db: Database, domain: str) -> tuple[datetime | None, Any] | None:
    """``(crawled_at, crawl JSON)`` of the domain's stored crawl, or ``None``, in a read of its
    own."""
    row = await db.fetch_first(_STORED_CRAWL, {"domain": domain})
    if row is None or row[1] is None:
        return None
    return row[0], row[1]


async def imported_contact(
    db: Database,
    first: str,
    last: str,
    domain: str | None,
    company: str | None,
    account_id: int | None,
) -> ImportedContact | None:
    """The newest contact ``account_id`` imported with this name at ``domain`` (or, without a
    domain, at a company of the same name, case-insensitive); ``None`` without an account.
    In a read of its own, no transaction (the ``known`` provider asks mid-lookup;
    :meth:`Database.fetch`)."""
    if account_id is None or not (domain or company):
        return None
    row = await db.fetch_first(
        _CONTACT_BY_DOMAIN if domain else _CONTACT_BY_COMPANY,
        _contact_params(first, last, domain, company, account_id),
    )
    return None if row is None else ImportedContact(row[0], row[1])


_EVIDENCE = select(DomainPattern.pattern, DomainPattern.evidence).where(
    DomainPattern.domain == bindparam("domain"), DomainPattern.last_seen_at >= bindparam("since")
)


def _evidence_counts(
    connection: Connection, domain: str, ttl: timedelta = patterns.PATTERN_TTL
) -> dict[str, int]:
    rows = connection.execute(_EVIDENCE, {"domain": domain, "since": datetime.now(UTC) - ttl})
    return {pattern: int(evidence) for pattern, evidence in rows.all()}


async def domain_evidence(
    db: Database, domain: str, ttl: timedelta = patterns.PATTERN_TTL
) -> patterns.DomainEvidence:
    """The domain's learned patterns and spelling, seen within ``ttl`` (one query, in a read
    of its own)."""
    rows = await db.fetch(_EVIDENCE, {"domain": domain, "since": datetime.now(UTC) - ttl})
    return patterns.DomainEvidence.from_counts({p: int(evidence) for p, evidence in rows})


async def learned_patterns(
    session: AsyncSession, domain: str, ttl: timedelta = patterns.PATTERN_TTL
) -> list[tuple[str, int]]:
    """The domain's patterns seen within ``ttl``, most evidence first: ``[(pattern, count)]``."""
    counts = await session.run_sync(lambda sync: _evidence_counts(sync.connection(), domain, ttl))
    return patterns.DomainEvidence.from_counts(counts).patterns


async def popular_patterns(
    db: Database, ttl: timedelta = patterns.PATTERN_TTL, min_domains: int = 1
) -> list[str]:
    """Patterns seen at ``min_domains`` domains or more (within ``ttl``), most domains first,
    in a read of its own.

    This is the second key of candidate order: after the domain's own learned patterns, the
    patterns most common across the domains this installation has seen.
    """
    since = datetime.now(UTC) - ttl
    # every domain's patterns grouped: not a point read, so off the loop (not read_sync)
    async with db.read_session() as session:
        rows = await session.execute(
            select(DomainPattern.pattern, func.count())
            .where(DomainPattern.last_seen_at >= since)
            .where(DomainPattern.pattern.not_like(f"{patterns.STYLE_PREFIX}%"))
            .group_by(DomainPattern.pattern)
            .having(func.count() >= min_domains)
            .order_by(func.count().desc(), DomainPattern.pattern)
        )
        return [pattern for pattern, _ in rows.all()]


async def add_evidence(session: AsyncSession, domain: str, counts: dict[str, int]) -> None:
    """Add ``counts`` (``{pattern: units}``) of evidence at ``domain`` (A-label), in pattern
    order; only flushes."""
    now = datetime.now(UTC)
    for pattern in sorted(counts):
        units = counts[pattern]
        await upsert(
            session,
            DomainPattern,
            {"domain": domain, "pattern": pattern, "evidence": units, "last_seen_at": now},
            keys=["domain", "pattern"],
            update={"evidence": DomainPattern.evidence + units, "last_seen_at": now},
        )


async def first_sight(session: AsyncSession, email: str) -> bool:
    """Record that ``email`` (lower case) taught its domain; ``False`` when it already had.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` into ``learned_addresses`` (SHA-256 of
    the address, so the shared table holds no tenant's address).
    """
    digest = _address_hash(email)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(LearnedAddress)
        .values(address_hash=digest)
        .on_conflict_do_nothing(index_elements=["address_hash"])
        .returning(LearnedAddress.address_hash)
    )
    return (await session.execute(statement)).first() is not None


def _address_hash(email: str) -> str:
    return hashlib.sha256(email.encode("utf-8")).hexdigest()


async def taught_already(db: Database, emails: list[str]) -> set[str]:
    """Which of ``emails`` (lower case) already taught their domain (``learned_addresses``),
    in a read of its own."""
    hashes = {_address_hash(email): email for email in emails}
    if not hashes:
        return set()
    found = await db.read_sync(
        lambda connection: connection.scalars(
            select(LearnedAddress.address_hash).where(LearnedAddress.address_hash.in_(hashes))
        ).all()
    )
    return {hashes[digest] for digest in found}


async def learn_address(session: AsyncSession, email: str, first: str, last: str) -> list[str]:
    """Learn from a known ``email`` of the person ``first last``; each address counts once
    (imported twice, found by the prober and published on the site: one unit of evidence).
    Only flushes; the caller commits.

    Returns:
        The pattern names the address matched (empty when it matches none, e.g. ``jd123@…``,
        or when the address already taught its domain).
    """
    domain, matched, evidence = patterns.lessons(email, first, last)
    if not domain:
        return []
    if not await first_sight(session, email.strip().lower()):
        return []
    if evidence:
        await add_evidence(session, domain, dict.fromkeys(evidence, 1))
    return matched


async def store_learned(session: AsyncSession, learned: Learned) -> None:
    """Write what lookups learned (:class:`~leadsonar.domains.knowledge.Learned`) in the
    caller's transaction; only flushes.

    Rows are written in one fixed order — ``domain_facts`` by domain, ``learned_addresses`` by
    hash, ``domain_patterns`` by (domain, pattern), then ``company_domains`` — so that two
    lookups persisting at once on PostgreSQL take their row locks in the same order and never
    deadlock. Each address teaches its domain once (:func:`first_sight`).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database refused a statement (the caller's scope
            rolls back; :meth:`DomainKnowledge.persist` logs it and goes on).
    """
    for domain in sorted(learned.facts):
        columns = learned.facts[domain]
        await upsert(session, DomainFacts, {"domain": domain, **columns}, keys=["domain"])
    taught: dict[str, Counter[str]] = {}
    by_hash = sorted(
        learned.addresses.items(),
        key=lambda item: _address_hash(item[0]),
    )
    for address, (first, last) in by_hash:
        domain, _, evidence = patterns.lessons(address, first, last)
        if domain and await first_sight(session, address):
            taught.setdefault(domain, Counter()).update(evidence)
    for domain in sorted(taught):
        await add_evidence(session, domain, dict(taught[domain]))
    for row in learned.companies:
        session.add(CompanyDomain(**row))
    await session.flush()
