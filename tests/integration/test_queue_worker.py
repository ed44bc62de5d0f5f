"""Bulk jobs on PostgreSQL through the procrastinate queue (issue 10): items queued in the
transaction that accepts the job, worked by separate worker services, idempotent, taken again
after a worker stalls, never worked for a cancelled job. (A provider's rate limit shared by two
worker processes through Redis: tests/acceptance/test_workers_postgres.py.) The stand-in paid
provider is a TOML-defined provider on loopback
(a unique name per test, so its Redis rate window is this test's own)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from leadsonar.app import Services, close_services, open_services
from leadsonar.config import Settings
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob
from leadsonar.enrichment.runner import ItemWorker, close_finished_jobs
from leadsonar.enrichment.tasks import QUEUE, QueueRunner
from leadsonar.ledger.models import AccountBalance, LedgerEntry
from leadsonar.testing.live import LiveServer
from leadsonar.testing.providerapi import Call, ProviderApi, Reply

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres]

PATH = "/v1/person/email"


def _answer(delay: float = 0.0, missing: frozenset[str] = frozenset()) -> Callable[[Call], Reply]:
    def answer(call: Call) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        first, last, domain = body.get("first"), body.get("last"), body.get("domain")
        if first in missing:
            return Reply({"error": "no match"}, 404, delay=delay)
        email = f"{str(first).lower()}.{str(last).lower()}@{domain}"
        return Reply({"email": email, "status": "valid"}, delay=delay)

    return answer


def provider_toml(name: str, base_url: str, rate: str | None = None) -> str:
    """A paid provider defined by configuration (docs/providers.md, declarative providers)."""
    lines = [
        f"[declarative_providers.{name}]",
        'fields = ["email"]',
        'method = "POST"',
        f'url = "{base_url}{PATH}"',
        'api_key = "stand-in-key"',
        'body = { first = "{first_name}", last = "{last_name}", domain = "{domain}" }',
        'email_path = "email"',
        'status_path = "status"',
        'statuses = { valid = "high" }',
        'verification = { valid = "valid" }',
        'error_path = "error"',
        "concurrency = 50",
    ]
    if rate:
        lines.append(f'rate_limit = "{rate}"')
    return "\n".join(lines) + "\n"


@pytest.fixture
def queue_settings(
    make_settings: Callable[..., Settings], postgres_url: str, tmp_path: Path
) -> Callable[..., Settings]:
    """Settings on this test's PostgreSQL database with a stand-in paid provider."""

    def make(base_url: str, rate: str | None = None, **overrides: Any) -> Settings:
        name = f"paid{uuid.uuid4().hex[:8]}"
        config = tmp_path / f"{name}.toml"
        config.write_text(provider_toml(name, base_url, rate), encoding="utf-8")
        values: dict[str, Any] = {
            "database_url": postgres_url,
            "providers": f"email={name};phone=",
            "declarative_providers_file": str(config),
            "job_concurrency": 4,
            "worker_heartbeat": 0.3,
            "worker_stall_timeout": 1.5,
            "worker_shutdown_timeout": 5,
        }
        values.update(overrides)
        return make_settings(**values)

    return make


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[Services]:
    """A ``leadsonar worker`` inside this event loop (its own services, pools and limiters)."""
    services = await open_services(settings)
    assert isinstance(services.runner, QueueRunner) and services.runner.working
    try:
        yield services
    finally:
        await close_services(services)


def contacts(count: int, prefix: str = "Person") -> list[dict[str, str]]:
    return [
        {"firstName": f"{prefix}{i}", "lastName": "Lee", "website": f"company{i % 7}.test"}
        for i in range(count)
    ]


async def wait_done(client: httpx.AsyncClient, job_id: str, seconds: float = 60) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        body = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if body["status"] != "processing":
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {body}")


