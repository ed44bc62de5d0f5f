"""Bulk jobs over HTTP: ``POST /enrich``, ``POST /enrich/file``, ``GET /enrich``,
``GET /enrich/{jobId}``, ``POST /enrich/{jobId}/cancel``, ``GET /enrich/{jobId}/results.csv``,
``GET /enrich/{jobId}/deliveries`` (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from leadsonar.accounts.dependencies import current_principal
from leadsonar.accounts.service import Principal
from leadsonar.deps import ServicesDep, WorkDep
from leadsonar.enrichment import service
from leadsonar.enrichment.drafts import JobDraft, draft_from_table
from leadsonar.enrichment.export import stream_results
from leadsonar.enrichment.files import LeadTable, read_bytes
from leadsonar.enrichment.schemas import (
    EnrichRequest,
    FilePreview,
    JobAccepted,
    JobCancelled,
    JobList,
    JobStatus,
)
from leadsonar.exceptions import BadRequest, LeadSonarError
from leadsonar.kit.openapi import errors
from leadsonar.ledger.service import balance_of
from leadsonar.services import Services
from leadsonar.webhooks.schemas import DeliveryLog
from leadsonar.webhooks.service import check_webhook_url, delivery_log

router = APIRouter(tags=["enrichment"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 50,000 rows of a wide lead list fit comfortably


def _webhook(services: Services, url: str | None) -> str | None:
    return check_webhook_url(url, services.settings) if url else None


@router.post(
    "/enrich", response_model=JobAccepted, status_code=202, responses=errors(400, 402, 413)
)
async def enrich(
    body: EnrichRequest,
    services: ServicesDep,
    work: WorkDep,
    principal: Principal = Depends(current_principal),
) -> JSONResponse:
    """Start a bulk job (1 credit per contact per requested type, reserved now; a contact
    repeated in the job is looked up and charged once); poll ``GET /enrich/{jobId}`` for
    results, or give ``webhookUrl`` to be notified when it ends."""
    webhook = _webhook(services, body.webhookUrl)
    accepted = await service.submit(
        await work.writing(),
        principal.account_id,
        body,
        services.lookup.allow_reserved,
        webhook,
        enqueue=services.runner.enqueue,
    )
    work.after_commit(services.runner.wake)
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.post(
    "/enrich/file",
    response_model=JobAccepted | FilePreview,
    status_code=202,
    responses={
        200: {"model": FilePreview, "description": "dryRun=true: what the upload would do."},
        **errors(400, 402, 413),
    },
)
async def enrich_file(
    services: ServicesDep,
    work: WorkDep,
    file: Annotated[UploadFile, File(description="The CSV (UTF-8/UTF-16/Latin-1; , ; or tab).")],
    mode: Annotated[
        Literal["enrich", "verify"],
        Form(description="enrich: find emails/phones; verify: check the Email column."),
    ] = "enrich",
    findEmail: Annotated[bool, Form()] = True,
    findPhone: Annotated[bool, Form()] = False,
    webhookUrl: Annotated[str | None, Form()] = None,
    source: Annotated[Literal["file", "dashboard"], Form()] = "file",
    dryRun: Annotated[
        bool, Query(description="Only read the file: rows, column mapping, cost and balance.")
    ] = False,
    principal: Principal = Depends(current_principal),
) -> Any:
    """Start a job from an uploaded CSV (multipart field ``file``, at most 50,000 rows and
    20 MiB). Columns are found by their usual names (``First Name``, ``Company Name``,
    ``Website``, ``Email``, …); credits are reserved like ``POST /enrich`` (1 per row per type,
    1 per address to verify; repeats and unusable rows are free). ``dryRun=true`` answers 200
    with the preview the dashboard shows before the user starts the job."""
    if mode == "enrich" and not findEmail and not findPhone:
        raise BadRequest("Set findEmail or findPhone to true: there is nothing to find.")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise LeadSonarError(
            f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.", status_code=413
        )
    webhook = _webhook(services, webhookUrl)

    def read() -> tuple[LeadTable, JobDraft]:
        table = read_bytes(data, file.filename or "The file")
        return table, draft_from_table(
            table,
            kind=mode,
            find_email=findEmail,
            find_phone=findPhone,
            source=source,
            allow_reserved=services.lookup.allow_reserved,
            webhook_url=webhook,
        )

    # Decoding and checking 50,000 rows takes CPU seconds: not on the event loop.
    table, draft = await run_in_threadpool(read)
    if dryRun:
        balance = (await balance_of(await work.reading(), principal.account_id)).balance
        cost = draft.cost()
        skipped = [item.skipped for item in draft.items if item.skipped]
        preview_columns = ("firstname", "lastname", "company", "website", "email")
        preview = FilePreview(
            fileName=table.name,
            kind=mode,
            rows=len(draft.items),
            lookups=draft.lookups(),
            duplicates=sum(1 for d in draft.duplicates() if d is not None),
            skipped=len(skipped),
            skippedReasons=list(dict.fromkeys(skipped))[:5],
            columns=table.mapping(),
            header=table.header,
            encoding=table.encoding,
            delimiter=table.delimiter,
            credits_needed=cost,
            balance=balance,
            enough=balance >= cost,
            sample=[
                {
                    key: getattr(item, attr) or ""
                    for key, attr in zip(
                        preview_columns,
                        ("first_name", "last_name", "company_name", "website", "email"),
                        strict=True,
                    )
                }
                for item in draft.items[:5]
            ],
        )
        return JSONResponse(preview.model_dump(mode="json"), status_code=200)
    accepted = await service.store_job(
        await work.writing(), principal.account_id, draft, enqueue=services.runner.enqueue
    )
    work.after_commit(services.runner.wake)
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.get("/enrich", response_model=JobList, responses=errors(400))
async def list_jobs(
    work: WorkDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page.")] = 20,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
    principal: Principal = Depends(current_principal),
) -> JobList:
    """The account's jobs, newest first, ``limit`` at a time."""
    return await service.list_jobs(await work.reading(), principal.account_id, limit, cursor)


