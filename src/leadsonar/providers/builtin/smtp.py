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
… but the address may be someone else's:   medium      valid
first-name or surname only (``alex@``), a
numbered sibling exists (``jsmith2@``), or
off the domain's settled pattern
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
from leadsonar.domains.patterns import domain_evidence, learn_address, popular_patterns
from leadsonar.kit.db import Database
from leadsonar.kit.net.smtp import RcptVerdict
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    Verification,
)
from leadsonar.providers.builtin.mailbox import CheckOutcome, MailboxChecker

MAX_CANDIDATES = 12  # RCPTs per person at most; mail servers block noisy probers
PATTERN_EVIDENCE_FOR_MEDIUM = 2  # known addresses needed to trust a pattern on a catch-all domain
SETTLED_EVIDENCE = 3  # known addresses that make a domain's pattern settled
SETTLED_SHARE = 0.8  # … when they are at least this share of all addresses seen there
SETTLED_EXTRA = 1  # candidates probed beyond a settled pattern's own spellings
POPULAR_MIN_DOMAINS = 3  # a pattern counts as "common" once seen at this many domains
POPULAR_TTL = 300.0  # seconds the cross-domain ranking is reused
SHARED_PATTERNS = frozenset({"first", "last"})  # every Alex (or Johnson) maps to the same address
INITIAL_PATTERNS = frozenset({"flast", "f.last", "firstl", "lastf", "first.l"})
FULL_NAME_PATTERNS = frozenset(
    {"first.last", "firstlast", "first_last", "first-last", "last.first", "lastfirst"}
)
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

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
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
        pattern counts (``{pattern: known addresses}``).

        When the domain has a settled pattern (at least :data:`SETTLED_EVIDENCE` addresses and
        :data:`SETTLED_SHARE` of all seen there), only that pattern's spellings and
        :data:`SETTLED_EXTRA` more candidates are probed: someone who is not at ``first.last``
        on a ``first.last`` domain most likely does not work there, and twelve RCPTs for a
        stranger are what gets a prober blocked.
        """
        async with self.db.session() as session:
            evidence = await domain_evidence(session, domain)
        learned, spelled = evidence.patterns, evidence.umlauts_spelled
        preferred = [pattern for pattern, _ in learned]
        preferred += [p for p in await self._common_patterns() if p not in preferred]
        found = generate_candidates(
            person.first_name,
            person.last_name,
            domain,
            preferred=preferred,
            limit=MAX_CANDIDATES,
            umlauts_first=spelled,
        )
        total = sum(count for _, count in learned)
        if learned and learned[0][1] >= SETTLED_EVIDENCE and learned[0][1] >= SETTLED_SHARE * total:
            settled = sum(1 for c in found if c.pattern == learned[0][0])
            found = found[: settled + SETTLED_EXTRA]
        return found, dict(learned)

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """Probe the candidates for ``person`` at ``company.domain``; see the module's table."""
        domain = company.domain
        if not domain:
            return None
        candidates, learned = await self.candidates(person, domain)
        if not candidates:
            return None
        addresses = [f"{c.local_part}@{domain}" for c in candidates]
        outcome = await self.checker.check(domain, addresses, ctx)
        finding = await self._judge(domain, candidates, addresses, outcome, learned, ctx)
        if finding is not None and finding.verification is Verification.VALID:
            # A verified address teaches its pattern and spelling, like an imported one.
            async with self.db.session() as session:
                await learn_address(session, finding.value, person.first_name, person.last_name)
        if finding is None or finding.evidence.get("pattern") not in SHARED_PATTERNS:
            return finding
        # ``alex@`` exists, but every Alex maps to it: if this Alex has a more specific
        # address (``alex.johnson@``, the usual exception on first-name domains), that is his.
        rest = [
            (c, a)
            for c, a in zip(candidates, addresses, strict=True)
            if c.pattern not in SHARED_PATTERNS and outcome.verdict(a) is None
        ]
        if not rest or outcome.catch_all is not False:
            return finding
        specific = await self.checker.check(domain, [a for _, a in rest], ctx)
        better = await self._judge(
            domain, [c for c, _ in rest], [a for _, a in rest], specific, learned, ctx
        )
        return (
            better if better is not None and better.verification is Verification.VALID else finding
        )

    async def _judge(
        self,
        domain: str,
        candidates: list[Candidate],
        addresses: list[str],
        outcome: CheckOutcome,
        learned: dict[str, int],
        ctx: LookupContext,
    ) -> Finding | None:
        evidence: dict[str, object] = {"mxProvider": outcome.mx_provider}
        if outcome.skipped == "no mail":
            ctx.note(outcome.reason or f"{domain} accepts no mail.")
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
                doubt = self._doubt(candidate, learned) or await self._namesake(
                    domain, candidate, ctx
                )
                return Finding(
                    value=address,
                    confidence=Confidence.MEDIUM if doubt else Confidence.HIGH,
                    verification=Verification.VALID,
                    evidence=evidence
                    | {"pattern": candidate.pattern}
                    | ({"reason": doubt} if doubt else {}),
                )
            if result.catch_all is True:
                return self._accept_all(candidate, address, learned, evidence)
            return self._guess(candidate, address, outcome, evidence)  # catch-all untested
        verdicts = [outcome.verdict(a) for a in addresses]
        if all(v in GONE for v in verdicts):
            ctx.note(f"{domain}'s mail server rejected every likely address for this person.")
            return None
        # Blocked, greylisted, unreachable or cut short: nothing proven either way.
        for candidate, address, verdict in zip(candidates, addresses, verdicts, strict=True):
            if verdict not in GONE:
                return self._guess(candidate, address, outcome, evidence)
        return None

    @staticmethod
    def _doubt(candidate: Candidate, learned: dict[str, int]) -> str | None:
        """Why an accepted mailbox may be someone else's, or ``None``.

        The mailbox exists, but it is only this person's as surely as the pattern that made it
        is this domain's and unique to them: an address off the domain's settled pattern (unless
        it spells the whole name, like ``alex.johnson@``), or a first-name-only or surname-only
        one (``alex@``, ``johnson@``) that every Alex or Johnson there would map to, is
        ``medium``.
        """
        if learned:
            top, count = max(learned.items(), key=lambda kv: kv[1])
            total = sum(learned.values())
            settled = count >= SETTLED_EVIDENCE and count >= SETTLED_SHARE * total
            if settled and candidate.pattern != top and candidate.pattern not in FULL_NAME_PATTERNS:
                return f"Accepted, but {top} is this domain's pattern; it may be someone else's."
        if candidate.pattern in SHARED_PATTERNS:
            return "Accepted, but another person with this name part would have this address."
        return None

    async def _namesake(self, domain: str, candidate: Candidate, ctx: LookupContext) -> str | None:
        """For initials-based addresses (``jsmith``), whether a numbered sibling (``jsmith2``)
        exists too: companies number the second person the pattern maps to the same address."""
        if candidate.pattern not in INITIAL_PATTERNS:
            return None
        sibling = f"{candidate.local_part}2@{domain}"
        outcome = await self.checker.check(domain, [sibling], ctx)
        if outcome.verdict(sibling) in EXISTS and outcome.catch_all is False:
            return f"{sibling} exists too: another person shares this address's pattern."
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
