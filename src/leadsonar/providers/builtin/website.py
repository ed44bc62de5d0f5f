"""The ``website`` provider: emails and phones a company publishes on its own site. Free.

**The crawl** (once per domain, reused for ``LEADSONAR_CRAWL_TTL``): the home page (``https``
then ``http``, the bare domain then ``www.``), then the pages where people are listed, best
first: links whose URL or text says team, people, staff, équipe, Mitarbeiter, leadership,
contact/Kontakt, about/über uns, imprint/Impressum, mentions légales (:data:`PAGE_WORDS`);
``sitemap.xml`` entries with those words when the home page links to fewer than three and
the pages it links to did not show the team (read after them: every request to a host waits its
politeness delay, and lookups wait for the crawl); vCards linked from those pages. A person's
own page the budget left unread (a link whose text is their name, or the vCard download in
their card) is read by the first lookup for that person (:data:`MAX_PROFILE_PAGES` at most).
All within ``LEADSONAR_CRAWL_MAX_PAGES`` and through
:class:`~leadsonar.kit.net.safe_http.SafeHttp` (SSRF rules, robots.txt, size and time caps,
politeness), so the crawl never reaches a host that is not allowed. Each page goes through
:func:`~leadsonar.domains.extract.extract_page`; the findings are merged per site and stored in
``domain_facts.crawl``, with the people the site names (:attr:`SiteCrawl.people`) and the page
that lists its team, if any (:attr:`SiteCrawl.team_page`). A published personal address teaches
the domain's pattern (:meth:`~leadsonar.domains.knowledge.Learned.address`) only when its owner is
identified: the name standing with it, or the one listed person its local part spells; a role
address teaches nothing (issue 8 §4). Concurrent lookups on one domain share one crawl.

**Answers.**

=====================================================  ============  ==========  ===========
what the site publishes                                type          confidence  verification
=====================================================  ============  ==========  ===========
an address standing with the person's name, or whose   —             medium      published
local part spells the person's full name (no other
person's name beside it; never a role address)
a number the page ties to the person (card, row,     ``mobile`` if medium      published
list entry, vCard, h-card, JSON-LD ``Person``; not a   the number's
fax, support or switchboard line; not shared by        range is,
several people)                                        else ``direct``
otherwise the company's main line (labelled main, or   ``office``    low         published
published without a name; never fax or support)
=====================================================  ============  ==========  ===========

An ``office`` finding is the company's line, not the person's: the waterfall keeps it as
``WaterfallResult.company_phone`` (``companyPhone`` in answers) and never answers it as
``phone``; a person's own finding names the main line in ``evidence["company_phone"]``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakValueDictionary

from anyascii import anyascii
from cachetools import LRUCache

from leadsonar.config import Settings
from leadsonar.domains import repository as domains_repository
from leadsonar.domains.candidates import infer_patterns, is_role_local_part
from leadsonar.domains.extract import (
    NAME_MATCH_THRESHOLD,
    PageFindings,
    distinct_people,
    extract_page,
    extract_vcard,
    find_names,
    name_score,
    region_for,
    same_person,
    split_name,
)
from leadsonar.domains.knowledge import DomainKnowledge, Learned
from leadsonar.kit.db import Database, as_utc
from leadsonar.kit.net.safe_http import (
    BudgetExhausted,
    CrawlSession,
    FetchError,
    FetchFailed,
    FetchRefused,
    FetchTimeout,
    NoAddress,
    Page,
    RobotsDisallowed,
    SafeHttp,
)
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderTimeout,
    ProviderUnavailable,
    Verification,
)

log = logging.getLogger(__name__)

CRAWL_VERSION = 3  # bump when the stored shape changes; older crawls are redone
FAILED_CRAWL_TTL = timedelta(hours=1)  # a site that could not be read is retried sooner
PARSED_CRAWLS = 1_000  # domains whose parsed stored crawl is kept in memory
FRESH_CRAWL_SECONDS = 30.0  # a crawl stored or read by this process is reused this long
MIN_LINKS_BEFORE_SITEMAP = 3
PEOPLE_PAGE_SCORE = 4  # pages scoring at least this may name people (about, imprint and up)
MIN_TEAM_NAMES = 3  # people named on one page for it to list the team (2 on a team page)
TEAM_PAGE_SCORE = 6  # page_score of a page whose URL or link says team/people/staff
MAX_PROFILE_PAGES = 2  # a person's own pages (profile, vCard) one lookup may read after the crawl
# Words in a link's URL or text that point at pages listing people, with their priority.
PAGE_WORDS: dict[str, int] = {
    "team": 6,
    "people": 6,
    "staff": 6,
    "equipe": 6,
    "mitarbeiter": 6,
    "leadership": 6,
    "ansprechpartner": 6,
    "management": 5,
    "contact": 5,
    "kontakt": 5,
    "contacto": 5,
    "contatti": 5,
    "about": 4,
    "ueber-uns": 4,
    "uber-uns": 4,
    "ueber uns": 4,
    "uber uns": 4,
    "qui-sommes-nous": 4,
    "impressum": 4,
    "imprint": 4,
    "mentions-legales": 4,
    "mentions legales": 4,
    "legal-notice": 3,
    "company": 2,
    "vcard": 2,
    ".vcf": 2,
}
_COMPANY_LINES = frozenset({"fax", "support", "main"})  # labels of numbers never a person's
_SKIP_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".zip", ".mp4", ".css")
_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.IGNORECASE)


@dataclass
class SiteCrawl:
    """One site's findings, merged over its pages (stored as JSON in ``domain_facts.crawl``).

    Attributes:
        domain: the company's domain (A-label).
        pages: URLs fetched, in order (robots.txt apart).
        emails: ``{"address", "owner", "page"}`` each address once.
        phones: ``{"value", "label", "owner", "owners", "mobile", "page", "pages", "loose"}``
            each number once; ``pages`` counts the pages it was seen on, ``loose`` says it was
            printed with nobody's name on one of them (then it is no one's: the company's).
        title: the home page's ``<title>``; ``site_name`` its ``og:site_name``; ``lang`` its
            ``lang``, the language of pages that state none (for the phone region).
        refused: why the site was refused (SSRF rules), or ``None``.
        error: why nothing could be read (unreachable, robots.txt), or ``None``.
        failure: ``timeout`` or ``unavailable`` when no page could be read because the site
            timed out or refused connections (a passing fault: the lookup is not a miss), else
            ``None`` (also for a name with no address: no website at all).
        people: the people named on the site's pages (cards, rows, imprint, JSON-LD, vCards),
            each once, in crawl order, as written (``"Hanna Berg"``).
        profiles: ``{url: name}`` of same-site links whose text is one person's name (a
            profile page per person) that the crawl's page budget left unread; a lookup for
            that person reads theirs (:meth:`WebsiteProvider.find_phone`).
        team_page: the URL of the first page that lists the team (at least
            :data:`MIN_TEAM_NAMES` people, or 2 on a page linked as team/people/staff), or
            ``None`` when no page does: then :meth:`listed` cannot say who works there.
    """

    domain: str
    pages: list[str] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    title: str | None = None
    site_name: str | None = None
    lang: str | None = None
    refused: str | None = None
    error: str | None = None
    failure: str | None = None
    people: list[str] = field(default_factory=list)
    team_page: str | None = None
    profiles: dict[str, str] = field(default_factory=dict)
    version: int = CRAWL_VERSION

    @property
    def lists_team(self) -> bool:
        """Whether the site has a page listing its people (see ``team_page``)."""
        return self.team_page is not None

    def listed(self, first: str, last: str) -> bool | None:
        """Whether ``first last`` is among the site's people (:func:`name_score` at least
        :data:`NAME_MATCH_THRESHOLD`: same surname, same given name or its initial).

        Returns:
            ``True`` when named anywhere on the site, ``False`` when the site lists its team and
            the person is not in it, ``None`` when the site lists no team (nothing can be
            concluded: many sites name nobody).
        """
        if any(name_score(first, last, name) >= NAME_MATCH_THRESHOLD for name in self.people):
            return True
        return False if self.lists_team else None

    def owner_of(self, local_part: str) -> str | None:
        """The one listed person whose name the local part spells (``anna.roth``, ``aroth``,
        ``anna`` …, :func:`~leadsonar.domains.candidates.infer_patterns`), or ``None`` when no
        listed person or several fit (``anna@`` with two Annas on the page)."""
        fits = []
        for name in self.people:
            parts = split_name(name)
            if parts and infer_patterns(local_part, *parts):
                fits.append(name)
        fits = distinct_people(fits)  # "Anna Roth" and "ANNA ROTH" are one person
        return fits[0] if len(fits) == 1 else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteCrawl | None:
        if data.get("version") != CRAWL_VERSION:
            return None
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def add(self, url: str, findings: PageFindings, score: int = 0) -> None:
        """Merge one page's findings (an owner or a label seen anywhere is kept).

        Args:
            score: the page's :func:`page_score` (how its link named it), to tell a team page.
        """
        people = [n for n in findings.names if split_name(n)]
        self.people.extend(n for n in people if n not in self.people)
        enough = MIN_TEAM_NAMES if score < TEAM_PAGE_SCORE else 2
        if self.team_page is None and len(people) >= enough:
            self.team_page = url
        emails = {e["address"]: e for e in self.emails}
        for email in findings.emails:
            known = emails.get(email.address)
            if known is None:
                emails[email.address] = {
                    "address": email.address,
                    "owner": email.owner,
                    "page": url,
                }
            elif known["owner"] is None and email.owner:
                known.update(owner=email.owner, page=url)
        self.emails = list(emails.values())
        phones = {p["value"]: p for p in self.phones}
        for phone in findings.phones:
            known = phones.get(phone.value)
            if known is None:
                phones[phone.value] = {
                    "value": phone.value,
                    "label": phone.label,
                    "owner": phone.owner,
                    "owners": [phone.owner] if phone.owner else [],
                    "mobile": phone.mobile,
                    "page": url,
                    "pages": 1,
                    "loose": phone.owner is None,
                }
                continue
            known["pages"] += 1
            known["loose"] = known.get("loose", False) or phone.owner is None
            if phone.label in _COMPANY_LINES:
                known["label"] = phone.label  # printed as the company's line somewhere
            known["label"] = known["label"] or phone.label
            if phone.owner and not any(same_person(phone.owner, o) for o in known["owners"]):
                known["owners"].append(phone.owner)
            if phone.owner:
                known["owner"] = known["owner"] or phone.owner
        for phone in phones.values():
            if len(phone["owners"]) > 1:  # one number for several people: a switchboard
                phone["owner"] = None
                phone["label"] = phone["label"] if phone["label"] != "direct" else None
            elif phone["owners"] and phone.get("loose"):
                # a person's number on one page, printed with nobody's name on another: the
                # company's line shown in one card ("Call us" on the contact page)
                phone["owner"] = None
                phone["label"] = phone["label"] if phone["label"] in _COMPANY_LINES else "main"
            if phone["label"] in _COMPANY_LINES:
                phone["owner"] = None
        self.phones = list(phones.values())


def page_score(url: str, text: str) -> int:
    """How likely a link leads to a page listing people: 0 (not at all) to 6 (a team page)."""
    words = anyascii(f"{urlsplit(url).path} {text}").lower()
    return max((score for word, score in PAGE_WORDS.items() if word in words), default=0)


def same_site(url: str, domain: str) -> bool:
    """Whether ``url`` is an http(s) URL on ``domain`` or one of its subdomains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    return parts.scheme in ("http", "https") and (host == domain or host.endswith("." + domain))


