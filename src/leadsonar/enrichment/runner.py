"""The embedded job runner: works enrichment items inside the server process.

Items move ``pending`` → ``running`` → ``done``. Credits were reserved when the job was accepted,
so running an item never charges; finishing it writes its result (and any refund) and, for the
last item, the job's final status, all in one transaction. On start, items left ``running`` by a
killed process go back to ``pending``: every contact is answered once and charged once.

One embedded runner per database is assumed (``leadsonar serve`` on one machine); several server
processes on one database need the PostgreSQL worker (a later step).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.companies import company_key
from leadsonar.domains.contacts import name_key
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.enrichment.service import answer_repeats
from leadsonar.exceptions import LeadSonarError
from leadsonar.kit.db import Database
from leadsonar.ledger import service as ledger
from leadsonar.lookup.service import LookupService, Target, answer_reason
from leadsonar.lookup.verify import VerifyService
from leadsonar.providers.base import Confidence
from leadsonar.waterfall.engine import WaterfallResult
from leadsonar.webhooks.service import schedule_delivery

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 3  # tries of one item when its mail server asks to retry later
SEEN_DOMAINS = 10_000


def row_reason(fld: str, result: WaterfallResult, target: Target) -> str | None:
    """Why a job row's ``fld`` (``email``/``phone``) is missing or weak: the lookup's own
    reason, or for a miss nobody explained, which providers were asked."""
    reason = answer_reason(result, target)
    if reason or result.finding is not None:
        return reason
    what = "email address" if fld == "email" else "phone number"
    asked = ", ".join(result.tried)
    return f"No {what} found; asked: {asked}." if asked else f"No provider could look for a {what}."


def _retry_after(result: WaterfallResult) -> float | None:
    """Seconds after which the email lookup should be asked again, if it only has a guess."""
    finding = result.finding
    if finding is None or finding.confidence is Confidence.HIGH:
        return None
    value = finding.evidence.get("retryAfter")
    return float(value) if isinstance(value, int | float) else None


def _detail(result: WaterfallResult) -> dict[str, object]:
    """What is kept of a lookup for operators: providers tried and the evidence."""
    finding = result.finding
    return {
        "attempts": [
            {"provider": a.provider, "outcome": a.outcome, "seconds": round(a.seconds, 3)}
            for a in result.attempts
        ],
        "evidence": {
            k: v
            for k, v in (finding.evidence if finding else {}).items()
            if isinstance(v, str | int | float | bool) or v is None
        },
    }


async def _namesakes_in_job(session: AsyncSession, job_id: str, item: EnrichmentItem) -> int:
    """How many contacts of the job have ``item``'s name (folded) at its domain."""
    rows = await session.execute(
        select(EnrichmentItem.first_name, EnrichmentItem.last_name).where(
            EnrichmentItem.job_id == job_id, EnrichmentItem.website == item.website
        )
    )
    key = name_key(item.first_name, item.last_name)
    return sum(1 for first, last in rows.all() if name_key(first, last) == key)


