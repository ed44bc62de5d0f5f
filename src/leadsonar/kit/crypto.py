"""API keys: prefixed, shown once, stored as an HMAC-SHA256 (habit from polar's kit/crypto)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "ls_live_"
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 8


def generate_api_key() -> str:
    """A new key: ``ls_live_`` and 40 URL-safe random characters (about 240 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(30)


def hash_api_key(key: str, secret: bytes) -> str:
    """The stored form of ``key``: hex HMAC-SHA256 under the installation's secret."""
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """The part of a key that may be shown and logged (``ls_live_ab12cd34``)."""
    return key[:DISPLAY_PREFIX_LENGTH]


def generate_secret() -> str:
    return secrets.token_hex(32)
