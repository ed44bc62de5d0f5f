"""Bulk jobs: accept (validate, reserve credits, store job and items in one transaction) and
report progress."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.enrichment.schemas import EnrichRequest, JobAccepted, JobResult, JobStatus
from leadsonar.exceptions import InvalidDomain, JobNotFound
from leadsonar.kit.db import Database
from leadsonar.kit.net.hostnames import display_domain, domain_from_website
from leadsonar.kit.phones import display_from_e164
from leadsonar.ledger import service as ledger


def new_job_id() -> str:
    """``enr_`` and 20 random letters/digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "enr_" + "".join(secrets.choice(alphabet) for _ in range(20))


def _domain_detail(item: EnrichmentItem, key: str) -> str | None:
    """How the item's company name was resolved (``source``/``reason``), if it was."""
    found = (item.detail or {}).get("domain")
    value = found.get(key) if isinstance(found, dict) else None
    return str(value) if value else None


def job_cost(body: EnrichRequest) -> int:
    """Credits: 1 per contact per requested type (spec)."""
    return len(body.contacts) * (int(body.findEmail) + int(body.findPhone))


# Queues items inside the caller's transaction: ``JobRunner.enqueue`` (SQLite, a no-op: the
# embedded runner polls) or ``QueueRunner.enqueue`` (PostgreSQL, procrastinate).
Enqueue = Callable[[AsyncSession, Sequence[int]], Awaitable[None]]


async def submit(
    db: Database,
    account_id: int,
    body: EnrichRequest,
    allow_reserved: bool,
    *,
    enqueue: Enqueue,
) -> JobAccepted:
    """Validate every contact, then reserve the credits, store the job and its items and queue
    the items (``enqueue``), all in one transaction.

    Raises:
        InvalidDomain: a contact's ``website`` is unusable (400 naming the contact; no job).
            A contact with ``companyName`` and no ``website`` is stored with an empty website;
            the runner resolves its company (once per distinct company).
        InsufficientCredits: the balance is below the cost (402; no job, nothing charged).
    """
    domains = []
    for index, contact in enumerate(body.contacts):
        if not contact.website:
            domains.append("")  # companyName only: resolved when the item runs
            continue
        try:
            domains.append(domain_from_website(contact.website, allow_reserved=allow_reserved))
        except InvalidDomain as exc:
            raise InvalidDomain(f"contacts[{index}].website: {exc.message}") from None
    cost = job_cost(body)
    job_id = new_job_id()
    async with db.write_session() as session:
        await ledger.charge(session, account_id, cost, "enrich", job_id)
        session.add(
            EnrichmentJob(
                id=job_id,
                account_id=account_id,
                status="processing",
                total=len(body.contacts),
                find_email=body.findEmail,
                find_phone=body.findPhone,
            )
        )
        await session.flush()
        items = [
            EnrichmentItem(
                job_id=job_id,
                position=position,
                first_name=contact.firstName,
                last_name=contact.lastName,
                website=domain,
                company_name=contact.companyName,
                status="pending",
            )
            for position, (contact, domain) in enumerate(zip(body.contacts, domains, strict=True))
        ]
        session.add_all(items)
        await session.flush()
        await enqueue(session, [item.id for item in items])
    return JobAccepted(
        jobId=job_id,
        status="processing",
        total=len(body.contacts),
        message="Enrichment job started",
        credits_used=cost,
    )


async def job_status(session: AsyncSession, account_id: int, job_id: str) -> JobStatus:
    """The job's progress and its finished results in input order.

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
        results=[
            JobResult(
                firstName=item.first_name,
                lastName=item.last_name,
                email=item.email,
                phone=display_from_e164(item.phone) if item.phone else None,
                confidence=item.confidence,
                position=item.position,
                domain=display_domain(item.website) if item.website else None,
                domainSource=_domain_detail(item, "source")
                or ("website" if item.website else None),
                domainReason=_domain_detail(item, "reason"),
                sources=item.sources,
                phoneType=item.phone_type,
                provider=item.email_provider or item.phone_provider,
            )
            for item in items
        ],
        smtpConnections=int(connections),
        smtpRcpts=int(rcpts),
    )
