"""Credits: grants, reservations (charges) and refunds as append-only ledger entries.

The balance is ``SUM(amount)`` over an account's entries. A charge reads the balance and appends
its entry inside one write transaction (``BEGIN IMMEDIATE`` on SQLite, the account row locked
``FOR UPDATE`` on PostgreSQL), so concurrent charges can never take the balance below zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.accounts.models import Account
from leadsonar.exceptions import BadRequest, InsufficientCredits
from leadsonar.kit import metrics
from leadsonar.ledger.models import LedgerEntry


@dataclass(frozen=True)
class Balance:
    """An account's credits: ``balance == total_earned - total_spent`` always (integers)."""

    balance: int
    total_earned: int
    total_spent: int


async def balance_of(session: AsyncSession, account_id: int) -> Balance:
    """Sum the account's ledger: earned = grants and refunds, spent = charges (as positive)."""
    earned, spent = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0)), 0
                ),
                func.coalesce(
                    func.sum(case((LedgerEntry.amount < 0, -LedgerEntry.amount), else_=0)), 0
                ),
            ).where(LedgerEntry.account_id == account_id)
        )
    ).one()
    return Balance(
        balance=int(earned) - int(spent), total_earned=int(earned), total_spent=int(spent)
    )


async def grant(
    session: AsyncSession, account_id: int, credits: int, reason: str = "grant"
) -> LedgerEntry:
    """Add ``credits`` (> 0) to the account."""
    if credits <= 0:
        raise BadRequest("A grant must be a positive number of credits.")
    entry = LedgerEntry(account_id=account_id, amount=credits, reason=reason)
    session.add(entry)
    await session.flush()
    return entry


async def charge(
    session: AsyncSession, account_id: int, credits: int, reason: str, reference: str | None = None
) -> LedgerEntry:
    """Take ``credits`` (> 0) from the account, or refuse with nothing written.

    Must run in a write session (:meth:`leadsonar.kit.db.Database.write_session`).

    Raises:
        InsufficientCredits: the balance is below ``credits`` (402).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
    current = await balance_of(session, account_id)
    if current.balance < credits:
        raise InsufficientCredits(needed=credits, balance=current.balance)
    entry = LedgerEntry(account_id=account_id, amount=-credits, reason=reason, reference=reference)
    session.add(entry)
    metrics.CREDITS_CHARGED.inc(credits)
    await session.flush()
    return entry


async def refund(
    session: AsyncSession, account_id: int, credits: int, reason: str, reference: str | None = None
) -> LedgerEntry:
    """Give back ``credits`` (> 0) for work that was charged and not delivered."""
    entry = LedgerEntry(account_id=account_id, amount=credits, reason=reason, reference=reference)
    session.add(entry)
    metrics.CREDITS_REFUNDED.inc(credits)
    await session.flush()
    return entry
