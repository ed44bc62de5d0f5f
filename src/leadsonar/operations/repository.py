"""The reads behind ``/readyz`` and ``/metrics`` (DESIGN.md §2a: queries live in repositories).

Both are reads of their own, never committed: a probe or a scrape is not a unit of work.
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.kit.db import Database


async def ping(db: Database) -> None:
    """``SELECT 1``.

    Raises:
        Exception: whatever the driver raises when the database does not answer.
    """
    async with db.read_session() as session:
        await session.execute(text("SELECT 1"))


async def status_counts(db: Database) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """``(jobs, items)``: ``[(status, count), …]`` of bulk jobs and of their rows (one grouped
    query each)."""
    async with db.read_session() as session:
        jobs = await session.execute(
            select(EnrichmentJob.status, func.count()).group_by(EnrichmentJob.status)
        )
        items = await session.execute(
            select(EnrichmentItem.status, func.count()).group_by(EnrichmentItem.status)
        )
        return [(s, int(n)) for s, n in jobs], [(s, int(n)) for s, n in items]
