"""Identical lookups within ``LEADSONAR_LOOKUP_CACHE_TTL`` seconds are answered from the
``lookup_cache`` table without calling any provider (issue 5 §5: never pay twice for one answer).

The key is a SHA-256 over the field, the person's folded names, the company's domain and name,
the provider chain (so changing ``LEADSONAR_PROVIDERS`` starts afresh), the confidence bar and
the account: answers can come from an account's imported contacts, so one account's cached
answers are never served to another (DESIGN.md §6, "Tenancy").
Only answers that would not change on a second ask are stored:

- a finding of at least ``medium`` that does not ask to be retried (``retryAfter`` evidence, e.g.
  greylisting), from a lookup where no provider asked to be retried (a greylisted prober beside
  a website's ``medium``: the background re-probe may soon verify the address, and the next
  lookup must get that rather than the stale answer), or
- "not found" when every provider tried answered cleanly ("miss", or for phones only the
  company's line, kept as ``company_phone``): a timeout, an error, a throttled or resting
  provider means the question was not fully asked, so nothing is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

from leadsonar.kit.db import Database, as_utc
from leadsonar.providers.base import Company, Confidence, Finding, Person, Verification
from leadsonar.waterfall import repository

if TYPE_CHECKING:
    from leadsonar.waterfall.engine import WaterfallResult

log = logging.getLogger(__name__)

PURGE_EVERY = 500  # stores between two deletions of expired rows
WRITE_GATHER_SECONDS = 0.01
"""How long the background writer gathers answers before writing them: under load a batch
then holds the answers of ~10 ms instead of the two or three stored while the last batch was
written, and a transaction's fixed cost (its ``BEGIN`` and ``COMMIT``, a task's wake-up) is
paid that much less often per answer (docs/benchmarks.md). The answer itself never waits."""
MEMORY_ANSWERS = 10_000
"""Cached answers this process keeps in memory (LRU within :data:`MEMORY_SECONDS`)."""
MEMORY_SECONDS = 10.0
"""Seconds an answer read or stored by this process is served from memory; past that it is
read again (another process may have replaced it, an import or an erasure removed it)."""


def _fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


def cache_key(
    fld: str,
    person: Person,
    company: Company,
    chain: list[str],
    bar: Confidence,
    account_id: int | None = None,
) -> str:
    """The 64-hex-digit key of one lookup for ``account_id``."""
    material = json.dumps(
        [
            account_id,
            fld,
            _fold(person.first_name),
            _fold(person.last_name),
            (company.domain or "").lower(),
            _fold(company.name),
            chain,
            bar.value,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def cacheable(result: WaterfallResult) -> bool:
    """Whether ``result`` may be served again (see the module docstring)."""
    finding = result.finding
    if result.provisional:
        return False
    if finding is not None:
        return finding.confidence.rank >= Confidence.MEDIUM.rank and (
            "retryAfter" not in finding.evidence
        )
    # a provider that answered only the company's line ("hit" without a finding) asked the
    # question fully too: "no number of the person, this switchboard" is a clean answer
    return bool(result.attempts) and all(a.outcome in ("miss", "hit") for a in result.attempts)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class LookupCacheStore:
    """Reads and writes cached answers.

    Args:
        db: the database.
        ttl: seconds an answer is served again; 0 turns the cache off.
    """

    def __init__(self, db: Database, ttl: float) -> None:
        self.db = db
        self.ttl = ttl
        self._stores = 0
        self._pending: list[dict[str, Any]] = []  # rows put, not yet being written
        self._writer: asyncio.Task[None] | None = None
        # key -> (payload, expires_at): what this process read or stored moments ago
        self._memory: TTLCache[str, tuple[dict[str, Any], datetime]] = TTLCache(
            maxsize=MEMORY_ANSWERS, ttl=max(min(MEMORY_SECONDS, ttl), 1e-3)
        )

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    async def get(self, key: str) -> tuple[Finding | None, int, list[str], str | None] | None:
        """``(finding, sources, notes, company_phone)`` stored under ``key`` and not expired,
        else None."""
        if not self.enabled:
            return None
        now = datetime.now(UTC)
        remembered = self._memory.get(key)
        if remembered is not None and remembered[1] > now:
            payload: dict[str, Any] | None = remembered[0]
        else:
            # Two columns, no ORM session, no timestamps loaded (Database.fetch).
            row = await repository.fresh_payload(self.db, key, now)
            payload = dict(row[0]) if row is not None and row[0] is not None else None
            if payload is not None and row is not None:
                self._memory[key] = (payload, as_utc(row[1]) or now)
        if payload is None:
            return None
        notes = [str(n) for n in payload.get("notes") or []]
        company_phone = payload.get("company_phone")
        company_phone = str(company_phone) if company_phone else None
        stored = payload.get("finding")
        if not isinstance(stored, dict):
            return None, 0, notes, company_phone
        finding = Finding(
            value=stored["value"],
            confidence=Confidence(stored["confidence"]),
            verification=Verification(stored.get("verification") or "unknown"),
            provider=stored.get("provider") or "",
            kind=stored.get("kind"),
            evidence={**(stored.get("evidence") or {}), "cached": True},
            independent=bool(stored.get("independent", True)),
        )
        return finding, int(payload.get("sources") or 0), notes, company_phone

    async def clear(self) -> int:
        """Forget every cached answer (new knowledge — an import — can change them); returns
        how many were dropped. Answers still being written are written first, so none of
        them comes back after the clear; answers stored while it deletes were found with the
        knowledge it clears away, and are dropped before their write-behind."""
        await self.flush()
        async with self.db.session() as session:
            dropped = await repository.delete_all(session)
        self._pending.clear()  # a writer gathering meanwhile takes them after its wait
        self._memory.clear()
        return dropped

    def put(self, key: str, fld: str, result: WaterfallResult) -> None:
        """Store ``result`` under ``key`` for ``ttl`` seconds (when :func:`cacheable`).

        Write-behind: this process serves the answer from memory at once, and the row is
        written in the background with the answers stored meanwhile (one transaction, group
        commit, gathered for :data:`WRITE_GATHER_SECONDS`) — the lookup's answer does not wait
        for that commit. Other processes see the answer once it is committed (some
        milliseconds later). A write that fails is logged and the
        answer forgotten (the next identical lookup asks the providers again); a process that
        crashes loses at most the answers of its last moments, which only costs a lookup
        again. :meth:`flush` (called at shutdown by ``Waterfall.aclose``) waits for the writes.
        """
        if not self.enabled or not cacheable(result):
            return
        finding = result.finding
        payload: dict[str, Any] = {
            "sources": result.sources,
            "finding": None
            if finding is None
            else {
                "value": finding.value,
                "confidence": finding.confidence.value,
                "verification": finding.verification.value,
                "provider": finding.provider,
                "kind": finding.kind,
                "independent": finding.independent,
                "evidence": {k: _plain(v) for k, v in finding.evidence.items()},
            },
            "attempts": [
                {"provider": a.provider, "outcome": a.outcome, "cost": a.cost}
                for a in result.attempts
            ],
            "notes": list(result.notes),
            "company_phone": result.company_phone,
        }
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=self.ttl)
        self._pending.append(
            {
                "key": key,
                "field": fld,
                "payload": payload,
                "created_at": now,
                "expires_at": expires_at,
            }
        )
        self._memory[key] = (payload, expires_at)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="leadsonar-lookup-cache")

    async def _store(self, rows: list[dict[str, Any]], purge: bool) -> None:
        """Upsert ``rows`` and, when ``purge``, delete the expired answers: on SQLite in one
        transaction (:meth:`Database.write_sync`, inline on the loop's thread while the write
        lock is free); on PostgreSQL the rows in one statement on the event loop's pooled
        connections (:meth:`Database.write_statement`, autocommit: all or none), then the
        purge as a statement of its own, whose failure is only logged (the rows are written;
        the next purge deletes what this one did not)."""
        if self.db.sqlite:
            await self.db.write_sync(partial(repository.store, db=self.db, rows=rows, purge=purge))
            return
        await self.db.write_statement(
            repository.UPSERT_POSTGRESQL, repository.postgres_upsert_values(rows)
        )
        if purge:
            try:
                await self.db.write_statement(repository.EXPIRED, {"now": datetime.now(UTC)})
            except Exception:  # the rows are written; the next purge deletes these too
                log.exception("expired cached answers were not deleted")

    async def flush(self) -> None:
        """Wait until every answer :meth:`put` so far is committed (or its write failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        """Write the answers stored while the last batch was written, in one transaction of
        ``INSERT … ON CONFLICT DO UPDATE`` rows (group commit: on SQLite writers queue on one
        lock, and one transaction per answer capped bulk enrichment at one write's time); see
        :meth:`_store` for the purge of expired answers."""
        while self._pending:
            await asyncio.sleep(WRITE_GATHER_SECONDS)  # the answers of the next moments too
            batch, self._pending = self._pending, []
            # the last answer per key, in key order: two processes writing overlapping keys
            # lock their rows in the same order (no deadlock on PostgreSQL)
            last = {row["key"]: row for row in batch}
            rows = [last[key] for key in sorted(last)]
            purge = (self._stores + len(rows)) // PURGE_EVERY != self._stores // PURGE_EVERY
            try:
                await self._store(rows, purge)
                self._stores += len(rows)
            except Exception:
                log.exception("%d cached answers were not written", len(rows))
                for row in rows:  # not in the table: not served from memory either
                    remembered = self._memory.get(row["key"])
                    if remembered is not None and remembered[0] is row["payload"]:
                        self._memory.pop(row["key"], None)  # it may expire meanwhile
