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

Three layers, each usable alone: :mod:`~leadsonar.kit.net.smtp_session` (one connection,
multi-line replies read per RFC 5321 §4.2.1), :func:`classify_rcpt` (a reply →
:class:`RcptVerdict`, pure), and :func:`probe` (DNS answer → sessions from the process's
:class:`~leadsonar.kit.net.smtp_pool.SmtpPool` → :class:`ProbeResult`).
"""

from __future__ import annotations

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
from leadsonar.kit.net.smtp_pool import PooledSession, SmtpPool
from leadsonar.kit.net.smtp_session import (
    MAX_LINE_BYTES,
    NextHost,
    Refused,
    SmtpConnectionClosed,
    SmtpError,
    SmtpProtocolError,
    SmtpReply,
    parse_reply,
    read_reply,
)

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_LINE_BYTES",
    "ProbeResult",
    "RcptResult",
    "RcptVerdict",
    "SmtpConnectionClosed",
    "SmtpError",
    "SmtpProtocolError",
    "SmtpReply",
    "classify_rcpt",
    "parse_reply",
    "probe",
    "random_local_part",
    "read_reply",
    "retry_hint",
]

MAX_CONNECTIONS = 5
"""Connection attempts one probe makes at most, over all MX hosts and their addresses."""

MAX_SESSIONS_PER_HOST = 3
"""Sessions one probe opens on one server when it throttles after an unknown recipient."""


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
_GREYLISTED = re.compile(r"gr[ae]y\s?list")
# "retry in 300 s", "try again in 5 minutes", "please retry after 60 seconds", "wait 2 min",
# "greylisted for 5 minutes"
_RETRY_HINT = re.compile(
    r"(?:retry|try again|resend|wait|gr[ae]ylist(?:ed|ing)?)"
    r"\D{0,24}?(?:in|after|for)?\s*(\d+(?:\.\d+)?)\s*"
    r"(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b"
)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_DISABLED_WORDS = re.compile(r"disabled|inactive|deactivated|suspended")
_SENDER_WORDS = re.compile(r"sender address rejected|sender verify failed|sender domain")
_REJECT_CODES = frozenset({550, 551, 553, 554})


def retry_hint(text: str) -> float | None:
    """Seconds a temporary reply asks the client to wait, when its text says so.

    Greylisting servers often name their delay (``450 4.7.1 Greylisted, retry in 300 s``,
    ``451 Please try again in 5 minutes``); RFC 6647 §2.1 leaves the delay to the server, so
    the reply's own figure beats any default. ``None`` when the text names no delay.
    """
    match = _RETRY_HINT.search(text.lower())
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)[0]]


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
    5. Any other 4xx → ``temporary`` (a ``450 4.2.1`` rate limit or suspension passes).
    6. ``5.2.1`` or ``disabled`` / ``inactive`` words → ``disabled``.
    6a. ``x.1.7`` / ``x.1.8`` or "Sender address rejected" → ``blocked``: the server refused
        the prober's MAIL FROM domain, not the recipient (Postfix answers it at RCPT).
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
    if temporary:  # a mailbox "suspended for now" (4.2.1) may take mail later: not disabled
        return RcptVerdict.TEMPORARY
    if enhanced == "5.2.1" or _DISABLED_WORDS.search(text):
        return RcptVerdict.DISABLED
    if enhanced in ("5.1.7", "5.1.8") or _SENDER_WORDS.search(text):
        return RcptVerdict.BLOCKED  # the prober's own sender was refused (RFC 3463 x.1.7/x.1.8)
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
        catch_all_address: the random address that RCPT named.
        rejecting_hosts: server addresses that rejected an address in this probe (they tell
            unknown addresses apart: not catch-all).
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
    catch_all_address: str | None = None
    rejecting_hosts: set[str] = field(default_factory=set)
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


_SAFE_ADDRESS = re.compile(r"^[^\s<>@\x00-\x1f\x7f]+@[^\s<>@\x00-\x1f\x7f]+$")


def random_local_part(length: int = 16) -> str:
    """A random local part for the catch-all probe: a letter, then letters and digits."""
    alphabet = string.ascii_lowercase + string.digits
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(alphabet) for _ in range(length - 1)
    )


class _Rotate(Exception):
    """The server throttled this session after an unknown recipient (Microsoft 365 does):
    go on with the remaining addresses in a new session."""


async def _rcpts(
    leased: PooledSession,
    pending: list[str],
    result: ProbeResult,
    *,
    stop_at_first_accept: bool,
    catch_all_probe: bool,
    rotate_after_reject: bool,
    catch_all_address: str | None,
) -> None:
    session = leased.session
    here: list[RcptVerdict] = []  # verdicts from this server only
    while pending:
        address = pending[0]
        if rotate_after_reject and leased.rejected_seen:
            raise _Rotate
        result.rcpts += 1
        leased.rcpts += 1
        reply = await session.command(f"RCPT TO:<{address}>")
        if reply.code == 421:  # the server is closing the session (RFC 5321 §3.8)
            raise NextHost(f"RCPT was answered {reply}", reply)
        outcome = RcptResult.from_reply(reply)
        if (
            outcome.verdict is RcptVerdict.TEMPORARY
            and leased.rejected_seen
            and not _GREYLISTED.search(reply.text.lower())
        ):
            # A temporary refusal right after an unknown recipient is the session being
            # throttled, not an answer about this address: ask again in a new session.
            raise _Rotate
        result.verdicts[address] = outcome
        here.append(outcome.verdict)
        pending.pop(0)
        if outcome.verdict is RcptVerdict.REJECTED:
            leased.rejected_seen = True
            result.rejecting_hosts.add(leased.ip)
        if outcome.verdict is RcptVerdict.BLOCKED:
            result.blocked = True
        if outcome.verdict is RcptVerdict.ACCEPTED and stop_at_first_accept:
            pending.clear()

    # Only this server's own answers tell whether this server accepts everything: a backup
    # MX that accepts all must not be trusted because the primary rejected someone.
    if leased.ip in result.rejecting_hosts:
        # The server already told an unknown address apart: it is not catch-all, and one more
        # RCPT would only raise the odds of being rate-limited.
        result.catch_all = False
        return
    result.catch_all = None
    if catch_all_probe and (
        RcptVerdict.ACCEPTED in here or (here and all(v is RcptVerdict.TEMPORARY for v in here))
    ):
        # After the real candidates, so a server that throttles after an unknown recipient
        # cannot spoil them (issue 3: the catch-all probe must not spoil the real check). When
        # everything was greylisted, the random address is sent too, so that its triple is
        # known when the same addresses are asked again (RFC 6647 §2.1).
        result.rcpts += 1
        leased.rcpts += 1
        random_address = catch_all_address or f"{random_local_part()}@{result.domain}"
        result.catch_all_address = random_address
        reply = await session.command(f"RCPT TO:<{random_address}>")
        result.catch_all_reply = RcptResult.from_reply(reply)
        if result.catch_all_reply.verdict is RcptVerdict.ACCEPTED:
            result.catch_all = True
        elif result.catch_all_reply.verdict is RcptVerdict.REJECTED:
            result.catch_all = False
            leased.rejected_seen = True
            result.rejecting_hosts.add(leased.ip)


async def _session_on(
    pool: SmtpPool,
    ip: str,
    host: str,
    pending: list[str],
    result: ProbeResult,
    *,
    stop_at_first_accept: bool,
    catch_all_probe: bool,
    rotate_after_reject: bool,
    catch_all_address: str | None,
) -> None:
    """Give each address in ``pending`` its verdict over one pooled session to ``ip``.

    Addresses leave ``pending`` as they get a verdict (or are skipped after an accept).

    Raises:
        NextHost: the host failed before finishing; ``pending`` holds what is left.
        Refused: the server refused the prober itself.
        _Rotate: the session was throttled after an unknown recipient.
    """
    async with pool.lease(ip, host) as (leased, opened):
        if opened:
            result.connections += 1
        result.mx_host = host
        try:
            await _rcpts(
                leased,
                pending,
                result,
                stop_at_first_accept=stop_at_first_accept,
                catch_all_probe=catch_all_probe,
                rotate_after_reject=rotate_after_reject,
                catch_all_address=catch_all_address,
            )
        except _Rotate:
            leased.reusable = False
            raise
        except NextHost:
            leased.reusable = False
            raise
        except TimeoutError as error:
            leased.reusable = False
            raise NextHost("the server did not answer in time") from error
        except SmtpConnectionClosed as error:
            leased.reusable = False
            raise NextHost("the server closed the connection") from error
        except SmtpError as error:
            leased.reusable = False
            raise NextHost(f"the server broke the protocol: {error}") from error
        except OSError as error:
            leased.reusable = False
            raise NextHost(f"the connection failed: {error.strerror or error}") from error
        if rotate_after_reject and leased.rejected_seen:
            leased.reusable = False


async def probe(
    domain: str,
    addresses: Sequence[str],
    *,
    mx: MxAnswer,
    resolver: Resolver,
    settings: Settings,
    pool: SmtpPool | None = None,
    stop_at_first_accept: bool = True,
    catch_all_probe: bool = True,
    rotate_after_reject: bool = False,
    catch_all_address: str | None = None,
) -> ProbeResult:
    """Ask the domain's mail hosts, by preference, whether ``addresses`` exist.

    For each MX host (RFC 5321 §5.1 order) its addresses are resolved once, each is checked by
    the SSRF guard (:func:`~leadsonar.kit.net.addresses.ensure_allowed` with
    ``settings.allowed_private_networks``) and the connection goes to that checked IP, never to
    the name. Sessions come from ``pool`` (reused across lookups, capped per server; a private
    pool that keeps nothing when ``None``). A refused address, a failed connection, a timeout, a
    ``421`` (the server is then backed off) or a 4xx greeting moves on to the next address or
    host (at most :data:`MAX_CONNECTIONS` attempts); a 5xx greeting, HELO or MAIL FROM reply
    means the prober itself is refused: the addresses are ``blocked`` and no other host is tried.
    In one session the candidates get one ``RCPT`` each, in order, stopping after the first
    accepted one when ``stop_at_first_accept``; then, if an address was accepted, no address was
    rejected and ``catch_all_probe`` is set, one ``RCPT`` for a random local part tells a
    catch-all domain apart (FC-18). A server that answers 4xx right after an unknown recipient
    is throttling the session: the rest go on in a new session (at most
    :data:`MAX_SESSIONS_PER_HOST`), and with ``rotate_after_reject`` (or once seen) every
    rejection ends the session's use. Every wait is bounded (``smtp_connect_timeout``,
    ``smtp_banner_timeout``, ``smtp_timeout`` per command, all in seconds); cancelling the
    task closes the socket.

    Args:
        domain: the domain, A-label (used for the catch-all probe address).
        addresses: the candidate addresses, sent as given (A-label domains; ASCII local parts).
        mx: the domain's :meth:`Resolver.mx_hosts` answer.
        resolver: resolves each MX host's addresses.
        settings: HELO name, MAIL FROM, port, timeouts and allowed private networks.
        pool: the process's session pool; ``None`` opens and closes private sessions.
        stop_at_first_accept: stop sending candidates after the first ``accepted``.
        catch_all_probe: send the random-address RCPT after an accepted candidate.
        rotate_after_reject: the server is known to throttle after an unknown recipient
            (e.g. Microsoft 365): never send another RCPT on a session after a rejection.
        catch_all_address: the address for the catch-all probe; a new random one when
            ``None``. Callers that will retry greylisted addresses pass a stable one, so the
            retry asks the same (client, sender, recipient) triple again.

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
    own_pool = pool is None
    active = pool if pool is not None else SmtpPool(settings, idle_seconds=0)
    try:
        await _probe_hosts(
            domain,
            pending,
            result,
            mx=mx,
            resolver=resolver,
            settings=settings,
            pool=active,
            stop_at_first_accept=stop_at_first_accept,
            catch_all_probe=catch_all_probe,
            rotate_after_reject=rotate_after_reject,
            catch_all_address=catch_all_address,
        )
    finally:
        if own_pool:
            await active.aclose()
    return result


