"""The SMTP RCPT prober: ask a domain's own mail hosts whether mailboxes exist.

Written on :func:`asyncio.open_connection` rather than :mod:`smtplib` so that every reply is read
exactly to its last line and every phase has its own timeout. The dialogue is the start of a
normal delivery that never sends ``DATA`` (RFC 5321 §3.3)::

    S: 220 banner            (Settings.smtp_banner_timeout)
    C: EHLO helo-name        (HELO if EHLO is refused)
    C: MAIL FROM:<mail_from>
    C: RCPT TO:<candidate>   one per candidate, in order (Settings.smtp_timeout each)
    C: RCPT TO:<random>      the catch-all probe, after the candidates (FC-18)
    C: QUIT

Three layers, each usable alone: :func:`parse_reply` / :func:`read_reply` (multi-line replies,
RFC 5321 §4.2.1), :func:`classify_rcpt` (a reply → :class:`RcptVerdict`, pure), and
:func:`probe` (DNS answer → connections → :class:`ProbeResult`).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from leadsonar.config import Settings
from leadsonar.exceptions import AddressNotAllowed, InvalidDomain
from leadsonar.kit.net.addresses import ensure_allowed
from leadsonar.kit.net.dns import DnsError, MxAnswer, Resolver

MAX_REPLY_LINES = 100
"""Lines one reply may have before the server is treated as broken."""

MAX_LINE_BYTES = 8192
"""Bytes one reply line may have (RFC 5321 §4.5.3.1.5 says 512; servers exceed it)."""

MAX_CONNECTIONS = 5
"""Connection attempts one probe makes at most, over all MX hosts and their addresses."""

QUIT_TIMEOUT = 5.0
"""Seconds at most to wait for the reply to QUIT (the answer does not matter)."""


# --------------------------------------------------------------------------------------------
# Replies


class SmtpError(Exception):
    """The SMTP dialogue broke down (base of the errors below)."""


class SmtpProtocolError(SmtpError):
    """The server sent something that is not an SMTP reply."""


class SmtpConnectionClosed(SmtpError):
    """The server closed the connection before finishing its reply."""


_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


@dataclass(frozen=True)
class SmtpReply:
    """One complete SMTP reply.

    Attributes:
        code: the three-digit reply code, from the first three characters of the first line only
            (FC-21: a ``550`` inside the text or a URL is never the code).
        enhanced: the RFC 3463 enhanced status code at the start of the text (``"5.1.1"``), or
            ``None``; it is only taken when its class digit agrees with ``code``.
        lines: the text of each line after the code and its separator, in order.
    """

    code: int
    enhanced: str | None
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """All lines' text joined with single spaces."""
        return " ".join(line.strip() for line in self.lines if line.strip())

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


def parse_reply(lines: Sequence[str]) -> SmtpReply:
    """Build a reply from its raw lines (``"250-first"``, …, ``"250 last"``).

    Args:
        lines: the reply's lines with or without their CRLF; the last one must be final.

    Returns:
        The :class:`SmtpReply`.

    Raises:
        SmtpProtocolError: no lines, a line that does not start with a three-digit code in
            200..599, or a continuation line (``-`` as 4th character) in last place.
    """
    if not lines:
        raise SmtpProtocolError("empty reply")
    texts = []
    code = 0
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if len(line) < 3 or not line[:3].isdigit() or not "200" <= line[:3] <= "599":
            raise SmtpProtocolError(f"not an SMTP reply line: {line[:80]!r}")
        if index == 0:
            code = int(line[:3])
        if line[3:4] == "-" and index == len(lines) - 1:
            raise SmtpProtocolError("the reply ends with a continuation line")
        texts.append(line[4:])
    enhanced = None
    match = _ENHANCED.match(texts[0])
    if match and match.group(1) == str(code)[0]:
        enhanced = ".".join(match.groups())
    return SmtpReply(code=code, enhanced=enhanced, lines=tuple(texts))


