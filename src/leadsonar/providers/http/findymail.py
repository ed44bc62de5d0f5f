"""Findymail: find a work email from a name and a domain (``POST /api/search/name``).

Written from Findymail's API documentation, https://app.findymail.com/docs/ (``Authorization:
Bearer`` key; base URL ``https://app.findymail.com/``; "all endpoints have a concurrent rate
limit of 300 simultaneous requests"; the verifier's documented answer ``200 {"error": "Not
enough credits"}``, i.e. lost credits reported inside a 200).

Settings: ``LEADSONAR_FINDYMAIL_API_KEY``, ``LEADSONAR_FINDYMAIL_BASE_URL``
(default ``https://app.findymail.com``).

Findymail only returns addresses it has verified, so its answer has one row:

| Findymail answer | verification | confidence |
|---|---|---|
| ``{"contact": {"email": …}}`` | valid | medium |
| ``{"contact": null}``, no ``email``, 404 | — (not found) | — |

Errors: 401 → bad key; 402, 423 (subscription paused) or a 200 whose ``error`` mentions credits
→ out of credits; any other 200 with an ``error`` → bad response; 429 → throttled
(``Retry-After``); 5xx → server error. Limit: 300 requests in flight (no per-second rate is
documented). Cost: 1 finder credit per email found.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    Verdict,
    full_name,
    mentions_quota,
)


class FindymailProvider(HttpProvider):
    """Findymail's name + domain email finder."""

    name = "findymail"
    fields = frozenset({"email"})
    doc_url = "https://app.findymail.com/docs/"
    default_rates = ""
    default_concurrency = 300
    default_cost = 1.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "verified": Verdict(Verification.VALID, Confidence.MEDIUM)
    }

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        if response.status_code == 423:
            return ProviderQuotaExceeded("findymail subscription is paused")
        error = super().classify(response, body)
        if error is not None:
            return error
        message = body.get("error") if isinstance(body, dict) else None
        if message:
            text = str(message).lower()
            if mentions_quota(text):
                return ProviderQuotaExceeded("findymail account is out of credits")
            return ProviderBadResponse("findymail answered with an error")
        return None

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The verified address Findymail has for the person; ``None`` when it has none.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        where = company.domain or company.name
        if not where:
            return None
        body = await self.call(
            ctx, "POST", "/api/search/name", json={"name": full_name(person), "domain": where}
        )
        contact = body.get("contact") if isinstance(body, dict) else None
        if not isinstance(contact, dict) or not contact.get("email"):
            return None
        finding = self.email_finding(contact.get("email"), "verified")
        if finding is not None:
            ctx.spend(self.cost)
        return finding
