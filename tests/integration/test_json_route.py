"""JsonBodyRoute and the principal from the auth edge (find-email, find-phone,
verify-email): the same answers as FastAPI's generic handler gave before (f289e5b) for odd
bodies, and the same authentication wherever the app is served."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio

GOOD = {"firstName": "Ada", "lastName": "Lovelace", "website": "example.com"}


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    async with LiveServer(make_settings(providers="email=known;phone=known")) as live:
        yield live


async def _post(server: LiveServer, key: str, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.post(
            "/api/v1/find-email",
            content=body,
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )


async def test_a_utf8_bom_body_is_accepted_as_before(server: LiveServer) -> None:
    """Before: FastAPI's json.loads(bytes) ignored a UTF-8 byte order mark (RFC 8259 §8.1
    allows it; Windows PowerShell 5 and .NET clients send one) and answered 200. Every other
    JSON route of the app still does."""
    key = await server.create_account("bom", credits=3)
    answer = await _post(server, key, b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    assert answer.status_code == 200, answer.text


async def test_a_whitespace_body_is_not_valid_json_as_before(server: LiveServer) -> None:
    """Before: a body of only whitespace was not empty, went to json.loads and was answered
    'The request body is not valid JSON.'; an empty body 'A JSON request body is required.'"""
    key = await server.create_account("blank", credits=3)
    answer = await _post(server, key, b"  \n ")
    assert answer.status_code == 400
    assert answer.json() == {"error": "The request body is not valid JSON."}


async def test_lookup_routes_authenticate_under_a_root_path(
    make_settings: Callable[..., Settings],
) -> None:
    """Served under a root path (``uvicorn --root-path /leadsonar`` behind a reverse proxy),
    ``scope["path"]`` is ``/leadsonar/api/v1/...``, so AuthFirstMiddleware (prefix ``/api/v1/``)
    lets the request through unauthenticated. Before, ``current_principal`` then authenticated
    the key itself (200); the hot routes' ``authenticated()`` now answers 401 'Missing API key'
    to a valid key, while ``GET /credits`` with the same key works."""
    live = LiveServer(make_settings(providers="email=known;phone=known"))
    live.server.config.root_path = "/leadsonar"
    async with live:
        key = await live.create_account("proxied", credits=3)
        async with httpx.AsyncClient(base_url=live.url, headers={"X-API-Key": key}) as client:
            assert (await client.get("/api/v1/credits")).status_code == 200
            answer = await client.post("/api/v1/find-email", json=GOOD)
    assert answer.status_code == 200, answer.text
