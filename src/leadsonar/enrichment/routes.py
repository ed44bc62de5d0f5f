"""``POST /enrich`` and ``GET /enrich/{jobId}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.enrichment import service
from leadsonar.enrichment.schemas import EnrichRequest, JobAccepted, JobStatus

router = APIRouter(tags=["enrichment"])


@router.post("/enrich", response_model=JobAccepted, status_code=202)
async def enrich(
    body: EnrichRequest, request: Request, principal: Principal = Depends(current_principal)
) -> JSONResponse:
    """Start a bulk job (1 credit per contact per requested type, reserved now); poll
    ``GET /enrich/{jobId}`` for results."""
    services = request.app.state.services
    accepted = await service.submit(
        services.db,
        principal.account_id,
        body,
        services.lookup.allow_reserved,
        enqueue=services.runner.enqueue,
    )
    services.runner.wake()
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.get("/enrich/{job_id}", response_model=JobStatus)
async def enrich_status(
    job_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> JobStatus:
    """A job's status, ``completed`` count and finished results in input order."""
    async with request.app.state.services.db.session() as session:
        return await service.job_status(session, principal.account_id, job_id)
