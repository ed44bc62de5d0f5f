"""Bulk jobs over HTTP: validation, reservation, progress, results in input order, isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
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


async def _seed(live: LiveServer, account: str) -> None:
    owner = await live.account_id(account)
    async with live.services.db.session() as session:
        await import_rows(session, list(enumerate(KNOWN, start=2)), ImportReport(), owner)


async def _wait_done(client: httpx.AsyncClient, job_id: str, seconds: float = 30) -> dict[str, Any]:
    for _ in range(int(seconds / 0.1)):
        body = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if body["status"] != "processing":
            return dict(body)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {body}")


async def test_spec_example_job_completes_in_input_order(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as live:
        key = await live.create_account("jobs", credits=10)
        await _seed(live, "jobs")
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as client:
            accepted = await client.post(
                "/api/v1/enrich",
                json={
                    "contacts": [
                        {"firstName": "Sarah", "lastName": "Chen", "website": "figma.com"},
                        {"firstName": "Mike", "lastName": "Lee", "website": "linear.app"},
                        {"firstName": "Nobody", "lastName": "Here", "website": "linear.app"},
                    ],
                    "findEmail": True,
                    "findPhone": True,
                },
            )
            assert accepted.status_code == 202
            body = accepted.json()
            assert body["jobId"].startswith("enr_")
            assert {k: body[k] for k in ("status", "total", "message")} == {
                "status": "processing",
                "total": 3,
                "message": "Enrichment job started",
            }
            # Credits are reserved when the job is accepted: 3 contacts x 2 types.
            assert (await client.get("/api/v1/credits")).json()["balance"] == 4
            done = await _wait_done(client, body["jobId"])
            assert (await client.get("/api/v1/credits")).json()["totalSpent"] == 6
    assert done["status"] == "completed"
    assert done["total"] == 3 and done["completed"] == 3
    results = done["results"]
    assert [(r["firstName"], r["lastName"]) for r in results] == [
        ("Sarah", "Chen"),
        ("Mike", "Lee"),
        ("Nobody", "Here"),
    ]
    assert results[0]["email"] == "sarah@figma.com"
    assert results[0]["phone"] == "+1-415-555-0301"
    assert results[0]["confidence"] == "medium"
    assert results[1]["email"] == "mike@linear.app" and results[1]["phone"] is None
    assert results[2]["email"] is None and results[2]["confidence"] is None
    for row in results:
        assert {"firstName", "lastName", "email", "phone", "confidence"} <= set(row)


async def test_job_is_invisible_to_other_accounts(make_settings: Callable[..., Settings]) -> None:
    async with LiveServer(make_settings(providers="email=known;phone=known")) as live:
        owner = await live.create_account("owner", credits=5)
        other = await live.create_account("other", credits=5)
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            job = await client.post(
                "/api/v1/enrich",
                headers={"Authorization": f"Bearer {owner}"},
                json={"contacts": [{"firstName": "A", "lastName": "B", "website": "example.com"}]},
            )
            peek = await client.get(
                f"/api/v1/enrich/{job.json()['jobId']}",
                headers={"Authorization": f"Bearer {other}"},
            )
    assert peek.status_code == 404
    assert set(peek.json()) == {"error"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"contacts": []}, "contacts must not be empty"),
        (
            {"contacts": [{"firstName": "A", "lastName": "B"}]},
            "contacts[0]: provide website, or companyName",
        ),
        (
            {"contacts": [{"firstName": "A", "lastName": "B", "website": "x.com"}] * 101},
            "at most 100",
        ),
        (
            {
                "contacts": [{"firstName": "A", "lastName": "B", "website": "x.com"}],
                "findEmail": False,
            },
            "nothing to find",
        ),
        (
            {
                "contacts": [
                    {"firstName": "A", "lastName": "B", "website": "x.com"},
                    {"firstName": "C", "lastName": "D", "website": "localhost"},
                ]
            },
            "contacts[1].website",
        ),
        (
            {
                "contacts": [{"firstName": "A", "lastName": "B", "website": "x.com"}],
                "findPhone": "yes",
            },
            "findPhone must be true or false",
        ),
    ],
)
async def test_bad_job_is_400_and_creates_nothing(
    make_settings: Callable[..., Settings], body: dict[str, Any], says: str
) -> None:
    async with LiveServer(make_settings(providers="email=known;phone=known")) as live:
        key = await live.create_account("badjob", credits=500)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as client:
            response = await client.post("/api/v1/enrich", json=body)
            balance = (await client.get("/api/v1/credits")).json()["balance"]
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]
    assert balance == 500


async def test_short_of_credits_is_402_and_no_job(make_settings: Callable[..., Settings]) -> None:
    from sqlalchemy import func, select

    from leadsonar.enrichment.models import EnrichmentJob

    async with LiveServer(make_settings(providers="email=known;phone=known")) as live:
        key = await live.create_account("short", credits=3)
        headers = {"Authorization": f"Bearer {key}"}
        contacts = [{"firstName": "A", "lastName": str(i), "website": "x.com"} for i in range(2)]
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as client:
            response = await client.post(
                "/api/v1/enrich", json={"contacts": contacts, "findPhone": True}
            )
            balance = (await client.get("/api/v1/credits")).json()
        async with live.services.db.session() as session:
            jobs = await session.scalar(select(func.count()).select_from(EnrichmentJob))
    assert response.status_code == 402
    assert balance == {"balance": 3, "totalEarned": 3, "totalSpent": 0}
    assert jobs == 0
