"""Real SMTP servers on loopback addresses, scripted per server, for tests and benchmarks.

Each :class:`LoopbackSmtp` is an ``aiosmtpd`` SMTP protocol (a dev dependency, imported when a
server starts) served by ``loop.create_server`` in the caller's event loop: no threads, and a
test can read its counters right after a probe. Behaviours are chosen per server: which
mailboxes exist, catch-all, full or disabled mailboxes, a blocklist refusal on RCPT (FC-21),
greylisting (FC-22), a multi-line (FC-20) or refusing greeting, a slow greeting or slow RCPT
replies, a refused EHLO, fixed replies per address, Microsoft-like throttling after an unknown
recipient, and a cap on concurrent sessions.

The prober connects to ``Settings.smtp_port`` on every MX host, so several servers share one
port on different loopback addresses (Linux routes all of ``127.0.0.0/8`` to ``lo``).
:class:`SmtpWorld` picks a port free on a pool of such addresses and starts servers on it; an
address of the pool where no server was started refuses connections::

    async with SmtpWorld() as world:
        mx1 = await world.serve("127.0.0.2", mailboxes={"ada@example.test"})
        mx2 = await world.serve("127.0.0.3", catch_all=True)
        ...  # Settings(smtp_port=world.port, ...)
        assert mx1.connections == 1 and mx1.rcpt_count == 2
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadsonar.testing.ports import free_port

LOOPBACK_POOL: tuple[str, ...] = tuple(f"127.0.0.{n}" for n in range(2, 20))
"""Loopback addresses SMTP test servers may use; ``127.0.0.1`` is left to the DNS server."""

ACCEPT_REPLY = "250 2.1.5 OK"
REJECT_REPLY = "550 5.1.1 <{address}>: Recipient address rejected: User unknown"
BLOCK_REPLY = (
    "553 5.7.1 [BL21] Connections not accepted from {peer}, listed by a blocklist; "
    "see http://postmaster.example.net/550-bl23.html"
)
GREYLIST_REPLY = (
    "450 4.7.1 <{address}>: Recipient address rejected: Greylisted, retry in {delay:g} s"
)
FULL_REPLY = (
    "552-5.2.2 <{address}>: The email account that you tried to reach is over its storage "
    "quota.\r\n552 5.2.2 Please direct the recipient to https://support.example.net/quota"
)
DISABLED_REPLY = "550 5.2.1 <{address}>: Mailbox disabled, not accepting messages"
BUSY_REPLY = "451 4.7.500 Server busy. Please try again later from [{peer}]. (S77719)"
TOO_MANY_SESSIONS_REPLY = "421 4.7.0 {name} Too many concurrent SMTP connections; try again later"

Reply = str | Sequence[str]
"""A reply as one line, or as its complete lines (``["552-…", "552 …"]``)."""


def _join(reply: Reply) -> str:
    return reply if isinstance(reply, str) else "\r\n".join(reply)


@dataclass
class SmtpBehaviour:
    """How one test server answers.

    Attributes:
        mailboxes: addresses that exist (case-insensitive); others get :data:`REJECT_REPLY`.
        catch_all: every address is accepted.
        full: addresses whose mailbox is over quota (multi-line :data:`FULL_REPLY`, FC-23).
        disabled: addresses whose mailbox is disabled (:data:`DISABLED_REPLY`).
        block_rcpt: every RCPT gets the blocklist refusal :data:`BLOCK_REPLY` (FC-21).
        greylist: the first RCPT of each (client IP, sender, recipient) triple, and any retry
            sooner than ``greylist_delay`` seconds after it, gets :data:`GREYLIST_REPLY` (FC-22).
        greylist_delay: seconds before a retried triple passes.
        greylist_hint: the delay :data:`GREYLIST_REPLY` announces ("retry in N s"), when it is
            not ``greylist_delay`` (a server that understates its delay); ``None``: the delay.
        banner: the complete greeting lines, e.g. ``["220-mx.example.test ESMTP",
            "220-no UCE", "220 ready"]`` (FC-20) or ``["554 5.7.1 … IP blacklisted"]``;
            ``None`` = aiosmtpd's one-line ``220``. A ``421`` greeting closes the connection.
        banner_delay: seconds to wait before the greeting (a tarpit).
        rcpt_delay: seconds to wait before each RCPT reply (a slow directory lookup).
        reject_ehlo: answer EHLO with ``502 5.5.1`` (the client must fall back to HELO).
        rcpt_replies: address → fixed reply, checked before every rule above.
        rcpt_reply: one fixed reply for every RCPT not in ``rcpt_replies``
            (e.g. ``"451 4.4.4 Temporary server error"``).
        busy_after_unknown: after the first :data:`REJECT_REPLY` (``550 5.1.1``) of a session,
            every later RCPT of that session gets :data:`BUSY_REPLY` (Microsoft's servers
            throttle a sender that tries unknown recipients).
        max_sessions: when a connection arrives while this many are already open, it is
            greeted with :data:`TOO_MANY_SESSIONS_REPLY` (``421 4.7.0``) and closed; ``None`` =
            no limit. Refused connections count in ``connections``.
    """

    mailboxes: set[str] = field(default_factory=set)
    catch_all: bool = False
    full: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)
    block_rcpt: bool = False
    greylist: bool = False
    greylist_delay: float = 0.0
    greylist_hint: float | None = None
    banner: Sequence[str] | None = None
    banner_delay: float = 0.0
    rcpt_delay: float = 0.0
    reject_ehlo: bool = False
    rcpt_replies: Mapping[str, Reply] = field(default_factory=dict)
    rcpt_reply: Reply | None = None
    busy_after_unknown: bool = False
    max_sessions: int | None = None

    def __post_init__(self) -> None:
        self.mailboxes = {a.lower() for a in self.mailboxes}
        self.full = {a.lower() for a in self.full}
        self.disabled = {a.lower() for a in self.disabled}
        self.rcpt_replies = {a.lower(): r for a, r in self.rcpt_replies.items()}


class LoopbackSmtp:
    """One scripted SMTP server on ``host:port``.

    Args:
        host: the loopback address to listen on, e.g. ``"127.0.0.2"``.
        port: the TCP port (see :func:`leadsonar.testing.ports.free_port`).
        name: the host name the server greets with.
        **behaviour: fields of :class:`SmtpBehaviour`.

    Attributes:
        connections: TCP connections accepted so far.
        peak_connections: the most connections open at once so far.
        rcpts: the addresses of every RCPT command received, in order.
        greylisted: the (client IP, sender, recipient) triples seen, with the first time.
    """

    def __init__(
        self, host: str, port: int, *, name: str = "mx.example.test", **behaviour: Any
    ) -> None:
        self.host = host
        self.port = port
        self.name = name
        self.behaviour = SmtpBehaviour(**behaviour)
        self.connections = 0
        self.peak_connections = 0
        self.rcpts: list[str] = []
        self.greylisted: dict[tuple[str, str, str], float] = {}
        self._server: asyncio.Server | None = None
        self._live: set[Any] = set()

    @property
    def rcpt_count(self) -> int:
        """RCPT commands received so far."""
        return len(self.rcpts)

    @property
    def open_connections(self) -> int:
        """Connections open right now (the client has not closed them yet)."""
        return len(self._live)

    async def start(self) -> LoopbackSmtp:
        """Start listening; returns ``self``."""
        loop = asyncio.get_running_loop()
        protocol = _protocol_class()
        self._server = await loop.create_server(
            lambda: protocol(self, loop), self.host, self.port, reuse_address=True
        )
        return self

    async def stop(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is None:
            return
        self._server.close()
        for smtp in list(self._live):
            if smtp.transport is not None:
                smtp.transport.close()
        await self._server.wait_closed()
        for _ in range(3):  # let connection_lost run and the handler tasks finish cancelling
            await asyncio.sleep(0)
        self._server = None

    async def __aenter__(self) -> LoopbackSmtp:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- the handler hooks aiosmtpd calls ----------------------------------------------------

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        if self.behaviour.reject_ehlo:
            return ["502 5.5.1 EHLO not supported, use HELO"]
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.rcpts.append(address)
        b = self.behaviour
        if b.rcpt_delay:
            await asyncio.sleep(b.rcpt_delay)
        key = address.lower()
        peer = session.peer[0] if session.peer else "unknown"
        if key in b.rcpt_replies:
            return _join(b.rcpt_replies[key])
        if b.rcpt_reply is not None:
            return _join(b.rcpt_reply)
        if b.block_rcpt:
            return BLOCK_REPLY.format(peer=peer)
        if b.busy_after_unknown and getattr(session, "unknown_recipient_seen", False):
            return BUSY_REPLY.format(peer=peer)
        if b.greylist:
            triple = (peer, (envelope.mail_from or "").lower(), key)
            now = asyncio.get_running_loop().time()
            first = self.greylisted.get(triple)
            if first is None:
                self.greylisted[triple] = now
            if first is None or now - first < b.greylist_delay:
                hint = b.greylist_delay if b.greylist_hint is None else b.greylist_hint
                return GREYLIST_REPLY.format(address=address, delay=hint)
        if key in b.full:
            return FULL_REPLY.format(address=address)
        if key in b.disabled:
            return DISABLED_REPLY.format(address=address)
        if b.catch_all or key in b.mailboxes:
            envelope.rcpt_tos.append(address)
            return ACCEPT_REPLY
        session.unknown_recipient_seen = True  # read by busy_after_unknown
        return REJECT_REPLY.format(address=address)


def _protocol_class() -> type:
    """aiosmtpd's SMTP protocol with a scriptable greeting and connection counting."""
    from aiosmtpd.smtp import SMTP

    class ScriptedSMTP(SMTP):  # type: ignore[misc]
        def __init__(self, owner: LoopbackSmtp, loop: asyncio.AbstractEventLoop) -> None:
            super().__init__(
                owner, hostname=owner.name, ident="ESMTP LeadSonar test server", loop=loop
            )
            self._owner = owner
            self._greeted = False
            self._over_limit = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self._owner.connections += 1
            limit = self._owner.behaviour.max_sessions
            self._over_limit = limit is not None and len(self._owner._live) >= limit
            self._owner._live.add(self)
            self._owner.peak_connections = max(self._owner.peak_connections, len(self._owner._live))
            super().connection_made(transport)

        def eof_received(self) -> bool | None:
            # aiosmtpd only cancels its handler on EOF; close too, so tests can see that the
            # client went away (open_connections) even while a greeting is being delayed.
            super().eof_received()
            if self.transport is not None:
                self.transport.close()
            return False

        def connection_lost(self, error: Exception | None) -> None:
            self._owner._live.discard(self)
            super().connection_lost(error)

        async def push(self, status: Any) -> None:
            if self._greeted:
                await super().push(status)
                return
            self._greeted = True  # aiosmtpd's first push is its "220 host ident" greeting
            behaviour = self._owner.behaviour
            if self._over_limit:
                await super().push(TOO_MANY_SESSIONS_REPLY.format(name=self._owner.name))
                assert self.transport is not None
                self.transport.close()
                return
            if behaviour.banner_delay:
                await asyncio.sleep(behaviour.banner_delay)
            if behaviour.banner is None:
                await super().push(status)
                return
            await super().push(_join(behaviour.banner))
            if behaviour.banner[-1].startswith("421"):
                assert self.transport is not None
                self.transport.close()

    return ScriptedSMTP


class SmtpWorld:
    """Loopback SMTP servers sharing one port, each on its own ``127.0.0.x`` address.

    Args:
        hosts: the pool of loopback addresses servers may use; :attr:`port` is free on all.

    Attributes:
        port: the shared port (the value for ``LEADSONAR_SMTP_PORT``).
        servers: the servers started, by address.
    """

    def __init__(self, hosts: Iterable[str] = LOOPBACK_POOL) -> None:
        self.hosts = tuple(hosts)
        self.port = free_port(self.hosts)
        self.servers: dict[str, LoopbackSmtp] = {}

    async def serve(self, host: str, **behaviour: Any) -> LoopbackSmtp:
        """Start a server on ``host`` with the given :class:`SmtpBehaviour` fields (and
        ``name``, the greeting host name)."""
        if host not in self.hosts:
            raise ValueError(f"{host} is not in this world's address pool")
        server = await LoopbackSmtp(host, self.port, **behaviour).start()
        self.servers[host] = server
        return server

    async def close(self) -> None:
        """Stop every server."""
        for server in self.servers.values():
            await server.stop()
        self.servers.clear()

    async def __aenter__(self) -> SmtpWorld:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