async def read_reply(reader: asyncio.StreamReader, timeout: float) -> SmtpReply:
    """Read one whole reply, multi-line included (RFC 5321 §4.2.1).

    Lines whose 4th character is ``-`` continue the reply; the first line whose 4th character is
    a space (or that has only the code) ends it (FC-20).

    Args:
        reader: the connection's stream.
        timeout: seconds for the whole reply.

    Raises:
        TimeoutError: the reply was not complete within ``timeout``.
        SmtpConnectionClosed: the server closed the connection mid-reply.
        SmtpProtocolError: a malformed or over-long line, or more than
            :data:`MAX_REPLY_LINES` lines.
    """
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            try:
                raw = await reader.readline()
            except ValueError as error:  # StreamReader's limit: a line over MAX_LINE_BYTES
                raise SmtpProtocolError("reply line too long") from error
            if not raw.endswith(b"\n"):
                raise SmtpConnectionClosed("the server closed the connection")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            lines.append(line)
            if line[3:4] != "-":
                return parse_reply(lines)
            if len(lines) >= MAX_REPLY_LINES:
                raise SmtpProtocolError(f"reply longer than {MAX_REPLY_LINES} lines")


# --------------------------------------------------------------------------------------------
# Verdicts


class RcptVerdict(StrEnum):
    """What one RCPT reply says about a mailbox."""

    ACCEPTED = "accepted"  # the server takes mail for it
    REJECTED = "rejected"  # no such mailbox
    FULL = "full"  # the mailbox exists but is over quota (FC-23)
    DISABLED = "disabled"  # the mailbox exists but takes no mail
    BLOCKED = "blocked"  # the prober was refused; says nothing about the mailbox (FC-21)
    TEMPORARY = "temporary"  # try again later (greylisting, 421, …; FC-22)
    UNKNOWN = "unknown"  # nothing can be concluded


_URL = re.compile(r"\b(?:https?|ftp)://\S+", re.IGNORECASE)
# Words that name a sender block even inside a URL (e.g. .../spamhaus.org/query/...).
_BLOCKLIST_WORDS = re.compile(
    r"blocked|blocking|black\s?list|block\s?list|spamhaus|spamcop|\blisted (?:by|at|on|in)\b"
    r"|reputation|\b(?:dns)?rbl\b|\bdnsbl\b"
)
# Policy words, matched outside URLs only (a user-unknown reply may link a "policy" page).
_POLICY_WORDS = re.compile(r"\bspam\b|not permitted|denied|\bpolicy\b|prohibited")
_GREYLIST_WORDS = re.compile(r"gr[ae]y\s?list|try (?:again )?later|try again|retry")
_FULL_WORDS = re.compile(
    r"quota|mailbox (?:is )?full|inbox (?:is )?full|mail\s?folder (?:is )?full"
    r"|exceeded storage allocation"
)
_DISABLED_WORDS = re.compile(r"disabled|inactive|deactivated|suspended")
_REJECT_CODES = frozenset({550, 551, 553, 554})


