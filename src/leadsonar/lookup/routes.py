"""HTTP routes for single lookups."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.kit.openapi import errors
from leadsonar.lookup.schemas import EmailAnswer, PersonLookup, PhoneAnswer
from leadsonar.lookup.verify import VerifyAnswer, VerifyRequest
from leadsonar.services import ServicesDep

router = APIRouter(tags=["lookup"])


@router.post(
    "/find-email",
    response_model=EmailAnswer,
    response_model_exclude_none=False,
    responses=errors(400, 402),
)
async def find_email(
    body: PersonLookup, services: ServicesDep, principal: Principal = Depends(current_principal)
) -> EmailAnswer:
    """Find a verified work email for a person. Costs 1 credit."""
    return await services.lookup.find_email(principal.account_id, body)


@router.post("/find-phone", response_model=PhoneAnswer, responses=errors(400, 402))
async def find_phone(
    body: PersonLookup, services: ServicesDep, principal: Principal = Depends(current_principal)
) -> PhoneAnswer:
    """Find a direct-dial phone number for a person. Costs 1 credit."""
    return await services.lookup.find_phone(principal.account_id, body)


@router.post("/verify-email", response_model=VerifyAnswer, responses=errors(400, 402))
async def verify_email(
    body: VerifyRequest, services: ServicesDep, principal: Principal = Depends(current_principal)
) -> VerifyAnswer:
    """Check whether an address is deliverable: valid, invalid, accept_all or unknown.
    Costs 1 credit."""
    return await services.verify.verify(principal.account_id, body)
