"""What a bulk run asks of DNS and the database per row (issue 9 §7): an NXDOMAIN is asked once
per domain while its SOA allows (RFC 2308), an unchanged MX answer is stored once, and a
domain's suppression check is one query per domain, not one per row and provider."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from leadsonar.domains.knowledge import DomainKnowledge, Learned
from leadsonar.domains.models import DomainFacts
from leadsonar.kit.db import Database
from leadsonar.kit.migrate import upgrade_to_head
from leadsonar.kit.net.dns import Resolver
from leadsonar.kit.net.resolver_check import ResolverCheck
from leadsonar.suppressions import service as suppressions
from leadsonar.suppressions.models import EVERYONE
from leadsonar.testing.dnsserver import LoopbackDns

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
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: statements.append(sql),
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


async def test_a_domain_suppression_is_one_query_per_domain_and_seen_at_once(
    database_url: str,
) -> None:
    db = await _database(database_url)
    selects: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: selects.append(sql) if "suppressions" in sql else None,
    )
    try:
        listed = suppressions.SuppressionList(db)
        for _ in range(50):
            assert not await listed.suppressed(domain="acme.test")
            assert await listed.filter_addresses("acme.test", []) == []
        assert len(selects) == 1
        # a suppression added in this process counts at once, memo or not
        async with db.write_session() as session:
            await suppressions.add(session, EVERYONE, "domain", "acme.test")
        assert await listed.suppressed(domain="www.acme.test")
        assert await listed.suppressed(domain="acme.test")
        async with db.write_session() as session:
            assert await suppressions.remove(session, EVERYONE, "domain", "acme.test")
        assert not await listed.suppressed(domain="acme.test")
    finally:
        await db.dispose()