async def crawl_site(
    http: SafeHttp, domain: str, people_read: asyncio.Future[SiteCrawl] | None = None
) -> SiteCrawl:
    """Crawl ``domain``'s home and people pages (see the module's *crawl*).

    Args:
        people_read: set to the crawl in progress once every page that may list people is read
            (only pages scoring below :data:`PEOPLE_PAGE_SCORE` left: vCards and the like,
            which name the people a team page already named), or at the end; who the site
            lists is known from then on (:meth:`WebsiteProvider.people`).

    Returns:
        The merged findings; ``refused`` or ``error`` say why pages are missing. Never raises
        for the site's failures.
    """
    site = SiteCrawl(domain)
    try:
        return await _crawl(http, site, people_read)
    finally:
        if people_read is not None and not people_read.done():
            people_read.set_result(site)


async def _crawl(
    http: SafeHttp, site: SiteCrawl, people_read: asyncio.Future[SiteCrawl] | None
) -> SiteCrawl:
    domain = site.domain
    async with http.crawl() as crawl:
        home = await _home(crawl, http, site)
        if home is None:
            return site
        home_page, home_findings = home
        queue: dict[str, int] = {}
        _enqueue(queue, home_findings, site)
        # The sitemap is read only when the home page's links lead to too few people pages
        # and those did not show the team: each request waits the host's politeness delay,
        # and lookups wait for the crawl.
        sitemap = len(queue) < MIN_LINKS_BEFORE_SITEMAP
        while crawl.budget_left:
            if not queue:
                if not sitemap or site.team_page is not None:
                    break
                sitemap = False
                await _sitemap(crawl, home_page.url, queue, site)
                continue
            url = max(queue, key=lambda u: queue[u])
            if (
                people_read is not None
                and not people_read.done()
                and queue[url] < PEOPLE_PAGE_SCORE
                and (not sitemap or site.team_page is not None)  # no sitemap read to come
            ):
                people_read.set_result(site)
            score = queue.pop(url)
            try:
                page = await crawl.fetch(url)
            except BudgetExhausted:
                break
            except FetchError as error:  # robots.txt, refused redirect, network: skip the page
                log.info("website %s: %s", domain, error.reason)
                continue
            site.pages.append(url)
            if page.ok and page.text:
                _enqueue(queue, _read(page, site, score), site)
    site.profiles = {u: n for u, n in site.profiles.items() if u not in site.pages}
    return site


