"""Company name → domain, for lookups that give ``company`` without ``website``.

A waterfall of sources, the first verified answer wins:

1. a companies CSV the user imported (source ``import``) — trusted as given;
2. the company of the user's imported contacts (``contacts``) — trusted as given;
3. an earlier resolution of the same name (its own source, for :data:`RESOLVED_TTL`; a failed
   one for :data:`UNRESOLVED_TTL`);
4. sources that know companies (:mod:`.sources`): Wikidata's official website (``wikidata``,
   free, on by default) and the company search of each provider whose key is set (``hunter``,
   ``apollo``, ``pdl``);
5. guesses from the name (``guess``, :mod:`.names`), asked in DNS in waves of growing size
   (:data:`WAVES`: the 16 most likely guesses, then the next 32, 64, 128 …), each guess once
   (one A query through the one :class:`~leadsonar.kit.net.dns.Resolver`, at most
   ``LEADSONAR_COMPANY_DNS_CONCURRENCY`` at a time). The ``LEADSONAR_COMPANY_MAX_SITES`` most
   likely names that exist are checked, each from the moment its name is found to exist, while
   the rest of its wave is still asked. After a wave, guessing stops when a checked site names
   the company (:data:`~.evidence.NAMED`) and its domain takes mail (MX hosts, or an implicit
   MX: RFC 5321 §5.1; a null MX, RFC 7505, does not count): most companies own one of their
   most likely names, and asking the other hundred-odd guesses and fetching their decoys'
   pages costs a lookup seconds for nothing. The ranking is unchanged: every site checked is
   judged and ranked as before, the waves only decide how far down the list to go.

Every domain from 4 and 5 is verified the same way (:mod:`.evidence`): its home page is fetched
through :class:`~leadsonar.kit.net.safe_http.SafeHttp` (redirects followed: ``notion.com`` →
``notion.so`` gives ``notion.so``), judged by its title, ``og:site_name`` and text, and, unless
the title already names the company, by its legal notice (Impressum, mentions légales). Parked
pages and sites of other businesses are rejected; a domain that takes no mail (null MX) loses
to one that does. A source's domain whose site is reachable but silent about who runs it is
kept as a weak answer (:data:`SOURCE_SILENT`); a guessed one never is. The best-evidenced domain
wins, the prior breaking ties, and the answer says which source gave it and why.

A name that cannot be resolved gives ``domain=None`` and a sentence saying so; nothing raises
for it. Concurrent resolutions of one name in one process share one run (a bulk job resolves
each distinct company once).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from leadsonar.config import Settings
from leadsonar.domains.companies.evidence import (
    NAMED,
    TEXT,
    TITLE_FULL,
    TITLE_SHORT,
    HomePage,
    SiteVerdict,
    judge_home,
    judge_legal_notice,
    legal_notice_links,
    read_page,
    site_pages,
)
from leadsonar.domains.companies.names import company_key, ranked_guesses
from leadsonar.domains.companies.sources import CompanySearch, ask_source
from leadsonar.domains.knowledge import DomainKnowledge, Learned
from leadsonar.domains.repository import earlier_company_answers
from leadsonar.exceptions import InvalidDomain
from leadsonar.kit.db import Database
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.hostnames import domain_from_website, registrable_domain
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.kit.net.safe_http import CrawlSession, FetchError, SafeHttp

log = logging.getLogger(__name__)

RESOLVED_TTL = timedelta(days=30)
UNRESOLVED_TTL = timedelta(days=1)
SOURCE_SILENT = 30.0  # a source's domain whose reachable site does not say who runs it
MAIL = 5.0  # the domain takes mail (MX hosts): a company's domain does; many decoys do not
SITE = 3.0  # the home page links to at least SITE_PAGES pages of its own site
SITE_PAGES = 3
ACCEPT = min(TITLE_SHORT, TEXT)  # a guessed domain needs at least a short name in its title
WAVES = (16, 32, 64, 128)
"""Guesses asked in DNS per wave, most likely first; the last size repeats until the guesses
(``LEADSONAR_COMPANY_MAX_GUESSES``) or the sites to check (``LEADSONAR_COMPANY_MAX_SITES``)
run out."""


@dataclass(frozen=True)
class Resolution:
    """A company name's domain.

    Attributes:
        domain: the A-label domain, or ``None``.
        source: ``import``, ``contacts``, ``wikidata``, ``hunter``, ``apollo``, ``pdl``,
            ``guess`` or ``unresolved``.
        reason: a short sentence: why this domain (``"notion.so's site name names Notion"``),
            or why there is none.
    """

    domain: str | None
    source: str
    reason: str | None = None


@dataclass(frozen=True)
class Checked:
    """One verified candidate: the domain (after redirects), its evidence, where it came from,
    its prior, and whether the domain takes mail (MX hosts or an implicit MX; not a null MX)."""

    domain: str
    score: float
    reason: str
    source: str
    prior: float
    takes_mail: bool = False

    @property
    def settles(self) -> bool:
        """Whether guessing may stop here: the site names the company and the domain takes
        mail."""
        return self.score >= NAMED and self.takes_mail

    @property
    def rank(self) -> tuple[float, float]:
        return (self.score, self.prior)


class CompanyResolver:
    """Resolves company names to domains (see the module's order).

    Args:
        settings: ``allowed_private_networks`` (reserved test TLDs are accepted where it is set),
            the ``crawl_*`` limits and the ``company_*`` settings.
        db: imported companies, contacts and earlier resolutions.
        resolver: the one DNS resolver.
        http: the website fetcher.
        sources: company-knowing sources in waterfall order (Wikidata, providers' company
            searches); those whose ``status_detail()`` is not ``None`` (no key) are skipped.
        knowledge: the domain-knowledge port a resolution is persisted through (one write
            per name resolved); a port of its own on ``db`` when omitted.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        resolver: Resolver,
        http: SafeHttp,
        sources: list[CompanySearch] | None = None,
        knowledge: DomainKnowledge | None = None,
    ):
        self.settings = settings
        self.db = db
        self.resolver = resolver
        self.http = http
        self.sources = list(sources or [])
        self.knowledge = knowledge if knowledge is not None else DomainKnowledge(db, resolver)
        self._running: dict[str, asyncio.Future[Resolution]] = {}
        # The suppression list, set by the app: a suppressed domain's site is never fetched
        # (issue 12 §5: no SMTP or HTTP request is made for it), so it is never chosen either.
        self.suppressions: Any = None

    @property
    def _allow_reserved(self) -> bool:
        return bool(self.settings.allowed_private_networks)

    async def resolve(self, name: str, dns_check: ResolverCheck | None = None) -> Resolution:
        """The domain for company ``name`` (never raises for an unresolvable name).

        Args:
            name: the company name as the user wrote it.
            dns_check: the resolver self-check; while it fails, an unresolved name is not
                remembered (every guessed domain looks nonexistent when DNS is broken, so the
                verdict says nothing about the name; kit/net/resolver_check.py).
        """
        key = company_key(name)
        if not key:
            return Resolution(None, "unresolved", f"{name!r} is not a company name.")
        while (running := self._running.get(key)) is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise
                # the task resolving this name was cancelled (its request went away), not
                # this one: resolve it here
        future: asyncio.Future[Resolution] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            resolution = await self._resolve(name, key, dns_check)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it as unhandled
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(resolution)
            return resolution
        finally:
            self._running.pop(key, None)

    async def _resolve(self, name: str, key: str, dns_check: ResolverCheck | None) -> Resolution:
        known = await self._known(name, key)
        if known is not None:
            return known
        best = await self._search(name)
        if best is not None:
            resolution = Resolution(best.domain, best.source, best.reason)
        else:
            resolution = Resolution(
                None,
                "unresolved",
                f"The company {name!r} could not be resolved to a domain (no source knew it and "
                "no guessed domain's site names it); pass website.",
            )
            if dns_check is not None and not (await dns_check.check()).ok:
                return resolution  # not remembered: DNS is broken, not the name
        learned = Learned()  # a name is resolved once for every lookup waiting on it
        learned.company(name, key, resolution.domain, resolution.source)
        await self.knowledge.persist(learned)
        return resolution

    async def _known(self, name: str, key: str) -> Resolution | None:
        rows, contact = await earlier_company_answers(self.db, name, key)
        imported = next((r for r in rows if r.source == "import" and r.domain), None)
        if imported:
            return Resolution(imported.domain, "import", "imported companies list it")
        if contact:
            return Resolution(contact, "contacts", "imported contacts of this company use it")
        now = datetime.now(UTC)
        for row in rows:
            checked = row.checked_at
            if checked.tzinfo is None:
                checked = checked.replace(tzinfo=UTC)  # SQLite returns naive datetimes
            if row.source != "unresolved" and row.domain and now - checked < RESOLVED_TTL:
                return Resolution(
                    row.domain,
                    row.source,
                    f"resolved from {row.source} and verified on {checked:%Y-%m-%d}",
                )
            if row.source == "unresolved" and now - checked < UNRESOLVED_TTL:
                return Resolution(
                    None,
                    "unresolved",
                    f"The company {name!r} could not be resolved to a domain; pass website.",
                )
        return None

    # -- the waterfall of sources and guesses ------------------------------------------------

    async def _search(self, name: str) -> Checked | None:
        """Sources first (stopping at one whose domain's site names the company), then
        guesses; the best evidence wins."""
        checked: list[Checked] = []
        async with self.http.crawl(max_pages=4 * (self.settings.company_max_sites + 4)) as crawl:
            for source in self.sources:
                status = getattr(source, "status_detail", None)
                if status is not None and status() is not None:
                    continue
                try:
                    sites = await ask_source(source, name, self.settings.company_source_timeout)
                except Exception as exc:  # a source failing never fails the lookup
                    log.info("company source %s failed: %s", source.name, type(exc).__name__)
                    continue
                domains = self._domains(sites)[:3]
                found = await asyncio.gather(
                    *(self._verify(crawl, name, d, source.name, 1.0) for d in domains)
                )
                checked += [c for c in found if c is not None]
                if any(c.score >= NAMED for c in checked):
                    return max(checked, key=lambda c: c.rank)
            checked += await self._guess(crawl, name, {c.domain for c in checked})
        usable = [
            c
            for c in checked
            if c.score >= ACCEPT or (c.source != "guess" and c.score >= SOURCE_SILENT)
        ]
        return max(usable, key=lambda c: c.rank, default=None)

    def _domains(self, sites: list[str]) -> list[str]:
        domains = []
        for site in sites:
            try:
                domains.append(domain_from_website(site, allow_reserved=self._allow_reserved))
            except InvalidDomain:
                continue
        return list(dict.fromkeys(domains))

    async def _guess(self, crawl: CrawlSession, name: str, done: set[str]) -> list[Checked]:
        """Guessed domains of ``name`` not in ``done``, asked in DNS in :data:`WAVES` (most
        likely first) and checked; stops after the wave that settles it (:attr:`Checked.settles`)
        or when ``company_max_sites`` names that exist have been checked.

        Returns:
            every accepted or weak site checked, one per domain (its best evidence).
        """

        def usable() -> Iterator[tuple[str, float]]:
            # checked as the waves take them: most names are settled by the first wave, and
            # checking a name (IDNA, the public suffix list) costs more than ranking it
            for guess in ranked_guesses(name, self.settings.company_max_guesses):
                try:
                    domain = domain_from_website(guess.domain, allow_reserved=self._allow_reserved)
                except InvalidDomain:
                    continue
                if domain not in done:
                    yield domain, guess.prior

        guesses = usable()
        limit = asyncio.Semaphore(self.settings.company_dns_concurrency)
        sites = self.settings.company_max_sites
        results: list[Checked] = []
        for size in _wave_sizes():
            wave = list(itertools.islice(guesses, size))
            if not wave or sites <= 0:
                break
            live, checked = await self._wave(crawl, name, wave, limit, sites)
            sites -= live
            results += checked
            if any(c.settles for c in results):
                break
        merged: dict[str, Checked] = {}
        for result in results:
            kept = merged.get(result.domain)
            if kept is None or result.rank > kept.rank:
                merged[result.domain] = result
        return list(merged.values())

    async def _wave(
        self,
        crawl: CrawlSession,
        name: str,
        wave: list[tuple[str, float]],
        limit: asyncio.Semaphore,
        sites: int,
    ) -> tuple[int, list[Checked]]:
        """Ask every ``(domain, prior)`` of ``wave`` in DNS (``limit`` bounding the queries in
        flight) and check the first ``sites`` that exist, in the wave's order.

        A guess that exists is checked at once, while the rest are still asked (the home page
        fetch waits on the web host, the DNS queries on the resolver); a check started for one
        beyond the first ``sites`` is cancelled unused. Whatever is still running when this
        returns or is cancelled (the lookup's deadline) is cancelled and awaited, so that no
        task outlives the wave.

        Returns:
            (how many names exist, up to ``sites``; the sites checked that were not rejected).
        """
        checks: dict[int, asyncio.Task[Checked | None]] = {}

        async def exists(index: int, domain: str, prior: float) -> bool:
            async with limit:
                found = bool(await self.resolver.name_exists(domain))
            if found:
                checks[index] = asyncio.ensure_future(
                    self._verify(crawl, name, domain, "guess", prior)
                )
            return found

        lookups = [
            asyncio.ensure_future(exists(i, domain, prior))
            for i, (domain, prior) in enumerate(wave)
        ]
        try:
            found = await asyncio.gather(*lookups)
            live = [i for i, ok in enumerate(found) if ok][:sites]
            for index, task in checks.items():
                if index not in live:
                    task.cancel()
            results = await asyncio.gather(*(checks[i] for i in live))
        finally:
            await _cancel_all(lookups, checks)
        return len(live), [r for r in results if r is not None]

    # -- verification -----------------------------------------------------------------------

    async def _verify(
        self, crawl: CrawlSession, name: str, domain: str, source: str, prior: float
    ) -> Checked | None:
        """Fetch ``domain``'s home page (and legal notice) and judge it; ``None`` when the site
        cannot be read or is rejected (parked, another business's) or is suppressed."""
        if self.suppressions is not None and await self.suppressions.suppressed(domain=domain):
            return None
        page = None
        for url in self.http.home_urls(domain):
            try:
                page = await crawl.fetch(url)
            except FetchError:
                continue
            if page.ok:
                break
            page = None
        if page is None:
            return None
        final = self._registrable(page.url) or domain
        home = read_page(page.text, page.url)
        verdict = judge_home(name, final, home)
        if verdict.score is None:
            return None
        score, reason = verdict.score, verdict.reason
        if score < TITLE_FULL + TEXT:
            legal = await self._legal_notice(crawl, name, final, home)
            if legal is not None:
                if legal.score is None:
                    return None
                score += legal.score
                if score == legal.score:
                    reason = f"{final}: {legal.reason}"
                else:
                    reason += f", {legal.reason}"
        if source != "guess":
            if score < SOURCE_SILENT:
                score, reason = SOURCE_SILENT, f"{final} (its site does not say who runs it)"
            reason = f"{source} lists {reason}"
        if final != domain:
            reason += f" ({domain} redirects there)"
        answer = await self.resolver.mx_hosts(final)
        if answer.hosts and not answer.implicit:
            score += MAIL
        elif answer.no_mail:
            reason += "; it takes no mail"
        if score > 0 and len(site_pages(home, final, self._registrable)) >= SITE_PAGES:
            score += SITE  # a company's site has pages to go to; parked and stand-in pages do not
        # an implicit MX takes mail (RFC 5321 §5.1) though it earns no MAIL evidence; a null MX
        # has no hosts (RFC 7505)
        return Checked(final, score, reason, source, prior, takes_mail=bool(answer.hosts))

    async def _legal_notice(
        self, crawl: CrawlSession, name: str, domain: str, home: HomePage
    ) -> SiteVerdict | None:
        """The verdict of the first legal notice (or about page) that says anything."""
        for url in legal_notice_links(home):
            if self._registrable(url) != domain:
                continue
            try:
                page = await crawl.fetch(url)
            except FetchError:
                continue
            if not page.ok:
                continue
            verdict = judge_legal_notice(name, domain, read_page(page.text, page.url))
            if verdict is not None:
                return verdict
        return None

    def _registrable(self, url: str) -> str | None:
        """The registrable domain of ``url``'s host (``https://global.northwind.com/de`` →
        ``northwind.com``): a company's mail domain, not the web host it redirects to."""
        host = urlsplit(url).hostname
        if not host:
            return None
        try:
            return registrable_domain(
                domain_from_website(host, allow_reserved=self._allow_reserved)
            )
        except InvalidDomain:
            return None


def _wave_sizes() -> Iterator[int]:
    """:data:`WAVES`, the last size repeated for ever."""
    yield from WAVES
    while True:
        yield WAVES[-1]


async def _cancel_all(
    lookups: list[asyncio.Future[bool]], checks: dict[int, asyncio.Task[Checked | None]]
) -> None:
    """Cancel every lookup and check not done yet and wait until they are; a lookup that
    finished while the others were being cancelled may have started a check, hence the loop."""
    while pending := [t for t in (*lookups, *checks.values()) if not t.done()]:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
