"""The prober's per-domain facts (catch-all status, blocks): stored in ``domain_facts`` and
kept in memory for a short while, so a lookup's several checks read the database once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from leadsonar.domains.knowledge import DomainKnowledge, Learned
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver

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

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
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
