"""A scripted stand-in for a provider's HTTP API on loopback, for tests and benchmarks.

Point a provider's ``LEADSONAR_<NAME>_BASE_URL`` at :attr:`ProviderApi.url`; script answers per
``(method, path)`` with :meth:`ProviderApi.on` (a list of :class:`Reply` served in order, the
last one repeated, or a function of the :class:`Call`); every request is logged with its
arrival time, so tests can count calls, read what was sent and measure calls per second::

    async with ProviderApi() as api:
        api.on("GET", "/email-finder", Reply({"data": {"email": "a@x.com"}}))
        settings = make_settings(hunter_api_key="k", hunter_base_url=api.url, ...)
        ...
        assert api.count("GET", "/email-finder") == 1
        assert api.max_per_second("/email-finder") <= 5

A path ending in ``*`` matches every path with that prefix (``/v1/enrich/all/*``). Unscripted
routes answer 404 ``{"error": "not scripted"}``. The server is uvicorn on ``127.0.0.1`` in the
caller's event loop; nothing here ever reaches beyond loopback.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadsonar.testing.live import UvicornInLoop
from leadsonar.testing.ports import free_port


@dataclass
class Reply:
    """One scripted answer.

    Attributes:
        json: the JSON body (ignored when ``text`` is set).
        status: the HTTP status.
        headers: extra headers (``Retry-After`` …).
        delay: seconds to wait before answering (a slow or hanging provider).
        text: a raw body instead of JSON (e.g. malformed JSON).
    """

    json: Any = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    text: str | None = None


@dataclass(frozen=True)
class Call:
    """One request received: when (monotonic seconds), method, path, query, JSON body, and the
    names of the headers sent (values are not kept: they may hold keys)."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    body: Any
    header_names: frozenset[str]


Handler = Callable[[Call], Reply | Awaitable[Reply]]


class ProviderApi(UvicornInLoop):
    """Scripted provider endpoints on ``http://127.0.0.1:<port>``."""

    what = "the stand-in provider API"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: list[Call] = []
        self._scripts: dict[tuple[str, str], list[Reply] | Handler] = {}
        self._served: dict[tuple[str, str], int] = {}
        app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._serve,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)

    def on(self, method: str, path: str, *replies: Reply | Handler) -> None:
        """Script ``method path``: replies served in order (the last repeats), or one handler."""
        key = (method.upper(), path)
        if len(replies) == 1 and callable(replies[0]):
            self._scripts[key] = replies[0]
        else:
            self._scripts[key] = [r for r in replies if isinstance(r, Reply)]
        self._served[key] = 0

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Calls received, optionally only of ``method`` and/or ``path`` (prefix with ``*``)."""
        return len(self.matching(method, path))

    def matching(self, method: str | None = None, path: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method.upper())
            and (path is None or _matches(path, c.path))
        ]

    def max_per_second(self, path: str | None = None, window: float = 1.0) -> int:
        """The most calls (to ``path``) that arrived within any ``window`` seconds."""
        times = sorted(c.at for c in self.matching(None, path))
        best = 0
        start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def _script_for(self, method: str, path: str) -> tuple[tuple[str, str], Any] | None:
        exact = (method, path)
        if exact in self._scripts:
            return exact, self._scripts[exact]
        prefixed = [
            key
            for key in self._scripts
            if key[0] == method and key[1].endswith("*") and path.startswith(key[1][:-1])
        ]
        if prefixed:
            key = max(prefixed, key=lambda k: len(k[1]))
            return key, self._scripts[key]
        return None

    async def _serve(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        call = Call(
            at=time.monotonic(),
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            body=body,
            header_names=frozenset(request.headers.keys()),
        )
        self.calls.append(call)
        found = self._script_for(call.method, call.path)
        if found is None:
            return Response(
                json.dumps({"error": "not scripted"}), 404, media_type="application/json"
            )
        key, script = found
        if callable(script):
            reply = script(call)
            if asyncio.iscoroutine(reply):
                reply = await reply
        else:
            index = min(self._served[key], len(script) - 1)
            reply = script[index]
        self._served[key] += 1
        assert isinstance(reply, Reply)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        content = reply.text if reply.text is not None else json.dumps(reply.json)
        return Response(
            content, reply.status, headers=dict(reply.headers), media_type="application/json"
        )


def _matches(pattern: str, path: str) -> bool:
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern
