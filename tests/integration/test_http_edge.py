"""Limits before work (issue 12 §1): the body limit counts received bytes (chunked bodies too),
the key is checked before the body is read, failed authentications are throttled per address,
control characters are refused on every route and both databases, 405 names ``Allow``."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio

MIB = 1024 * 1024


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    async with LiveServer(
        make_settings(providers="email=known;phone=known", auth_failure_limit="5/minute")
    ) as live:
        yield live


async def _balance(server: LiveServer, key: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as client:
        return int((await client.get("/api/v1/credits")).json()["balance"])


async def _raw_chunked(
    server: LiveServer, headers: dict[str, str], chunks: int, chunk_size: int = 64 * 1024
) -> tuple[int, dict[str, str], bytes, int]:
    """POST find-email with a chunked body of ``chunks`` chunks over a raw socket, never sending
    the terminating chunk; read the answer while the body is still unfinished.

    Returns (status, headers, body, chunks actually written before the answer came)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = "POST /api/v1/find-email HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
    head += "Content-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode())
    sent = 0
    piece = b"x" * chunk_size
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    try:
        for _ in range(chunks):
            if answer.done():
                break
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
            sent += 1
            await asyncio.sleep(0)
        status_head = await asyncio.wait_for(answer, 10)
        lines = status_head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        response_headers = {
            k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        body = await reader.readexactly(int(response_headers["content-length"]))
        return status, response_headers, body, sent
    finally:
        answer.cancel()
        writer.close()


async def test_a_chunked_body_over_the_limit_is_413_before_the_rest_is_read(
    server: LiveServer,
) -> None:
    key = await server.create_account("chunky", credits=3)
    # 64 KiB chunks: 16 reach the limit, the 17th crosses it; offer 200 (12.5 MiB) and never end.
    status, _, body, sent = await _raw_chunked(server, {"X-API-Key": key}, chunks=200)
    assert status == 413
    assert "KiB" in json.loads(body)["error"]
    assert sent < 200, "the answer came only after the whole body was sent"
    assert await _balance(server, key) == 3  # nothing charged


async def test_a_chunked_body_without_a_key_is_401_before_any_of_it_is_read(
    server: LiveServer,
) -> None:
    status, headers, body, _ = await _raw_chunked(server, {}, chunks=1)
    assert status == 401
    assert "API key" in json.loads(body)["error"]
    assert headers.get("www-authenticate") == "Bearer"


async def test_a_bad_body_without_a_key_is_401_not_400(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/v1/find-email", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 401


async def test_a_key_in_the_query_string_is_refused_with_a_sentence_saying_why(
    server: LiveServer,
) -> None:
    key = await server.create_account("inurl", credits=1)
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/api/v1/credits", params={"api_key": key})
    assert response.status_code == 401
    assert "not accepted in the URL" in response.json()["error"]


async def test_failed_authentications_are_throttled_per_address(server: LiveServer) -> None:
    good = await server.create_account("victim", credits=1)
    async with httpx.AsyncClient(base_url=server.url) as client:
        bad = {"Authorization": "Bearer ls_live_guess-guess-guess-guess-guess-guess00"}
        statuses = [
            (await client.get("/api/v1/credits", headers=bad)).status_code for _ in range(5)
        ]
        assert statuses == [401] * 5
        throttled = await client.get("/api/v1/credits", headers=bad)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) >= 1
        assert set(throttled.json()) == {"error"}
        # Throttled means the address, whatever key it now presents (no more key lookups).
        again = await client.get("/api/v1/credits", headers={"X-API-Key": good})
        assert again.status_code == 429
    # Routes without a key are not affected.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).status_code == 200


async def test_405_names_the_allowed_methods(server: LiveServer) -> None:
    key = await server.create_account("methods", credits=1)
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as client:
        response = await client.put("/api/v1/find-email", json={})
        credits = await client.delete("/api/v1/credits")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert set(response.json()) == {"error"}
    assert credits.status_code == 405 and "GET" in credits.headers["Allow"]


async def test_every_response_carries_a_request_id(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        generated = await client.get("/healthz")
        echoed = await client.get("/api/v1/credits", headers={"X-Request-ID": "abc-123"})
        hostile = await client.get("/healthz", headers={"X-Request-ID": "a b\tc" * 50})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])


# --- control characters on every route, SQLite and PostgreSQL ------------------------------