def classify_rcpt(reply: SmtpReply) -> RcptVerdict:
    """What a reply to ``RCPT TO`` says about the mailbox.

    Enhanced status codes are read per RFC 3463 (class.subject.detail): subject 1 is addressing
    (``x.1.1`` bad mailbox), 2 is mailbox status (``x.2.1`` disabled, ``x.2.2`` full), 7 is
    security or policy (``x.7.1`` delivery not authorized: the *sender* was refused). The rules,
    first match wins:

    1. ``250`` / ``251`` → ``accepted``; any other 2xx or 3xx → ``unknown``.
    2. A blocklist mention (``blocked``, ``blacklist``, ``blocklist``, ``spamhaus``,
       ``listed by``, ``reputation``, …; also inside a URL) → ``blocked``, except a 4xx that
       asks to retry (greylisting) → ``temporary``. A block is never a bad address (FC-21).
    3. Enhanced ``x.7.x`` → ``blocked`` for 5xx, ``temporary`` for 4xx (greylisting answers
       ``450 4.7.1``, FC-22).
    4. Enhanced ``x.2.2`` or quota / mailbox-full words → ``full``: the mailbox exists (FC-23).
    5. Enhanced ``x.2.1`` or ``disabled`` / ``inactive`` words → ``disabled``.
    6. Any other 4xx → ``temporary``.
    7. ``5.4.1 Recipient address rejected`` → ``rejected`` (Microsoft 365's answer for unknown
       recipients, which adds "Access denied").
    8. 5xx with enhanced ``5.1.x`` → ``rejected``.
    9. Policy words outside URLs (``spam``, ``not permitted``, ``denied``, ``policy``) →
       ``blocked``.
    10. ``550`` / ``551`` / ``553`` / ``554`` with no enhanced code (or ``5.0.0``) → ``rejected``.
    11. Anything else → ``unknown``.

    Args:
        reply: the complete reply (only its code, enhanced code and text are read).

    Returns:
        The :class:`RcptVerdict`.
    """
    code, enhanced = reply.code, reply.enhanced
    text = reply.text.lower()
    subject = enhanced.split(".", 2)[1] if enhanced else None
    temporary = 400 <= code < 500

    if code in (250, 251):
        return RcptVerdict.ACCEPTED
    if code < 400:
        return RcptVerdict.UNKNOWN
    if _BLOCKLIST_WORDS.search(text):
        if temporary and _GREYLIST_WORDS.search(text):
            return RcptVerdict.TEMPORARY
        return RcptVerdict.BLOCKED
    if subject == "7":
        return RcptVerdict.TEMPORARY if temporary else RcptVerdict.BLOCKED
    if enhanced in ("4.2.2", "5.2.2") or _FULL_WORDS.search(text):
        return RcptVerdict.FULL
    if enhanced in ("4.2.1", "5.2.1") or _DISABLED_WORDS.search(text):
        return RcptVerdict.DISABLED
    if temporary:
        return RcptVerdict.TEMPORARY
    if enhanced == "5.4.1" and "recipient address rejected" in text:
        return RcptVerdict.REJECTED
    if subject == "1":
        return RcptVerdict.REJECTED
    if _POLICY_WORDS.search(_URL.sub(" ", text)):
        return RcptVerdict.BLOCKED
    if code in _REJECT_CODES and enhanced in (None, "5.0.0"):
        return RcptVerdict.REJECTED
    return RcptVerdict.UNKNOWN


# --------------------------------------------------------------------------------------------
# The prober


@dataclass(frozen=True)
class RcptResult:
    """The outcome for one address.

    Attributes:
        verdict: what the reply means (see :func:`classify_rcpt`).
        code: the reply code, or ``None`` when no RCPT reply was received for this address
            (e.g. no host could be reached; ``text`` says why).
        text: the reply text, or the reason when there was no reply.
        enhanced: the RFC 3463 enhanced code, if the server gave one.
    """

    verdict: RcptVerdict
    code: int | None
    text: str
    enhanced: str | None = None

    @classmethod
    def from_reply(cls, reply: SmtpReply, verdict: RcptVerdict | None = None) -> RcptResult:
        """The result for ``reply``, classified unless ``verdict`` is given."""
        return cls(verdict or classify_rcpt(reply), reply.code, reply.text, reply.enhanced)


