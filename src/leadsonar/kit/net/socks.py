"""SMTP through a SOCKS5 proxy (``LEADSONAR_SMTP_PROXY``), with python-socks.

Most cloud hosts block outbound port 25, so there the prober reaches no mail server at all.
``LEADSONAR_SMTP_PROXY=socks5://[user:pass@]host:port`` sends every prober connection through a
SOCKS5 proxy (RFC 1928; username/password authentication RFC 1929) on a host that may use
port 25. The proxy only relays: LeadSonar still resolves MX hosts itself, checks every mail
server address with the SSRF guard and asks the proxy to CONNECT to that checked IP address
(never a name the proxy would resolve). The proxy's own address obeys the same guard: a private
or loopback proxy must be inside ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS``.

A proxy that cannot be reached, refuses the credentials or cannot reach the mail server is a
reason on the lookup (``ProxyUnavailable``), never a verdict about the mailbox.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType
from python_socks.async_.asyncio import Proxy

from leadsonar.config import IPNetwork
from leadsonar.exceptions import AddressNotAllowed
from leadsonar.kit.net.addresses import ensure_allowed

SCHEMES = ("socks5", "socks5h")


@dataclass(frozen=True)
class ProxyUrl:
    """A parsed ``socks5://[user:pass@]host:port``.

    Attributes:
        host: the proxy's host name or IP address.
        port: its port.
        username / password: RFC 1929 credentials, or ``None``.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def display(self) -> str:
        """``socks5://host:port`` without credentials, for logs and reasons."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"socks5://{host}:{self.port}"


def parse_proxy_url(url: str) -> ProxyUrl:
    """Parse a ``LEADSONAR_SMTP_PROXY`` value.

    Raises:
        ValueError: not ``socks5://[user:pass@]host:port`` (scheme, host or port missing or out
            of range); the message never repeats the password.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(
            "LEADSONAR_SMTP_PROXY must be socks5://[user:pass@]host:port "
            f"(the scheme was {parts.scheme or 'missing'!r})."
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or not 0 < port < 65536:
        raise ValueError(
            "LEADSONAR_SMTP_PROXY must name the proxy's host and port (1-65535): "
            "socks5://[user:pass@]host:port."
        )
    return ProxyUrl(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class ProxyUnavailable(Exception):
    """The SOCKS5 proxy could not carry the connection: unreachable, refused the credentials,
    not allowed by the SSRF guard, or could not reach the destination. ``str()`` is a sentence
    naming the proxy without its credentials."""


async def _proxy_addresses(proxy: ProxyUrl, allowed: list[IPNetwork]) -> list[str]:
    """The proxy's addresses that the SSRF guard allows (the host resolved by the system, as a
    proxy setting is the operator's own infrastructure)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise ProxyUnavailable(
            f"the SMTP proxy {proxy.display} could not be resolved ({error.strerror or error})"
        ) from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    refused: AddressNotAllowed | None = None
    usable = []
    for address in addresses:
        try:
            ensure_allowed(address, allowed)
        except AddressNotAllowed as error:
            refused = error
            continue
        usable.append(address)
    if not usable:
        raise ProxyUnavailable(
            f"the SMTP proxy {proxy.display} is not allowed: {refused}"
            if refused
            else f"the SMTP proxy {proxy.display} has no address"
        )
    return usable


async def open_through_proxy(
    proxy: ProxyUrl,
    dest_ip: str,
    dest_port: int,
    *,
    timeout: float,
    allowed: list[IPNetwork],
    limit: int,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A stream to ``dest_ip:dest_port`` (an address the caller has already checked) through
    ``proxy``.

    Args:
        timeout: seconds for reaching the proxy and its CONNECT reply together.
        allowed: ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS`` for the proxy's own address.
        limit: the stream reader's line limit.

    Raises:
        ProxyUnavailable: see the class.
    """
    last: Exception | None = None
    for address in await _proxy_addresses(proxy, allowed):
        socks = Proxy(
            ProxyType.SOCKS5,
            address,
            proxy.port,
            username=proxy.username,
            password=proxy.password,
            rdns=False,
        )
        try:
            sock = await socks.connect(dest_host=dest_ip, dest_port=dest_port, timeout=timeout)
        except ProxyTimeoutError as error:
            raise ProxyUnavailable(
                f"the SMTP proxy {proxy.display} timed out after {timeout:g} s"
            ) from error
        except ProxyConnectionError as error:
            last = error
            continue
        except ProxyError as error:
            # The proxy answered: wrong credentials, or it could not reach the mail server.
            raise ProxyUnavailable(
                f"the SMTP proxy {proxy.display} refused the connection to {dest_ip}:{dest_port}"
                f" ({error})"
            ) from error
        except OSError as error:
            last = error
            continue
        return await asyncio.open_connection(sock=sock, limit=limit)
    raise ProxyUnavailable(
        f"the SMTP proxy {proxy.display} could not be reached ({last})"
    ) from last


async def check_proxy(proxy: ProxyUrl, *, timeout: float, allowed: list[IPNetwork]) -> str | None:
    """Whether the proxy accepts TCP connections: ``None`` when it does, else the reason (for the
    start-up warning; a SOCKS handshake needs a destination, so only reachability is tested)."""
    try:
        addresses = await _proxy_addresses(proxy, allowed)
    except ProxyUnavailable as error:
        return str(error)
    reason = f"the SMTP proxy {proxy.display} could not be reached"
    for address in addresses:
        try:
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(address, proxy.port)
        except (OSError, TimeoutError) as error:
            reason = f"the SMTP proxy {proxy.display} could not be reached ({error or 'timeout'})"
            continue
        writer.close()
        return None
    return reason
