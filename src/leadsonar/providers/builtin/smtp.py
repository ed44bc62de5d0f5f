"""The ``smtp`` provider: the mailbox prober (DNS + SMTP RCPT checks, no account needed).

For a person at a domain it guesses address candidates — middle-initial forms first when the
name carries a middle initial, then the domain's learned patterns, then the patterns most
common across domains, then the global order — and lets the
:class:`~leadsonar.providers.builtin.mailbox.MailboxChecker` ask the domain's mail server about
them, stopping at the first accepted one.

Confidence (DESIGN.md §3, issue 8 §3–5):

==============================================  ==========  ==============================
what the mail server said                       confidence  verification
==============================================  ==========  ==============================
accepted, and it rejects unknown addresses      high        valid
… but a numbered sibling exists                 low         valid
(``daniel.moreau2@``, ``jsmith2@``, ``alex2@``):
two people map to this address's form
… but the company's site lists another person   low         valid
whose name makes this address (``jsmith@`` and
a listed Jane Smith)
… first-name or surname only (``alex@``)        medium if the site lists the person,
                                                else low; valid
… an initials address (``jpena@``) when the     high for the full-name address
person's full-name address (``javier.pena@``)   (the initials one is a colleague's)
exists too
… off the domain's settled pattern              medium      valid
… already answered (high/medium) for another    low         valid
person (``syilmaz@``: Selin, then Şükrü)
accepted, but the server accepts all (or the    medium when the domain's pattern is
domain is known to)                             evidenced (≥ 1 identified published or
                                                imported address, more than any rival
                                                pattern) and, where the site lists its team,
                                                it lists the person; else low; accept_all
every candidate rejected or disabled            no answer (the person has no mailbox there)
a full-name or middle-initial form disabled     no answer (the person's mailbox is closed;
(5.2.1) before any accepted one                 a looser accepted form is a colleague's)
a plain form for a middle-initial query when    low
the site lists a plain-named namesake
greylisted (4xx, retry later)                   low (the likeliest candidate), greylisted;
                                                re-probed in the background after the delay
blocked / unreachable / DNS                     low (the likeliest candidate), guessed
domain has no mail (null MX, NXDOMAIN)          no answer
==============================================  ==========  ==============================

A full mailbox (452/552 x.2.2) still is the person's address (FC-23): it counts as accepted and
the answer's evidence says ``mailbox: full``.
"""

from __future__ import annotations

import asyncio
import time

from cachetools import TTLCache

from leadsonar.config import Settings
from leadsonar.domains.candidates import (
    MIDDLE_PATTERNS,
    MIDDLE_TWINS,
    Candidate,
    generate_candidates,
    render,
)
from leadsonar.domains.knowledge import Learned
from leadsonar.domains.names import name_forms
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
from leadsonar.providers.builtin.reprobe import MAX_DELAY, Reprober, person_key
from leadsonar.providers.builtin.roster import ListedPeople, Roster

MAX_CANDIDATES = 12  # RCPTs per person at most; mail servers block noisy probers
PATTERN_EVIDENCE_FOR_MEDIUM = 1  # identified addresses that make a catch-all guess medium
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
MAX_OWNERS = 50_000  # verified addresses whose owner this process remembers
OWNERS_TTL = 7 * 24 * 3600.0  # seconds an address's owner is remembered
REPROBE_RETRIES = 1  # extra background tries when the re-probe itself is still greylisted
SIBLING_SUFFIX = "2"  # how companies number the second person a pattern maps to
EXISTS = (RcptVerdict.ACCEPTED, RcptVerdict.FULL)
GONE = (RcptVerdict.REJECTED, RcptVerdict.DISABLED)


def _at_most(confidence: Confidence, cap: Confidence) -> Confidence:
    return confidence if confidence.rank <= cap.rank else cap


