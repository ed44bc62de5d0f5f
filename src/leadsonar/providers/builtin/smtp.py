"""The ``smtp`` provider: the mailbox prober (DNS + SMTP RCPT checks, no account needed).

For a person at a domain it guesses address candidates — the domain's learned patterns first,
then the patterns most common across domains, then the global order — and lets the
:class:`~leadsonar.providers.builtin.mailbox.MailboxChecker` ask the domain's mail server about
them, stopping at the first accepted one.

Confidence (DESIGN.md §3):

=========================================  ==========  =========================
what the mail server said                  confidence  verification
=========================================  ==========  =========================
accepted, and it rejects unknown addresses high        valid
accepted, but the server accepts all       medium if the candidate's pattern is backed
(or the domain is known to)                by ≥ 2 known addresses at the domain, else low;
                                           accept_all
every candidate rejected or disabled       no answer (the person has no mailbox there)
blocked / greylisted / unreachable / DNS   low (the most likely pattern), guessed
domain has no mail (null MX, NXDOMAIN)     no answer
=========================================  ==========  =========================

A full mailbox (452/552 x.2.2) still is the person's address (FC-23): it counts as accepted and
the answer's evidence says ``mailbox: full``.
"""

from __future__ import annotations

import time

from leadsonar.config import Settings
from leadsonar.domains.candidates import Candidate, generate_candidates
from leadsonar.domains.patterns import add_evidence, learned_patterns, popular_patterns
from leadsonar.kit.db import Database
from leadsonar.kit.net.smtp import RcptVerdict
from leadsonar.providers.base import Company, Confidence, Finding, Person, Verification
from leadsonar.providers.builtin.mailbox import CheckOutcome, MailboxChecker

MAX_CANDIDATES = 12  # RCPTs per person at most; mail servers block noisy probers
PATTERN_EVIDENCE_FOR_MEDIUM = 2  # known addresses needed to trust a pattern on a catch-all domain
POPULAR_MIN_DOMAINS = 3  # a pattern counts as "common" once seen at this many domains
POPULAR_TTL = 300.0  # seconds the cross-domain ranking is reused
EXISTS = (RcptVerdict.ACCEPTED, RcptVerdict.FULL)
GONE = (RcptVerdict.REJECTED, RcptVerdict.DISABLED)


class SmtpProber:
    """Finds work emails by asking the domain's own mail server. Free; email only.

    Args:
        settings: prober settings (see :mod:`leadsonar.config`).
        db: where learned patterns live.
        checker: the shared mailbox checker (MX cache, session pool, greylist policy).
    """

    name = "smtp"
    kind = "builtin"
    fields = frozenset({"email"})
    cost = 0.0

    def __init__(self, settings: Settings, db: Database, checker: MailboxChecker) -> None:
        self.settings = settings
        self.db = db
        self.checker = checker
        self._popular: tuple[float, list[str]] = (0.0, [])

    def status_detail(self) -> str | None:
        return None

    async def find_phone(self, person: Person, company: Company) -> Finding | None:
        return None

    async def aclose(self) -> None:
        await self.checker.aclose()

    async def _common_patterns(self) -> list[str]:
        expires, patterns = self._popular
        if time.monotonic() < expires:
            return patterns
        async with self.db.session() as session:
            ranked = await popular_patterns(session, min_domains=POPULAR_MIN_DOMAINS)
        self._popular = (time.monotonic() + POPULAR_TTL, ranked)
        return ranked

    async def candidates(
        self, person: Person, domain: str
    ) -> tuple[list[Candidate], dict[str, int]]:
        """Candidates for ``person`` at ``domain`` in probing order, and the domain's learned
        pattern counts (``{pattern: known addresses}``)."""
        async with self.db.session() as session:
            learned = await learned_patterns(session, domain)
        preferred = [pattern for pattern, _ in learned]
        preferred += [p for p in await self._common_patterns() if p not in preferred]
        found = generate_candidates(
            person.first_name,
            person.last_name,
            domain,
            preferred=preferred,
            limit=MAX_CANDIDATES,
        )
        return found, dict(learned)

    async def find_email(self, person: Person, company: Company) -> Finding | None:
        """Probe the candidates for ``person`` at ``company.domain``; see the module's table."""
        domain = company.domain
        if not domain:
            return None
        candidates, learned = await self.candidates(person, domain)
        if not candidates:
            return None
        addresses = [f"{c.local_part}@{domain}" for c in candidates]
        outcome = await self.checker.check(domain, addresses)
        return await self._judge(domain, candidates, addresses, outcome, learned)

    async def _judge(
        self,
        domain: str,
        candidates: list[Candidate],
        addresses: list[str],
        outcome: CheckOutcome,
        learned: dict[str, int],
    ) -> Finding | None:
        evidence: dict[str, object] = {"mxProvider": outcome.mx_provider}
        if outcome.skipped == "no mail":
            return None
        if outcome.skipped == "catch-all":
            return self._accept_all(candidates[0], addresses[0], learned, evidence)
        if outcome.skipped:
            return self._guess(candidates[0], addresses[0], outcome, evidence)
        result = outcome.probe
        assert result is not None
        evidence |= {"mx": result.mx_host, "connections": result.connections, "rcpts": result.rcpts}
        for candidate, address in zip(candidates, addresses, strict=True):
            verdict = outcome.verdict(address)
            if verdict not in EXISTS:
                continue
            if verdict is RcptVerdict.FULL:
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
            if result.catch_all is True:
                return self._accept_all(candidate, address, learned, evidence)
            return self._guess(candidate, address, outcome, evidence)  # catch-all untested
        verdicts = [outcome.verdict(a) for a in addresses]
        if all(v in GONE for v in verdicts):
            return None
        # Blocked, greylisted, unreachable or cut short: nothing proven either way.
        for candidate, address, verdict in zip(candidates, addresses, verdicts, strict=True):
            if verdict not in GONE:
                return self._guess(candidate, address, outcome, evidence)
        return None

    @staticmethod
    def _accept_all(
        candidate: Candidate, address: str, learned: dict[str, int], evidence: dict[str, object]
    ) -> Finding:
        backed = learned.get(candidate.pattern, 0) >= PATTERN_EVIDENCE_FOR_MEDIUM
        return Finding(
            value=address,
            confidence=Confidence.MEDIUM if backed else Confidence.LOW,
            verification=Verification.ACCEPT_ALL,
            evidence=evidence
            | {
                "pattern": candidate.pattern,
                "catchAll": True,
                "patternEvidence": learned.get(candidate.pattern, 0),
            },
            independent=False,
        )

    @staticmethod
    def _guess(
        candidate: Candidate, address: str, outcome: CheckOutcome, evidence: dict[str, object]
    ) -> Finding:
        extra: dict[str, object] = {"pattern": candidate.pattern, "reason": outcome.reason}
        if outcome.retry_after is not None:
            extra["retryAfter"] = outcome.retry_after
        return Finding(
            value=address,
            confidence=Confidence.LOW,
            verification=Verification.GUESSED,
            evidence=evidence | extra,
            independent=False,
        )
