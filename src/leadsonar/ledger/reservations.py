"""Charges of concurrent requests committed together (group commit).

A lookup's charge is a short reservation that must be committed before the lookup does any
network I/O. Committed one by one, every charge of an account queues on the same balance row (and
on SQLite on the one write lock) for a whole transaction's round trips, which caps an account's
requests per second at one transaction time. :class:`Reservations` instead gathers the charges
that arrive while a transaction is being written and commits them in the next one:

- per account, one conditional ``UPDATE … SET balance = balance - :total WHERE balance >=
  :total`` takes the whole batch when the balance covers it;
- otherwise the row is locked, the charges that fit are taken in arrival order (one conditional
  ``UPDATE`` for their total) and the others are refused with :class:`InsufficientCredits`,
  nothing written for them;
- the accepted charges' entries are appended with one ``executemany`` in the same transaction;
- every waiting request learns its outcome only once that transaction committed.

On PostgreSQL each account's charges are one statement in autocommit mode, run on the event
loop's pooled connections (:meth:`~leadsonar.kit.db.Database.write_statement`). Otherwise (on
SQLite, and on PostgreSQL for an account whose balance did not cover its charges) the batch is
written by synchronous statements in one transaction
(:meth:`~leadsonar.kit.db.Database.write_sync`: on a SQLite file inline on the event loop's
thread while the write lock is free, else on the database's writer thread, so a wait for the
lock or a PostgreSQL round trip never holds up the loop).

So the ledger's guarantees are those of :func:`leadsonar.ledger.service.charge` (never below
zero, entries and balance rows in step), with one transaction per batch instead of per request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from weakref import WeakKeyDictionary

from sqlalchemy import Connection

from leadsonar.exceptions import InsufficientCredits
from leadsonar.kit import metrics
from leadsonar.kit.db import Database
from leadsonar.ledger import repository

GATHER_SECONDS = 0.001
"""Longest a charge waits for others under concurrent load before its batch is written."""
FULL_BATCH = 8
"""Charges already waiting that make a batch worth writing without gathering more."""


@dataclass
class _Charge:
    account_id: int
    credits: int
    reason: str
    reference: str | None
    done: asyncio.Future[None] = field(repr=False)


class Reservations:
    """Group-committed charges on one database (see the module docstring).

    Args:
        db: the database; its write sessions hold the batches.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[_Charge] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written (for benchmarks and tests)
        self._last_batch = 0  # charges in the last batch written

    async def charge(
        self, account_id: int, credits: int, reason: str, reference: str | None = None
    ) -> None:
        """Take ``credits`` (> 0) from the account; returns once the charge is committed.

        Raises:
            InsufficientCredits: the balance did not cover it (nothing was written for it).
            Exception: the batch's transaction failed (nothing was written for it), or on
                PostgreSQL its statement's connection broke, when it may have committed
                without the answer arriving (in doubt, as any lost ``COMMIT`` reply).
        """
        loop = asyncio.get_running_loop()
        pending = _Charge(account_id, credits, reason, reference, loop.create_future())
        self._pending.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="leadsonar-reservations")
        await asyncio.shield(pending.done)

    async def _write(self) -> None:
        while self._pending:
            # A batch costs about one transaction's work (statements, commit) whether it
            # holds one charge or sixteen. Under concurrent load (the last batch held more
            # than one) the charges wait GATHER_SECONDS for the others while fewer are
            # waiting than the last batch held (more are on their way) and fewer than
            # FULL_BATCH: batches of two or three became about twice as large, a tenth of the
            # CPU of an imported lookup saved (docs/benchmarks.md). With one request at a time
            # nothing waits, nor when every charge of the last batch is back already.
            if len(self._pending) < min(self._last_batch, FULL_BATCH):
                try:
                    await asyncio.sleep(GATHER_SECONDS)
                except asyncio.CancelledError:
                    for pending in self._pending:
                        if not pending.done.done():
                            pending.done.cancel()
                    raise
            batch, self._pending = self._pending, []
            self._last_batch = len(batch)
            # The batch's statements run to their end even when this writer is cancelled
            # (shutdown): its charges then learn what was written, not a cancellation.
            commit = asyncio.ensure_future(self._commit(batch))
            try:
                failed = await asyncio.shield(commit)
            except asyncio.CancelledError:
                await asyncio.wait([commit])
                if not commit.cancelled() and commit.exception() is None:
                    self._settle(batch, commit.result())
                for pending in batch + self._pending:
                    if not pending.done.done():
                        pending.done.cancel()
                raise
            except BaseException as exc:  # the batch's writing failed: nothing was taken
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            self._settle(batch, failed)

    def _settle(self, batch: list[_Charge], failed: dict[int, BaseException]) -> None:
        """Tell each charge of a written ``batch`` its outcome (``failed``: by ``id``)."""
        self.batches += 1
        for pending in batch:
            error = failed.get(id(pending))
            if error is None:
                metrics.CREDITS_CHARGED.inc(pending.credits)  # committed: count it once
                pending.done.set_result(None)
            else:
                pending.done.set_exception(error)

    async def _commit(self, batch: list[_Charge]) -> dict[int, BaseException]:
        """Write ``batch``; returns the charges that were not taken (by ``id``): refused
        (:class:`InsufficientCredits`) or failed, nothing written for any of them.

        On PostgreSQL each account's charges first try one statement in autocommit mode (the
        balance covers them: one round trip), each account's its own transaction: an account
        whose statement failed fails alone, the others' charges stand. The accounts whose
        balance did not cover theirs then go through :func:`_apply`'s transaction, which takes
        the charges that fit."""
        failed: dict[int, BaseException] = {}
        if not self.db.sqlite:
            batch, failed = await _debit_whole(self.db, batch)
            if not batch:
                return failed
        try:
            refused = await self.db.write_sync(partial(_apply, db=self.db, batch=batch))
        except Exception as exc:  # that transaction wrote nothing: only its charges failed
            refused = {id(pending): exc for pending in batch}
        return {**failed, **refused}


