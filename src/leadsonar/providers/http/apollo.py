"""Apollo: People Enrichment (``POST /api/v1/people/match``) for emails and phones.

Written from Apollo's API documentation: https://docs.apollo.io/reference/people-enrichment
(``x-api-key`` header; ``first_name``, ``last_name``, ``domain``/``organization_name``; the
``person`` object or ``null`` when nothing matched; credits charged only when data is returned,
1 for demographics or email, 8 more for a mobile phone; phones revealed through
``reveal_phone_number`` are delivered later to a webhook), https://docs.apollo.io/reference/
bulk-people-enrichment (up to 10 people per request) and
https://docs.apollo.io/reference/rate-limits (fixed windows per minute/hour/day shown in
``x-minute-requests-left``, ``x-hourly-requests-left``, ``x-daily-requests-left``; 429 when
exceeded; the documented example plan allows 50/minute, 100/hour, 300/day).

Settings: ``LEADSONAR_APOLLO_API_KEY``, ``LEADSONAR_APOLLO_BASE_URL``
(default ``https://api.apollo.io``).

``person.email_status`` → finding:

| Apollo status | verification | confidence |
|---|---|---|
| ``verified`` | valid | medium |
| ``extrapolated``, ``guessed`` | guessed | low |
| ``likely to engage``, ``unknown`` | unknown | low |
| ``unavailable``, ``bounced``, ``pending_manual_fulfillment`` | — (not an answer) | — |

A locked email comes back as ``email_not_unlocked@domain.com``: a placeholder, never an answer
(FC-30). Phones: the matched person's ``phone_numbers`` (``sanitized_number``) with Apollo's
``type`` mapped to ours (``mobile`` → mobile, ``work_direct`` → direct, ``work_hq`` → office),
confidence medium; LeadSonar does not ask for ``reveal_phone_number`` because Apollo delivers
those numbers to a webhook minutes later.

Company search (company names without a website, :meth:`ApolloProvider.company_domains`): the
Organization Search by ``q_organization_name``; an entry counts only when its name is the
company's.

Errors: 401 → bad key; 403 → bad key (the key may not call this endpoint); 402, or 422/429 whose
text speaks of credits → out of credits; other 429 → throttled (``Retry-After``; an exhausted
``x-*-requests-left`` window rests the provider until it resets); 5xx → server error. Default
pace: 50/minute (raise it with ``LEADSONAR_PROVIDER_LIMITS`` to your plan's figure). Cost: 1
credit per email match, 8 more for a mobile. One contact's email and phone lookups share one
people/match request (kept 60 seconds per person and company), so a contact is charged once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from leadsonar.domains.companies.sources import same_company_name
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderError,
    ProviderQuotaExceeded,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    Verdict,
    error_details,
    lookup_key,
    mentions_quota,
)

_PHONE_KINDS = {"mobile": "mobile", "work_direct": "direct", "work_hq": "office", "other": None}
_WINDOWS = (
    ("x-minute-requests-left", 60.0),
    ("x-hourly-requests-left", 3600.0),
    ("x-daily-requests-left", 86400.0),
)


@dataclass
class _Match:
    """One people/match answer, reused by the email and phone lookups of one contact."""

    person: dict[str, Any]
    mobile_charged: bool = False


class ApolloProvider(HttpProvider):
    """Apollo's People Enrichment: work email, and a phone when Apollo returns one."""

    name = "apollo"
    fields = frozenset({"email", "phone"})
    doc_url = "https://docs.apollo.io/reference/people-enrichment"
    default_rates = "50/minute"
    default_concurrency = 5
    default_cost = 1.0
    phone_cost = 9.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "verified": Verdict(Verification.VALID, Confidence.MEDIUM),
        "extrapolated": Verdict(Verification.GUESSED, Confidence.LOW),
        "guessed": Verdict(Verification.GUESSED, Confidence.LOW),
        "likely to engage": Verdict(Verification.UNKNOWN, Confidence.LOW),
        "unknown": Verdict(Verification.UNKNOWN, Confidence.LOW),
        "unavailable": None,
        "bounced": None,
        "pending_manual_fulfillment": None,
    }

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key, "Content-Type": "application/json"}

    def rest_hint(self, response: httpx.Response) -> float | None:
        for header, seconds in reversed(_WINDOWS):
            left = response.headers.get(header)
            if left is not None and left.strip() == "0":
                return seconds
        return super().rest_hint(response)

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        if response.status_code in (422, 429) and mentions_quota(error_details(body)):
            return ProviderQuotaExceeded("apollo account is out of credits")
        return super().classify(response, body)

    async def _match(self, person: Person, company: Company, ctx: LookupContext) -> _Match | None:
        """The matched person, asked once per person and company: the email and the phone
        lookups of one contact share one paid request (:meth:`HttpProvider.reuse`)."""
        if not company.domain and not company.name:
            return None
        return await self.reuse(
            lookup_key(person, company), lambda: self._ask(person, company, ctx)
        )

    async def _ask(self, person: Person, company: Company, ctx: LookupContext) -> _Match | None:
        body: dict[str, Any] = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "reveal_personal_emails": False,
        }
        if company.domain:
            body["domain"] = company.domain
        if company.name:
            body["organization_name"] = company.name
        answer = await self.call(ctx, "POST", "/api/v1/people/match", json=body)
        found = answer.get("person") if isinstance(answer, dict) else None
        if not isinstance(found, dict):
            return None
        ctx.spend(self.cost)  # a match is charged (demographics or email) even without an email
        return _Match(found)

    async def company_domains(self, company: str, ctx: LookupContext | None = None) -> list[str]:
        """Domains of the organisations Apollo's Organization Search finds by name
        (``POST /api/v1/mixed_companies/search`` with ``q_organization_name``,
        https://docs.apollo.io/reference/organization-search): each ``organizations[]`` or
        ``accounts[]`` entry whose ``name`` is the company gives its ``primary_domain`` (else
        its ``website_url``). The company resolver verifies them before use.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        answer = await self.call(
            ctx or LookupContext(),
            "POST",
            "/api/v1/mixed_companies/search",
            json={"q_organization_name": company, "page": 1, "per_page": 5},
        )
        if not isinstance(answer, dict):
            return []
        found: list[str] = []
        for key in ("accounts", "organizations"):
            for entry in answer.get(key) or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    continue
                if not same_company_name(company, entry["name"]):
                    continue
                site = entry.get("primary_domain") or entry.get("website_url")
                if isinstance(site, str) and site.strip():
                    found.append(site.strip())
        return list(dict.fromkeys(found))

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The matched person's work email; ``None`` when unmatched, locked or unavailable.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        matched = await self._match(person, company, ctx)
        if matched is None:
            return None
        found = matched.person
        return self.email_finding(found.get("email"), found.get("email_status"))

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The matched person's best phone (mobile, then direct, then office); ``None`` if
        Apollo returned none."""
        matched = await self._match(person, company, ctx)
        if matched is None:
            return None
        found = matched.person
        numbers = [n for n in found.get("phone_numbers") or [] if isinstance(n, dict)]
        order = ("mobile", "work_direct", "work_hq", "other")
        numbers.sort(key=lambda n: order.index(n.get("type")) if n.get("type") in order else 9)
        for entry in numbers:
            kind = _PHONE_KINDS.get(str(entry.get("type") or ""))
            finding = self.phone_finding(
                entry.get("sanitized_number") or entry.get("raw_number"),
                kind,
                Confidence.MEDIUM,
                phone_type=entry.get("type"),
            )
            if finding is not None:
                if kind == "mobile" and not matched.mobile_charged:
                    matched.mobile_charged = True
                    ctx.spend(self.phone_cost_value - self.cost)
                return finding
        return None
