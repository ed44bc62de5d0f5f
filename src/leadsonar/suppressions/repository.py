"""The suppression queries (DESIGN.md §2a: queries live in repositories; callers commit).

Every function takes the caller's session and only reads, adds or flushes; the request, the
CLI command or the job item that opened the session commits it. :class:`SuppressionList` is the
read port of the lookup hot path: its checks run mid-lookup, outside any unit of work (never a
transaction across DNS, SMTP or HTTP), from a snapshot kept in memory that it checks with its
own read, never committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from cachetools import TTLCache
from sqlalchemy import bindparam, delete, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.models import DomainFacts, KnownContact
from leadsonar.enrichment.models import EnrichmentItem
from leadsonar.kit.db import Database
from leadsonar.suppressions.models import Suppression
from leadsonar.waterfall.models import LookupCache


async def find(session: AsyncSession, account_id: int, kind: str, value: str) -> Suppression | None:
    """``account_id``'s own suppression of ``value`` (``kind`` ``email`` or ``domain``)."""
    return await session.scalar(
        select(Suppression).where(
            Suppression.account_id == account_id,
            Suppression.kind == kind,
            Suppression.value == value,
        )
    )


async def insert(
    session: AsyncSession, account_id: int, kind: str, value: str, reason: str | None
) -> Suppression:
    """Add a suppression row (flushed, with its ``created_at`` loaded)."""
    row = Suppression(account_id=account_id, kind=kind, value=value, reason=reason)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def delete_one(session: AsyncSession, account_id: int, kind: str, value: str) -> int:
    """Delete ``account_id``'s own suppression of ``value``; returns the rows deleted (0 or 1)."""
    result = await session.execute(
        delete(Suppression).where(
            Suppression.account_id == account_id,
            Suppression.kind == kind,
            Suppression.value == value,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def of_account(session: AsyncSession, account_id: int) -> Sequence[Suppression]:
    """``account_id``'s own suppressions, newest first."""
    rows = await session.scalars(
        select(Suppression)
        .where(Suppression.account_id == account_id)
        .order_by(Suppression.id.desc())
    )
    return rows.all()


async def any_covering(session: AsyncSession, email: str | None, domains: Sequence[str]) -> bool:
    """Whether anyone suppressed ``email`` (lower-case) or one of ``domains`` (one indexed
    query)."""
    conditions = []
    if email:
        conditions.append((Suppression.kind == "email") & (Suppression.value == email))
    if domains:
        conditions.append((Suppression.kind == "domain") & Suppression.value.in_(list(domains)))
    if not conditions:
        return False
    found = await session.scalar(select(Suppression.id).where(or_(*conditions)).limit(1))
    return found is not None


async def suppressed_emails(session: AsyncSession, emails: Sequence[str]) -> set[str]:
    """Which of ``emails`` (lower-case) anyone suppressed."""
    rows = await session.scalars(
        select(Suppression.value).where(Suppression.kind == "email", Suppression.value.in_(emails))
    )
    return set(rows)


async def delete_contacts(session: AsyncSession, email: str) -> int:
    """Delete imported contacts with address ``email``; returns how many."""
    result = await session.execute(delete(KnownContact).where(KnownContact.email == email))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cache_entries(session: AsyncSession) -> list[tuple[str, Any]]:
    """Every lookup-cache entry as ``(key, payload)`` (erasure scans them for an address)."""
    return [
        (k, p) for k, p in (await session.execute(select(LookupCache.key, LookupCache.payload)))
    ]


async def delete_cache_entries(session: AsyncSession, keys: Sequence[str]) -> None:
    """Delete the lookup-cache entries ``keys``."""
    await session.execute(delete(LookupCache).where(LookupCache.key.in_(list(keys))))


async def domain_facts(session: AsyncSession, domain: str) -> DomainFacts | None:
    """The ``domain_facts`` row of ``domain`` (loaded for change), if any."""
    return await session.get(DomainFacts, domain)


async def clear_job_results(session: AsyncSession, email: str) -> int:
    """Remove ``email`` (and the evidence that may quote it) from stored job results; returns
    the items changed."""
    result = await session.execute(
        update(EnrichmentItem)
        .where(EnrichmentItem.email == email)
        .values(
            email=None,
            confidence=None,
            email_provider=None,
            email_verification=None,
            detail=None,  # the evidence kept for operators may quote the address
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _domains_covering(domain: str) -> list[str]:
    """``a.b.acme.com`` → ``[a.b.acme.com, b.acme.com, acme.com, com]`` (a suppressed domain
    covers its subdomains)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


class _Changes:
    """A counter of the suppression changes committed in this process: a
    :class:`SuppressionList` drops its memo when it moved."""

    def __init__(self) -> None:
        self.count = 0

    def bump(self, *_: object) -> None:
        self.count += 1


_CHANGES = _Changes()


def changed(session: AsyncSession) -> None:
    """The suppressions change in ``session``'s transaction: once it commits (not before, or a
    check in between would remember the old answer for :data:`SUPPRESSION_CACHE_SECONDS`),
    this process's :class:`SuppressionList` memos are dropped. Nothing happens on rollback."""
    event.listen(session.sync_session, "after_commit", _CHANGES.bump, once=True)


SUPPRESSION_CACHE_SECONDS = 10.0
"""Seconds a "this domain is (not) suppressed" answer is reused when the suppressions are too
many to hold in memory (:data:`SNAPSHOT_MAX`). Changes made in this process are seen at once."""
MAX_CACHED_DOMAINS = 10_000
SNAPSHOT_MAX = 100_000
"""Suppressions (installation-wide, all accounts) held in memory; with more, each check asks
the database (one indexed query) and only domain answers are reused."""
SNAPSHOT_CHECK_SECONDS = 1.0
"""Seconds between two checks that the snapshot is current (one ``count``/``max(id)`` query;
the values are read again only when they moved). Changes made in this process are seen at
once, another process's within this time."""

_VERSION = select(func.count(Suppression.id), func.max(Suppression.id))
_VALUES = select(Suppression.kind, Suppression.value).limit(bindparam("limit"))


async def version(session: AsyncSession) -> tuple[int, int]:
    """``(rows, highest id)`` of the suppressions: moves whenever one is added or removed
    (an addition takes a new, higher id; a removal lowers the count)."""
    row = (await session.execute(_VERSION)).one()
    return int(row[0] or 0), int(row[1] or 0)


async def values(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` suppressions as ``(kind, value)``, everyone's (a suppression applies to
    every account's lookups: the owner only decides who may lift it)."""
    return [(str(k), str(v)) for k, v in await session.execute(_VALUES, {"limit": limit})]


@dataclass(frozen=True)
class _Snapshot:
    """Every suppressed value at ``version`` (``complete`` False: too many to hold)."""

    version: tuple[int, int]
    changes: int  # this process's committed changes when it was checked
    checked: float  # time.monotonic() of the last check
    complete: bool
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()


class SuppressionList:
    """Answers "is this address or domain suppressed?" for the lookup hot path.

    The suppressions are few next to the lookups (an opt-out list, erasures), so they are held
    in memory: a check is a set lookup, and once a second (:data:`SNAPSHOT_CHECK_SECONDS`) one
    query asks whether they moved; a change committed in this process is seen at once. Past
    :data:`SNAPSHOT_MAX` suppressions each check asks the database (one indexed query) and a
    domain's answer is reused for :data:`SUPPRESSION_CACHE_SECONDS`.

    Args:
        db: the database.
        check_every: seconds between two checks that the snapshot is current.
        max_snapshot: suppressions held in memory at most.
    """

    def __init__(
        self,
        db: Database,
        *,
        check_every: float = SNAPSHOT_CHECK_SECONDS,
        max_snapshot: int = SNAPSHOT_MAX,
    ) -> None:
        self.db = db
        self.check_every = check_every
        self.max_snapshot = max_snapshot
        self._snapshot: _Snapshot | None = None
        self._loading = asyncio.Lock()
        self._domains: TTLCache[str, bool] = TTLCache(
            maxsize=MAX_CACHED_DOMAINS, ttl=SUPPRESSION_CACHE_SECONDS
        )
        self._seen_changes = _CHANGES.count

    def _current(self) -> _Snapshot | None:
        snapshot = self._snapshot
        if (
            snapshot is not None
            and snapshot.changes == _CHANGES.count
            and time.monotonic() - snapshot.checked < self.check_every
        ):
            return snapshot
        return None

    async def _load(self) -> _Snapshot:
        """The current snapshot: checked (one query) and, when the suppressions moved, read
        again; a read on the hot path, never committed."""
        current = self._current()
        if current is not None:
            return current
        async with self._loading:
            current = self._current()
            if current is not None:
                return current
            changes = _CHANGES.count
            old = self._snapshot
            async with self.db.read_session() as session:
                now_version = await version(session)
                if old is not None and old.version == now_version:
                    fresh = replace(old, changes=changes, checked=time.monotonic())
                elif now_version[0] > self.max_snapshot:
                    fresh = _Snapshot(now_version, changes, time.monotonic(), complete=False)
                else:
                    rows = await values(session, self.max_snapshot + 1)
                    fresh = _Snapshot(
                        now_version,
                        changes,
                        time.monotonic(),
                        complete=len(rows) <= self.max_snapshot,
                        emails=frozenset(v for k, v in rows if k == "email"),
                        domains=frozenset(v for k, v in rows if k == "domain"),
                    )
            self._snapshot = fresh
            return fresh

    async def suppressed(self, *, email: str | None = None, domain: str | None = None) -> bool:
        """Whether ``email`` (lower-case) or ``domain`` (A-label), or a parent domain of either,
        is suppressed by anyone."""
        if email:
            domain = domain or email.rpartition("@")[2]
        if not email and not domain:
            return False
        covering = _domains_covering(domain.lower().rstrip(".")) if domain else []
        snapshot = await self._load()
        if snapshot.complete:
            return (email is not None and email.lower() in snapshot.emails) or any(
                d in snapshot.domains for d in covering
            )
        if self._seen_changes != _CHANGES.count:
            self._domains.clear()
            self._seen_changes = _CHANGES.count
        if domain and not email:
            known = self._domains.get(covering[0])
            if known is not None:
                return known
        async with self.db.read_session() as session:  # a read on the hot path: no commit
            found = await any_covering(session, email.lower() if email else None, covering)
        if domain and not email:
            self._domains[covering[0]] = found
        return found

    async def filter_addresses(self, domain: str, addresses: list[str]) -> list[str]:
        """``addresses`` without the suppressed ones (all of them when ``domain`` is)."""
        if await self.suppressed(domain=domain):
            return []
        if not addresses:
            return addresses
        snapshot = await self._load()
        if snapshot.complete:
            return [a for a in addresses if a.lower() not in snapshot.emails]
        async with self.db.read_session() as session:
            taken = await suppressed_emails(session, [a.lower() for a in addresses])
        return [a for a in addresses if a.lower() not in taken]
