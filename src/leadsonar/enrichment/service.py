"""Bulk jobs: accept (validate, reserve credits, store job and items in the caller's
transaction), report progress, list, cancel. Functions take the caller's session and only
flush: the request edge (:class:`~leadsonar.services.UnitOfWork`) commits.

A job is either ``enrich`` (find emails and/or phones for people) or ``verify`` (check the
addresses of an ``Email`` column). Both come from ``POST /enrich`` (JSON) or
``POST /enrich/file`` (a CSV), through :class:`~leadsonar.enrichment.drafts.JobDraft`, whose
rules decide what is charged. Credits are reserved in the transaction that stores the job; the
repeat rows of a person get the first row's answer (``duplicateOf``) when it is finished
(:func:`answer_repeats`).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.enrichment import repository
from leadsonar.enrichment.drafts import ItemDraft, JobDraft, draft_from_request
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob, ItemState, JobState
from leadsonar.enrichment.schemas import (
    EnrichRequest,
    JobAccepted,
    JobCancelled,
    JobList,
    JobResult,
    JobStatus,
    JobSummary,
)
from leadsonar.exceptions import BadRequest, JobNotFound
from leadsonar.kit.db import as_utc
from leadsonar.kit.net.hostnames import display_domain
from leadsonar.kit.phones import display_from_e164
from leadsonar.ledger import service as ledger
from leadsonar.webhooks.service import schedule_delivery

CANCELLED_REASON = "The job was cancelled before this row was looked up."


def new_job_id() -> str:
    """``enr_`` and 20 random letters/digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "enr_" + "".join(secrets.choice(alphabet) for _ in range(20))


def _domain_detail(item: EnrichmentItem, key: str) -> str | None:
    """How the item's company name was resolved (``source``/``reason``), if it was."""
    found = (item.detail or {}).get("domain")
    value = found.get(key) if isinstance(found, dict) else None
    return str(value) if value else None


# Queues items inside the caller's transaction: ``JobRunner.enqueue`` (SQLite, a no-op: the
# embedded runner polls) or ``QueueRunner.enqueue`` (PostgreSQL, procrastinate).
Enqueue = Callable[[AsyncSession, Sequence[int]], Awaitable[None]]


def _initial_status(item: ItemDraft, duplicate: int | None) -> str:
    if item.skipped:
        return ItemState.DONE
    return ItemState.WAITING if duplicate is not None else ItemState.PENDING


async def store_job(
    session: AsyncSession, account_id: int, draft: JobDraft, *, enqueue: Enqueue
) -> JobAccepted:
    """Reserve the credits, store the job and its items and queue the items to work
    (``enqueue``: the rows ``pending``, not the skipped ones nor the repeats, which get their
    first row's answer) in the caller's transaction (a write session: the charge reads the
    balance before it writes). Every path that creates a job comes here, so on PostgreSQL
    every job's items reach the workers' queue.

    Raises:
        InsufficientCredits: the balance is below :meth:`JobDraft.cost` (402; nothing stored).
    """
    cost = draft.cost()
    job_id = new_job_id()
    now = datetime.now(UTC)
    duplicates = draft.duplicates()
    worked = any(not i.skipped and d is None for i, d in zip(draft.items, duplicates, strict=True))
    if cost:
        await ledger.charge(session, account_id, cost, draft.kind, job_id)
    job = EnrichmentJob(
        id=job_id,
        account_id=account_id,
        status=JobState.PROCESSING if worked else JobState.COMPLETED,
        total=len(draft.items),
        find_email=draft.find_email,
        find_phone=draft.find_phone,
        kind=draft.kind,
        source=draft.source,
        file_name=draft.file_name,
        input_columns=draft.input_columns,
        webhook_url=draft.webhook_url,
        created_at=now,
        finished_at=None if worked else now,
    )
    session.add(job)
    await session.flush()
    await repository.add_items(
        session,
        [
            {
                "job_id": job_id,
                "position": position,
                "first_name": item.first_name,
                "last_name": item.last_name,
                "website": item.website,
                "company_name": item.company_name,
                "email": item.email if draft.kind == "verify" else None,
                "input_cells": item.input_cells,
                "duplicate_of": None if item.skipped else duplicate,
                "status": _initial_status(item, duplicate),
                "reason": item.skipped,
                "error": "skipped" if item.skipped and not item.verification else None,
                "email_verification": item.verification,
                "finished_at": now if item.skipped else None,
                "sources": 0,
                "smtp_connections": 0,
                "smtp_rcpts": 0,
                "attempts": 0,
            }
            for position, (item, duplicate) in enumerate(zip(draft.items, duplicates, strict=True))
        ],
    )
    if worked:
        await enqueue(session, await repository.pending_ids(session, job_id))
    else:
        await schedule_delivery(session, job_id, draft.webhook_url)
    return JobAccepted(
        jobId=job_id,
        status=job.status,
        total=len(draft.items),
        message="Enrichment job started" if draft.kind == "enrich" else "Verification job started",
        credits_used=cost,
    )


