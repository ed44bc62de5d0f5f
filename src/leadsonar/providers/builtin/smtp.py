"""The ``smtp`` provider: the mailbox prober (DNS + SMTP RCPT checks, no account needed).

For a person at a domain it guesses address candidates (learned pattern first), finds the
domain's mail hosts, and asks the first reachable one, in one SMTP session, whether each
candidate's mailbox exists (``RCPT TO``), stopping at the first accepted one; a random address
is then probed to tell a real acceptance from an accept-all (catch-all) server.

Confidence (DESIGN.md §3):

=========================================  ==========  =========================
what the mail server said                  confidence  verification
=========================================  ==========  =========================
accepted, random address rejected          high        valid
accepted, but the server accepts all       medium if the domain's learned pattern
                                           has ≥ 2 known addresses, else low; accept_all
every candidate rejected                   no answer (the person has no mailbox there)
blocked / greylisted / unreachable / DNS   low (the most likely pattern), guessed
domain has no mail (null MX, NXDOMAIN)     no answer
=========================================  ==========  =========================
"""

from __future__ import annotations

from leadsonar.config import Settings
from leadsonar.domains.candidates import Candidate, generate_candidates
from leadsonar.domains.patterns import add_evidence, learned_patterns
from leadsonar.kit.db import Database
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.smtp import ProbeResult, RcptVerdict, probe
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    Person,
    Verification,
    count_probe,
)

MAX_CANDIDATES = 12  # RCPTs per person at most; mail servers block noisy probers
PATTERN_EVIDENCE_FOR_MEDIUM = 2  # known addresses needed to trust a pattern on a catch-all domain
EXISTS = (RcptVerdict.ACCEPTED, RcptVerdict.FULL)
GONE = (RcptVerdict.REJECTED, RcptVerdict.DISABLED)


class SmtpProber:
    """Finds work emails by asking the domain's own mail server. Free; email only.

    Args:
        settings: prober identity (HELO, MAIL FROM), port, timeouts, allowed networks.
        db: where learned patterns live.
        resolver: the DNS resolver (``LEADSONAR_DNS_SERVERS``).
    """

    name = "smtp"
    kind = "builtin"
    fields = frozenset({"email"})
    cost = 0.0

    def __init__(self, settings: Settings, db: Database, resolver: Resolver) -> None:
        self.settings = settings
        self.db = db
        self.resolver = resolver

    def status_detail(self) -> str | None:
        return None

    async def find_phone(self, person: Person, company: Company) -> Finding | None:
        return None

    async def find_email(self, person: Person, company: Company) -> Finding | None:
        """Probe the candidates for ``person`` at ``company.domain``; see the module's table."""
        domain = company.domain
        if not domain:
            return None
        async with self.db.session() as session:
            learned = await learned_patterns(session, domain)
        candidates = generate_candidates(
            person.first_name,
            person.last_name,
            domain,
            preferred=[pattern for pattern, _ in learned],
            limit=MAX_CANDIDATES,
        )
        if not candidates:
            return None
        mx = await self.resolver.mx_hosts(domain)
        if mx.null_mx or mx.nxdomain:
            return None
        if mx.error or not mx.hosts:
            return self._guess(candidates[0], domain, f"DNS: {mx.error or 'no mail hosts'}")
        addresses = [f"{c.local_part}@{domain}" for c in candidates]
        result = await probe(
            domain, addresses, mx=mx, resolver=self.resolver, settings=self.settings
        )
        count_probe(result.connections, result.rcpts)
        return await self._judge(domain, candidates, addresses, result, dict(learned))

    async def _judge(
        self,
        domain: str,
        candidates: list[Candidate],
        addresses: list[str],
        result: ProbeResult,
        learned: dict[str, int],
    ) -> Finding | None:
        if result.no_mail:
            return None
        verdicts = {a: result.verdicts[a].verdict for a in addresses if a in result.verdicts}
        evidence = {"mx": result.mx_host, "connections": result.connections, "rcpts": result.rcpts}
        for candidate, address in zip(candidates, addresses, strict=True):
            if verdicts.get(address) not in EXISTS:
                continue
            if verdicts[address] is RcptVerdict.FULL:
                evidence["mailbox"] = "full"
            if result.catch_all is False:
                async with self.db.session() as session:
                    await add_evidence(session, domain, [candidate.pattern])
                return Finding(
                    value=address,
                    confidence=Confidence.HIGH,
                    verification=Verification.VALID,
                    evidence=evidence | {"pattern": candidate.pattern},
                )
            backed = learned.get(candidate.pattern, 0) >= PATTERN_EVIDENCE_FOR_MEDIUM
            return Finding(
                value=address,
                confidence=Confidence.MEDIUM if backed else Confidence.LOW,
                verification=Verification.ACCEPT_ALL,
                evidence=evidence | {"pattern": candidate.pattern, "catch_all": result.catch_all},
                independent=False,
            )
        if (
            verdicts
            and len(verdicts) == len(addresses)
            and all(v in GONE for v in verdicts.values())
        ):
            return None
        # Blocked, greylisted, unreachable or cut short: nothing proven either way.
        for candidate, address in zip(candidates, addresses, strict=True):
            if verdicts.get(address) not in GONE:
                reason = result.error or ("blocked" if result.blocked else "not verified")
                return self._guess(candidate, domain, reason)
        return None

    @staticmethod
    def _guess(candidate: Candidate, domain: str, reason: str) -> Finding:
        return Finding(
            value=f"{candidate.local_part}@{domain}",
            confidence=Confidence.LOW,
            verification=Verification.GUESSED,
            evidence={"pattern": candidate.pattern, "reason": reason},
            independent=False,
        )
