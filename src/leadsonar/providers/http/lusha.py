"""Lusha: Person API (``GET /v2/person``), a phone-first provider (direct dials and mobiles),
emails too.

Written from Lusha's documentation: https://docs.lusha.com/v2/api-reference/overview (base URL
``https://api.lusha.com``, the ``api_key`` header, 25 requests/second by default, 429 when
exceeded), https://docs.lusha.com/apis/v2/openapi/section/error-codes (401 invalid key, 402
payment required, 403 inactive account or plan, 412 bad name, 429 for the trial limit, the daily
quota **and** the hourly rate, 451 GDPR), https://docs.lusha.com/error-codes ("a 200 does not
always mean data was found": a contact that cannot be located comes back as HTTP 200 with an
``error`` object inside ``contact``; ``contact.isCreditCharged``) and
https://docs.lusha.com/user-guide/lushas-api/all-there-is-to-know-about-lushas-api (per-plan
limits).

Settings: ``LEADSONAR_LUSHA_API_KEY``, ``LEADSONAR_LUSHA_BASE_URL``
(default ``https://api.lusha.com``).

Phones (``contact.data.phoneNumbers[].phoneType``) → finding, confidence medium (Lusha's data is
one good source), ``doNotCall`` kept as evidence:

| Lusha phoneType | our kind |
|---|---|
| ``mobile`` | mobile |
| ``direct`` | direct |
| ``phone``, ``work``, anything else | office |

Emails (``emailAddresses[]``, only ``emailType`` ``work``) by ``emailConfidence``:

| emailConfidence | verification | confidence |
|---|---|---|
| ``A+``, ``A`` | valid | medium |
| ``B+``, ``B`` | guessed | low |
| anything else | unknown | low |

Errors: 401 → bad key; 402 → out of credits; 403 → bad key (account inactive or plan); **429 →
out of credits when the text speaks of the trial limit or the daily quota**, else throttled
(``Retry-After``); 412 → rejected; 451 and a 200 whose ``contact.error`` is set → not found.
Cost: 1 credit when ``isCreditCharged``. One contact's email and phone lookups share one
person request (kept 60 seconds per person and company).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderThrottled,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    Verdict,
    error_details,
    lookup_key,
    retry_after_seconds,
)

_KINDS = {"mobile": "mobile", "direct": "direct"}
_PHONE_ORDER = ("direct", "mobile")
_RESET_IN = re.compile(r"reset in (\d+(?:\.\d+)?) ?s")


class LushaProvider(HttpProvider):
    """Lusha's Person API: direct dials and mobiles first, work emails too."""

    name = "lusha"
    fields = frozenset({"phone", "email"})
    doc_url = "https://docs.lusha.com/v2/api-reference/overview"
    default_rates = "25/second"
    default_concurrency = 10
    default_cost = 1.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "a+": Verdict(Verification.VALID, Confidence.MEDIUM),
        "a": Verdict(Verification.VALID, Confidence.MEDIUM),
        "b+": Verdict(Verification.GUESSED, Confidence.LOW),
        "b": Verdict(Verification.GUESSED, Confidence.LOW),
    }

    def auth_headers(self) -> dict[str, str]:
        return {"api_key": self.api_key}

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        if response.status_code == 429:
            text = error_details(body)
            if "trial limit" in text or "quota" in text or "daily" in text:
                return ProviderQuotaExceeded("lusha quota reached")
            wait = retry_after_seconds(response.headers)
            if wait is None:  # "Hourly API rate limit exceeded … Reset in 120 seconds"
                said = _RESET_IN.search(text)
                wait = float(said.group(1)) if said else None
            return ProviderThrottled("lusha throttled the request", wait)
        return super().classify(response, body)

    async def _contact(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> dict[str, Any] | None:
        """The person's data, asked once per person and company: the email and phone lookups
        of one contact share one paid request."""
        if not company.domain and not company.name:
            return None
        return await self.reuse(
            lookup_key(person, company), lambda: self._ask(person, company, ctx)
        )

    async def _ask(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> dict[str, Any] | None:
        params: dict[str, Any] = {"firstName": person.first_name, "lastName": person.last_name}
        if company.domain:
            params["companyDomain"] = company.domain
        if company.name:
            params["companyName"] = company.name
        if not company.domain and not company.name:
            return None
        answer = await self.call(ctx, "GET", "/v2/person", params=params, not_found=(404, 451))
        contact = answer.get("contact") if isinstance(answer, dict) else None
        if not isinstance(contact, dict):
            return None
        if contact.get("isCreditCharged"):
            ctx.spend(self.cost)
        data = contact.get("data")
        if contact.get("error") or not isinstance(data, dict):
            return None
        return data

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The person's direct dial, else mobile, else office line; ``None`` if Lusha has none.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        data = await self._contact(person, company, ctx)
        if data is None:
            return None
        numbers = [n for n in data.get("phoneNumbers") or [] if isinstance(n, dict)]

        def rank(entry: dict[str, Any]) -> int:
            kind = str(entry.get("phoneType") or "").lower()
            return _PHONE_ORDER.index(kind) if kind in _PHONE_ORDER else len(_PHONE_ORDER)

        for entry in sorted(numbers, key=rank):
            kind = _KINDS.get(str(entry.get("phoneType") or "").lower(), "office")
            finding = self.phone_finding(
                entry.get("number") or entry.get("internationalNumber"),
                kind,
                Confidence.MEDIUM,
                region=entry.get("countryCode"),
                do_not_call=bool(entry.get("doNotCall")),
            )
            if finding is not None:
                return finding
        return None

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The person's work email, best ``emailConfidence`` first; ``None`` if none."""
        data = await self._contact(person, company, ctx)
        if data is None:
            return None
        emails = [
            e
            for e in data.get("emailAddresses") or []
            if isinstance(e, dict) and str(e.get("emailType") or "work").lower() == "work"
        ]
        grades = ("a+", "a", "b+", "b")
        emails.sort(
            key=lambda e: (
                grades.index(str(e.get("emailConfidence") or "").lower())
                if str(e.get("emailConfidence") or "").lower() in grades
                else len(grades)
            )
        )
        for entry in emails:
            finding = self.email_finding(entry.get("email"), entry.get("emailConfidence"))
            if finding is not None:
                return finding
        return None