@router.get("/enrich/{job_id}", response_model=JobStatus, responses=errors(400, 404))
async def enrich_status(
    job_id: str,
    work: WorkDep,
    after: Annotated[
        int, Query(ge=-1, description="Only results with a greater position (paging).")
    ] = -1,
    limit: Annotated[
        int | None, Query(ge=1, le=10_000, description="At most this many results.")
    ] = None,
    principal: Principal = Depends(current_principal),
) -> JobStatus:
    """A job's status, ``completed`` count and finished results in input order (all of them,
    or a page with ``after``/``limit``)."""
    return await service.job_status(
        await work.reading(), principal.account_id, job_id, after=after, limit=limit
    )


@router.post("/enrich/{job_id}/cancel", response_model=JobCancelled, responses=errors(400, 404))
async def cancel(
    job_id: str, work: WorkDep, principal: Principal = Depends(current_principal)
) -> JobCancelled:
    """Stop a processing job: rows not yet worked are refunded in one ledger entry and the job
    ends ``cancelled`` (rows being looked up at that moment finish normally)."""
    return await service.cancel_job(await work.writing(), principal.account_id, job_id)


@router.get(
    "/enrich/{job_id}/results.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **errors(404)},
)
async def results_csv(
    job_id: str,
    services: ServicesDep,
    work: WorkDep,
    principal: Principal = Depends(current_principal),
) -> StreamingResponse:
    """The job's rows as CSV (input columns, then email, confidence, phone, type,
    companyPhone, verification, reason), streamed."""
    job = await service.load_job(await work.reading(), principal.account_id, job_id)
    return StreamingResponse(
        stream_results(services.db, job),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.id}.csv"'},
    )


@router.get("/enrich/{job_id}/deliveries", response_model=DeliveryLog, responses=errors(404))
async def deliveries(
    job_id: str, work: WorkDep, principal: Principal = Depends(current_principal)
) -> DeliveryLog:
    """The job's webhook delivery: its state and every attempt (time, HTTP status or error)."""
    session = await work.reading()
    await service.load_job(session, principal.account_id, job_id)
    return await delivery_log(session, job_id)
