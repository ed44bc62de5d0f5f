"""The one website fetcher: every page LeadSonar reads from a company's site comes through here.

A company's website is a value users type, so fetching it must never turn the server against its
own network (SSRF; DESIGN.md §5). The rules, in the order a request meets them:

1. **The URL.** Only ``http`` and ``https``, no user-info, on port 80, 443 or
   ``LEADSONAR_CRAWL_PORT``. The host is an IP literal (checked as in rule 2) or a domain name
   accepted by :func:`~leadsonar.kit.net.hostnames.domain_from_website` (so ``localhost``,
   single-label and other special-use names, RFC 6761, are refused by name).
2. **The address.** The name is resolved once through the one
   :class:`~leadsonar.kit.net.dns.Resolver`; addresses that
   :func:`~leadsonar.kit.net.addresses.is_allowed` refuses (private, loopback, link-local, …
   outside ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS``) are dropped, and if none is left the request
   is refused before any connection. The connection goes to the checked IP, never to the name
   again (no second lookup, so no DNS rebinding): the URL is rewritten to the IP, the ``Host``
   header keeps the name and TLS is verified against the name through SNI.
3. **Redirects** are followed by hand, at most :data:`MAX_REDIRECTS`, each new URL through rules
   1–2 again (and robots.txt of its origin).
4. **robots.txt** (RFC 9309) of each origin is read once per crawl, and a readable one (2xx or
   4xx) is reused by the process's later crawls for :data:`ROBOTS_TTL` seconds (§2.4 allows a
   day); it is obeyed for the token ``LeadSonar`` with RFC 9309 matching (:class:`Robots`, the
   ``protego`` parser: the longest matching rule wins, ``*`` and ``$`` wildcards, an ``Allow``
   wins a tie); a 4xx robots.txt allows everything (§2.3.1.3), a 5xx or timeout disallows
   everything (§2.3.1.4); its ``Crawl-delay`` lengthens the politeness delay.
5. **Limits.** Each request, body included, takes at most ``LEADSONAR_CRAWL_TIMEOUT`` seconds;
   a body is read up to ``LEADSONAR_CRAWL_MAX_BYTES`` bytes (decoded size, so compression cannot
   inflate it) and only for textual types; one crawl fetches at most ``LEADSONAR_CRAWL_MAX_PAGES``
   pages (robots.txt apart); requests to one host are spaced ``LEADSONAR_CRAWL_DELAY`` seconds
   apart, process-wide for this fetcher. A page a crawl read (2xx, textual, at most
   :data:`RECENT_PAGE_BYTES`) is handed to another crawl asking for the same URL within
   :data:`RECENT_PAGE_SECONDS` (at most ``LEADSONAR_CRAWL_TTL``) without a request (a company
   resolution's home page and legal notice, then the lookup's crawl of that site): a second
   request would only wait out the politeness delay for the same bytes. It still counts against
   that crawl's page budget.
6. **Identity.** An honest ``User-Agent``: :data:`USER_AGENT`.

Usage::

    http = SafeHttp(settings, resolver)
    async with http.crawl() as crawl:
        page = await crawl.fetch("https://example.com/team")
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from types import TracebackType
from urllib.parse import urljoin

import httpx
from cachetools import LRUCache, TTLCache
from protego import Protego

from leadsonar.config import Settings
from leadsonar.exceptions import AddressNotAllowed, InvalidDomain
from leadsonar.kit import metrics
from leadsonar.kit.net.addresses import IPNetwork, ensure_allowed, is_allowed
from leadsonar.kit.net.dns import DnsError, Resolver
from leadsonar.kit.net.hostnames import domain_from_website

MAX_REDIRECTS = 5
ROBOTS_TOKEN = "LeadSonar"
ROBOTS_MAX_BYTES = 512_000  # RFC 9309 §2.5: crawlers must parse at least 500 KiB
MAX_POLITE_WAIT = 10.0  # seconds; a longer robots.txt Crawl-delay ends the crawl instead
MAX_CONNECT_TRIES = 2  # addresses of one name tried before giving up
ROBOTS_TTL = 3600.0  # seconds a readable robots.txt is reused across crawls (RFC 9309 §2.4)
MAX_ROBOTS_CACHED = 4096  # origins whose robots.txt the process keeps
RECENT_PAGE_SECONDS = 60.0  # seconds a page read by one crawl is handed to the next
RECENT_PAGE_BYTES = 256_000  # larger pages are not kept
MAX_RECENT_PAGES = 256
TEXT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "application/xml",
    "text/xml",
    "text/vcard",
    "text/x-vcard",
    "text/directory",
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _version() -> str:
    try:
        return metadata.version("leadsonar")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


USER_AGENT = f"LeadSonar/{_version()} (+https://github.com/leadsonar/leadsonar)"


class FetchError(Exception):
    """A page could not be fetched; ``reason`` is one sentence for logs and answers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchRefused(FetchError):
    """The URL, its host or its address is not allowed (SSRF rules 1–3); nothing was connected."""


