"""The naive baseline of the generalization benchmark: what a short script does with a lead list.

* *Domain*: the website cell stripped of scheme, ``www.`` and path; with only a company name,
  the first word of the name (ASCII letters) on ``.com``, ``.io``, ``.co``, ``.de``, ``.fr`` in
  that order, the first that has an MX record (for e-mail) or an A record (for phones).
* *E-mail*: permutations of the ASCII-stripped name, middle initial dropped
  (:func:`bench.accuracy.naive_candidates`),
  as RCPTs in one session on the first MX host; the first ``250`` is the answer. No catch-all
  check, no retries, no fallback to a second MX or to the A record.
* *Phone*: the home page and the same-site pages it links to (at most
  :data:`MAX_PAGES`), tags stripped; the first phone-looking run of digits within
  :data:`NEAR` characters after the person's name as given (else without its middle initial)
  is the answer ("take the number next to the name").

Names are resolved on the loopback DNS server and pages fetched by IP with a ``Host`` header,
so nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from bench.accuracy import NAIVE_TIMEOUT, _reply, naive_candidates
from bench.spec import Query

TLDS = ("com", "io", "co", "de", "fr")
MAX_PAGES = 8
NEAR = 160
PHONE = re.compile(r"\+?\(?\d[\d\s().\-/]{6,}\d(?:\s*(?:ext\.?|x)\s*\d+)?", re.IGNORECASE)
TAG = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.IGNORECASE | re.DOTALL)


@dataclass
class NaiveAnswer:
    email: str | None = None
    phone: str | None = None
    domain: str | None = None


def ascii_word(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode())


def website_domain(website: str) -> str:
    text = website.strip()
    if "//" not in text:
        text = "//" + text
    host = (urlsplit(text).hostname or "").lower()
    return host.removeprefix("www.")


class Naive:
    """The baseline over one world's loopback DNS, SMTP port and web port."""

    def __init__(self, dns_host: str, dns_port: int, smtp_port: int, web_port: int) -> None:
        self.resolver = dns.asyncresolver.Resolver(configure=False)
        self.resolver.nameservers = [dns_host]
        self.resolver.port = dns_port
        self.resolver.lifetime = 5.0
        self.smtp_port = smtp_port
        self.web_port = web_port

    async def _records(self, name: str, rdtype: str) -> list[str]:
        try:
            answer = await self.resolver.resolve(name, rdtype)
        except (dns.exception.DNSException, dns.resolver.NoAnswer):
            return []
        if rdtype == "MX":
            ordered = sorted(answer, key=lambda r: r.preference)  # type: ignore[attr-defined]
            return [r.exchange.to_text().rstrip(".") for r in ordered]  # type: ignore[attr-defined]
        return [r.to_text() for r in answer]

    async def domain(self, query: Query, need: str) -> str | None:
        """The domain to use: the website's, or the first-word guess with an ``need`` record."""
        if query.website:
            return website_domain(query.website)
        words = [ascii_word(w) for w in (query.company or "").split()]
        words = [w for w in words if w]
        if not words:
            return None
        for tld in TLDS:
            name = f"{words[0]}.{tld}"
            if await self._records(name, need):
                return name
        return None

    async def email(self, query: Query) -> NaiveAnswer:
        domain = await self.domain(query, "MX")
        if not domain:
            return NaiveAnswer()
        candidates = naive_candidates(query.first.split()[0], query.last)
        mx = await self._records(domain, "MX")
        if not candidates or not mx or mx[0] in ("", "."):
            return NaiveAnswer(domain=domain)
        ips = await self._records(mx[0], "A")
        if not ips:
            return NaiveAnswer(domain=domain)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(ips[0], self.smtp_port), NAIVE_TIMEOUT
            )
        except (OSError, TimeoutError):
            return NaiveAnswer(domain=domain)

        async def send(line: str) -> int:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()
            return await _reply(reader)

        found = None
        try:
            if await _reply(reader) == 220 and await send("EHLO naive.bench.test") == 250:
                if await send("MAIL FROM:<probe@naive.bench.test>") == 250:
                    for local in candidates:
                        candidate = f"{local}@{domain}"
                        if await send(f"RCPT TO:<{candidate}>") == 250:
                            found = candidate
                            break
        except (OSError, TimeoutError, ValueError, ConnectionError):
            pass
        finally:
            try:
                writer.write(b"QUIT\r\n")
                writer.close()
                await writer.wait_closed()
            except OSError:
                pass
        return NaiveAnswer(email=found, domain=domain)

    async def _get(self, client: httpx.AsyncClient, host: str, path: str) -> str | None:
        """The page's text, following up to three redirects (resolved on the loopback DNS)."""
        for _ in range(4):
            ips = await self._records(host, "A")
            if not ips:
                return None
            try:
                response = await client.get(
                    f"http://{ips[0]}:{self.web_port}{path}", headers={"Host": host}
                )
            except httpx.HTTPError:
                return None
            if response.status_code in (301, 302, 307, 308) and "location" in response.headers:
                target = urlsplit(urljoin(f"http://{host}{path}", response.headers["location"]))
                host, path = target.hostname or host, target.path or "/"
                continue
            return response.text if response.status_code == 200 else None
        return None

    async def phone(self, query: Query, client: httpx.AsyncClient) -> NaiveAnswer:
        domain = await self.domain(query, "A")
        if not domain:
            return NaiveAnswer()
        home = await self._get(client, domain, "/")
        if home is None:
            return NaiveAnswer(domain=domain)
        paths: list[str] = []
        for href in re.findall(r'href="([^"]+)"', home):
            url = urlsplit(urljoin(f"http://{domain}/", href))
            if url.hostname in (domain, f"www.{domain}") and url.path not in [*paths, "/"]:
                paths.append(url.path)  # fetched on the bare domain; redirects are followed
        texts = [home]
        for path in paths[: MAX_PAGES - 1]:
            text = await self._get(client, domain, path)
            if text:
                texts.append(text)
        plains = [re.sub(r"\s+", " ", html.unescape(TAG.sub(" ", text))) for text in texts]
        names = dict.fromkeys(
            [
                f"{query.first} {query.last}".lower(),
                f"{query.first.split()[0]} {query.last}".lower(),
            ]
        )
        for name in names:
            for plain in plains:
                at = plain.lower().find(name)
                if at < 0:
                    continue
                match = PHONE.search(plain[at + len(name) : at + len(name) + NEAR])
                if match:
                    return NaiveAnswer(phone=match.group(0).strip(), domain=domain)
        return NaiveAnswer(domain=domain)
