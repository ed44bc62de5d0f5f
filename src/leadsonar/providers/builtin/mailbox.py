"""The mailbox checker: the probing policy shared by find-email's prober and verify-email.

It decides *whether and how* to ask a domain's mail server, so that every caller probes as
little and as politely as real mail servers demand:

- MX hosts and the mail provider behind them come from :class:`DomainKnowledge` (cached);
- a domain whose server refused the prober by policy is left alone until its back-off ends;
- a domain known to accept every address is not probed at all (nothing could be learned);
- a domain known *not* to be catch-all gets no random-address RCPT;
- sessions come from the process's :class:`SmtpPool` (reused, capped per server);
- servers of providers that throttle after an unknown recipient get a fresh session after each
  rejection;
- greylisted addresses (4xx) are asked again after the delay the reply names ("retry in
  300 s"), else ``smtp_greylist_delay`` seconds, when the lookup may wait
  (``ctx.retry_wait_until``);
  otherwise the caller is told when to retry (``retry_after``, ``greylisted``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from leadsonar.config import Settings
from leadsonar.domains.knowledge import DomainKnowledge, KnownFacts
from leadsonar.domains.mailhosts import THROTTLE_AFTER_UNKNOWN
from leadsonar.kit.net.dns import MxAnswer
from leadsonar.kit.net.smtp import ProbeResult, RcptVerdict, probe, retry_hint
from leadsonar.kit.net.smtp_pool import SmtpPool
from leadsonar.providers.base import LookupContext

MAX_GREYLIST_RETRIES = 2
GREYLIST_MARGIN = 0.5  # seconds added to a server's own retry hint (its clock is not ours)
REAP_EVERY = 5.0  # seconds between sweeps of idle SMTP sessions


@dataclass
class CheckOutcome:
    """What the checker learned for a domain and a list of addresses.

    Attributes:
        mx: the domain's MX answer.
        mx_provider: the recognised mail provider (``google``, ``microsoft`` …) or ``None``.
        probe: the probe's result, or ``None`` when no probe was sent (see ``skipped``).
        catch_all: what is known of the domain's catch-all status after this check.
        skipped: why no probe was sent: ``no mail``, ``dns``, ``blocked``, ``catch-all``.
        reason: a sentence for users when nothing could be verified.
        retry_after: seconds after which asking again may give an answer (greylisting), when
            this lookup could not wait: the reply's own hint (plus :data:`GREYLIST_MARGIN`)
            when it named one, else ``smtp_greylist_delay``.
        greylisted: the server answered the candidates with temporary (4xx) refusals and
            nothing better: asking the same addresses again after ``retry_after`` should tell.
    """

    mx: MxAnswer
    mx_provider: str | None
    probe: ProbeResult | None = None
    catch_all: bool | None = None
    skipped: str | None = None
    reason: str | None = None
    retry_after: float | None = None
    greylisted: bool = False

    def verdict(self, address: str) -> RcptVerdict | None:
        if self.probe is None or address not in self.probe.verdicts:
            return None
        return self.probe.verdicts[address].verdict


class MailboxChecker:
    """Checks addresses at one domain against its mail server, with the policy above.

    Args:
        settings: SMTP identity, timeouts, greylist delay, block back-off.
        knowledge: per-domain knowledge (MX cache, catch-all, blocks); what a check learns
            is recorded into the lookup's ``ctx.learned``, never written here.
        pool: the process's SMTP session pool.
    """

    def __init__(self, settings: Settings, knowledge: DomainKnowledge, pool: SmtpPool) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self.pool = pool
        self._last_reap = time.monotonic()
        self._salt = secrets.token_bytes(16)
        # The suppression list (set by the app): suppressed addresses and domains are never
        # probed (suppressions/service.py).
        self.suppressions: Any = None

    def catch_all_address(self, domain: str) -> str:
        """The random-looking address this process uses for ``domain``'s catch-all probe.

        Stable per domain (a keyed hash), so a greylisting server sees the same triple when
        the probe is asked again after the delay, in this lookup or a later one.
        """
        digest = hmac.new(self._salt, domain.encode("ascii"), hashlib.sha256).hexdigest()
        return f"x{digest[:15]}@{domain}"

    async def check(
        self, domain: str, addresses: list[str], ctx: LookupContext, *, retry: bool = True
    ) -> CheckOutcome:
        """Ask about ``addresses`` (A-label domain, in the order to try) at ``domain``.

        Args:
            ctx: the lookup's context: SMTP work is counted on it, and greylisted addresses are
                asked again only while ``ctx.retry_wait_until`` allows.
            retry: wait out greylisting within the lookup's deadline; ``False`` for side
                questions (a numbered sibling) that must not hold a lookup.

        Stops at the first accepted address. Never raises for what a server says; DNS and
        connection trouble end up in ``reason``.
        """
        if self.suppressions is not None:
            kept = await self.suppressions.filter_addresses(domain, addresses)
            # No addresses to filter (a domain known to take no mail is checked with none):
            # only a suppressed domain makes that "suppressed".
            if not kept and (addresses or await self.suppressions.suppressed(domain=domain)):
                return CheckOutcome(
                    mx=MxAnswer(domain),
                    mx_provider=None,
                    skipped="suppressed",
                    reason="suppressed",
                )
            addresses = kept
        mx = await self.knowledge.mx(domain, ctx.learned)
        outcome = CheckOutcome(mx=mx, mx_provider=self.knowledge.provider_of(mx))
        if mx.no_mail:
            outcome.skipped = "no mail"
            if mx.nxdomain:
                outcome.reason = f"{domain} does not exist in DNS (NXDOMAIN)."
            elif mx.null_mx:
                outcome.reason = f"{domain} accepts no mail (null MX, RFC 7505)."
            else:
                outcome.reason = f"{domain} has no mail server (no MX, A or AAAA record)."
            return outcome
        if mx.error or not mx.hosts:
            outcome.skipped = "dns"
            outcome.reason = f"The mail hosts of {domain} could not be looked up."
            return outcome
        known = await self.knowledge.known(domain)
        outcome.catch_all = known.catch_all
        if known.blocked_until is not None:
            outcome.skipped = "blocked"
            outcome.reason = f"{domain}'s mail server refused the prober: {known.blocked_reason}"
            return outcome
        if known.catch_all is True:
            outcome.skipped = "catch-all"
            outcome.reason = f"{domain} accepts every address, so none can be verified."
            return outcome
        await self._reap()
        outcome.probe = await self._probe(domain, addresses, mx, known, outcome.mx_provider, ctx)
        await self._retry_greylisted(domain, mx, known, outcome, ctx, retry)
        self._remember(domain, known, outcome, ctx)
        return outcome

    async def _probe(
        self,
        domain: str,
        addresses: list[str],
        mx: MxAnswer,
        known: KnownFacts,
        provider: str | None,
        ctx: LookupContext,
    ) -> ProbeResult:
        result = await probe(
            domain,
            addresses,
            mx=mx,
            resolver=self.knowledge.resolver,
            settings=self.settings,
            pool=self.pool,
            catch_all_probe=known.catch_all is None,
            rotate_after_reject=provider in THROTTLE_AFTER_UNKNOWN,
            catch_all_address=self.catch_all_address(domain),
        )
        ctx.count_probe(result.connections, result.rcpts)
        if result.catch_all is None and known.catch_all is False:
            result.catch_all = False
        return result

    async def _retry_greylisted(
        self,
        domain: str,
        mx: MxAnswer,
        known: KnownFacts,
        outcome: CheckOutcome,
        ctx: LookupContext,
        retry: bool,
    ) -> None:
        """Ask again about addresses that got a temporary answer and nothing better, the same
        (client, sender, recipient) triples, after the greylist delay (RFC 6647 §2.1): the
        delay the reply names when it names one, else ``smtp_greylist_delay``."""
        result = outcome.probe
        assert result is not None
        for _ in range(MAX_GREYLIST_RETRIES):
            verdicts = [r.verdict for r in result.verdicts.values()]
            if RcptVerdict.ACCEPTED in verdicts or RcptVerdict.FULL in verdicts:
                return
            # Only addresses a server answered 4xx (greylisting, rate limits): a host that
            # could not be reached is no greylister, and waiting would not change it.
            temporary = [
                a
                for a, r in result.verdicts.items()
                if r.verdict is RcptVerdict.TEMPORARY and r.code is not None and r.code != 421
            ]
            if not temporary or result.blocked:
                return
            delay = self.greylist_delay([result.verdicts[a].text for a in temporary])
            wait_until = ctx.retry_wait_until if retry else None
            budget = 3 * self.settings.smtp_timeout + self.settings.smtp_connect_timeout
            if wait_until is None or time.monotonic() + delay + budget > wait_until:
                outcome.retry_after = delay
                outcome.greylisted = True
                outcome.reason = (
                    f"{domain}'s mail server asked to try again later (greylisting); "
                    f"the retry is due in {delay:g} s."
                )
                return
            await asyncio.sleep(delay)
            again = await self._probe(domain, temporary, mx, known, outcome.mx_provider, ctx)
            result.catch_all_reply = again.catch_all_reply or result.catch_all_reply
            result.verdicts.update(again.verdicts)
            result.connections += again.connections
            result.rcpts += again.rcpts
            result.blocked = result.blocked or again.blocked
            result.catch_all = again.catch_all if again.catch_all is not None else result.catch_all
            result.error = again.error
            result.mx_host = again.mx_host or result.mx_host

    def greylist_delay(self, texts: list[str]) -> float:
        """Seconds to wait before asking greylisted addresses again: the longest delay the
        replies name (plus :data:`GREYLIST_MARGIN`), else ``smtp_greylist_delay``."""
        hints = [hint for hint in map(retry_hint, texts) if hint is not None]
        if hints:
            return max(hints) + GREYLIST_MARGIN
        return self.settings.smtp_greylist_delay

    def _remember(
        self, domain: str, known: KnownFacts, outcome: CheckOutcome, ctx: LookupContext
    ) -> None:
        """Record a new catch-all verdict or a block into ``ctx.learned`` (seen at once by
        later checks, persisted when the lookup ends)."""
        result = outcome.probe
        assert result is not None
        if result.catch_all is not None:
            outcome.catch_all = result.catch_all
            if result.catch_all != known.catch_all:
                self.knowledge.record_catch_all(domain, result.catch_all, ctx.learned)
        if result.blocked:
            texts = [r.text for r in result.verdicts.values() if r.verdict is RcptVerdict.BLOCKED]
            reason = texts[0] if texts else "refused"
            self.knowledge.record_block(
                domain, reason, self.settings.smtp_block_backoff, ctx.learned
            )
            outcome.reason = f"{domain}'s mail server refused the prober: {reason}"
        elif result.error and not outcome.reason:
            outcome.reason = result.error

    async def _reap(self) -> None:
        if time.monotonic() - self._last_reap >= REAP_EVERY:
            self._last_reap = time.monotonic()
            await self.pool.reap()

    async def aclose(self) -> None:
        """Close the pool's idle sessions (QUIT)."""
        await self.pool.aclose()
