"""API keys: prefixed, shown once, stored as an HMAC-SHA256 (habit from polar's kit/crypto)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
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


class _UniqueIds:
    """Process-unique hex ids without a system call each: a random prefix drawn once per
    process (again after a fork) and a counter."""

    def __init__(self) -> None:
        self._pid = -1
        self._prefix = ""
        self._counter = itertools.count()

    def next(self) -> str:
        if self._pid != os.getpid():
            self._pid, self._prefix = os.getpid(), secrets.token_hex(8)
        return f"{self._prefix}{next(self._counter):016x}"


_IDS = _UniqueIds()


def unique_id() -> str:
    """A 32-hex-digit id unique across processes and restarts, for request ids and ledger
    references: 64 random bits drawn once per process, then a 64-bit counter. Not a secret
    (use :mod:`secrets` where guessing would harm); cheaper than ``uuid4`` (no ``getrandom``
    call per id, which showed in the request path's profile)."""
    return _IDS.next()