async def _home(
    crawl: CrawlSession, http: SafeHttp, site: SiteCrawl
) -> tuple[Page, PageFindings] | None:
    """Read the first home page that answers 2xx (the bare domain, then ``www.``)."""
    problems: list[str] = []
    failures: list[str] = []  # "timeout" / "unavailable" for each network fault met
    for host in (site.domain, f"www.{site.domain}"):
        for url in http.home_urls(host):
            try:
                page = await crawl.fetch(url)
            except FetchRefused as error:
                site.refused = error.reason
                return None
            except BudgetExhausted:
                return None
            except NoAddress as error:
                problems.append(error.reason)
                break  # the name has no address: no other scheme or port will answer
            except RobotsDisallowed as error:
                problems.append(error.reason)
                failed = await _robots_failure(crawl, url)
                if failed is not None:  # robots.txt itself timed out or could not connect
                    problems[-1] = failed.reason
                    failures.append(_failure_kind(failed))
                continue
            except FetchFailed as error:
                problems.append(error.reason)
                failures.append(_failure_kind(error))
                continue
            except FetchError as error:
                problems.append(error.reason)
                continue
            site.pages.append(url)
            if page.ok:
                findings = _read(page, site)
                site.title, site.site_name = findings.title, findings.site_name
                site.lang = findings.lang
                return page, findings
            problems.append(f"{url} answered {page.status}.")
    site.error = problems[0] if problems else "The website could not be read."
    if failures and not site.pages:
        site.failure = "timeout" if "timeout" in failures else "unavailable"
        site.error = next(
            (p for p in problems if "did not answer" in p or "connect" in p), site.error
        )
    return None


def _failure_kind(error: FetchFailed) -> str:
    return "timeout" if isinstance(error, FetchTimeout) else "unavailable"


