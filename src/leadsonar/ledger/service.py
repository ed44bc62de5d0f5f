"""Credits: grants, reservations (charges) and refunds.

Each change appends one row to ``ledger_entries`` (the append-only record operators report on)
and changes the account's row in ``account_balances`` in the same transaction, so reading a
balance is one primary-key lookup whatever the account's history (DESIGN.md §6, "Ledger"). A
charge is one conditional ``UPDATE … WHERE balance >= :n``: it succeeds only while the balance
covers it and writes nothing when it does not, so concurrent charges can never take the balance
below zero, on SQLite and PostgreSQL alike. Nothing here commits: the caller's edge does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.exceptions import BadRequest, InsufficientCredits
from leadsonar.ledger import repository


@dataclass(frozen=True)
class Balance:
    """An account's credits: ``balance == total_earned - total_spent`` always (integers)."""

    balance: int
    total_earned: int
    total_spent: int


async def balance_of(session: AsyncSession, account_id: int) -> Balance:
    """The account's balance row: earned = grants and refunds, spent = charges (as positive).

    One primary-key read; never a sum over the entries.
    """
    balance, earned, spent = await repository.balance_row(session, account_id)
    return Balance(balance=balance, total_earned=earned, total_spent=spent)


async def grant(
    session: AsyncSession, account_id: int, credits: int, reason: str = "grant"
) -> None:
    """Add ``credits`` (> 0) to the account.

    Raises:
        BadRequest: ``credits`` is not positive.
    """
    if credits <= 0:
        raise BadRequest("A grant must be a positive number of credits.")
    await repository.credit(session, account_id, credits)
    await repository.append_entry(session, account_id, credits, reason, None)


async def charge(
    session: AsyncSession, account_id: int, credits: int, reason: str, reference: str | None = None
) -> int:
    """Take ``credits`` (> 0) from the account, or refuse with nothing written.

    Returns:
        the balance left after the charge.

    Raises:
        InsufficientCredits: the balance is below ``credits`` (402).
    """
    left = await repository.debit(session, account_id, credits)
    if left is None:
        balance, _, _ = await repository.balance_row(session, account_id)
        raise InsufficientCredits(needed=credits, balance=balance)
    await repository.append_entry(session, account_id, -credits, reason, reference)
    return left


async def refund(
    session: AsyncSession, account_id: int, credits: int, reason: str, reference: str | None = None
) -> None:
    """Give back ``credits`` (> 0) for work that was charged and not delivered (counted as
    earned, like a grant: ``total_spent`` keeps every charge)."""
    await repository.credit(session, account_id, credits)
    await repository.append_entry(session, account_id, credits, reason, reference)


async def check(session: AsyncSession) -> list[repository.Mismatch]:
    """Accounts whose balance row disagrees with their entries (empty when the ledger holds)."""
    return await repository.mismatches(session)
