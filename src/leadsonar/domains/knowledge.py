"""What LeadSonar knows about domains, and the one port through which lookups learn more
(issue 9 §2, DESIGN.md §6: "providers return what they learned; the waterfall persists it once").

Providers never write. While a lookup runs they read through :class:`DomainKnowledge` (MX hosts,
catch-all verdicts, blocks, learned patterns) and record what they learn into the lookup's
:class:`Learned` (``ctx.learned``); what they record is visible at once in memory — to later
steps of the same lookup (:meth:`DomainKnowledge.evidence` adds the lookup's own addresses;
catch-all verdicts and blocks replace this process's copy) and, through the same caches, to
later lookups in this process. :meth:`DomainKnowledge.persist`, called once in
``Waterfall.run``'s ``finally`` (and by the other edges that learn: verify-email, a background
re-probe, a crawl that outlives its lookup, a company name resolved), writes everything in one
short write transaction, after the network work and never across it.

MX answers are cached in memory (``MX_TTL``, at most ``MX_CACHE_SIZE`` domains, least recently
used dropped first); catch-all status and blocks are stored in ``domain_facts`` and read back
within their TTLs, and kept in memory for ``KNOWN_TTL`` seconds (what this process learns
replaces its copy at once; another process's record is seen within ``KNOWN_TTL``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cachetools import TLRUCache, TTLCache

from leadsonar.domains import patterns, repository
from leadsonar.domains.mailhosts import mail_provider
from leadsonar.kit.db import Database, as_utc
from leadsonar.kit.net.dns import MxAnswer, Resolver

log = logging.getLogger(__name__)

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


@dataclass
class Learned:
    """What one lookup (or one crawl, re-probe, verify-email, company resolution) learned and
    has not persisted yet: carried as ``ctx.learned`` on the
    :class:`~leadsonar.providers.base.LookupContext`, shared by every provider call's view.

    Attributes:
        facts: ``{domain: {domain_facts column: value}}`` — MX hosts (``mx_hosts``,
            ``mx_provider``, ``null_mx``, ``mx_checked_at``), the catch-all verdict
            (``catch_all``, ``catch_all_checked_at``), a block (``blocked_until``,
            ``blocked_reason``), a crawl (``crawl`` JSON, ``crawled_at``).
        addresses: ``{lower-case address: (first, last)}``: addresses whose owner is known
            (verified by the mail server, published with the owner's name), each teaching its
            domain's pattern once.
        companies: ``company_domains`` rows (``name``, ``name_key``, ``domain``, ``source``).
    """

    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[str, tuple[str, str]] = field(default_factory=dict)
    companies: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.facts or self.addresses or self.companies)

    def fact(self, domain: str, **columns: Any) -> None:
        """Learn ``domain_facts`` columns of ``domain`` (later values replace earlier ones)."""
        self.facts.setdefault(domain, {}).update(columns)

    def mx(self, domain: str, answer: MxAnswer) -> None:
        """Learn the domain's MX answer (hosts, the mail provider behind them, null MX)."""
        self.fact(
            domain,
            mx_hosts=[[h.preference, h.host] for h in answer.hosts],
            mx_provider=mail_provider(h.host for h in answer.hosts),
            null_mx=answer.null_mx,
            mx_checked_at=datetime.now(UTC),
        )

    def crawl(self, domain: str, crawl: dict[str, Any]) -> None:
        """Learn the domain's crawl (``SiteCrawl`` as JSON), stored now."""
        self.fact(domain, crawl=crawl, crawled_at=datetime.now(UTC))

    def address(self, email: str, first: str, last: str) -> None:
        """Learn that ``email`` is the address of ``first last`` (it teaches its domain's
        pattern and spelling when persisted; each address counts once, ever)."""
        self.addresses[email.strip().lower()] = (first, last)

    def company(self, name: str, name_key: str, domain: str | None, source: str) -> None:
        """Learn the domain of the company ``name`` (``None``: no domain could be found)."""
        self.companies.append(
            {"name": name, "name_key": name_key, "domain": domain, "source": source}
        )

    def evidence(self, domain: str) -> Counter[str]:
        """The pattern and spelling evidence this lookup's own addresses add at ``domain``."""
        counts: Counter[str] = Counter()
        for address, (first, last) in self.addresses.items():
            at, _, rows = patterns.lessons(address, first, last)
            if at == domain:
                counts.update(rows)
        return counts

    def merge(self, other: Learned) -> None:
        """Carry everything ``other`` learned too, leaving ``other`` empty (it is persisted
        once, with this one)."""
        taken = other.take()
        for domain, columns in taken.facts.items():
            self.fact(domain, **columns)
        self.addresses.update(taken.addresses)
        self.companies.extend(taken.companies)

    def take(self) -> Learned:
        """Everything learned so far, leaving this one empty (persisted once, whoever asks
        again)."""
        taken = Learned(self.facts, self.addresses, self.companies)
        self.facts, self.addresses, self.companies = {}, {}, []
        return taken


class DomainKnowledge:
    """Reads per-domain knowledge and persists what lookups learned, in one transaction each.

    Args:
        db: where knowledge is stored (``domain_facts``, ``domain_patterns``,
            ``learned_addresses``, ``company_domains``).
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
        # what this process last learned of each domain's MX answer: an unchanged answer (a
        # bulk job asks the same domain for every row; NXDOMAIN is not in ``_mx``) is recorded
        # once per MX_TTL, not once per lookup
        self._mx_recorded: TTLCache[str, tuple[object, ...]] = TTLCache(
            maxsize=mx_cache_size, ttl=MX_TTL
        )
        self._writing: set[asyncio.Task[None]] = set()  # persists shielded from cancellation

    @property
    def mx_cached(self) -> int:
        """Domains whose MX answer is held in memory now."""
        return len(self._mx)

    async def mx(self, domain: str, learned: Learned | None = None) -> MxAnswer:
        """The domain's MX answer, from the cache when fresh (see :meth:`Resolver.mx_hosts`).

        Args:
            learned: where a new or changed answer is recorded for persisting (``None``: the
                answer is only cached, e.g. for a question nobody will persist).

        Never raises for DNS trouble: it is in the answer (``error``, ``nxdomain``).
        """
        cached = self._mx.get(domain)
        if cached is not None:
            return cached
        answer = await self.resolver.mx_hosts(domain)
        # NXDOMAIN is not kept here: the resolver caches negative answers itself (RFC 2308),
        # and one from a resolver that was broken for a while must not outlive the outage
        # (kit/net/resolver_check.py).
        if not answer.nxdomain:
            self._mx[domain] = answer
        if not answer.error and learned is not None:
            hosts = tuple((h.preference, h.host) for h in answer.hosts)
            recorded = (answer.null_mx, answer.nxdomain, *hosts)
            if self._mx_recorded.get(domain) != recorded:
                self._mx_recorded[domain] = recorded  # concurrent lookups do not record it too
                learned.mx(domain, answer)
        return answer

    async def known(self, domain: str) -> KnownFacts:
        """Catch-all status and blocks still in force for ``domain``: what this process
        learned, else what is stored (read at most once per ``KNOWN_TTL``).

        Only the catch-all and block columns are read: the row also holds the website crawl
        (JSON, often kilobytes), which the prober asks about on every check and never needs.
        """
        cached = self._known.get(domain)
        if cached is not None and (
            cached.blocked_until is None or cached.blocked_until > datetime.now(UTC)
        ):
            return cached
        row = await repository.stored_facts(self.db, domain)
        learned_meanwhile = self._known.get(domain)
        if learned_meanwhile is not None and learned_meanwhile is not cached:
            return learned_meanwhile  # recorded while the read ran: newer than the row read
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

    def record_catch_all(self, domain: str, catch_all: bool, learned: Learned) -> None:
        """Learn whether the domain's server accepts any address: seen by :meth:`known` at
        once, persisted with ``learned``."""
        current = self._known.get(domain) or KnownFacts()
        self._known[domain] = replace(current, catch_all=catch_all)
        learned.fact(domain, catch_all=catch_all, catch_all_checked_at=datetime.now(UTC))

    def record_block(self, domain: str, reason: str, seconds: float, learned: Learned) -> None:
        """Learn that the domain's mail server refused the prober: do not knock again for
        ``seconds``. Seen by :meth:`known` at once, persisted with ``learned``."""
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        current = self._known.get(domain) or KnownFacts()
        self._known[domain] = replace(current, blocked_until=until, blocked_reason=reason[:300])
        learned.fact(domain, blocked_until=until, blocked_reason=reason[:300])

    async def evidence(
        self, domain: str, learned: Learned | None = None
    ) -> patterns.DomainEvidence:
        """The domain's learned patterns and umlaut spelling: what is stored (one read) plus
        what the addresses in ``learned`` (the running lookup's own) add that have not taught
        the domain before (one more read, only when it holds addresses there)."""
        stored = await repository.domain_evidence(self.db, domain)
        pending = (
            {a: name for a, name in learned.addresses.items() if a.endswith("@" + domain)}
            if learned is not None
            else {}
        )
        if not pending:
            return stored
        for address in await repository.taught_already(self.db, list(pending)):
            pending.pop(address, None)  # counted in what is stored: an address counts once
        mine = patterns.DomainEvidence.from_counts(
            dict(Learned(addresses=pending).evidence(domain))
        )
        counts: Counter[str] = Counter(dict(stored.patterns))
        counts.update(dict(mine.patterns))
        spelled = stored.umlauts_spelled
        return patterns.DomainEvidence(
            patterns.DomainEvidence.from_counts(dict(counts)).patterns,
            spelled if spelled is not None else mine.umlauts_spelled,
        )

    async def popular_patterns(self, min_domains: int = 1) -> list[str]:
        """Patterns seen at ``min_domains`` domains or more, most domains first (one read)."""
        return await repository.popular_patterns(self.db, min_domains=min_domains)

    def provider_of(self, answer: MxAnswer) -> str | None:
        """The recognised mail provider of an MX answer (``google``, ``microsoft`` …)."""
        return mail_provider(h.host for h in answer.hosts)

    async def persist(self, learned: Learned) -> None:
        """Write everything ``learned`` holds in ONE write transaction and empty it.

        The rows are written in a fixed order (:func:`repository.store_learned`), so lookups
        persisting at once never deadlock on PostgreSQL. The write is shielded from
        cancellation: a lookup cancelled as it ends (its client went away) still keeps what it
        learned. Nothing is written (no transaction begun) when nothing was learned.

        Never raises for a database failure: it is logged and the knowledge lost (it costs a
        repeated DNS query, probe or crawl later, never a credit); the MX answers it held are
        recorded again by the next lookup. Only cancellation propagates.
        """
        taken = learned.take()
        if not taken:
            return
        task = asyncio.create_task(self._write(taken))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)
        await asyncio.shield(task)

    async def _write(self, learned: Learned) -> None:
        try:
            async with self.db.write_session() as session:
                await repository.store_learned(session, learned)
        except Exception:
            log.exception("domain knowledge not stored (%d domains)", len(learned.facts))
            for domain, columns in learned.facts.items():
                if "mx_hosts" in columns:
                    self._mx_recorded.pop(domain, None)
            return
        for domain, columns in learned.facts.items():
            if "catch_all" in columns or "blocked_until" in columns:
                self._known.pop(domain, None)  # read back as stored from now on

    async def aclose(self) -> None:
        """Wait for persists still being written (the app is shutting down)."""
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)