async def _probe_hosts(
    domain: str,
    pending: list[str],
    result: ProbeResult,
    *,
    mx: MxAnswer,
    resolver: Resolver,
    settings: Settings,
    pool: SmtpPool,
    stop_at_first_accept: bool,
    catch_all_probe: bool,
    rotate_after_reject: bool,
    catch_all_address: str | None,
) -> None:
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
            sessions = 0
            while pending:
                sessions += 1
                rotate = rotate_after_reject or pool.throttles_after_unknown(ip)
                try:
                    await _session_on(
                        pool,
                        ip,
                        mx_host.host,
                        pending,
                        result,
                        stop_at_first_accept=stop_at_first_accept,
                        catch_all_probe=catch_all_probe,
                        rotate_after_reject=rotate,
                        catch_all_address=catch_all_address,
                    )
                except _Rotate:
                    pool.mark_throttles_after_unknown(ip)
                    if sessions < MAX_SESSIONS_PER_HOST:
                        continue
                    result.host_errors[where] = "the server kept throttling after a rejection"
                    retry_helps = True
                    break
                except NextHost as failure:
                    if failure.reply is not None and failure.reply.code == 421:
                        pool.back_off(ip)
                    result.host_errors[where] = failure.reason
                    retry_helps = True
                    last_reply = failure.reply or last_reply
                    break
                except Refused as refused:
                    result.mx_host = mx_host.host
                    result.blocked = True
                    for address in pending:
                        result.verdicts[address] = RcptResult.from_reply(
                            refused.reply, RcptVerdict.BLOCKED
                        )
                    pending.clear()
                    return
            if not pending:
                return

    reasons = "; ".join(f"{where}: {why}" for where, why in result.host_errors.items())
    result.error = f"No mail host of {domain} could be used ({reasons or 'none tried'})."
    verdict = RcptVerdict.TEMPORARY if retry_helps else RcptVerdict.UNKNOWN
    for address in pending:
        if last_reply is not None:
            result.verdicts[address] = RcptResult.from_reply(last_reply, verdict)
        else:
            result.verdicts[address] = RcptResult(verdict, None, result.error)
