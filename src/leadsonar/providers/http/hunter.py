"""Hunter: the Email Finder (``GET /v2/email-finder``) and the Email Verifier
(``GET /v2/email-verifier``, :meth:`HunterProvider.verify_email`, for the verify-email route).

Written from Hunter's API documentation, https://hunter.io/api-documentation/v2 (endpoints,
``X-API-KEY`` header, status codes, the ``{"data", "meta"}`` / ``{"errors": […]}`` envelopes)
and https://help.hunter.io/en/articles/1911617-what-is-a-request-and-how-it-is-counted (one
search credit per email found; nothing is counted when no email is found).

Settings: ``LEADSONAR_HUNTER_API_KEY``, ``LEADSONAR_HUNTER_BASE_URL``
(default ``https://api.hunter.io/v2``).

Email Finder, ``data.verification.status`` → finding:

| Hunter status | verification | confidence | why |
|---|---|---|---|
| ``valid`` | valid | medium | Hunter's SMTP check accepted it: one good source (DESIGN §3) |
| ``accept_all`` | accept_all | low | the domain accepts every address: nothing proven |
| ``unknown`` | unknown | low | Hunter could not check |
| missing / ``null`` | guessed | low | a pattern guess Hunter did not verify |
| ``invalid``, ``disposable`` | — | — | not an answer |
| ``webmail`` | unknown | low | a personal mailbox, not proven to be the work one |

``data.email`` null (or a 404/451) is not found. Email Verifier ``data.status`` uses the same
table; 202 ("verification in progress") is polled, never read as an answer, and 222 ("the mail
server answered unexpectedly, retry later") is a transient failure.

Company search (for company names without a website, :meth:`HunterProvider.company_domains`):
the Domain Search by ``company`` gives ``data.domain`` for ``data.organization``.

Errors (Hunter's own codes): 401 → bad key; **403 → throttled** (Hunter's rate limit); **429 →
out of credits** ("you have reached your usage limit") — unless the error text speaks of rate
rather than usage, then throttled (FC-31); 5xx → server error; ``Retry-After`` is honoured when
present. Documented limits: Email Finder 15 requests/second and 500/minute; Email Verifier
10/second and 300/minute. Cost: 1 search credit per email found (misses are free).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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
    ProviderThrottled,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    ProviderServerError,
    Verdict,
    error_details,
    mentions_quota,
    retry_after_seconds,
)

_VALID = Verdict(Verification.VALID, Confidence.MEDIUM)


class HunterProvider(HttpProvider):
    """Hunter's Email Finder (and Email Verifier through :meth:`verify_email`)."""

    name = "hunter"
    fields = frozenset({"email"})
    doc_url = "https://hunter.io/api-documentation/v2"
    default_rates = "15/second,500/minute"
    default_concurrency = 15
    default_cost = 1.0
    default_poll_interval = 2.0
    extra_buckets: ClassVar[Mapping[str, str]] = {"hunter.verify": "10/second,300/minute"}
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "valid": _VALID,
        "accept_all": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
        "unknown": Verdict(Verification.UNKNOWN, Confidence.LOW),
        "": Verdict(Verification.GUESSED, Confidence.LOW),
        "webmail": Verdict(Verification.UNKNOWN, Confidence.LOW),
        "invalid": None,
        "disposable": None,
    }

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.api_key}

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        status = response.status_code
        if status == 403:
            return ProviderThrottled(
                "hunter rate limit reached", retry_after_seconds(response.headers)
            )
        if status == 429:
            if mentions_quota(error_details(body)):
                return ProviderQuotaExceeded("hunter usage limit reached")
            return ProviderThrottled(
                "hunter throttled the request", retry_after_seconds(response.headers)
            )
        if status == 222:
            return ProviderServerError("hunter could not finish the verification; retry later")
        return super().classify(response, body)

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """Ask the Email Finder; ``None`` when Hunter finds no address.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        params: dict[str, Any] = {
            "first_name": person.first_name,
            "last_name": person.last_name,
        }
        if company.domain:
            params["domain"] = company.domain
        elif company.name:
            params["company"] = company.name
        else:
            return None
        body = await self.call(ctx, "GET", "/email-finder", params=params, not_found=(404, 451))
        data = _data(body)
        if data is None or not data.get("email"):
            return None
        verification = data.get("verification") or {}
        status = verification.get("status") if isinstance(verification, dict) else None
        finding = self.email_finding(data.get("email"), status or "", score=data.get("score"))
        if finding is not None:
            ctx.spend(self.cost)
        return finding

    async def company_domains(self, company: str, ctx: LookupContext | None = None) -> list[str]:
        """The domain Hunter's Domain Search holds for a company name (``GET /domain-search``
        with ``company``, https://hunter.io/api-documentation/v2#domain-search): ``data.domain``
        when Hunter's ``data.organization`` is that company; empty when Hunter knows none.
        The company resolver verifies the domain before using it.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        body = await self.call(
            ctx or LookupContext(),
            "GET",
            "/domain-search",
            params={"company": company, "limit": 1},
            not_found=(404,),
        )
        data = _data(body)
        domain = data.get("domain") if data else None
        if not isinstance(domain, str) or not domain.strip():
            return []
        organization = data.get("organization") if data else None
        if isinstance(organization, str) and not same_company_name(company, organization):
            return []
        return [domain.strip()]

    async def verify_email(self, address: str, ctx: LookupContext | None = None) -> Finding | None:
        """Verify ``address`` with the Email Verifier, polling while Hunter answers 202.

        Returns:
            a finding judged by the status table (``valid`` → valid/medium, ``accept_all`` →
            accept_all/low, ``unknown``/``webmail`` → unknown/low), or ``None`` when Hunter
            judges the address ``invalid`` or ``disposable``.

        Raises:
            ProviderError: as :meth:`find_email`; the caller's deadline ends a verification
                that stays in progress (a timeout, never "invalid").
        """
        ctx = ctx if ctx is not None else LookupContext()
        while True:
            response = await self.request(
                ctx, "GET", "/email-verifier", params={"email": address}, bucket="hunter.verify"
            )
            if response.status_code == 202:
                await asyncio.sleep(self.poll_interval)
                continue
            data = _data(self.answer(response, not_found=(404, 451)))
            if data is None:
                return None
            finding = self.email_finding(
                data.get("email") or address,
                data.get("status") or "unknown",
                score=data.get("score"),
            )
            if data.get("status") in ("valid", "invalid", "accept_all"):
                ctx.spend(1.0)  # verifications of webmail/unknown/disposable are not counted
            return finding


def _data(body: Any) -> dict[str, Any] | None:
    """``body["data"]`` when it is an object; an error body without data is None."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return None