async def submit(
    session: AsyncSession,
    account_id: int,
    body: EnrichRequest,
    allow_reserved: bool,
    webhook_url: str | None = None,
    *,
    enqueue: Enqueue,
) -> JobAccepted:
    """Validate every contact, then reserve the credits, store the job and its items and queue
    the items to work (``enqueue``), all in the caller's write session (``POST /enrich``).

    Raises:
        InvalidDomain: a contact's ``website`` is unusable (400 naming the contact; no job).
            A contact with ``companyName`` and no ``website`` is stored with an empty website;
            the runner resolves its company (once per distinct company).
        InsufficientCredits: the balance is below the cost (402; no job, nothing charged).
    """
    draft = draft_from_request(body, allow_reserved)
    draft.webhook_url = webhook_url
    return await store_job(session, account_id, draft, enqueue=enqueue)


async def load_job(session: AsyncSession, account_id: int, job_id: str) -> EnrichmentJob:
    """The account's job.

    Raises:
        JobNotFound: no such job for this account (another account's job included).
    """
    job = await repository.job_of(session, account_id, job_id)
    if job is None:
        raise JobNotFound(job_id)
    return job


def result_of(item: EnrichmentItem) -> JobResult:
    """The API form of a finished row."""
    return JobResult(
        firstName=item.first_name,
        lastName=item.last_name,
        email=item.email,
        phone=display_from_e164(item.phone) if item.phone else None,
        confidence=item.confidence,
        position=item.position,
        domain=display_domain(item.website) if item.website else None,
        domainSource=_domain_detail(item, "source") or ("website" if item.website else None),
        domainReason=_domain_detail(item, "reason"),
        sources=item.sources,
        phoneType=item.phone_type,
        provider=item.email_provider or item.phone_provider,
        verification=item.email_verification,
        reason=item.reason,
        companyPhone=display_from_e164(item.company_phone) if item.company_phone else None,
        duplicateOf=item.duplicate_of,
    )


async def job_status(
    session: AsyncSession,
    account_id: int,
    job_id: str,
    *,
    after: int = -1,
    limit: int | None = None,
) -> JobStatus:
    """The job's progress and its finished results in input order (``GET /enrich/{jobId}``,
    also the webhook's body).

    Args:
        after: only results whose ``position`` is greater (``-1``: from the first).
        limit: at most this many results (``None``: all), so a client can page through a
            50,000-row job instead of polling all of it; ``completed`` always counts them all.

    Raises:
        JobNotFound: no such job for this account (another account's job included).
    """
    job = await load_job(session, account_id, job_id)
    items = await repository.done_items(session, job_id, after, limit)
    completed = len(items)
    if limit is not None or after >= 0:
        completed = (await repository.done_counts(session, [job_id])).get(job_id, 0)
    connections, rcpts = await repository.smtp_totals(session, job_id)
    return JobStatus(
        jobId=job.id,
        status=job.status,
        total=job.total,
        completed=completed,
        results=[result_of(item) for item in items],
        smtpConnections=connections,
        smtpRcpts=rcpts,
        kind=job.kind,
        source=job.source,
        createdAt=as_utc(job.created_at),
        finishedAt=as_utc(job.finished_at),
    )