async def queue_rows(services: Services) -> list[tuple[int, str, int]]:
    """(item id, status, attempts) of every queue entry."""
    async with services.db.session() as session:
        rows = await session.execute(
            text(
                "SELECT (args->>'item_id')::int, status::text, attempts FROM procrastinate_jobs "
                "WHERE queue_name = :queue ORDER BY id"
            ),
            {"queue": QUEUE},
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_items_are_queued_with_the_job_and_worked_by_a_worker(
    queue_settings: Callable[..., Settings],
) -> None:
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer())
        settings = queue_settings(api.url)
        async with LiveServer(settings, work_jobs=False) as live:
            assert isinstance(live.services.runner, QueueRunner)
            assert not live.services.runner.working
            key = await live.create_account("queue", credits=5)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                accepted = await client.post("/api/v1/enrich", json={"contacts": contacts(5)})
                assert accepted.status_code == 202, accepted.text
                job_id = accepted.json()["jobId"]
                async with live.services.db.session() as session:
                    item_ids = list(
                        await session.scalars(
                            select(EnrichmentItem.id)
                            .where(EnrichmentItem.job_id == job_id)
                            .order_by(EnrichmentItem.position)
                        )
                    )
                # One queue entry per item, committed with the job; nobody works them yet.
                assert await queue_rows(live.services) == [(i, "todo", 0) for i in item_ids]
                await asyncio.sleep(0.5)
                assert (await client.get(f"/api/v1/enrich/{job_id}")).json()["completed"] == 0
                assert api.count() == 0

                # Out of credits: 402, and no job, no item, no queue entry written.
                refused = await client.post("/api/v1/enrich", json={"contacts": contacts(1)})
                assert refused.status_code == 402, refused.text
                assert len(await queue_rows(live.services)) == 5

                async with worker(settings):
                    done = await wait_done(client, job_id)
                credits = (await client.get("/api/v1/credits")).json()
    assert done["status"] == "completed"
    assert [r["email"] for r in done["results"]] == [
        f"person{i}.lee@company{i % 7}.test" for i in range(5)
    ]
    assert api.count("POST", PATH) == 5
    assert credits == {"balance": 0, "totalEarned": 5, "totalSpent": 5}


async def test_a_retried_item_whose_result_is_written_does_nothing(
    queue_settings: Callable[..., Settings],
) -> None:
    """Idempotency: a queue entry run again after its item is done (a retry after a crash
    between the result's commit and the entry's) changes nothing and calls nobody; two workers
    racing on one item (a worker wrongly thought dead) write one result and one refund."""
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer(delay=0.3, missing=frozenset({"Person1"})))
        settings = queue_settings(api.url, refund_not_found=True)
        async with LiveServer(settings) as live:
            key = await live.create_account("idem", credits=3)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                job_id = (
                    await client.post("/api/v1/enrich", json={"contacts": contacts(2)})
                ).json()["jobId"]
                first = await wait_done(client, job_id)
                runner = live.services.runner
                assert isinstance(runner, QueueRunner)
                async with live.services.db.session() as session:
                    items = list(
                        await session.scalars(
                            select(EnrichmentItem).where(EnrichmentItem.job_id == job_id)
                        )
                    )
                calls = api.count()
                for item in items:
                    await runner.work(item.id)  # the entry again: the item is done
                assert api.count() == calls
                assert (await client.get(f"/api/v1/enrich/{job_id}")).json() == first

                # Two workers on the same running item at once.
                job_two = (
                    await client.post(
                        "/api/v1/enrich",
                        json={
                            "contacts": [
                                {
                                    "firstName": "Person1",
                                    "lastName": "Lee",
                                    "website": "company1.test",
                                }
                            ]
                        },
                    )
                ).json()["jobId"]
                await wait_done(client, job_two)
                async with live.services.db.session() as session:
                    item_two = await session.scalar(
                        select(EnrichmentItem).where(EnrichmentItem.job_id == job_two)
                    )
                    assert item_two is not None
                    await session.execute(
                        update(EnrichmentItem)
                        .where(EnrichmentItem.id == item_two.id)
                        .values(status="running", finished_at=None)
                    )
                    await session.execute(
                        update(EnrichmentJob)
                        .where(EnrichmentJob.id == job_two)
                        .values(status="processing")
                    )
                    # Undo the first run's refund (its entry and its share of the balance
                    # row) so the race is the only writer.
                    undone = await session.execute(
                        LedgerEntry.__table__.delete()
                        .where(LedgerEntry.reference == f"{job_two}#0")
                        .returning(LedgerEntry.account_id, LedgerEntry.amount)
                    )
                    for account_id, amount in undone.all():
                        await session.execute(
                            update(AccountBalance)
                            .where(AccountBalance.account_id == account_id)
                            .values(
                                balance=AccountBalance.balance - amount,
                                total_earned=AccountBalance.total_earned - amount,
                            )
                        )
                one = ItemWorker(live.services.db, live.services.lookup, refund_not_found=True)
                two = ItemWorker(live.services.db, live.services.lookup, refund_not_found=True)
                await asyncio.gather(one.work(item_two.id), two.work(item_two.id))
                credits = (await client.get("/api/v1/credits")).json()
                async with live.services.db.session() as session:
                    refunds = await session.scalar(
                        select(func.count())
                        .select_from(LedgerEntry)
                        .where(LedgerEntry.reference == f"{job_two}#0")
                    )
                    status = await session.scalar(
                        select(EnrichmentJob.status).where(EnrichmentJob.id == job_two)
                    )
    assert first["status"] == "completed"
    assert [r["email"] for r in first["results"]] == ["person0.lee@company0.test", None]
    assert refunds == 1
    assert status == "completed"
    # 3 credits: 2 for the first job (1 refunded: Person1 not found), 1 for the second (refunded
    # once, not twice, although two workers finished it).
    assert credits["balance"] == 2, credits


