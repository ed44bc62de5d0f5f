"""Prospeo: the Enrich Person endpoint (``POST /enrich-person``) for emails and mobiles.

Written from Prospeo's API documentation: https://prospeo.io/api-docs/enrich-person (request
with ``data`` datapoints, ``only_verified_email``, ``enrich_mobile``; credits: 1 per match, 10
with a mobile, nothing when no match, nothing for a record enriched before),
https://prospeo.io/api-docs/authentication (``X-KEY`` header, POST only, every response has an
``error`` flag; 400 error, 401 invalid key, 429 rate limit) and
https://prospeo.io/api-docs/person-object (the ``person.email`` / ``person.mobile`` objects).

Settings: ``LEADSONAR_PROSPEO_API_KEY``, ``LEADSONAR_PROSPEO_BASE_URL``
(default ``https://api.prospeo.io``).

``person.email.status`` → finding:

| Prospeo status | verification | confidence |
|---|---|---|
| ``VERIFIED`` (``VALID`` in the older Email Finder) | valid | medium |
| ``CATCH_ALL`` | accept_all | low |
| ``UNVERIFIED``, ``RISKY`` | guessed | low |
| ``INVALID``, ``UNAVAILABLE`` | — (not an answer) | — |

An email whose ``revealed`` is false is masked and is no answer. ``person.mobile`` (status
``VERIFIED``) answers phones, kind ``mobile``.

Errors, from the ``error_code`` in the body (Prospeo answers them with 400): ``NO_MATCH`` → not
found; ``INSUFFICIENT_CREDITS`` → out of credits; ``INVALID_API_KEY`` (or 401) → bad key;
``ACCOUNT_RESTRICTED`` → bad key (the account cannot be used); ``RATE_LIMITED`` /
``RATE_LIMIT_EXCEEDED`` (or 429) → throttled; ``INVALID_DATAPOINTS`` / ``INVALID_REQUEST`` →
rejected request; ``INTERNAL_ERROR`` / 5xx → server error. Limits depend on the plan; the
``x-minute-request-left`` / ``x-minute-reset-seconds`` and ``x-daily-request-left`` /
``x-daily-reset-seconds`` headers are honoured, and the default pace is a conservative
5/second, 300/minute. Batch: ``/bulk-enrich-person`` takes up to 50 records (not used for single
lookups). Cost: 1 credit per email match, 10 with a mobile.
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
    ProviderAuthError,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    ProviderRejectedRequest,
    ProviderServerError,
    Verdict,
    json_or_none,
    retry_after_seconds,
)


class ProspeoProvider(HttpProvider):
    """Prospeo's Enrich Person: work email, or mobile when a phone is asked for."""

    name = "prospeo"
    fields = frozenset({"email", "phone"})
    doc_url = "https://prospeo.io/api-docs/enrich-person"
    default_rates = "5/second,300/minute"
    default_concurrency = 5
    default_cost = 1.0
    phone_cost = 10.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "verified": Verdict(Verification.VALID, Confidence.MEDIUM),
        "valid": Verdict(Verification.VALID, Confidence.MEDIUM),
        "catch_all": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
        "unverified": Verdict(Verification.GUESSED, Confidence.LOW),
        "risky": Verdict(Verification.GUESSED, Confidence.LOW),
        "invalid": None,
        "unavailable": None,
    }

    def auth_headers(self) -> dict[str, str]:
        return {"X-KEY": self.api_key, "Content-Type": "application/json"}

    def rest_hint(self, response: httpx.Response) -> float | None:
        for window in ("minute", "daily"):
            left = response.headers.get(f"x-{window}-request-left")
            if left is not None and left.strip() in ("0", "0.0"):
                reset = response.headers.get(f"x-{window}-reset-seconds")
                try:
                    return float(reset) if reset is not None else 60.0
                except ValueError:
                    return 60.0
        return super().rest_hint(response)

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        code = str(body.get("error_code") or "").upper() if isinstance(body, dict) else ""
        if code == "NO_MATCH":
            return None  # read as not found by _person
        if code == "INSUFFICIENT_CREDITS":
            return ProviderQuotaExceeded("prospeo account is out of credits")
        if code in ("INVALID_API_KEY", "ACCOUNT_RESTRICTED"):
            return ProviderAuthError("prospeo rejected the key")
        if code in ("RATE_LIMITED", "RATE_LIMIT_EXCEEDED"):
            return ProviderThrottled(
                "prospeo throttled the request", retry_after_seconds(response.headers)
            )
        if code == "INTERNAL_ERROR":
            return ProviderServerError("prospeo had an internal error")
        if code in ("INVALID_DATAPOINTS", "INVALID_REQUEST"):
            return ProviderRejectedRequest("prospeo refused the request")
        return super().classify(response, body)

    async def _person(
        self, person: Person, company: Company, mobile: bool, ctx: LookupContext
    ) -> dict[str, Any] | None:
        data: dict[str, Any] = {"first_name": person.first_name, "last_name": person.last_name}
        if company.domain:
            data["company_website"] = company.domain
        if company.name:
            data["company_name"] = company.name
        if not company.domain and not company.name:
            return None
        response = await self.request(
            ctx,
            "POST",
            "/enrich-person",
            json={"only_verified_email": False, "enrich_mobile": mobile, "data": data},
        )
        raw = json_or_none(response)
        if isinstance(raw, dict) and str(raw.get("error_code") or "").upper() == "NO_MATCH":
            return None
        body = self.answer(response)
        found = body.get("person") if isinstance(body, dict) else None
        if not isinstance(found, dict):
            return None
        if not body.get("free_enrichment"):
            revealed_mobile = isinstance(found.get("mobile"), dict) and found["mobile"].get(
                "revealed"
            )
            ctx.spend(self.phone_cost_value if revealed_mobile else self.cost)
        return found

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The person's work email from Enrich Person; ``None`` on ``NO_MATCH``.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        found = await self._person(person, company, mobile=False, ctx=ctx)
        block = found.get("email") if found else None
        if not isinstance(block, dict) or block.get("revealed") is False:
            return None
        return self.email_finding(block.get("email"), block.get("status"))

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The person's mobile from Enrich Person (``enrich_mobile``); ``None`` when absent."""
        found = await self._person(person, company, mobile=True, ctx=ctx)
        block = found.get("mobile") if found else None
        if not isinstance(block, dict) or block.get("revealed") is False:
            return None
        if str(block.get("status") or "").upper() not in ("VERIFIED", "VALID", ""):
            return None
        number = block.get("mobile_international") or block.get("mobile")
        return self.phone_finding(
            number, "mobile", Confidence.MEDIUM, region=block.get("mobile_country_code")
        )
