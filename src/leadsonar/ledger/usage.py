"""Credits used per day, for the dashboard's chart (``GET /credits/usage``).

A report, so it may sum ledger entries (CONVENTIONS habit 10: never per lookup); it reads only
the account's entries of the last ``days`` days, through the ``account_id`` index.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.ledger import repository


async def usage_by_day(
    session: AsyncSession, account_id: int, days: int, today: date | None = None
) -> list[dict[str, object]]:
    """One row per UTC day, oldest first, the last ``days`` days including today, days without
    entries included as zeros.

    Returns:
        ``[{"date": "2026-12-01", "spent": 40, "refunded": 3, "granted": 0}, …]`` in credits:
        ``spent`` sums charges, ``refunded`` refunds (``refund:*`` entries), ``granted`` other
        additions (grants, initial credits).
    """
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    totals = await repository.daily_totals(session, account_id, since)
    out: list[dict[str, object]] = []
    for offset in range(days):
        key = (first + timedelta(days=offset)).isoformat()
        spent, refunded, granted = totals.get(key, (0, 0, 0))
        out.append({"date": key, "spent": spent, "refunded": refunded, "granted": granted})
    return out
