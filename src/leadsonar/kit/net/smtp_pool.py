"""Reusable SMTP sessions per mail server, capped per host across the whole process.

Mail servers count a prober's connections: many at once, or a new one per address, gets it
throttled (``421 Too many connections``) or blocklisted. The pool keeps at most
``per_host`` connections open to one server IP for all lookups and jobs in the process, hands an
idle, already-greeted session to the next lookup of the same server (``RSET`` and a fresh
``MAIL FROM`` start a new transaction, RFC 5321 §4.1.1.5), closes sessions idle longer than
``idle_seconds`` with ``QUIT``, and backs off from a server that answered ``421``.

A server that is slow to greet (a tarpit holding the ``220`` for seconds) makes every new
connection cost that delay again, so its sessions are kept idle longer: :data:`SLOW_GREETING_KEEP`
seconds, well within the five minutes a server waits for the next command (RFC 5321
§4.5.3.2.7). Fewer connections is also what such a server asks for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from leadsonar.config import Settings
from leadsonar.kit import metrics
from leadsonar.kit.net.smtp_session import (
    MAX_LINE_BYTES,
    NextHost,
    Refused,
    Session,
    SmtpError,
    expect_250,
    greet,
)
from leadsonar.kit.net.socks import ProxyUnavailable, open_through_proxy, parse_proxy_url

MAX_RCPTS_PER_SESSION = 100  # RFC 5321 §4.5.3.1.8: servers must take at least 100 recipients
BACKOFF_FIRST = 5.0  # seconds of back-off after a first 421
BACKOFF_MAX = 300.0
THROTTLE_MEMORY = 3600.0  # seconds a server stays known to throttle after an unknown recipient
CLOSE_GRACE = 1.0  # seconds a server may still count a session we closed
SLOW_GREETING = 1.0  # seconds from connect to a usable session that mark a slow (tarpit) server
SLOW_GREETING_KEEP = 60.0  # seconds a slow server's idle session is kept (at least idle_seconds)


@dataclass
class PooledSession:
    """A greeted SMTP session leased from the pool.

    Attributes:
        session: the connection.
        ip: the server address it is connected to.
        host: the MX host name it was reached as.
        rcpts: RCPT commands sent on it so far.
        reusable: cleared by the user when the session must not be handed out again (the
            server throttled, closed, or broke the protocol).
        rejected_seen: an unknown recipient was rejected on it (servers that throttle after
            one should not be given more candidates on this session).
        opening_seconds: seconds from connecting to a usable session (greeting, EHLO, MAIL
            FROM); a slow one keeps the idle session longer (:data:`SLOW_GREETING_KEEP`).
    """

    session: Session
    ip: str
    host: str
    rcpts: int = 0
    reusable: bool = True
    rejected_seen: bool = False
    last_used: float = field(default_factory=time.monotonic)
    opening_seconds: float = 0.0


@dataclass
class _Host:
    open: int = 0
    idle: list[PooledSession] = field(default_factory=list)
    condition: asyncio.Condition = field(default_factory=asyncio.Condition)
    backoff_until: float = 0.0
    backoff: float = 0.0
    throttles_until: float = 0.0
    cap: int | None = None  # sessions this server allows us at once, learnt from a 421
    last_closed: float = -1e9  # monotonic time our last session to it was closed


class SmtpPool:
    """Connections per mail server IP, shared by every lookup in the process.

    Args:
        settings: timeouts, HELO name and MAIL FROM, ``smtp_max_connections_per_host`` (the
            per-IP cap) and ``smtp_idle_seconds``.
        idle_seconds: overrides ``smtp_idle_seconds``; ``0`` keeps no session after use.
    """

    def __init__(self, settings: Settings, idle_seconds: float | None = None) -> None:
        self.settings = settings
        self.per_host = max(1, settings.smtp_max_connections_per_host)
        self.idle_seconds = settings.smtp_idle_seconds if idle_seconds is None else idle_seconds
        self._hosts: dict[str, _Host] = {}
        self._closing: set[asyncio.Task[None]] = set()
        # LEADSONAR_SMTP_PROXY: every connection through this SOCKS5 proxy (kit/net/socks.py).
        self.proxy = (
            parse_proxy_url(settings.smtp_proxy.get_secret_value()) if settings.smtp_proxy else None
        )

    def _host(self, ip: str) -> _Host:
        host = self._hosts.get(ip)
        if host is None:
            host = self._hosts[ip] = _Host()
        return host

    def throttles_after_unknown(self, ip: str) -> bool:
        """Whether the server at ``ip`` was seen throttling a session after a rejection within
        the last :data:`THROTTLE_MEMORY` seconds."""
        return self._host(ip).throttles_until > time.monotonic()

    def mark_throttles_after_unknown(self, ip: str) -> None:
        self._host(ip).throttles_until = time.monotonic() + THROTTLE_MEMORY

    def back_off(self, ip: str) -> float:
        """Stop opening connections to ``ip`` for a while after a ``421``; returns the seconds
        (doubling up to :data:`BACKOFF_MAX`).

        A ``421`` greeting while other sessions to the server are open is not a reason to back
        off: see :meth:`lease` (``NextHost.session_cap``).
        """
        host = self._host(ip)
        host.backoff = min(BACKOFF_MAX, host.backoff * 2 if host.backoff else BACKOFF_FIRST)
        host.backoff_until = time.monotonic() + host.backoff
        return host.backoff

    @asynccontextmanager
    async def lease(self, ip: str, mx_host: str) -> AsyncIterator[tuple[PooledSession, bool]]:
        """A greeted session to ``ip`` ready for ``RCPT`` (MAIL FROM already accepted).

        Yields:
            ``(session, opened)``: ``opened`` is True when a new TCP connection was made.

        Raises:
            NextHost: backing off, connection failed, timed out, 4xx greeting; a ``421``
                greeting while other sessions to the server are open sets its
                ``session_cap`` (the server's limit was learnt: lease again and wait).
            Refused: the server refused the prober (5xx greeting, HELO or MAIL FROM).
        """
        leased, opened = await self._acquire(ip, mx_host)
        healthy = False
        try:
            yield leased, opened
            healthy = True
        finally:
            await self._release(leased, reusable=healthy and leased.reusable)

    async def _acquire(self, ip: str, mx_host: str) -> tuple[PooledSession, bool]:
        host = self._host(ip)
        async with host.condition:
            while True:
                while host.idle:
                    candidate = host.idle.pop()
                    if time.monotonic() - candidate.last_used < self.keep_idle(candidate):
                        if await self._restart(candidate):
                            return candidate, False
                    self._close_soon(candidate)  # its slot frees once it is closed
                wait = host.backoff_until - time.monotonic()
                limit = min(self.per_host, host.cap or self.per_host)
                if wait > 0 and host.open == 0:
                    # open sessions may be reused; new connections wait (RFC 5321 §4.5.4.1)
                    raise NextHost(f"backing off for {wait:.0f} s after 421 from this server")
                if wait <= 0 and host.open < limit:
                    host.open += 1
                    break
                try:  # a session in use comes back to the pool (or closes) soon
                    async with asyncio.timeout(self.settings.smtp_timeout):
                        await host.condition.wait()
                except TimeoutError:
                    raise NextHost("no session to this server came free in time") from None
        try:
            return await self._open(ip, mx_host), True
        except BaseException as failure:
            async with host.condition:
                host.open -= 1
                if (
                    isinstance(failure, NextHost)
                    and failure.reply is not None
                    and failure.reply.code == 421
                    and (host.open > 0 or time.monotonic() - host.last_closed < CLOSE_GRACE)
                ):
                    # Greeted with 421 while our other sessions are open (or just closed):
                    # the server allows no more at once (Postfix's
                    # smtpd_client_connection_count_limit, Exim's smtp_accept_max_per_host).
                    # That many becomes its cap; the next lease waits for one of them.
                    host.cap = max(1, min(host.open, host.cap or host.open))
                    failure.session_cap = True
                host.condition.notify()
            raise

    def keep_idle(self, leased: PooledSession) -> float:
        """Seconds ``leased`` may stay idle before it is closed: ``idle_seconds``, or
        :data:`SLOW_GREETING_KEEP` for a server slow to greet (``0`` keeps nothing)."""
        if self.idle_seconds <= 0:
            return 0.0
        if leased.opening_seconds >= SLOW_GREETING:
            return max(self.idle_seconds, SLOW_GREETING_KEEP)
        return self.idle_seconds

    async def _restart(self, leased: PooledSession) -> bool:
        """Start a new transaction on an idle session: RSET, MAIL FROM."""
        leased.rejected_seen = False
        try:
            reset = await leased.session.command("RSET")
            if reset.code != 250:
                return False
            expect_250(
                await leased.session.command(f"MAIL FROM:<{self.settings.mail_from}>"), "MAIL FROM"
            )
        except (OSError, TimeoutError, SmtpError, NextHost, Refused):
            return False
        return True

    async def _open(self, ip: str, mx_host: str) -> PooledSession:
        settings = self.settings
        began = time.monotonic()
        try:
            async with asyncio.timeout(settings.smtp_connect_timeout):
                if self.proxy is not None:
                    reader, writer = await open_through_proxy(
                        self.proxy,
                        ip,
                        settings.smtp_port,
                        timeout=settings.smtp_connect_timeout,
                        allowed=settings.allowed_private_networks,
                        limit=MAX_LINE_BYTES,
                    )
                else:
                    reader, writer = await asyncio.open_connection(
                        ip, settings.smtp_port, limit=MAX_LINE_BYTES
                    )
        except ProxyUnavailable as error:
            metrics.SMTP_CONNECTIONS.labels(outcome="proxy_error").inc()
            raise NextHost(str(error)) from error
        except TimeoutError as error:
            metrics.SMTP_CONNECTIONS.labels(outcome="timeout").inc()
            raise NextHost(
                f"connecting timed out after {settings.smtp_connect_timeout:g} s"
            ) from error
        except OSError as error:
            metrics.SMTP_CONNECTIONS.labels(outcome="refused").inc()
            raise NextHost(f"the connection failed: {error.strerror or error}") from error
        metrics.SMTP_CONNECTIONS.labels(outcome="ok").inc()
        session = Session(reader, writer, settings)
        try:
            await greet(session, settings)
        except TimeoutError as error:
            session.close()
            raise NextHost("the server did not answer in time") from error
        except (OSError, SmtpError) as error:
            session.close()
            raise NextHost(f"the greeting failed: {error}") from error
        except Refused:
            await session.quit()
            session.close()
            raise
        except BaseException:
            session.close()
            raise
        return PooledSession(
            session=session, ip=ip, host=mx_host, opening_seconds=time.monotonic() - began
        )

    async def _release(self, leased: PooledSession, reusable: bool) -> None:
        host = self._host(leased.ip)
        keep = reusable and leased.rcpts < MAX_RCPTS_PER_SESSION and self.idle_seconds > 0
        async with host.condition:
            if keep:
                leased.last_used = time.monotonic()
                host.idle.append(leased)
                host.condition.notify()
        if not keep:
            self._close_soon(leased, polite=reusable)

    def _close_soon(self, leased: PooledSession, polite: bool = True) -> None:
        """QUIT and close ``leased`` in the background; its slot in the per-host count is
        freed only once the connection is closed, so a server that allows one session at a
        time never sees the next one while the last is still saying goodbye."""
        host = self._host(leased.ip)

        async def close() -> None:
            try:
                if polite:
                    await leased.session.quit()
            finally:
                leased.session.close()
                try:
                    await asyncio.wait_for(leased.session.writer.wait_closed(), 1.0)
                except (OSError, TimeoutError):
                    pass
                finally:
                    host.open -= 1
                    host.last_closed = time.monotonic()
                async with host.condition:
                    host.condition.notify()

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def reap(self) -> None:
        """Close sessions idle longer than ``idle_seconds`` (QUIT), and forget servers with no
        session left and no back-off or throttling in force (the map holds only servers in
        use or remembered for a reason, however many domains were probed)."""
        now = time.monotonic()
        for host in list(self._hosts.values()):
            async with host.condition:
                stale = [s for s in host.idle if now - s.last_used >= self.keep_idle(s)]
                host.idle = [s for s in host.idle if s not in stale]
            for leased in stale:
                self._close_soon(leased)
        for ip, host in list(self._hosts.items()):
            if (
                host.open <= 0
                and not host.idle
                and host.backoff_until + BACKOFF_MAX <= now  # its back-off level is stale
                and host.throttles_until <= now
            ):
                del self._hosts[ip]

    @property
    def servers(self) -> int:
        """Mail servers (IPs) the pool currently remembers."""
        return len(self._hosts)

    async def aclose(self) -> None:
        """QUIT every idle session and wait for closings to finish."""
        for host in self._hosts.values():
            idle, host.idle = host.idle, []
            for leased in idle:
                self._close_soon(leased)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
