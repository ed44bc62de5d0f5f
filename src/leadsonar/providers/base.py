"""The provider protocol: one shape for every source of emails and phones (DESIGN.md §2).

A provider receives a :class:`Person` and a :class:`Company` and returns a :class:`Finding` or
``None`` (not found). Providers never touch the ledger or HTTP routes. Failures are raised as
:class:`ProviderError` subclasses; the waterfall records them and goes on to the next provider.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

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


# Providers that spend SMTP work add it to the current lookup's counter through this variable, so
# the counts reach the answer without widening the provider protocol. The waterfall sets a fresh
# counter around every provider call.
PROBE_STATS: ContextVar[ProbeStats | None] = ContextVar("PROBE_STATS", default=None)


RETRY_WAIT_UNTIL: ContextVar[float | None] = ContextVar("RETRY_WAIT_UNTIL", default=None)
"""``time.monotonic()`` until which a provider may wait to retry (e.g. after greylisting) within
the current lookup; ``None`` means do not wait: answer now and say when to retry (bulk jobs
schedule the retry instead of blocking a worker)."""


LOOKUP_NOTES: ContextVar[list[str] | None] = ContextVar("LOOKUP_NOTES", default=None)
"""Sentences the current lookup's providers left to say why they found nothing (e.g. a website
refused by the SSRF rules); the waterfall sets a fresh list per lookup and the answer shows the
first as its ``reason``."""


def note(reason: str) -> None:
    """Tell the caller why a provider found nothing (a no-op outside a waterfall call)."""
    notes = LOOKUP_NOTES.get()
    if notes is not None and reason not in notes:
        notes.append(reason)


def count_probe(connections: int = 0, rcpts: int = 0) -> None:
    """Add SMTP work to the current lookup's counter (a no-op outside a waterfall call)."""
    stats = PROBE_STATS.get()
    if stats is not None:
        stats.connections += connections
        stats.rcpts += rcpts


class ProviderError(Exception):
    """A provider failed (not "not found", which is ``None``)."""

    error_class = "error"


class ProviderUnavailable(ProviderError):
    """Retriable: network failure, timeout, 5xx. Feeds the circuit breaker."""

    error_class = "unavailable"


class ProviderTimeout(ProviderUnavailable):
    error_class = "timeout"


class ProviderAuthError(ProviderError):
    error_class = "bad key"


class ProviderQuotaExceeded(ProviderError):
    error_class = "out of credits"


class ProviderThrottled(ProviderError):
    error_class = "throttled"

    def __init__(self, message: str = "throttled", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderBadResponse(ProviderError):
    error_class = "bad response"


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

    async def find_email(self, person: Person, company: Company) -> Finding | None:
        """Find the person's work email; ``None`` when not found.

        Raises:
            ProviderError: the provider failed; the waterfall records it and goes on.
        """
        ...

    async def find_phone(self, person: Person, company: Company) -> Finding | None:
        """Find the person's phone; ``None`` when not found.

        Raises:
            ProviderError: the provider failed; the waterfall records it and goes on.
        """
        ...

    def status_detail(self) -> str | None:
        """Why the provider is not usable (e.g. ``missing LEADSONAR_HUNTER_API_KEY``), or None."""
        ...