def _by_account(batch: list[_Charge]) -> dict[int, list[_Charge]]:
    by_account: dict[int, list[_Charge]] = {}
    for pending in batch:
        by_account.setdefault(pending.account_id, []).append(pending)
    return by_account


async def _debit_whole(
    db: Database, batch: list[_Charge]
) -> tuple[list[_Charge], dict[int, BaseException]]:
    """PostgreSQL, autocommit: per account, its charges' debit and entries in one statement
    (its own transaction). Returns the charges of the accounts whose balance did not cover
    them and the charges whose statement failed (by ``id``); nothing was written for either,
    except on a broken connection, where the statement may have committed: those charges are
    reported failed (as is a transaction whose COMMIT's answer was lost)."""
    left: list[_Charge] = []
    failed: dict[int, BaseException] = {}
    for account_id, charges in _by_account(batch).items():
        rows = [(c.credits, c.reason, c.reference) for c in charges]
        try:
            taken = await db.write_statement(*repository.debit_with_entries(account_id, rows))
        except Exception as exc:
            failed.update((id(c), exc) for c in charges)
            continue
        if not taken:
            left += charges
    return left, failed


def _apply(connection: Connection, db: Database, batch: list[_Charge]) -> dict[int, BaseException]:
    """Debit ``batch`` on ``connection`` (synchronous, in its write transaction); returns the
    refused charges (by ``id``)."""
    refused: dict[int, BaseException] = {}
    accepted: list[_Charge] = []
    for account_id, charges in _by_account(batch).items():
        total = sum(c.credits for c in charges)
        if repository.debit_now(db, connection, account_id, total) is not None:
            accepted += charges
            continue
        balance = repository.locked_balance(connection, account_id)
        fits, left = [], balance
        for pending in charges:
            if pending.credits <= left:
                fits.append(pending)
                left -= pending.credits
            else:
                refused[id(pending)] = InsufficientCredits(needed=pending.credits, balance=left)
        taken = sum(c.credits for c in fits)
        if fits and repository.debit_now(db, connection, account_id, taken) is None:
            raise RuntimeError("the locked balance changed")  # cannot happen under the lock
        accepted += fits
    repository.append_entries(
        db,
        connection,
        [
            {
                "account_id": c.account_id,
                "amount": -c.credits,
                "reason": c.reason,
                "reference": c.reference,
            }
            for c in accepted
        ],
    )
    return refused


_BY_DATABASE: WeakKeyDictionary[Database, Reservations] = WeakKeyDictionary()


def reservations_for(db: Database) -> Reservations:
    """The one :class:`Reservations` of ``db`` in this process."""
    found = _BY_DATABASE.get(db)
    if found is None:
        found = _BY_DATABASE[db] = Reservations(db)
    return found
