"""The PostgreSQL job path: bulk-job items on a procrastinate queue (psycopg 3).

Every item of an accepted job is one procrastinate job (task :data:`WORK_ITEM`, argument
``item_id``), deferred on the request's own connection inside the transaction that writes the
job, its items and its charge: either all of them exist or none does. Any number of processes
then work the queue (``leadsonar worker``, or ``leadsonar serve`` without ``--no-worker``); each
holds at most ``concurrency`` items at once, one per slot, and works an item through
:class:`~leadsonar.enrichment.runner.ItemWorker`, which writes its result, refund and the job's
progress in one transaction and does nothing for an item already ``done``.

Crash safety: a worker sends a heartbeat every ``LEADSONAR_WORKER_HEARTBEAT`` seconds
(procrastinate's ``procrastinate_workers`` table). Every working process checks, every heartbeat,
for queue entries held by a worker whose heartbeat is older than ``LEADSONAR_WORKER_STALL_TIMEOUT``
and puts them back on the queue (procrastinate's stalled-job retry, ``get_stalled_jobs`` then
``retry_job``), under a PostgreSQL advisory lock so that two processes never retry the same entry
twice. An item in flight when its worker was killed is therefore worked again once, and charged
once; only such items may have been asked of a provider twice. The same loop ends jobs whose last
items were finished at the same moment by two workers that each saw the other's item still
running (:func:`~leadsonar.enrichment.runner.close_finished_jobs`): finishers do not queue on
their job's row while it still has items to take, so that race is possible and rare.

The queue's tables and functions are procrastinate's own schema, created by LeadSonar's Alembic
migration ``0004`` on PostgreSQL (see docs/deploy.md for upgrades).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from leadsonar.config import Settings
from leadsonar.enrichment.runner import ItemWorker, close_finished_jobs
from leadsonar.kit import prebuilt
from leadsonar.kit.db import Database
from leadsonar.lookup.service import LookupService
from leadsonar.lookup.verify import VerifyService

log = logging.getLogger(__name__)

WORK_ITEM = "leadsonar.enrich.work_item"
QUEUE = "enrichment"
# pg_try_advisory_lock key of the stalled-job check ("LSstall" in ASCII): one process at a time.
STALL_LOCK = 0x4C_53_73_74_61_6C_6C
# A queue entry whose task raised (a database error while writing, not a lookup failure, which
# is written as the item's error) is tried again up to 5 times, waiting 4, 8, 16 … seconds.
TASK_RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy ``postgresql+psycopg://`` URL.

    Raises:
        ValueError: the URL is not PostgreSQL (the queue needs it; SQLite uses the embedded
            runner).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("The job queue needs PostgreSQL (LEADSONAR_DATABASE_URL=postgresql+…).")
    return prebuilt.conninfo(database_url)


async def _autocommit(connection: psycopg.AsyncConnection[Any]) -> None:
    """Pool connections of the queue run each statement in its own transaction."""
    await connection.set_autocommit(True)


def build_queue_app(database_url: str, pool_size: int = 4) -> procrastinate.App:
    """A procrastinate app on ``database_url`` with the :data:`WORK_ITEM` task registered.

    The task reads its :class:`QueueRunner` from the worker's ``additional_context`` (passed
    explicitly, no global state).
    """
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(database_url),
            min_size=1,
            max_size=max(2, pool_size),
            # Every query procrastinate sends on its own pool is one function call (fetch a
            # job, finish it, heartbeat): autocommit spares each a BEGIN and a COMMIT round
            # trip (2 of the 4 a pooled query costs; the pool's liveness check is the other).
            configure=_autocommit,
        )
    )

    @app.task(name=WORK_ITEM, queue=QUEUE, pass_context=True, retry=TASK_RETRY)
    async def work_item(context: procrastinate.JobContext, item_id: int) -> None:
        runner: QueueRunner = context.additional_context["runner"]
        try:
            await runner.work(item_id)
            runner.worked += 1
        except Exception:
            if context.job.attempts < (TASK_RETRY.max_attempts or 0):
                raise  # procrastinate tries the entry again later
            # The last try: the item is answered as failed and refunded, so its job completes.
            log.exception("item %s failed on every try; finished as failed", item_id)
            await runner.items.give_up(item_id, "lookup failed")

    return app


async def _driver_connection(session: AsyncSession) -> Any:
    """The psycopg ``AsyncConnection`` under ``session``'s transaction (deferring on it makes
    the queue entries part of that transaction)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


