"""Bulk jobs: accept (validate, reserve credits, store job and items in one transaction), report
progress, list, cancel.

A job is either ``enrich`` (find emails and/or phones for people) or ``verify`` (check the
addresses of an ``Email`` column). Both come from ``POST /enrich`` (JSON) or
``POST /enrich/file`` (a CSV), through :class:`JobDraft`.

Credits (spec: 1 per contact per requested type; 1 per verified address) are reserved for the
rows that will really be looked up: a person repeated in one job (same folded name at the same
domain or company; the same address for verification) is looked up once and charged once, and
the repeat rows get the first row's answer (``duplicateOf``); a file row that cannot be looked up
at all (no name, no usable website or company) is answered with its ``reason`` and not charged.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.companies import company_key
from leadsonar.domains.contacts import name_key
from leadsonar.enrichment.files import LeadTable
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.enrichment.schemas import (
    EnrichRequest,
    JobAccepted,
    JobCancelled,
    JobList,
    JobResult,
    JobStatus,
    JobSummary,
)
from leadsonar.exceptions import BadRequest, InvalidDomain, JobNotFound
from leadsonar.kit.db import Database
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.net.hostnames import display_domain, domain_from_website
from leadsonar.kit.phones import display_from_e164
from leadsonar.ledger import service as ledger
from leadsonar.webhooks.service import schedule_delivery

MAX_FILE_ROWS = 50_000
MAX_NAME = 100
MAX_COMPANY = 300
API_COLUMNS = ["firstName", "lastName", "website", "companyName"]
CANCELLED_REASON = "The job was cancelled before this row was looked up."


def new_job_id() -> str:
    """``enr_`` and 20 random letters/digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "enr_" + "".join(secrets.choice(alphabet) for _ in range(20))


@dataclass
class ItemDraft:
    """One input row. ``website`` is an A-label domain or ``""`` (look the company up);
    ``email`` is the address to check (verify jobs); ``skipped`` is why the row cannot be
    worked (answered at once, not charged)."""

    first_name: str = ""
    last_name: str = ""
    website: str = ""
    company_name: str | None = None
    email: str | None = None
    input_cells: list[str] | None = None
    skipped: str | None = None
    verification: str | None = None


@dataclass
class JobDraft:
    """A job before it is stored (see the module docstring for the credit rules)."""

    kind: str
    find_email: bool
    find_phone: bool
    source: str
    items: list[ItemDraft] = field(default_factory=list)
    file_name: str | None = None
    input_columns: list[str] | None = None
    webhook_url: str | None = None
    _duplicates: list[int | None] | None = field(default=None, repr=False)

    @property
    def per_item(self) -> int:
        """Credits per looked-up row: 1 for a verification, else 1 per requested type."""
        return 1 if self.kind == "verify" else int(self.find_email) + int(self.find_phone)

    def repeat_key(self, item: ItemDraft) -> str | None:
        if item.skipped:
            return None
        if self.kind == "verify":
            return item.email
        place = item.website or "company:" + company_key(item.company_name or "")
        return f"{name_key(item.first_name, item.last_name)}@{place}"

    def duplicates(self) -> list[int | None]:
        """For each item, the position of the earlier item it repeats (``None`` if none);
        computed once (the items must not change afterwards)."""
        if self._duplicates is not None and len(self._duplicates) == len(self.items):
            return self._duplicates
        first: dict[str, int] = {}
        out: list[int | None] = []
        for position, item in enumerate(self.items):
            key = self.repeat_key(item)
            if key is None:
                out.append(None)
            elif key in first:
                out.append(first[key])
            else:
                first[key] = position
                out.append(None)
        self._duplicates = out
        return out

    def lookups(self) -> int:
        """Rows that will really be looked up (not skipped, not repeats)."""
        return sum(
            1
            for item, dup in zip(self.items, self.duplicates(), strict=True)
            if not item.skipped and dup is None
        )

    def cost(self) -> int:
        return self.lookups() * self.per_item