class FetchFailed(FetchError):
    """The network failed: no address, connection refused, TLS, timeout, bad HTTP."""


class FetchTimeout(FetchFailed):
    """The host did not answer within ``LEADSONAR_CRAWL_TIMEOUT``."""


class Unreachable(FetchFailed):
    """No connection could be opened to the host: no address, DNS failure, connection refused
    or unroutable, TLS handshake failed."""


class NoAddress(Unreachable):
    """The host name has no usable address (NXDOMAIN, no A/AAAA, DNS failure): no scheme or
    port of it can answer."""


class Robots:
    """One origin's robots.txt rules (RFC 9309, parsed by ``protego``).

    Matching follows RFC 9309 §2.2.2: the rule with the longest matching path wins, ``*``
    matches any characters and a final ``$`` anchors the end, and ``Allow`` wins a tie between
    an ``Allow`` and a ``Disallow`` of the same length. ``Crawl-delay`` and ``Sitemap`` lines
    are read too (extensions outside the RFC).

    Args:
        text: the robots.txt body; ``None`` with ``allow_all`` or ``disallow_all``.
        allow_all: no restrictions (a 4xx robots.txt, §2.3.1.3).
        disallow_all: nothing may be fetched (a 5xx or unreachable robots.txt, §2.3.1.4).
    """

    def __init__(
        self, text: str | None = None, *, allow_all: bool = False, disallow_all: bool = False
    ) -> None:
        self.allow_all = allow_all
        self.disallow_all = disallow_all
        self.failed: FetchFailed | None = None  # set when robots.txt could not be fetched
        self._rules = Protego.parse(text) if text is not None else None

    def can_fetch(self, token: str, url: str) -> bool:
        """Whether the crawler ``token`` may fetch ``url``."""
        if self.disallow_all:
            return False
        if self.allow_all or self._rules is None:
            return True
        return bool(self._rules.can_fetch(url, token))

    def crawl_delay(self, token: str) -> float | None:
        """The ``Crawl-delay`` (seconds) of ``token``'s group, or ``None``."""
        if self._rules is None or self.disallow_all:
            return None
        delay = self._rules.crawl_delay(token)
        return float(delay) if delay is not None else None

    def site_maps(self) -> list[str] | None:
        """The ``Sitemap:`` URLs, or ``None`` when there are none (as ``urllib.robotparser``)."""
        if self._rules is None:
            return None
        return list(self._rules.sitemaps) or None


class RobotsDisallowed(FetchError):
    """robots.txt disallows the URL for ``LeadSonar`` (or its origin could not say, RFC 9309)."""


class BudgetExhausted(FetchError):
    """The crawl already fetched ``LEADSONAR_CRAWL_MAX_PAGES`` pages."""


