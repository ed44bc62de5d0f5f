"""A real DNS server on loopback with a zone tests can change, for tests and benchmarks.

Built on ``dnslib`` (a dev dependency, imported only when a server is started). It answers over
UDP and TCP on ``127.0.0.1`` and a free port; point the app at it with
``LEADSONAR_DNS_SERVERS=<server.address>``::

    with LoopbackDns() as dns:
        dns.add_mx("example.test", [(10, "mx1.example.test"), (20, "mx2.example.test")])
        dns.add_a("mx1.example.test", "127.0.0.2")
        settings = Settings(dns_servers=[dns.address], ...)

Answers: the records added for a name and type; NOERROR with an empty answer for a known name
without that type; NXDOMAIN for an unknown name. :meth:`LoopbackDns.fail` makes a name answer
SERVFAIL or not answer at all (a timeout). Every question is logged in :attr:`queries`.
Names are stored lowercase in A-label form, so ``add_mx("bäckerei-müller.de", …)`` answers
queries for ``xn--bckerei-mller-bfb28a.de``.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

import idna

Failure = Literal["servfail", "timeout"]

_POLL_INTERVAL = 0.02  # seconds between the listener threads' shutdown checks


def _key(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if not name.isascii():
        name = idna.encode(name, uts46=True).decode("ascii")
    return name


class _ZoneResolver:
    """dnslib's resolver interface (``resolve(request, handler)``) over a mutable zone."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.failures: dict[str, Failure] = {}
        self.queries: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.broken = False
        self.negative_ttl = 0

    def resolve(self, request: Any, handler: Any) -> Any:
        from dnslib import QTYPE, RCODE, DNSError

        name = _key(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((name, qtype))
            failure = self.failures.get(name)
            known = name in self.records and not self.broken
            answers = list(self.records[name].get(qtype, ())) if known else []
        if failure == "timeout":
            raise DNSError("dropped on purpose")  # dnslib's handler then sends nothing
        reply = request.reply()
        if failure == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
        elif not known:
            reply.header.rcode = RCODE.NXDOMAIN
            if self.negative_ttl:
                # as an authoritative server does (RFC 2308 §3): the enclosing zone's SOA,
                # whose MINIMUM says how long the "does not exist" may be cached
                from dnslib import RR, SOA

                zone = name.rpartition(".")[2] + "." if name else "."
                ttl = self.negative_ttl
                soa = SOA("ns." + zone, "hostmaster." + zone, (1, 3600, 600, 86400, ttl))
                reply.add_auth(RR(zone, QTYPE.SOA, rdata=soa, ttl=ttl))
        for rr in answers:
            reply.add_answer(rr)
        return reply


class _QuietLogger:
    """dnslib logger interface that logs nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


class LoopbackDns:
    """A loopback DNS server with a mutable zone.

    Like a working resolver it knows the root zone ``.`` (the resolver self-check's default
    name, ``LEADSONAR_DNS_CHECK_NAME``); ``broken=True`` makes it answer NXDOMAIN for every
    name, root included, as a resolver without upstream does.

    Args:
        host: the loopback address to listen on.
        ttl: TTL in seconds of every record.
        broken: answer NXDOMAIN for everything (records added later are still ignored).
        negative_ttl: seconds an NXDOMAIN may be cached: with a value above 0 each NXDOMAIN
            carries the enclosing zone's SOA with that TTL and MINIMUM, as real servers send
            (RFC 2308 §3); 0 (the default) sends none, so resolvers do not cache it (§5) and
            tests may add a name right after asking for it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        ttl: int = 60,
        broken: bool = False,
        negative_ttl: int = 0,
    ) -> None:
        self.host = host
        self.ttl = ttl
        self.port: int | None = None
        self._zone = _ZoneResolver()
        self._zone.broken = broken
        self._zone.negative_ttl = negative_ttl
        self._servers: list[Any] = []
        self.add_name(".")

    def break_resolver(self, broken: bool = True) -> None:
        """Answer NXDOMAIN for every name from now on (``False``: answer normally again)."""
        with self._zone.lock:
            self._zone.broken = broken

    # -- zone --------------------------------------------------------------------------------

    def _add(self, name: str, qtype: str, rdata: Any) -> None:
        from dnslib import QTYPE, RR

        rr = RR(_key(name) + ".", getattr(QTYPE, qtype), rdata=rdata, ttl=self.ttl)
        with self._zone.lock:
            self._zone.records[_key(name)][qtype].append(rr)

    def add_mx(self, domain: str, hosts: Iterable[tuple[int, str]]) -> None:
        """Add MX records: ``[(preference, host), …]``; the order given is the answer order."""
        from dnslib import MX

        for preference, host in hosts:
            self._add(domain, "MX", MX(_key(host) + "." if host != "." else ".", preference))

    def add_null_mx(self, domain: str) -> None:
        """Publish the RFC 7505 null MX ``0 .``: the domain accepts no mail."""
        self.add_mx(domain, [(0, ".")])

    def add_a(self, host: str, ip: str) -> None:
        """Add an A record."""
        from dnslib import A

        self._add(host, "A", A(ip))

    def add_aaaa(self, host: str, ip: str) -> None:
        """Add an AAAA record."""
        from dnslib import AAAA

        self._add(host, "AAAA", AAAA(ip))

    def add_name(self, name: str) -> None:
        """Make ``name`` exist without records (NOERROR, empty answers instead of NXDOMAIN)."""
        with self._zone.lock:
            self._zone.records[_key(name)]

    def fail(self, name: str, how: Failure = "servfail") -> None:
        """Answer every question about ``name`` with SERVFAIL, or drop it (``"timeout"``)."""
        with self._zone.lock:
            self._zone.failures[_key(name)] = how

    def remove(self, name: str) -> None:
        """Forget ``name`` (records and failures): it answers NXDOMAIN again."""
        with self._zone.lock:
            self._zone.records.pop(_key(name), None)
            self._zone.failures.pop(_key(name), None)

    @property
    def queries(self) -> list[tuple[str, str]]:
        """Every question received so far, as ``(name, type)``, e.g. ``("example.test", "MX")``."""
        with self._zone.lock:
            return list(self._zone.queries)

    # -- server ------------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"``: the value for ``LEADSONAR_DNS_SERVERS``."""
        if self.port is None:
            raise RuntimeError("the DNS server is not started")
        return f"{self.host}:{self.port}"

    def start(self) -> LoopbackDns:
        """Listen on UDP and TCP, same free port; returns ``self``."""
        from dnslib.server import DNSServer

        if self._servers:
            return self
        logger = _QuietLogger()
        for _ in range(20):
            udp = DNSServer(self._zone, address=self.host, port=0, logger=logger)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self._zone, address=self.host, port=port, tcp=True, logger=logger)
            except OSError:
                udp.server.server_close()
                continue
            self._servers = [udp, tcp]
            self.port = port
            for server in self._servers:
                # dnslib's start_thread() polls every 0.5 s, which makes stop() slow
                server.thread = threading.Thread(
                    target=server.server.serve_forever,
                    kwargs={"poll_interval": _POLL_INTERVAL},
                    name=f"LoopbackDns:{port}",
                    daemon=True,
                )
                server.thread.start()
            return self
        raise RuntimeError(f"no port free for both UDP and TCP on {self.host}")

    def stop(self) -> None:
        """Stop both listeners and close their sockets."""
        for server in self._servers:
            server.stop()
            server.server.server_close()
            server.thread.join(timeout=5)
        self._servers = []

    def __enter__(self) -> LoopbackDns:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
