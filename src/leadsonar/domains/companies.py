"""Company name → domain, for lookups that give ``company`` without ``website``.

In order (the first that answers wins):

1. a companies CSV the user imported (``leadsonar import companies.csv``: ``company,website`` or
   ``name,domain`` columns), stored in ``company_domains`` with source ``import``;
2. the company of the user's imported contacts (``known_contacts.company``);
3. an earlier resolution of the same name (``company_domains``, source ``guess`` for
   :data:`RESOLVED_TTL`, or ``unresolved`` for :data:`UNRESOLVED_TTL`);
4. guesses from the name (:func:`domain_guesses`: the name's slug on common TLDs, the country
   TLD its legal form points at, ``get``/``try``/``use`` prefixes and ``hq``/``-hq``/``app``
   suffixes), each checked by DNS (the one :class:`~leadsonar.kit.net.dns.Resolver`: an MX, A
   or AAAA record) and then by its home page, fetched through
   :class:`~leadsonar.kit.net.safe_http.SafeHttp`: the ``og:site_name`` or a part of the
   ``<title>`` must match the name with a rapidfuzz ratio of at least
   :data:`TITLE_MATCH_THRESHOLD` (legal forms, case and accents ignored). A home page that
   redirects to another domain (``notion.com`` → ``notion.so``) gives that domain.

A name that cannot be resolved gives ``domain=None`` and a sentence saying so; nothing raises
for it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from anyascii import anyascii
from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, domain_for_company
from leadsonar.domains.extract import extract_page
from leadsonar.domains.models import CompanyDomain
from leadsonar.exceptions import InvalidDomain
from leadsonar.kit.db import Database
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.hostnames import domain_from_website
from leadsonar.kit.net.safe_http import CrawlSession, FetchError, FetchRefused, SafeHttp

TITLE_MATCH_THRESHOLD = 85.0
RESOLVED_TTL = timedelta(days=30)
UNRESOLVED_TTL = timedelta(days=1)
DNS_CONCURRENCY = 8
COMMON_TLDS = ("com", "io", "co", "so", "ai", "app", "net", "org")
PREFIXES = ("get", "try", "use")
SUFFIXES = ("hq", "-hq", "app")
# Legal forms: dropped from the name; some point at a country's TLD.
LEGAL_FORMS: dict[str, str | None] = {
    "inc": None,
    "incorporated": None,
    "llc": None,
    "ltd": None,
    "limited": None,
    "corp": None,
    "corporation": None,
    "co": None,
    "company": None,
    "plc": "co.uk",
    "gmbh": "de",
    "ag": "de",
    "ug": "de",
    "kg": "de",
    "ohg": "de",
    "gbr": "de",
    "ev": "de",
    "sarl": "fr",
    "sas": "fr",
    "sasu": "fr",
    "sa": None,
    "bv": "nl",
    "nv": None,
    "ab": "se",
    "oy": "fi",
    "asa": "no",
    "as": None,
    "aps": "dk",
    "spa": "it",
    "srl": "it",
    "sl": "es",
    "pty": "com.au",
    "kk": "co.jp",
    "se": None,
}
_SEPARATORS = re.compile(r"\s[|–—:·•\-]\s|\s*[|–—·•]\s*")


@dataclass(frozen=True)
class Resolution:
    """A company name's domain.

    Attributes:
        domain: the A-label domain, or ``None``.
        source: ``import``, ``contacts``, ``guess``, ``unresolved``.
        reason: for ``None``, a sentence saying why.
    """

    domain: str | None
    source: str
    reason: str | None = None


def _words(name: str) -> list[str]:
    folded = anyascii(name).lower().replace("&", " and ")
    return [w for w in re.split(r"[^a-z0-9]+", folded.replace(".", "")) if w]


def company_key(name: str) -> str:
    """A match key: folded, without legal forms or punctuation (``Notion Labs, Inc.`` →
    ``notion labs``)."""
    words = _words(name)
    kept = [w for w in words if w not in LEGAL_FORMS] or words
    return " ".join(kept)


def domain_guesses(name: str) -> list[str]:
    """Domains a company called ``name`` likely uses, most likely first.

    The slug (``Acme Labs`` → ``acmelabs``, then ``acme-labs``) on ``.com``, the country TLD its
    legal form points at (``GmbH`` → ``.de``), then ``.io .co .so .ai .app .net .org``; then
    ``get``/``try``/``use`` + slug and slug + ``hq``/``-hq``/``app`` on ``.com`` and ``.io``.
    A leading ``the`` is dropped. Only valid domain names are returned.
    """
    words = _words(name)
    country = next((LEGAL_FORMS[w] for w in words if LEGAL_FORMS.get(w)), None)
    words = [w for w in words if w not in LEGAL_FORMS] or words
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    if not words:
        return []
    slugs = list(dict.fromkeys(["".join(words), "-".join(words)]))
    tlds = ["com", *([country] if country else []), *COMMON_TLDS[1:]]
    guesses = [f"{slug}.{tld}" for slug in slugs for tld in tlds]
    joined = slugs[0]
    for tld in ("com", "io"):
        guesses += [f"{prefix}{joined}.{tld}" for prefix in PREFIXES]
        guesses += [f"{joined}{suffix}.{tld}" for suffix in SUFFIXES]
    valid = []
    for guess in dict.fromkeys(guesses):
        if len(guess.split(".")[0]) <= 63 and not guess.startswith("-"):
            valid.append(guess)
    return valid


_PARKED = re.compile(
    r"for\s+sale|parked|coming\s+soon|buy\s+this\s+domain|domain\s+(?:name\s+)?is"
    r"|under\s+construction|zu\s+verkaufen|à\s+vendre",
    re.IGNORECASE,
)
_DOMAIN_LIKE = re.compile(r"^(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?$", re.IGNORECASE)


def title_score(name: str, title: str | None, site_name: str | None) -> float:
    """How well a home page's ``og:site_name`` or a part of its ``<title>`` (split at ``|``,
    `` - ``, ``–``, ``:`` …) names the company: 0..100 on :func:`company_key` forms.

    A part that is just a domain name (``acmerobotics.io``) says nothing about who runs the
    site, and a page whose title says it is for sale, parked or coming soon is no company's
    site (0). A part must name the company exactly (case, accents, spaces and hyphens aside):
    100; anything else scores its rapidfuzz ratio capped below :data:`TITLE_MATCH_THRESHOLD`
    (``Strip`` is not ``Stripe``), so near names rank but never match.
    """
    target = company_key(name)
    if title and _PARKED.search(title):
        return 0.0
    parts = [site_name or ""]
    if title:
        parts += [title, *_SEPARATORS.split(title)]
    parts = [p.strip() for p in parts if p and p.strip() and not _DOMAIN_LIKE.match(p.strip())]

    def squeeze(key: str) -> str:
        return re.sub(r"[\s-]+", "", key)

    scores = [
        100.0
        if squeeze(company_key(part)) == squeeze(target)
        else min(fuzz.ratio(target, company_key(part)), TITLE_MATCH_THRESHOLD - 1)
        for part in parts
    ]
    return max(scores, default=0.0)


async def import_companies(
    session: AsyncSession, rows: list[tuple[int, str, str]], report: ImportReport
) -> None:
    """Store imported companies (source ``import``); they answer before any guess."""
    skipped = report.skipped if report.skipped is not None else []
    report.skipped = skipped
    for line, name, website in rows:
        report.rows += 1
        if not company_key(name) or not website:
            skipped.append(f"line {line}: a company name and a website are required")
            continue
        try:
            domain = domain_from_website(website, allow_reserved=True)
        except InvalidDomain as exc:
            skipped.append(f"line {line}: {exc.message}")
            continue
        session.add(
            CompanyDomain(name=name, name_key=company_key(name), domain=domain, source="import")
        )
        report.imported += 1
    await session.flush()


class CompanyResolver:
    """Resolves company names to domains (see the module's order).

    Args:
        settings: ``allowed_private_networks`` (reserved test TLDs are accepted where it is set)
            and the ``crawl_*`` limits.
        db: imported companies, contacts and earlier resolutions.
        resolver: the one DNS resolver.
        http: the website fetcher.
    """

    def __init__(self, settings: Settings, db: Database, resolver: Resolver, http: SafeHttp):
        self.settings = settings
        self.db = db
        self.resolver = resolver
        self.http = http

    async def resolve(self, name: str) -> Resolution:
        """The domain for company ``name`` (never raises for an unresolvable name)."""
        key = company_key(name)
        if not key:
            return Resolution(None, "unresolved", f"{name!r} is not a company name.")
        async with self.db.session() as session:
            known = await self._known(session, name, key)
        if known is not None:
            return known
        domain = await self._guess(name)
        resolution = (
            Resolution(domain, "guess")
            if domain
            else Resolution(
                None,
                "unresolved",
                f"The company {name!r} could not be resolved to a domain (no guessed domain's "
                "site names it); pass website.",
            )
        )
        async with self.db.session() as session:
            session.add(
                CompanyDomain(name=name, name_key=key, domain=domain, source=resolution.source)
            )
        return resolution

    async def _known(self, session: AsyncSession, name: str, key: str) -> Resolution | None:
        rows = (
            await session.scalars(
                select(CompanyDomain)
                .where(CompanyDomain.name_key == key)
                .order_by(CompanyDomain.id.desc())
            )
        ).all()
        imported = next((r for r in rows if r.source == "import" and r.domain), None)
        if imported:
            return Resolution(imported.domain, "import")
        contact = await domain_for_company(session, name)
        if contact:
            return Resolution(contact, "contacts")
        now = datetime.now(UTC)
        for row in rows:
            checked = row.checked_at
            if checked.tzinfo is None:
                checked = checked.replace(tzinfo=UTC)  # SQLite returns naive datetimes
            if row.source == "guess" and row.domain and now - checked < RESOLVED_TTL:
                return Resolution(row.domain, "guess")
            if row.source == "unresolved" and now - checked < UNRESOLVED_TTL:
                return Resolution(
                    None,
                    "unresolved",
                    f"The company {name!r} could not be resolved to a domain; pass website.",
                )
        return None

    async def _exists(self, domain: str, limit: asyncio.Semaphore) -> bool:
        async with limit:
            answer = await self.resolver.mx_hosts(domain)
        return bool(answer.hosts)

    async def _guess(self, name: str) -> str | None:
        allow_reserved = bool(self.settings.allowed_private_networks)
        guesses = []
        for guess in domain_guesses(name):
            try:
                guesses.append(domain_from_website(guess, allow_reserved=allow_reserved))
            except InvalidDomain:
                continue
        limit = asyncio.Semaphore(DNS_CONCURRENCY)
        exists = await asyncio.gather(*(self._exists(g, limit) for g in guesses))
        live = [g for g, ok in zip(guesses, exists, strict=True) if ok]
        if not live:
            return None
        best: tuple[float, str] | None = None
        async with self.http.crawl(max_pages=2 * len(live)) as crawl:
            for domain in live:
                found = await self._check_site(crawl, name, domain)
                if found and (best is None or found[0] > best[0]):
                    best = found  # the best-named site wins; list order breaks ties
                    if found[0] >= 100.0:
                        break
        return best[1] if best else None

    async def _check_site(
        self, crawl: CrawlSession, name: str, domain: str
    ) -> tuple[float, str] | None:
        """``(title score, domain or where its home page redirects)`` if the site names the
        company."""
        for url in self.http.home_urls(domain):
            try:
                page = await crawl.fetch(url)
            except FetchRefused:
                return None
            except FetchError:
                continue
            if not page.ok:
                continue
            findings = extract_page(page.text, page.url, domain=domain)
            score = title_score(name, findings.title, findings.site_name)
            if score < TITLE_MATCH_THRESHOLD:
                return None
            host = urlsplit(page.url).hostname or domain
            try:
                return score, domain_from_website(
                    host, allow_reserved=bool(self.settings.allowed_private_networks)
                )
            except InvalidDomain:
                return score, domain
        return None
