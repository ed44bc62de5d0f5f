"""Learned address patterns per domain, with counts and a TTL.

Every address LeadSonar sees at a domain (imported contacts, verified finds, later addresses
published on the web) adds one unit of evidence to each pattern that reproduces it. Candidates for
the next person at that domain try the best-evidenced pattern first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.candidates import infer_patterns
from leadsonar.domains.models import DomainPattern

PATTERN_TTL = timedelta(days=365)


async def add_evidence(session: AsyncSession, domain: str, patterns: list[str]) -> None:
    """Add one unit of evidence at ``domain`` (A-label) for each pattern name in ``patterns``."""
    if not patterns:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = datetime.now(UTC)
    for pattern in dict.fromkeys(patterns):
        statement = insert(DomainPattern).values(
            domain=domain, pattern=pattern, evidence=1, last_seen_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[DomainPattern.domain, DomainPattern.pattern],
            set_={"evidence": DomainPattern.evidence + 1, "last_seen_at": now},
        )
        await session.execute(statement)


async def learn_address(session: AsyncSession, email: str, first: str, last: str) -> list[str]:
    """Learn from a known ``email`` of the person ``first last``.

    Returns:
        The pattern names the address matched (empty when it matches none, e.g. ``jd123@…``).
    """
    local, _, domain = email.strip().lower().rpartition("@")
    if not local or not domain:
        return []
    patterns = infer_patterns(local, first, last)
    await add_evidence(session, domain, patterns)
    return patterns


async def learned_patterns(
    session: AsyncSession, domain: str, ttl: timedelta = PATTERN_TTL
) -> list[tuple[str, int]]:
    """The domain's patterns seen within ``ttl``, most evidence first: ``[(pattern, count)]``."""
    since = datetime.now(UTC) - ttl
    rows = await session.execute(
        select(DomainPattern.pattern, DomainPattern.evidence)
        .where(DomainPattern.domain == domain, DomainPattern.last_seen_at >= since)
        .order_by(DomainPattern.evidence.desc(), DomainPattern.pattern)
    )
    return [(pattern, int(evidence)) for pattern, evidence in rows.all()]
