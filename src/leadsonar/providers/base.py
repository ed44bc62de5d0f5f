"""The provider protocol: one shape for every source of emails and phones (DESIGN.md §2).

A provider receives a :class:`Person`, a :class:`Company` and the lookup's explicit
:class:`LookupContext`, and returns a :class:`Finding` or
``None`` (not found). Providers never touch the ledger or HTTP routes. Failures are raised as
:class:`ProviderError` subclasses; the waterfall records them and goes on to the next provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from leadsonar.domains.knowledge import Learned

Field = Literal["email", "phone"]


class Confidence(StrEnum):
    """How sure an answer is, as DESIGN.md §3 defines it for users."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


class Verification(StrEnum):
    """What checked a finding."""

    VALID = "valid"  # the mailbox's own server accepted it on a domain that rejects unknowns
    ACCEPT_ALL = "accept_all"  # the server accepts every address: nothing was proven
    PUBLISHED = "published"  # seen in the user's own data or on the company's site
    GUESSED = "guessed"  # a pattern guess that could not be checked
    GREYLISTED = "greylisted"  # the mail server asked to retry later; a re-probe is scheduled
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Person:
    """Who to look up. Names are as given by the caller (Unicode, any case)."""

    first_name: str
    last_name: str


@dataclass(frozen=True)
class Company:
    """Where the person works.

    Attributes:
        domain: the company's mail/web domain as an IDNA A-label (``xn--…`` for Unicode names),
            lower case, or ``None`` when only the name is known.
        name: the company's name as given, or ``None``.
    """

    domain: str | None
    name: str | None = None


@dataclass
class Finding:
    """One provider's answer for one field.

    Attributes:
        value: the bare email address, or the phone in E.164 (``+14155550192``).
        confidence: the provider's own confidence in it.
        verification: what checked it.
        provider: the provider's name (filled by the waterfall when empty).
        kind: for phones, ``direct``/``mobile``/``office``.
        evidence: short, secret-free facts for logs and debugging (e.g. ``{"mx": "mx1.x.com"}``).
        independent: whether this finding may count as a separate source when it agrees with
            another (a pattern guess does not).
    """

    value: str
    confidence: Confidence
    verification: Verification = Verification.UNKNOWN
    provider: str = ""
    kind: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    independent: bool = True


@dataclass
class ProbeStats:
    """SMTP work one lookup spent (reported per lookup and per job)."""

    connections: int = 0
    rcpts: int = 0

    def add(self, other: ProbeStats) -> None:
        self.connections += other.connections
        self.rcpts += other.rcpts


@dataclass
class CallContext:
    """What one provider call reports besides its finding.

    Attributes:
        spent: provider-side credits this call consumed (as the provider reports or documents).
        waiting: True while the call queues for a rate-limit or concurrency slot (our own wait,
            never the provider's fault).
        queued: seconds spent queueing for slots.
        rest_for: seconds the provider asked us to leave it alone (rate-limit headers showing
            an exhausted window), or None.
        requests: HTTP requests sent.
        until: ``time.monotonic()`` by which the call must end (its budget), or None; a quota
            slot that frees only later is not waited for.
    """

    spent: float = 0.0
    waiting: bool = False
    queued: float = 0.0
    rest_for: float | None = None
    requests: int = 0
    until: float | None = None


