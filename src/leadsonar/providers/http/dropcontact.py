"""Dropcontact: batch enrichment, submitted then polled (``POST /v1/enrich/all``, then
``GET /v1/enrich/all/{request_id}``).

Written from Dropcontact's API documentation: https://developer.dropcontact.com (the
``X-Access-Token`` header; the ``local@domain`` email qualifications),
https://developer.dropcontact.com/en/quickstart/ (the submit answer ``{"credits_left",
"request_id", "error": false, "success": true}``), https://developer.dropcontact.com/en/errors/
("a 200 does not always mean success": while a batch is processing the result route answers 200
with ``"success": false`` and "Request not ready yet, try again in 30 seconds"; errors carry
``reason`` or ``detail``; at most 250 records per request),
https://developer.dropcontact.com/en/rate-limits/ (60 requests per second; 250 records per
request; poll every 30 seconds) and https://developer.dropcontact.com/en/credits/ (a credit only
for a verified email found; a request larger than the credits left is refused with 403).

Settings: ``LEADSONAR_DROPCONTACT_API_KEY``, ``LEADSONAR_DROPCONTACT_BASE_URL``
(default ``https://api.dropcontact.com``).

Email ``qualification`` → finding (the first usable address wins, ``nominative@pro`` first):

| qualification | verification | confidence |
|---|---|---|
| ``nominative@pro`` | valid | medium |
| ``catch_all@pro`` (``non_confirm@pro`` in older docs) | accept_all | low |
| ``generic@pro`` | — (a role address, not the person's) | — |
| ``…@perso``, ``invalid@…``, ``random@…`` | — (not a work address) | — |

"Not ready" is never a failure: lookups poll until the batch is done; the waterfall's deadline
ends a lookup (a timeout) and the batch keeps running, so the same lookup asked again gets its
result without a second charge. Lookups arriving within ``batch_window`` seconds share one
request (up to 250 records) and one poll loop. Errors on submit: 401 → bad key; **403 → out of
credits**; 429 → throttled; 400 (``reason``) → rejected. Cost: 1 credit per ``nominative@pro``
email found.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderBadResponse,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    ProviderUnavailable,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    Verdict,
    error_details,
    lookup_key,
    mentions_quota,
)


@dataclass
class _Batch:
    records: list[dict[str, Any]] = field(default_factory=list)
    futures: list[asyncio.Future[dict[str, Any] | None]] = field(default_factory=list)
    launched: bool = False


@dataclass
class RecordResult:
    """One enriched record and whether its cost was reported yet."""

    record: dict[str, Any] | None
    charged: float = 0.0

    def claim_cost(self) -> float:
        cost, self.charged = self.charged, 0.0
        return cost


class DropcontactProvider(HttpProvider):
    """Dropcontact's batch enrichment, shared by lookups that arrive together."""

    name = "dropcontact"
    fields = frozenset({"email"})
    doc_url = "https://developer.dropcontact.com"
    default_rates = "60/second"
    default_concurrency = 20
    default_cost = 1.0
    default_poll_interval = 30.0
    batch_size = 250  # records per request (Dropcontact's documented maximum)
    batch_window = 0.2  # seconds lookups wait for companions before the batch is sent
    search_lifetime = 1800.0  # seconds a batch may poll before giving up
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "nominative@pro": Verdict(Verification.VALID, Confidence.MEDIUM),
        "catch_all@pro": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
        "non_confirm@pro": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: _Batch | None = None

    def auth_headers(self) -> dict[str, str]:
        return {"X-Access-Token": self.api_key, "Content-Type": "application/json"}

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        if response.status_code == 403:
            return ProviderQuotaExceeded("dropcontact account has too few credits")
        error = super().classify(response, body)
        if error is not None:
            return error
        if isinstance(body, dict) and body.get("error") is True:
            if mentions_quota(error_details(body)):
                return ProviderQuotaExceeded("dropcontact account has too few credits")
            return ProviderBadResponse("dropcontact answered with an error")
        return None

    def verdict(self, status: Any) -> Verdict | None:
        key = str(status or "").strip().lower()
        return self.statuses.get(key)  # anything else is not a work address of the person

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The person's work email from a (shared) batch; ``None`` when Dropcontact has none.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        if not company.domain and not company.name:
            return None
        record: dict[str, Any] = {
            "first_name": person.first_name,
            "last_name": person.last_name,
        }
        if company.domain:
            record["website"] = company.domain
        if company.name:
            record["company"] = company.name
        result = await self.shared(lookup_key(person, company), lambda _own: self._enqueue(record))
        enriched = result.record
        if not enriched:
            return None
        emails = [e for e in enriched.get("email") or [] if isinstance(e, dict)]
        for wanted in ("nominative@pro", "catch_all@pro", "non_confirm@pro"):
            for entry in emails:
                if str(entry.get("qualification") or "").lower() == wanted:
                    finding = self.email_finding(entry.get("email"), wanted)
                    if finding is not None:
                        ctx.spend(result.claim_cost())
                        return finding
        return None

    async def _enqueue(self, record: dict[str, Any]) -> RecordResult:
        loop = asyncio.get_running_loop()
        batch = self._open
        if batch is None or batch.launched:
            batch = self._open = _Batch()
            loop.call_later(self.batch_window, self._launch, batch)
        future: asyncio.Future[dict[str, Any] | None] = loop.create_future()
        batch.records.append(record)
        batch.futures.append(future)
        if len(batch.records) >= self.batch_size:
            self._launch(batch)
        enriched = await future
        charged = 0.0
        if enriched and any(
            isinstance(e, dict) and str(e.get("qualification") or "").lower() == "nominative@pro"
            for e in enriched.get("email") or []
        ):
            charged = self.cost
        return RecordResult(enriched, charged)

    def _launch(self, batch: _Batch) -> None:
        if batch.launched:
            return
        batch.launched = True
        if self._open is batch:
            self._open = None
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self, batch: _Batch) -> None:
        try:
            results = await self._enrich(batch.records, LookupContext())
        except BaseException as exc:
            for future in batch.futures:
                if not future.done():
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for future, enriched in zip(batch.futures, results, strict=True):
            if not future.done():
                future.set_result(enriched)

    async def _enrich(
        self, records: list[dict[str, Any]], ctx: LookupContext
    ) -> list[dict[str, Any] | None]:
        submitted = await self.call(
            ctx,
            "POST",
            "/v1/enrich/all",
            json={"data": records, "siren": False, "language": "en"},
        )
        request_id = submitted.get("request_id") if isinstance(submitted, dict) else None
        if not request_id:
            raise ProviderBadResponse("dropcontact answered without a request id")
        started = time.monotonic()
        while time.monotonic() - started < self.search_lifetime:
            await asyncio.sleep(self.poll_interval)
            try:
                body = await self.call(ctx, "GET", f"/v1/enrich/all/{request_id}")
            except (ProviderThrottled, ProviderUnavailable) as exc:
                await asyncio.sleep(getattr(exc, "retry_after", None) or self.poll_interval)
                continue
            if not isinstance(body, dict) or not body.get("success"):
                continue  # "Request not ready yet": keep polling
            data = body.get("data")
            if not isinstance(data, list) or len(data) != len(records):
                raise ProviderBadResponse("dropcontact answered a batch of another size")
            return [entry if isinstance(entry, dict) else None for entry in data]
        raise ProviderUnavailable("dropcontact batch did not finish")
