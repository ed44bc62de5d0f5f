"""Bulk-job queries (DESIGN.md §2a: queries live in repositories; the edge commits)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from leadsonar.enrichment.models import EnrichmentItem
from leadsonar.kit.db import Database


async def item_page(db: Database, job_id: str, after: int, limit: int) -> Sequence[EnrichmentItem]:
    """Up to ``limit`` rows of the job after position ``after``, in position order, read in a
    read of their own (results.csv streams page by page and holds no transaction while the
    client reads)."""
    async with db.read_session() as session:
        rows = await session.scalars(
            select(EnrichmentItem)
            .where(EnrichmentItem.job_id == job_id, EnrichmentItem.position > after)
            .order_by(EnrichmentItem.position)
            .limit(limit)
        )
        return rows.all()
