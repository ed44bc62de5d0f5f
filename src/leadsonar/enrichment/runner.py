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
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.domains.companies import company_key
from leadsonar.domains.contacts import name_key
from leadsonar.enrichment import repository
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob, ItemState, JobState
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

# Puts an item back on a queue ``seconds`` from now, inside the caller's transaction.
Requeue = Callable[[AsyncSession, int, float], Awaitable[None]]


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
    key = name_key(item.first_name, item.last_name)
    names = await repository.names_at_website(session, job_id, item.website)
    return sum(1 for first, last in names if name_key(first, last) == key)


class ItemWorker:
    """Works one bulk-job item: runs its lookups (or, for a ``verify`` job, its address check)
    outside any transaction, then writes its result, its reason, its refund if any, the answer
    of its repeat rows and the job's progress in one transaction; the transaction that closes
    the job also queues its webhook.

    Args:
        db: the database.
        lookup: runs the waterfall for one item.
        refund_not_found: give back a credit per type that found nothing.
        verify: judges addresses for verification jobs (``kind == "verify"``).
    """

    def __init__(
        self,
        db: Database,
        lookup: LookupService,
        refund_not_found: bool = False,
        *,
        verify: VerifyService | None = None,
    ) -> None:
        self.db = db
        self.lookup = lookup
        self.refund_not_found = refund_not_found
        self.verify = verify
        self._finishing: set[asyncio.Future[None]] = set()

    async def drain(self) -> None:
        """Wait for results being written (a stopping process lets them finish: cancelling a
        transaction mid-way only makes the driver log a failed rollback)."""
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)

    async def take(self, item_id: int) -> bool:
        """Mark a queued item ``running`` if it is still to be worked (queue path).

        Returns False, changing nothing, when the item is gone, ``done`` or ``cancelled``, its
        job is no longer ``processing`` (cancelled), or it waits for a later time
        (``not_before``: a queue entry for that time exists). An item left ``running`` by a
        killed worker is taken again.
        """
        async with self.db.session() as session:
            return await repository.take_item(session, item_id)

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
        # claimed by the embedded runner already: a read, nothing to commit
        scope = self.db.session() if claim else self.db.read_session()
        async with scope as session:
            if claim and not await repository.take_item(session, item_id):
                return
            item, job = await repository.item_and_job(session, item_id)
        if item is None or job is None or item.status != ItemState.RUNNING:
            return  # gone, or finished by another worker meanwhile
        # A job cancelled since this item was claimed still has it worked: it was ``running``
        # at the cancel, and the cancel refunds only the rows never claimed ("rows running at
        # the cancel finish normally"); returning here left it ``running`` for good.
        if job.kind == "verify":
            await self._verify_item(item_id, job, item.email or "", item.attempts, requeue)
            return
        email: WaterfallResult | None = None
        phone: WaterfallResult | None = None
        error: str | None = None
        target: Target | None = None
        reason: str | None = None
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
                    probe = email.probe
                    await self._defer(item_id, retry_after, probe.connections, probe.rcpts, requeue)
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
        await self._shielded(self._finish(item_id, job, email, phone, error, reason, target))

    async def give_up(self, item_id: int, error: str) -> None:
        """Finish the item as failed (its credits refunded) when it cannot be worked: the last
        try of a queue entry whose writing kept failing. A finished or cancelled item is left
        alone."""
        async with self.db.session() as session:
            item, job = await repository.item_and_job(session, item_id)
        if item is None or job is None or item.status in (ItemState.DONE, ItemState.CANCELLED):
            return
        if job.kind == "verify":
            await self._finish_verify(item_id, job, None, "smtp", 0, 0, giving_up=True)
            return
        await self._finish(
            item_id,
            job,
            None,
            None,
            error,
            "The lookup failed; its credits were refunded.",
            giving_up=True,
        )

    async def _shielded(self, writing: Awaitable[None]) -> None:
        """Write a result even if the worker is being cancelled (see :meth:`drain`)."""
        finishing = asyncio.ensure_future(writing)
        self._finishing.add(finishing)
        finishing.add_done_callback(self._finishing.discard)
        await asyncio.shield(finishing)

    async def _defer(
        self,
        item_id: int,
        seconds: float,
        connections: int,
        rcpts: int,
        requeue: Requeue | None,
    ) -> None:
        """Put the item back for later (greylisting): no worker waits the delay out."""
        async with self.db.session() as session:
            moved = await repository.defer_item(session, item_id, seconds, connections, rcpts)
            if requeue is not None and moved:
                await requeue(session, item_id, seconds)

    @staticmethod
    async def _lock_item(
        session: AsyncSession, item_id: int, giving_up: bool
    ) -> EnrichmentItem | None:
        """The item, row-locked, if it is still ``running`` (or, ``giving_up``, still
        ``pending``: its queue entry failed before the item was taken). The lock (SQLite: BEGIN
        IMMEDIATE) serialises two finishers of one item: the second waits, then reads the first
        one's result and writes nothing; an item cancelled meanwhile is not written either."""
        item = await repository.lock_item(session, item_id)
        allowed = (ItemState.RUNNING, ItemState.PENDING) if giving_up else (ItemState.RUNNING,)
        return item if item is not None and item.status in allowed else None

    async def _finish(
        self,
        item_id: int,
        job: EnrichmentJob,
        email: WaterfallResult | None,
        phone: WaterfallResult | None,
        error: str | None,
        reason: str | None = None,
        target: Target | None = None,
        giving_up: bool = False,
    ) -> None:
        async with self.db.write_session() as session:
            item = await self._lock_item(session, item_id, giving_up)
            if item is None:
                return
            item.status = ItemState.DONE
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
            await _close(session, job, item, refund, "refund:enrich")

    async def _verify_item(
        self,
        item_id: int,
        job: EnrichmentJob,
        address: str,
        attempts: int,
        requeue: Requeue | None,
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
                await self._defer(item_id, outcome.retry_after, connections, rcpts, requeue)
                return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("verification item %s failed", item_id)
            verdict = None
        await self._shielded(self._finish_verify(item_id, job, verdict, source, connections, rcpts))

    async def _finish_verify(
        self,
        item_id: int,
        job: EnrichmentJob,
        verdict: tuple[str, str | None] | None,
        source: str,
        connections: int,
        rcpts: int,
        giving_up: bool = False,
    ) -> None:
        """Write a verification item's verdict (``None``: the check failed, refunded)."""
        async with self.db.write_session() as session:
            item = await self._lock_item(session, item_id, giving_up)
            if item is None:
                return
            item.status = ItemState.DONE
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
            await _close(session, job, item, refund, "refund:verify")


async def _close(
    session: AsyncSession, job: EnrichmentJob, item: EnrichmentItem, refund: int, why: str
) -> None:
    """After the finished item's own writes: give the item's repeat rows its answer, refund
    ``refund`` credits (ledger reason ``why``) and, when nothing is left to work, end the job and
    queue its webhook (:func:`~leadsonar.webhooks.service.schedule_delivery`). A job no longer
    ``processing`` (cancelled) keeps its status.

    The job's progress is its items' statuses (nothing is counted on the job's row), so
    finishers of one job, on every worker, do not queue on its row while the job still has
    items nobody has taken: one query tells that, and whether this item has repeat rows. Only a
    finisher that could be the last one (no item of the job ``pending``) or that answers repeat
    rows (which ``cancel_job`` may be cancelling) takes the job's row lock, then counts.

    Lock order, the same as ``cancel_job``'s (job, then its pending/waiting rows, then the
    account's balance row), so a finisher and a cancel never wait for each other in a circle:
    the item (taken by the caller), then the job, then the repeat rows and the balance row.
    FOR NO KEY UPDATE, which does not conflict with the FOR KEY SHARE a foreign-key check takes
    on the job's row (FOR UPDATE would make such a check wait, and could deadlock finishers).

    Two finishers that both see a ``pending`` item which is then taken and finished before they
    commit leave the job ``processing`` with nothing left (PostgreSQL only; SQLite writes one
    transaction at a time): :func:`close_finished_jobs` closes it, run periodically by the
    queue workers.
    """
    await session.flush()
    pending, repeated = await repository.pending_and_repeated(session, job.id, item.position)
    if pending and not repeated:
        if refund:
            await ledger.refund(session, job.account_id, refund, why, f"{job.id}#{item.position}")
        return
    await repository.lock_job(session, job.id)
    if repeated:
        await answer_repeats(session, item)
    if refund:
        await ledger.refund(session, job.account_id, refund, why, f"{job.id}#{item.position}")
    await session.flush()
    await _end_if_done(session, job.id)


async def _end_if_done(session: AsyncSession, job_id: str) -> bool:
    """Under the job's row lock: end the job (``completed``, or ``failed`` when every item
    failed) and queue its webhook if it is ``processing`` and no item is left to work."""
    if await repository.unfinished_count(session, job_id):
        return False
    db_job = await repository.fresh_job(session, job_id)
    if db_job is None or db_job.status != JobState.PROCESSING:
        return False
    failed = await repository.failed_count(session, job_id)
    db_job.status = JobState.FAILED if failed == db_job.total else JobState.COMPLETED
    db_job.finished_at = datetime.now(UTC)
    await schedule_delivery(session, job_id, db_job.webhook_url)
    return True


async def close_finished_jobs(db: Database) -> list[str]:
    """End every ``processing`` job with no item left to work (see :func:`_close` for how one
    can be left so); returns their ids. One transaction per job, under its row lock."""
    async with db.read_session() as session:
        ids = await repository.finished_processing_jobs(session)
    closed = []
    for job_id in ids:
        async with db.write_session() as session:
            await repository.lock_job(session, job_id)
            if await _end_if_done(session, job_id):
                closed.append(job_id)
    return closed


class JobRunner:
    """The embedded runner (SQLite): works pending items with at most ``concurrency`` lookups at
    once, claiming them by polling the items table.

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
        self.items = ItemWorker(db, lookup, refund_not_found, verify=verify)
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
            await repository.release_running(session)
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
        # An idle poll (every poll_interval) only reads: no write transaction, so it never
        # holds SQLite's write lock (the hot path's inline writes, other processes).
        if not await repository.any_due_item(self.db, now):
            return 0
        async with self.db.write_session() as session:
            rows = await repository.due_items(session, now, free * 8)
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
                await repository.mark_running(session, ids)
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
