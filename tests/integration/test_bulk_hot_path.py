"""What a bulk run asks of DNS and the database per row (issue 9 §7): an NXDOMAIN is asked once
per domain while its SOA allows (RFC 2308), an unchanged MX answer is stored once, and a
row's suppression checks are answered from memory, not one query per row and provider."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from leadsonar.domains.knowledge import DomainKnowledge, Learned
from leadsonar.domains.models import DomainFacts
from leadsonar.kit.db import Database, as_utc
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.providers.base import Confidence, Finding, Outcome, Verification
from leadsonar.suppressions import repository
from leadsonar.suppressions import service as suppressions
from leadsonar.suppressions.models import EVERYONE
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.waterfall import cache as cache_module
from leadsonar.waterfall.cache import MEMORY_ANSWERS, LookupCacheStore
from leadsonar.waterfall.engine import Attempt, WaterfallResult
from leadsonar.waterfall.models import LookupCache

pytestmark = pytest.mark.asyncio


async def test_nxdomain_with_an_soa_is_asked_once() -> None:
    with LoopbackDns(negative_ttl=60) as dns:
        resolver = Resolver([dns.address])
        for _ in range(5):
            assert (await resolver.mx_hosts("void.test")).nxdomain
        assert dns.queries.count(("void.test", "MX")) == 1
        # the self-check finding DNS broken drops what a broken resolver may have said
        dns.break_resolver()
        assert not (await ResolverCheck(resolver, ".").check()).ok
        dns.break_resolver(False)
        dns.add_mx("void.test", [(10, "mx.void.test")])
        assert not (await resolver.mx_hosts("void.test")).nxdomain


async def test_nxdomain_without_an_soa_is_not_kept() -> None:
    """RFC 2308 §5: a negative answer without an SOA is not cached."""
    with LoopbackDns() as dns:
        resolver = Resolver([dns.address])
        assert (await resolver.mx_hosts("later.test")).nxdomain
        dns.add_mx("later.test", [(10, "mx.later.test")])
        answer = await resolver.mx_hosts("later.test")
        assert [h.host for h in answer.hosts] == ["mx.later.test"]
        assert resolver.forget_negative() == 0


async def _database(url: str) -> Database:
    db = Database(url)
    await upgrade_to_head(db.engine)
    return db


async def test_an_unchanged_mx_answer_is_stored_once(database_url: str) -> None:
    db = await _database(database_url)
    statements: list[str] = []
    for engine in db.sync_engines:  # the inline reader's and the writer thread's included
        event.listen(
            engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql)
        )
    try:
        with LoopbackDns(negative_ttl=60) as dns:
            dns.add_mx("mail.test", [(10, "mx.mail.test")])
            facts = DomainKnowledge(db, Resolver([dns.address]))
            for _ in range(20):  # twenty lookups, each persisting what it learned
                learned = Learned()
                await facts.mx("mail.test", learned)
                await facts.mx("void.test", learned)
                await facts.persist(learned)
        writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
        assert len(writes) == 2, writes  # one per domain
        async with db.read_session() as session:
            stored = await session.scalar(select(func.count()).select_from(DomainFacts))
        assert stored == 2
    finally:
        await db.dispose()


async def test_suppression_checks_are_answered_from_memory_and_changes_seen_at_once(
    database_url: str,
) -> None:
    db = await _database(database_url)
    selects: list[str] = []
    for engine in db.sync_engines:  # the inline reader's and the writer thread's included
        event.listen(
            engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, *_a: selects.append(sql) if "suppressions" in sql else None,
        )
    try:
        listed = suppressions.SuppressionList(db, check_every=60)
        for i in range(50):
            assert not await listed.suppressed(domain="acme.test")
            assert not await listed.suppressed(email=f"p{i}@acme.test")
            assert await listed.filter_addresses("acme.test", ["a@acme.test"]) == ["a@acme.test"]
        assert len(selects) <= 2  # the snapshot's version and values, once
        # a suppression added in this process counts at once, snapshot or not
        async with db.write_session() as session:
            await suppressions.add(session, EVERYONE, "domain", "acme.test")
            await suppressions.add(session, EVERYONE, "email", "ada@other.test")
        assert await listed.suppressed(domain="www.acme.test")
        assert await listed.suppressed(domain="acme.test")
        assert await listed.suppressed(email="Ada@other.test")
        assert await listed.filter_addresses("other.test", ["ada@other.test", "bo@other.test"]) == [
            "bo@other.test"
        ]
        async with db.write_session() as session:
            assert await suppressions.remove(session, EVERYONE, "domain", "acme.test")
        assert not await listed.suppressed(domain="acme.test")
    finally:
        await db.dispose()


async def test_another_process_suppression_is_seen_within_the_check_interval(
    database_url: str,
) -> None:
    db = await _database(database_url)
    try:
        listed = suppressions.SuppressionList(db, check_every=0.2)
        assert not await listed.suppressed(email="ada@acme.test")
        # written the way another process would: this process hears nothing of the commit
        async with db.write_session() as session:
            await repository.insert(session, EVERYONE, "email", "ada@acme.test", None)
        await asyncio.sleep(0.3)
        assert await listed.suppressed(email="ada@acme.test")
        async with db.write_session() as session:
            await repository.delete_one(session, EVERYONE, "email", "ada@acme.test")
        await asyncio.sleep(0.3)
        assert not await listed.suppressed(email="ada@acme.test")
    finally:
        await db.dispose()


async def test_too_many_suppressions_for_memory_are_asked_of_the_database(
    database_url: str,
) -> None:
    db = await _database(database_url)
    try:
        listed = suppressions.SuppressionList(db, max_snapshot=1)
        async with db.write_session() as session:
            await suppressions.add(session, EVERYONE, "domain", "acme.test")
            await suppressions.add(session, EVERYONE, "email", "ada@other.test")
        assert await listed.suppressed(domain="mail.acme.test")
        assert await listed.suppressed(email="ada@other.test")
        assert not await listed.suppressed(email="bo@other.test")
        assert await listed.filter_addresses("other.test", ["ada@other.test", "bo@other.test"]) == [
            "bo@other.test"
        ]
        assert listed._snapshot is not None and not listed._snapshot.complete
    finally:
        await db.dispose()


def _ada() -> WaterfallResult:
    """A cacheable answer: ada@acme.test, high, proved by the prober."""
    return WaterfallResult(
        finding=Finding(
            value="ada@acme.test",
            confidence=Confidence.HIGH,
            verification=Verification.VALID,
            provider="smtp",
        ),
        sources=1,
        attempts=[Attempt(provider="smtp", outcome=Outcome.HIT, seconds=0.1)],
    )


async def test_a_cached_answer_is_served_from_memory_then_read_again_after_a_clear(
    database_url: str,
) -> None:
    db = await _database(database_url)
    reads: list[str] = []
    db.prebuilt_listeners.append(  # the prebuilt reads (Database.fetch), not the writes
        lambda sql: reads.append(sql) if sql.lstrip().startswith("SELECT") else None
    )
    for engine in db.sync_engines:  # the inline reader's and the writer thread's included
        event.listen(
            engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, *_a: (
                reads.append(sql) if sql.lstrip().startswith("SELECT") else None
            ),
        )
    try:
        store = LookupCacheStore(db, ttl=3600)
        store.put("k1", "email", _ada())  # served from memory at once, written behind
        assert await store.get("k1") is not None
        await store.flush()
        for _ in range(20):
            found = await store.get("k1")
            assert found is not None and found[0] is not None
            assert found[0].value == "ada@acme.test" and found[0].evidence["cached"] is True
            found[0].evidence["mutated"] = True  # a caller's change never reaches the memory
        assert reads == []  # stored by this process: never read back
        again = await store.get("k1")
        assert again is not None and again[0] is not None and "mutated" not in again[0].evidence
        # another process's store (same table, its own memory) reads it once, then remembers
        other = LookupCacheStore(db, ttl=3600)
        for _ in range(5):
            assert (await other.get("k1")) is not None
        assert len(reads) == 1
        # an import clears the cache: the memory goes with it
        assert await store.clear() == 1
        assert await store.get("k1") is None
        assert len(store._memory) == 0 and store._memory.maxsize == MEMORY_ANSWERS
    finally:
        await db.dispose()


async def test_a_batch_of_answers_is_stored_as_put_and_a_key_put_again_replaced(
    database_url: str,
) -> None:
    """The write-behind's batch (SQLite: an executemany upsert on the sqlite3 connection;
    PostgreSQL: one statement unpacking the batch as JSON) stores each answer's payload and
    times as they were put, and a key put again replaces its row."""
    db = await _database(database_url)
    try:
        store = LookupCacheStore(db, ttl=3600)
        for i in range(5):
            store.put(f"k{i}", "email", _ada())
        quoted = _ada()
        quoted.notes = ['say "hi"\n\u00e9']  # quotes, escapes and non-ASCII in the JSON
        store.put("k9", "phone", quoted)
        await store.flush()
        again = _ada()
        assert again.finding is not None
        again.finding.value, again.sources = "ada.l@acme.test", 2
        store.put("k1", "email", again)
        await store.flush()
        async with db.session() as session:
            rows = {
                row.key: row for row in (await session.execute(select(LookupCache))).scalars().all()
            }
        assert sorted(rows) == ["k0", "k1", "k2", "k3", "k4", "k9"]
        assert rows["k0"].payload["finding"]["value"] == "ada@acme.test"
        assert rows["k1"].payload["finding"]["value"] == "ada.l@acme.test"
        assert rows["k1"].payload["sources"] == 2
        assert rows["k9"].field == "phone"
        assert rows["k9"].payload["notes"] == ['say "hi"\n\u00e9']
        for row in rows.values():
            put, expires = store._memory[row.key][0], store._memory[row.key][1]
            assert row.payload == put
            assert as_utc(row.expires_at) == expires
            created = as_utc(row.created_at)
            assert created is not None and expires - created == timedelta(hours=1)
    finally:
        await db.dispose()


async def test_a_failed_purge_keeps_the_answers_it_followed_postgres(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the expired answers are deleted by a statement of its own after the
    batch's transaction: when it fails, the batch's answers are still written and served."""
    monkeypatch.setattr(cache_module, "PURGE_EVERY", 1)  # every batch purges
    db = await _database(postgres_url)

    def refuse_the_purge(sql: str) -> None:
        if sql.startswith("DELETE FROM lookup_cache"):
            raise RuntimeError("the purge failed")

    db.prebuilt_listeners.append(refuse_the_purge)
    try:
        store = LookupCacheStore(db, ttl=3600)
        store.put("k1", "email", _ada())
        await store.flush()
        assert "k1" in store._memory  # not forgotten as a failed write would be
        found = await LookupCacheStore(db, ttl=3600).get("k1")  # another process reads it
        assert found is not None and found[0] is not None and found[0].value == "ada@acme.test"
    finally:
        await db.dispose()


async def test_an_answer_stored_while_the_cache_is_cleared_does_not_come_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer put while a clear (after an import) deletes the rows was found with the
    knowledge the clear throws away: it is neither written behind the clear nor served from
    memory (found by review: with the write-behind's gathering it came back from the
    table)."""
    from leadsonar.waterfall import cache as module

    db = await _database(database_url)
    try:
        store = LookupCacheStore(db, ttl=3600)
        delete_all = module.repository.delete_all

        async def deleting(session: Any) -> int:
            store.put("during", "email", _ada())  # a lookup ends while the rows go
            return await delete_all(session)

        monkeypatch.setattr(module.repository, "delete_all", deleting)
        await store.clear()
        await store.flush()
        assert await store.get("during") is None
        other = LookupCacheStore(db, ttl=3600)  # the table, not this process's memory
        assert await other.get("during") is None
    finally:
        await db.dispose()
