"""The website fetcher against real loopback HTTP servers and DNS: SSRF refusals with no
connection, redirects re-checked, robots.txt, caps on size, time and pages, politeness."""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.safe_http import (
    USER_AGENT,
    BudgetExhausted,
    FetchFailed,
    FetchRefused,
    Robots,
    RobotsDisallowed,
    SafeHttp,
)
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.webserver import LoopbackWeb, Response, redirect
from tests.integration.test_website import web_settings

SITE_IP = "127.0.0.30"
OTHER_IP = "127.0.0.31"  # listening, but never allowed below


class CountingTransport(httpx.AsyncBaseTransport):
    """The real transport, counting the requests that reach it (i.e. would connect)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(str(request.url))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def web(dns_zone: LoopbackDns) -> AsyncIterator[LoopbackWeb]:
    async with LoopbackWeb() as server:
        await server.listen(SITE_IP)
        await server.listen(OTHER_IP)
        dns_zone.add_a("site.example.com", SITE_IP)
        dns_zone.add_a("other.example.com", OTHER_IP)
        dns_zone.add_a("private.example.com", "10.0.0.1")
        yield server


@pytest.fixture
async def transport() -> AsyncIterator[CountingTransport]:
    counting = CountingTransport()
    yield counting
    await counting.aclose()


def only_site(dns: LoopbackDns, web: LoopbackWeb, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings that allow the site's address only (not 127.0.0.0/8)."""
    values: dict[str, Any] = {"allowed_private_networks": [ipaddress.ip_network(f"{SITE_IP}/32")]}
    return web_settings(dns, web, tmp_path, **(values | overrides))


def fetcher(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> SafeHttp:
    return SafeHttp(settings, Resolver.from_settings(settings), transport=transport)


def url(web: LoopbackWeb, host: str, path: str = "/") -> str:
    return f"http://{host}:{web.port}{path}"


async def test_fetch_connects_to_the_checked_address_with_the_name_as_host(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path, transport: CountingTransport
) -> None:
    web.site("site.example.com", {"/": "<title>Site</title>"})
    http = fetcher(only_site(dns_zone, web, tmp_path), transport)
    async with http.crawl() as crawl:
        page = await crawl.fetch(url(web, "site.example.com"))
    assert page.ok and page.text == "<title>Site</title>"
    assert page.url == url(web, "site.example.com")
    # both requests (robots.txt, the page) went to the IP, Host: the name, an honest UA
    assert transport.calls == [
        f"http://{SITE_IP}:{web.port}/robots.txt",
        f"http://{SITE_IP}:{web.port}/",
    ]
    assert [(r.ip, r.host, r.user_agent) for r in web.requests] == [
        (SITE_IP, "site.example.com", USER_AGENT)
    ] * 2
    assert USER_AGENT.startswith("LeadSonar/") and "+https://" in USER_AGENT
    # one resolution for both requests: the answer is reused within its TTL (each request
    # still connects to the address that was checked)
    a_queries = [q for q in dns_zone.queries if q == ("site.example.com", "A")]
    assert len(a_queries) == 1


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://127.0.0.1/", "not public"),
        ("http://[::1]/", "not public"),
        ("http://169.254.169.254/latest/meta-data/", "not public"),
        ("http://10.0.0.1/", "not public"),
        ("http://localhost/", "single-label"),
        ("http://printer.local/", "special-use"),
        ("ftp://site.example.com/", "http or https"),
        ("http://user:pw@site.example.com/", "user name"),
        ("http://site.example.com:6379/", "Port 6379"),
    ],
)
async def test_urls_refused_without_any_connection(
    dns_zone: LoopbackDns,
    web: LoopbackWeb,
    tmp_path: Path,
    transport: CountingTransport,
    target: str,
    why: str,
) -> None:
    http = fetcher(web_settings(dns_zone, web, tmp_path, allowed_private_networks=[]), transport)
    async with http.crawl() as crawl:
        with pytest.raises(FetchRefused, match=why):
            await crawl.fetch(target)
    assert transport.calls == [] and not web.connections


