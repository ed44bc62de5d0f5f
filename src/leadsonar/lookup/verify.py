"""``POST /verify-email``: is this address deliverable? (1 credit)

The address is checked with the same prober policy as find-email (cached MX and catch-all facts,
pooled sessions, greylist retries within the request's deadline) and answered as:

==============  ==============================================================================
status          when
==============  ==============================================================================
valid           the mail server accepted it and rejects unknown addresses (a full mailbox too)
invalid         the server rejected it (5.1.x) or the mailbox is disabled (5.2.1), or the
                domain takes no mail (null MX, no such domain)
accept_all      the server accepts every address, so this one proves nothing
unknown         the server could not be asked or would not say: blocked the prober (5.7.x),
                greylisted past the deadline, unreachable, DNS failure
==============  ==============================================================================

When the prober can only say ``unknown`` and Hunter's key is set, Hunter's Email Verifier gives a
second opinion (``source: "hunter"``); its failure leaves the answer ``unknown``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field

from leadsonar.config import Settings
from leadsonar.domains.candidates import is_role_local_part
from leadsonar.domains.mailhosts import is_disposable
from leadsonar.kit import metrics
from leadsonar.kit.db import Database
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.net.hostnames import display_domain
from leadsonar.kit.net.resolver_check import ResolverCheck, broken_dns_note
from leadsonar.kit.net.smtp import RcptVerdict
from leadsonar.lookup.service import run_charged
from leadsonar.providers.base import Finding, LookupContext, ProviderError, Verification
from leadsonar.providers.builtin.mailbox import CheckOutcome, MailboxChecker
from leadsonar.suppressions.service import SUPPRESSED, SuppressionList

log = logging.getLogger(__name__)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(min_length=1, max_length=320)


class VerifyAnswer(BaseModel):
    email: str
    status: str
    reason: str | None
    domain: str
    mx: list[str]
    mxProvider: str | None
    catchAll: bool | None
    disposable: bool
    role: bool
    credits_used: int
    source: str = "smtp"
    smtpConnections: int = 0
    smtpRcpts: int = 0


_VERDICTS: dict[RcptVerdict, tuple[str, str | None]] = {
    RcptVerdict.ACCEPTED: ("valid", None),
    RcptVerdict.FULL: ("valid", "The mailbox exists but is full."),
    RcptVerdict.REJECTED: ("invalid", "The mail server says this mailbox does not exist."),
    RcptVerdict.DISABLED: ("invalid", "The mail server says this mailbox is disabled."),
    RcptVerdict.BLOCKED: ("unknown", "The mail server refused the prober (policy or blocklist)."),
    RcptVerdict.TEMPORARY: ("unknown", "The mail server asked to try again later."),
    RcptVerdict.UNKNOWN: ("unknown", "The mail server's answer could not be read."),
}


def judge(address: str, outcome: CheckOutcome) -> tuple[str, str | None]:
    """``(status, reason)`` for ``address`` from a :class:`CheckOutcome` (see the module table)."""
    if outcome.skipped == "no mail":
        return "invalid", outcome.reason
    if outcome.skipped == "catch-all":
        return "accept_all", outcome.reason
    if outcome.skipped:
        return "unknown", outcome.reason
    verdict = outcome.verdict(address)
    if verdict is None:
        return "unknown", outcome.reason
    status, reason = _VERDICTS[verdict]
    if status == "valid" and outcome.catch_all is not False:
        if outcome.catch_all:
            return "accept_all", "The mail server accepts every address."
        return "unknown", "Accepted, but whether the server accepts every address is unknown."
    if status == "unknown" and outcome.reason:
        reason = outcome.reason
    return status, reason


SecondOpinion = Callable[[str], Awaitable[Finding | None]]

_OPINIONS: dict[Verification, str] = {
    Verification.VALID: "valid",
    Verification.ACCEPT_ALL: "accept_all",
}


async def ask_second_opinion(opinion: SecondOpinion, address: str) -> tuple[str, str] | None:
    """``(status, reason)`` from a commercial verifier (Hunter's Email Verifier), or ``None``
    when it cannot say more than "unknown" or fails (a failure is never "invalid")."""
    try:
        finding = await opinion(address)
    except ProviderError as error:
        log.warning("second-opinion verifier failed: %s", error.error_class)
        return None
    if finding is None:
        return "invalid", "The commercial verifier judges this address invalid or disposable."
    status = _OPINIONS.get(finding.verification)
    if status is None:
        return None
    return status, "Judged by the commercial verifier: the mail server could not be asked."


class VerifyService:
    """Answers ``POST /verify-email``.

    ``dns_check`` (set by the app) is the resolver self-check: a "no mail" verdict from a broken
    resolver is ``unknown``, never ``invalid``.

    Args:
        db: the database (ledger).
        settings: deadline and refund policy.
        checker: the prober's mailbox checker (shared with the ``smtp`` provider).
        allow_reserved: accept reserved test domains (when private networks are allowed).
        second_opinion: a commercial verifier (Hunter's, when its key is set) asked only when
            the prober's own answer is ``unknown``.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        checker: MailboxChecker,
        allow_reserved: bool,
        second_opinion: SecondOpinion | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.checker = checker
        self.allow_reserved = allow_reserved
        self.second_opinion = second_opinion
        self.dns_check: ResolverCheck | None = None
        self.suppressions: SuppressionList | None = None

    async def check(
        self, address: str, account_id: int | None = None, *, wait: bool = True
    ) -> tuple[CheckOutcome, tuple[str, str | None], str]:
        """Judge one normalised address for ``account_id``, uncharged (``verify`` and bulk
        verification jobs). With ``wait`` a greylisted probe is retried within
        ``LEADSONAR_LOOKUP_DEADLINE``; without it (bulk jobs) the answer is ``unknown`` at once
        and ``outcome.retry_after`` says when to ask again.

        Returns:
            ``(outcome, (status, reason), source)``: ``status`` ``valid``/``invalid``/
            ``accept_all``/``unknown``, ``source`` ``smtp`` or ``hunter``.

        What the check learned about the domain is persisted once, in one write transaction
        (:meth:`DomainKnowledge.persist <leadsonar.domains.knowledge.DomainKnowledge.persist>`).
        """
        domain = address.rpartition("@")[2]
        ctx = LookupContext(
            account_id=account_id,
            retry_wait_until=time.monotonic() + self.settings.lookup_deadline if wait else None,
        )
        try:
            outcome = await self.checker.check(domain, [address], ctx)
        finally:  # what the check learned (MX, catch-all, a block): one write, also if cut short
            await self.checker.knowledge.persist(ctx.learned)
        verdict = judge(address, outcome)
        if verdict[0] == "invalid" and outcome.skipped == "no mail" and self.dns_check:
            # "This domain does not exist" is only believed from a working resolver.
            dns = await self.dns_check.check()
            if not dns.ok:
                return outcome, ("unknown", broken_dns_note(dns)), "smtp"
        if verdict[0] == "unknown" and self.second_opinion is not None:
            opinion = await ask_second_opinion(self.second_opinion, address)
            if opinion is not None:
                return outcome, opinion, "hunter"
        return outcome, verdict, "smtp"

    async def verify(self, account_id: int, body: VerifyRequest) -> VerifyAnswer:
        """Check one address; costs 1 credit.

        Raises:
            BadRequest: not a valid address (400, nothing charged; FC-13, FC-14).
            InsufficientCredits: balance below 1 (402, nothing charged).
        """
        address = normalise_email(body.email, allow_reserved=self.allow_reserved)
        domain = address.rpartition("@")[2]
        if self.suppressions is not None and await self.suppressions.suppressed(email=address):
            # Never probed, never charged: the person asked not to be processed.
            return VerifyAnswer(
                email=address,
                status="unknown",
                reason=SUPPRESSED,
                domain=display_domain(domain),
                mx=[],
                mxProvider=None,
                catchAll=None,
                disposable=is_disposable(domain),
                role=is_role_local_part(address.partition("@")[0]),
                credits_used=0,
            )

        async def check() -> tuple[CheckOutcome, tuple[str, str | None], str]:
            return await self.check(address, account_id)

        (outcome, (status, reason), source), used = await run_charged(
            self.db,
            self.settings,
            account_id,
            "verify-email",
            check,
            lambda answer: answer[1][0] != "unknown",
        )
        metrics.LOOKUPS.labels(field="verify", provider=source, outcome=status).inc()
        probe = outcome.probe
        return VerifyAnswer(
            email=address,
            status=status,
            reason=reason,
            domain=display_domain(domain),
            mx=[h.host for h in outcome.mx.hosts],
            mxProvider=outcome.mx_provider,
            catchAll=outcome.catch_all,
            disposable=is_disposable(domain),
            role=is_role_local_part(address.partition("@")[0]),
            credits_used=used,
            source=source,
            smtpConnections=probe.connections if probe else 0,
            smtpRcpts=probe.rcpts if probe else 0,
        )