@dataclass
class ProbeResult:
    """What :func:`probe` learned about a domain and the candidate addresses.

    Attributes:
        domain: the domain probed (A-label).
        mx_host: the MX host name whose server answered last, or ``None`` if none did.
        verdicts: address → :class:`RcptResult`, in the order tried. Addresses skipped after an
            accepted one (``stop_at_first_accept``) are absent; when no host could serve the
            probe every untried address is ``temporary`` (retry may help) or ``unknown``.
        catch_all: ``True`` when a random address was accepted too (FC-18), ``False`` when a
            random or candidate address was rejected, ``None`` when not tested.
        catch_all_reply: the reply to the random-address RCPT, if one was sent.
        no_mail: DNS says the domain takes no mail (null MX, NXDOMAIN, no hosts); no connection
            was made.
        blocked: a server refused the prober itself (banner, HELO, MAIL FROM or an RCPT
            answered with a block); the affected addresses have verdict ``blocked``.
        error: why the probe could not be completed, or ``None``.
        connections: TCP connections opened (successful connects only).
        rcpts: RCPT commands sent, the catch-all probe included.
        host_errors: ``"host"`` or ``"host[ip]"`` → why that host or address was skipped or
            left (guard refusal, DNS failure, connection refused, timeout, 421, …).
    """

    domain: str
    mx_host: str | None = None
    verdicts: dict[str, RcptResult] = field(default_factory=dict)
    catch_all: bool | None = None
    catch_all_reply: RcptResult | None = None
    no_mail: bool = False
    blocked: bool = False
    error: str | None = None
    connections: int = 0
    rcpts: int = 0
    host_errors: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> list[str]:
        """The addresses the server accepted, in the order tried."""
        return [a for a, r in self.verdicts.items() if r.verdict is RcptVerdict.ACCEPTED]


class _NextHost(Exception):
    """This host cannot serve the probe now: try the next address or MX host."""

    def __init__(self, reason: str, reply: SmtpReply | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


class _Refused(Exception):
    """The server refused the prober itself (5xx banner, HELO or MAIL FROM)."""

    def __init__(self, reply: SmtpReply) -> None:
        super().__init__(str(reply))
        self.reply = reply


_SAFE_ADDRESS = re.compile(r"^[^\s<>@\x00-\x1f\x7f]+@[^\s<>@\x00-\x1f\x7f]+$")


def random_local_part(length: int = 16) -> str:
    """A random local part for the catch-all probe: a letter, then letters and digits."""
    alphabet = string.ascii_lowercase + string.digits
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(alphabet) for _ in range(length - 1)
    )


