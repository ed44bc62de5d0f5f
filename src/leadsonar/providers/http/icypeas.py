"""Icypeas: email search, submitted then polled (``POST /api/email-search``, then
``POST /api/bulk-single-searchs/read``).

Written from Icypeas' API documentation: https://api-doc.icypeas.com/getting-started (the
``Authorization`` header holds the key alone; the submit answer ``{"success": true, "item":
{"status": "NONE", "_id": …}}``; "wait a few seconds" and read the result by ``id``; the result
shape ``items[0].results.emails[{email, certainty}]``) and
https://api-doc.icypeas.com/how-works/search_statuses (the item statuses).

Settings: ``LEADSONAR_ICYPEAS_API_KEY``, ``LEADSONAR_ICYPEAS_BASE_URL``
(default ``https://app.icypeas.com``).

Item ``status``:

| Icypeas status | meaning here |
|---|---|
| ``NONE``, ``SCHEDULED``, ``IN_PROGRESS`` | still processing: poll again (never "not found") |
| ``FOUND``, ``DEBITED`` | an answer: read ``results.emails`` |
| ``NOT_FOUND``, ``DEBITED_NOT_FOUND`` | not found |
| ``INSUFFICIENT_FUNDS`` | out of credits |
| ``BAD_INPUT`` | rejected request |
| ``ABORTED`` | unavailable (the search was cancelled) |

``certainty`` of the best email → finding (Icypeas names the levels without defining them, so
only the top level is promoted):

| certainty | verification | confidence |
|---|---|---|
| ``ultra_sure`` | valid | medium |
| ``very_sure`` | accept_all | low |
| ``sure``, ``probable`` and anything else | guessed | low |

The search runs in the background: a lookup whose deadline passes is a timeout, and the same
lookup asked again joins the running search instead of paying for a new one. A throttle or an
outage while polling is waited out (``Retry-After``) rather than failing the search. Errors on
submit: 401 → bad key; 402 → out of credits; 429 → throttled; ``{"success": false}`` →
rejected. Icypeas documents no rate for single searches here; the default is a conservative
10/second. Cost: 1 credit per email found (status ``DEBITED``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderBadResponse,
    ProviderQuotaExceeded,
    ProviderThrottled,
    ProviderUnavailable,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    ProviderRejectedRequest,
    Verdict,
    lookup_key,
)

NOT_READY = frozenset({"NONE", "SCHEDULED", "IN_PROGRESS"})
FOUND = frozenset({"FOUND", "DEBITED"})
NOT_FOUND = frozenset({"NOT_FOUND", "DEBITED_NOT_FOUND"})
_CERTAINTY_ORDER = ("ultra_sure", "very_sure", "sure", "probable")


@dataclass
class SearchResult:
    """A finished search: the best email and its certainty, and credits not yet reported."""

    email: str | None
    certainty: str | None
    unreported_cost: float = 0.0

    def claim_cost(self) -> float:
        """The search's cost, once (a second lookup joining the search did not pay again)."""
        cost, self.unreported_cost = self.unreported_cost, 0.0
        return cost


class IcypeasProvider(HttpProvider):
    """Icypeas' single email search (submit, then poll)."""

    name = "icypeas"
    fields = frozenset({"email"})
    doc_url = "https://api-doc.icypeas.com/getting-started"
    default_rates = "10/second"
    default_concurrency = 10
    default_cost = 1.0
    default_poll_interval = 2.0
    search_lifetime = 900.0  # seconds a background search may poll before giving up
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "ultra_sure": Verdict(Verification.VALID, Confidence.MEDIUM),
        "very_sure": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
        "sure": Verdict(Verification.GUESSED, Confidence.LOW),
        "probable": Verdict(Verification.GUESSED, Confidence.LOW),
    }

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": self.api_key, "Content-Type": "application/json"}

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """Submit the search (or join the same one already running) and wait for its result.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        where = company.domain or company.name
        if not where:
            return None
        result = await self.shared(
            lookup_key(person, company), lambda own: self._search(person, where, own)
        )
        if result is None or result.email is None:
            return None
        ctx.spend(result.claim_cost())
        return self.email_finding(result.email, result.certainty)

    async def _search(self, person: Person, where: str, ctx: LookupContext) -> SearchResult | None:
        submitted = await self.call(
            ctx,
            "POST",
            "/api/email-search",
            json={
                "firstname": person.first_name,
                "lastname": person.last_name,
                "domainOrCompany": where,
            },
        )
        item = submitted.get("item") if isinstance(submitted, dict) else None
        if not isinstance(submitted, dict) or not submitted.get("success"):
            raise ProviderRejectedRequest("icypeas refused the search")
        if not isinstance(item, dict) or not item.get("_id"):
            raise ProviderBadResponse("icypeas answered without a search id")
        search_id = str(item["_id"])
        started = time.monotonic()
        while time.monotonic() - started < self.search_lifetime:
            await asyncio.sleep(self.poll_interval)
            try:
                body = await self.call(
                    ctx, "POST", "/api/bulk-single-searchs/read", json={"id": search_id}
                )
            except (ProviderThrottled, ProviderUnavailable) as exc:
                wait = getattr(exc, "retry_after", None) or self.poll_interval
                await asyncio.sleep(wait)
                continue
            items = body.get("items") if isinstance(body, dict) else None
            if not items:
                continue  # not visible yet: still processing
            found = items[0] if isinstance(items[0], dict) else {}
            status = str(found.get("status") or "").upper()
            if status in NOT_READY:
                continue
            if status in NOT_FOUND:
                return None
            if status in FOUND:
                return self._best(found)
            if status == "INSUFFICIENT_FUNDS":
                raise ProviderQuotaExceeded("icypeas account is out of credits")
            if status == "BAD_INPUT":
                raise ProviderRejectedRequest("icypeas could not use the input")
            if status == "ABORTED":
                raise ProviderUnavailable("icypeas aborted the search")
            raise ProviderBadResponse("icypeas answered an unknown status")
        raise ProviderUnavailable("icypeas search did not finish")

    def _best(self, item: dict[str, Any]) -> SearchResult:
        results = item.get("results") if isinstance(item.get("results"), dict) else {}
        emails = [e for e in results.get("emails") or [] if isinstance(e, dict)]

        def rank(entry: dict[str, Any]) -> int:
            certainty = str(entry.get("certainty") or "").lower()
            order = _CERTAINTY_ORDER
            return order.index(certainty) if certainty in order else len(order)

        emails.sort(key=rank)
        if not emails:
            return SearchResult(None, None)
        best = emails[0]
        return SearchResult(best.get("email"), best.get("certainty"), self.cost)
