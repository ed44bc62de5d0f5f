"""Authenticated API keys remembered for a few seconds, so that a request does not read the
``api_keys`` table (issue 9 §7: the auth lookup was one database round trip per request).

The cache maps a key's HMAC digest (never the key) to its :class:`Principal`. It is bounded
(``MAX_KEYS`` entries, least recently used dropped first; cachetools) and every entry expires
``LEADSONAR_AUTH_CACHE_TTL`` seconds after it was read from the database. Only successful
authentications are kept: an unknown or revoked key is asked again every time (and counted by
the failed-authentication throttle). A revocation through this process (``DELETE /keys/…``,
:func:`leadsonar.accounts.service.revoke_account_key`) clears the cache at once; a revocation
made by another process (``leadsonar keys revoke``, another API process) takes effect here when
the entry expires, at most ``ttl`` seconds later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from cachetools import TTLCache

if TYPE_CHECKING:
    from leadsonar.accounts.service import Principal

MAX_KEYS = 10_000


class PrincipalCache:
    """Digest → :class:`Principal` for ``ttl`` seconds (0 turns it off).

    Args:
        ttl: seconds an entry is served (``LEADSONAR_AUTH_CACHE_TTL``).
        max_keys: at most this many keys are remembered.
        timer: the clock in seconds (tests pass their own).
    """

    def __init__(
        self,
        ttl: float,
        max_keys: int = MAX_KEYS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._entries: TTLCache[str, Principal] = TTLCache(
            maxsize=max_keys, ttl=max(ttl, 0.001), timer=timer
        )

    def get(self, digest: str) -> Principal | None:
        """The principal remembered for ``digest``, or ``None``."""
        if self.ttl <= 0:
            return None
        return self._entries.get(digest)

    def put(self, principal: Principal) -> None:
        """Remember an authenticated ``principal`` (under its ``key_hash``)."""
        if self.ttl > 0:
            self._entries[principal.key_hash] = principal

    def clear(self) -> None:
        """Forget every key (a key was revoked: it must not be served from here)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