async def _robots_failure(crawl: CrawlSession, url: str) -> FetchFailed | None:
    """The network fault that kept ``url``'s robots.txt from being read, if that is why the
    URL was disallowed (RFC 9309 §2.3.1.4)."""
    try:
        robots = await crawl.robots(url)
    except FetchFailed as error:
        return error
    except FetchError:
        return None
    return robots.failed


def _read(page: Page, site: SiteCrawl, score: int = 0) -> PageFindings:
    """Extract one page (HTML or vCard) and merge its findings into ``site``; ``score`` is the
    :func:`page_score` of the link that led to it."""
    if page.content_type in ("text/vcard", "text/x-vcard", "text/directory") or (
        page.text.lstrip()[:11].upper() == "BEGIN:VCARD"  # a .vcf served as text/plain
    ):
        findings = extract_vcard(page.text, region_for(site.domain, site.lang))
    else:
        findings = extract_page(page.text, page.url, domain=site.domain, lang=site.lang)
    site.add(page.url, findings, score)
    return findings


def _enqueue(queue: dict[str, int], findings: PageFindings, site: SiteCrawl) -> None:
    """Queue the same-site links of a page that point at people pages, by :func:`page_score`;
    keep the links that are one person's (their name as the link, their vCard) as
    ``site.profiles`` in case the crawl's budget leaves them unread."""
    owned = {url.split("#", 1)[0]: owner for url, owner in findings.person_links}
    for url, text in findings.links:
        url = url.split("#", 1)[0]
        if url in site.pages or not same_site(url, site.domain):
            continue
        if urlsplit(url).path.lower().endswith(_SKIP_SUFFIXES):
            continue
        named = find_names(text)
        if len(named) == 1 and named[0][0] == text.strip():
            site.profiles.setdefault(url, named[0][0])  # a link that is a person's name
        if url in owned:
            site.profiles.setdefault(url, owned[url])  # their vCard download, in their card
        score = page_score(url, text)
        if score:
            queue[url] = max(queue.get(url, 0), score)


async def _sitemap(
    crawl: CrawlSession, home_url: str, queue: dict[str, int], site: SiteCrawl
) -> None:
    """Queue ``sitemap.xml`` entries (from robots.txt ``Sitemap:`` or ``/sitemap.xml``) whose
    URL has a people word. The XML is read with a regular expression for ``<loc>``, never with
    an XML parser (no entity expansion)."""
    try:
        robots = await crawl.robots(home_url)
    except FetchError:
        return
    parts = urlsplit(home_url)
    sitemap = (robots.site_maps() or [f"{parts.scheme}://{parts.netloc}/sitemap.xml"])[0]
    if not same_site(sitemap, site.domain) or crawl.budget_left < 2:
        return
    try:
        page = await crawl.fetch(sitemap)
    except FetchError:
        return
    site.pages.append(sitemap)
    for loc in _LOC.findall(page.text)[:5000]:
        score = page_score(loc, "")
        if score and same_site(loc, site.domain) and loc not in site.pages:
            queue[loc] = max(queue.get(loc, 0), score)


@dataclass(frozen=True)
class _CrawlCopy:
    """A parsed crawl this process holds: its stored time (``None`` when this process stored
    it), and until when (``time.monotonic()``) it is used without asking the database."""

    crawled_at: datetime | None
    site: SiteCrawl
    fresh_until: float


