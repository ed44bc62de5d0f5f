"""The ledger's queries: entries are appended, balance rows changed by single statements.

Every function here only executes statements in the caller's session; the caller's edge (the
request's or job item's unit of work) commits. Both SQLite (3.35+, for ``RETURNING``) and
PostgreSQL run the same statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Connection,
    Integer,
    Table,
    bindparam,
    case,
    column,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect

from leadsonar.accounts.models import Account
from leadsonar.kit.db import Database, upsert
from leadsonar.ledger.models import AccountBalance, LedgerEntry


async def append_entry(
    session: AsyncSession, account_id: int, amount: int, reason: str, reference: str | None
) -> None:
    """``INSERT`` one ledger entry (``amount`` in credits, negative for charges)."""
    await session.execute(
        insert(LedgerEntry).values(
            account_id=account_id, amount=amount, reason=reason, reference=reference
        )
    )


async def credit(session: AsyncSession, account_id: int, credits: int) -> None:
    """Add ``credits`` (> 0) to the balance row and to ``total_earned``, creating the row when
    the account has none (one ``INSERT … ON CONFLICT DO UPDATE``)."""
    await upsert(
        session,
        AccountBalance,
        {
            "account_id": account_id,
            "balance": credits,
            "total_earned": credits,
            "total_spent": 0,
        },
        keys=["account_id"],
        update={
            "balance": AccountBalance.balance + credits,
            "total_earned": AccountBalance.total_earned + credits,
        },
    )


_BALANCES = cast(Table, AccountBalance.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)
# Built once, on the tables (Core): every charge batch runs them, and the ORM's bulk
# update/insert path costs more CPU than the round trip itself.
_DEBIT = (
    update(_BALANCES)
    .where(
        _BALANCES.c.account_id == bindparam("account"),
        _BALANCES.c.balance >= bindparam("credits"),
    )
    .values(
        balance=_BALANCES.c.balance - bindparam("credits"),
        total_spent=_BALANCES.c.total_spent + bindparam("credits"),
    )
    .returning(_BALANCES.c.balance)
)
# the entry's columns named (``created_at`` is the server's ``now()``, never sent), so the
# statement can be prebuilt for the SQLite driver (Database.execute_in)
_APPEND = insert(_ENTRIES).values(
    account_id=bindparam("account_id"),
    amount=bindparam("amount"),
    reason=bindparam("reason"),
    reference=bindparam("reference"),
)


async def debit(session: AsyncSession, account_id: int, credits: int) -> int | None:
    """Take ``credits`` (> 0) from the balance row only while it covers them, in one
    conditional statement::

        UPDATE account_balances SET balance = balance - :n, total_spent = total_spent + :n
        WHERE account_id = :id AND balance >= :n RETURNING balance

    Returns:
        the new balance, or ``None`` when nothing was taken (balance too low, or no row).

    Concurrent debits serialise on the row (PostgreSQL re-checks the condition after the row
    lock; SQLite has one writer), so the balance can never go below zero.
    """
    balance = (await session.execute(_DEBIT, {"account": account_id, "credits": credits})).scalar()
    return None if balance is None else int(balance)


async def balance_row(session: AsyncSession, account_id: int) -> tuple[int, int, int]:
    """``(balance, total_earned, total_spent)`` from the balance row; zeros when it has none."""
    row = (
        await session.execute(
            select(
                AccountBalance.balance, AccountBalance.total_earned, AccountBalance.total_spent
            ).where(AccountBalance.account_id == account_id)
        )
    ).one_or_none()
    if row is None:
        return 0, 0, 0
    return int(row[0]), int(row[1]), int(row[2])


@dataclass(frozen=True)
class Mismatch:
    """An account whose balance row disagrees with its entries (what ``ledger check`` shows).

    Attributes:
        account: the account's name.
        row: ``(balance, total_earned, total_spent)`` from the balance row (zeros when missing).
        entries: the same three figures summed over the account's ledger entries.
    """

    account: str
    row: tuple[int, int, int]
    entries: tuple[int, int, int]


async def mismatches(session: AsyncSession) -> list[Mismatch]:
    """Every account whose balance row does not equal the sums of its entries (one query:
    the entries grouped per account, joined to the balance rows)."""
    sums = (
        select(
            LedgerEntry.account_id.label("account_id"),
            func.sum(LedgerEntry.amount).label("balance"),
            func.sum(case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0)).label("earned"),
            func.sum(case((LedgerEntry.amount < 0, -LedgerEntry.amount), else_=0)).label("spent"),
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    row_balance = func.coalesce(AccountBalance.balance, 0)
    row_earned = func.coalesce(AccountBalance.total_earned, 0)
    row_spent = func.coalesce(AccountBalance.total_spent, 0)
    sum_balance = func.coalesce(sums.c.balance, 0)
    sum_earned = func.coalesce(sums.c.earned, 0)
    sum_spent = func.coalesce(sums.c.spent, 0)
    rows = await session.execute(
        select(Account.name, row_balance, row_earned, row_spent, sum_balance, sum_earned, sum_spent)
        .select_from(Account)
        .outerjoin(AccountBalance, AccountBalance.account_id == Account.id)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(
            or_(
                row_balance != sum_balance,
                row_earned != sum_earned,
                row_spent != sum_spent,
                row_balance < literal_column("0"),
            )
        )
        .order_by(Account.name)
    )
    return [
        Mismatch(str(r[0]), (int(r[1]), int(r[2]), int(r[3])), (int(r[4]), int(r[5]), int(r[6])))
        for r in rows.all()
    ]


def debit_now(db: Database, connection: Connection, account_id: int, credits: int) -> int | None:
    """:func:`debit` on a synchronous connection (the group-committed charges,
    :meth:`leadsonar.kit.db.Database.write_sync`, the statement run by
    :meth:`~leadsonar.kit.db.Database.execute_in`); :func:`debit` runs it in its session."""
    rows = db.execute_in(connection, _DEBIT, [{"account": account_id, "credits": credits}])
    return int(rows[0][0]) if rows else None


# PostgreSQL: a conditional debit and the entries of the charges it pays, in one statement (so
# in one round trip and, in autocommit mode, one transaction). The entries are inserted only
# when the debit took the row (``FROM debited``): a balance that does not cover the total
# writes nothing.
_DEBIT_WITH_ENTRIES = text(
    """
    WITH debited AS (
        UPDATE account_balances
           SET balance = balance - :total, total_spent = total_spent + :total
         WHERE account_id = :account AND balance >= :total
     RETURNING account_id
    )
    INSERT INTO ledger_entries (account_id, amount, reason, reference)
    SELECT debited.account_id, entry.amount, entry.reason, entry.reference
      FROM debited,
           unnest(CAST(:amounts AS integer[]), CAST(:reasons AS text[]),
                  CAST(:references AS text[])) AS entry(amount, reason, reference)
    RETURNING 1 AS taken
    """
).columns(column("taken", Integer))


def debit_with_entries(
    account_id: int, charges: list[tuple[int, str, str | None]]
) -> tuple[TextualSelect, dict[str, object]]:
    """PostgreSQL only: the statement (and its values) that takes the charges' total from the
    balance row only while it covers it and appends one entry per charge (``(credits, reason,
    reference)``, credits > 0). It returns a row per entry when it did, none when it did not
    (then nothing was written).

    Run it in autocommit mode (:meth:`leadsonar.kit.db.Database.write_statement`): one round
    trip, atomic by itself. The row lock of the ``UPDATE`` serialises concurrent debits as
    :func:`debit` does.
    """
    total = sum(credits for credits, _, _ in charges)
    return _DEBIT_WITH_ENTRIES, {
        "total": total,
        "account": account_id,
        "amounts": [-credits for credits, _, _ in charges],
        "reasons": [reason for _, reason, _ in charges],
        "references": [reference for _, _, reference in charges],
    }


def append_entries(db: Database, connection: Connection, rows: list[dict[str, object]]) -> None:
    """``INSERT`` many ledger entries in one round trip (``executemany``) on a synchronous
    connection (:meth:`~leadsonar.kit.db.Database.execute_in`); each row has ``account_id``,
    ``amount``, ``reason`` and ``reference``."""
    db.execute_in(connection, _APPEND, rows)


def locked_balance(connection: Connection, account_id: int) -> int:
    """The balance row's balance, locked until the transaction ends (``SELECT … FOR UPDATE``
    on PostgreSQL; a SQLite write transaction already holds the database's write lock)."""
    query = select(AccountBalance.balance).where(AccountBalance.account_id == account_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    value = connection.scalar(query)
    return int(value or 0)


async def daily_totals(
    session: AsyncSession, account_id: int, since: datetime
) -> dict[str, tuple[int, int, int]]:
    """The account's entries from ``since`` (aware, UTC) on, summed per UTC day (a report: it
    reads only that account's entries of those days, through the ``account_id`` index).

    Returns:
        ``{"2026-12-01": (spent, refunded, granted), …}`` in credits, days without entries
        absent: ``spent`` sums charges, ``refunded`` refunds (``refund*`` reasons), ``granted``
        other additions (grants, initial credits).
    """
    day = func.date(LedgerEntry.created_at)
    refund = LedgerEntry.reason.startswith("refund")
    rows = await session.execute(
        select(
            day,
            func.coalesce(
                func.sum(case((LedgerEntry.amount < 0, -LedgerEntry.amount), else_=0)), 0
            ),
            func.coalesce(
                func.sum(case(((LedgerEntry.amount > 0) & refund, LedgerEntry.amount), else_=0)), 0
            ),
            func.coalesce(
                func.sum(case(((LedgerEntry.amount > 0) & ~refund, LedgerEntry.amount), else_=0)),
                0,
            ),
        )
        .where(LedgerEntry.account_id == account_id, LedgerEntry.created_at >= since)
        .group_by(day)
    )
    return {str(d): (int(s), int(r), int(g)) for d, s, r, g in rows.all()}
