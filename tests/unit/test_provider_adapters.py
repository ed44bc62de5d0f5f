"""Every bring-your-own-key adapter against recorded-shape answers (written from each provider's
public docs, cited in the adapter's module docstring), served by ``respx``: found, not found,
catch-all/unverified, bad key, out of credits, throttled with and without ``Retry-After``,
malformed JSON, timeout, server error, FC-30 (a placeholder address is no email) and FC-31 (a 429
with ``{"errors": […]}`` and no data is "throttled", never a crash); for the submit-then-poll
providers, still processing then done, and a deadline while processing is a timeout, never "not
found". No request leaves the process: respx refuses anything unmocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from leadsonar.providers.base import (
    CallContext,
    Company,
    Confidence,
    LookupContext,
    Person,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderQuotaExceeded,
    ProviderThrottled,
    ProviderTimeout,
    Verification,
)
from leadsonar.providers.declarative import DeclarativeProvider, DeclarativeSpec
from leadsonar.providers.http.apollo import ApolloProvider
from leadsonar.providers.http.base import HttpProvider, ProviderServerError
from leadsonar.providers.http.dropcontact import DropcontactProvider
from leadsonar.providers.http.findymail import FindymailProvider
from leadsonar.providers.http.hunter import HunterProvider
from leadsonar.providers.http.icypeas import IcypeasProvider
from leadsonar.providers.http.leadmagic import LeadMagicProvider
from leadsonar.providers.http.lusha import LushaProvider
from leadsonar.providers.http.pdl import PeopleDataLabsProvider
from leadsonar.providers.http.prospeo import ProspeoProvider

pytestmark = pytest.mark.asyncio

ALEX = Person("Alex", "Johnson")
NOTION = Company("notion.so", "Notion")
EMAIL = "alex.johnson@notion.so"
PLACEHOLDER = "email_not_unlocked@domain.com"  # FC-30
FC31_BODY = {"errors": [{"code": 429, "message": "Too many requests, slow down."}]}  # FC-31


def r(status: int = 200, json: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=json, headers=headers)


@dataclass
class Spec:
    """How one adapter is called and what its provider answers (recorded shapes).

    ``answer`` routes serve answers (the poll route for submit-then-poll providers); errors are
    served on ``submit`` (the first request). ``submit_ok`` is the accepted-search answer of an
    async provider.
    """

    name: str
    make: Callable[[httpx.AsyncClient], HttpProvider]
    answer: tuple[str, str]
    found: Any
    not_found: httpx.Response
    unverified: Any | None  # the body of a catch-all/unverified answer (None: not applicable)
    unverified_as: Verification
    placeholder: Any
    bad_key: httpx.Response
    out_of_credits: httpx.Response
    throttled: httpx.Response  # without Retry-After
    submit: tuple[str, str] | None = None
    submit_ok: Any = None
    not_ready: Any = None
    found_as: Verification = Verification.VALID
    found_confidence: Confidence = Confidence.MEDIUM
    credits_stage: str = "submit"  # where "out of credits" is answered
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def first(self) -> tuple[str, str]:
        return self.submit or self.answer

    def mount(self, router: respx.MockRouter, *, answer: Any = None, first: Any = None) -> None:
        """Route answers: ``first`` on the first request (errors), ``answer`` on the answer
        route (a body, a response, a list of responses, or an exception)."""
        if first is not None:
            _route(router, self.first, first)
            if self.submit is not None and answer is None:
                return
        elif self.submit is not None:
            _route(router, self.submit, r(200, self.submit_ok))
        if answer is not None:
            _route(router, self.answer, answer)


def _route(router: respx.MockRouter, where: tuple[str, str], what: Any) -> None:
    route = router.route(method=where[0], path=where[1])
    if isinstance(what, list):
        route.side_effect = list(what)
    elif isinstance(what, Exception | type):
        route.side_effect = what
    elif isinstance(what, httpx.Response):
        route.mock(return_value=what)
    else:
        route.mock(return_value=r(200, what))


def _hunter(email: Any = EMAIL, status: Any = "valid") -> dict[str, Any]:
    return {
        "data": {
            "first_name": "Alex",
            "last_name": "Johnson",
            "email": email,
            "score": 97,
            "domain": "notion.so",
            "accept_all": status == "accept_all",
            "position": "Engineer",
            "sources": [{"domain": "notion.so", "uri": "https://notion.so/team"}],
            "verification": {"date": "2025-01-10", "status": status},
        },
        "meta": {"params": {"first_name": "Alex", "last_name": "Johnson", "domain": "notion.so"}},
    }


def _prospeo(email: Any = EMAIL, status: str = "VERIFIED") -> dict[str, Any]:
    return {
        "error": False,
        "free_enrichment": False,
        "person": {
            "person_id": "aaaacd817619fba3d254cd64",
            "first_name": "Alex",
            "last_name": "Johnson",
            "full_name": "Alex Johnson",
            "email": {
                "status": status,
                "revealed": True,
                "email": email,
                "verification_method": "SMTP",
                "email_mx_provider": "Google",
            },
            "mobile": {"status": "UNAVAILABLE", "revealed": False},
        },
        "company": {"name": "Notion", "website": "notion.so"},
    }


def _leadmagic(email: Any = EMAIL, status: str = "valid") -> dict[str, Any]:
    return {
        "email": email,
        "status": status,
        "credits_consumed": 1 if email else 0,
        "message": "Valid email found." if status == "valid" else "Email found.",
        "first_name": "Alex",
        "last_name": "Johnson",
        "domain": "notion.so",
        "mx_record": "aspmx.l.google.com",
        "mx_provider": "Google Workspace",
        "company_name": "Notion",
    }


def _icypeas(status: str = "DEBITED", email: Any = EMAIL, certainty: str = "ultra_sure") -> Any:
    emails = (
        []
        if email is None
        else [
            {
                "email": email,
                "certainty": certainty,
                "mxRecords": ["google.com"],
                "mxProvider": "google",
            }
        ]
    )
    return {
        "success": True,
        "items": [
            {
                "name": "__icypeas__individual",
                "user": "USER_ID",
                "results": {
                    "firstname": "Alex",
                    "lastname": "Johnson",
                    "gender": "UNKNOWN",
                    "fullname": "Alex Johnson",
                    "emails": emails,
                    "phones": [],
                    "saasServices": [],
                },
                "order": 0,
                "status": status,
                "userData": {"webhookUrl": "", "externalId": ""},
                "_id": "p_gfS5EB4liCGm90KDFC",
            }
        ],
        "total": 1,
    }


def _dropcontact(emails: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "data": [
            {
                "civility": "M",
                "first_name": "Alex",
                "last_name": "Johnson",
                "full_name": "Alex Johnson",
                "email": emails,
                "phone": "+33 1 23 45 67 89",
                "website": "notion.so",
            }
        ],
        "error": False,
        "success": True,
        "credits_left": 15276,
    }


def _apollo(email: Any = EMAIL, status: str = "verified") -> dict[str, Any]:
    return {
        "person": {
            "id": "587cf802f65125cad923a266",
            "first_name": "Alex",
            "last_name": "Johnson",
            "name": "Alex Johnson",
            "email": email,
            "email_status": status,
            "phone_numbers": [
                {
                    "raw_number": "+1 415-555-0192",
                    "sanitized_number": "+14155550192",
                    "type": "work_direct",
                    "position": 0,
                    "status": "valid_number",
                }
            ],
            "organization": {"name": "Notion", "primary_domain": "notion.so"},
        }
    }


def _pdl(email: Any = EMAIL, likelihood: int = 9) -> dict[str, Any]:
    return {
        "status": 200,
        "likelihood": likelihood,
        "data": {
            "full_name": "alex johnson",
            "first_name": "alex",
            "last_name": "johnson",
            "work_email": email,
            "mobile_phone": "+14155550192",
            "phone_numbers": ["+14155550192"],
            "job_company_website": "notion.so",
        },
    }


def _lusha(email: Any = EMAIL, grade: str = "A+") -> dict[str, Any]:
    return {
        "contact": {
            "data": {
                "firstName": "Alex",
                "lastName": "Johnson",
                "fullName": "Alex Johnson",
                "phoneNumbers": [
                    {"number": "+1 415-555-0192", "phoneType": "direct", "doNotCall": False},
                    {"number": "+1 415-555-0101", "phoneType": "mobile", "doNotCall": True},
                ],
                "emailAddresses": [
                    {"email": email, "emailType": "work", "emailConfidence": grade},
                ],
                "company": {"name": "Notion", "domain": "notion.so"},
            },
            "isCreditCharged": True,
        }
    }


def _make(cls: type[HttpProvider], **kwargs: Any) -> Callable[[httpx.AsyncClient], HttpProvider]:
    def make(http: httpx.AsyncClient) -> HttpProvider:
        provider = cls(http, SecretStr("k-secret"), f"https://{cls.name}.provider.test", **kwargs)
        provider.poll_interval = 0.01
        if isinstance(provider, DropcontactProvider):
            provider.batch_window = 0.01
        return provider

    return make


DECLARATIVE = DeclarativeSpec(
    fields=["email", "phone"],
    method="POST",
    url="{base_url}/v1/find",
    body={"first": "{first_name}", "last": "{last_name}", "domain": "{domain}"},
    email_path="data.email",
    phone_path="data.phone",
    status_path="data.status",
    statuses={"valid": "medium", "catch_all": "low", "invalid": "none"},
    verification={"valid": "valid", "catch_all": "accept_all"},
    cost=2.0,
    api_key=SecretStr("k-secret"),
    base_url="https://acme.provider.test",
)


def _declarative(http: httpx.AsyncClient) -> HttpProvider:
    return DeclarativeProvider("acme", DECLARATIVE, http)


SPECS = [
    Spec(
        "hunter",
        _make(HunterProvider),
        ("GET", "/email-finder"),
        found=_hunter(),
        not_found=r(200, _hunter(email=None, status=None)),
        unverified=_hunter(status="accept_all"),
        unverified_as=Verification.ACCEPT_ALL,
        placeholder=_hunter(email=PLACEHOLDER),
        bad_key=r(
            401,
            {
                "errors": [
                    {
                        "id": "authentication_failed",
                        "code": 401,
                        "details": "No user found for the API key supplied",
                    }
                ]
            },
        ),
        out_of_credits=r(
            429,
            {
                "errors": [
                    {
                        "id": "too_many_requests",
                        "code": 429,
                        "details": "You have reached your usage limit. "
                        "Upgrade your plan if necessary.",
                    }
                ]
            },
        ),
        throttled=r(
            403,
            {
                "errors": [
                    {"id": "rate_limit", "code": 403, "details": "You have reached the rate limit."}
                ]
            },
        ),
    ),
    Spec(
        "prospeo",
        _make(ProspeoProvider),
        ("POST", "/enrich-person"),
        found=_prospeo(),
        not_found=r(400, {"error": True, "error_code": "NO_MATCH"}),
        unverified=_prospeo(status="CATCH_ALL"),
        unverified_as=Verification.ACCEPT_ALL,
        placeholder=_prospeo(email=PLACEHOLDER),
        bad_key=r(401, {"error": True, "error_code": "INVALID_API_KEY"}),
        out_of_credits=r(400, {"error": True, "error_code": "INSUFFICIENT_CREDITS"}),
        throttled=r(429, {"error": True, "error_code": "RATE_LIMITED"}),
    ),
    Spec(
        "leadmagic",
        _make(LeadMagicProvider),
        ("POST", "/v1/people/email-finder"),
        found=_leadmagic(),
        not_found=r(200, _leadmagic(email=None, status="not_found")),
        unverified=_leadmagic(status="catch_all"),
        unverified_as=Verification.ACCEPT_ALL,
        placeholder=_leadmagic(email=PLACEHOLDER),
        bad_key=r(
            401,
            {
                "type": "about:blank",
                "title": "Unauthorized",
                "status": 401,
                "detail": "Invalid API key",
            },
        ),
        out_of_credits=r(
            402,
            {
                "type": "about:blank",
                "title": "Payment Required",
                "status": 402,
                "detail": "Insufficient credits",
            },
        ),
        throttled=r(429, {"type": "about:blank", "title": "Too Many Requests", "status": 429}),
    ),
    Spec(
        "findymail",
        _make(FindymailProvider),
        ("POST", "/api/search/name"),
        found={"contact": {"name": "Alex Johnson", "domain": "notion.so", "email": EMAIL}},
        not_found=r(200, {"contact": None}),
        unverified=None,  # Findymail returns only addresses it verified
        unverified_as=Verification.VALID,
        placeholder={
            "contact": {"name": "Alex Johnson", "domain": "notion.so", "email": PLACEHOLDER}
        },
        bad_key=r(401, {"message": "Unauthenticated."}),
        out_of_credits=r(200, {"error": "Not enough credits"}),  # a 200 with the error inside
        throttled=r(429, {"message": "Too Many Attempts."}),
    ),
    Spec(
        "icypeas",
        _make(IcypeasProvider),
        ("POST", "/api/bulk-single-searchs/read"),
        submit=("POST", "/api/email-search"),
        submit_ok={"success": True, "item": {"status": "NONE", "_id": "p_gfS5EB4liCGm90KDFC"}},
        not_ready=_icypeas("IN_PROGRESS", email=None),
        found=_icypeas(),
        not_found=r(200, _icypeas("NOT_FOUND", email=None)),
        unverified=_icypeas(certainty="very_sure"),
        unverified_as=Verification.ACCEPT_ALL,
        placeholder=_icypeas(email=PLACEHOLDER),
        bad_key=r(401, {"success": False, "message": "Unauthorized"}),
        out_of_credits=r(200, _icypeas("INSUFFICIENT_FUNDS", email=None)),
        credits_stage="answer",
        throttled=r(429, {"success": False, "message": "Too many requests"}),
    ),
    Spec(
        "dropcontact",
        _make(DropcontactProvider),
        ("GET", "/v1/enrich/all/qzmxkpvlrtdnhwa"),
        submit=("POST", "/v1/enrich/all"),
        submit_ok={
            "credits_left": 15277,
            "request_id": "qzmxkpvlrtdnhwa",
            "error": False,
            "success": True,
        },
        not_ready={
            "error": False,
            "reason": "Request not ready yet, try again in 30 seconds",
            "success": False,
        },
        found=_dropcontact(
            [
                {"email": EMAIL, "qualification": "nominative@pro"},
                {"email": "contact@notion.so", "qualification": "generic@pro"},
            ]
        ),
        not_found=r(
            200, _dropcontact([{"email": "contact@notion.so", "qualification": "generic@pro"}])
        ),
        unverified=_dropcontact([{"email": EMAIL, "qualification": "catch_all@pro"}]),
        unverified_as=Verification.ACCEPT_ALL,
        placeholder=_dropcontact([{"email": PLACEHOLDER, "qualification": "nominative@pro"}]),
        bad_key=r(401, {"error": True, "reason": "Invalid token", "success": False}),
        out_of_credits=r(
            403, {"error": True, "reason": "You don't have enough credits", "success": False}
        ),
        throttled=r(429, {"error": True, "reason": "Too many requests", "success": False}),
    ),
    Spec(
        "apollo",
        _make(ApolloProvider),
        ("POST", "/api/v1/people/match"),
        found=_apollo(),
        not_found=r(200, {"person": None}),
        unverified=_apollo(status="guessed"),
        unverified_as=Verification.GUESSED,
        placeholder=_apollo(email=PLACEHOLDER),
        bad_key=r(401, {"error": "Invalid access credentials.", "error_code": "INVALID_API_KEY"}),
        out_of_credits=r(422, {"error": "You have insufficient credits to complete this request."}),
        throttled=r(
            429,
            {
                "message": "The maximum number of api calls allowed for "
                "api/v1/people/match is 50 times per minute."
            },
        ),
    ),
    Spec(
        "pdl",
        _make(PeopleDataLabsProvider),
        ("GET", "/v5/person/enrich"),
        found=r(200, _pdl(), {"x-call-credits-spent": "1"}),
        not_found=r(
            404, {"status": 404, "error": {"type": "not_found", "message": "No records were found"}}
        ),
        unverified=_pdl(likelihood=5),
        unverified_as=Verification.PUBLISHED,
        found_as=Verification.PUBLISHED,
        placeholder=_pdl(email=True),  # PDL's "the field exists but your plan cannot see it"
        bad_key=r(
            401,
            {
                "status": 401,
                "error": {"type": "authentication_error", "message": "API key is invalid"},
            },
        ),
        out_of_credits=r(
            402,
            {
                "status": 402,
                "error": {"type": "payment_required", "message": "Account maximum reached"},
            },
        ),
        throttled=r(
            429, {"status": 429, "error": {"type": "rate_limit_error", "message": "Too quick"}}
        ),
    ),
    Spec(
        "lusha",
        _make(LushaProvider),
        ("GET", "/v2/person"),
        found=_lusha(),
        not_found=r(
            200,
            {
                "contact": {
                    "data": None,
                    "error": {
                        "code": 3,
                        "name": "EMPTY_DATA",
                        "message": "Could not find requested data",
                    },
                    "isCreditCharged": False,
                }
            },
        ),
        unverified=_lusha(grade="B"),
        unverified_as=Verification.GUESSED,
        placeholder=_lusha(email=PLACEHOLDER),
        bad_key=r(401, {"statusCode": 401, "message": "The API key is invalid", "errors": []}),
        out_of_credits=r(
            429,
            {
                "statusCode": 429,
                "message": "Daily API quota limit exceeded. Limit 1000 calls per day",
            },
        ),
        throttled=r(429, {"statusCode": 429, "message": "Too many requests"}),
    ),
    Spec(
        "acme (declarative)",
        _declarative,
        ("POST", "/v1/find"),
        found={"data": {"email": EMAIL, "status": "valid"}},
        not_found=r(404, {"error": "no match"}),
        unverified={"data": {"email": EMAIL, "status": "catch_all"}},
        unverified_as=Verification.ACCEPT_ALL,
        placeholder={"data": {"email": PLACEHOLDER, "status": "valid"}},
        bad_key=r(401, {"error": "bad key"}),
        out_of_credits=r(402, {"error": "no credits left"}),
        throttled=r(429, {"error": "slow down"}),
    ),
]
IDS = [s.name for s in SPECS]
ASYNC_SPECS = [s for s in SPECS if s.submit is not None]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def _base(spec: Spec, http: httpx.AsyncClient) -> tuple[HttpProvider, str]:
    provider = spec.make(http)
    return provider, provider.base_url


async def _find(provider: HttpProvider, context: CallContext | None = None) -> Any:
    try:
        return await provider.find_email(ALEX, NOTION, LookupContext(call=context or CallContext()))
    finally:
        await provider.aclose()


def _answer(spec: Spec, body: Any) -> Any:
    """The answer route's replies: for async providers "still processing" first."""
    if spec.not_ready is None:
        return body
    done = body if isinstance(body, httpx.Response) else r(200, body)
    return [r(200, spec.not_ready), done]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_found_is_a_finding_with_the_status_table_verdict(
    spec: Spec, http: httpx.AsyncClient
) -> None:
    provider, base = _base(spec, http)
    context = CallContext()
    with respx.mock(base_url=base) as router:
        spec.mount(router, answer=_answer(spec, spec.found))
        finding = await _find(provider, context)
    assert finding is not None
    assert finding.value == EMAIL
    assert finding.verification is spec.found_as
    assert finding.confidence is spec.found_confidence
    assert finding.provider == provider.name
    assert context.spent > 0, "an answered lookup records the provider-side credits it cost"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_not_found_is_none(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, answer=_answer(spec, spec.not_found))
        assert await _find(provider) is None