class QueueRunner:
    """Queues bulk-job items on procrastinate and, when ``work`` is set, works them.

    Args:
        db: the database (PostgreSQL).
        lookup: runs the waterfall for one item.
        settings: ``job_concurrency`` (items at once), ``job_poll_interval`` (seconds between
            polls besides LISTEN/NOTIFY), ``worker_heartbeat``, ``worker_stall_timeout``,
            ``refund_not_found``.
        work: run a worker in this process; without it the runner only queues (API-only
            ``serve --no-worker``).
        concurrency: overrides ``settings.job_concurrency``.
        name: the worker's name in procrastinate's logs (default ``host:pid``).
        verify: judges addresses for verification jobs (``kind == "verify"``).
    """

    def __init__(
        self,
        db: Database,
        lookup: LookupService,
        settings: Settings,
        *,
        work: bool,
        concurrency: int | None = None,
        name: str | None = None,
        verify: VerifyService | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.working = work
        self.concurrency = concurrency or settings.job_concurrency
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.items = ItemWorker(db, lookup, settings.refund_not_found, verify=verify)
        self.app = build_queue_app(db.url, pool_size=self.concurrency // 2 + 3)
        self.task = self.app.tasks[WORK_ITEM]
        self.worked = 0  # queue entries this process finished (the worker's exit line says it)
        self._worker_task: asyncio.Task[None] | None = None
        self._stall_task: asyncio.Task[None] | None = None
        self._open = False

    async def enqueue(self, session: AsyncSession, item_ids: Sequence[int]) -> None:
        """Queue one entry per item inside ``session``'s transaction (committed with it)."""
        if not item_ids:
            return
        connection = await _driver_connection(session)
        entries: list[dict[str, Any]] = [{"item_id": item_id} for item_id in item_ids]
        await self.task.configure(connection=connection).batch_defer_async(*entries)

    async def requeue(self, session: AsyncSession, item_id: int, seconds: float) -> None:
        """Queue the item again ``seconds`` from now, inside ``session``'s transaction."""
        connection = await _driver_connection(session)
        await self.task.configure(
            connection=connection, schedule_in={"seconds": max(0, round(seconds))}
        ).defer_async(item_id=item_id)

    def wake(self) -> None:
        """Nothing to do: workers hear of new entries through LISTEN/NOTIFY."""

    async def work(self, item_id: int) -> None:
        """The task body: take the item if it still needs working, then work it."""
        await self.items.work(item_id, requeue=self.requeue, claim=True)

    async def start(self) -> None:
        """Open the queue's connection pool and, when working, start the worker and the
        stalled-job check."""
        await self.app.open_async()
        self._open = True
        if not self.working:
            return
        self._worker_task = asyncio.create_task(
            self.app.run_worker_async(
                queues=[QUEUE],
                name=self.name,
                concurrency=self.concurrency,
                fetch_job_polling_interval=self.settings.job_poll_interval,
                abort_job_polling_interval=max(self.settings.job_poll_interval, 5.0),
                install_signal_handlers=False,
                update_heartbeat_interval=self.settings.worker_heartbeat,
                stalled_worker_timeout=self.settings.worker_stall_timeout,
                shutdown_graceful_timeout=self.settings.worker_shutdown_timeout,
                delete_jobs="successful",
                additional_context={"runner": self},
            ),
            name="leadsonar-queue-worker",
        )
        self._stall_task = asyncio.create_task(self._retry_stalled_loop(), name="leadsonar-stall")

    async def stop(self) -> None:
        """Stop taking items, let items in flight finish (up to
        ``LEADSONAR_WORKER_SHUTDOWN_TIMEOUT`` seconds), close the pool."""
        for task in (self._stall_task, self._worker_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._stall_task = self._worker_task = None
        await self.items.drain()
        if self._open:
            await self.app.close_async()
            self._open = False

    async def wait(self) -> None:
        """Until the in-process worker stops (it only stops on :meth:`stop` or a failure)."""
        if self._worker_task is not None:
            await self._worker_task

    async def retry_stalled(self) -> int:
        """Put back on the queue the entries held by workers whose heartbeat is older than the
        stall timeout; returns how many. One process at a time (advisory lock)."""
        retried = 0
        async with self.app.connector.pool.connection() as lock:  # type: ignore[attr-defined]
            cursor = await lock.execute("SELECT pg_try_advisory_lock(%s)", (STALL_LOCK,))
            got = await cursor.fetchone()
            if not got or not got[0]:
                return 0
            try:
                stalled = await self.app.job_manager.get_stalled_jobs(
                    queue=QUEUE,
                    task_name=WORK_ITEM,
                    seconds_since_heartbeat=self.settings.worker_stall_timeout,
                )
                for job in stalled:
                    try:
                        await self.app.job_manager.retry_job(job)
                    except queue_errors.ConnectorException:
                        continue  # finished or retried meanwhile
                    log.warning("stalled queue entry %s retried (%s)", job.id, job.task_kwargs)
                    retried += 1
                # Forget dead workers, so their rows do not pile up.
                await self.app.job_manager.prune_stalled_workers(self.settings.worker_stall_timeout)
            finally:
                await lock.execute("SELECT pg_advisory_unlock(%s)", (STALL_LOCK,))
        return retried

    async def _retry_stalled_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.worker_heartbeat)
            try:
                await self.retry_stalled()
            except Exception:
                log.exception("stalled-job check failed")
            try:
                for job_id in await close_finished_jobs(self.db):
                    log.info("job %s ended by the periodic check", job_id)
            except Exception:
                log.exception("finished-job check failed")
