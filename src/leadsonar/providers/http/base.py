"""What every bring-your-own-key HTTP adapter shares: requests, error mapping, value cleaning.

An adapter subclasses :class:`HttpProvider`, names its key and base-URL settings, its documented
rate limits, cost and status table, and implements ``find_email`` / ``find_phone`` with
:meth:`HttpProvider.request`. The base class guarantees, for every adapter:

- **One shared client.** Requests go through the app's single ``httpx.AsyncClient`` (made in the
  lifespan with explicit timeouts); the key travels in a header, never in the URL, so it never
  appears in logs or exception texts.
- **Quotas.** Each HTTP request holds a slot of the provider's rate windows and concurrency cap
  (:class:`leadsonar.providers.book.ProviderBooks`), shared by every lookup, job and — with
  a Redis `LEADSONAR_RATE_LIMIT_STORAGE` — process.
- **Foreign errors mapped at the boundary** (CONVENTIONS habit 8): ``httpx`` timeouts →
  :class:`ProviderTimeout`; network failures → :class:`ProviderUnavailable`; 5xx →
  :class:`ProviderServerError`; 401 → :class:`ProviderAuthError`; 402 →
  :class:`ProviderQuotaExceeded`; 429 → :class:`ProviderThrottled` with ``Retry-After`` (RFC 9110
  §10.2.3, seconds or HTTP-date); a body that is not JSON → :class:`ProviderBadResponse`. Adapters
  override :meth:`HttpProvider.classify` where their provider speaks differently (Hunter throttles
  with 403; Findymail reports lost credits inside a 200; Lusha uses 429 for quotas too).
- **Rate-limit headers honoured**: a response saying the window is exhausted (IETF
  ``RateLimit-Remaining: 0`` + ``RateLimit-Reset``, ``X-RateLimit-*``, or the adapter's own
  headers) asks the waterfall to rest the provider until the window resets.
- **No placeholder is an answer** (FC-30): :func:`clean_email` refuses values such as Apollo's
  ``email_not_unlocked@domain.com``, masked addresses and non-strings (PDL's ``true``).
- **Not found is** ``None``; a timeout or a still-processing search is never turned into "not
  found": submit-then-poll adapters poll until the answer is ready, and the waterfall's deadline
  (a timeout) is what ends a search that takes too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
from pydantic import SecretStr

from leadsonar.exceptions import BadRequest
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.phones import parse_phone
from leadsonar.providers.base import (
    CallContext,
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
    Verification,
)
from leadsonar.providers.quotas import Turn

T = TypeVar("T")


class ProviderServerError(ProviderUnavailable):
    """The provider answered 5xx (retriable; feeds the breaker)."""

    error_class = "server error"


class ProviderRejectedRequest(ProviderError):
    """The provider refused our request as malformed (400/422): a bug or an input it cannot
    take, not a health problem (``neutral``: it does not feed the circuit breaker)."""

    error_class = "bad request"
    neutral = True


class Slots(Protocol):
    """The quota port: ``async with quotas.slot(name, ctx.call) as turn`` around each request,
    ``turn.extensions`` passed to it (the rate windows count it when its headers leave)."""

    def slot(
        self, name: str, call: CallContext | None = None
    ) -> AbstractAsyncContextManager[Turn | None]: ...


class NoQuotas:
    """No limits (unit tests, tools)."""

    @contextlib.asynccontextmanager
    async def slot(self, name: str, call: CallContext | None = None) -> AsyncIterator[Turn | None]:
        yield None


@dataclass(frozen=True)
class Verdict:
    """One row of a provider's status table: what its word means in our terms."""

    verification: Verification
    confidence: Confidence


