"""Bounded memory (issue 9 §6): every cache the process keeps for its lifetime has a size bound,
whatever number of domains, hosts and servers it meets."""

from __future__ import annotations

import pytest

from leadsonar.config import Settings
from leadsonar.domains.knowledge import DomainKnowledge
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import MxAnswer, Resolver
from leadsonar.kit.net.safe_http import Politeness
from leadsonar.kit.net.smtp_pool import SmtpPool
from leadsonar.testing.dnsserver import LoopbackDns

pytestmark = pytest.mark.asyncio


async def test_mx_answers_kept_are_bounded_least_recently_used_first(
    dns_zone: LoopbackDns, sqlite_url: str
) -> None:
    for i in range(8):
        dns_zone.add_null_mx(f"d{i}.test")
    db = Database(sqlite_url)
    await upgrade_to_head(db.engine)
    try:
        resolver = Resolver([dns_zone.address])
        knowledge = DomainKnowledge(db, resolver, mx_cache_size=3)
        asked: list[str] = []
        mx_hosts = resolver.mx_hosts

        async def counting(domain: str) -> MxAnswer:
            asked.append(domain)
            return await mx_hosts(domain)

        resolver.mx_hosts = counting  # type: ignore[method-assign]
        for i in range(8):
            assert (await knowledge.mx(f"d{i}.test")).null_mx
        assert knowledge.mx_cached == 3
        before = len(asked)
        await knowledge.mx("d7.test")  # recent: answered from memory
        assert len(asked) == before
        await knowledge.mx("d0.test")  # dropped long ago: the resolver is asked again
        assert asked[before:] == ["d0.test"]
        assert knowledge.mx_cached == 3
    finally:
        await db.dispose()


async def test_crawler_politeness_remembers_a_bounded_number_of_hosts() -> None:
    politeness = Politeness(max_hosts=5)
    for i in range(50):
        await politeness.wait(f"www.site{i}.test", 0.0)
    assert len(politeness) == 5


async def test_smtp_pool_forgets_servers_with_nothing_to_remember() -> None:
    pool = SmtpPool(Settings())
    for i in range(100):
        assert not pool.throttles_after_unknown(f"192.0.2.{i}")  # a lookup creates the entry
    pool.mark_throttles_after_unknown("192.0.2.200")
    assert pool.servers == 101
    await pool.reap()
    assert pool.servers == 1  # only the server still remembered as throttling


async def test_in_process_rate_windows_are_swept_once_a_second_not_after_every_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``limits``' in-process storage started a sweep (a task, and a worker thread per moving
    window) after nearly every hit; :class:`SweptMemoryStorage` sweeps at most once per
    ``SWEEP_SECONDS``, and the sweep still empties windows whose entries all expired: the
    windows stay bounded and their answers are the same."""
    import asyncio

    from leadsonar.exceptions import RateLimited
    from leadsonar.kit import ratelimit

    limiter = ratelimit.KeyRateLimiter("5/second", "memory://")
    storage = limiter.storage
    assert isinstance(storage, ratelimit.SweptMemoryStorage)
    sweeps: list[object] = []
    for _ in range(5):
        await limiter.check("key-a")
        await asyncio.sleep(0.01)  # time for a sweep started by this hit to finish
        if storage.timer is not None and storage.timer not in sweeps:
            sweeps.append(storage.timer)
    assert len(sweeps) == 1  # limits alone: a new sweep after each of these hits
    with pytest.raises(RateLimited):  # the window's answer: five in a second, no sixth
        await limiter.check("key-a")

    monkeypatch.setattr(ratelimit, "SWEEP_SECONDS", 0.0)
    storage._next_sweep = 0.0
    for i in range(50):
        await limiter.check(f"once-{i}")
    assert len(storage.events) > 50
    await asyncio.sleep(1.05)  # every entry expired; the next hit's sweep drops the windows
    await limiter.check("key-b")
    await asyncio.sleep(0.05)
    assert storage.timer is not None and storage.timer.done()
    assert len(storage.events) == 1 and "key-b" in next(iter(storage.events))


async def test_profile_read_locks_are_kept_only_while_a_lookup_holds_them(
    dns_zone: LoopbackDns, sqlite_url: str
) -> None:
    """The crawler's per-domain lock for reading profile pages: a lookup waiting for a domain
    gets the lock another holds; once no lookup holds or waits for it, it is gone (before: one
    lock per domain ever read, for the life of the process)."""
    from leadsonar.kit.net.safe_http import SafeHttp
    from leadsonar.providers.builtin.website import WebsiteProvider

    settings = Settings(database_url=sqlite_url)
    db = Database(sqlite_url)
    website = WebsiteProvider(settings, db, SafeHttp(settings, Resolver([dns_zone.address])))
    try:
        for i in range(1000):
            async with website.profile_lock(f"d{i}.test"):
                pass
        assert website.profile_locks == 0
        held = website.profile_lock("busy.test")
        async with held:
            assert website.profile_lock("busy.test") is held  # the waiter queues on it
            assert website.profile_locks == 1
        del held
        assert website.profile_locks == 0
    finally:
        await website.aclose()
        await db.dispose()
