"""Real HTTP servers on loopback addresses serving scripted websites, for tests and benchmarks.

A :class:`LoopbackWeb` listens with ``asyncio.start_server`` in the caller's event loop on one
port shared by several ``127.0.0.x`` addresses, and answers by the request's ``Host`` header from
the sites registered with :meth:`LoopbackWeb.site`. Point the crawler at it with
``LEADSONAR_CRAWL_SCHEME=http``, ``LEADSONAR_CRAWL_PORT=<web.port>`` and A records in a
:class:`~leadsonar.testing.dnsserver.LoopbackDns`::

    async with LoopbackWeb() as web:
        await web.listen("127.0.0.20")
        web.site("notion.so", {"/": "<html>…</html>", "/team": "<html>…</html>"})
        dns.add_a("notion.so", "127.0.0.20")
        ...
        assert web.connections["127.0.0.20"] == 3

Every accepted connection is counted per listening address (:attr:`LoopbackWeb.connections`)
and every request logged (:attr:`LoopbackWeb.requests`), so tests can prove that a refused
address was never connected to. Each response closes its connection (HTTP/1.1
``Connection: close``). Unknown hosts and paths answer 404.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

from leadsonar.testing.ports import free_port

WEB_POOL: tuple[str, ...] = tuple(f"127.0.0.{n}" for n in range(20, 60))
"""Loopback addresses web test servers may use (SMTP test servers use 127.0.0.2-19)."""

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Error"}


@dataclass
class Response:
    """A scripted answer.

    Attributes:
        body: the body (text is sent as UTF-8).
        status: the HTTP status.
        content_type: the ``Content-Type`` header.
        headers: more headers (e.g. ``{"Location": "http://…"}`` for a redirect).
        delay: seconds to wait before answering (a slow server).
    """

    body: str | bytes = ""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


def redirect(location: str, status: int = 302) -> Response:
    """A redirect to ``location``."""
    return Response(status=status, headers={"Location": location})


@dataclass(frozen=True)
class Request:
    """One request received: the listening address, ``Host`` header, path and User-Agent."""

    ip: str
    host: str
    path: str
    user_agent: str


class LoopbackWeb:
    """Scripted websites on loopback addresses sharing one port.

    Args:
        hosts: the addresses the port must be free on (listen on any of them later).
    """

    def __init__(self, hosts: tuple[str, ...] = WEB_POOL) -> None:
        self.port = free_port(hosts)
        self.sites: dict[str, dict[str, Response]] = {}
        self.connections: Counter[str] = Counter()
        self.requests: list[Request] = []
        self._servers: list[asyncio.Server] = []

    def site(self, host: str, pages: Mapping[str, str | Response]) -> None:
        """Serve ``pages`` (path → HTML or :class:`Response`) for ``Host: host`` (and ``www.``).

        Paths are matched without the query string. A site without ``/robots.txt`` answers 404
        for it (everything allowed).
        """
        table = {
            path: page if isinstance(page, Response) else Response(page)
            for path, page in pages.items()
        }
        self.sites[host.lower()] = table

    async def listen(self, ip: str, tls: ssl.SSLContext | None = None) -> None:
        """Start listening on ``ip`` at :attr:`port` (HTTPS when ``tls`` is a server context)."""
        server = await asyncio.start_server(
            lambda r, w: self._serve(ip, r, w), host=ip, port=self.port, ssl=tls
        )
        self._servers.append(server)

    def paths(self, host: str) -> list[str]:
        """Paths requested with ``Host: host`` (port ignored), in order."""
        return [r.path for r in self.requests if r.host == host]

    async def _serve(
        self, ip: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections[ip] += 1
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1].split("?")[0] if len(parts) > 1 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        host = headers.get("host", "").rsplit(":", 1)[0].lower() if headers.get("host") else ""
        if host.startswith("[") or host.count(":") > 1:
            host = headers.get("host", "").lower()
        self.requests.append(Request(ip, host, path, headers.get("user-agent", "")))
        site = self.sites.get(host) or self.sites.get(host.removeprefix("www."), {})
        response = site.get(path) or Response("not found", 404, "text/plain")
        if response.delay:
            await asyncio.sleep(response.delay)
        body = response.body.encode() if isinstance(response.body, str) else response.body
        reason = _REASONS.get(response.status, "Status")
        out = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *(f"{k}: {v}" for k, v in response.headers.items()),
        ]
        try:
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> LoopbackWeb:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers = []
