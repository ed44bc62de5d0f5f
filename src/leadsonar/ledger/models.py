"""The credit ledger: append-only entries, and one balance row per account kept beside them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from leadsonar.kit.db import Base


class LedgerEntry(Base):
    """One change of an account's credits.

    ``amount`` is in credits: positive for grants and refunds, negative for charges. Rows are
    never updated or deleted; operators report on them in SQL.
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountBalance(Base):
    """An account's credits as of its newest ledger entry, updated in the same transaction as
    each entry (so reading a balance never sums the entries).

    Invariants (checked by ``leadsonar ledger check``): ``balance`` is the sum of the account's
    entries, ``total_earned`` the sum of its positive entries (grants and refunds),
    ``total_spent`` the negated sum of its negative entries (charges); ``balance >= 0``.
    """

    __tablename__ = "account_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_account_balances_not_negative"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), primary_key=True
    )
    balance: Mapped[int] = mapped_column(Integer, default=0)
    total_earned: Mapped[int] = mapped_column(Integer, default=0)
    total_spent: Mapped[int] = mapped_column(Integer, default=0)