async def test_a_stalled_workers_item_is_taken_again_and_charged_once(
    queue_settings: Callable[..., Settings],
) -> None:
    """A worker that took an entry and died (no heartbeat since) loses it after the stall
    timeout; a live worker works the item once and the job completes, charged once."""
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer())
        settings = queue_settings(api.url)
        async with LiveServer(settings, work_jobs=False) as live:
            key = await live.create_account("stall", credits=3)
            runner = live.services.runner
            assert isinstance(runner, QueueRunner)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                job_id = (
                    await client.post("/api/v1/enrich", json={"contacts": contacts(3)})
                ).json()["jobId"]
                # The dead worker: registered, took one entry, marked its item running, died.
                manager = runner.app.job_manager
                dead = await manager.register_worker()
                taken = await manager.fetch_job(queues=[QUEUE], worker_id=dead)
                assert taken is not None
                item_id = taken.task_kwargs["item_id"]
                async with live.services.db.session() as session:
                    await session.execute(
                        update(EnrichmentItem)
                        .where(EnrichmentItem.id == item_id)
                        .values(status="running")
                    )
                    await session.execute(
                        text(
                            "UPDATE procrastinate_workers SET last_heartbeat = now() - "
                            "interval '1 hour' WHERE id = :id"
                        ),
                        {"id": dead},
                    )
                async with worker(settings):
                    done = await wait_done(client, job_id, seconds=30)
                credits = (await client.get("/api/v1/credits")).json()
    assert done["status"] == "completed"
    assert [r["email"] for r in done["results"]] == [
        f"person{i}.lee@company{i}.test" for i in range(3)
    ]
    per_contact = Counter(c.body["first"] for c in api.calls)
    assert per_contact == {"Person0": 1, "Person1": 1, "Person2": 1}
    assert credits == {"balance": 0, "totalEarned": 3, "totalSpent": 3}


async def test_finishers_leave_the_job_row_alone_while_items_wait_to_be_taken(
    queue_settings: Callable[..., Settings],
) -> None:
    """The job's row is not a hot row: an item of a job that still has items nobody took
    finishes while another transaction holds the job's row lock, in the strongest mode, so that
    a foreign-key check's KEY SHARE lock on it would wait too (a finisher that locked it would
    wait for ever; the 60 s guard only turns such a hang into a failure). A job whose
    last items were finished without ending it (two finishers that each saw the other's item
    running) is ended by the workers' periodic check, once."""
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer())
        settings = queue_settings(api.url)
        async with LiveServer(settings, work_jobs=False) as live:
            key = await live.create_account("hot", credits=3)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                job_id = (
                    await client.post("/api/v1/enrich", json={"contacts": contacts(3)})
                ).json()["jobId"]
            db = live.services.db
            async with db.session() as session:
                item_ids = list(
                    await session.scalars(
                        select(EnrichmentItem.id)
                        .where(EnrichmentItem.job_id == job_id)
                        .order_by(EnrichmentItem.position)
                    )
                )
            items = ItemWorker(db, live.services.lookup)
            async with db.session() as holder:
                await holder.execute(
                    select(EnrichmentJob.id).where(EnrichmentJob.id == job_id).with_for_update()
                )
                await asyncio.wait_for(items.work(item_ids[0], claim=True), 60)
                async with db.session() as session:
                    first = await session.get(EnrichmentItem, item_ids[0])
                    assert first is not None and first.status == "done"
            # The race's outcome: every item done, the job still processing.
            async with db.session() as session:
                await session.execute(
                    update(EnrichmentItem)
                    .where(EnrichmentItem.id.in_(item_ids[1:]))
                    .values(status="done", email="x@company1.test", finished_at=datetime.now(UTC))
                )
            assert await close_finished_jobs(db) == [job_id]
            assert await close_finished_jobs(db) == []
            async with db.session() as session:
                job = await session.get(EnrichmentJob, job_id)
    assert job is not None and job.status == "completed" and job.finished_at is not None
    assert first.email == "person0.lee@company0.test"


