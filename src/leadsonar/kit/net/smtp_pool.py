"""Reusable SMTP sessions per mail server, capped per host across the whole process.

Mail servers count a prober's connections: many at once, or a new one per address, gets it
throttled (``421 Too many connections``) or blocklisted. The pool keeps at most
``per_host`` connections open to one server IP for all lookups and jobs in the process, hands an
idle, already-greeted session to the next lookup of the same server (``RSET`` and a fresh
``MAIL FROM`` start a new transaction, RFC 5321 §4.1.1.5), closes sessions idle longer than
``idle_seconds`` with ``QUIT``, and backs off from a server that answered ``421``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from leadsonar.config import Settings
from leadsonar.kit.net.smtp_session import (
    MAX_LINE_BYTES,
    NextHost,
    Refused,
    Session,
    SmtpError,
    expect_250,
    greet,
)

MAX_RCPTS_PER_SESSION = 100  # RFC 5321 §4.5.3.1.8: servers must take at least 100 recipients
BACKOFF_FIRST = 5.0  # seconds of back-off after a first 421
BACKOFF_MAX = 300.0
THROTTLE_MEMORY = 3600.0  # seconds a server stays known to throttle after an unknown recipient


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
    """

    session: Session
    ip: str
    host: str
    rcpts: int = 0
    reusable: bool = True
    rejected_seen: bool = False
    last_used: float = field(default_factory=time.monotonic)


@dataclass
class _Host:
    open: int = 0
    idle: list[PooledSession] = field(default_factory=list)
    condition: asyncio.Condition = field(default_factory=asyncio.Condition)
    backoff_until: float = 0.0
    backoff: float = 0.0
    throttles_until: float = 0.0


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
        """Stop using ``ip`` for a while after a ``421``; returns the seconds (doubling up to
        :data:`BACKOFF_MAX`)."""
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
            NextHost: backing off, connection failed, timed out, 4xx greeting.
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
                    if time.monotonic() - candidate.last_used < self.idle_seconds:
                        if await self._restart(candidate):
                            return candidate, False
                    host.open -= 1
                    self._close_soon(candidate)
                wait = host.backoff_until - time.monotonic()
                if (
                    wait > 0
                ):  # open sessions may be reused; new connections wait (RFC 5321 §4.5.4.1)
                    raise NextHost(f"backing off for {wait:.0f} s after 421 from this server")
                if host.open < self.per_host:
                    host.open += 1
                    break
                await host.condition.wait()
        try:
            return await self._open(ip, mx_host), True
        except BaseException:
            async with host.condition:
                host.open -= 1
                host.condition.notify()
            raise

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
        try:
            async with asyncio.timeout(settings.smtp_connect_timeout):
                reader, writer = await asyncio.open_connection(
                    ip, settings.smtp_port, limit=MAX_LINE_BYTES
                )
        except TimeoutError as error:
            raise NextHost(
                f"connecting timed out after {settings.smtp_connect_timeout:g} s"
            ) from error
        except OSError as error:
            raise NextHost(f"the connection failed: {error.strerror or error}") from error
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
        return PooledSession(session=session, ip=ip, host=mx_host)

    async def _release(self, leased: PooledSession, reusable: bool) -> None:
        host = self._host(leased.ip)
        keep = reusable and leased.rcpts < MAX_RCPTS_PER_SESSION and self.idle_seconds > 0
        async with host.condition:
            if keep:
                leased.last_used = time.monotonic()
                host.idle.append(leased)
            else:
                host.open -= 1
            host.condition.notify()
        if not keep:
            self._close_soon(leased, polite=reusable)

    def _close_soon(self, leased: PooledSession, polite: bool = True) -> None:
        async def close() -> None:
            try:
                if polite:
                    await leased.session.quit()
            finally:
                leased.session.close()

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
                stale = [s for s in host.idle if now - s.last_used >= self.idle_seconds]
                host.idle = [s for s in host.idle if s not in stale]
                host.open -= len(stale)
                host.condition.notify_all()
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
            host.open -= len(idle)
            for leased in idle:
                self._close_soon(leased)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
