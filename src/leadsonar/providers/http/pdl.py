"""People Data Labs: Person Enrichment (``GET /v5/person/enrich``) for emails and phones.

Written from PDL's documentation:
https://docs.peopledatalabs.com/docs/reference-person-enrichment-api (the endpoint; 200 with the
person when matched, 404 when not; billed per match; 100/minute for free and 1,000/minute for
paying customers; bulk enrichment up to 100 records), https://docs.peopledatalabs.com/docs/errors
(``{"status", "error": {"type", "message"}}``), and the troubleshooting pages
https://docs.peopledatalabs.com/support/troubleshooting/out-of-credits (402
``payment_required``, the ``x-totallimit-remaining`` header) and
https://docs.peopledatalabs.com/support/troubleshooting/rate-limit-errors (429
``rate_limit_error``, fixed windows, ``x-ratelimit-remaining`` / ``x-ratelimit-reset``).

Settings: ``LEADSONAR_PDL_API_KEY``, ``LEADSONAR_PDL_BASE_URL``
(default ``https://api.peopledatalabs.com``).

PDL does not verify mailboxes; its answer is a matched record with a ``likelihood`` (1–10), so
the status table is by likelihood:

| PDL answer | verification | confidence |
|---|---|---|
| ``data.work_email`` (a string), likelihood ≥ 8 | published | medium |
| ``data.work_email``, likelihood < 8 | published | low |
| ``work_email`` = ``true`` (the plan may not see it), a placeholder | — (not an answer) | — |
| 404 | — (not found) | — |

Company search (company names without a website, :meth:`PeopleDataLabsProvider.company_domains`):
Company Enrichment by ``name`` gives the matched company's ``website``.

Phones: ``data.mobile_phone`` (kind mobile), else the first valid ``data.phone_numbers`` entry
(kind from libphonenumber), confidence as for emails. Errors: 401/403 → bad key; 402 → out of
credits; 429 → throttled (``Retry-After``, or the ``x-ratelimit-reset`` time when
``x-ratelimit-remaining`` shows an empty window); 400 → rejected; 5xx → server error. Default
pace: 100/minute (the free tier; set your plan's with ``LEADSONAR_PROVIDER_LIMITS``). Cost: 1
credit per match (the ``x-call-credits-spent`` header when present). One contact's email and
phone lookups share one enrich request (kept 60 seconds per person and company).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from leadsonar.domains.companies.sources import same_company_name
from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    Verification,
)
from leadsonar.providers.http.base import HttpProvider, Verdict, lookup_key

_MATCH_WELL = 8  # PDL likelihood from which a match counts as one good source


def _reset_seconds(raw: str | None) -> float | None:
    if not raw:
        return None
    text = raw.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError):
            try:
                value = float(text)
            except ValueError:
                return None
            return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
    return max(0.0, when - time.time())


class PeopleDataLabsProvider(HttpProvider):
    """PDL's Person Enrichment: work email and phones of the matched record."""

    name = "pdl"
    fields = frozenset({"email", "phone"})
    doc_url = "https://docs.peopledatalabs.com/docs/reference-person-enrichment-api"
    default_rates = "100/minute"
    default_concurrency = 10
    default_cost = 1.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "likely": Verdict(Verification.PUBLISHED, Confidence.MEDIUM),
        "possible": Verdict(Verification.PUBLISHED, Confidence.LOW),
    }

    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.api_key}

    def rest_hint(self, response: httpx.Response) -> float | None:
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining:
            try:
                windows = json.loads(remaining)
            except ValueError:
                windows = None
            values = windows.values() if isinstance(windows, dict) else [windows]
            if any(isinstance(v, int | float) and v <= 0 for v in values):
                return _reset_seconds(response.headers.get("x-ratelimit-reset")) or 60.0
            return None
        return super().rest_hint(response)

    async def _enrich(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> tuple[dict[str, Any], str] | None:
        """The matched record and its likelihood band, asked once per person and company: the
        email and phone lookups of one contact share one paid request."""
        where = company.domain or company.name
        if not where:
            return None
        return await self.reuse(lookup_key(person, company), lambda: self._ask(person, where, ctx))

    async def _ask(
        self, person: Person, where: str, ctx: LookupContext
    ) -> tuple[dict[str, Any], str] | None:
        response = await self.request(
            ctx,
            "GET",
            "/v5/person/enrich",
            params={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "company": where,
            },
        )
        answer = self.answer(response)
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            return None
        spent = response.headers.get("x-call-credits-spent")
        try:
            ctx.spend(float(spent) if spent is not None else self.cost)
        except ValueError:
            ctx.spend(self.cost)
        likelihood = answer.get("likelihood")
        band = (
            "likely"
            if isinstance(likelihood, int | float) and likelihood >= _MATCH_WELL
            else "possible"
        )
        return answer["data"], band

    async def company_domains(self, company: str, ctx: LookupContext | None = None) -> list[str]:
        """The ``website`` of the company PDL's Company Enrichment matches by name
        (``GET /v5/company/enrich`` with ``name``,
        https://docs.peopledatalabs.com/docs/reference-company-enrichment-api: 200 with the
        company's fields at the top level, 404 when nothing matched). Billed per match. The
        company resolver verifies the website before use.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        ctx = ctx or LookupContext()
        answer = await self.call(ctx, "GET", "/v5/company/enrich", params={"name": company})
        if not isinstance(answer, dict):
            return []
        website = answer.get("website")
        if not isinstance(website, str) or not website.strip():
            return []
        names = [answer.get("display_name"), answer.get("name")]
        if any(isinstance(n, str) for n in names) and not any(
            isinstance(n, str) and same_company_name(company, n) for n in names
        ):
            return []
        ctx.spend(self.cost)
        return [website.strip()]

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The matched record's work email; ``None`` on 404 or when PDL withholds it.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        matched = await self._enrich(person, company, ctx)
        if matched is None:
            return None
        data, band = matched
        return self.email_finding(data.get("work_email"), band)

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The matched record's mobile, else its first valid phone; ``None`` if none."""
        matched = await self._enrich(person, company, ctx)
        if matched is None:
            return None
        data, band = matched
        verdict = self.verdict(band)
        confidence = verdict.confidence if verdict else Confidence.LOW
        mobile = self.phone_finding(data.get("mobile_phone"), "mobile", confidence)
        if mobile is not None:
            return mobile
        for number in data.get("phone_numbers") or []:
            finding = self.phone_finding(number, None, confidence)
            if finding is not None:
                return finding
        return None
