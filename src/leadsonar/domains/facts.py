"""Per-domain knowledge the prober reuses: MX hosts, the mail provider behind them, catch-all
status and policy blocks, so later lookups on a domain probe less (issue: fewer probes).

MX answers are cached in memory (``MX_TTL``, at most ``MX_CACHE_SIZE`` domains, least recently
used dropped first); catch-all status and blocks are stored in ``domain_facts`` and read back
within their TTLs, and kept in memory for ``KNOWN_TTL`` seconds (what this process records
replaces its copy at once; another process's record is seen within ``KNOWN_TTL``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cachetools import TLRUCache, TTLCache

from leadsonar.domains import repository
from leadsonar.domains.mailhosts import mail_provider
from leadsonar.domains.models import DomainFacts
from leadsonar.kit.db import Database, as_utc, upsert
from leadsonar.kit.net.dns import MxAnswer, Resolver

MX_TTL = 3600.0  # seconds an MX answer is reused
MX_ERROR_TTL = 30.0  # seconds a failed MX lookup is remembered
MX_CACHE_SIZE = 20_000  # domains whose MX answer is kept in memory
CATCH_ALL_TTL = timedelta(days=7)
KNOWN_TTL = 30.0  # seconds the stored facts of a domain are reused from memory
MAX_KNOWN = 20_000  # domains whose facts are kept in memory


@dataclass(frozen=True)
class KnownFacts:
    """What is known of a domain now: ``catch_all`` (None = unknown or expired),
    ``blocked_until`` (a policy block still in force) and its reason."""

    catch_all: bool | None = None
    blocked_until: datetime | None = None
    blocked_reason: str | None = None


class DomainKnowledge:
    """Reads and records per-domain facts.

    Args:
        db: where facts are stored.
        resolver: the one DNS resolver.
        mx_cache_size: domains whose MX answer is kept in memory (least recently used first
            out; each answer also expires after its TTL).
    """

    def __init__(
        self, db: Database, resolver: Resolver, mx_cache_size: int = MX_CACHE_SIZE
    ) -> None:
        self.db = db
        self.resolver = resolver
        self._mx: TLRUCache[str, MxAnswer] = TLRUCache(
            maxsize=mx_cache_size,
            ttu=lambda _domain, answer, now: now + (MX_ERROR_TTL if answer.error else MX_TTL),
            timer=time.monotonic,
        )
        # one database read per domain per KNOWN_TTL, not one per check (a lookup checks the
        # candidates, then the numbered sibling, then maybe the full-name exception)
        self._known: TTLCache[str, KnownFacts] = TTLCache(maxsize=MAX_KNOWN, ttl=KNOWN_TTL)
        # what this process last stored of each domain's MX answer: an unchanged answer (a
        # bulk job asks the same domain for every row; NXDOMAIN is not in ``_mx``) is written
        # once per MX_TTL, not once per lookup
        self._mx_recorded: TTLCache[str, tuple[object, ...]] = TTLCache(
            maxsize=mx_cache_size, ttl=MX_TTL
        )

    @property
    def mx_cached(self) -> int:
        """Domains whose MX answer is held in memory now."""
        return len(self._mx)

    async def mx(self, domain: str) -> MxAnswer:
        """The domain's MX answer, from the cache when fresh (see :meth:`Resolver.mx_hosts`)."""
        cached = self._mx.get(domain)
        if cached is not None:
            return cached
        answer = await self.resolver.mx_hosts(domain)
        # NXDOMAIN is not kept here: the resolver caches negative answers itself (RFC 2308),
        # and one from a resolver that was broken for a while must not outlive the outage
        # (kit/net/resolver_check.py).
        if not answer.nxdomain:
            self._mx[domain] = answer
        if not answer.error:
            hosts = [[h.preference, h.host] for h in answer.hosts]
            recorded = (answer.null_mx, answer.nxdomain, *(tuple(h) for h in hosts))
            if self._mx_recorded.get(domain) == recorded:
                return answer
            self._mx_recorded[domain] = recorded  # before the write: concurrent rows skip it
            try:
                async with self.db.session() as session:
                    await upsert(
                        session,
                        DomainFacts,
                        {
                            "domain": domain,
                            "mx_hosts": hosts,
                            "mx_provider": mail_provider(h.host for h in answer.hosts),
                            "null_mx": answer.null_mx,
                            "mx_checked_at": datetime.now(UTC),
                        },
                        keys=["domain"],
                    )
            except BaseException:
                self._mx_recorded.pop(domain, None)
                raise
        return answer

    async def known(self, domain: str) -> KnownFacts:
        """Stored facts still in force for ``domain``.

        Only the catch-all and block columns are read: the row also holds the website crawl
        (JSON, often kilobytes), which the prober asks about on every check and never needs.
        """
        cached = self._known.get(domain)
        if cached is not None and (
            cached.blocked_until is None or cached.blocked_until > datetime.now(UTC)
        ):
            return cached
        row = await repository.stored_facts(self.db, domain)
        if row is None:
            facts = KnownFacts()
        else:
            now = datetime.now(UTC)
            checked = as_utc(row.catch_all_checked_at)
            catch_all = row.catch_all if checked and now - checked < CATCH_ALL_TTL else None
            blocked = as_utc(row.blocked_until)
            if blocked is not None and blocked <= now:
                blocked = None
            facts = KnownFacts(catch_all, blocked, row.blocked_reason if blocked else None)
        self._known[domain] = facts
        return facts

    async def record_catch_all(self, domain: str, catch_all: bool) -> None:
        """Remember whether the domain's server accepts any address."""
        self._known.pop(domain, None)
        async with self.db.session() as session:
            await upsert(
                session,
                DomainFacts,
                {
                    "domain": domain,
                    "catch_all": catch_all,
                    "catch_all_checked_at": datetime.now(UTC),
                },
                keys=["domain"],
            )
        self._known.pop(domain, None)  # a read racing the write may have kept the old facts

    async def record_block(self, domain: str, reason: str, seconds: float) -> None:
        """Remember that the domain's mail server refused the prober: do not knock again for
        ``seconds``."""
        self._known.pop(domain, None)
        async with self.db.session() as session:
            await upsert(
                session,
                DomainFacts,
                {
                    "domain": domain,
                    "blocked_until": datetime.now(UTC) + timedelta(seconds=seconds),
                    "blocked_reason": reason[:300],
                },
                keys=["domain"],
            )
        self._known.pop(domain, None)

    def provider_of(self, answer: MxAnswer) -> str | None:
        """The recognised mail provider of an MX answer (``google``, ``microsoft`` …)."""
        return mail_provider(h.host for h in answer.hosts)
