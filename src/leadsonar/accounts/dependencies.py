"""The auth dependency: API key from ``Authorization: Bearer`` or ``X-API-Key``, then the
per-key rate limit.

The two security schemes are declared as FastAPI security dependencies so the OpenAPI document
carries them and ``/docs`` offers Authorize; the key itself is read from the headers below.
"""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from leadsonar.accounts.service import Principal, authenticate
from leadsonar.exceptions import InvalidApiKey

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


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


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
    key = _presented_key(request)
    if key is None:
        raise InvalidApiKey(
            "Missing API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
        )
    services = request.app.state.services
    async with services.db.read_session() as session:  # a read: nothing to commit
        principal = await authenticate(session, key, services.secret)
    await services.rate_limiter.check(principal.key_hash)
    return principal
