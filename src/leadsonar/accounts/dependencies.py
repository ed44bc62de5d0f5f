"""The auth dependency: API key from ``Authorization: Bearer`` or ``X-API-Key``, then the
per-key rate limit."""

from __future__ import annotations

from fastapi import Request

from leadsonar.accounts.service import Principal, authenticate
from leadsonar.exceptions import InvalidApiKey


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


async def current_principal(request: Request) -> Principal:
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