async def test_items_of_a_cancelled_job_are_not_worked(
    queue_settings: Callable[..., Settings],
) -> None:
    async with ProviderApi() as api:
        api.on("POST", PATH, _answer())
        settings = queue_settings(api.url)
        async with LiveServer(settings, work_jobs=False) as live:
            key = await live.create_account("cancel", credits=4)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                job_id = (
                    await client.post("/api/v1/enrich", json={"contacts": contacts(4)})
                ).json()["jobId"]
                async with live.services.db.session() as session:
                    await session.execute(
                        update(EnrichmentJob)
                        .where(EnrichmentJob.id == job_id)
                        .values(status="cancelled")
                    )
                async with worker(settings) as services:
                    for _ in range(100):
                        if not await queue_rows(services):  # entries done (and deleted)
                            break
                        await asyncio.sleep(0.1)
                    assert await queue_rows(services) == []
                async with live.services.db.session() as session:
                    statuses = list(
                        await session.scalars(
                            select(EnrichmentItem.status).where(EnrichmentItem.job_id == job_id)
                        )
                    )
    assert api.count() == 0
    assert statuses == ["pending"] * 4


async def test_requeue_schedules_a_later_entry_and_take_waits_for_it(
    queue_settings: Callable[..., Settings],
) -> None:
    """Greylisting on the queue path: the item goes back with a ``not_before`` time and a queue
    entry for that time, in one transaction; an early entry does not take it."""
    async with ProviderApi() as api:
        settings = queue_settings(api.url)
        async with LiveServer(settings, work_jobs=False) as live:
            key = await live.create_account("later", credits=1)
            runner = live.services.runner
            assert isinstance(runner, QueueRunner)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                await client.post("/api/v1/enrich", json={"contacts": contacts(1)})
            async with live.services.db.session() as session:
                item = await session.scalar(select(EnrichmentItem))
                assert item is not None
                await session.execute(
                    update(EnrichmentItem)
                    .where(EnrichmentItem.id == item.id)
                    .values(not_before=datetime.now(UTC).replace(year=2100))
                )
                await runner.requeue(session, item.id, 65)
            assert await runner.items.take(item.id) is False
            async with live.services.db.session() as session:
                scheduled = (
                    await session.execute(
                        text(
                            "SELECT extract(epoch FROM scheduled_at - now()) FROM "
                            "procrastinate_jobs WHERE scheduled_at IS NOT NULL"
                        )
                    )
                ).scalar_one()
    assert 60 <= float(scheduled) <= 66


async def test_an_item_that_fails_every_try_is_finished_as_failed_and_refunded(
    queue_settings: Callable[..., Settings],
) -> None:
    """The last try of an entry whose writing kept failing answers the item as failed with its
    credit back, so the job still completes; a done item is left alone."""
    async with ProviderApi() as api:
        settings = queue_settings(api.url)
        async with LiveServer(settings, work_jobs=False) as live:
            key = await live.create_account("giveup", credits=2)
            runner = live.services.runner
            assert isinstance(runner, QueueRunner)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                job_id = (
                    await client.post("/api/v1/enrich", json={"contacts": contacts(2)})
                ).json()["jobId"]
                async with live.services.db.session() as session:
                    ids = list(
                        await session.scalars(
                            select(EnrichmentItem.id)
                            .where(EnrichmentItem.job_id == job_id)
                            .order_by(EnrichmentItem.position)
                        )
                    )
                for item_id in ids:
                    await runner.items.give_up(item_id, "lookup failed")
                await runner.items.give_up(ids[0], "lookup failed")  # done: nothing more
                body = (await client.get(f"/api/v1/enrich/{job_id}")).json()
                credits = (await client.get("/api/v1/credits")).json()
    assert body["status"] == "failed" and body["completed"] == 2
    assert [r["email"] for r in body["results"]] == [None, None]
    assert credits["balance"] == 2  # both refunded, once each
