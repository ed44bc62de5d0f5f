"""The auth dependency: API key from ``Authorization: Bearer`` or ``X-API-Key``, then the
per-key rate limit.

Under the app, :class:`leadsonar.accounts.edge.AuthFirstMiddleware` has already done both from the
headers (before the body was read) and left the principal in ``request.state.principal``; the
dependency then just returns it. It still authenticates by itself when mounted without the
middleware.
"""

from __future__ import annotations

from fastapi import Request

from leadsonar.accounts.edge import MISSING_KEY, presented_key
from leadsonar.accounts.service import Principal, authenticate
from leadsonar.exceptions import InvalidApiKey


def _presented_key(request: Request) -> str | None:
    return presented_key({k.lower(): v for k, v in request.headers.items()})


async def current_principal(request: Request) -> Principal:
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
    services = request.app.state.services
    async with services.db.session() as session:
        principal = await authenticate(session, key, services.secret)
    await services.rate_limiter.check(principal.key_hash)
    return principal
