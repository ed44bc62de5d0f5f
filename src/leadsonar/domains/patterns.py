"""Learned address patterns per domain, with counts and a TTL.

Every address LeadSonar sees at a domain (imported contacts, verified finds, later addresses
published on the web) adds one unit of evidence to each pattern that reproduces it. Candidates for
the next person at that domain try the best-evidenced pattern first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.candidates import infer_patterns, infer_umlaut_style
from leadsonar.domains.models import DomainPattern, LearnedAddress
from leadsonar.kit.db import upsert

PATTERN_TTL = timedelta(days=365)
# Spelling evidence kept beside the patterns: how the domain's addresses spell umlauts.
STYLE_PREFIX = "~"
UMLAUTS_SPELLED = "~umlauts-spelled"
UMLAUTS_PLAIN = "~umlauts-plain"


async def add_evidence(session: AsyncSession, domain: str, patterns: list[str]) -> None:
    """Add one unit of evidence at ``domain`` (A-label) for each pattern name in ``patterns``."""
    if not patterns:
        return
    now = datetime.now(UTC)
    for pattern in dict.fromkeys(patterns):
        await upsert(
            session,
            DomainPattern,
            {"domain": domain, "pattern": pattern, "evidence": 1, "last_seen_at": now},
            keys=["domain", "pattern"],
            update={"evidence": DomainPattern.evidence + 1, "last_seen_at": now},
        )


async def first_sight(session: AsyncSession, email: str) -> bool:
    """Record that ``email`` (lower case) taught its domain; ``False`` when it already had.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` into ``learned_addresses`` (SHA-256 of
    the address, so the shared table holds no tenant's address).
    """
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(LearnedAddress)
        .values(address_hash=digest)
        .on_conflict_do_nothing(index_elements=["address_hash"])
        .returning(LearnedAddress.address_hash)
    )
    return (await session.execute(statement)).first() is not None


async def learn_address(session: AsyncSession, email: str, first: str, last: str) -> list[str]:
    """Learn from a known ``email`` of the person ``first last``; each address counts once
    (imported twice, found by the prober and published on the site: one unit of evidence).

    Returns:
        The pattern names the address matched (empty when it matches none, e.g. ``jd123@…``,
        or when the address already taught its domain).
    """
    local, _, domain = email.strip().lower().rpartition("@")
    if not local or not domain:
        return []
    if not await first_sight(session, f"{local}@{domain}"):
        return []
    patterns = infer_patterns(local, first, last)
    await add_evidence(session, domain, patterns)
    style = infer_umlaut_style(local, first, last)
    if style is not None:
        await add_evidence(session, domain, [UMLAUTS_SPELLED if style else UMLAUTS_PLAIN])
    return patterns


@dataclass(frozen=True)
class DomainEvidence:
    """What a domain's known addresses show.

    Attributes:
        patterns: ``[(pattern, count)]``, most evidence first.
        umlauts_spelled: the addresses spell umlauts out (``True``: ``joerg``), plainly
            (``False``: ``jorg``), or have not shown it (``None``).
    """

    patterns: list[tuple[str, int]]
    umlauts_spelled: bool | None


async def domain_evidence(
    session: AsyncSession, domain: str, ttl: timedelta = PATTERN_TTL
) -> DomainEvidence:
    """The domain's learned patterns and spelling, seen within ``ttl`` (one query)."""
    since = datetime.now(UTC) - ttl
    rows = await session.execute(
        select(DomainPattern.pattern, DomainPattern.evidence)
        .where(DomainPattern.domain == domain, DomainPattern.last_seen_at >= since)
        .order_by(DomainPattern.evidence.desc(), DomainPattern.pattern)
    )
    patterns: list[tuple[str, int]] = []
    styles: dict[str, int] = {}
    for pattern, evidence in rows.all():
        if pattern.startswith(STYLE_PREFIX):
            styles[pattern] = int(evidence)
        else:
            patterns.append((pattern, int(evidence)))
    spelled, plain = styles.get(UMLAUTS_SPELLED, 0), styles.get(UMLAUTS_PLAIN, 0)
    return DomainEvidence(patterns, None if spelled == plain else spelled > plain)


async def learned_patterns(
    session: AsyncSession, domain: str, ttl: timedelta = PATTERN_TTL
) -> list[tuple[str, int]]:
    """The domain's patterns seen within ``ttl``, most evidence first: ``[(pattern, count)]``."""
    return (await domain_evidence(session, domain, ttl)).patterns


async def popular_patterns(
    session: AsyncSession, ttl: timedelta = PATTERN_TTL, min_domains: int = 1
) -> list[str]:
    """Patterns seen at ``min_domains`` domains or more (within ``ttl``), most domains first.

    This is the second key of candidate order: after the domain's own learned patterns, the
    patterns most common across the domains this installation has seen.
    """
    since = datetime.now(UTC) - ttl
    rows = await session.execute(
        select(DomainPattern.pattern, func.count())
        .where(DomainPattern.last_seen_at >= since)
        .where(DomainPattern.pattern.not_like(f"{STYLE_PREFIX}%"))
        .group_by(DomainPattern.pattern)
        .having(func.count() >= min_domains)
        .order_by(func.count().desc(), DomainPattern.pattern)
    )
    return [pattern for pattern, _ in rows.all()]
