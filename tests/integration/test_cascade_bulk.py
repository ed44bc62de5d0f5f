"""A bulk job keeps a provider busy up to its rate limit and never beyond it, counted at the
provider's (stand-in, loopback) side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer
from leadsonar.testing.providerapi import Call, ProviderApi, Reply

pytestmark = pytest.mark.asyncio

FINDER = "/v1/people/email-finder"
CONTACTS = 24
RATE = 5  # per second


def _answer(call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    email = f"{body.get('first_name', 'x').lower()}@{body.get('domain', 'x.test')}"
    return Reply({"email": email, "status": "valid", "credits_consumed": 1})


async def _wait_done(client: httpx.AsyncClient, job_id: str, seconds: float = 60) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        body = (await client.get(f"/api/v1/enrich/{job_id}")).json()
        if body["status"] != "processing":
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {body}")


async def test_bulk_job_respects_the_provider_rate_limit(
    make_settings: Callable[..., Settings],
) -> None:
    async with ProviderApi() as api:
        api.on("POST", FINDER, _answer)
        settings = make_settings(
            providers="email=leadmagic;phone=",
            leadmagic_api_key="lm-key",
            leadmagic_base_url=api.url,
            provider_limits=f"leadmagic={RATE}/second",
            job_concurrency=16,
        )
        async with LiveServer(settings) as live:
            key = await live.create_account("bulk", credits=CONTACTS)
            contacts = [
                {"firstName": f"Person{i}", "lastName": "Lee", "website": f"company{i}.test"}
                for i in range(CONTACTS)
            ]
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                began = time.monotonic()
                accepted = await client.post(
                    "/api/v1/enrich", json={"contacts": contacts, "findEmail": True}
                )
                assert accepted.status_code in (200, 202), accepted.text
                done = await _wait_done(client, accepted.json()["jobId"])
                took = time.monotonic() - began
                rows = (await client.get("/api/v1/providers")).json()["providers"]
    assert done["status"] == "completed"
    assert [r["email"] for r in done["results"]] == [
        f"person{i}@company{i}.test" for i in range(CONTACTS)
    ]
    assert api.count("POST", FINDER) == CONTACTS  # each contact asked once
    # Never beyond the limit: counted over 0.8 s windows, because the stand-in server shares the
    # event loop with the app, and a stall on a busy machine delivers requests that left 1 s
    # apart a little closer together than they were sent.
    assert api.max_per_second(FINDER, window=0.8) <= RATE
    assert api.max_per_second(FINDER) == RATE  # … and kept busy up to it
    assert took >= (CONTACTS / RATE) - 1.5
    leadmagic = next(r for r in rows if r["name"] == "leadmagic")
    assert leadmagic["limits"] == {"rate": f"{RATE} per 1 second", "concurrency": 10}
    assert leadmagic["stats"]["creditsSpent"] == CONTACTS


def _apollo(call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    first = str(body.get("first_name", "x"))
    return Reply(
        {
            "person": {
                "first_name": first,
                "last_name": "Lee",
                "email": f"{first.lower()}@{body.get('domain', 'x.test')}",
                "email_status": "verified",
                "phone_numbers": [{"sanitized_number": "+14155550192", "type": "work_direct"}],
            }
        }
    )


async def test_email_and_phone_of_one_contact_are_one_paid_request(
    make_settings: Callable[..., Settings],
) -> None:
    """Apollo answers both fields in one people/match: a contact asking for both is asked,
    and charged at the provider, once."""
    match = "/api/v1/people/match"
    async with ProviderApi() as api:
        api.on("POST", match, _apollo)
        settings = make_settings(
            providers="email=apollo;phone=apollo", apollo_api_key="ap-key", apollo_base_url=api.url
        )
        async with LiveServer(settings) as live:
            key = await live.create_account("both", credits=10)
            contacts = [
                {"firstName": f"Person{i}", "lastName": "Lee", "website": f"company{i}.test"}
                for i in range(3)
            ]
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                accepted = await client.post(
                    "/api/v1/enrich",
                    json={"contacts": contacts, "findEmail": True, "findPhone": True},
                )
                assert accepted.status_code in (200, 202), accepted.text
                done = await _wait_done(client, accepted.json()["jobId"])
                rows = (await client.get("/api/v1/providers")).json()["providers"]
    assert [(r["email"], r["phone"]) for r in done["results"]] == [
        (f"person{i}@company{i}.test", "+1-415-555-0192") for i in range(3)
    ]
    assert api.count("POST", match) == 3  # one request per contact, not one per field
    apollo = next(r for r in rows if r["name"] == "apollo")
    assert (apollo["stats"]["requests"], apollo["stats"]["creditsSpent"]) == (3, 3.0)
    assert (apollo["stats"]["calls"], apollo["stats"]["hits"]) == (6, 6)