class SmtpProber:
    """Finds work emails by asking the domain's own mail server. Free; email only.

    Args:
        settings: prober settings (see :mod:`leadsonar.config`).
        checker: the shared mailbox checker (MX cache, session pool, greylist policy); the
            domain's learned patterns are read through its
            :class:`~leadsonar.domains.knowledge.DomainKnowledge`, and a verified address is
            recorded into the lookup's ``ctx.learned`` (persisted when the lookup ends).
        roster: who the company's site lists (:class:`~.roster.SiteRoster`), or ``None`` when
            the website is not a source for emails; asked only when an answer's ownership is
            in doubt (catch-all domains, first-name, surname and initial addresses).
    """

    name = "smtp"
    kind = "builtin"
    fields = frozenset({"email"})
    cost = 0.0

    def __init__(
        self,
        settings: Settings,
        checker: MailboxChecker,
        roster: Roster | None = None,
    ) -> None:
        self.settings = settings
        self.checker = checker
        self.roster = roster
        self.reprober = Reprober()
        # address → whom it was answered for (high or medium): a second person the address
        # would fit (Şükrü after Selin at ``syilmaz@``) is told it may be someone else's.
        self._owners: TTLCache[str, tuple[str, str, str]] = TTLCache(
            maxsize=MAX_OWNERS, ttl=OWNERS_TTL
        )
        self._popular: tuple[float, list[str]] = (0.0, [])

    def status_detail(self) -> str | None:
        return None

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    async def aclose(self) -> None:
        """Cancel pending re-probes, then close the pool's idle sessions."""
        await self.reprober.aclose()
        await self.checker.aclose()

    async def _common_patterns(self) -> list[str]:
        expires, patterns = self._popular
        if time.monotonic() < expires:
            return patterns
        ranked = await self.checker.knowledge.popular_patterns(min_domains=POPULAR_MIN_DOMAINS)
        self._popular = (time.monotonic() + POPULAR_TTL, ranked)
        return ranked

    async def candidates(
        self, person: Person, domain: str, ctx: LookupContext | None = None
    ) -> tuple[list[Candidate], dict[str, int]]:
        """Candidates for ``person`` at ``domain`` in probing order, and the domain's learned
        pattern counts (``{pattern: known addresses}``: stored, plus what ``ctx.learned``
        holds from this lookup).

        When the domain has a settled pattern (at least :data:`SETTLED_EVIDENCE` addresses and
        :data:`SETTLED_SHARE` of all seen there), only that pattern's spellings (and its
        middle-initial forms) and :data:`SETTLED_EXTRA` more candidates are probed: someone
        who is not at ``first.last`` on a ``first.last`` domain most likely does not work
        there, and twelve RCPTs for a stranger are what gets a prober blocked.
        """
        evidence = await self.checker.knowledge.evidence(
            domain, ctx.learned if ctx is not None else None
        )
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
            top = learned[0][0]
            kept, extra = [], SETTLED_EXTRA
            for c in found:
                if c.pattern == top or (c.pattern in MIDDLE_PATTERNS and c.pattern != top):
                    kept.append(c)
                elif extra > 0 and any(k.pattern == top for k in kept):
                    kept.append(c)
                    extra -= 1
            found = kept
        return found, dict(learned)

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """Probe the candidates for ``person`` at ``company.domain``; see the module's table."""
        domain = company.domain
        if not domain:
            return None
        reprobed = self.reprober.answer(domain, person)
        if reprobed is not None:
            return reprobed
        if (await self.checker.knowledge.mx(domain, ctx.learned)).no_mail:  # without a probe
            outcome = await self.checker.check(domain, [], ctx)
            return await self._judge(person, domain, [], [], outcome, {}, ctx)
        candidates, learned = await self.candidates(person, domain, ctx)
        if not candidates:
            return None
        addresses = [f"{c.local_part}@{domain}" for c in candidates]
        outcome = await self.checker.check(domain, addresses, ctx)
        finding = await self._judge(person, domain, candidates, addresses, outcome, learned, ctx)
        if finding is not None and finding.verification is Verification.GREYLISTED:
            self._schedule_reprobe(person, domain, candidates, addresses, outcome, ctx)
        return finding

    async def _judge(
        self,
        person: Person,
        domain: str,
        candidates: list[Candidate],
        addresses: list[str],
        outcome: CheckOutcome,
        learned: dict[str, int],
        ctx: LookupContext,
    ) -> Finding | None:
        """The answer ``outcome`` supports for ``person`` (see the module's table)."""
        evidence: dict[str, object] = {"mxProvider": outcome.mx_provider}
        if outcome.skipped == "no mail":
            ctx.note(outcome.reason or f"{domain} accepts no mail.")
            if outcome.mx.null_mx:
                # RFC 7505: the domain declares it takes no mail, so an address another
                # source found there cannot receive any either (an NXDOMAIN answer is left
                # alone: a lapsed or intranet-only name may still be a record's truth)
                ctx.mailbox_fact(f"@{domain}", "refuted", outcome.reason or "null MX")
            return None
        if outcome.skipped == "catch-all":
            return await self._accept_all(person, domain, evidence, ctx)
        if outcome.skipped:
            return self._guess(candidates, addresses, outcome, evidence)
        result = outcome.probe
        assert result is not None
        evidence |= {"mx": result.mx_host, "connections": result.connections, "rcpts": result.rcpts}
        if result.catch_all is False:
            # A server that rejects unknowns refused these: another source's copy of one (a
            # stale team page, a departed person's card) is no working address.
            for address in addresses:
                if outcome.verdict(address) in GONE:
                    ctx.mailbox_fact(address, "refuted", f"{domain}'s mail server rejected it.")
        for index, (candidate, address) in enumerate(zip(candidates, addresses, strict=True)):
            verdict = outcome.verdict(address)
            if (
                verdict is RcptVerdict.DISABLED
                and result.catch_all is False
                and (
                    candidate.pattern in MIDDLE_PATTERNS or candidate.pattern in FULL_NAME_PATTERNS
                )
            ):
                # The person's own full-name mailbox is closed (5.2.1): they have most likely
                # left, and a looser form the server still accepts (``david.delgado@`` after
                # a disabled ``david.h.delgado@``) is a colleague's.
                ctx.note(f"{address} exists but is disabled: this person's mailbox is closed.")
                return None
            if verdict not in EXISTS:
                continue
            if verdict is RcptVerdict.FULL:
                evidence["mailbox"] = "full"
            if result.catch_all is False:
                twin = await self._middle_twin(
                    person, domain, candidate, outcome, learned, evidence, ctx
                )
                if twin is not None:
                    return twin
                if candidate.pattern in INITIAL_PATTERNS:
                    exception = await self._full_name_exception(
                        person, domain, candidates, outcome, learned, evidence, ctx
                    )
                    if exception is not None:
                        return exception
                found = await self._verified(
                    person, domain, candidate, address, learned, evidence, ctx
                )
                if found.confidence is Confidence.HIGH or candidate.pattern not in SHARED_PATTERNS:
                    return found
                # ``alex@`` exists, but every Alex maps to it: if this Alex has a more
                # specific address (``alex.johnson@``), that is his.
                better = await self._specific(
                    person,
                    domain,
                    candidates[index + 1 :],
                    addresses[index + 1 :],
                    outcome,
                    learned,
                    evidence,
                    ctx,
                )
                return better or found
            if result.catch_all is True:
                return await self._accept_all(person, domain, evidence, ctx)
            return self._guess([candidate], [address], outcome, evidence)  # catch-all untested
        verdicts = [outcome.verdict(a) for a in addresses]
        if all(v in GONE for v in verdicts):
            ctx.note(f"{domain}'s mail server rejected every likely address for this person.")
            return None
        # Blocked, greylisted, unreachable or cut short: nothing proven either way.
        rest = [
            (c, a) for c, a, v in zip(candidates, addresses, verdicts, strict=True) if v not in GONE
        ]
        return self._guess([c for c, _ in rest], [a for _, a in rest], outcome, evidence)

    async def _middle_twin(
        self,
        person: Person,
        domain: str,
        candidate: Candidate,
        outcome: CheckOutcome,
        learned: dict[str, int],
        evidence: dict[str, object],
        ctx: LookupContext,
    ) -> Finding | None:
        """The person's middle-initial address in the accepted address's own pattern family
        (``ss.neumann@`` or ``s.s.neumann@`` beside an accepted ``s.neumann@``,
        :data:`~leadsonar.domains.candidates.MIDDLE_TWINS`), when the query carries a middle
        initial (``Sabine S. Neumann``): companies give a same-name newcomer the middle-initial
        form of the domain's pattern, so the plain one is then a colleague's (issue 8 §3).
        Only forms not yet asked in this probe; ``None`` when none exists."""
        if candidate.pattern in MIDDLE_PATTERNS:
            return None
        if not any(s.middle_given for s in name_forms(person.first_name, person.last_name)):
            return None
        twins = [
            Candidate(local, twin)
            for twin in MIDDLE_TWINS.get(candidate.pattern, ())
            for local in render(twin, person.first_name, person.last_name, domain)[:1]
        ]
        asked = [t for t in twins if outcome.verdict(f"{t.local_part}@{domain}") is None]
        if not asked:
            return None
        addresses = [f"{t.local_part}@{domain}" for t in asked]
        checked = await self.checker.check(domain, addresses, ctx, retry=False)
        if checked.catch_all is not False:
            return None
        for twin, address in zip(asked, addresses, strict=True):
            if checked.verdict(address) in EXISTS:
                return await self._verified(person, domain, twin, address, learned, evidence, ctx)
        return None

    async def _full_name_exception(
        self,
        person: Person,
        domain: str,
        candidates: list[Candidate],
        outcome: CheckOutcome,
        learned: dict[str, int],
        evidence: dict[str, object],
        ctx: LookupContext,
    ) -> Finding | None:
        """The person's full-name address (``javier.pena@``) when it exists beside the
        initials one the domain's pattern gave (``jpena@``): companies give the second person
        an initials address maps to a full-name exception, so ``jpena@`` is then a colleague's
        (Julia Peña's). One RCPT; ``None`` when the full-name address does not exist."""
        spelled = render("first.last", person.first_name, person.last_name, domain)
        if not spelled:
            return None
        full = Candidate(spelled[0], "first.last")
        address = f"{full.local_part}@{domain}"
        if any(c.local_part == full.local_part for c in candidates) and outcome.verdict(
            address
        ) in (*GONE, *EXISTS):
            return None  # already asked in this probe
        checked = await self.checker.check(domain, [address], ctx, retry=False)
        if checked.verdict(address) not in EXISTS or checked.catch_all is not False:
            return None
        return await self._verified(person, domain, full, address, learned, evidence, ctx)

    async def _specific(
        self,
        person: Person,
        domain: str,
        candidates: list[Candidate],
        addresses: list[str],
        outcome: CheckOutcome,
        learned: dict[str, int],
        evidence: dict[str, object],
        ctx: LookupContext,
    ) -> Finding | None:
        """A verified full-name address of ``person`` among the candidates not yet asked."""
        rest = [
            (c, a)
            for c, a in zip(candidates, addresses, strict=True)
            if c.pattern not in SHARED_PATTERNS and outcome.verdict(a) is None
        ]
        if not rest:
            return None
        specific = await self.checker.check(domain, [a for _, a in rest], ctx)
        if specific.probe is None or specific.probe.catch_all is True:
            return None
        for candidate, address in rest:
            if specific.verdict(address) in EXISTS:
                found = await self._verified(
                    person, domain, candidate, address, learned, evidence, ctx
                )
                return found if found.confidence is not Confidence.LOW else None
        return None

    async def _verified(
        self,
        person: Person,
        domain: str,
        candidate: Candidate,
        address: str,
        learned: dict[str, int],
        evidence: dict[str, object],
        ctx: LookupContext,
    ) -> Finding:
        """An address the server accepted on a domain that rejects unknowns, with the
        confidence its ownership allows (issue 8 §3): ``low`` when a numbered sibling exists or
        another listed person's name makes it; ``medium`` for addresses off the domain's
        settled pattern and for first-name or surname only addresses of a person the site
        lists; ``low`` for other first-name or surname only addresses, which any namesake (one
        who does not work there included) would have."""
        confidence, reason = Confidence.HIGH, self._doubt(candidate, learned)
        if reason:
            confidence = Confidence.MEDIUM
        someone_elses = False  # the address may well be a colleague's: it teaches nothing
        # Who the site lists is read while the sibling is probed (the crawl may still run).
        # A query with a middle initial answered by a plain form (``david.delgado@`` for
        # David H. Delgado) may be a listed plain namesake's address: the list tells.
        middle = candidate.pattern not in MIDDLE_PATTERNS and bool(
            name_forms(person.first_name, person.last_name)[0].middle_initials
        )
        roster = (
            asyncio.ensure_future(self._listed(domain, complete=False))
            if candidate.pattern in SHARED_PATTERNS
            or candidate.pattern in INITIAL_PATTERNS
            or middle
            else None
        )
        try:
            if candidate.pattern not in MIDDLE_PATTERNS:
                sibling = await self._sibling(domain, candidate, ctx)
                if sibling:
                    confidence, reason, someone_elses = Confidence.LOW, sibling, True
                    ctx.mailbox_fact(address, "shared", sibling)
        except BaseException:
            if roster is not None:
                roster.cancel()
            raise
        owner = self._owners.get(address)
        if confidence is not Confidence.LOW and owner not in (None, person_key(domain, person)):
            # Never name the other person: they may be another account's lookup.
            confidence, someone_elses = Confidence.LOW, True
            reason = "This address was verified earlier for another person; it may be theirs."
        if roster is not None and confidence is Confidence.LOW:
            roster.cancel()  # nothing the list says could raise a low answer
            await asyncio.gather(roster, return_exceptions=True)
        elif roster is not None:
            listed = await roster
            others = (
                listed.others_at(person, candidate.local_part, candidate.pattern) if listed else []
            )
            if others:
                confidence, someone_elses = Confidence.LOW, True
                reason = f"{others[0]} is listed at {domain} and has this address's form."
            elif candidate.pattern in SHARED_PATTERNS:
                # Only the site can say this Alex works there: a settled first-name domain
                # answers alex@ for any Alex, one who does not work there included.
                if listed is not None and listed.lists(person):
                    confidence = _at_most(confidence, Confidence.MEDIUM)
                else:
                    confidence = Confidence.LOW
                reason = reason or (
                    "Accepted, but another person with this name part would have this address."
                )
        found = Finding(
            value=address,
            confidence=confidence,
            verification=Verification.VALID,
            evidence=evidence
            | {"pattern": candidate.pattern}
            | ({"reason": reason} if reason else {}),
        )
        if not someone_elses:
            if confidence is not Confidence.LOW:
                self._owners[address] = person_key(domain, person)
            # A verified address teaches its pattern and spelling, like an imported one (an
            # ``alex@`` that any Alex would have still shows the domain's pattern).
            ctx.learned.address(address, person.first_name, person.last_name)
        return found

    @staticmethod
    def _doubt(candidate: Candidate, learned: dict[str, int]) -> str | None:
        """Why an accepted mailbox may be someone else's by the domain's pattern, or ``None``.

        An address off the domain's settled pattern (unless it spells the whole name, like
        ``alex.johnson@``, or is a middle-initial form) is ``medium``.
        """
        if learned:
            top, count = max(learned.items(), key=lambda kv: kv[1])
            total = sum(learned.values())
            settled = count >= SETTLED_EVIDENCE and count >= SETTLED_SHARE * total
            if (
                settled
                and candidate.pattern != top
                and candidate.pattern not in FULL_NAME_PATTERNS
                and candidate.pattern not in MIDDLE_PATTERNS
            ):
                return f"Accepted, but {top} is this domain's pattern; it may be someone else's."
        return None

    async def _sibling(self, domain: str, candidate: Candidate, ctx: LookupContext) -> str | None:
        """Whether a numbered sibling (``jsmith2``, ``daniel.moreau2``, ``alex2``) exists too:
        companies number the second person a pattern maps to, so the plain address may be a
        colleague's. Asked without waiting out greylisting (a temporary answer says nothing)."""
        sibling = f"{candidate.local_part}{SIBLING_SUFFIX}@{domain}"
        outcome = await self.checker.check(domain, [sibling], ctx, retry=False)
        if outcome.verdict(sibling) in EXISTS and outcome.catch_all is False:
            return f"{sibling} exists too: another person shares this address's form."
        return None

    async def _listed(
        self, domain: str, *, complete: bool = True, learned: Learned | None = None
    ) -> ListedPeople | None:
        """Who ``domain``'s site lists; ``complete=False`` once the pages naming people are read
        (a verified address's owner check needs no more; a catch-all answer also needs the
        patterns the site's published addresses teach, stored at the crawl's end)."""
        if self.roster is None:
            return None
        return await self.roster.listed_people(domain, complete=complete, learned=learned)

    async def _accept_all(
        self, person: Person, domain: str, evidence: dict[str, object], ctx: LookupContext
    ) -> Finding | None:
        """The answer on a domain whose server accepts every address (issue 8 §4).

        Nothing the server says tells, so the answer is the domain's evidenced pattern:
        ``medium`` when at least :data:`PATTERN_EVIDENCE_FOR_MEDIUM` identified published or
        imported address backs it and no rival pattern has as much; ``low`` otherwise, and
        ``low`` for a person a site that lists its team does not name, or whose address
        another listed person's name makes. The site is read first (its published addresses
        teach the pattern, in ``ctx.learned`` until the lookup ends), then the evidence.
        """
        listed = await self._listed(domain, learned=ctx.learned)
        candidates, learned = await self.candidates(person, domain, ctx)
        plain = [c for c in candidates if c.pattern not in MIDDLE_PATTERNS] or candidates
        if not plain:
            return None
        candidate = plain[0]
        address = f"{candidate.local_part}@{domain}"
        backing = learned.get(candidate.pattern, 0)
        rival = max((n for p, n in learned.items() if p != candidate.pattern), default=0)
        confidence, reason = Confidence.LOW, f"{domain} accepts every address; "
        if backing >= PATTERN_EVIDENCE_FOR_MEDIUM and backing > rival:
            confidence = Confidence.MEDIUM
            reason += f"{candidate.pattern} is its pattern ({backing} known address(es))."
        elif backing:
            reason += f"{candidate.pattern} is not clearly its pattern."
        else:
            reason += "its address pattern is unknown, so this is the likeliest form."
        if listed is not None:
            others = listed.others_at(person, candidate.local_part, candidate.pattern)
            if others:
                confidence = Confidence.LOW
                reason = f"{domain} accepts every address, and {others[0]} has this form."
            elif listed.team and not listed.lists(person):
                confidence = Confidence.LOW
                reason = f"{domain} accepts every address and its site does not list this person."
        return Finding(
            value=address,
            confidence=confidence,
            verification=Verification.ACCEPT_ALL,
            evidence=evidence
            | {
                "pattern": candidate.pattern,
                "catchAll": True,
                "patternEvidence": backing,
                "reason": reason,
            },
            independent=False,
        )

    @staticmethod
    def _guess(
        candidates: list[Candidate],
        addresses: list[str],
        outcome: CheckOutcome,
        evidence: dict[str, object],
    ) -> Finding | None:
        """The likeliest unverified candidate, ``low``: ``greylisted`` when the server asked
        to retry later (the re-probe is scheduled), else ``guessed``."""
        pairs = [
            (c, a)
            for c, a in zip(candidates, addresses, strict=True)
            if c.pattern not in MIDDLE_PATTERNS
        ]
        if not pairs:
            pairs = list(zip(candidates, addresses, strict=True))
        if not pairs:
            return None
        candidate, address = pairs[0]
        extra: dict[str, object] = {"pattern": candidate.pattern, "reason": outcome.reason}
        if outcome.retry_after is not None:
            extra["retryAfter"] = outcome.retry_after
        return Finding(
            value=address,
            confidence=Confidence.LOW,
            verification=Verification.GREYLISTED if outcome.greylisted else Verification.GUESSED,
            evidence=evidence | extra,
            independent=False,
        )

    def _schedule_reprobe(
        self,
        person: Person,
        domain: str,
        candidates: list[Candidate],
        addresses: list[str],
        outcome: CheckOutcome,
        ctx: LookupContext,
    ) -> None:
        """After a greylisted single lookup, ask the same addresses again once the server's
        delay has passed (the same triples, so the server lets them through), learn the
        domain's pattern from the answer and keep it for the next lookup. Bulk jobs
        (``ctx.retry_wait_until`` unset) schedule their own retry instead. The re-probe has
        its own context: it belongs to no lookup and waits for nothing."""
        if ctx.retry_wait_until is None or outcome.retry_after is None:
            return

        async def attempt(background: LookupContext) -> Finding | None:
            retried = await self.checker.check(domain, addresses, background, retry=False)
            for _ in range(REPROBE_RETRIES):  # a server whose delay was longer than it said
                if not retried.greylisted or retried.retry_after is None:
                    break
                if retried.retry_after > MAX_DELAY:
                    return None
                await asyncio.sleep(retried.retry_after)
                retried = await self.checker.check(domain, addresses, background, retry=False)
            _, learned = await self.candidates(person, domain, background)
            found = await self._judge(
                person, domain, candidates, addresses, retried, learned, background
            )
            if found is None or found.verification is not Verification.VALID:
                return None
            found.evidence["reprobed"] = True
            return found

        async def again() -> Finding | None:
            background = LookupContext(account_id=ctx.account_id)
            try:
                return await attempt(background)
            finally:  # what the re-probe learned (it belongs to no lookup): one write
                await self.checker.knowledge.persist(background.learned)

        self.reprober.schedule(domain, person, outcome.retry_after, again)
