"""The process's cache of authenticated API keys (issue 9 §7): bounded, expiring, cleared by a
revocation, off at TTL 0."""

from __future__ import annotations

from leadsonar.accounts.keycache import PrincipalCache
from leadsonar.accounts.service import Principal


def principal(n: int) -> Principal:
    return Principal(account_id=n, key_prefix=f"ls_live_{n:08d}", key_hash=f"{n:064x}")


def test_a_remembered_key_expires_after_its_ttl() -> None:
    now = [0.0]
    cache = PrincipalCache(10.0, timer=lambda: now[0])
    cache.put(principal(1))
    now[0] = 9.9
    assert cache.get(principal(1).key_hash) == principal(1)
    now[0] = 10.1
    assert cache.get(principal(1).key_hash) is None


def test_the_cache_is_bounded_least_recently_used_first_out() -> None:
    cache = PrincipalCache(60.0, max_keys=100)
    for n in range(1000):
        cache.put(principal(n))
    assert len(cache) == 100
    assert cache.get(principal(999).key_hash) == principal(999)
    assert cache.get(principal(0).key_hash) is None


def test_a_revocation_clears_it_and_ttl_zero_turns_it_off() -> None:
    cache = PrincipalCache(60.0)
    cache.put(principal(1))
    cache.clear()
    assert cache.get(principal(1).key_hash) is None
    off = PrincipalCache(0.0)
    off.put(principal(1))
    assert off.get(principal(1).key_hash) is None and len(off) == 0