async def test_name_resolving_to_a_private_address_is_refused_without_connecting(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path, transport: CountingTransport
) -> None:
    web.site("other.example.com", {"/": "secret"})
    http = fetcher(only_site(dns_zone, web, tmp_path), transport)
    async with http.crawl() as crawl:
        with pytest.raises(FetchRefused, match=r"10\.0\.0\.1"):
            await crawl.fetch(url(web, "private.example.com"))
        with pytest.raises(FetchRefused, match=re.escape(OTHER_IP)):
            await crawl.fetch(url(web, "other.example.com"))
    assert transport.calls == []
    assert web.connections[OTHER_IP] == 0


async def test_empty_allow_list_refuses_loopback_sites(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.site("site.example.com", {"/": "hello"})
    http = fetcher(web_settings(dns_zone, web, tmp_path, allowed_private_networks=[]))
    async with http.crawl() as crawl:
        with pytest.raises(FetchRefused):
            await crawl.fetch(url(web, "site.example.com"))
    assert not web.connections


@pytest.mark.parametrize("location", ["http://other.example.com:{port}/", "http://{ip}:{port}/"])
async def test_redirect_to_an_internal_address_is_refused(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path, location: str
) -> None:
    web.site("site.example.com", {"/": redirect(location.format(port=web.port, ip=OTHER_IP))})
    web.site("other.example.com", {"/": "secret"})
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl() as crawl:
        with pytest.raises(FetchRefused):
            await crawl.fetch(url(web, "site.example.com"))
    assert web.connections[OTHER_IP] == 0


async def test_redirects_are_followed_up_to_five(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    pages: dict[str, str | Response] = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(5)}
    pages["/r5"] = "arrived"
    pages["/loop"] = redirect("/loop")
    web.site("site.example.com", pages)
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl() as crawl:
        page = await crawl.fetch(url(web, "site.example.com", "/r0"))
        assert page.text == "arrived" and len(page.redirects) == 5
        with pytest.raises(FetchFailed, match="more than 5"):
            await crawl.fetch(url(web, "site.example.com", "/loop"))
    assert web.paths("site.example.com").count("/loop") == 6


async def test_robots_txt_is_obeyed(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    robots = "User-agent: *\nAllow: /\n\nUser-agent: LeadSonar\nDisallow: /team\n"
    web.site(
        "site.example.com",
        {"/robots.txt": Response(robots, content_type="text/plain"), "/team": "x", "/": "y"},
    )
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl() as crawl:
        with pytest.raises(RobotsDisallowed):
            await crawl.fetch(url(web, "site.example.com", "/team"))
        assert (await crawl.fetch(url(web, "site.example.com", "/"))).text == "y"
    assert web.paths("site.example.com") == ["/robots.txt", "/"]  # robots.txt read once


@pytest.mark.parametrize(
    ("robots", "path", "allowed"),
    [
        # review 2: urllib.robotparser took the first matching line and knew no wildcards
        ("User-agent: *\nAllow: /\nDisallow: /team\n", "/team", False),
        ("User-agent: *\nAllow: /\nDisallow: /team\n", "/about", True),
        ("User-agent: *\nDisallow: /*board\n", "/people/board", False),
        ("User-agent: *\nDisallow: /*board\n", "/team", True),
        ("User-agent: *\nDisallow: /*.pdf$\n", "/files/a.pdf", False),
        ("User-agent: *\nDisallow: /*.pdf$\n", "/files/a.pdf.html", True),
        ("User-agent: *\nDisallow: /people\nAllow: /people/team\n", "/people/team", True),
        ("User-agent: *\nDisallow: /people\nAllow: /people/team\n", "/people/x", False),
        ("User-agent: *\nDisallow: /page\nAllow: /page\n", "/page", True),  # Allow wins a tie
        ("User-agent: *\nAllow: /$\nDisallow: /\n", "/", True),
        ("User-agent: *\nAllow: /$\nDisallow: /\n", "/team", False),
        ("User-agent: leadsonar\nDisallow: /\n\nUser-agent: *\nAllow: /\n", "/", False),
        ("User-agent: other\nDisallow: /\n", "/", True),
    ],
)
def test_robots_rules_follow_rfc_9309(robots: str, path: str, allowed: bool) -> None:
    assert Robots(robots).can_fetch("LeadSonar", f"http://site.example.com{path}") is allowed


def test_robots_crawl_delay_and_site_maps() -> None:
    robots = Robots("User-agent: *\nCrawl-delay: 2\nSitemap: http://s.example.com/map.xml\n")
    assert robots.crawl_delay("LeadSonar") == 2.0
    assert robots.site_maps() == ["http://s.example.com/map.xml"]
    assert Robots("").site_maps() is None and Robots("").crawl_delay("LeadSonar") is None
    assert not Robots(disallow_all=True).can_fetch("LeadSonar", "http://s.example.com/")
    assert Robots(allow_all=True).can_fetch("LeadSonar", "http://s.example.com/")


async def test_robots_txt_longest_match_and_wildcards_in_a_crawl(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    robots = "User-agent: *\nAllow: /\nDisallow: /team\nDisallow: /*board\n"
    web.site(
        "site.example.com",
        {
            "/robots.txt": Response(robots, content_type="text/plain"),
            "/team": "x",
            "/people/board": "b",
            "/": "y",
        },
    )
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl() as crawl:
        for path in ("/team", "/people/board"):
            with pytest.raises(RobotsDisallowed):
                await crawl.fetch(url(web, "site.example.com", path))
        assert (await crawl.fetch(url(web, "site.example.com", "/"))).text == "y"
    assert web.paths("site.example.com") == ["/robots.txt", "/"]


async def test_robots_txt_crawl_delay_spaces_requests(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    robots = "User-agent: *\nCrawl-delay: 0.3\n"
    web.site(
        "site.example.com",
        {"/robots.txt": Response(robots, content_type="text/plain"), "/a": "a", "/b": "b"},
    )
    http = fetcher(only_site(dns_zone, web, tmp_path))
    began = time.monotonic()
    async with http.crawl() as crawl:
        await crawl.fetch(url(web, "site.example.com", "/a"))
        await crawl.fetch(url(web, "site.example.com", "/b"))
    # crawl_delay is 0: both waits are robots.txt's — robots.txt → /a, and /a → /b.
    assert time.monotonic() - began >= 0.6


async def test_robots_txt_server_error_disallows_everything(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    """RFC 9309 §2.3.1.4: an unreachable robots.txt (5xx) means complete disallow."""
    web.site("site.example.com", {"/robots.txt": Response("down", 500), "/": "y"})
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl() as crawl:
        with pytest.raises(RobotsDisallowed):
            await crawl.fetch(url(web, "site.example.com"))
    assert web.paths("site.example.com") == ["/robots.txt"]


async def test_body_is_capped(dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path) -> None:
    web.site(
        "site.example.com",
        {"/": "a" * 50_000, "/img": Response(b"\x89PNG" * 10, content_type="image/png")},
    )
    http = fetcher(only_site(dns_zone, web, tmp_path, crawl_max_bytes=2048))
    async with http.crawl() as crawl:
        page = await crawl.fetch(url(web, "site.example.com"))
        image = await crawl.fetch(url(web, "site.example.com", "/img"))
    assert page.truncated and len(page.text) == 2048
    assert image.text == "" and image.content_type == "image/png"


async def test_slow_server_times_out(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.site("site.example.com", {"/": Response("late", delay=3.0)})
    http = fetcher(only_site(dns_zone, web, tmp_path, crawl_timeout=0.3))
    async with http.crawl() as crawl:
        with pytest.raises(FetchFailed, match="did not answer"):
            await crawl.fetch(url(web, "site.example.com"))


async def test_page_budget(dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path) -> None:
    web.site("site.example.com", {"/a": "a", "/b": "b", "/c": "c"})
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl(max_pages=2) as crawl:
        await crawl.fetch(url(web, "site.example.com", "/a"))
        await crawl.fetch(url(web, "site.example.com", "/b"))
        with pytest.raises(BudgetExhausted):
            await crawl.fetch(url(web, "site.example.com", "/c"))
    assert "/c" not in web.paths("site.example.com")


async def test_requests_to_one_host_are_spaced_by_the_delay(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.site("site.example.com", {"/a": "a", "/b": "b"})
    http = fetcher(only_site(dns_zone, web, tmp_path, crawl_delay=0.25))
    began = time.monotonic()
    async with http.crawl() as crawl:
        await crawl.fetch(url(web, "site.example.com", "/a"))  # after robots.txt
        await crawl.fetch(url(web, "site.example.com", "/b"))
    assert time.monotonic() - began >= 0.5  # three requests, two gaps


async def test_unreachable_host_fails_cleanly(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    dns_zone.add_a("closed.example.com", "127.0.0.32")  # nothing listens there
    settings = web_settings(dns_zone, web, tmp_path)
    async with fetcher(settings).crawl() as crawl:
        with pytest.raises(FetchFailed):
            await crawl.fetch(url(web, "closed.example.com"))
        with pytest.raises(FetchFailed, match="no A or AAAA"):
            await crawl.fetch(url(web, "missing.example.com"))


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for ``secure.example.com`` (openssl CLI)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=secure.example.com",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (folder / "ext.cnf").write_text("subjectAltName=DNS:secure.example.com\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    )
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


async def test_https_connects_to_the_checked_address_and_verifies_the_name(
    dns_zone: LoopbackDns, tmp_path: Path
) -> None:
    """TLS goes to the pinned IP with the name in SNI, and the certificate is checked for the
    name: the right name passes, a name the certificate does not cover fails."""
    import ssl

    ca, cert, key = _certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(ca))
    async with LoopbackWeb() as web:
        await web.listen(SITE_IP, tls=server_tls)
        web.site("secure.example.com", {"/": "<title>Secure</title>"})
        web.site("wrong.example.com", {"/": "<title>Wrong</title>"})
        dns_zone.add_a("secure.example.com", SITE_IP)
        dns_zone.add_a("wrong.example.com", SITE_IP)
        settings = only_site(dns_zone, web, tmp_path, crawl_scheme="https")
        transport = httpx.AsyncHTTPTransport(verify=client_tls)
        try:
            http = fetcher(settings, transport)
            async with http.crawl() as crawl:
                page = await crawl.fetch(http.home_urls("secure.example.com")[0])
                assert page.url.startswith("https://") and page.text == "<title>Secure</title>"
                with pytest.raises(FetchFailed):
                    await crawl.fetch(http.home_urls("wrong.example.com")[0])
        finally:
            await transport.aclose()
    assert [r.host for r in web.requests] == ["secure.example.com"] * 2


async def test_robots_txt_and_a_page_just_read_are_shared_by_the_next_crawl(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    # A company resolution reads the home page; the lookup's crawl of that site right after
    # asks for it again: no second request (it would only wait out the politeness delay).
    robots = "User-agent: *\nDisallow: /private\n"
    web.site(
        "site.example.com",
        {"/robots.txt": Response(robots, content_type="text/plain"), "/": "home", "/team": "t"},
    )
    http = fetcher(only_site(dns_zone, web, tmp_path))
    async with http.crawl() as crawl:
        assert (await crawl.fetch(url(web, "site.example.com"))).text == "home"
    async with http.crawl() as crawl:
        assert (await crawl.fetch(url(web, "site.example.com"))).text == "home"
        assert crawl.pages_fetched == 1  # still within this crawl's budget
        assert (await crawl.fetch(url(web, "site.example.com", "/team"))).text == "t"
        with pytest.raises(RobotsDisallowed):  # the shared robots.txt is obeyed
            await crawl.fetch(url(web, "site.example.com", "/private"))
    assert web.paths("site.example.com") == ["/robots.txt", "/", "/team"]


async def test_a_failed_robots_txt_and_error_pages_are_not_shared(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.site("site.example.com", {"/robots.txt": Response("down", 500), "/": "y"})
    http = fetcher(only_site(dns_zone, web, tmp_path))
    for _ in range(2):
        async with http.crawl() as crawl:
            with pytest.raises(RobotsDisallowed):
                await crawl.fetch(url(web, "site.example.com"))
    web.site("other.example.com", {"/": Response("gone", 404)})
    http = fetcher(web_settings(dns_zone, web, tmp_path))
    for _ in range(2):
        async with http.crawl() as crawl:
            assert (await crawl.fetch(url(web, "other.example.com"))).status == 404
    assert web.paths("site.example.com") == ["/robots.txt", "/robots.txt"]
    assert web.paths("other.example.com").count("/") == 2


async def test_pages_are_not_shared_when_crawls_are_not_reused(
    dns_zone: LoopbackDns, web: LoopbackWeb, tmp_path: Path
) -> None:
    web.site("site.example.com", {"/": "home"})
    http = fetcher(only_site(dns_zone, web, tmp_path, crawl_ttl=0))
    for _ in range(2):
        async with http.crawl() as crawl:
            await crawl.fetch(url(web, "site.example.com"))
    assert web.paths("site.example.com").count("/") == 2