class _Session:
    """One SMTP connection, one command at a time."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, settings: Settings
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.settings = settings

    async def command(self, line: str, timeout: float | None = None) -> SmtpReply:
        timeout = self.settings.smtp_timeout if timeout is None else timeout
        async with asyncio.timeout(timeout):
            self.writer.write(line.encode("utf-8") + b"\r\n")
            await self.writer.drain()
            return await read_reply(self.reader, timeout)

    async def quit(self) -> None:
        try:
            await self.command("QUIT", min(self.settings.smtp_timeout, QUIT_TIMEOUT))
        except (OSError, SmtpError, TimeoutError):
            pass  # the verdicts are in; a server that drops QUIT changes nothing

    def close(self) -> None:
        self.writer.close()


async def _greet(session: _Session, settings: Settings) -> None:
    """Banner, EHLO (or HELO), MAIL FROM. Raises _NextHost or _Refused."""
    banner = await read_reply(session.reader, settings.smtp_banner_timeout)
    if banner.code != 220:
        if 500 <= banner.code < 600:
            raise _Refused(banner)  # RFC 5321 §3.1: 554 greeting = no service for us
        raise _NextHost(f"the greeting was {banner}", banner)

    hello = await session.command(f"EHLO {settings.smtp_helo_name}")
    if hello.code != 250 and hello.code != 421:
        hello = await session.command(f"HELO {settings.smtp_helo_name}")  # RFC 5321 §4.1.4
    _expect_250(hello, "HELO")

    sender = await session.command(f"MAIL FROM:<{settings.mail_from}>")
    _expect_250(sender, "MAIL FROM")


def _expect_250(reply: SmtpReply, phase: str) -> None:
    if reply.code == 250:
        return
    if 500 <= reply.code < 600:
        raise _Refused(reply)
    raise _NextHost(f"{phase} was answered {reply}", reply)


async def _session_on(
    ip: str,
    host: str,
    pending: list[str],
    result: ProbeResult,
    settings: Settings,
    *,
    stop_at_first_accept: bool,
    catch_all_probe: bool,
) -> None:
    """Run one SMTP session on ``ip``; give each address in ``pending`` its verdict.

    Addresses are removed from ``pending`` as they get a verdict (or are skipped after an
    accept). Raises _NextHost when the host failed before finishing; ``pending`` then holds the
    addresses still to try elsewhere.
    """
    try:
        async with asyncio.timeout(settings.smtp_connect_timeout):
            reader, writer = await asyncio.open_connection(
                ip, settings.smtp_port, limit=MAX_LINE_BYTES
            )
    except TimeoutError as error:
        raise _NextHost(
            f"connecting timed out after {settings.smtp_connect_timeout:g} s"
        ) from error
    except OSError as error:
        raise _NextHost(f"the connection failed: {error.strerror or error}") from error

    result.connections += 1
    session = _Session(reader, writer, settings)
    try:
        try:
            await _greet(session, settings)
            result.mx_host = host
            await _rcpts(session, pending, result, stop_at_first_accept, catch_all_probe)
        except TimeoutError as error:
            raise _NextHost("the server did not answer in time") from error
        except SmtpConnectionClosed as error:
            raise _NextHost("the server closed the connection") from error
        except SmtpError as error:
            raise _NextHost(f"the server broke the protocol: {error}") from error
        except OSError as error:
            raise _NextHost(f"the connection failed: {error.strerror or error}") from error
        except _Refused as refused:
            result.mx_host = host
            result.blocked = True
            for address in pending:
                result.verdicts[address] = RcptResult.from_reply(refused.reply, RcptVerdict.BLOCKED)
            pending.clear()
            await session.quit()
            return
        await session.quit()
    finally:
        session.close()


async def _rcpts(
    session: _Session,
    pending: list[str],
    result: ProbeResult,
    stop_at_first_accept: bool,
    catch_all_probe: bool,
) -> None:
    while pending:
        address = pending[0]
        result.rcpts += 1
        reply = await session.command(f"RCPT TO:<{address}>")
        if reply.code == 421:  # the server is closing the session (RFC 5321 §3.8)
            raise _NextHost(f"RCPT was answered {reply}", reply)
        outcome = RcptResult.from_reply(reply)
        result.verdicts[address] = outcome
        pending.pop(0)
        if outcome.verdict is RcptVerdict.BLOCKED:
            result.blocked = True
        if outcome.verdict is RcptVerdict.ACCEPTED and stop_at_first_accept:
            pending.clear()

    verdicts = [r.verdict for r in result.verdicts.values()]
    if RcptVerdict.REJECTED in verdicts:
        # The server already told an unknown address apart: it is not catch-all, and one more
        # RCPT would only raise the odds of being rate-limited.
        result.catch_all = False
    elif catch_all_probe and RcptVerdict.ACCEPTED in verdicts and result.catch_all is None:
        result.rcpts += 1
        random_address = f"{random_local_part()}@{result.domain}"
        reply = await session.command(f"RCPT TO:<{random_address}>")
        result.catch_all_reply = RcptResult.from_reply(reply)
        if result.catch_all_reply.verdict is RcptVerdict.ACCEPTED:
            result.catch_all = True
        elif result.catch_all_reply.verdict is RcptVerdict.REJECTED:
            result.catch_all = False


async def probe(
    domain: str,
    addresses: Sequence[str],
    *,
    mx: MxAnswer,
    resolver: Resolver,
    settings: Settings,
    stop_at_first_accept: bool = True,
    catch_all_probe: bool = True,
) -> ProbeResult:
    """Ask the domain's mail hosts, by preference, whether ``addresses`` exist.

    For each MX host (RFC 5321 §5.1 order) its addresses are resolved once, each is checked by
    the SSRF guard (:func:`~leadsonar.kit.net.addresses.ensure_allowed` with
    ``settings.allowed_private_networks``) and the connection goes to that checked IP, never to
    the name. A refused address, a failed connection, a timeout, a ``421`` or a 4xx greeting
    moves on to the next address or host (at most :data:`MAX_CONNECTIONS` attempts); a 5xx
    greeting, HELO or MAIL FROM reply means the prober itself is refused: the addresses are
    ``blocked`` and no other host is tried. In one session the candidates get one ``RCPT`` each,
    in order, stopping after the first accepted one when ``stop_at_first_accept``; then, if an
    address was accepted, no address was rejected and ``catch_all_probe`` is set, one ``RCPT``
    for a random local part tells a catch-all domain apart (FC-18). Every wait is bounded
    (``smtp_connect_timeout``, ``smtp_banner_timeout``, ``smtp_timeout`` per command, all in
    seconds); cancelling the task closes the socket.

    Args:
        domain: the domain, A-label (used for the catch-all probe address).
        addresses: the candidate addresses, sent as given (A-label domains; ASCII local parts).
        mx: the domain's :meth:`Resolver.mx_hosts` answer.
        resolver: resolves each MX host's addresses.
        settings: HELO name, MAIL FROM, port, timeouts and allowed private networks.
        stop_at_first_accept: stop sending candidates after the first ``accepted``.
        catch_all_probe: send the random-address RCPT after an accepted candidate.

    Returns:
        A :class:`ProbeResult`. Null MX, NXDOMAIN or no mail host → ``no_mail=True`` and no
        connection; a failed MX lookup → ``error`` and no connection.

    Raises:
        ValueError: an address is not ``local@domain`` or contains spaces, angle brackets or
            control characters (which would inject SMTP commands).
    """
    for address in addresses:
        if not _SAFE_ADDRESS.match(address):
            raise ValueError(f"{address!r} cannot be sent in an RCPT command")
    result = ProbeResult(domain=domain)
    if mx.error is not None:
        result.error = f"The mail hosts of {domain} could not be looked up: {mx.error}"
        return result
    if mx.no_mail:
        result.no_mail = True
        return result

    pending = list(dict.fromkeys(addresses))
    if not pending:
        return result
    tried: set[str] = set()
    retry_helps = False
    last_reply: SmtpReply | None = None
    for mx_host in mx.hosts:
        if len(tried) >= MAX_CONNECTIONS:
            break
        try:
            ips = await resolver.addresses(mx_host.host)
        except (DnsError, InvalidDomain) as error:
            result.host_errors[mx_host.host] = str(error)
            retry_helps = retry_helps or isinstance(error, DnsError)
            continue
        if not ips:
            result.host_errors[mx_host.host] = "the host has no A or AAAA record"
            continue
        for ip in ips:
            where = f"{mx_host.host}[{ip}]"
            if ip in tried:  # another MX name for an address that already failed
                continue
            try:
                ensure_allowed(ip, settings.allowed_private_networks)
            except AddressNotAllowed as error:
                result.host_errors[where] = error.message
                continue
            if len(tried) >= MAX_CONNECTIONS:
                result.host_errors[where] = f"not tried: {MAX_CONNECTIONS} attempts were made"
                break
            tried.add(ip)
            try:
                await _session_on(
                    ip,
                    mx_host.host,
                    pending,
                    result,
                    settings,
                    stop_at_first_accept=stop_at_first_accept,
                    catch_all_probe=catch_all_probe,
                )
            except _NextHost as failure:
                result.host_errors[where] = failure.reason
                retry_helps = True
                last_reply = failure.reply or last_reply
                continue
            return result

    reasons = "; ".join(f"{where}: {why}" for where, why in result.host_errors.items())
    result.error = f"No mail host of {domain} could be used ({reasons or 'none tried'})."
    verdict = RcptVerdict.TEMPORARY if retry_helps else RcptVerdict.UNKNOWN
    for address in pending:
        if last_reply is not None:
            result.verdicts[address] = RcptResult.from_reply(last_reply, verdict)
        else:
            result.verdicts[address] = RcptResult(verdict, None, result.error)
    return result