def _encode_cursor(job: EnrichmentJob) -> str:
    text = f"{job.created_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, job_id = text.partition("|")
        when = datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("cursor is not a cursor this API returned (take nextCursor).") from None
    if not job_id:
        raise BadRequest("cursor is not a cursor this API returned (take nextCursor).")
    return when, job_id


async def list_jobs(
    session: AsyncSession, account_id: int, limit: int, cursor: str | None
) -> JobList:
    """The account's jobs, newest first, ``limit`` at a time (``GET /enrich``).

    Raises:
        BadRequest: ``cursor`` was not made by this API.
    """
    before = None
    if cursor:
        when, job_id = _decode_cursor(cursor)
        before = (when if when.tzinfo else when.replace(tzinfo=UTC), job_id)
    jobs = await repository.jobs_page(session, account_id, before, limit + 1)
    more = len(jobs) > limit
    jobs = jobs[:limit]
    done = await repository.done_counts(session, [j.id for j in jobs])
    return JobList(
        jobs=[
            JobSummary(
                jobId=job.id,
                status=job.status,
                kind=job.kind,
                source=job.source,
                total=job.total,
                completed=done.get(job.id, 0),
                createdAt=as_utc(job.created_at),
                finishedAt=as_utc(job.finished_at),
                fileName=job.file_name,
                findEmail=job.find_email,
                findPhone=job.find_phone,
                webhookUrl=job.webhook_url,
            )
            for job in jobs
        ],
        nextCursor=_encode_cursor(jobs[-1]) if more and jobs else None,
    )


async def cancel_job(session: AsyncSession, account_id: int, job_id: str) -> JobCancelled:
    """Stop a processing job (``POST /enrich/{jobId}/cancel``): rows not yet worked end
    ``cancelled`` and their reserved credits come back in ONE ledger entry
    (``refund:cancel``, reference the job id); rows being looked up at this moment finish and
    keep their charge. The job ends ``cancelled`` and its webhook, if any, is sent. Runs in the
    caller's write session.

    Raises:
        JobNotFound: no such job for this account.
        BadRequest: the job already ended (completed, failed or cancelled).
    """
    now = datetime.now(UTC)
    # Locks the job row on PostgreSQL: the runner's finisher takes the same lock, so a job
    # cannot be completed and cancelled at once.
    job = await repository.job_of(session, account_id, job_id, lock=True)
    if job is None:
        raise JobNotFound(job_id)
    if job.status != JobState.PROCESSING:
        raise BadRequest(f"Job {job_id} is already {job.status}; there is nothing to cancel.")
    stopped = await repository.cancel_unworked(session, job_id, now, CANCELLED_REASON)
    unworked = sum(1 for duplicate in stopped if duplicate is None)
    per_item = 1 if job.kind == "verify" else int(job.find_email) + int(job.find_phone)
    refund = unworked * per_item
    if refund:
        await ledger.refund(session, account_id, refund, "refund:cancel", job_id)
    job.status = JobState.CANCELLED
    job.finished_at = now
    await schedule_delivery(session, job_id, job.webhook_url)
    return JobCancelled(
        jobId=job_id, status=JobState.CANCELLED, cancelled=len(stopped), credits_refunded=refund
    )


async def answer_repeats(session: AsyncSession, item: EnrichmentItem) -> None:
    """Give the rows that repeat ``item`` (``duplicate_of``) its answer, in the transaction
    that finishes it; cancelled repeats stay cancelled."""
    for repeat in await repository.waiting_repeats(session, item.job_id, item.position):
        for name in (
            "email",
            "confidence",
            "sources",
            "email_provider",
            "phone",
            "phone_type",
            "phone_provider",
            "email_verification",
            "reason",
            "company_phone",
            "error",
        ):
            setattr(repeat, name, getattr(item, name))
        repeat.status = ItemState.DONE
        repeat.finished_at = item.finished_at
