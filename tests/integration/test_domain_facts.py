"""Domain knowledge (domains/knowledge.py): the prober's per-domain facts (catch-all status,
blocks) kept in memory for a short while, so a lookup's several checks read the database once;
what a lookup learned seen at once and persisted in one transaction (issue 9 §2)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select

from leadsonar.domains import repository
from leadsonar.domains.knowledge import DomainKnowledge, Learned
from leadsonar.domains.models import CompanyDomain
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import MxAnswer, MxHost, Resolver

pytestmark = pytest.mark.asyncio


async def test_known_facts_are_read_once_and_a_record_is_seen_at_once(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        await upgrade_to_head(db.engine)
        knowledge = DomainKnowledge(db, Resolver(["127.0.0.1:9"]))
        selects: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            if "domain_facts" in statement and statement.lstrip().upper().startswith("SELECT"):
                selects.append(statement)

        db.prebuilt_listeners.append(lambda statement: count(None, None, statement))
        for engine in db.sync_engines:  # the inline reader's included
            event.listen(engine, "before_cursor_execute", count)
        assert (await knowledge.known("acme.test")).catch_all is None
        assert (await knowledge.known("acme.test")).catch_all is None
        assert len(selects) == 1  # the candidates' check and the sibling's share one read
        learned = Learned()
        knowledge.record_catch_all("acme.test", True, learned)
        assert (await knowledge.known("acme.test")).catch_all is True  # before it is stored
        knowledge.record_block("acme.test", "554 5.7.1 blocked", 60, learned)
        facts = await knowledge.known("acme.test")
        assert facts.blocked_until is not None and facts.blocked_reason == "554 5.7.1 blocked"
        await knowledge.persist(learned)
        assert not learned  # persisted once
        fresh = DomainKnowledge(db, Resolver(["127.0.0.1:9"]))  # another process: stored
        facts = await fresh.known("acme.test")
        assert facts.catch_all is True and facts.blocked_reason == "554 5.7.1 blocked"
    finally:
        await db.dispose()


async def test_what_a_lookup_learned_is_persisted_in_one_transaction(database_url: str) -> None:
    """MX hosts, a catch-all verdict, a crawl, owned addresses and a company's domain: one
    write transaction, nothing begun when nothing was learned, each address counted once."""
    db = Database(database_url)
    try:
        await upgrade_to_head(db.engine)
        knowledge = DomainKnowledge(db, Resolver(["127.0.0.1:9"]))
        counts = {"begin": 0, "commit": 0}

        def begun(_conn: Any) -> None:
            counts["begin"] += 1

        def committed(_conn: Any) -> None:
            counts["commit"] += 1

        event.listen(db.engine.sync_engine, "begin", begun)
        event.listen(db.engine.sync_engine, "commit", committed)
        await knowledge.persist(Learned())
        assert counts == {"begin": 0, "commit": 0}
        learned = Learned()
        learned.mx("zeta.test", MxAnswer("zeta.test", hosts=[MxHost(10, "mx.zeta.test")]))
        knowledge.record_catch_all("zeta.test", False, learned)
        learned.crawl("alpha.test", {"domain": "alpha.test", "pages": []})
        learned.address("jane.roe@alpha.test", "Jane", "Roe")
        learned.address("john.doe@alpha.test", "John", "Doe")
        learned.company("Alpha", "alpha", "alpha.test", "guess")
        # the lookup's next steps see its own addresses before anything is stored
        mine = await knowledge.evidence("alpha.test", learned)
        assert mine.patterns == [("first.last", 2)]
        await knowledge.persist(learned)
        assert counts["commit"] == 1, counts
        again = Learned()
        again.address("Jane.Roe@alpha.test", "Jane", "Roe")  # seen before: counts once
        assert (await knowledge.evidence("alpha.test", again)).patterns == [("first.last", 2)]
        await knowledge.persist(again)
        assert counts["commit"] == 2, counts
        stored = await knowledge.evidence("alpha.test")
        assert stored.patterns == [("first.last", 2)]
        assert (await repository.stored_facts(db, "zeta.test")) is not None
        assert (await repository.crawl_time(db, "alpha.test")) is not None
        async with db.read_session() as session:
            assert await repository.domain_for_company(session, "Alpha") is None  # contacts only
            rows = await session.scalars(select(CompanyDomain.domain))
            assert rows.all() == ["alpha.test"]
    finally:
        await db.dispose()


async def test_a_cancelled_lookup_still_persists_what_it_learned(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        await upgrade_to_head(db.engine)
        knowledge = DomainKnowledge(db, Resolver(["127.0.0.1:9"]))
        learned = Learned()
        learned.address("jane.roe@beta.test", "Jane", "Roe")
        persisting = asyncio.ensure_future(knowledge.persist(learned))
        await asyncio.sleep(0)  # the write has begun
        persisting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await persisting
        await knowledge.aclose()  # waits for writes still running
        assert (await knowledge.evidence("beta.test")).patterns == [("first.last", 1)]
    finally:
        await db.dispose()
