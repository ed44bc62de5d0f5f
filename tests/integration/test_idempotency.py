"""Idempotency-Key on every POST (issue 12 §4), on SQLite and PostgreSQL, with concurrent
retries: one run, one charge, the same answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio

PERSON = {"firstName": "Ada", "lastName": "Lovelace", "website": "acme.test"}


@pytest.fixture
async def server(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[LiveServer]:
    async with LiveServer(
        make_settings(database_url=database_url, providers="email=known;phone=known")
    ) as live:
        yield live


async def _account(server: LiveServer, name: str, credits: int) -> str:
    """A new account whose imported contacts hold Ada Lovelace (imports belong to one account);
    its API key."""
    key = await server.create_account(name, credits=credits)
    async with server.services.db.write_session() as session:
        row = {
            "firstname": "Ada",
            "lastname": "Lovelace",
            "company": "",
            "website": "acme.test",
            "email": "ada@acme.test",
            "phone": "",
        }
        await import_rows(session, [(2, row)], ImportReport(), await server.account_id(name))
    return key


async def _balance(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/v1/credits")).json()["balance"])


async def test_concurrent_retries_run_once_and_charge_once(server: LiveServer) -> None:
    key = await _account(server, "idem", 10)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-API-Key": key}, timeout=30
    ) as client:
        headers = {"Idempotency-Key": "order-7f3a"}
        responses = await asyncio.gather(
            *(client.post("/api/v1/find-email", json=PERSON, headers=headers) for _ in range(8))
        )
        ok = [r for r in responses if r.status_code == 200]
        busy = [r for r in responses if r.status_code == 409]
        assert len(ok) + len(busy) == 8, [r.text for r in responses]
        assert ok, "at least the first request answers"
        assert all(r.json() == ok[0].json() for r in ok)
        assert ok[0].json()["email"] == "ada@acme.test"
        for response in busy:
            assert response.headers["Retry-After"] == "1"
            assert "still being processed" in response.json()["error"]
        assert await _balance(client) == 9  # charged exactly once

        # A later retry gets the kept answer without running or charging.
        again = await client.post("/api/v1/find-email", json=PERSON, headers=headers)
        assert again.status_code == 200 and again.json() == ok[0].json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["content-type"].startswith("application/json")
        assert await _balance(client) == 9

        # The same key with another body is a conflict, and changes nothing.
        other = await client.post(
            "/api/v1/find-email", json={**PERSON, "firstName": "Bob"}, headers=headers
        )
        assert other.status_code == 409 and "different request" in other.json()["error"]
        assert set(other.json()) == {"error"}
        assert await _balance(client) == 9


async def test_a_bulk_job_is_created_once(server: LiveServer) -> None:
    key = await _account(server, "idem-job", 10)
    body = {"contacts": [PERSON, {**PERSON, "firstName": "Bo"}]}
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-API-Key": key, "Idempotency-Key": "job-1"}, timeout=30
    ) as client:
        first, second = await asyncio.gather(
            client.post("/api/v1/enrich", json=body), client.post("/api/v1/enrich", json=body)
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses in ([202, 202], [202, 409]), (first.text, second.text)
        retry = await client.post("/api/v1/enrich", json=body)
        assert retry.status_code == 202, retry.text
        accepted = first if first.status_code == 202 else second
        assert retry.json()["jobId"] == accepted.json()["jobId"]
        assert await _balance(client) == 8  # two contacts reserved once


async def test_failures_are_not_kept_and_keys_belong_to_their_account(server: LiveServer) -> None:
    alice = await _account(server, "alice", 5)
    bob = await _account(server, "bob", 5)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        headers = {"X-API-Key": alice, "Idempotency-Key": "k-1"}
        bad = await client.post("/api/v1/find-email", json={"firstName": "A"}, headers=headers)
        assert bad.status_code == 400
        fixed = await client.post("/api/v1/find-email", json=PERSON, headers=headers)
        assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed.headers
        # Bob's "k-1" is his own: it runs and charges him.
        theirs = await client.post(
            "/api/v1/find-email", json=PERSON, headers={"X-API-Key": bob, "Idempotency-Key": "k-1"}
        )
        assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
        assert (await client.get("/api/v1/credits", headers={"X-API-Key": bob})).json()[
            "balance"
        ] == 4
        for wrong in ("x" * 256, "caf\u00e9".encode()):
            response = await client.post(
                "/api/v1/find-email",
                json=PERSON,
                headers={"X-API-Key": alice, "Idempotency-Key": wrong},
            )
            if wrong:
                assert response.status_code == 400, wrong
                assert "Idempotency-Key" in response.json()["error"]