def draft_from_request(body: EnrichRequest, allow_reserved: bool) -> JobDraft:
    """A draft from ``POST /enrich``'s body.

    Raises:
        InvalidDomain: a contact's ``website`` is unusable (400 naming the contact).
    """
    draft = JobDraft(
        kind="enrich",
        find_email=body.findEmail,
        find_phone=body.findPhone,
        source=body.source,
        input_columns=list(API_COLUMNS),
    )
    for index, contact in enumerate(body.contacts):
        try:
            domain = domain_from_website(contact.website, allow_reserved=allow_reserved)
        except InvalidDomain as exc:
            raise InvalidDomain(f"contacts[{index}].website: {exc.message}") from None
        draft.items.append(
            ItemDraft(
                first_name=contact.firstName,
                last_name=contact.lastName,
                website=domain,
                company_name=contact.companyName,
            )
        )
    return draft


class _Domains:
    """``domain_from_website`` remembered per distinct value: a lead list names the same few
    thousand companies again and again, and IDNA checks cost ~0.3 ms each."""

    def __init__(self, allow_reserved: bool) -> None:
        self.allow_reserved = allow_reserved
        self.seen: dict[str, str | InvalidDomain] = {}

    def __call__(self, website: str) -> str:
        answer = self.seen.get(website)
        if answer is None:
            try:
                answer = domain_from_website(website, allow_reserved=self.allow_reserved)
            except InvalidDomain as exc:
                answer = exc
            self.seen[website] = answer
        if isinstance(answer, InvalidDomain):
            raise answer
        return answer


def _enrich_row(record: dict[str, str], domains: _Domains) -> ItemDraft:
    first, last = record.get("firstname", ""), record.get("lastname", "")
    company = record.get("company", "")[:MAX_COMPANY] or None
    item = ItemDraft(first_name=first[:MAX_NAME], last_name=last[:MAX_NAME], company_name=company)
    if not first or not last:
        item.skipped = "Skipped: the row has no first name or no last name."
        return item
    website = record.get("website", "")
    if website:
        try:
            item.website = domains(website)
        except InvalidDomain as exc:
            if not company:
                item.skipped = f"Skipped: {exc.message}"
    elif not company:
        item.skipped = "Skipped: the row has neither a company nor a website."
    return item


def _verify_row(record: dict[str, str], domains: _Domains) -> ItemDraft:
    raw = record.get("email", "")
    item = ItemDraft(
        first_name=record.get("firstname", "")[:MAX_NAME],
        last_name=record.get("lastname", "")[:MAX_NAME],
        email=raw,
    )
    if not raw:
        item.skipped = "Skipped: the row has no email address."
        return item
    try:
        item.email = normalise_email(raw, allow_reserved=domains.allow_reserved)
        item.website = item.email.rpartition("@")[2]
    except BadRequest as exc:
        item.skipped, item.verification = exc.message, "invalid"
    return item


def draft_from_table(
    table: LeadTable,
    *,
    kind: str,
    find_email: bool,
    find_phone: bool,
    source: str,
    allow_reserved: bool,
    webhook_url: str | None = None,
) -> JobDraft:
    """A draft from an uploaded CSV (:mod:`leadsonar.enrichment.files`).

    Raises:
        BadRequest: a missing column (naming it), more than :data:`MAX_FILE_ROWS` rows, no data
            row, or no row that can be looked up.
    """
    table.require(kind)
    draft = JobDraft(
        kind=kind,
        find_email=find_email if kind == "enrich" else True,
        find_phone=find_phone if kind == "enrich" else False,
        source=source,
        file_name=table.name,
        input_columns=list(table.header),
        webhook_url=webhook_url,
    )
    row_of = _verify_row if kind == "verify" else _enrich_row
    domains = _Domains(allow_reserved)
    for count, (_line, cells, record) in enumerate(table.records(), start=1):
        if count > MAX_FILE_ROWS:
            raise BadRequest(
                f"{table.name} has more than {MAX_FILE_ROWS:,} rows; split it into several files."
            )
        item = row_of(record, domains)
        item.input_cells = cells[: len(table.header)]
        draft.items.append(item)
    if not draft.items:
        raise BadRequest(f"{table.name} has a header but no data rows.")
    if not any(not item.skipped for item in draft.items):
        first = next(item.skipped for item in draft.items if item.skipped)
        raise BadRequest(f"No row of {table.name} can be looked up (the first: {first})")
    return draft


