"""Working bulk-job items: :class:`ItemWorker` (one item, both job paths) and the embedded
:class:`JobRunner` (SQLite's path, inside the server process).

Items move ``pending`` → ``running`` → ``done``. Credits were reserved when the job was accepted,
so working an item never charges; finishing it writes its result (and any refund) and, for the
last item, the job's final status, all in one transaction. Finishing is idempotent: an item
already ``done`` is never written again, so a retried item charges and refunds nothing twice.
Items of a job that is no longer ``processing`` (cancelled) are not worked.

Two paths bring items to an :class:`ItemWorker`:

- **Embedded** (:class:`JobRunner`, SQLite): claims due items by polling the items table. On
  start, items a killed process left ``running`` go back to ``pending``, so one runner per
  database is assumed (one ``leadsonar serve`` per database file).
- **Queue** (:mod:`leadsonar.enrichment.tasks`, PostgreSQL): one procrastinate job per item,
  deferred in the transaction that accepted the job; any number of API and worker processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.companies import company_key
from leadsonar.domains.contacts import name_key
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.kit.db import Database
from leadsonar.ledger import service as ledger
from leadsonar.lookup.service import LookupService, Target
from leadsonar.providers.base import Confidence
from leadsonar.waterfall.engine import WaterfallResult

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 3  # tries of one item when its mail server asks to retry later
SEEN_DOMAINS = 10_000

# Puts an item back on a queue ``seconds`` from now, inside the caller's transaction.
Requeue = Callable[[AsyncSession, int, float], Awaitable[None]]


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


async def _take(session: AsyncSession, item_id: int) -> bool:
    """See :meth:`ItemWorker.take`."""
    taken = await session.execute(
        update(EnrichmentItem)
        .where(
            EnrichmentItem.id == item_id,
            EnrichmentItem.status.in_(("pending", "running")),
            or_(
                EnrichmentItem.not_before.is_(None), EnrichmentItem.not_before <= datetime.now(UTC)
            ),
            EnrichmentItem.job_id.in_(
                select(EnrichmentJob.id).where(EnrichmentJob.status == "processing")
            ),
        )
        .values(status="running")
        .returning(EnrichmentItem.id)
    )
    return taken.first() is not None


class ItemWorker:
    """Works one bulk-job item: runs its lookups outside any transaction, then writes its result,
    its refund if any and the job's progress in one transaction.

    Args:
        db: the database.
        lookup: runs the waterfall for one item.
        refund_not_found: give back a credit per type that found nothing.
    """

    def __init__(self, db: Database, lookup: LookupService, refund_not_found: bool = False) -> None:
        self.db = db
        self.lookup = lookup
        self.refund_not_found = refund_not_found
        self._finishing: set[asyncio.Future[None]] = set()

    async def drain(self) -> None:
        """Wait for results being written (a stopping process lets them finish: cancelling a
        transaction mid-way only makes the driver log a failed rollback)."""
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)

    async def take(self, item_id: int) -> bool:
        """Mark a queued item ``running`` if it is still to be worked (queue path).

        Returns False, changing nothing, when the item is gone or ``done``, its job is no longer
        ``processing`` (cancelled), or it waits for a later time (``not_before``: a queue entry
        for that time exists). An item left ``running`` by a killed worker is taken again.
        """
        async with self.db.session() as session:
            return await _take(session, item_id)

    async def work(self, item_id: int, requeue: Requeue | None = None, claim: bool = False) -> None:
        """Work the item and write its outcome.

        Args:
            requeue: when the mail server asked to retry later (greylisting), the item goes back
                to ``pending`` with a ``not_before`` time and, in the same transaction,
                ``requeue(session, item_id, seconds)`` queues it again (queue path); without it
                the embedded runner finds it by polling.
            claim: take the item first (:meth:`take`, in the same transaction as reading it);
                without it the caller already marked it ``running`` (embedded runner).
        """
        async with self.db.session() as session:
            if claim and not await _take(session, item_id):
                return
            item = await session.get(EnrichmentItem, item_id)
            job = await session.get(EnrichmentJob, item.job_id) if item else None
        if item is None or job is None or item.status == "done" or job.status != "processing":
            return
        email: WaterfallResult | None = None
        phone: WaterfallResult | None = None
        error: str | None = None
        target: Target | None = None
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
                    await self._defer(item_id, retry_after, email, requeue)
                    return
            if job.find_phone:
                phone = await self.lookup.run(
                    "phone", target, wait=False, account_id=job.account_id
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("enrichment item %s failed", item_id)
            error = "lookup failed"
        finishing = asyncio.ensure_future(self._finish(item_id, job, email, phone, error, target))
        self._finishing.add(finishing)
        finishing.add_done_callback(self._finishing.discard)
        await asyncio.shield(finishing)

    async def give_up(self, item_id: int, error: str) -> None:
        """Finish the item as failed (its credits refunded) when it cannot be worked: the last
        try of a queue entry whose writing kept failing. A ``done`` item is left alone."""
        async with self.db.session() as session:
            item = await session.get(EnrichmentItem, item_id)
            job = await session.get(EnrichmentJob, item.job_id) if item else None
        if item is None or job is None or item.status == "done":
            return
        await self._finish(item_id, job, None, None, error)

    async def _defer(
        self, item_id: int, seconds: float, email: WaterfallResult, requeue: Requeue | None
    ) -> None:
        """Put the item back for later (greylisting): no worker waits the delay out."""
        async with self.db.session() as session:
            moved = await session.execute(
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
            if requeue is not None and moved.rowcount:  # type: ignore[attr-defined]
                await requeue(session, item_id, seconds)

    async def _finish(
        self,
        item_id: int,
        job: EnrichmentJob,
        email: WaterfallResult | None,
        phone: WaterfallResult | None,
        error: str | None,
        target: Target | None = None,
    ) -> None:
        async with self.db.write_session() as session:
            # The item's row lock (SQLite: BEGIN IMMEDIATE) serialises two finishers of one
            # item: the second waits, then reads the first one's result and writes nothing.
            item = await session.scalar(
                select(EnrichmentItem)
                .where(EnrichmentItem.id == item_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if item is None or item.status == "done":
                return
            item.status = "done"
            item.error = error
            item.finished_at = datetime.now(UTC)
            resolved = target.resolution if target is not None else None
            if resolved is not None and not item.website:
                item.website = resolved.domain or ""
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
            await session.flush()
            # The job's row lock, taken last so that finishers of one job (on every worker) wait
            # for each other only for the count and the commit: each counts after the previous
            # one committed, so exactly one sees no item left and closes the job. FOR NO KEY
            # UPDATE, because updating the item twice above made PostgreSQL's foreign-key check
            # take FOR KEY SHARE on this row; FOR UPDATE would then deadlock two finishers.
            await session.execute(
                select(EnrichmentJob.id)
                .where(EnrichmentJob.id == job.id)
                .with_for_update(key_share=True)
            )
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
                db_job = await session.get(EnrichmentJob, job.id, populate_existing=True)
                assert db_job is not None
                if db_job.status == "processing":
                    db_job.status = "failed" if failed == db_job.total else "completed"
                    db_job.finished_at = datetime.now(UTC)


class JobRunner:
    """The embedded runner (SQLite): works pending items with at most ``concurrency`` lookups at
    once, claiming them by polling the items table.

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
        self.items = ItemWorker(db, lookup, refund_not_found)
        self._wake = asyncio.Event()
        self._seen: dict[str, None] = {}  # domains this runner has worked on (insertion order)
        self._warming: dict[int, str] = {}  # item id → domain, for a domain's first item
        self._loop_task: asyncio.Task[None] | None = None
        self._workers: set[asyncio.Task[None]] = set()

    async def enqueue(self, session: AsyncSession, item_ids: Sequence[int]) -> None:
        """Nothing to queue: the runner finds pending items by polling (see :meth:`wake`)."""

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
        await self.items.drain()
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
        """Claim pending items (due ones of jobs still ``processing``), grouped by domain.

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
                        EnrichmentJob.status == "processing",
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
            await self.items.work(item_id)
        finally:
            self._warming.pop(item_id, None)
