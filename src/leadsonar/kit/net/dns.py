"""The one DNS resolver LeadSonar uses: MX hosts of a mail domain and addresses of a host.

Built on :mod:`dns.asyncresolver` (dnspython). With ``LEADSONAR_DNS_SERVERS`` set, only those
servers are asked (``ip[:port]`` entries, e.g. ``127.0.0.1:5353`` or ``[::1]:5353``); otherwise
the system resolver configuration is read. Every name is queried in its A-label form (FC-14).

The answers follow RFC 5321 §5.1 (how a sender finds mail hosts) and RFC 7505 (null MX):

* MX records, lowest preference first → the hosts to try, in that order;
* the single record ``0 .`` → the domain accepts no mail at all: no hosts and no fallback (FC-15);
* no MX records but an A or AAAA record → the domain itself is the mail host ("implicit MX",
  FC-16);
* NXDOMAIN → the domain does not exist;
* a timeout or SERVFAIL → the domain could not be checked (never read as "no mail").
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from cachetools import TLRUCache

from leadsonar.config import Settings
from leadsonar.kit.net.hostnames import to_a_label

# Per-try timeout in seconds; the whole query is bounded by the resolver's lifetime
# (``Settings.dns_timeout``), so a lost UDP packet is retried once or twice within it.
_TRY_TIMEOUT = 2.0
MAX_CACHED = 4096  # answers one resolver keeps
MAX_CACHE_SECONDS = 300.0  # an answer is reused at most this long, whatever its TTL
EMPTY_CACHE_SECONDS = 30.0  # a NOERROR answer without records (no AAAA) is reused this long
NEGATIVE_CACHE_SECONDS = 60.0  # an NXDOMAIN is reused at most this long (RFC 2308 §5)


class DnsError(Exception):
    """A lookup could not be answered: every server timed out, failed (SERVFAIL) or refused.

    This means "unknown", never "the name has no records".
    """


@dataclass(frozen=True)
class MxHost:
    """One mail host of a domain.

    Attributes:
        preference: the MX preference; lower is tried first (RFC 5321 §5.1).
        host: the host name, lowercase A-label without the final dot.
    """

    preference: int
    host: str


@dataclass(frozen=True)
class MxAnswer:
    """Where a domain's mail goes.

    Attributes:
        domain: the domain asked about, lowercase A-label.
        hosts: the mail hosts by ascending preference (records of equal preference keep the
            server's order); for an implicit MX the domain itself with preference 0.
        null_mx: the domain published the RFC 7505 null MX (``0 .``): it accepts no mail.
        implicit: there were no MX records and ``hosts`` is the domain's own A/AAAA host.
        nxdomain: the domain does not exist.
        error: why the domain could not be checked (timeout, SERVFAIL); ``None`` if answered.
    """

    domain: str
    hosts: tuple[MxHost, ...] = ()
    null_mx: bool = False
    implicit: bool = False
    nxdomain: bool = False
    error: str | None = None

    @property
    def no_mail(self) -> bool:
        """True when DNS proves the domain takes no mail: null MX, NXDOMAIN, or neither MX nor
        A/AAAA records. False when there are hosts or when the lookup failed (``error``)."""
        return self.null_mx or self.nxdomain or (not self.hosts and self.error is None)


def parse_server(entry: str) -> tuple[str, int]:
    """Split one ``LEADSONAR_DNS_SERVERS`` entry into ``(ip, port)``.

    Accepts ``"192.0.2.53"``, ``"192.0.2.53:5353"``, ``"2001:db8::53"`` and
    ``"[2001:db8::53]:5353"``; the port defaults to 53.

    Raises:
        ValueError: the entry is empty or its port is not a number in 1..65535.
    """
    entry = entry.strip()
    if not entry:
        raise ValueError("empty DNS server entry")
    host, port = entry, "53"
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest:
            port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in DNS server entry {entry!r}")
    return host, int(port)


class Resolver:
    """Asynchronous DNS lookups for the prober.

    Args:
        servers: ``ip[:port]`` entries to ask; empty → the system's resolver configuration.
        timeout: seconds one lookup may take in total, all servers and tries included.

    Raises:
        ValueError: a server entry is malformed.
    """

    def __init__(self, servers: Sequence[str] = (), *, timeout: float = 5.0) -> None:
        if servers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(*parse_server(entry)) for entry in servers
            ]
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.lifetime = timeout
        resolver.timeout = min(_TRY_TIMEOUT, timeout)
        resolver.cache = None
        self._resolver = resolver
        self.timeout = timeout
        # Answers reused within their TTL (RFC 1035 §3.2.1; at most MAX_CACHE_SECONDS), and
        # one query in flight per (name, type): a burst of lookups at one company asks once.
        # NXDOMAIN is kept as RFC 2308 says: for the SOA's negative TTL sent with it (at most
        # NEGATIVE_CACHE_SECONDS; not at all without an SOA), so a bulk job's rows at a domain
        # that does not exist ask once; :meth:`forget_negative` drops them (the resolver
        # self-check does, while DNS is broken). Failures are never kept.
        self._answers: TLRUCache[
            tuple[str, str], tuple[float, dns.resolver.Answer | dns.resolver.NXDOMAIN]
        ] = TLRUCache(maxsize=MAX_CACHED, ttu=lambda _key, value, now: now + value[0])
        self._inflight: dict[tuple[str, str], asyncio.Future[dns.resolver.Answer]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Resolver:
        """A resolver using ``settings.dns_servers`` and ``settings.dns_timeout``."""
        return cls(settings.dns_servers, timeout=settings.dns_timeout)

    @staticmethod
    def _key(name: str, rdtype: str) -> tuple[str, str]:
        return name.lower().rstrip("."), rdtype

    async def _query(self, name: str, rdtype: str) -> dns.resolver.Answer:
        key = self._key(name, rdtype)
        cached = self._answers.get(key)
        if cached is not None:
            if isinstance(cached[1], dns.resolver.NXDOMAIN):
                # a new exception each time: raising one instance again grows its traceback
                kept = cached[1]
                raise dns.resolver.NXDOMAIN(  # type: ignore[no-untyped-call]
                    qnames=kept.qnames(),  # type: ignore[no-untyped-call]
                    responses=kept.responses(),  # type: ignore[no-untyped-call]
                )
            return cached[1]
        running = self._inflight.get(key)
        if running is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise
                # the lookup that asked was cancelled, not this one: ask here
        if key in self._inflight:
            return await self._query(name, rdtype)
        future: asyncio.Future[dns.resolver.Answer] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            answer = await self._resolver.resolve(
                dns.name.from_text(name), rdtype, raise_on_no_answer=False, search=False
            )
        except BaseException as exc:
            if isinstance(exc, dns.resolver.NXDOMAIN):
                seconds = _negative_ttl(exc)
                if seconds > 0:
                    self._answers[key] = (seconds, exc)
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, nobody logs it
            else:
                future.cancel()
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(answer)
        if answer.rrset is not None:
            seconds = min(float(answer.rrset.ttl), MAX_CACHE_SECONDS)
        else:
            seconds = EMPTY_CACHE_SECONDS
        if seconds > 0:
            self._answers[key] = (seconds, answer)
        return answer

    def forget_negative(self) -> int:
        """Drop every cached NXDOMAIN (a resolver that was broken may have sent them);
        returns how many were dropped."""
        stale = [k for k, v in self._answers.items() if isinstance(v[1], dns.resolver.NXDOMAIN)]
        for key in stale:
            self._answers.pop(key, None)
        return len(stale)

    def _failure(self, name: str, rdtype: str, error: Exception) -> str:
        if isinstance(error, dns.exception.Timeout):
            return f"the {rdtype} lookup for {name} timed out after {self.timeout:g} s"
        if isinstance(error, dns.resolver.NoNameservers):
            return f"no DNS server answered the {rdtype} lookup for {name} (SERVFAIL or refused)"
        return f"the {rdtype} lookup for {name} failed: {error}"

    async def query_exists(self, name: str) -> None:
        """Ask for ``name``'s NS records; return when the resolver answered (records or an empty
        NOERROR answer). Used by the resolver self-check (:mod:`.resolver_check`).

        Raises:
            dns.resolver.NXDOMAIN: the resolver says the name does not exist.
            dns.exception.DNSException: timeout, SERVFAIL or refusal.
        """
        name = name if name == "." else to_a_label(name)
        await self._query(name, "NS")

    async def mx_hosts(self, domain: str) -> MxAnswer:
        """The mail hosts of ``domain`` (RFC 5321 §5.1, RFC 7505).

        Args:
            domain: a domain in Unicode or A-label form; it is queried as an A-label.

        Returns:
            An :class:`MxAnswer`; lookup failures are reported in ``error``, never raised.

        Raises:
            InvalidDomain: ``domain`` is not a valid IDNA name.
        """
        name = to_a_label(domain)
        kept = self._answers.get(self._key(name, "MX"))
        if kept is not None and isinstance(kept[1], dns.resolver.NXDOMAIN):
            return MxAnswer(name, nxdomain=True)  # a kept NXDOMAIN, without raising it again
        try:
            answer = await self._query(name, "MX")
        except dns.resolver.NXDOMAIN:
            return MxAnswer(name, nxdomain=True)
        except dns.exception.DNSException as error:
            return MxAnswer(name, error=self._failure(name, "MX", error))

        records = list(answer.rrset or ())
        if records:
            hosts = [
                MxHost(int(r.preference), r.exchange.to_text(omit_final_dot=True).lower())
                for r in records
                if r.exchange != dns.name.root
            ]
            if not hosts:  # RFC 7505 §3: "0 ." alone means no mail service at all
                return MxAnswer(name, null_mx=True)
            hosts.sort(key=lambda mx: mx.preference)  # stable: equal preferences keep order
            return MxAnswer(name, hosts=tuple(_unique(hosts)))

        try:
            own = await self.addresses(name)
        except DnsError as error:
            return MxAnswer(name, error=str(error))
        if own:  # RFC 5321 §5.1: no MX → the domain is its own mail host
            return MxAnswer(name, hosts=(MxHost(0, name),), implicit=True)
        return MxAnswer(name)

    async def name_exists(self, name: str) -> bool | None:
        """Whether ``name`` exists in DNS, from one A query: ``True`` for an answer or an empty
        one (NOERROR: the name exists without an A record), ``False`` for NXDOMAIN, ``None``
        when it could not be checked (timeout, SERVFAIL). One query per name keeps wide
        candidate lists (company-name guesses) cheap.

        Raises:
            InvalidDomain: ``name`` is not a valid IDNA name.
        """
        try:
            await self._query(to_a_label(name), "A")
        except dns.resolver.NXDOMAIN:
            return False
        except dns.exception.DNSException:
            return None
        return True

    async def addresses(self, host: str) -> list[str]:
        """The IP addresses of ``host``: its A records, then its AAAA records.

        Args:
            host: a host name in Unicode or A-label form.

        Returns:
            Address strings, IPv4 first, e.g. ``["192.0.2.25", "2001:db8::25"]``; empty when
            the name does not exist or has neither record type.

        Raises:
            DnsError: both lookups failed (timeout, SERVFAIL); one failure alone still returns
                the other type's addresses.
            InvalidDomain: ``host`` is not a valid IDNA name.
        """
        name = to_a_label(host)
        results = await asyncio.gather(
            self._query(name, "A"), self._query(name, "AAAA"), return_exceptions=True
        )
        found: list[str] = []
        failures: list[str] = []
        for rdtype, result in zip(("A", "AAAA"), results, strict=True):
            if isinstance(result, dns.resolver.NXDOMAIN):
                continue
            if isinstance(result, dns.exception.DNSException):
                failures.append(self._failure(name, rdtype, result))
                continue
            if isinstance(result, BaseException):
                raise result
            found.extend(r.address for r in result.rrset or ())
        if len(failures) == 2:
            raise DnsError(failures[0])
        return found


def _negative_ttl(error: dns.resolver.NXDOMAIN) -> float:
    """Seconds an NXDOMAIN may be cached: ``min(SOA TTL, SOA MINIMUM)`` of the SOA in its
    authority section (RFC 2308 §5), at most :data:`NEGATIVE_CACHE_SECONDS`; 0 without one."""
    seconds: float = 0.0
    for response in error.responses().values():  # type: ignore[no-untyped-call]
        for rrset in getattr(response, "authority", ()):
            if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                ttl = min(float(rrset.ttl), float(rrset[0].minimum))
                seconds = ttl if not seconds else min(seconds, ttl)
    return min(seconds, NEGATIVE_CACHE_SECONDS)


def _unique(hosts: list[MxHost]) -> list[MxHost]:
    """Drop repeated host names, keeping the most preferred entry of each."""
    seen: set[str] = set()
    unique = []
    for mx in hosts:
        if mx.host not in seen:
            seen.add(mx.host)
            unique.append(mx)
    return unique
