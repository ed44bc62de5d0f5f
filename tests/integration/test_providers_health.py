"""Provider health on ``/providers`` over real HTTP: a rejected key is ``down`` (``bad key``),
an account out of credits is ``degraded`` and skipped until it recovers, keys never show, and a
phone-first provider answers find-phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer
from leadsonar.testing.providerapi import ProviderApi, Reply

EMAIL = "alex.johnson@notion.so"
LOOKUP = {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}


async def _ask(live: LiveServer, key: str, path: str, times: int = 1) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        return [(await client.post(path, json=LOOKUP)).json() for _ in range(times)]


async def _providers(live: LiveServer, key: str) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        return await client.get("/api/v1/providers")


async def test_rejected_key_is_down_and_out_of_credits_is_degraded_and_skipped(
    make_settings: Callable[..., Settings],
) -> None:
    async with ProviderApi() as api:
        api.on(
            "GET",
            "/email-finder",
            Reply({"errors": [{"id": "authentication_failed", "code": 401}]}, 401),
        )
        api.on("POST", "/api/search/name", Reply({"error": "Not enough credits"}))
        api.on(
            "POST",
            "/v1/people/email-finder",
            Reply({"email": EMAIL, "status": "valid", "credits_consumed": 1}),
        )
        settings = make_settings(
            providers="email=hunter,findymail,leadmagic;phone=",
            hunter_api_key="hunter-secret-value",
            hunter_base_url=api.url,
            findymail_api_key="findymail-secret-value",
            findymail_base_url=api.url,
            leadmagic_api_key="leadmagic-secret-value",
            leadmagic_base_url=api.url,
            lookup_cache_ttl=0,
        )
        async with LiveServer(settings) as live:
            key = await live.create_account("health", credits=5)
            answers = await _ask(live, key, "/api/v1/find-email", times=2)
            providers = await _providers(live, key)
    assert [a["email"] for a in answers] == [EMAIL, EMAIL]
    assert api.count(None, "/email-finder") == 1  # a rejected key is not retried at once
    assert api.count(None, "/api/search/name") == 1  # out of credits: skipped until it recovers
    assert api.count(None, "/v1/people/email-finder") == 2
    rows = {row["name"]: row for row in providers.json()["providers"]}
    assert (rows["hunter"]["status"], rows["hunter"]["reason"]) == ("down", "bad key")
    assert rows["hunter"]["stats"]["lastErrorClass"] == "bad key"
    assert (rows["findymail"]["status"], rows["findymail"]["reason"]) == (
        "degraded",
        "out of credits",
    )
    assert rows["leadmagic"]["status"] == "operational"
    assert rows["leadmagic"]["stats"]["requests"] == 2
    for secret in ("hunter-secret-value", "findymail-secret-value", "leadmagic-secret-value"):
        assert secret not in providers.text


async def test_a_phone_first_provider_answers_find_phone(
    make_settings: Callable[..., Settings],
) -> None:
    lusha = {
        "contact": {
            "data": {
                "firstName": "Alex",
                "lastName": "Johnson",
                "phoneNumbers": [
                    {"number": "+1 415-555-0192", "phoneType": "direct", "doNotCall": False}
                ],
                "emailAddresses": [],
            },
            "isCreditCharged": True,
        }
    }
    async with ProviderApi() as api:
        api.on("GET", "/v2/person", Reply(lusha))
        settings = make_settings(
            providers="email=;phone=lusha", lusha_api_key="lusha-key", lusha_base_url=api.url
        )
        async with LiveServer(settings) as live:
            key = await live.create_account("phone", credits=2)
            [answer] = await _ask(live, key, "/api/v1/find-phone")
    assert answer["phone"] == "+1-415-555-0192"
    assert (answer["type"], answer["provider"]) == ("direct", "lusha")
    sent = api.matching("GET", "/v2/person")[0]
    assert sent.query == {"firstName": "Alex", "lastName": "Johnson", "companyDomain": "notion.so"}
    assert "api_key" in sent.header_names


async def test_every_commercial_provider_is_listed_unconfigured_without_its_key(
    make_settings: Callable[..., Settings],
) -> None:
    async with LiveServer(make_settings(providers="email=known;phone=known")) as live:
        key = await live.create_account("list", credits=1)
        rows = {r["name"]: r for r in (await _providers(live, key)).json()["providers"]}
    for name in (
        "hunter",
        "prospeo",
        "leadmagic",
        "findymail",
        "icypeas",
        "dropcontact",
        "apollo",
        "pdl",
        "lusha",
    ):
        assert rows[name]["status"] == "unconfigured"
        assert rows[name]["reason"] == f"missing LEADSONAR_{name.upper()}_API_KEY"
        assert rows[name]["kind"] == "http" and rows[name]["enabled"] is False
