"""``/suppressions`` (add, list, lift) and ``DELETE /contacts?email=`` (erasure)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.deps import WorkDep
from leadsonar.exceptions import NotFound
from leadsonar.kit.emails import normalise_email
from leadsonar.suppressions import service

router = APIRouter(tags=["privacy"])


class SuppressionIn(BaseModel):
    """Exactly one of ``email`` and ``domain``; ``reason`` is a note for yourself."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(default=None, max_length=320)
    domain: str | None = Field(default=None, max_length=253)
    reason: str | None = Field(default=None, max_length=300)


class SuppressionOut(BaseModel):
    kind: str
    email: str | None = None
    domain: str | None = None
    reason: str | None = None
    createdAt: str | None = None


class SuppressionList(BaseModel):
    suppressions: list[SuppressionOut]


class ErasureOut(BaseModel):
    email: str
    erased: dict[str, int]
    suppressed: bool


@router.post("/suppressions", response_model=SuppressionOut, status_code=201)
async def add_suppression(
    body: SuppressionIn, work: WorkDep, principal: Principal = Depends(current_principal)
) -> JSONResponse:
    """Suppress an address or a domain (and its subdomains): never returned, never probed, in
    every account. Free."""
    kind, value = service.parse_target(body.email, body.domain)
    entry = await service.add(await work.writing(), principal.account_id, kind, value, body.reason)
    return JSONResponse(entry.as_json(), status_code=201)


@router.get("/suppressions", response_model=SuppressionList)
async def list_suppressions(
    work: WorkDep, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """The suppressions this account added, newest first."""
    rows = await service.entries(await work.reading(), principal.account_id)
    return {"suppressions": [row.as_json() for row in rows]}


@router.delete("/suppressions", status_code=204)
async def lift_suppression(
    work: WorkDep,
    principal: Principal = Depends(current_principal),
    email: Annotated[str | None, Query(max_length=320)] = None,
    domain: Annotated[str | None, Query(max_length=253)] = None,
) -> None:
    """Lift one of this account's suppressions: ``?email=`` or ``?domain=``."""
    kind, value = service.parse_target(email, domain)
    if not await service.remove(await work.writing(), principal.account_id, kind, value):
        raise NotFound(f"This account has no suppression of {value!r}.")


@router.delete("/contacts", response_model=ErasureOut)
async def erase_contact(
    work: WorkDep,
    email: Annotated[str, Query(min_length=1, max_length=320)],
    principal: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Erase a person (GDPR Art. 17): their address leaves imported contacts, caches and
    stored job results, and is suppressed for good."""
    address = normalise_email(email, allow_reserved=True)
    report = await service.erase(await work.writing(), address)
    return {"email": address, "erased": report.as_json(), "suppressed": True}
