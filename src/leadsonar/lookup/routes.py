"""HTTP routes for single lookups.

The hot routes: the key was authenticated (and rate-limited) by
:class:`~leadsonar.accounts.edge.AuthFirstMiddleware` before the body was read, so they take the
principal from the request (:func:`~leadsonar.accounts.dependencies.authenticated`) instead of
through FastAPI dependencies; the body is validated from its bytes and the answer serialized by
pydantic-core (:class:`~leadsonar.kit.json_route.JsonBodyRoute`; the ``response_model``
documents the answer).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from leadsonar.accounts.dependencies import SECURITY, authenticated
from leadsonar.kit.json_route import JsonBodyRoute
from leadsonar.kit.openapi import errors
from leadsonar.lookup.schemas import EmailAnswer, PersonLookup, PhoneAnswer
from leadsonar.lookup.verify import VerifyAnswer, VerifyRequest

router = APIRouter(tags=["lookup"], route_class=JsonBodyRoute)


def _json(answer: BaseModel) -> Response:
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/find-email",
    response_model=EmailAnswer,
    responses=errors(400, 402),
    openapi_extra=SECURITY,
)
async def find_email(body: PersonLookup, request: Request) -> Response:
    """Find a verified work email for a person. Costs 1 credit."""
    services, principal = await authenticated(request)
    return _json(await services.lookup.find_email(principal.account_id, body))


@router.post(
    "/find-phone", response_model=PhoneAnswer, responses=errors(400, 402), openapi_extra=SECURITY
)
async def find_phone(body: PersonLookup, request: Request) -> Response:
    """Find a direct-dial phone number for a person. Costs 1 credit."""
    services, principal = await authenticated(request)
    return _json(await services.lookup.find_phone(principal.account_id, body))


@router.post(
    "/verify-email", response_model=VerifyAnswer, responses=errors(400, 402), openapi_extra=SECURITY
)
async def verify_email(body: VerifyRequest, request: Request) -> Response:
    """Check whether an address is deliverable: valid, invalid, accept_all or unknown.
    Costs 1 credit."""
    services, principal = await authenticated(request)
    return _json(await services.verify.verify(principal.account_id, body))