class JobRunner:
    """Works pending items with at most ``concurrency`` lookups at once.

    Args:
        db: the database.
        lookup: runs the waterfall for one item.
        concurrency: items worked at once.
        poll_interval: seconds between checks for new work when not woken.
        refund_not_found: give back a credit per type that found nothing.
        verify: judges addresses for verification jobs (``kind == "verify"``).
    """

    def __init__(
        self,
        db: Database,
        lookup: LookupService,
        concurrency: int,
        poll_interval: float = 1.0,
        refund_not_found: bool = False,
        verify: VerifyService | None = None,
    ) -> None:
        self.db = db
        self.lookup = lookup
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.refund_not_found = refund_not_found
        self.verify = verify
        self._wake = asyncio.Event()
        self._seen: dict[str, None] = {}  # domains this runner has worked on (insertion order)
        self._warming: dict[int, str] = {}  # item id → domain, for a domain's first item
        self._loop_task: asyncio.Task[None] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._finishing: set[asyncio.Future[None]] = set()

    async def start(self) -> None:
        """Put items a killed process left ``running`` back to ``pending`` and start working."""
        async with self.db.session() as session:
            await session.execute(
                update(EnrichmentItem)
                .where(EnrichmentItem.status == "running")
                .values(status="pending")
            )
        self._loop_task = asyncio.create_task(self._loop(), name="leadsonar-job-runner")

    async def stop(self) -> None:
        """Stop working; unfinished items stay for the next start."""
        tasks = [t for t in (self._loop_task, *self._workers) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A result being written is let finish: cancelling a transaction mid-way only makes
        # the driver log a failed rollback; the item would be redone either way.
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)
        self._loop_task = None

    def wake(self) -> None:
        """New work was committed: look for it now rather than at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                spawned = await self._claim_and_spawn()
            except Exception:
                log.exception("job runner could not claim work")
                spawned = 0
            if spawned:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait())]
            if self._workers and len(self._workers) >= self.concurrency:
                waiters.append(asyncio.ensure_future(asyncio.wait(set(self._workers))))
            try:
                await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when="FIRST_COMPLETED"
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _claim_and_spawn(self) -> int:
        """Claim pending items (due ones only), grouped by domain.

        Items of one domain are taken together so that they share pooled SMTP sessions and the
        domain's cached facts; the first item of a domain new to this runner runs alone, so its
        discoveries (pattern, catch-all status) serve the others instead of being made N times.
        """
        free = self.concurrency - len(self._workers)
        if free <= 0:
            return 0
        now = datetime.now(UTC)
        async with self.db.write_session() as session:
            rows = (
                await session.execute(
                    select(EnrichmentItem.id, EnrichmentItem.website, EnrichmentItem.company_name)
                    .join(EnrichmentJob, EnrichmentJob.id == EnrichmentItem.job_id)
                    .where(
                        EnrichmentItem.status == "pending",
                        or_(EnrichmentItem.not_before.is_(None), EnrichmentItem.not_before <= now),
                    )
                    .order_by(
                        EnrichmentJob.created_at,
                        EnrichmentItem.job_id,
                        EnrichmentItem.website,
                        EnrichmentItem.position,
                    )
                    .limit(free * 8)
                )
            ).all()
            ids: list[int] = []
            warming = set(self._warming.values())
            for item_id, website, company_name in rows:
                domain = self._group(website, company_name)
                if len(ids) >= free:
                    break
                if domain in warming:
                    continue
                if domain not in self._seen:
                    self._seen[domain] = None
                    self._warming[item_id] = domain
                    warming.add(domain)
                ids.append(item_id)
            while len(self._seen) > SEEN_DOMAINS:
                self._seen.pop(next(iter(self._seen)))
            if ids:
                await session.execute(
                    update(EnrichmentItem)
                    .where(EnrichmentItem.id.in_(ids), EnrichmentItem.status == "pending")
                    .values(status="running")
                )
        for item_id in ids:
            task = asyncio.create_task(self._work(item_id), name=f"leadsonar-item-{item_id}")
            self._workers.add(task)
            task.add_done_callback(self._done)
        return len(ids)

    @staticmethod
    def _group(website: str, company_name: str | None) -> str:
        """The key items are grouped by: the domain, or for a company name without a website
        the company (its first item resolves it alone; the others reuse the stored answer)."""
        return website or f"company:{company_key(company_name or '')}"

    def _done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        self._wake.set()

    async def _work(self, item_id: int) -> None:
        try:
            await self._work_item(item_id)
        finally:
            self._warming.pop(item_id, None)

    async def _work_item(self, item_id: int) -> None:
        async with self.db.session() as session:
            item = await session.get(EnrichmentItem, item_id)
            job = await session.get(EnrichmentJob, item.job_id) if item else None
        if item is None or job is None or item.status != "running":
            return  # finished, or cancelled between the claim and now: never worked
        email: WaterfallResult | None = None
        phone: WaterfallResult | None = None
        error: str | None = None
        target: Target | None = None
        reason: str | None = None
        if job.kind == "verify":
            await self._verify_item(item_id, job, item.email or "", item.attempts)
            return
        try:
            target = await self.lookup.target(
                item.first_name, item.last_name, item.website or None, item.company_name
            )
            if job.find_email:
                email = await self.lookup.run(
                    "email", target, wait=False, account_id=job.account_id
                )
                retry_after = _retry_after(email)
                if retry_after is not None and item.attempts < MAX_ATTEMPTS:
                    await self._defer(item_id, retry_after, email)
                    return
            if job.find_phone:
                phone = await self.lookup.run(
                    "phone", target, wait=False, account_id=job.account_id
                )
            email_reason = row_reason("email", email, target) if email else None
            phone_reason = row_reason("phone", phone, target) if phone else None
            if email is not None and email.finding is None:
                reason = email_reason
            elif phone is not None and phone.finding is None:
                reason = phone_reason  # the email was found: say why there is no phone
            else:
                reason = email_reason or phone_reason
        except asyncio.CancelledError:
            raise
        except LeadSonarError as exc:
            error, reason = "lookup failed", exc.message
        except Exception:
            log.exception("enrichment item %s failed", item_id)
            error, reason = "lookup failed", "The lookup failed; its credits were refunded."
        finishing = asyncio.ensure_future(
            self._finish(item_id, job, email, phone, error, reason, target)
        )
        self._finishing.add(finishing)
        finishing.add_done_callback(self._finishing.discard)
        await asyncio.shield(finishing)

    async def _defer(self, item_id: int, seconds: float, email: WaterfallResult) -> None:
        """Put the item back for later (greylisting): no worker waits the delay out."""
        async with self.db.session() as session:
            await session.execute(
                update(EnrichmentItem)
                .where(EnrichmentItem.id == item_id, EnrichmentItem.status == "running")
                .values(
                    status="pending",
                    attempts=EnrichmentItem.attempts + 1,
                    not_before=datetime.now(UTC) + timedelta(seconds=seconds),
                    smtp_connections=EnrichmentItem.smtp_connections + email.probe.connections,
                    smtp_rcpts=EnrichmentItem.smtp_rcpts + email.probe.rcpts,
                )
            )

    async def _finish(
        self,
        item_id: int,
        job: EnrichmentJob,
        email: WaterfallResult | None,
        phone: WaterfallResult | None,
        error: str | None,
        reason: str | None = None,
        target: Target | None = None,
    ) -> None:
        async with self.db.write_session() as session:
            # Serialise finishers of one job (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE
            # already does), so exactly one of them sees no item left and closes the job.
            await session.execute(
                select(EnrichmentJob.id).where(EnrichmentJob.id == job.id).with_for_update()
            )
            item = await session.get(EnrichmentItem, item_id)
            if item is None or item.status != "running":
                return
            item.status = "done"
            item.error = error
            item.reason = reason
            item.finished_at = datetime.now(UTC)
            resolved = target.resolution if target is not None else None
            if resolved is not None and not item.website:
                item.website = resolved.domain or ""
            item.company_phone = next(
                (r.company_phone for r in (email, phone) if r is not None and r.company_phone),
                None,
            )
            refund = 0
            if email is not None:
                finding = email.finding
                if finding is not None and finding.confidence is Confidence.HIGH:
                    namesakes = await _namesakes_in_job(session, job.id, item)
                    if namesakes > 1:
                        # Two people with this name at this domain: the mailbox that answered
                        # may be either one's (issue 3: never the same address as high twice).
                        finding.confidence = Confidence.MEDIUM
                        finding.evidence["ambiguous"] = f"{namesakes} contacts share this name"
                        item.reason = item.reason or (
                            f"{namesakes} rows of this job have this name at this domain; the "
                            "address may be any of theirs."
                        )
                item.email = finding.value if finding else None
                item.email_verification = finding.verification.value if finding else None
                item.detail = _detail(email)
                item.confidence = finding.confidence.value if finding else None
                item.sources = email.sources
                item.email_provider = finding.provider if finding else None
                item.smtp_connections += email.probe.connections
                item.smtp_rcpts += email.probe.rcpts
            if resolved is not None:
                how = {"source": resolved.source, "reason": resolved.reason}
                item.detail = {**(item.detail or {}), "domain": how}
            if phone is not None and phone.finding is not None:
                item.phone = phone.finding.value
                item.phone_type = phone.finding.kind
                item.phone_provider = phone.finding.provider
                if item.confidence is None:
                    item.confidence = phone.finding.confidence.value
            wanted = int(job.find_email) + int(job.find_phone)
            if error:
                refund = wanted
            elif self.refund_not_found:
                refund += int(job.find_email and not item.email)
                refund += int(job.find_phone and not item.phone)
            if refund:
                await ledger.refund(
                    session, job.account_id, refund, "refund:enrich", f"{job.id}#{item.position}"
                )
            await self._close(session, job.id, item)

    async def _close(self, session: AsyncSession, job_id: str, item: EnrichmentItem) -> None:
        """Answer the item's repeats and, when nothing is left to work, end the job (a
        cancelled job stays cancelled) and queue its webhook."""
        await answer_repeats(session, item)
        await session.flush()
        remaining = await session.scalar(
            select(func.count())
            .select_from(EnrichmentItem)
            .where(
                EnrichmentItem.job_id == job_id,
                EnrichmentItem.status.notin_(("done", "cancelled")),
            )
        )
        db_job = await session.get(EnrichmentJob, job_id)
        if remaining == 0 and db_job is not None and db_job.status == "processing":
            failed = await session.scalar(
                select(func.count())
                .select_from(EnrichmentItem)
                .where(EnrichmentItem.job_id == job_id, EnrichmentItem.error.is_not(None))
            )
            db_job.status = "failed" if failed == db_job.total else "completed"
            db_job.finished_at = datetime.now(UTC)
            await schedule_delivery(session, job_id, db_job.webhook_url)

    async def _verify_item(
        self, item_id: int, job: EnrichmentJob, address: str, attempts: int
    ) -> None:
        """Judge one address of a verification job and finish the item (1 credit, refunded
        when the check crashed, or said ``unknown`` where not-found is refunded). A greylisted
        address goes back to ``pending`` until the server's delay has passed, like a greylisted
        enrichment (at most :data:`MAX_ATTEMPTS` times), instead of holding a worker."""
        verdict: tuple[str, str | None] | None = None
        source = "smtp"
        connections = rcpts = 0
        try:
            if self.verify is None:
                raise RuntimeError("no verifier configured")
            outcome, verdict, source = await self.verify.check(address, job.account_id, wait=False)
            if outcome.probe is not None:
                connections, rcpts = outcome.probe.connections, outcome.probe.rcpts
            if (
                outcome.retry_after is not None
                and verdict[0] == "unknown"
                and attempts < MAX_ATTEMPTS
            ):
                async with self.db.session() as session:
                    await session.execute(
                        update(EnrichmentItem)
                        .where(EnrichmentItem.id == item_id, EnrichmentItem.status == "running")
                        .values(
                            status="pending",
                            attempts=EnrichmentItem.attempts + 1,
                            not_before=datetime.now(UTC) + timedelta(seconds=outcome.retry_after),
                            smtp_connections=EnrichmentItem.smtp_connections + connections,
                            smtp_rcpts=EnrichmentItem.smtp_rcpts + rcpts,
                        )
                    )
                return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("verification item %s failed", item_id)

        async def finish() -> None:
            async with self.db.write_session() as session:
                await session.execute(
                    select(EnrichmentJob.id).where(EnrichmentJob.id == job.id).with_for_update()
                )
                item = await session.get(EnrichmentItem, item_id)
                if item is None or item.status != "running":
                    return
                item.status = "done"
                item.finished_at = datetime.now(UTC)
                item.email_provider = source
                item.smtp_connections += connections
                item.smtp_rcpts += rcpts
                if verdict is None:
                    item.error = "verification failed"
                    item.reason = "The check failed; its credit was refunded."
                else:
                    item.email_verification, item.reason = verdict
                refund = int(verdict is None or (self.refund_not_found and verdict[0] == "unknown"))
                if refund:
                    await ledger.refund(
                        session,
                        job.account_id,
                        refund,
                        "refund:verify",
                        f"{job.id}#{item.position}",
                    )
                await self._close(session, job.id, item)

        finishing = asyncio.ensure_future(finish())
        self._finishing.add(finishing)
        finishing.add_done_callback(self._finishing.discard)
        await asyncio.shield(finishing)