@dataclass(frozen=True)
class Page:
    """One fetched URL.

    Attributes:
        url: the final URL, after redirects.
        status: the HTTP status of the final response.
        content_type: its media type, lower case, without parameters (``text/html``).
        text: the body decoded (charset header, then ``<meta charset>``, then UTF-8); empty for
            non-textual types.
        truncated: the body was longer than the byte cap and was cut.
        redirects: the URLs redirected to, in order.
    """

    url: str
    status: int
    content_type: str
    text: str
    truncated: bool = False
    redirects: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Politeness:
    """Spaces requests to one host ``delay`` seconds apart (a slot reservation, no locks:
    reading and writing a host's next slot happens without an ``await`` in between).

    Args:
        max_hosts: hosts whose next slot is remembered (least recently used dropped first; a
            dropped host's slot is long past unless the crawler is busy with more hosts).
    """

    def __init__(self, max_hosts: int = 10_000) -> None:
        self._next: LRUCache[str, float] = LRUCache(maxsize=max_hosts)

    def __len__(self) -> int:
        """Hosts whose next slot is remembered."""
        return len(self._next)

    def at_least(self, host: str, extra: float) -> None:
        """Push ``host``'s next slot ``extra`` seconds later (a longer Crawl-delay learned)."""
        if extra > 0 and host in self._next:
            self._next[host] += extra

    async def wait(self, host: str, delay: float) -> None:
        """Sleep until ``host`` may be asked again, then reserve the slot after this one."""
        now = time.monotonic()
        slot = max(now, self._next.get(host, 0.0))
        self._next[host] = slot + delay
        if slot > now:
            await asyncio.sleep(slot - now)


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host once, checks the addresses, connects to a checked one.

    Args:
        resolver: the one DNS resolver.
        allowed: networks allowed although not global (``allowed_private_networks``).
        inner: the transport that really connects (``httpx.AsyncHTTPTransport``).

    Raises (from :meth:`handle_async_request`):
        FetchRefused: every address of the host is refused; nothing was connected.
        FetchFailed: the name has no address or could not be resolved.
    """

    def __init__(
        self,
        resolver: Resolver,
        allowed: Sequence[IPNetwork],
        inner: httpx.AsyncBaseTransport,
        *,
        owns_inner: bool = True,
    ) -> None:
        self.resolver = resolver
        self.allowed = allowed
        self.inner = inner
        self.owns_inner = owns_inner

    async def addresses(self, host: str) -> list[str]:
        """The allowed addresses to connect to for ``host``, in the resolver's order."""
        literal = _ip_literal(host)
        if literal is not None:
            _check_ip(literal, self.allowed)
            return [literal]
        try:
            found = await self.resolver.addresses(host)
        except DnsError as error:
            raise NoAddress(f"The address of {host} could not be looked up: {error}") from None
        except InvalidDomain as error:
            raise FetchRefused(error.message) from None
        if not found:
            raise NoAddress(f"{host} has no A or AAAA record.")
        usable = [ip for ip in found if is_allowed(ip, self.allowed)]
        if not usable:
            _check_ip(found[0], self.allowed, host)
        return usable

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        error: httpx.ConnectError | None = None
        for ip in (await self.addresses(host))[:MAX_CONNECT_TRIES]:
            extensions = dict(request.extensions)
            if _ip_literal(host) is None:
                extensions["sni_hostname"] = host  # TLS verifies the name, not the IP
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=ip),
                headers=request.headers,  # keeps Host: <name>[:port]
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await self.inner.handle_async_request(pinned)
            except httpx.ConnectError as failure:
                error = failure
        assert error is not None
        raise error

    async def aclose(self) -> None:
        if self.owns_inner:
            await self.inner.aclose()


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def _check_ip(ip: str, allowed: Sequence[IPNetwork], host: str | None = None) -> None:
    try:
        ensure_allowed(ip, allowed)
    except AddressNotAllowed as error:
        message = f"{host} resolves to {ip}: {error.message}" if host else error.message
        raise FetchRefused(message) from None


