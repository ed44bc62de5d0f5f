"""Issue 11 §1-§2: job rows that explain themselves, the job list, cancel, repeats charged once,
results.csv — over HTTP, on SQLite and PostgreSQL where data is written."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.enrichment.models import EnrichmentItem, EnrichmentJob, ItemState, JobState
from leadsonar.ledger.models import LedgerEntry
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio

KNOWN = [
    {
        "firstname": "Sarah",
        "lastname": "Chen",
        "company": "Figma",
        "website": "figma.com",
        "email": "sarah@figma.com",
        "phone": "+1 415 555 0301",
    },
    {
        "firstname": "Mike",
        "lastname": "Lee",
        "company": "Linear",
        "website": "linear.app",
        "email": "mike@linear.app",
        "phone": "",
    },
]
SARAH = {"firstName": "Sarah", "lastName": "Chen", "website": "figma.com"}
MIKE = {"firstName": "Mike", "lastName": "Lee", "website": "linear.app"}
NOBODY = {"firstName": "Nobody", "lastName": "Here", "website": "linear.app"}


async def wait_done(client: httpx.AsyncClient, job_id: str, seconds: float = 30) -> dict[str, Any]:
    for _ in range(int(seconds / 0.1)):
        body = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if body["status"] != "processing":
            return dict(body)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {body}")


@pytest.fixture
async def live(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as server:
        key = await server.create_account("jobs", credits=100)
        owner = await server.account_id("jobs")
        async with server.services.db.session() as session:
            await import_rows(session, list(enumerate(KNOWN, start=2)), ImportReport(), owner)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            yield server, client


async def test_rows_carry_the_single_lookup_fields_and_a_repeat_is_charged_once(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    accepted = await client.post(
        "/api/v1/enrich",
        json={"contacts": [SARAH, MIKE, dict(SARAH), NOBODY], "findPhone": True},
    )
    assert accepted.status_code == 202, accepted.text
    # 3 distinct people x 2 types: the repeated Sarah Chen is not charged again.
    assert accepted.json()["credits_used"] == 6
    done = await wait_done(client, accepted.json()["jobId"])
    assert done["status"] == "completed" and done["completed"] == 4
    sarah, mike, again, nobody = done["results"]
    for row in done["results"]:
        assert {"reason", "verification", "provider", "domain", "companyPhone"} <= set(row)
    assert (sarah["email"], sarah["provider"], sarah["domain"]) == (
        "sarah@figma.com",
        "known",
        "figma.com",
    )
    assert sarah["phone"] == "+1-415-555-0301"
    assert again["duplicateOf"] == 0 and again["email"] == sarah["email"]
    assert again["phone"] == sarah["phone"] and again["position"] == 2
    assert mike["phone"] is None and mike["reason"]  # found an email, says why no phone
    assert nobody["email"] is None and nobody["reason"]
    assert (await client.get("/api/v1/credits")).json()["totalSpent"] == 6
    job_id = accepted.json()["jobId"]
    page = (await client.get(f"/api/v1/enrich/{job_id}", params={"after": 0, "limit": 2})).json()
    assert [r["position"] for r in page["results"]] == [1, 2] and page["completed"] == 4
    assert page["results"] == done["results"][1:3]


async def test_jobs_are_listed_newest_first_with_a_cursor(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    ids = []
    for source in ("api", "dashboard", "api"):
        response = await client.post("/api/v1/enrich", json={"contacts": [MIKE], "source": source})
        ids.append(response.json()["jobId"])
    await wait_done(client, ids[-1])
    first = (await client.get("/api/v1/enrich", params={"limit": 2})).json()
    assert [j["jobId"] for j in first["jobs"]] == [ids[2], ids[1]]
    assert first["jobs"][1]["source"] == "dashboard"
    for job in first["jobs"]:
        assert {
            "jobId",
            "status",
            "total",
            "completed",
            "createdAt",
            "finishedAt",
            "source",
        } <= set(job)
    second = (
        await client.get("/api/v1/enrich", params={"limit": 2, "cursor": first["nextCursor"]})
    ).json()
    assert [j["jobId"] for j in second["jobs"]] == [ids[0]]
    assert second["nextCursor"] is None
    bad = await client.get("/api/v1/enrich", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and set(bad.json()) == {"error"}
    too_many = await client.get("/api/v1/enrich", params={"limit": 1000})
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]
    other = await server.create_account("someone-else", credits=0)
    theirs = await client.get("/api/v1/enrich", headers={"Authorization": f"Bearer {other}"})
    assert theirs.json() == {"jobs": [], "nextCursor": None}


async def test_cancel_refunds_the_unworked_rows_in_one_entry_and_they_are_never_worked(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    await server.services.runner.stop()  # nothing is worked until we say so
    accepted = await client.post(
        "/api/v1/enrich", json={"contacts": [SARAH, MIKE, NOBODY, SARAH], "findPhone": True}
    )
    job_id = accepted.json()["jobId"]
    assert (await client.get("/api/v1/credits")).json()["balance"] == 100 - 6
    cancelled = await client.post(f"/api/v1/enrich/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {
        "jobId": job_id,
        "status": "cancelled",
        "cancelled": 4,
        "credits_refunded": 6,
    }
    await server.services.runner.start()
    await asyncio.sleep(1.0)  # several poll intervals: a cancelled row must stay unworked
    status = (await client.get(f"/api/v1/enrich/{job_id}")).json()
    assert status["status"] == "cancelled" and status["finishedAt"]
    async with server.services.db.session() as session:
        rows = (
            await session.scalars(select(EnrichmentItem).where(EnrichmentItem.job_id == job_id))
        ).all()
        refunds = (
            await session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.reference == job_id, LedgerEntry.reason == "refund:cancel"
                )
            )
        ).all()
    assert {row.status for row in rows} == {"cancelled"}
    assert all(row.email is None and row.sources == 0 for row in rows)
    assert [entry.amount for entry in refunds] == [6]
    assert (await client.get("/api/v1/credits")).json()["balance"] == 100
    again = await client.post(f"/api/v1/enrich/{job_id}/cancel")
    assert again.status_code == 400 and "already cancelled" in again.json()["error"]
    exported = await client.get(f"/api/v1/enrich/{job_id}/results.csv")
    assert all("cancelled" in row["reason"] for row in csv.DictReader(io.StringIO(exported.text)))
    missing = await client.post("/api/v1/enrich/enr_nope/cancel")
    assert missing.status_code == 404


async def test_results_csv_has_the_input_columns_then_the_results(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    _, client = live
    contacts = [dict(SARAH, companyName="Figma"), NOBODY]
    job_id = (
        await client.post("/api/v1/enrich", json={"contacts": contacts, "findPhone": True})
    ).json()["jobId"]
    done = await wait_done(client, job_id)
    response = await client.get(f"/api/v1/enrich/{job_id}/results.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"{job_id}.csv" in response.headers["content-disposition"]
    reader = csv.reader(io.StringIO(response.content.decode("utf-8")))
    header = next(reader)
    assert header == [
        "firstName",
        "lastName",
        "website",
        "companyName",
        "email",
        "confidence",
        "phone",
        "type",
        "companyPhone",
        "verification",
        "reason",
    ]
    rows = list(reader)
    assert rows[0][:5] == ["Sarah", "Chen", "figma.com", "Figma", "sarah@figma.com"]
    assert rows[0][6:8] == ["+1-415-555-0301", "direct"] or rows[0][6] == "+1-415-555-0301"
    assert rows[1][4] == "" and rows[1][10] == done["results"][1]["reason"]
    other = await client.get("/api/v1/enrich/enr_doesnotexist/results.csv")
    assert other.status_code == 404 and set(other.json()) == {"error"}


async def test_another_account_cannot_see_cancel_or_download_a_job(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    server, client = live
    job_id = (await client.post("/api/v1/enrich", json={"contacts": [SARAH, MIKE, NOBODY]})).json()[
        "jobId"
    ]
    other = await server.create_account("intruder", credits=5)
    theirs = {"Authorization": f"Bearer {other}"}
    for method, path in [
        ("GET", f"/api/v1/enrich/{job_id}"),
        ("POST", f"/api/v1/enrich/{job_id}/cancel"),
        ("GET", f"/api/v1/enrich/{job_id}/results.csv"),
        ("GET", f"/api/v1/enrich/{job_id}/deliveries"),
    ]:
        answer = await client.request(method, path, headers=theirs)
        assert answer.status_code == 404, (path, answer.text)
        assert set(answer.json()) == {"error"} and "Sarah" not in answer.text
    done = await wait_done(client, job_id)
    assert done["status"] == "completed"  # the intruder's cancel changed nothing
    mine = (await client.get("/api/v1/enrich", params={"limit": 1})).json()
    assert mine["nextCursor"] is None or mine["jobs"][0]["jobId"] == job_id
    # A cursor taken from this account's list pages nothing of it for another account.
    own = await client.get("/api/v1/enrich", params={"limit": 1})
    cursor = own.json()["nextCursor"] or "MjAzMC0wMS0wMVQwMDowMDowMHxlbnJfeA"
    peek = await client.get("/api/v1/enrich", params={"cursor": cursor}, headers=theirs)
    assert peek.status_code == 200 and peek.json()["jobs"] == []


async def test_cancels_racing_each_other_and_the_runner_refund_exactly_once(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    """Five cancels at once while rows are being worked: one wins (or the job completed
    first and all are refused), one refund entry of exactly the rows that were never worked."""
    server, client = live
    contacts = [
        {"firstName": f"Person{n}", "lastName": "Racer", "website": "linear.app"} for n in range(30)
    ]
    job_id = (await client.post("/api/v1/enrich", json={"contacts": contacts})).json()["jobId"]
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/enrich/{job_id}/cancel") for _ in range(5))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes in ([200, 400, 400, 400, 400], [400] * 5), [a.text for a in answers]
    # rows running at the cancel finish normally (a lookup may take a few seconds)
    for _ in range(150):
        async with server.services.db.read_session() as session:
            running = await session.scalar(
                select(func.count()).where(
                    EnrichmentItem.job_id == job_id, EnrichmentItem.status == "running"
                )
            )
        if not running:
            break
        await asyncio.sleep(0.1)
    status = (await client.get(f"/api/v1/enrich/{job_id}")).json()
    async with server.services.db.session() as session:
        rows = (
            await session.scalars(select(EnrichmentItem).where(EnrichmentItem.job_id == job_id))
        ).all()
        refunds = (
            await session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.reference == job_id, LedgerEntry.reason == "refund:cancel"
                )
            )
        ).all()
    cancelled = sum(1 for row in rows if row.status == "cancelled")
    if 200 in codes:
        won = next(a.json() for a in answers if a.status_code == 200)
        assert status["status"] == "cancelled"
        assert won["credits_refunded"] == cancelled
        assert [entry.amount for entry in refunds] == ([cancelled] if cancelled else [])
    else:
        assert status["status"] == "completed" and refunds == [] and cancelled == 0
    assert all(row.status in ("done", "cancelled") for row in rows), [r.status for r in rows]


async def test_a_row_claimed_just_before_a_cancel_is_worked_not_left_running(
    live: tuple[LiveServer, httpx.AsyncClient],
) -> None:
    """The job is cancelled between a row's claim (``running``) and its worker's first read:
    the cancel leaves running rows to finish (it refunds only the rows never claimed), so
    the worker works it to ``done``. It used to return and leave the row ``running`` for
    good (found when the runner's idle poll became a plain read and claims came sooner)."""
    server, client = live
    await server.services.runner.stop()  # claims are this test's, not the runner's
    job_id = (await client.post("/api/v1/enrich", json={"contacts": [SARAH]})).json()["jobId"]
    async with server.services.db.session() as session:
        item_id = await session.scalar(
            select(EnrichmentItem.id).where(EnrichmentItem.job_id == job_id)
        )
        await session.execute(
            update(EnrichmentItem)
            .where(EnrichmentItem.id == item_id)
            .values(status=ItemState.RUNNING)
        )
        await session.execute(
            update(EnrichmentJob)
            .where(EnrichmentJob.id == job_id)
            .values(status=JobState.CANCELLED)
        )
    await server.services.runner.items.work(item_id)
    async with server.services.db.read_session() as session:
        row = await session.get(EnrichmentItem, item_id)
    assert row is not None and row.status == ItemState.DONE
    assert row.email == "sarah@figma.com"
