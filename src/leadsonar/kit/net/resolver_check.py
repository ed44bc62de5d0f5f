"""The resolver self-check: is DNS working at all?

A resolver that cannot reach the internet, or answers NXDOMAIN for everything (captive portals,
a broken local forwarder, an offline laptop), makes every domain look like it does not exist,
and "does not exist" reads as "bad data": ``invalid`` addresses, cached "not found" answers. So
LeadSonar asks, at start, in ``/readyz`` and before it believes a negative answer, whether its
resolver answers for a name that must exist (``LEADSONAR_DNS_CHECK_NAME``; the root zone ``.``
by default, which every working resolver answers, RFC 1034 §4.3.1). While it does not:

* the server warns at start, ``/readyz`` answers 503 and ``leadsonar_dns_resolver_healthy`` is 0;
* lookups that find nothing say why (:attr:`ResolverStatus.reason`) and are not cached;
* verify-email never calls an address ``invalid`` because its domain "does not exist".

The status is kept for :data:`HEALTHY_TTL` seconds when healthy and :data:`BROKEN_TTL` when not,
so the check costs one query per interval, not one per lookup.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import dns.exception
import dns.resolver

from leadsonar.kit import metrics
from leadsonar.kit.net.dns import Resolver

HEALTHY_TTL = 60.0
BROKEN_TTL = 5.0


@dataclass(frozen=True)
class ResolverStatus:
    """The outcome of one self-check.

    Attributes:
        ok: the resolver answered for the check name (records or an empty NOERROR answer).
        reason: a sentence for users and logs when not ``ok`` ("" when ok).
        checked_at: ``time.monotonic()`` of the check.
    """

    ok: bool
    reason: str
    checked_at: float


class ResolverCheck:
    """Asks ``resolver`` for ``name`` (NS records) and remembers the answer for a while.

    Args:
        resolver: the resolver the prober uses.
        name: a name that must exist (``"."`` or a domain such as ``example.com``).
    """

    def __init__(self, resolver: Resolver, name: str) -> None:
        self.resolver = resolver
        self.name = name
        self._status: ResolverStatus | None = None
        self._lock = asyncio.Lock()

    @property
    def last(self) -> ResolverStatus | None:
        """The last status, however old (``None`` before the first check)."""
        return self._status

    async def check(self, *, force: bool = False) -> ResolverStatus:
        """The resolver's status, asking it again when the kept status is stale or ``force``.

        Never raises: a failure to ask is itself a broken status.
        """
        async with self._lock:
            status = self._status
            if status is not None and not force:
                ttl = HEALTHY_TTL if status.ok else BROKEN_TTL
                if time.monotonic() - status.checked_at < ttl:
                    return status
            status = await self._ask()
            if not status.ok or (self._status is not None and not self._status.ok):
                # NXDOMAIN answers from a broken resolver (or kept through its outage) are not
                # to be believed later
                self.resolver.forget_negative()
            self._status = status
            metrics.DNS_HEALTHY.set(1 if status.ok else 0)
            return status

    async def _ask(self) -> ResolverStatus:
        now = time.monotonic()
        shown = self.name if self.name != "." else "the root zone '.'"
        try:
            await self.resolver.query_exists(self.name)
        except dns.resolver.NXDOMAIN:
            return ResolverStatus(
                False,
                f"the DNS resolver answers that {shown} does not exist, so its other "
                "'does not exist' answers cannot be trusted",
                now,
            )
        except dns.exception.Timeout:
            return ResolverStatus(
                False, f"the DNS resolver did not answer for {shown} (timeout)", now
            )
        except dns.exception.DNSException as error:
            return ResolverStatus(
                False, f"the DNS resolver failed for {shown} ({type(error).__name__})", now
            )
        except OSError as error:
            return ResolverStatus(False, f"the DNS resolver cannot be reached ({error})", now)
        return ResolverStatus(True, "", now)


def broken_dns_note(status: ResolverStatus) -> str:
    """The reason a lookup or verification gives while DNS is broken."""
    return (
        f"DNS is not working ({status.reason}); nothing could be checked and the answer is "
        "unknown, not 'not found'. Fix the resolver (LEADSONAR_DNS_SERVERS) and retry."
    )
