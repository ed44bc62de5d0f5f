"""The HTTP contract of DESIGN.md §1 over real HTTP: auth, error bodies, statuses, credits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    async with LiveServer(make_settings(providers="email=known;phone=known")) as live:
        yield live


async def _client(server: LiveServer, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30)


def _only_error(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


async def test_missing_key_is_401(server: LiveServer) -> None:
    async with await _client(server) as client:
        response = await client.get("/api/v1/credits")
    assert response.status_code == 401
    assert "API key" in _only_error(response)


async def test_unknown_key_is_401(server: LiveServer) -> None:
    async with await _client(server, "ls_live_not-a-real-key-at-all-000000") as client:
        response = await client.get("/api/v1/credits")
    assert response.status_code == 401
    _only_error(response)


async def test_x_api_key_header_is_accepted(server: LiveServer) -> None:
    key = await server.create_account("xkey", credits=7)
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as client:
        response = await client.get("/api/v1/credits")
    assert response.status_code == 200
    assert response.json() == {"balance": 7, "totalEarned": 7, "totalSpent": 0}


async def test_revoked_key_is_401(server: LiveServer) -> None:
    from leadsonar.accounts.service import revoke_keys

    key = await server.create_account("revoked", credits=5)
    async with await _client(server, key) as client:
        assert (await client.get("/api/v1/credits")).status_code == 200
        async with server.services.db.write_session() as session:
            assert await revoke_keys(session, key[:16]) == 1
        # What DELETE /keys does after its commit; a revocation by another process (the CLI)
        # reaches this one when the key cache's entry expires (LEADSONAR_AUTH_CACHE_TTL).
        server.services.principals.clear()
        response = await client.get("/api/v1/credits")
    assert response.status_code == 401
    assert key not in response.text


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "firstName is required"),
        ({"firstName": "Alex"}, "lastName is required"),
        (
            {"firstName": "", "lastName": "Johnson", "website": "x.com"},
            "firstName must not be empty",
        ),
        ({"firstName": "Alex", "lastName": "Johnson"}, "company or website"),
        ({"firstName": 5, "lastName": "Johnson", "website": "x.com"}, "firstName must be a string"),
        ([1, 2], "JSON object"),
        ({"firstName": "Alex", "lastName": "Johnson", "website": "127.0.0.1"}, "website"),
        ({"firstName": "Alex", "lastName": "Johnson", "website": "not a domain"}, "website"),
    ],
)
async def test_bad_body_is_400_with_a_sentence_and_charges_nothing(
    server: LiveServer, body: Any, says: str
) -> None:
    key = await server.create_account("bad-body", credits=3)
    async with await _client(server, key) as client:
        response = await client.post("/api/v1/find-email", json=body)
        assert response.status_code == 400, response.text
        assert says.lower() in _only_error(response).lower()
        assert (await client.get("/api/v1/credits")).json()["balance"] == 3


async def test_malformed_json_is_400(server: LiveServer) -> None:
    key = await server.create_account("malformed", credits=1)
    async with await _client(server, key) as client:
        response = await client.post(
            "/api/v1/find-email",
            content=b'{"firstName": ',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert "JSON" in _only_error(response)


async def test_unknown_route_and_job_are_404(server: LiveServer) -> None:
    key = await server.create_account("nf", credits=1)
    async with await _client(server, key) as client:
        route = await client.get("/api/v1/nothing-here")
        job = await client.get("/api/v1/enrich/enr_doesnotexist")
    assert route.status_code == 404
    _only_error(route)
    assert job.status_code == 404
    assert "enr_doesnotexist" in _only_error(job)


async def test_zero_credits_is_402_and_nothing_charged(server: LiveServer) -> None:
    key = await server.create_account("broke", credits=0)
    async with await _client(server, key) as client:
        response = await client.post(
            "/api/v1/find-email",
            json={"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"},
        )
        assert response.status_code == 402
        assert "credit" in _only_error(response).lower()
        assert (await client.get("/api/v1/credits")).json() == {
            "balance": 0,
            "totalEarned": 0,
            "totalSpent": 0,
        }


async def test_rate_limit_is_429_with_retry_after(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(providers="email=known;phone=known", rate_limit="3/minute")
    async with LiveServer(settings) as live:
        key = await live.create_account("limited", credits=1)
        async with await _client(live, key) as client:
            statuses = [(await client.get("/api/v1/credits")).status_code for _ in range(4)]
            response = await client.get("/api/v1/credits")
    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    _only_error(response)


async def test_unexpected_error_is_500_without_internals(server: LiveServer) -> None:
    key = await server.create_account("boom", credits=2)

    async def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    server.services.lookup.target = explode  # type: ignore[method-assign]
    async with await _client(server, key) as client:
        response = await client.post(
            "/api/v1/find-email", json={"firstName": "A", "lastName": "B", "website": "example.com"}
        )
    assert response.status_code == 500
    message = _only_error(response)
    assert "secret" not in message and "passwd" not in message and "Traceback" not in response.text


async def test_openapi_docs_are_served(server: LiveServer) -> None:
    async with await _client(server) as client:
        docs = await client.get("/docs")
        schema = await client.get("/openapi.json")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "/api/v1/find-email" in schema.json()["paths"]
    # Served from the package, not a CDN: the page works on a machine without internet.
    assert "cdn." not in docs.text
    async with await _client(server) as client:
        script = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_providers_lists_order_status_and_counts(server: LiveServer) -> None:
    key = await server.create_account("prov", credits=2)
    async with await _client(server, key) as client:
        await client.post(
            "/api/v1/find-email", json={"firstName": "A", "lastName": "B", "website": "example.com"}
        )
        body = (await client.get("/api/v1/providers")).json()
    rows = {row["name"]: row for row in body["providers"]}
    assert rows["known"]["enabled"] is True
    assert rows["known"]["status"] == "operational"
    assert rows["known"]["order"] == {"email": 1, "phone": 1}
    assert rows["known"]["stats"]["calls"] == 1 and rows["known"]["stats"]["misses"] == 1
    assert rows["smtp"]["enabled"] is False  # not in this order
    assert {"name", "kind", "fields", "enabled", "order", "cost", "status", "stats"} <= set(
        rows["smtp"]
    )


async def test_two_hundred_concurrent_requests_spend_exactly_fifty_credits(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """DESIGN.md §5: the ledger never goes negative and always balances under concurrency."""
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as live:
        key = await live.create_account("fifty", credits=50)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(
            base_url=live.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
            limits=limits,
        ) as client:
            body = {"firstName": "Alex", "lastName": "Johnson", "website": "notion.so"}
            responses = await asyncio.gather(
                *(client.post("/api/v1/find-email", json=body) for _ in range(200))
            )
            credits = (await client.get("/api/v1/credits")).json()
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 50, statuses
    assert statuses.count(402) == 150
    assert credits["balance"] == 0
    assert credits["totalSpent"] == 50
    assert credits["balance"] == credits["totalEarned"] - credits["totalSpent"]


async def test_rate_limit_is_shared_through_redis(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    """Two servers on one Redis storage share one key's budget (LEADSONAR_RATE_LIMIT_STORAGE)."""
    import uuid

    settings = make_settings(
        providers="email=known;phone=known",
        rate_limit="4/minute",
        rate_limit_storage=redis_url,
    )
    async with LiveServer(settings) as first, LiveServer(settings) as second:
        key = await first.create_account(f"shared-{uuid.uuid4().hex[:8]}", credits=1)
        headers = {"Authorization": f"Bearer {key}"}
        statuses = []
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            for server in (first, second, first, second, first):
                statuses.append((await client.get(f"{server.url}/api/v1/credits")).status_code)
    assert statuses == [200, 200, 200, 200, 429]


async def test_a_json_body_without_the_json_content_type_says_so(server: LiveServer) -> None:
    key = await server.create_account("ctype", credits=1)
    async with await _client(server, key) as client:
        response = await client.post(
            "/api/v1/find-email",
            content=b'{"firstName": "A", "lastName": "B", "website": "example.com"}',
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        balance = (await client.get("/api/v1/credits")).json()["balance"]
    assert response.status_code == 400
    assert "Content-Type: application/json" in _only_error(response)
    assert balance == 1


async def test_an_oversized_body_is_refused_before_it_is_read(server: LiveServer) -> None:
    key = await server.create_account("oversized", credits=1)
    async with await _client(server, key) as client:
        response = await client.post(
            "/api/v1/find-email",
            content=b"x" * (1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert "KiB" in _only_error(response)