# A valid body per known POST route; a route added later gets the generic one (any JSON object
# whose strings carry the character must be refused before the route parses it).
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/find-email": {"firstName": "Alex", "lastName": "Smith", "company": "Acme Corp"},
    "/api/v1/find-phone": {"firstName": "Alex", "lastName": "Smith", "website": "acme.example"},
    "/api/v1/verify-email": {"email": "alex@acme.example"},
    "/api/v1/enrich": {
        "contacts": [{"firstName": "Alex", "lastName": "Smith", "website": "acme.example"}]
    },
}
GENERIC_BODY: dict[str, Any] = {"name": "Alex", "email": "alex@acme.example", "domain": "acme.io"}
CHARACTERS = ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\ud800"]


def _poison(value: Any, char: str) -> Any:
    if isinstance(value, str):
        return value[:2] + char + value[2:]
    if isinstance(value, dict):
        return {k: _poison(v, char) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, char) for v in value]
    return value


def _first_string_path(value: Any, where: str = "") -> str:
    if isinstance(value, dict):
        key, item = next(iter(value.items()))
        return _first_string_path(item, f"{where}.{key}" if where else key)
    if isinstance(value, list):
        return _first_string_path(value[0], f"{where}[0]")
    return where


def _api_routes(server: LiveServer) -> list[tuple[str, str]]:
    """Every (METHOD, path template) the OpenAPI document lists under /api/v1."""
    routes = []
    for path, operations in server.app.openapi()["paths"].items():
        if path.startswith("/api/v1/"):
            routes.extend((method.upper(), path) for method in sorted(operations))
    assert len(routes) >= 6
    return routes


@pytest.fixture
async def db_server(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[LiveServer]:
    async with LiveServer(
        make_settings(database_url=database_url, providers="email=known;phone=known")
    ) as live:
        yield live


async def test_control_characters_are_refused_on_every_route(db_server: LiveServer) -> None:
    """FC: issue 12 — ``"firstName": "Al\\u0000ex"`` answered 500 on PostgreSQL."""
    key = await db_server.create_account("controls", credits=100)
    checked = 0
    async with httpx.AsyncClient(
        base_url=db_server.url, headers={"X-API-Key": key}, timeout=30
    ) as client:
        for method, template in _api_routes(db_server):
            for char in CHARACTERS:
                # 1. in a path parameter or the query string
                path = re.sub(r"\{[^}]+\}", "job%00x", template)
                query = {"q": f"a{char}b"} if "{" not in template else {}
                if char != "\ud800" and ("{" in template or method in ("GET", "DELETE")):
                    response = await client.request(method, path, params=query)
                    assert response.status_code == 400, (method, path, response.text)
                    assert "control characters" in response.json()["error"]
                    checked += 1
                # 2. in every string of a JSON body
                if method in ("POST", "PUT", "PATCH", "DELETE"):
                    valid = VALID_BODIES.get(template, GENERIC_BODY)
                    body = json.dumps(_poison(valid, char)).encode()
                    response = await client.request(
                        method,
                        path.replace("job%00x", "job-1"),
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                    assert response.status_code == 400, (method, template, char, response.text)
                    error = response.json()["error"]
                    assert set(response.json()) == {"error"}
                    assert _first_string_path(valid) in error, error
                    assert f"U+{ord(char):04X}" in error
                    checked += 1
        balance = (await client.get("/api/v1/credits")).json()["balance"]
    assert balance == 100  # nothing charged, nothing run
    assert checked >= 6 * len(CHARACTERS)


async def test_ordinary_unicode_and_whitespace_between_words_still_pass(
    db_server: LiveServer,
) -> None:
    key = await db_server.create_account("unicode", credits=5)
    async with httpx.AsyncClient(
        base_url=db_server.url, headers={"X-API-Key": key}, timeout=30
    ) as client:
        response = await client.post(
            "/api/v1/find-email",
            json={"firstName": "José", "lastName": "Ødegård", "company": "Zürich Ré AG"},
        )
    assert response.status_code == 200, response.text


async def test_an_idle_connection_outlives_the_clients_keepalive_expiry(server: LiveServer) -> None:
    """Issue 12: the flaky ``httpx.ReadError`` of the 200-request race test. uvicorn closed idle
    connections after 5 s, exactly httpx's own pool expiry, so a connection reused at that
    moment was reset under the request. The server now keeps idle connections longer than the
    client does: a connection idle past 5 s is still the same, open connection."""
    limits = httpx.Limits(keepalive_expiry=30)
    async with httpx.AsyncClient(base_url=server.url, limits=limits) as client:
        first = await client.get("/healthz")
        port = first.extensions["network_stream"].get_extra_info("client_addr")[1]
        await asyncio.sleep(6)  # past uvicorn's default timeout_keep_alive of 5 s
        second = await client.get("/healthz")
        again = second.extensions["network_stream"].get_extra_info("client_addr")[1]
    assert first.status_code == second.status_code == 200
    assert again == port  # the same connection: the server did not drop it
