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
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.kit.db import Database
from leadsonar.ledger import service as ledger
from leadsonar.lookup.service import LookupService
from leadsonar.waterfall.engine import WaterfallResult

log = logging.getLogger(__name__)


class JobRunner:
    """Works pending items with at most ``concurrency`` lookups at once.

    Args:
        db: the database.
        lookup: runs the waterfall for one item.
        concurrency: items worked at once.
        poll_interval: seconds between checks for new work when not woken.
        refund_not_found: give back a credit per type that found nothing.
    """

    def __init__(
        self,
        db: Database,
        lookup: LookupService,
        concurrency: int,
        poll_interval: float = 1.0,
        refund_not_found: bool = False,
    ) -> None:
        self.db = db
        self.lookup = lookup
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.refund_not_found = refund_not_found
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._workers: set[asyncio.Task[None]] = set()

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
        self._loop_task = None

    def wake(self) -> None:
        """New work was committed: look for it now rather than at the next poll."""
        self._wake.set()

    async def run_until_idle(self) -> None:
        """Work until no item is pending or running (used by the CLI and tests)."""
        while await self._claim_and_spawn() or self._workers:
            if self._workers:
                await asyncio.wait(self._workers, return_when=asyncio.FIRST_COMPLETED)

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
        free = self.concurrency - len(self._workers)
        if free <= 0:
            return 0
        async with self.db.write_session() as session:
            ids = (
                await session.scalars(
                    select(EnrichmentItem.id)
                    .join(EnrichmentJob, EnrichmentJob.id == EnrichmentItem.job_id)
                    .where(EnrichmentItem.status == "pending")
                    .order_by(
                        EnrichmentJob.created_at, EnrichmentItem.job_id, EnrichmentItem.position
                    )
                    .limit(free)
                )
            ).all()
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

    def _done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        self._wake.set()

    async def _work(self, item_id: int) -> None:
        async with self.db.session() as session:
            item = await session.get(EnrichmentItem, item_id)
            job = await session.get(EnrichmentJob, item.job_id) if item else None
        if item is None or job is None or item.status == "done":
            return
        email: WaterfallResult | None = None
        phone: WaterfallResult | None = None
        error: str | None = None
        try:
            target = await self.lookup.target(
                item.first_name, item.last_name, item.website, item.company_name
            )
            if job.find_email:
                email = await self.lookup.run("email", target)
            if job.find_phone:
                phone = await self.lookup.run("phone", target)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("enrichment item %s failed", item_id)
            error = "lookup failed"
        await self._finish(item_id, job, email, phone, error)

    async def _finish(
        self,
        item_id: int,
        job: EnrichmentJob,
        email: WaterfallResult | None,
        phone: WaterfallResult | None,
        error: str | None,
    ) -> None:
        async with self.db.write_session() as session:
            # Serialise finishers of one job (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE
            # already does), so exactly one of them sees no item left and closes the job.
            await session.execute(
                select(EnrichmentJob.id).where(EnrichmentJob.id == job.id).with_for_update()
            )
            item = await session.get(EnrichmentItem, item_id)
            if item is None or item.status == "done":
                return
            item.status = "done"
            item.error = error
            item.finished_at = datetime.now(UTC)
            refund = 0
            if email is not None:
                finding = email.finding
                item.email = finding.value if finding else None
                item.confidence = finding.confidence.value if finding else None
                item.sources = email.sources
                item.email_provider = finding.provider if finding else None
                item.smtp_connections += email.probe.connections
                item.smtp_rcpts += email.probe.rcpts
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
            await session.flush()
            remaining = await session.scalar(
                select(func.count())
                .select_from(EnrichmentItem)
                .where(EnrichmentItem.job_id == job.id, EnrichmentItem.status != "done")
            )
            if remaining == 0:
                failed = await session.scalar(
                    select(func.count())
                    .select_from(EnrichmentItem)
                    .where(EnrichmentItem.job_id == job.id, EnrichmentItem.error.is_not(None))
                )
                db_job = await session.get(EnrichmentJob, job.id)
                assert db_job is not None
                db_job.status = "failed" if failed == db_job.total else "completed"
                db_job.finished_at = datetime.now(UTC)