def _initial_status(item: ItemDraft, duplicate: int | None) -> str:
    if item.skipped:
        return "done"
    return "waiting" if duplicate is not None else "pending"


async def store_job(db: Database, account_id: int, draft: JobDraft) -> JobAccepted:
    """Reserve the credits and store the job and its items in one transaction.

    Raises:
        InsufficientCredits: the balance is below :meth:`JobDraft.cost` (402; nothing stored).
    """
    cost = draft.cost()
    job_id = new_job_id()
    now = datetime.now(UTC)
    duplicates = draft.duplicates()
    worked = any(not i.skipped and d is None for i, d in zip(draft.items, duplicates, strict=True))
    async with db.write_session() as session:
        if cost:
            await ledger.charge(session, account_id, cost, draft.kind, job_id)
        job = EnrichmentJob(
            id=job_id,
            account_id=account_id,
            status="processing" if worked else "completed",
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
        # One executemany INSERT (SQLAlchemy's insertmanyvalues): 50,000 rows in seconds, not
        # 50,000 ORM objects flushed one by one while the ledger's write lock is held.
        await session.execute(
            insert(EnrichmentItem.__table__),
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
                for position, (item, duplicate) in enumerate(
                    zip(draft.items, duplicates, strict=True)
                )
            ],
        )
        if not worked:
            await schedule_delivery(session, job_id, draft.webhook_url)
    return JobAccepted(
        jobId=job_id,
        status=job.status,
        total=len(draft.items),
        message="Enrichment job started" if draft.kind == "enrich" else "Verification job started",
        credits_used=cost,
    )


async def submit(
    db: Database,
    account_id: int,
    body: EnrichRequest,
    allow_reserved: bool,
    webhook_url: str | None = None,
) -> JobAccepted:
    """Validate every contact, then reserve the credits and store the job (``POST /enrich``).

    Raises:
        InvalidDomain: a contact's ``website`` is unusable (400 naming the contact; no job).
        InsufficientCredits: the balance is below the cost (402; no job, nothing charged).
    """
    draft = draft_from_request(body, allow_reserved)
    draft.webhook_url = webhook_url
    return await store_job(db, account_id, draft)


async def load_job(session: AsyncSession, account_id: int, job_id: str) -> EnrichmentJob:
    """The account's job.

    Raises:
        JobNotFound: no such job for this account (another account's job included).
    """
    job = await session.scalar(
        select(EnrichmentJob).where(
            EnrichmentJob.id == job_id, EnrichmentJob.account_id == account_id
        )
    )
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
        sources=item.sources,
        phoneType=item.phone_type,
        provider=item.email_provider or item.phone_provider,
        verification=item.email_verification,
        reason=item.reason,
        companyPhone=display_from_e164(item.company_phone) if item.company_phone else None,
        duplicateOf=item.duplicate_of,
    )


async def job_status(session: AsyncSession, account_id: int, job_id: str) -> JobStatus:
    """The job's progress and its finished results in input order (``GET /enrich/{jobId}``,
    also the webhook's body).

    Raises:
        JobNotFound: no such job for this account (another account's job included).
    """
    job = await load_job(session, account_id, job_id)
    items = (
        await session.scalars(
            select(EnrichmentItem)
            .where(EnrichmentItem.job_id == job_id, EnrichmentItem.status == "done")
            .order_by(EnrichmentItem.position)
        )
    ).all()
    connections, rcpts = (
        await session.execute(
            select(
                func.coalesce(func.sum(EnrichmentItem.smtp_connections), 0),
                func.coalesce(func.sum(EnrichmentItem.smtp_rcpts), 0),
            ).where(EnrichmentItem.job_id == job_id)
        )
    ).one()
    return JobStatus(
        jobId=job.id,
        status=job.status,
        total=job.total,
        completed=len(items),
        results=[result_of(item) for item in items],
        smtpConnections=int(connections),
        smtpRcpts=int(rcpts),
        kind=job.kind,
        source=job.source,
        createdAt=utc(job.created_at),
        finishedAt=utc(job.finished_at),
    )


def utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime (SQLite returns stored datetimes naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


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
    query = select(EnrichmentJob).where(EnrichmentJob.account_id == account_id)
    if cursor:
        when, job_id = _decode_cursor(cursor)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        query = query.where(
            tuple_(EnrichmentJob.created_at, EnrichmentJob.id) < tuple_(when, job_id)
        )
    jobs = list(
        (
            await session.scalars(
                query.order_by(EnrichmentJob.created_at.desc(), EnrichmentJob.id.desc()).limit(
                    limit + 1
                )
            )
        ).all()
    )
    more = len(jobs) > limit
    jobs = jobs[:limit]
    done = await _done_counts(session, [j.id for j in jobs])
    return JobList(
        jobs=[
            JobSummary(
                jobId=job.id,
                status=job.status,
                kind=job.kind,
                source=job.source,
                total=job.total,
                completed=done.get(job.id, 0),
                createdAt=utc(job.created_at),
                finishedAt=utc(job.finished_at),
                fileName=job.file_name,
                findEmail=job.find_email,
                findPhone=job.find_phone,
                webhookUrl=job.webhook_url,
            )
            for job in jobs
        ],
        nextCursor=_encode_cursor(jobs[-1]) if more and jobs else None,
    )


async def _done_counts(session: AsyncSession, job_ids: Iterable[str]) -> dict[str, int]:
    ids = list(job_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(EnrichmentItem.job_id, func.count())
        .where(EnrichmentItem.job_id.in_(ids), EnrichmentItem.status == "done")
        .group_by(EnrichmentItem.job_id)
    )
    return {job_id: int(count) for job_id, count in rows.all()}


async def cancel_job(db: Database, account_id: int, job_id: str) -> JobCancelled:
    """Stop a processing job (``POST /enrich/{jobId}/cancel``): rows not yet worked end
    ``cancelled`` and their reserved credits come back in ONE ledger entry
    (``refund:cancel``, reference the job id); rows being looked up at this moment finish and
    keep their charge. The job ends ``cancelled`` and its webhook, if any, is sent.

    Raises:
        JobNotFound: no such job for this account.
        BadRequest: the job already ended (completed, failed or cancelled).
    """
    now = datetime.now(UTC)
    async with db.write_session() as session:
        # Locks the job row on PostgreSQL: the runner's finisher takes the same lock, so a job
        # cannot be completed and cancelled at once.
        job = await session.scalar(
            select(EnrichmentJob)
            .where(EnrichmentJob.id == job_id, EnrichmentJob.account_id == account_id)
            .with_for_update()
        )
        if job is None:
            raise JobNotFound(job_id)
        if job.status != "processing":
            raise BadRequest(f"Job {job_id} is already {job.status}; there is nothing to cancel.")
        stopped = (
            await session.execute(
                update(EnrichmentItem)
                .where(
                    EnrichmentItem.job_id == job_id,
                    EnrichmentItem.status.in_(("pending", "waiting")),
                )
                .values(status="cancelled", reason=CANCELLED_REASON, finished_at=now)
                .returning(EnrichmentItem.duplicate_of)
            )
        ).all()
        unworked = sum(1 for (duplicate,) in stopped if duplicate is None)
        per_item = 1 if job.kind == "verify" else int(job.find_email) + int(job.find_phone)
        refund = unworked * per_item
        if refund:
            await ledger.refund(session, account_id, refund, "refund:cancel", job_id)
        job.status = "cancelled"
        job.finished_at = now
        await schedule_delivery(session, job_id, job.webhook_url)
    return JobCancelled(
        jobId=job_id, status="cancelled", cancelled=len(stopped), credits_refunded=refund
    )


async def answer_repeats(session: AsyncSession, item: EnrichmentItem) -> None:
    """Give the rows that repeat ``item`` (``duplicate_of``) its answer, in the transaction
    that finishes it; cancelled repeats stay cancelled."""
    repeats = (
        await session.scalars(
            select(EnrichmentItem).where(
                EnrichmentItem.job_id == item.job_id,
                EnrichmentItem.duplicate_of == item.position,
                EnrichmentItem.status == "waiting",
            )
        )
    ).all()
    for repeat in repeats:
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
        repeat.status = "done"
        repeat.finished_at = item.finished_at