@pytest.mark.parametrize(
    "spec",
    [s for s in SPECS if s.unverified is not None],
    ids=[s.name for s in SPECS if s.unverified is not None],
)
async def test_catch_all_or_unverified_is_only_low(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, answer=_answer(spec, spec.unverified))
        finding = await _find(provider)
    assert finding is not None
    assert finding.verification is spec.unverified_as
    assert finding.confidence is Confidence.LOW


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_fc30_placeholder_address_is_no_email(spec: Spec, http: httpx.AsyncClient) -> None:
    """FC-30: ``email_not_unlocked@domain.com`` (or PDL's ``true``) is never an address."""
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, answer=_answer(spec, spec.placeholder))
        assert await _find(provider) is None


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_fc31_429_with_errors_and_no_data_is_throttled(
    spec: Spec, http: httpx.AsyncClient
) -> None:
    """FC-31: a 429 with ``{"errors": […]}`` and no ``data`` is throttled, not a KeyError."""
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=r(429, FC31_BODY))
        with pytest.raises(ProviderThrottled) as caught:
            await _find(provider)
    assert caught.value.retry_after is None


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_bad_key_is_an_auth_error(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=spec.bad_key)
        with pytest.raises(ProviderAuthError) as caught:
            await _find(provider)
    assert "k-secret" not in str(caught.value)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_out_of_credits_is_a_quota_error(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        if spec.credits_stage == "answer":
            spec.mount(router, answer=spec.out_of_credits)
        else:
            spec.mount(router, first=spec.out_of_credits)
        with pytest.raises(ProviderQuotaExceeded):
            await _find(provider)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_throttled_with_retry_after(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    throttled = spec.throttled
    answer = httpx.Response(
        throttled.status_code,
        content=throttled.content,
        headers={"Content-Type": "application/json", "Retry-After": "30"},
    )
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=answer)
        with pytest.raises(ProviderThrottled) as caught:
            await _find(provider)
    assert caught.value.retry_after == 30


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_throttled_without_retry_after(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=spec.throttled)
        with pytest.raises(ProviderThrottled):
            await _find(provider)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_malformed_json_is_a_bad_response(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    broken = httpx.Response(
        200, content=b'{"data": {"email": ', headers={"Content-Type": "application/json"}
    )
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=broken)
        with pytest.raises(ProviderBadResponse):
            await _find(provider)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_timeout_is_a_timeout_never_not_found(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=httpx.ReadTimeout("timed out"))
        with pytest.raises(ProviderTimeout):
            await _find(provider)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_server_error_is_retriable(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, first=r(503, {"error": "maintenance"}))
        with pytest.raises(ProviderServerError):
            await _find(provider)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
async def test_key_travels_in_a_header_not_the_url(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(router, answer=_answer(spec, spec.found))
        await _find(provider)
        requests = [call.request for call in router.calls]
    assert requests
    for request in requests:
        assert "k-secret" not in str(request.url)
        assert any("k-secret" in value for value in request.headers.values())


@pytest.mark.parametrize("spec", ASYNC_SPECS, ids=[s.name for s in ASYNC_SPECS])
async def test_still_processing_then_done(spec: Spec, http: httpx.AsyncClient) -> None:
    provider, base = _base(spec, http)
    with respx.mock(base_url=base) as router:
        spec.mount(
            router,
            answer=[r(200, spec.not_ready), r(200, spec.not_ready), r(200, spec.found)],
        )
        finding = await _find(provider)
        polls = router.routes[1].call_count if len(router.routes) > 1 else 0
    assert finding is not None and finding.value == EMAIL
    assert polls == 3


@pytest.mark.parametrize("spec", ASYNC_SPECS, ids=[s.name for s in ASYNC_SPECS])
async def test_deadline_while_processing_is_a_timeout_and_a_retry_joins_the_search(
    spec: Spec, http: httpx.AsyncClient
) -> None:
    """A search still processing when the lookup's deadline passes is a timeout (never "not
    found"); asking the same lookup again joins the running search: submitted once, paid once."""
    provider, base = _base(spec, http)
    answers = [r(200, spec.not_ready)] * 30 + [r(200, spec.found)]
    with respx.mock(base_url=base) as router:
        spec.mount(router, answer=answers)
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await provider.find_email(ALEX, NOTION, LookupContext())
            finding = await provider.find_email(ALEX, NOTION, LookupContext())
        finally:
            await provider.aclose()
        submits = router.routes[0].call_count
    assert finding is not None and finding.value == EMAIL
    assert submits == 1


# -- adapter-specific rules ---------------------------------------------------------------------


async def test_hunter_verify_email_polls_202_and_maps_the_status(http: httpx.AsyncClient) -> None:
    provider = _make(HunterProvider)(http)
    valid = {
        "data": {
            "status": "valid",
            "result": "deliverable",
            "score": 100,
            "email": EMAIL,
            "accept_all": False,
        },
        "meta": {"params": {"email": EMAIL}},
    }
    invalid = {
        "data": {
            "status": "invalid",
            "result": "undeliverable",
            "score": 0,
            "email": "nobody@notion.so",
        }
    }
    with respx.mock(base_url=provider.base_url) as router:
        router.get("/email-verifier", params={"email": EMAIL}).mock(
            side_effect=[r(202, {"data": None}), r(200, valid)]
        )
        router.get("/email-verifier", params={"email": "nobody@notion.so"}).mock(
            return_value=r(200, invalid)
        )
        finding = await provider.verify_email(EMAIL)
        nobody = await provider.verify_email("nobody@notion.so")
    assert finding is not None
    assert (finding.verification, finding.confidence) == (Verification.VALID, Confidence.MEDIUM)
    assert nobody is None


async def test_hunter_uses_the_company_name_without_a_domain(http: httpx.AsyncClient) -> None:
    provider = _make(HunterProvider)(http)
    with respx.mock(base_url=provider.base_url) as router:
        route = router.get("/email-finder", params={"company": "Notion"}).mock(
            return_value=r(200, _hunter())
        )
        finding = await provider.find_email(ALEX, Company(None, "Notion"), LookupContext())
    assert finding is not None and route.called


async def test_hunter_429_speaking_of_usage_is_out_of_credits_and_403_is_throttle(
    http: httpx.AsyncClient,
) -> None:
    """Hunter throttles with 403 and signals the monthly quota with 429."""
    spec = SPECS[0]
    provider = spec.make(http)
    with respx.mock(base_url=provider.base_url) as router:
        router.get("/email-finder").mock(side_effect=[spec.out_of_credits, spec.throttled])
        with pytest.raises(ProviderQuotaExceeded):
            await provider.find_email(ALEX, NOTION, LookupContext())
        with pytest.raises(ProviderThrottled):
            await provider.find_email(ALEX, NOTION, LookupContext())


async def test_lusha_finds_the_direct_dial_first_and_reads_reset_in_from_the_message(
    http: httpx.AsyncClient,
) -> None:
    provider = _make(LushaProvider)(http)
    hourly = r(
        429,
        {
            "statusCode": 429,
            "message": "Hourly API rate limit exceeded. Limit: 150 "
            "calls per hour. Reset in 120 seconds",
        },
    )
    with respx.mock(base_url=provider.base_url) as router:
        router.get("/v2/person").mock(side_effect=[r(200, _lusha()), hourly])
        phone = await provider.find_phone(ALEX, NOTION, LookupContext())
        with pytest.raises(ProviderThrottled) as caught:  # another person: a new request
            await provider.find_phone(Person("Sam", "Lee"), NOTION, LookupContext())
    assert phone is not None
    assert (phone.value, phone.kind, phone.confidence) == (
        "+14155550192",
        "direct",
        Confidence.MEDIUM,
    )
    assert phone.evidence["do_not_call"] is False
    assert caught.value.retry_after == 120


async def test_lusha_phone_not_found_is_none_even_on_200(http: httpx.AsyncClient) -> None:
    spec = next(s for s in SPECS if s.name == "lusha")
    provider = spec.make(http)
    with respx.mock(base_url=provider.base_url) as router:
        router.get("/v2/person").mock(return_value=spec.not_found)
        assert await provider.find_phone(ALEX, NOTION, LookupContext()) is None


async def test_apollo_phone_maps_work_direct_and_never_reveals_by_webhook(
    http: httpx.AsyncClient,
) -> None:
    provider = _make(ApolloProvider)(http)
    with respx.mock(base_url=provider.base_url) as router:
        route = router.post("/api/v1/people/match").mock(return_value=r(200, _apollo()))
        phone = await provider.find_phone(ALEX, NOTION, LookupContext())
        sent = route.calls.last.request.content
    assert phone is not None and (phone.value, phone.kind) == ("+14155550192", "direct")
    assert b"reveal_phone_number" not in sent and b"webhook_url" not in sent


async def test_apollo_exhausted_minute_window_asks_for_a_rest(http: httpx.AsyncClient) -> None:
    provider = _make(ApolloProvider)(http)
    context = CallContext()
    with respx.mock(base_url=provider.base_url) as router:
        router.post("/api/v1/people/match").mock(
            return_value=r(
                200, _apollo(), {"x-minute-requests-left": "0", "x-hourly-requests-left": "40"}
            )
        )
        await _find(provider, context)
    assert context.rest_for == 60.0


async def test_pdl_phone_uses_the_mobile_and_the_rate_headers(http: httpx.AsyncClient) -> None:
    provider = _make(PeopleDataLabsProvider)(http)
    context = CallContext()
    with respx.mock(base_url=provider.base_url) as router:
        router.get("/v5/person/enrich").mock(
            return_value=r(
                200,
                _pdl(),
                {"x-ratelimit-remaining": '{"minute": 0}', "x-call-credits-spent": "1"},
            )
        )
        phone = await provider.find_phone(ALEX, NOTION, LookupContext(call=context))
    assert phone is not None and (phone.value, phone.kind) == ("+14155550192", "mobile")
    assert context.rest_for is not None and context.rest_for > 0
    assert context.spent == 1


async def test_prospeo_mobile_costs_ten_and_masked_email_is_no_answer(
    http: httpx.AsyncClient,
) -> None:
    provider = _make(ProspeoProvider)(http)
    with_mobile = _prospeo()
    with_mobile["person"]["mobile"] = {
        "status": "VERIFIED",
        "revealed": True,
        "mobile": "+1 415-555-0192",
        "mobile_international": "+1 415-555-0192",
        "mobile_country_code": "US",
    }
    masked = _prospeo(email="a***@notion.so")
    context = CallContext()
    ctx = LookupContext(call=context)
    with respx.mock(base_url=provider.base_url) as router:
        router.post("/enrich-person").mock(side_effect=[r(200, with_mobile), r(200, masked)])
        phone = await provider.find_phone(ALEX, NOTION, ctx)
        email = await provider.find_email(ALEX, NOTION, ctx)
    assert phone is not None and phone.value == "+14155550192" and phone.kind == "mobile"
    assert email is None
    assert context.spent == 11


async def test_dropcontact_lookups_arriving_together_share_one_batch(
    http: httpx.AsyncClient,
) -> None:
    """Lookups within the batch window go out as one request (up to 250 records) and one poll
    loop; each gets its own record back."""
    provider = _make(DropcontactProvider)(http)
    assert isinstance(provider, DropcontactProvider)
    provider.batch_window = 0.05
    people = [Person("Alex", "Johnson"), Person("Sam", "Lee"), Person("Kim", "Park")]
    records = [
        {
            "first_name": p.first_name,
            "last_name": p.last_name,
            "email": [
                {"email": f"{p.first_name.lower()}@notion.so", "qualification": "nominative@pro"}
            ],
        }
        for p in people
    ]
    with respx.mock(base_url=provider.base_url) as router:
        submit = router.post("/v1/enrich/all").mock(
            return_value=r(200, {"request_id": "batch1", "error": False, "success": True})
        )
        router.get("/v1/enrich/all/batch1").mock(
            return_value=r(200, {"data": records, "error": False, "success": True})
        )
        findings = await asyncio.gather(
            *(provider.find_email(p, NOTION, LookupContext()) for p in people)
        )
        sent = submit.calls.last.request
        await provider.aclose()
    assert submit.call_count == 1
    assert len(httpx.Response(200, content=sent.content).json()["data"]) == 3
    assert [f.value for f in findings if f] == ["alex@notion.so", "sam@notion.so", "kim@notion.so"]


async def test_dropcontact_chunks_to_its_batch_size(http: httpx.AsyncClient) -> None:
    provider = _make(DropcontactProvider)(http)
    assert isinstance(provider, DropcontactProvider)
    provider.batch_size, provider.batch_window = 2, 0.05
    people = [Person(f"P{i}", "Lee") for i in range(5)]

    def done(request: httpx.Request) -> httpx.Response:
        size = int(request.url.path.rsplit("-", 1)[1])
        return r(200, {"data": [{"email": []}] * size, "error": False, "success": True})

    sizes: list[int] = []

    def submit(request: httpx.Request) -> httpx.Response:
        size = len(httpx.Response(200, content=request.content).json()["data"])
        sizes.append(size)
        return r(200, {"request_id": f"b{len(sizes)}-{size}", "error": False, "success": True})

    with respx.mock(base_url=provider.base_url) as router:
        router.post("/v1/enrich/all").mock(side_effect=submit)
        router.get(path__startswith="/v1/enrich/all/").mock(side_effect=done)
        await asyncio.gather(*(provider.find_email(p, NOTION, LookupContext()) for p in people))
        await provider.aclose()
    assert sorted(sizes) == [1, 2, 2]


async def test_findymail_200_with_another_error_inside_is_a_bad_response(
    http: httpx.AsyncClient,
) -> None:
    provider = _make(FindymailProvider)(http)
    with respx.mock(base_url=provider.base_url) as router:
        router.post("/api/search/name").mock(return_value=r(200, {"error": "Something failed"}))
        with pytest.raises(ProviderBadResponse):
            await provider.find_email(ALEX, NOTION, LookupContext())


async def test_unconfigured_without_a_key_and_the_reason_names_the_setting(
    http: httpx.AsyncClient,
) -> None:
    provider = HunterProvider(http, None, "https://hunter.provider.test")
    assert provider.status_detail() == "missing LEADSONAR_HUNTER_API_KEY"
    blank = LushaProvider(http, SecretStr("  "), "https://lusha.provider.test")
    assert blank.status_detail() == "missing LEADSONAR_LUSHA_API_KEY"


# One paid answer carries both fields: the email and phone lookups of one contact share it.
BOTH_FIELDS = [
    pytest.param(ApolloProvider, "POST", "/api/v1/people/match", _apollo, id="apollo"),
    pytest.param(PeopleDataLabsProvider, "GET", "/v5/person/enrich", _pdl, id="pdl"),
    pytest.param(LushaProvider, "GET", "/v2/person", _lusha, id="lusha"),
]


async def _lookup(provider: HttpProvider, fld: str, person: Person = ALEX) -> Any:
    """One waterfall-style call: its own call context; returns (finding, context)."""
    context = CallContext()
    method = provider.find_email if fld == "email" else provider.find_phone
    return await method(person, NOTION, LookupContext(call=context)), context


@pytest.mark.parametrize(("cls", "method", "path", "body"), BOTH_FIELDS)
async def test_email_then_phone_of_one_contact_is_one_request_charged_once(
    cls: type[HttpProvider],
    method: str,
    path: str,
    body: Callable[[], dict[str, Any]],
    http: httpx.AsyncClient,
) -> None:
    provider = _make(cls)(http)
    with respx.mock(base_url=provider.base_url) as router:
        route = router.route(method=method, path=path).mock(return_value=r(200, body()))
        email, email_call = await _lookup(provider, "email")
        phone, phone_call = await _lookup(provider, "phone")
        assert route.call_count == 1
        other, _ = await _lookup(provider, "phone", Person("Sam", "Lee"))  # another person
        assert route.call_count == 2
    assert email is not None and email.value == EMAIL
    assert phone is not None and other is not None
    assert (email_call.requests, phone_call.requests) == (1, 0)
    assert email_call.spent == provider.cost
    assert phone_call.spent == 0  # work_direct/direct phones, and PDL's mobile: no extra charge


@pytest.mark.parametrize(("cls", "method", "path", "body"), BOTH_FIELDS)
async def test_email_and_phone_asked_together_share_one_request(
    cls: type[HttpProvider],
    method: str,
    path: str,
    body: Callable[[], dict[str, Any]],
    http: httpx.AsyncClient,
) -> None:
    provider = _make(cls)(http)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return r(200, body())

    with respx.mock(base_url=provider.base_url) as router:
        route = router.route(method=method, path=path).mock(side_effect=slow)
        (email, first), (phone, second) = await asyncio.gather(
            _lookup(provider, "email"), _lookup(provider, "phone")
        )
    assert route.call_count == 1
    assert email is not None and phone is not None
    assert first.spent + second.spent == provider.cost


@pytest.mark.parametrize(("cls", "method", "path", "body"), BOTH_FIELDS)
async def test_a_failed_answer_is_not_reused(
    cls: type[HttpProvider],
    method: str,
    path: str,
    body: Callable[[], dict[str, Any]],
    http: httpx.AsyncClient,
) -> None:
    provider = _make(cls)(http)
    with respx.mock(base_url=provider.base_url) as router:
        route = router.route(method=method, path=path).mock(
            side_effect=[r(503, {"error": "down"}), r(200, body())]
        )
        with pytest.raises(ProviderServerError):
            await _lookup(provider, "email")
        phone, context = await _lookup(provider, "phone")
    assert route.call_count == 2
    assert phone is not None and context.requests == 1


async def test_a_lookup_waiting_on_a_cancelled_call_asks_itself(http: httpx.AsyncClient) -> None:
    provider = _make(ApolloProvider)(http)
    sent: list[httpx.Request] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        await asyncio.sleep(0.2)
        return r(200, _apollo())

    with respx.mock(base_url=provider.base_url) as router:
        router.post("/api/v1/people/match").mock(side_effect=slow)
        first = asyncio.create_task(_lookup(provider, "email"))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(_lookup(provider, "phone"))
        await asyncio.sleep(0.01)
        first.cancel()  # the email lookup's deadline
        phone, context = await second
        with pytest.raises(asyncio.CancelledError):
            await first
    assert len(sent) == 2
    assert phone is not None and context.requests == 1 and context.spent == 1


async def test_apollo_mobile_is_charged_once_when_the_answer_is_reused(
    http: httpx.AsyncClient,
) -> None:
    provider = _make(ApolloProvider)(http)
    body = _apollo()
    body["person"]["phone_numbers"][0]["type"] = "mobile"
    with respx.mock(base_url=provider.base_url) as router:
        route = router.post("/api/v1/people/match").mock(return_value=r(200, body))
        _, email_call = await _lookup(provider, "email")
        phone, phone_call = await _lookup(provider, "phone")
        _, again = await _lookup(provider, "phone")  # a duplicate row within the minute
    assert route.call_count == 1
    assert phone is not None and phone.kind == "mobile"
    assert (email_call.spent, phone_call.spent, again.spent) == (1, 8, 0)


@pytest.mark.parametrize("helper", ["shared", "reuse"])
async def test_finished_lookups_are_dropped_after_keep(
    helper: str, http: httpx.AsyncClient
) -> None:
    provider = _make(IcypeasProvider)(http)
    run = getattr(provider, helper)

    async def work(*_own: LookupContext) -> None:  # shared() hands its own context
        return None

    for i in range(200):
        await run(f"person{i}|acme.com", work, keep=0.01)
    await asyncio.sleep(0.05)
    assert provider._inflight == {}
    await provider.aclose()
