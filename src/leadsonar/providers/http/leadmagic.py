"""LeadMagic: the Email Finder (``POST /v1/people/email-finder``).

Written from LeadMagic's documentation: https://leadmagic.io/docs/reference/email-finder (request
``first_name``, ``last_name``, ``domain`` or ``company_name``; answer ``email``, ``status``,
``credits_consumed``; the status vocabulary; 1 credit per email found, no-result lookups free)
and https://leadmagic.io/docs/v1/making-api-calls (``X-API-Key`` header; RFC 9457 errors: 400,
401 invalid key, 402 insufficient credits, 404, 429 with ``Retry-After``, 5xx; IETF
``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` headers; Email Finder limit).

Settings: ``LEADSONAR_LEADMAGIC_API_KEY``, ``LEADSONAR_LEADMAGIC_BASE_URL``
(default ``https://api.leadmagic.io``).

``status`` → finding:

| LeadMagic status | verification | confidence | LeadMagic's own description |
|---|---|---|---|
| ``valid`` | valid | medium | "always a result of a mail-server validation" |
| ``valid_catch_all`` | accept_all | low | catch-all domain, engagement data seen |
| ``catch_all`` | accept_all | low | catch-all domain, "requires further validation" |
| ``unknown`` | unknown | low | |
| ``not_found``, ``invalid`` | — (not an answer) | — | |

Errors: 401 → bad key; 402 → out of credits; 429 → throttled (``Retry-After``); 404 → not
found; 5xx → server error. Documented limit: 300 requests/minute for the Email Finder on the
current plans (3,000/minute on older ones); the ``RateLimit-*`` headers are honoured. Cost: the
answer's ``credits_consumed`` (1 per email found).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    Verification,
)
from leadsonar.providers.http.base import HttpProvider, Verdict


class LeadMagicProvider(HttpProvider):
    """LeadMagic's Email Finder."""

    name = "leadmagic"
    fields = frozenset({"email"})
    doc_url = "https://leadmagic.io/docs/reference/email-finder"
    default_rates = "300/minute"
    default_concurrency = 10
    default_cost = 1.0
    statuses: ClassVar[Mapping[str, Verdict | None]] = {
        "valid": Verdict(Verification.VALID, Confidence.MEDIUM),
        "valid_catch_all": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
        "catch_all": Verdict(Verification.ACCEPT_ALL, Confidence.LOW),
        "unknown": Verdict(Verification.UNKNOWN, Confidence.LOW),
        "not_found": None,
        "invalid": None,
    }

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        """The Email Finder's answer; ``None`` for ``not_found`` or a 404.

        Raises:
            ProviderError: mapped as in the module docstring.
        """
        body: dict[str, Any] = {"first_name": person.first_name, "last_name": person.last_name}
        if company.domain:
            body["domain"] = company.domain
        elif company.name:
            body["company_name"] = company.name
        else:
            return None
        answer = await self.call(ctx, "POST", "/v1/people/email-finder", json=body)
        if not isinstance(answer, dict):
            return None
        consumed = answer.get("credits_consumed")
        if isinstance(consumed, int | float) and not isinstance(consumed, bool):
            ctx.spend(float(consumed))
        return self.email_finding(answer.get("email"), answer.get("status"))