# The placeholders providers return instead of an address (FC-30). Apollo answers
# ``email_not_unlocked@domain.com`` for a locked email; others use similar stand-ins.
_PLACEHOLDER_LOCALS = frozenset(
    {
        "email_not_unlocked",
        "not_unlocked",
        "email_not_found",
        "not_found",
        "noemail",
        "no_email",
        "no-reply-placeholder",
        "hidden",
        "redacted",
        "unknown",
        "null",
        "none",
        "undefined",
    }
)
_PLACEHOLDER_DOMAINS = frozenset({"domain.com", "email.com", "placeholder.com"})
_MASKED = re.compile(r"[*•…]|\.\.\.|x{4,}", re.IGNORECASE)


def clean_email(value: Any) -> str | None:
    """The address a provider gave, normalised, or ``None`` if it is no address (FC-30).

    Refused: non-strings (PDL answers ``true`` for fields the plan may not see), empty strings,
    placeholders (``email_not_unlocked@domain.com``), masked forms (``j***@x.com``,
    ``jo...@x.com``) and anything that is not a syntactically valid address.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().strip("<>").strip()
    if not text or _MASKED.search(text):
        return None
    local, at, domain = text.rpartition("@")
    if not at or local.lower() in _PLACEHOLDER_LOCALS or domain.lower() in _PLACEHOLDER_DOMAINS:
        return None
    try:
        return normalise_email(text, allow_reserved=True)
    except BadRequest:
        return None


def clean_phone(value: Any, region: str | None = None) -> tuple[str, bool] | None:
    """``(e164, mobile)`` for a provider's phone value, or ``None`` if it is not a valid number
    (masked numbers, placeholders and non-strings included)."""
    if not isinstance(value, str) or not value.strip() or _MASKED.search(value):
        return None
    phone = parse_phone(value.strip(), region)
    if phone is None:
        return None
    return phone.e164, phone.mobile


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` in seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), else None."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def window_rest_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until the provider's rate window resets when its headers say none is left.

    Reads the IETF ``RateLimit-Remaining``/``RateLimit-Reset`` pair
    (draft-ietf-httpapi-ratelimit-headers) and the common ``X-RateLimit-*`` pair; a reset value
    above 10⁹ is taken as a Unix time, below as seconds.
    """
    for prefix in ("ratelimit-", "x-ratelimit-"):
        remaining = _number(headers.get(prefix + "remaining"))
        if remaining is None or remaining > 0:
            continue
        reset = _number(headers.get(prefix + "reset"))
        if reset is None:
            return None
        if reset > 1e9:
            reset -= time.time()
        return max(0.0, reset)
    return None