@dataclass
class LookupContext:
    """Everything one lookup carries down the provider protocol, passed explicitly.

    The caller (the lookup service, the job runner, verify-email) makes one per lookup; the
    waterfall gives each provider call its own :meth:`for_call` view, which shares the account,
    the deadline and the notes but counts SMTP work and provider credits for that call alone.

    Attributes:
        account_id: the account the lookup is for (tenant-scoped data such as imported contacts
            is read for it only), or ``None`` for tools without an account.
        retry_wait_until: ``time.monotonic()`` until which a provider may wait to retry (e.g.
            after greylisting) within this lookup; ``None`` means do not wait: answer now and
            say when to retry (bulk jobs schedule the retry instead of blocking a worker).
        notes: sentences providers left to say why they found nothing (e.g. a website refused
            by the SSRF rules); the answer shows the last as its ``reason``.
        probe: SMTP connections and RCPT commands spent.
        call: the running provider call's credits, queueing and rate-limit hints.
        mailbox_facts: what the domain's mail server proved in this lookup about addresses
            other providers may answer, shared by every call's view: ``{"a@x.com":
            ("refuted", why)}`` for an address a server that rejects unknowns refused (or
            ``"@x.com"`` for a domain that accepts no mail), ``("shared", why)`` for an
            address another person may own (its numbered sibling exists). The waterfall drops
            refuted findings and keeps shared ones at ``low`` (issue 8 §3).
        learned: what the lookup learned about domains (MX answers, catch-all verdicts,
            blocks, owned addresses that teach patterns, crawls), shared by every call's view;
            providers record into it instead of writing, and ``Waterfall.run`` persists it
            once, in one transaction, when the lookup ends
            (:meth:`~leadsonar.domains.knowledge.DomainKnowledge.persist`).
    """

    account_id: int | None = None
    retry_wait_until: float | None = None
    notes: list[str] = field(default_factory=list)
    probe: ProbeStats = field(default_factory=ProbeStats)
    call: CallContext = field(default_factory=CallContext)
    mailbox_facts: dict[str, tuple[str, str]] = field(default_factory=dict)
    learned: Learned = field(default_factory=Learned)

    @property
    def deadline(self) -> float | None:
        """Alias of :attr:`retry_wait_until` (monotonic seconds)."""
        return self.retry_wait_until

    def for_call(self) -> LookupContext:
        """A view for one provider call: same account, deadline, notes, mailbox facts and
        learned knowledge; fresh probe and call counters (the waterfall adds them to the
        lookup's totals afterwards)."""
        return LookupContext(
            account_id=self.account_id,
            retry_wait_until=self.retry_wait_until,
            notes=self.notes,
            mailbox_facts=self.mailbox_facts,
            learned=self.learned,
        )

    def mailbox_fact(self, address: str, fact: str, why: str) -> None:
        """Record what a mail server proved about ``address`` (lower-cased ``local@domain``,
        or ``@domain`` for the whole domain): ``refuted`` or ``shared`` (see
        :attr:`mailbox_facts`); a refutation is never downgraded to ``shared``."""
        key = address.lower()
        if self.mailbox_facts.get(key, ("",))[0] != "refuted":
            self.mailbox_facts[key] = (fact, why)

    def note(self, reason: str) -> None:
        """Tell the caller why a provider found nothing (each sentence once)."""
        if reason not in self.notes:
            self.notes.append(reason)

    def count_probe(self, connections: int = 0, rcpts: int = 0) -> None:
        """Add SMTP work (sessions opened, RCPT commands sent) to this context."""
        self.probe.connections += connections
        self.probe.rcpts += rcpts

    def spend(self, credits: float) -> None:
        """Add provider-side credits (as the provider reports or documents) to this call."""
        if credits > 0:
            self.call.spent += credits


class Outcome(StrEnum):
    """How one provider call within a lookup ended (``Attempt.outcome``, the ``/providers``
    counters and the lookup's ``waterfall`` block)."""

    HIT = "hit"
    MISS = "miss"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class ErrorClass(StrEnum):
    """Why a provider call failed or was skipped: a secret-free class for users and operators
    (``Attempt.error_class``, ``/providers``' ``lastErrorClass``). A breaker's or quota's rest
    (``providers.health.Rest``) is a class too."""

    ERROR = "error"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    BAD_KEY = "bad key"
    OUT_OF_CREDITS = "out of credits"
    THROTTLED = "throttled"
    BAD_RESPONSE = "bad response"
    SERVER_ERROR = "server error"
    BAD_REQUEST = "bad request"
    INTERNAL = "internal error"
    # skipped, not failed
    ANSWERED = "answered"  # an earlier provider already answered well enough
    DEADLINE = "deadline"  # the lookup's time was up
    QUEUE = "queue"  # the provider's queue was too long to wait in
    NO_MAIL = "no mail"  # the domain takes no mail (null MX, RFC 7505): no address can answer


class ProviderError(Exception):
    """A provider failed (not "not found", which is ``None``)."""

    error_class: ErrorClass = ErrorClass.ERROR


class ProviderUnavailable(ProviderError):
    """Retriable: network failure, timeout, 5xx. Feeds the circuit breaker."""

    error_class = ErrorClass.UNAVAILABLE


class ProviderTimeout(ProviderUnavailable):
    error_class = ErrorClass.TIMEOUT


class ProviderAuthError(ProviderError):
    error_class = ErrorClass.BAD_KEY


class ProviderQuotaExceeded(ProviderError):
    error_class = ErrorClass.OUT_OF_CREDITS


class ProviderThrottled(ProviderError):
    error_class = ErrorClass.THROTTLED

    def __init__(self, message: str = "throttled", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderBadResponse(ProviderError):
    error_class = ErrorClass.BAD_RESPONSE


@runtime_checkable
class Provider(Protocol):
    """What every source implements.

    Attributes:
        name: registry key, lower case (``known``, ``smtp``, ``hunter``).
        kind: ``builtin`` or ``http``.
        fields: which of ``email``/``phone`` it can find.
        cost: what one call costs at the provider, in the provider's credits (0 for built-ins).
    """

    name: str
    kind: str
    fields: frozenset[str]
    cost: float

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """Find the person's work email; ``None`` when not found.

        ``ctx`` carries the lookup's account, deadline and notes, and takes the call's SMTP
        work (:meth:`LookupContext.count_probe`) and provider credits
        (:meth:`LookupContext.spend`).

        Raises:
            ProviderError: the provider failed; the waterfall records it and goes on.
        """
        ...

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """Find the person's phone; ``None`` when not found (``ctx`` as for ``find_email``).

        Raises:
            ProviderError: the provider failed; the waterfall records it and goes on.
        """
        ...

    def status_detail(self) -> str | None:
        """Why the provider is not usable (e.g. ``missing LEADSONAR_HUNTER_API_KEY``), or None."""
        ...
