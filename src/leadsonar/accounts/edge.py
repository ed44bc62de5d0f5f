"""Authentication before the body: a pure ASGI middleware in front of every ``/api/v1`` route.

The API key (``Authorization: Bearer`` or ``X-API-Key``) is checked from the headers alone, so a
request without a valid key is answered ``401`` before one byte of its body is read. Failed
authentications are counted per client address (:class:`~leadsonar.kit.ratelimit.FailureThrottle`,
``LEADSONAR_AUTH_FAILURE_LIMIT``); an address over the limit gets ``429`` with ``Retry-After``
for every request until the window frees. The per-key rate limit is applied here too. The
authenticated :class:`~leadsonar.accounts.service.Principal` goes to the route in
``request.state.principal``; :func:`leadsonar.accounts.dependencies.current_principal` returns it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from leadsonar.accounts.service import authenticate_key
from leadsonar.exceptions import InvalidApiKey, RateLimited
from leadsonar.kit import metrics
from leadsonar.kit.http_edge import ASGIApp, Receive, Scope, Send, is_key_like, send_json_error
from leadsonar.services import services_of

MISSING_KEY = "Missing API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
KEY_IN_URL = (
    "API keys are not accepted in the URL (URLs end up in logs and browser history): send it as "
    "'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
)


_KEY_HEADERS = (b"authorization", b"x-api-key")


def presented_key(headers: dict[str, str]) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (lower-case header
    names), or ``None``.

    An ``Authorization`` header that is not a usable ``Bearer`` credential gives ``""`` (a key
    that never authenticates: 401) even beside a valid ``X-API-Key``: a request whose
    credentials disagree is refused, never answered with whichever one works."""
    header = headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else ""
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def _too_many(retry_after: int) -> tuple[str, str]:
    return (
        f"Too many failed authentications from this address: wait {retry_after} second"
        f"{'s' if retry_after != 1 else ''} and retry with a valid API key.",
        str(retry_after),
    )


class AuthFirstMiddleware:
    """Authenticates every request under ``prefix`` from its headers before the app runs.

    Args:
        app: the wrapped ASGI app.
        prefix: the API prefix whose routes all need a key (``/api/v1``).
    """

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        services = services_of(scope["app"])
        client = scope.get("client")
        address = client[0] if client else "unknown"
        throttle = services.auth_throttle
        if throttle is not None and (wait := await throttle.retry_after(address)) is not None:
            metrics.REJECTED_REQUESTS.labels(reason="auth_throttled").inc()
            message, header = _too_many(wait)
            await send_json_error(send, 429, message, retry_after=header)
            return
        headers = {  # only the two headers a key may come in are decoded
            name.decode("latin-1"): bytes(v).decode("latin-1")
            for k, v in scope.get("headers", ())
            if (name := bytes(k).lower()) in _KEY_HEADERS
        }
        key = presented_key(headers)
        try:
            if key is None:
                query = bytes(scope.get("query_string", b"")).decode("latin-1")
                in_url = any(is_key_like(name) for name, _ in parse_qsl(query))
                raise InvalidApiKey(KEY_IN_URL if in_url else MISSING_KEY)
            principal = await authenticate_key(
                services.db, key, services.secret, services.principals
            )
        except InvalidApiKey as exc:
            metrics.REJECTED_REQUESTS.labels(
                reason="missing_key" if key is None else "invalid_key"
            ).inc()
            if throttle is not None:
                await throttle.failed(address)
            await send_json_error(send, 401, exc.message, www_authenticate="Bearer")
            return
        try:
            await services.rate_limiter.check(principal.key_hash)
        except RateLimited as exc:
            metrics.REJECTED_REQUESTS.labels(reason="rate_limited").inc()
            await send_json_error(send, 429, exc.message, **_header_kwargs(exc.headers))
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _header_kwargs(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower().replace("-", "_"): value for name, value in headers.items()}
