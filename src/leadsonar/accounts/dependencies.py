"""The auth dependency: API key from ``Authorization: Bearer`` or ``X-API-Key``, then the
per-key rate limit.

Under the app, :class:`leadsonar.accounts.edge.AuthFirstMiddleware` has already done both from the
headers (before the body was read) and left the principal in ``request.state.principal``; the
dependency then just returns it. It still authenticates by itself when mounted without the
middleware.

The two security schemes are declared as FastAPI security dependencies so the OpenAPI document
carries them and ``/docs`` offers Authorize; the key itself is read from the headers below.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from leadsonar.accounts.edge import MISSING_KEY, presented_key
from leadsonar.accounts.service import Principal, authenticate_key
from leadsonar.exceptions import InvalidApiKey
from leadsonar.services import Services, services_of

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="ls_live_…",
    description="An API key as 'Authorization: Bearer <key>'.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="An API key in the X-API-Key header.",
)


SECURITY: dict[str, Any] = {
    "security": [{bearer_scheme.scheme_name: []}, {api_key_scheme.scheme_name: []}]
}
"""``openapi_extra`` of a route that takes :func:`authenticated` instead of
:func:`current_principal`: the same two security schemes in its OpenAPI operation."""


async def authenticated(request: Request) -> tuple[Services, Principal]:
    """The app's services and the request's principal, for the hot lookup routes: the one
    :class:`~leadsonar.accounts.edge.AuthFirstMiddleware` authenticated (read from the
    request, with none of the per-request work of FastAPI dependencies; routes using it
    declare :data:`SECURITY`), else authenticated here as :func:`current_principal` does (the
    middleware did not see the request: the app served under a root path, or without it).

    Raises:
        InvalidApiKey: no key, an unknown key or a revoked key (401).
        RateLimited: the key is over ``LEADSONAR_RATE_LIMIT`` (429 with ``Retry-After``).
    """
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        principal = await current_principal(request, None, None)
    return services_of(request.app), principal


def _presented_key(request: Request) -> str | None:
    return presented_key({k.lower(): v for k, v in request.headers.items()})


async def current_principal(
    request: Request,
    _bearer: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
    _api_key: str | None = Security(api_key_scheme),
) -> Principal:
    """Authenticate the request and count it against the key's rate limit.

    Raises:
        InvalidApiKey: no key, an unknown key or a revoked key (401).
        RateLimited: the key is over ``LEADSONAR_RATE_LIMIT`` (429 with ``Retry-After``).
    """
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    key = _presented_key(request)
    if key is None:
        raise InvalidApiKey(MISSING_KEY)
    services = services_of(request.app)
    principal = await authenticate_key(services.db, key, services.secret, services.principals)
    await services.rate_limiter.check(principal.key_hash)
    return principal