def json_or_none(response: httpx.Response) -> Any:
    """The JSON body, or None when there is none or it is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def error_details(body: Any) -> str:
    """Lower-case text of a JSON error body's messages, for classification only (never logged
    or shown: it may echo our input)."""
    parts: list[str] = []

    def walk(node: Any, depth: int = 0) -> None:
        if depth > 4:
            return
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, dict):
            for key, item in node.items():
                if key in {"data", "person", "contact"}:
                    continue
                walk(item, depth + 1)
        elif isinstance(node, list):
            for item in node[:10]:
                walk(item, depth + 1)

    walk(body)
    return " ".join(parts).lower()


_QUOTA_WORDS = ("credit", "usage limit", "quota", "insufficient", "trial limit", "funds")


def mentions_quota(text: str) -> bool:
    """Whether an error text speaks of credits/quota rather than request rate."""
    return any(word in text for word in _QUOTA_WORDS)


class HttpProvider:
    """Base of the bring-your-own-key adapters (see the module docstring for the guarantees).

    Class attributes each adapter sets:
        name: registry key (``hunter``); settings are ``LEADSONAR_<NAME>_API_KEY`` and
            ``LEADSONAR_<NAME>_BASE_URL``.
        fields: ``email`` and/or ``phone``.
        doc_url: the provider's API documentation the adapter was written from.
        default_rates: documented rate limits in ``limits`` syntax.
        default_concurrency: requests in flight at once (documented where the provider says).
        default_cost: provider credits one answered email lookup costs.
        phone_cost: provider credits one answered phone lookup costs (None: as email).
        statuses: the provider's status words → :class:`Verdict`; a word mapped to ``None`` is
            not an answer (e.g. ``invalid``).
        extra_buckets: other quota buckets (name → documented rates) for endpoints limited
            separately.

    Args:
        http: the app's shared client.
        api_key: the provider key, or None (the provider is then ``unconfigured``).
        base_url: where the API lives (a loopback stand-in in tests).
        quotas: the rate/concurrency port.
        cost: override of ``default_cost`` (``LEADSONAR_PROVIDER_COSTS``: ``name=1.5``).
        phone_cost: override of ``phone_cost`` (``LEADSONAR_PROVIDER_COSTS``: ``name.phone=8``).
        poll_interval: seconds between polls for submit-then-poll providers.
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "http"
    fields: ClassVar[frozenset[str]] = frozenset({"email"})
    doc_url: ClassVar[str] = ""
    default_rates: ClassVar[str] = ""
    default_concurrency: ClassVar[int] = 10
    default_cost: ClassVar[float] = 1.0
    phone_cost: ClassVar[float | None] = None
    default_poll_interval: ClassVar[float] = 2.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {}
    extra_buckets: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: SecretStr | None,
        base_url: str,
        quotas: Slots | None = None,
        cost: float | None = None,
        phone_cost: float | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.http = http
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.quotas: Slots = quotas or NoQuotas()
        self.cost = self.default_cost if cost is None else cost
        default_phone = self.phone_cost if self.phone_cost is not None else self.cost
        self.phone_cost_value = default_phone if phone_cost is None else phone_cost
        self.poll_interval = poll_interval or self.default_poll_interval
        self._background: set[asyncio.Task[Any]] = set()
        self._inflight: dict[str, _Inflight[Any]] = {}

    # -- protocol -------------------------------------------------------------------------

    def status_detail(self) -> str | None:
        """``missing LEADSONAR_<NAME>_API_KEY`` until the key is set."""
        if self._api_key is None or not self._api_key.get_secret_value().strip():
            return f"missing LEADSONAR_{self.name.upper()}_API_KEY"
        return None

    def cost_for(self, fld: str) -> float:
        """Provider credits one answered lookup of ``fld`` costs (for the cost-aware cascade)."""
        return self.phone_cost_value if fld == "phone" else self.cost

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        return None

    async def aclose(self) -> None:
        """Cancel background searches (submit-then-poll providers)."""
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- for adapters ---------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key's value, for building the auth header only."""
        if self._api_key is None:
            raise ProviderAuthError("no key configured")
        return self._api_key.get_secret_value()

    def auth_headers(self) -> dict[str, str]:
        """The headers that carry the key (each adapter says which)."""
        raise NotImplementedError

    async def request(
        self,
        ctx: LookupContext,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        bucket: str | None = None,
    ) -> httpx.Response:
        """Send one request within the provider's quotas (``bucket``: another quota name for
        endpoints the provider limits separately, e.g. ``hunter.verify``) and map transport
        failures. ``ctx`` is the calling lookup's context: it counts the request, the time
        queued for a slot and any rest the provider's rate-limit headers ask for.

        Raises:
            ProviderTimeout: the shared client's timeout elapsed.
            ProviderUnavailable: the connection failed.
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        headers = {"Accept": "application/json", **self.auth_headers()}
        context = ctx.call
        async with self.quotas.slot(bucket or self.name, context) as turn:
            context.requests += 1
            try:
                response = await self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    extensions=turn.extensions if turn is not None else None,
                )
            except httpx.TimeoutException:
                raise ProviderTimeout(f"{self.name} did not answer in time") from None
            except httpx.HTTPError as exc:
                raise ProviderUnavailable(
                    f"{self.name} could not be reached ({type(exc).__name__})"
                ) from None
        rest = self.rest_hint(response)
        if rest:
            context.rest_for = max(context.rest_for or 0.0, rest)
        return response

    def rest_hint(self, response: httpx.Response) -> float | None:
        """Seconds to leave the provider alone after this response (its window is spent)."""
        return window_rest_seconds(response.headers)

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        """The error a response stands for, or None when it is an answer to read.

        The default reads the HTTP status only; adapters extend it with their own codes.
        """
        status = response.status_code
        if status == 401:
            return ProviderAuthError(f"{self.name} rejected the key")
        if status == 402:
            return ProviderQuotaExceeded(f"{self.name} account is out of credits")
        if status == 403:
            return ProviderAuthError(f"{self.name} refused access")
        if status == 429:
            return ProviderThrottled(
                f"{self.name} throttled the request", retry_after_seconds(response.headers)
            )
        if status >= 500:
            return ProviderServerError(f"{self.name} answered {status}")
        if status in (400, 405, 409, 413, 415, 422):
            return ProviderRejectedRequest(f"{self.name} refused the request ({status})")
        return None

    async def call(
        self,
        ctx: LookupContext,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        not_found: tuple[int, ...] = (404,),
        bucket: str | None = None,
    ) -> Any | None:
        """:meth:`request` then :meth:`answer`."""
        response = await self.request(ctx, method, path, params=params, json=json, bucket=bucket)
        return self.answer(response, not_found)

    def answer(self, response: httpx.Response, not_found: tuple[int, ...] = (404,)) -> Any | None:
        """The JSON answer of ``response``, or ``None`` for an HTTP status that means "not
        found" (``not_found``).

        Raises:
            ProviderError: what :meth:`classify` maps the response to; a 2xx body that is not
                JSON is :class:`ProviderBadResponse`.
        """
        if response.status_code in not_found:
            return None
        body = json_or_none(response)
        error = self.classify(response, body)
        if error is not None:
            raise error
        if not 200 <= response.status_code < 300:
            raise ProviderBadResponse(f"{self.name} answered {response.status_code}")
        if body is None:
            raise ProviderBadResponse(f"{self.name} answered with malformed JSON")
        return body

    def verdict(self, status: Any) -> Verdict | None:
        """The status table's row for ``status`` (case-insensitive); an unknown word is
        ``unknown``/``low`` — never promoted — and a word mapped to None is not an answer."""
        key = str(status).strip().lower() if status is not None else ""
        if key in self.statuses:
            return self.statuses[key]
        return Verdict(Verification.UNKNOWN, Confidence.LOW)

    def email_finding(self, address: Any, status: Any, **evidence: Any) -> Finding | None:
        """A finding for ``address`` judged by the status table, or None (placeholder,
        invalid address, or a status that is not an answer)."""
        email_value = clean_email(address)
        if email_value is None:
            return None
        verdict = self.verdict(status)
        if verdict is None:
            return None
        return Finding(
            value=email_value,
            confidence=verdict.confidence,
            verification=verdict.verification,
            provider=self.name,
            evidence={"status": None if status is None else str(status), **evidence},
        )

    def phone_finding(
        self,
        number: Any,
        kind: str | None = None,
        confidence: Confidence = Confidence.MEDIUM,
        region: str | None = None,
        **evidence: Any,
    ) -> Finding | None:
        """A phone finding in E.164, or None for placeholders and invalid numbers.

        ``kind`` is the provider's word mapped to ``direct``/``mobile``/``office`` when known;
        otherwise libphonenumber's metadata says mobile or direct.
        """
        parsed = clean_phone(number, region)
        if parsed is None:
            return None
        e164, mobile = parsed
        return Finding(
            value=e164,
            confidence=confidence,
            verification=Verification.PUBLISHED,
            provider=self.name,
            kind=kind or ("mobile" if mobile else "direct"),
            evidence=evidence,
        )

    async def shared(
        self, key: str, work: Callable[[LookupContext], Awaitable[T]], keep: float = 300.0
    ) -> T:
        """Run ``work`` once per ``key`` in the background and await its result.

        Used by submit-then-poll providers: a lookup that times out leaves its search running,
        and the same lookup asked again (a retry, a second job item) joins it instead of paying
        for a new search. Results are kept ``keep`` seconds, then dropped (the map never grows
        past the lookups of the last ``keep`` seconds). ``work`` is given the background
        task's own :class:`LookupContext`, so its requests never count as the caller's
        queueing.
        """
        entry = self._live_entry(key, keep)
        if entry is None:
            entry = self._new_entry(key)

            async def run() -> None:
                try:
                    entry.future.set_result(await work(LookupContext()))
                except asyncio.CancelledError:
                    if not entry.future.done():
                        entry.future.cancel()
                    self._forget(key, entry)
                    raise
                except Exception as exc:  # handed to every waiter
                    entry.future.set_exception(exc)
                    self._forget(key, entry)
                else:
                    self._expire_later(key, entry, keep)

            task = asyncio.create_task(run())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return await asyncio.shield(entry.future)

    async def reuse(self, key: str, work: Callable[[], Awaitable[T]], keep: float = 60.0) -> T:
        """Run ``work`` once per ``key`` and hand its answer to every lookup of the same key for
        ``keep`` seconds.

        Used by providers whose one paid request answers both fields (Apollo, People Data
        Labs, Lusha): the phone lookup reuses the email lookup's answer instead of asking and
        paying again. Unlike :meth:`shared`, ``work`` runs in the first caller's own call (it
        closes over that caller's ``ctx``), so its requests, queueing, rate-limit hints and the
        credits it spends count for that call only; a lookup that reuses the answer sent
        nothing and spent nothing. A lookup waiting on a call that is cancelled (its deadline)
        makes the request itself; a failure is handed to the lookups waiting on it and never
        kept.
        """
        task = asyncio.current_task()
        while True:
            entry = self._live_entry(key, keep)
            if entry is None:
                break
            try:
                return await asyncio.shield(entry.future)
            except asyncio.CancelledError:
                if entry.future.cancelled() and (task is None or not task.cancelling()):
                    continue  # the first caller gave up, not us: ask ourselves
                raise
        entry = self._new_entry(key)
        try:
            value = await work()
        except BaseException as exc:
            self._forget(key, entry)
            if isinstance(exc, asyncio.CancelledError):
                entry.future.cancel()
            else:
                entry.future.set_exception(exc)
            raise
        entry.future.set_result(value)
        self._expire_later(key, entry, keep)
        return value

    def _live_entry(self, key: str, keep: float) -> _Inflight[Any] | None:
        entry = self._inflight.get(key)
        if entry is not None and entry.future.done():
            if entry.future.cancelled() or time.monotonic() - entry.started > keep:
                self._forget(key, entry)
                return None
        return entry

    def _new_entry(self, key: str) -> _Inflight[Any]:
        entry: _Inflight[Any] = _Inflight(
            asyncio.get_running_loop().create_future(), time.monotonic()
        )
        # A waiter that timed out never reads a later failure; read it here so asyncio does
        # not report it as never retrieved.
        entry.future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._inflight[key] = entry
        return entry

    def _forget(self, key: str, entry: _Inflight[Any]) -> None:
        if self._inflight.get(key) is entry:
            del self._inflight[key]

    def _expire_later(self, key: str, entry: _Inflight[Any], keep: float) -> None:
        """Drop the finished ``entry`` ``keep`` seconds after it started."""
        delay = max(0.0, keep - (time.monotonic() - entry.started))
        asyncio.get_running_loop().call_later(delay, self._forget, key, entry)


@dataclass
class _Inflight(Generic[T]):
    future: asyncio.Future[T]
    started: float


def lookup_key(person: Person, company: Company, *extra: str) -> str:
    """A stable key for one person at one company (for :meth:`HttpProvider.shared`)."""
    return "|".join(
        [
            person.first_name.strip().lower(),
            person.last_name.strip().lower(),
            (company.domain or "").lower(),
            (company.name or "").strip().lower(),
            *extra,
        ]
    )


def full_name(person: Person) -> str:
    return f"{person.first_name.strip()} {person.last_name.strip()}".strip()