class SafeHttp:
    """The website fetcher for one process (see the module's rules).

    Args:
        settings: ``crawl_*`` limits, ``allowed_private_networks``.
        resolver: the one DNS resolver.
        transport: the transport that really connects (tests may pass one to count calls);
            default ``httpx.AsyncHTTPTransport`` with certificate checks.
    """

    def __init__(
        self,
        settings: Settings,
        resolver: Resolver,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.politeness = Politeness()
        # robots.txt per origin and recently read pages per URL, shared by every crawl of the
        # process (rules 4 and 5)
        self.robots_cache: TTLCache[str, Robots] = TTLCache(MAX_ROBOTS_CACHED, ROBOTS_TTL)
        # (never longer than a crawl is reused: LEADSONAR_CRAWL_TTL)
        self.page_reuse = min(RECENT_PAGE_SECONDS, settings.crawl_ttl.total_seconds())
        self.recent_pages: TTLCache[str, Page] = TTLCache(
            MAX_RECENT_PAGES, max(self.page_reuse, 1e-3)
        )
        self._transport = transport
        self._ssl: ssl.SSLContext | None = None
        self._shared: httpx.AsyncHTTPTransport | None = None

    @property
    def allowed_ports(self) -> frozenset[int]:
        ports = {80, 443}
        if self.settings.crawl_port:
            ports.add(self.settings.crawl_port)
        return frozenset(ports)

    def home_urls(self, host: str) -> list[str]:
        """The URLs to try for a bare host, in order: ``LEADSONAR_CRAWL_SCHEME`` first (https
        falls back to http), on ``LEADSONAR_CRAWL_PORT`` when set."""
        schemes = ["https", "http"] if self.settings.crawl_scheme == "https" else ["http"]
        port = f":{self.settings.crawl_port}" if self.settings.crawl_port else ""
        return [f"{scheme}://{host}{port}/" for scheme in schemes]

    def check_url(self, url: str) -> httpx.URL:
        """Rule 1: the URL's scheme, port and host name (addresses are rule 2, at connect time).

        Returns:
            The parsed URL.

        Raises:
            FetchRefused: a scheme other than http/https, user-info, a port not allowed, a host
                that is not a public domain name, or an IP literal that is not allowed.
        """
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise FetchRefused(f"{url!r} is not a URL LeadSonar can fetch.") from None
        if parsed.scheme not in ("http", "https"):
            raise FetchRefused(f"{url!r} is not an http or https URL.")
        if parsed.userinfo:
            raise FetchRefused(f"{url!r} carries a user name or password; it is not fetched.")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if port not in self.allowed_ports:
            raise FetchRefused(f"Port {port} is not a web port LeadSonar fetches from.")
        host = parsed.host
        literal = _ip_literal(host)
        if literal is not None:
            _check_ip(literal, self.settings.allowed_private_networks)
            return parsed
        try:
            domain_from_website(
                host,
                allow_reserved=bool(self.settings.allowed_private_networks),
                strip_www=False,
            )
        except InvalidDomain as error:
            raise FetchRefused(error.message) from None
        return parsed

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def crawl(self, max_pages: int | None = None) -> CrawlSession:
        """A crawl: one connection pool, one robots.txt cache, one page budget.

        Args:
            max_pages: pages this crawl may fetch; default ``LEADSONAR_CRAWL_MAX_PAGES``.
        """
        if self._transport is not None:
            inner: httpx.AsyncBaseTransport = self._transport
        else:
            # One connection pool for every crawl of the process (keyed by the pinned address).
            if self._shared is None:
                self._shared = httpx.AsyncHTTPTransport(
                    verify=self._ssl_context(), limits=httpx.Limits(max_connections=50)
                )
            inner = self._shared
        transport = PinnedTransport(
            self.resolver, self.settings.allowed_private_networks, inner, owns_inner=False
        )
        return CrawlSession(self, transport, max_pages or self.settings.crawl_max_pages)

    async def aclose(self) -> None:
        """Close the shared connection pool (at shutdown)."""
        if self._shared is not None:
            await self._shared.aclose()
            self._shared = None


class CrawlSession:
    """One crawl's client. Use as ``async with http.crawl() as crawl``.

    Attributes:
        pages_fetched: pages requested so far (robots.txt not counted).
        max_pages: the page budget.
    """

    def __init__(self, http: SafeHttp, transport: PinnedTransport, max_pages: int) -> None:
        self.http = http
        self.settings = http.settings
        self.max_pages = max_pages
        self.pages_fetched = 0
        self._transport = transport
        self._robots: dict[str, Robots] = {}
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self.settings.crawl_timeout),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            },
        )

    async def __aenter__(self) -> CrawlSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    @property
    def budget_left(self) -> int:
        return max(0, self.max_pages - self.pages_fetched)

    async def fetch(self, url: str) -> Page:
        """Fetch one page within the budget, obeying robots.txt and following redirects.

        Args:
            url: an absolute http(s) URL.

        Returns:
            The final :class:`Page` (any status; check :attr:`Page.ok`).

        Raises:
            BudgetExhausted: the page budget is spent (nothing was requested).
            RobotsDisallowed: robots.txt disallows the URL or a redirect target.
            FetchRefused: an SSRF rule refused the URL or a redirect target; nothing connected.
            FetchFailed: network failure, timeout or more than :data:`MAX_REDIRECTS` redirects.
        """
        if self.pages_fetched >= self.max_pages:
            raise BudgetExhausted(f"The crawl's budget of {self.max_pages} pages is spent.")
        self.http.check_url(url)
        await self._ensure_robots_allow(url)
        self.pages_fetched += 1
        recent = self.http.recent_pages.get(url)
        if recent is not None:
            try:
                for hop in recent.redirects:  # each hop's robots.txt, as a request would
                    await self._ensure_robots_allow(hop)
            except FetchError:
                recent = None  # the request below says why
        if recent is not None:
            metrics.CRAWLER_PAGES.labels(outcome="reused").inc()
            return recent
        try:
            page = await self._get(url, self.settings.crawl_max_bytes, obey_robots=True)
        except Unreachable:
            self.pages_fetched -= 1  # nothing was read: the attempt costs no page
            metrics.CRAWLER_PAGES.labels(outcome="unreachable").inc()
            raise
        except FetchRefused:
            metrics.CRAWLER_PAGES.labels(outcome="refused").inc()
            raise
        except FetchFailed:
            metrics.CRAWLER_PAGES.labels(outcome="error").inc()
            raise
        metrics.CRAWLER_PAGES.labels(outcome="ok" if page.ok else "http_error").inc()
        if (
            self.http.page_reuse > 0
            and page.ok
            and page.text
            and not page.truncated
            and len(page.text) <= RECENT_PAGE_BYTES
        ):
            self.http.recent_pages[url] = page
        return page

    async def robots(self, url: str) -> Robots:
        """The parsed robots.txt of ``url``'s origin (fetched once per crawl).

        Raises:
            FetchRefused: the origin is refused by the SSRF rules.
            FetchFailed: the origin cannot be connected to at all.
        """
        parsed = httpx.URL(url)
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
        parser = self._robots.get(origin) or self.http.robots_cache.get(origin)
        if parser is not None:
            self._robots[origin] = parser
            return parser
        try:
            page = await self._get(f"{origin}/robots.txt", ROBOTS_MAX_BYTES, obey_robots=False)
        except Unreachable:
            raise
        except FetchFailed as error:
            parser = Robots(disallow_all=True)  # RFC 9309 §2.3.1.4: unreachable → disallowed
            parser.failed = error
        else:
            if page.ok:
                parser = Robots(page.text)
            elif 400 <= page.status < 500:
                parser = Robots(allow_all=True)  # §2.3.1.3: unavailable → no restrictions
            else:
                parser = Robots(disallow_all=True)
            if page.ok or 400 <= page.status < 500:  # a server error is asked again next crawl
                self.http.robots_cache[origin] = parser
        self._robots[origin] = parser
        asked = parser.crawl_delay(ROBOTS_TOKEN)
        if asked is not None and float(asked) <= MAX_POLITE_WAIT:
            # The robots.txt request itself was spaced with the default delay: the next one
            # waits the site's own Crawl-delay after it.
            self.http.politeness.at_least(parsed.host, float(asked) - self.settings.crawl_delay)
        return parser

    async def _ensure_robots_allow(self, url: str) -> None:
        parser = await self.robots(url)
        if not parser.can_fetch(ROBOTS_TOKEN, url):
            raise RobotsDisallowed(f"robots.txt does not allow LeadSonar to fetch {url}.")

    async def _delay_for(self, url: httpx.URL) -> float:
        delay = self.settings.crawl_delay
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        parser = self._robots.get(origin)
        if parser is not None:
            asked = parser.crawl_delay(ROBOTS_TOKEN)
            if asked is not None:
                if float(asked) > MAX_POLITE_WAIT:
                    raise BudgetExhausted(
                        f"robots.txt asks for {asked} s between requests; the crawl stops here."
                    )
                delay = max(delay, float(asked))
        return delay

    async def _get(self, url: str, limit: int, *, obey_robots: bool) -> Page:
        """GET ``url`` following up to :data:`MAX_REDIRECTS` redirects, each re-checked."""
        redirects: list[str] = []
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            parsed = self.http.check_url(current)
            if obey_robots and redirects:
                await self._ensure_robots_allow(current)
            await self.http.politeness.wait(parsed.host, await self._delay_for(parsed))
            try:
                async with asyncio.timeout(self.settings.crawl_timeout):
                    async with self._client.stream("GET", parsed) as response:
                        location = response.headers.get("location")
                        if response.status_code in _REDIRECTS and location:
                            current = urljoin(str(response.url), location.strip())
                            redirects.append(current)
                            continue
                        return await _read(response, current, limit, tuple(redirects))
            except TimeoutError:
                raise FetchTimeout(
                    f"{current} did not answer within {self.settings.crawl_timeout:g} s."
                ) from None
            except httpx.ConnectError as error:
                raise Unreachable(f"Could not connect to {parsed.host}: {error}") from error
            except httpx.HTTPError as error:
                raise FetchFailed(f"Fetching {current} failed: {error}") from error
        raise FetchFailed(f"{url} redirected more than {MAX_REDIRECTS} times.")


async def _read(response: httpx.Response, url: str, limit: int, redirects: tuple[str, ...]) -> Page:
    """The body of ``response`` up to ``limit`` bytes, decoded, for textual types only."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in TEXT_TYPES:
        return Page(url, response.status_code, media, "", redirects=redirects)
    body = bytearray()
    truncated = False
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > limit:
            del body[limit:]
            truncated = True
            break
    charset = response.charset_encoding
    if charset is None:
        found = _META_CHARSET.search(bytes(body[:4096]))
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        text = bytes(body).decode(charset, errors="replace")
    except LookupError:
        text = bytes(body).decode("utf-8", errors="replace")
    return Page(url, response.status_code, media or "text/html", text, truncated, redirects)
