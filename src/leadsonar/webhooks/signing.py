"""Webhook signatures: ``LeadSonar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The signed text is ``"<t>.<raw body>"`` and the key is the account's webhook secret: the scheme
Stripe documents for its webhooks ("Verify signatures manually"), so receivers can reuse what
they know. The timestamp lets a receiver refuse replays older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "LeadSonar-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh webhook secret: ``whsec_`` and 43 URL-safe characters (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body``.

    Args:
        secret: the account's webhook secret (as printed by ``leadsonar webhooks secret``).
        body: the exact bytes sent.
        timestamp: Unix seconds (default now).

    Returns:
        ``"t=1733011200,v1=5f2b…"`` (64 hex digits).
    """
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance: float = 300.0) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made within ``tolerance`` seconds
    (constant-time comparison). What a receiver runs; used by the tests."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:
        return False
    expected = sign(secret, body, t).partition(",v1=")[2]
    return hmac.compare_digest(expected, parts.get("v1", ""))
