"""The cost-aware cascade over real HTTP: LeadSonar served by uvicorn, the providers' APIs by a
scripted stand-in on loopback (never a real provider host).

Three providers: Hunter times out, Prospeo throttles (429 with ``Retry-After``), LeadMagic
answers. The answer arrives, every provider is called once and nothing is paid twice, the
account is charged its one credit, ``/providers`` shows each provider's state, an identical
lookup is served from the cache without calling anyone, and the provider-side credits survive a
restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer
from leadsonar.testing.providerapi import ProviderApi, Reply

pytestmark = pytest.mark.asyncio

EMAIL = "alex.johnson@notion.so"
LOOKUP = {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}
HUNTER, PROSPEO, LEADMAGIC = "/email-finder", "/enrich-person", "/v1/people/email-finder"


def _settings(make_settings: Callable[..., Settings], api: ProviderApi, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "providers": "email=hunter,prospeo,leadmagic;phone=",
        "hunter_api_key": "hunter-key-secret-1",
        "hunter_base_url": api.url,
        "prospeo_api_key": "prospeo-key-secret-2",
        "prospeo_base_url": api.url,
        "leadmagic_api_key": "leadmagic-key-secret-3",
        "leadmagic_base_url": api.url,
        "provider_timeout": 0.5,
    }
    values.update(extra)
    return make_settings(**values)


def _script(api: ProviderApi) -> None:
    api.on("GET", HUNTER, Reply({"data": {"email": EMAIL}}, delay=3.0))  # hangs: a timeout
    api.on(
        "POST",
        PROSPEO,
        Reply({"error": True, "error_code": "RATE_LIMITED"}, 429, {"Retry-After": "30"}),
    )
    api.on(
        "POST",
        LEADMAGIC,
        Reply({"email": EMAIL, "status": "valid", "credits_consumed": 1, "message": "Valid"}),
    )


async def test_first_times_out_second_throttles_third_answers(
    make_settings: Callable[..., Settings],
) -> None:
    async with ProviderApi() as api:
        _script(api)
        settings = _settings(make_settings, api)
        async with LiveServer(settings) as live:
            key = await live.create_account("cascade", credits=5)
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as client:
                answer = (await client.post("/api/v1/find-email", json=LOOKUP)).json()
                credits = (await client.get("/api/v1/credits")).json()
                providers = await client.get("/api/v1/providers")
                again = (await client.post("/api/v1/find-email", json=LOOKUP)).json()
        calls_after_retry = (
            api.count(None, HUNTER),
            api.count(None, PROSPEO),
            api.count(None, LEADMAGIC),
        )
    assert answer["email"] == EMAIL
    assert answer["provider"] == "leadmagic"
    assert answer["confidence"] == "medium"  # one provider's verified answer (DESIGN §3)
    assert answer["verification"] == "valid"
    assert answer["credits_used"] == 1
    assert answer["waterfall"] == {
        "tried": ["hunter", "prospeo", "leadmagic"],
        "answered": ["leadmagic"],
        "cost": 1.0,
        "cached": False,
    }
    assert credits == {"balance": 4, "totalEarned": 5, "totalSpent": 1}

    rows = {row["name"]: row for row in providers.json()["providers"]}
    assert rows["hunter"]["status"] == "degraded"
    assert rows["hunter"]["stats"]["lastErrorClass"] == "timeout"
    assert rows["hunter"]["stats"]["timeouts"] == 1
    assert rows["prospeo"]["status"] == "degraded"
    assert rows["prospeo"]["reason"] == "throttled"
    assert rows["prospeo"]["restingFor"] > 20
    assert rows["prospeo"]["stats"]["creditsSpent"] == 0
    assert rows["leadmagic"]["status"] == "operational"
    assert rows["leadmagic"]["stats"]["hits"] == 1
    assert rows["leadmagic"]["stats"]["creditsSpent"] == 1
    assert rows["leadmagic"]["stats"]["latencyP50Ms"] is not None
    assert rows["apollo"]["status"] == "unconfigured"
    assert rows["apollo"]["reason"] == "missing LEADSONAR_APOLLO_API_KEY"
    for secret in ("hunter-key-secret-1", "prospeo-key-secret-2", "leadmagic-key-secret-3"):
        assert secret not in providers.text

    # The identical lookup is answered from the cache: nobody is called (or paid) again, and
    # the caller pays LeadSonar's 1 credit per request as the spec says.
    assert again["email"] == EMAIL and again["provider"] == "leadmagic"
    assert again["credits_used"] == 1
    assert again["waterfall"] == {"tried": [], "answered": [], "cost": 0.0, "cached": True}
    assert calls_after_retry == (1, 1, 1)


async def test_provider_credits_spent_survive_a_restart(
    make_settings: Callable[..., Settings],
) -> None:
    async with ProviderApi() as api:
        _script(api)
        settings = _settings(make_settings, api, providers="email=leadmagic;phone=")
        async with LiveServer(settings) as live:
            key = await live.create_account("restart", credits=5)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                await client.post("/api/v1/find-email", json=LOOKUP)
        async with LiveServer(settings) as live:
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                rows = (await client.get("/api/v1/providers")).json()["providers"]
    leadmagic = next(row for row in rows if row["name"] == "leadmagic")
    assert leadmagic["stats"]["creditsSpent"] == 1
    assert leadmagic["stats"]["calls"] == 0  # this process made no call: the total persisted


async def test_cache_off_asks_again_and_a_medium_answer_stops_paid_providers(
    make_settings: Callable[..., Settings],
) -> None:
    """With the cache off the same lookup asks again; after LeadMagic's medium answer Apollo
    (not cheaper) is never paid for the same address."""
    async with ProviderApi() as api:
        _script(api)
        api.on(
            "POST",
            "/api/v1/people/match",
            Reply({"person": {"email": EMAIL, "email_status": "verified"}}),
        )
        settings = _settings(
            make_settings,
            api,
            providers="email=leadmagic,apollo;phone=",
            apollo_api_key="apollo-key",
            apollo_base_url=api.url,
            lookup_cache_ttl=0,
        )
        async with LiveServer(settings) as live:
            key = await live.create_account("nocache", credits=5)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                for _ in range(2):
                    answer = (await client.post("/api/v1/find-email", json=LOOKUP)).json()
                    assert answer["provider"] == "leadmagic"
        assert api.count(None, LEADMAGIC) == 2
        assert api.count(None, "/api/v1/people/match") == 0