class WebsiteProvider:
    """Finds emails and phones on the company's own website. Free; email and phone.

    Args:
        settings: ``crawl_*`` settings.
        db: where stored crawls are read (``domain_facts``).
        http: the website fetcher.
        knowledge: the domain-knowledge port a crawl is persisted through. A crawl is shared
            by the lookups that wait for it and may outlive them: when it ends, what it
            learned is handed to a lookup still waiting for it (persisted with that lookup's
            ``ctx.learned``), else written on its own. A profile read within a lookup is
            recorded into that lookup's ``ctx.learned``. A port of its own on ``db`` when
            omitted.
    """

    name = "website"
    kind = "builtin"
    fields = frozenset({"email", "phone"})
    cost = 0.0

    def __init__(
        self,
        settings: Settings,
        db: Database,
        http: SafeHttp,
        knowledge: DomainKnowledge | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.http = http
        self.knowledge = knowledge if knowledge is not None else DomainKnowledge(db, http.resolver)
        self._crawls: dict[str, asyncio.Task[SiteCrawl]] = {}
        # lookups waiting for a crawl that will persist what it learned, and a finished
        # crawl's knowledge handed to them (the first takes it, the others its addresses)
        self._carriers: dict[asyncio.Future[SiteCrawl], int] = {}
        self._handed: dict[asyncio.Future[SiteCrawl], Learned] = {}
        self._people: dict[str, asyncio.Future[SiteCrawl]] = {}  # crawls whose people are read
        # one lock per domain whose profiles are being read, kept only while a lookup holds
        # or waits for it (weak values: not one per domain ever read, for the process's life)
        self._profile_locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        # This process's parsed copies of stored crawls (LRU-bounded). Within ``_reuse``
        # seconds of being stored or read a copy is used as it is: the website provider, the
        # prober's roster and a profile read ask for the same domain within one lookup. After
        # that the stored time is read (one small column) and the crawl (JSON, often kilobytes)
        # read and parsed again only when it changed.
        self._copies: LRUCache[str, _CrawlCopy] = LRUCache(maxsize=PARSED_CRAWLS)
        self._reuse = min(FRESH_CRAWL_SECONDS, settings.crawl_ttl.total_seconds())

    def status_detail(self) -> str | None:
        return None

    async def aclose(self) -> None:
        """Cancel crawls still running (the app is shutting down)."""
        tasks = list(self._crawls.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.http.aclose()

    async def site(self, domain: str, learned: Learned | None = None) -> SiteCrawl:
        """The domain's crawl: from ``domain_facts`` when younger than ``LEADSONAR_CRAWL_TTL``
        (:data:`FAILED_CRAWL_TTL` for a site that could not be read at all), else crawled now
        (one crawl at a time per domain in this process) and stored. A crawl this process
        stored or read within :data:`FRESH_CRAWL_SECONDS` (at most ``LEADSONAR_CRAWL_TTL``) is
        reused without reading it again.

        Args:
            learned: the waiting lookup's ``ctx.learned``: a crawl that ends while the lookup
                waits hands it what it learned (the crawl, the addresses that teach the
                pattern), persisted with the lookup's own knowledge in one write; without
                it (or once nobody waits) the crawl writes its own.
        """
        found = await self._stored_or_crawling(domain)
        if isinstance(found, SiteCrawl):
            if learned is not None:
                self._share_handed(domain, learned)
            return found
        return await self._wait(found[0], found[0], learned)

    def _share_handed(self, domain: str, learned: Learned) -> None:
        """Between a crawl's end and the resumption of the lookups that waited for it, what
        it learned is held for them (:meth:`_wait`): a lookup that asks for the site in that
        moment (another step of a waiting lookup, the prober's roster after the crawler's
        wait) is given its addresses too, as a waiter that resumes second is, so what the site
        teaches does not depend on which step resumes first."""
        for task, handed in self._handed.items():
            if task.done() and not task.cancelled() and task.exception() is None:
                if task.result().domain == domain:
                    learned.merge(Learned(addresses=dict(handed.addresses)))

    async def _wait(
        self,
        task: asyncio.Task[SiteCrawl],
        waited: asyncio.Future[SiteCrawl],
        learned: Learned | None,
    ) -> SiteCrawl:
        """Wait for ``waited`` (the crawl ``task`` or its people-read future) without
        cancelling the crawl; while waiting, a lookup carrying ``learned`` is handed what the
        crawl learned if the crawl ends meanwhile (see :meth:`site`)."""
        if learned is None:
            return await asyncio.shield(waited)
        self._carriers[task] = self._carriers.get(task, 0) + 1
        try:
            return await asyncio.shield(waited)
        finally:
            # also when this lookup was cancelled after the crawl ended: it still persists.
            # The first lookup to resume takes the crawl; the others its addresses only (seen
            # at once by their own next steps; each address counts once however often it is
            # persisted, and a later profile read stored by the first is not overwritten)
            waiting = self._carriers.pop(task) - 1
            if waiting:
                self._carriers[task] = waiting
            handed = self._handed.get(task) if task.done() else None
            if handed is not None:
                self._handed[task] = Learned(addresses=dict(handed.addresses))
                learned.merge(handed)
            if not waiting:
                self._handed.pop(task, None)

    async def people(self, domain: str) -> SiteCrawl:
        """The domain's crawl as far as who it names goes: like :meth:`site`, but while the
        domain is crawled, as soon as every page that may list people is read (the pages left,
        vCards and the like, name nobody new). Its addresses may still be incomplete and not
        yet learnt from: ask :meth:`site` for those."""
        found = await self._stored_or_crawling(domain)
        if isinstance(found, SiteCrawl):
            return found
        return await asyncio.shield(found[1])

    async def _stored_or_crawling(
        self, domain: str
    ) -> SiteCrawl | tuple[asyncio.Task[SiteCrawl], asyncio.Future[SiteCrawl]]:
        """The usable stored crawl, else the running (or a new) crawl's task and its
        people-read future."""
        copy = self._copies.get(domain)
        if copy is not None and time.monotonic() < copy.fresh_until:
            return copy.site
        crawled_at = as_utc(await domains_repository.crawl_time(self.db, domain))
        cached = copy.site if copy is not None and copy.crawled_at == crawled_at else None
        if cached is None and crawled_at is not None:
            stored = await domains_repository.stored_crawl(self.db, domain)
            if stored is not None:
                crawled_at = as_utc(stored[0])
                cached = SiteCrawl.from_json(stored[1])
        if cached is not None and crawled_at is not None:
            self._copies[domain] = _CrawlCopy(crawled_at, cached, self._fresh_until())
            ttl = self.settings.crawl_ttl
            if cached.error and not cached.pages:
                ttl = min(ttl, FAILED_CRAWL_TTL)
            if datetime.now(UTC) - crawled_at < ttl:
                return cached
            self._copies.pop(domain, None)  # too old: crawled again below
        task = self._crawls.get(domain)
        if task is None:
            people_read: asyncio.Future[SiteCrawl] = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._crawl_and_store(domain, people_read))
            self._crawls[domain] = task
            self._people[domain] = people_read

            def done(_: object) -> None:
                self._crawls.pop(domain, None)
                self._people.pop(domain, None)
                if not people_read.done():  # the crawl was cancelled before it started
                    people_read.cancel()

            task.add_done_callback(done)
        return task, self._people[domain]

    def forget(self, domain: str) -> None:
        """Drop this process's copies of the domain's stored crawl: the next lookup reads it
        from ``domain_facts`` (after it was changed there by other means)."""
        self._copies.pop(domain, None)

    async def _crawl_and_store(
        self, domain: str, people_read: asyncio.Future[SiteCrawl] | None = None
    ) -> SiteCrawl:
        site = await crawl_site(self.http, domain, people_read)
        learned = Learned()
        self._record(site, site.emails, learned)
        task = asyncio.current_task()
        if task is not None and self._carriers.get(task):
            # the lookups waiting for this crawl persist it with what they learned themselves
            # (every waiter resumes after this task ends; see _wait)
            self._handed[task] = learned
        else:
            # nobody will: the crawl's own write (lookups asking meanwhile wait for this
            # task, so they find it stored)
            await self.knowledge.persist(learned)
        self._keep(site)
        return site

    def _record(self, site: SiteCrawl, learn_from: list[dict[str, Any]], learned: Learned) -> None:
        """Record the crawl and what the addresses ``learn_from`` teach into ``learned``."""
        learned.crawl(site.domain, asdict(site))
        for email in learn_from:
            self._learn(learned, site.domain, email, site)

    def _keep(self, site: SiteCrawl) -> None:
        """Keep this process's parsed copy of ``site``, used at once (stored or not yet)."""
        # its stored time is not known here: once no longer fresh, the stored crawl is read
        self._copies[site.domain] = _CrawlCopy(None, site, self._fresh_until())

    def _fresh_until(self) -> float:
        """Until when (``time.monotonic()``) a copy of a crawl is used without asking the
        database. A site that could not be read too: its stored crawl is kept for
        :data:`FAILED_CRAWL_TTL` anyway, and a bulk job's rows at a domain that does not resolve
        would otherwise read its stored time once per row."""
        return time.monotonic() + self._reuse if self._reuse > 0 else 0.0

    async def _with_profile(self, site: SiteCrawl, person: Person, learned: Learned) -> SiteCrawl:
        """Read the person's own pages when the crawl found links that are theirs (a link
        named for them, the vCard download in their card) but its page budget left them
        unread (at most :data:`MAX_PROFILE_PAGES`, same fetcher and rules as the crawl); the
        updated crawl is recorded into ``learned`` (the lookup's, persisted when it ends).
        Returns the (possibly updated) site."""

        def theirs(profiles: dict[str, str]) -> list[str]:
            return [
                u
                for u, name in profiles.items()
                if name_score(person.first_name, person.last_name, name) >= NAME_MATCH_THRESHOLD
            ][:MAX_PROFILE_PAGES]

        if not theirs(site.profiles):
            return site
        async with self.profile_lock(site.domain):
            copy = self._copies.get(site.domain)
            if copy is not None and copy.crawled_at is None:
                stored: SiteCrawl | None = copy.site  # this process's newest, maybe unstored
            else:
                row = await domains_repository.stored_crawl(self.db, site.domain)
                stored = SiteCrawl.from_json(row[1]) if row is not None else None
            if stored is not None:
                site = stored  # another lookup may have read some meanwhile
            urls = theirs(site.profiles)
            if not urls:
                return site
            before = {e["address"] for e in site.emails}
            async with self.http.crawl(max_pages=len(urls)) as crawl:
                for url in urls:
                    try:
                        page: Page | None = await crawl.fetch(url)
                    except FetchError as error:  # robots.txt, network: that page is skipped
                        log.info("website %s: profile %s: %s", site.domain, url, error.reason)
                        page = None
                    site.profiles.pop(url, None)
                    site.pages.append(url)
                    if page is not None and page.ok and page.text:
                        _read(page, site, TEAM_PAGE_SCORE)
            self._record(site, [e for e in site.emails if e["address"] not in before], learned)
            self._keep(site)  # seen by later lookups at once, stored when this one ends
        return site

    def profile_lock(self, domain: str) -> asyncio.Lock:
        """The lock that makes one lookup at a time read ``domain``'s profile pages. It stays
        in :attr:`_profile_locks` only while a lookup holds or waits for it (the caller's
        reference keeps it), so the map holds the domains being read, not every domain ever
        read (issue 9 §6)."""
        lock = self._profile_locks.get(domain)
        if lock is None:
            lock = self._profile_locks[domain] = asyncio.Lock()
        return lock

    @property
    def profile_locks(self) -> int:
        """Domains whose profile lock is still held or waited for."""
        return len(self._profile_locks)

    @staticmethod
    def _learn(learned: Learned, domain: str, email: dict[str, Any], site: SiteCrawl) -> None:
        """Teach the domain's pattern from one published address, only when it is somebody's.

        A role address (``info@``, ``sales@``, ``kontakt@``) teaches nothing. A personal
        address teaches only when its owner is identified: the name standing with it on the
        page, or the one listed person whose name the local part spells
        (:meth:`SiteCrawl.owner_of`); an address that fits nobody, or several, teaches
        nothing (issue 8 §4: a wrong sample is worse than none on a catch-all domain).
        """
        local, _, at = str(email["address"]).partition("@")
        if is_role_local_part(local):
            return
        if at != domain and not at.endswith("." + domain):
            return
        owner = email.get("owner") or site.owner_of(local)
        parts = split_name(str(owner)) if owner else None
        if parts and infer_patterns(local, *parts):
            learned.address(email["address"], *parts)

    async def _site_for(self, company: Company, ctx: LookupContext) -> SiteCrawl | None:
        if not company.domain:
            return None
        site = await self.site(company.domain, ctx.learned)
        if site.refused:
            ctx.note(f"The website of {company.domain} was not fetched: {site.refused}")
        elif site.failure and not site.pages:
            # the site is there but did not answer: a passing fault, not "not found" (the
            # waterfall records it and does not cache the miss)
            error = ProviderTimeout if site.failure == "timeout" else ProviderUnavailable
            raise error(f"The website of {company.domain} could not be read: {site.error}")
        elif site.error and not site.pages:
            ctx.note(f"The website of {company.domain} could not be read: {site.error}")
        return site

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """A published address of ``person`` (see the module's table).

        While the domain is being crawled, an address published with the person's name on the
        pages that list people is answered as soon as those are read (the rest of the crawl,
        vCards and the like, goes on for later lookups); anything else waits for the whole
        crawl."""
        if company.domain:
            crawling = await self._stored_or_crawling(company.domain)
            if not isinstance(crawling, SiteCrawl):
                partial = await self._wait(crawling[0], crawling[1], ctx.learned)
                early = self._published(person, partial, LookupContext(), named_only=True)
                if early is not None:
                    return early
        site = await self._site_for(company, ctx)
        if site is None:
            return None
        site = await self._with_profile(site, person, ctx.learned)
        found = self._published(person, site, ctx)
        if found is None and site.pages:
            ctx.note(
                f"The website of {company.domain} publishes no address of "
                f"{person.first_name} {person.last_name}."
            )
        return found

    @staticmethod
    def _published(
        person: Person, site: SiteCrawl, ctx: LookupContext, *, named_only: bool = False
    ) -> Finding | None:
        """The address ``site`` publishes for ``person``: one standing with their name, else
        (unless ``named_only``) one whose local part spells their name; ``None`` if none."""
        owned: list[tuple[float, dict[str, Any]]] = []
        spelled_only: list[tuple[float, dict[str, Any]]] = []
        for email in site.emails:
            local = str(email["address"]).partition("@")[0]
            if is_role_local_part(local):
                continue
            owner = email.get("owner")
            if owner:
                score = name_score(person.first_name, person.last_name, owner)
                if score >= NAME_MATCH_THRESHOLD:
                    owned.append((score, email))
                continue
            # no name beside it: the local part must spell the surname and the given name or
            # its initial (first.last, flast …; "last" alone could be anyone's)
            spelled = infer_patterns(local, person.first_name, person.last_name)
            if any("last" in p and p != "last" for p in spelled):
                spelled_only.append((90.0, email))
        if named_only:
            spelled_only = []
        # two listed namesakes: only a middle initial tells whose address is whose
        candidates = _one_person(person, owned, ctx, site.people) if owned else spelled_only
        best = max(candidates, key=lambda se: se[0], default=None)
        if best is None:
            return None
        return Finding(
            value=best[1]["address"],
            confidence=Confidence.MEDIUM,
            verification=Verification.PUBLISHED,
            evidence={"page": best[1]["page"], "name": best[1].get("owner")},
        )

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The person's own number, else the company's main line (see the module's table)."""
        site = await self._site_for(company, ctx)
        if site is None:
            return None
        site = await self._with_profile(site, person, ctx.learned)
        own = [
            (name_score(person.first_name, person.last_name, phone["owner"]), phone)
            for phone in site.phones
            if phone.get("owner") and phone.get("label") not in _COMPANY_LINES
        ]
        own = [(score, phone) for score, phone in own if score >= NAME_MATCH_THRESHOLD]
        own = _one_person(person, own, ctx, site.people, marked_namesakes=True)
        main = _main_line(site)
        if own:
            # the best name match first (the full name before an initial), then an explicitly
            # direct line, then a desk line before a mobile, then page order
            _, phone = min(
                own,
                key=lambda sp: (
                    -sp[0],
                    sp[1].get("label") != "direct",
                    bool(sp[1].get("mobile")),
                ),
            )
            evidence = {"page": phone["page"], "name": phone["owner"]}
            if main is not None and main["value"] != phone["value"]:
                evidence["company_phone"] = main["value"].split(";", 1)[0]
            return Finding(
                value=phone["value"],
                confidence=Confidence.MEDIUM,
                verification=Verification.PUBLISHED,
                kind="mobile" if phone.get("mobile") else "direct",
                evidence=evidence,
            )
        if main is None:
            if site.pages:
                ctx.note(
                    f"The website of {company.domain} publishes no number of "
                    f"{person.first_name} {person.last_name}."
                )
            return None
        # the company's line: the waterfall keeps it as ``company_phone``, never as the answer
        return Finding(
            value=main["value"],
            confidence=Confidence.LOW,
            verification=Verification.PUBLISHED,
            kind="office",
            evidence={"page": main["page"], "line": "main"},
        )


_HONORIFIC_WORDS = frozenset("dr prof mr mrs ms mme mlle herr frau sir dipl ing".split())


def _name_parts(name: str) -> tuple[set[str], set[str]]:
    """A listed name's full words and initials, folded, honorifics dropped."""
    words = [anyascii(w).strip(".,").lower() for w in name.split()]
    words = [w for w in words if w and w not in _HONORIFIC_WORDS]
    return {w for w in words if len(w) > 1}, {w for w in words if len(w) == 1}


def _same_listed(one: str, other: str) -> bool:
    """Whether two owners' names are one person as listed: ``"Dr. Li WAGNER"`` = ``"Wagner
    Li"``, ``"J. Großmann"`` = ``"Jörg Großmann"``, but ``"Daniel J. Moreau"`` is not
    ``"Daniel Moreau"`` (a middle initial tells namesakes apart)."""
    (wa, ia), (wb, ib) = _name_parts(one), _name_parts(other)
    if wa == wb:
        return ia == ib
    for (small, small_initials), (big, big_initials) in (
        ((wa, ia), (wb, ib)),
        ((wb, ib), (wa, ia)),
    ):
        if small < big and not big_initials:
            return {w[0] for w in big - small} == small_initials
    return False


def _people_count(owners: list[str]) -> int:
    people: list[str] = []
    for owner in owners:
        if not any(_same_listed(owner, seen) for seen in people):
            people.append(owner)
    return len(people)


def _one_person(
    person: Person,
    own: list[tuple[float, dict[str, Any]]],
    ctx: LookupContext,
    listed: list[str] = (),  # type: ignore[assignment]
    *,
    marked_namesakes: bool = False,
) -> list[tuple[float, dict[str, Any]]]:
    """The numbers (or addresses) of the one listed person the query names.

    When the site lists namesakes (``Daniel Moreau`` and ``Daniel J. Moreau``, in ``own`` or in
    ``listed``, the site's people), the middle name or initial decides: a query with one gets
    only the owner with the same; a query without one never gets the owner who has one. If
    they still cannot be told apart, nothing is answered (a namesake's number is a wrong
    answer, issue 8 §3).

    With ``marked_namesakes`` (find-phone), a query without a middle initial never gets an
    owner listed with one, even when the namesake is not listed, unless the site writes middle
    initials for at least half of its people (a house style, :func:`_middle_initial_style`):
    a site that writes ``Daniel J. Moreau`` among colleagues written without does so to tell
    him from the other Daniel Moreau, the same way mail admins give him ``daniel.j.moreau@``.
    """
    if not own:
        return own
    middles = [w.strip(".").lower()[:1] for w in person.first_name.split()[1:] if w.strip(".")]
    if marked_namesakes and not middles and not _middle_initial_style(listed):
        # "Tobias G. Schäfer" on a site that writes nobody else's middle initial: the initial is
        # there to tell him from a namesake, so a query for plain "Tobias Schäfer" is not him
        unmarked = [sp for sp in own if _middle_initial(str(sp[1]["owner"])) is None]
        if not unmarked:
            ctx.note(
                f"{person.first_name} {person.last_name} is listed only with a middle initial "
                f"({own[0][1]['owner']}), which this site writes to tell namesakes apart."
            )
        own = unmarked
        if not own:
            return own
    owners = [str(phone["owner"]) for _, phone in own]
    same_name = [
        name
        for name in listed
        if name_score(person.first_name.split()[0], person.last_name, name) >= NAME_MATCH_THRESHOLD
    ]
    namesakes = _people_count(owners + same_name) > 1
    if not namesakes:
        return own
    picked = [
        sp for sp in own if _middle_of(str(sp[1]["owner"])) == (middles[0] if middles else None)
    ]
    if picked and _people_count([str(p["owner"]) for _, p in picked]) == 1:
        return picked
    ctx.note(
        f"Several people named {person.first_name} {person.last_name} are listed; "
        "their numbers cannot be told apart."
    )
    return []


def _middle_words(name: str) -> list[str]:
    """The words between a listed name's given name and surname, folded: honorifics and
    lower-case particles (``von``, ``de la``) are not middle names."""
    words = [w for w in name.split() if anyascii(w).strip(".,").lower() not in _HONORIFIC_WORDS]
    words = [w for w in words if w.strip(".,")]
    return [anyascii(w).strip(".,").lower() for w in words[1:-1] if not w.islower()]


def _middle_of(owner: str) -> str | None:
    """The first letter of a listed name's middle name or initial, or ``None``."""
    words = _middle_words(owner)
    return words[0][:1] if words else None


def _middle_initial(owner: str) -> str | None:
    """A listed name's middle *initial* (``Daniel J. Moreau`` → ``j``), or ``None`` (a full
    middle or second given name, ``Mary Ann Smith``, is not counted: it may be how she is
    always called)."""
    initials = [w for w in _middle_words(owner) if len(w) == 1]
    return initials[0] if initials else None


def _middle_initial_style(listed: list[str]) -> bool:
    """Whether a site writes middle initials as a house style: for at least half of the
    people it lists (and at least two of them)."""
    marked = sum(1 for name in listed if _middle_initial(name) is not None)
    return marked >= 2 and 2 * marked >= len(listed)


def _main_line(site: SiteCrawl) -> dict[str, Any] | None:
    """The company's main line: a number labelled main (switchboard, Zentrale, standard), else
    the unlabelled number with no owner seen on the most pages; never fax, support or mobile."""
    main = [
        phone
        for phone in site.phones
        if not phone.get("owner") and phone.get("label") not in ("fax", "support", "mobile")
    ]
    if not main:
        return None
    return sorted(main, key=lambda p: (p.get("label") != "main", -int(p.get("pages", 1))))[0]
