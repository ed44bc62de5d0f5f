"""Issue 11 §6 (the routes the dashboard needs: keys, credits per day) and §8 (/docs as a
console: security schemes, real statuses, never 422)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def live(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[tuple[LiveServer, str]]:
    async with LiveServer(make_settings(database_url=database_url, providers="email=known")) as s:
        yield s, await s.create_account("keys", credits=20)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_keys_are_listed_by_prefix_created_once_and_revoked(
    live: tuple[LiveServer, str],
) -> None:
    server, first = live
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        me = (await client.get("/api/v1/account", headers=_auth(first))).json()
        assert (me["name"], me["keyPrefix"]) == ("keys", first[:16])
        listed = await client.get("/api/v1/keys", headers=_auth(first))
        assert listed.status_code == 200
        assert first not in listed.text  # never the full key
        (only,) = listed.json()["keys"]
        assert only["prefix"] == first[:16] and only["current"] and only["active"]

        created = await client.post("/api/v1/keys", headers=_auth(first))
        assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
        second = created.json()["key"]
        assert second.startswith("ls_live_") and created.json()["prefix"] == second[:16]
        listed = (await client.get("/api/v1/keys", headers=_auth(second))).json()["keys"]
        assert [k["prefix"] for k in listed] == [second[:16], first[:16]]
        assert [k["current"] for k in listed] == [True, False]
        assert second not in str(listed) and first not in str(listed)

        revoked = await client.delete(f"/api/v1/keys/{first[:16]}", headers=_auth(second))
        assert revoked.json() == {"prefix": first[:16], "revoked": 1}
        refused = await client.get("/api/v1/credits", headers=_auth(first))
        assert refused.status_code == 401
        listed = (await client.get("/api/v1/keys", headers=_auth(second))).json()["keys"]
        assert listed[1]["active"] is False and listed[1]["revokedAt"]

        last = await client.delete(f"/api/v1/keys/{second[:16]}", headers=_auth(second))
        assert last.status_code == 400 and "last active key" in last.json()["error"]
        assert (await client.get("/api/v1/credits", headers=_auth(second))).status_code == 200


async def test_another_accounts_key_cannot_be_revoked_or_seen(
    live: tuple[LiveServer, str],
) -> None:
    server, mine = live
    theirs = await server.create_account("other-team")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        attempt = await client.delete(f"/api/v1/keys/{theirs[:16]}", headers=_auth(mine))
        listed = (await client.get("/api/v1/keys", headers=_auth(mine))).json()["keys"]
        still = await client.get("/api/v1/credits", headers=_auth(theirs))
    assert attempt.status_code == 404 and set(attempt.json()) == {"error"}
    assert [k["prefix"] for k in listed] == [mine[:16]]
    assert still.status_code == 200


async def test_credits_usage_per_day_counts_spent_refunded_and_granted(
    live: tuple[LiveServer, str],
) -> None:
    server, key = live
    async with httpx.AsyncClient(base_url=server.url, headers=_auth(key), timeout=30) as client:
        for _ in range(3):
            await client.post(
                "/api/v1/find-email",
                json={"firstName": "A", "lastName": "B", "website": "acme.com"},
            )
        usage = await client.get("/api/v1/credits/usage", params={"days": 7})
        bad = await client.get("/api/v1/credits/usage", params={"days": 0})
    assert usage.status_code == 200
    days = usage.json()["days"]
    assert len(days) == 7 and days[-1]["date"] == datetime.now(UTC).date().isoformat()
    assert days[-1] == {"date": days[-1]["date"], "spent": 3, "refunded": 0, "granted": 20}
    assert all(d["spent"] == 0 for d in days[:-1])
    assert bad.status_code == 400 and "days" in bad.json()["error"]


async def test_openapi_has_both_security_schemes_and_only_real_statuses(
    make_settings: Callable[..., Settings],
) -> None:
    async with LiveServer(make_settings()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            document = (await client.get("/openapi.json")).json()
            docs = await client.get("/docs")
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ls_live_…",
        "description": "An API key as 'Authorization: Bearer <key>'.",
    }
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    assert "422" not in str(document) and "HTTPValidationError" not in str(document)
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"bearer": []} in operation["security"] and {"apiKey": []} in operation[
                "security"
            ], (method, path)
            for code in ("401", "429", "500"):
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == error_ref, (method, path, code)
    enrich = document["paths"]["/api/v1/enrich"]["post"]["responses"]
    assert {"202", "400", "402", "413"} <= set(enrich)
    upload = document["paths"]["/api/v1/enrich/file"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"200", "202", "400", "402", "413"} <= set(upload["responses"])
    assert "404" in document["paths"]["/api/v1/enrich/{job_id}"]["get"]["responses"]
    assert docs.status_code == 200 and "/openapi.json" in docs.text
