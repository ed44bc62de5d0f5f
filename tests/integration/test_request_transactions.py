"""One unit of work per request (issue 9 §2): a find-email answered from an imported contact or
from the cache commits at most two transactions (the charge, then the request's writes), on
SQLite and PostgreSQL. Counted with SQLAlchemy's engine events on the server's own engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from leadsonar.config import Settings
from leadsonar.domains.contacts import ImportReport, import_rows
from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.live import LiveServer
from leadsonar.testing.smtpserver import SmtpWorld
from tests.integration.conftest import make_net_settings

pytestmark = pytest.mark.asyncio

JANE = {
    "firstname": "Jane",
    "lastname": "Roe",
    "company": "Globex",
    "website": "globex.test",
    "email": "jane.roe@globex.test",
    "phone": "",
}
BODY = {"firstName": "Jane", "lastName": "Roe", "website": "globex.test"}


@contextmanager
def counting(live: LiveServer) -> Iterator[dict[str, int]]:
    """Count transactions begun and committed on the server's engines inside the block (the
    charges' writer included) and the prebuilt writes on PostgreSQL's pool (each one
    transaction: a statement in autocommit mode, or a batch of rows in one transaction), and
    statements that read API keys (``auth``)."""
    counts = {"begin": 0, "commit": 0, "auth": 0}
    engines = live.services.db.sync_engines

    def begun(_conn: Any) -> None:
        counts["begin"] += 1

    def committed(_conn: Any) -> None:
        counts["commit"] += 1

    def executed(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        counts["auth"] += "FROM api_keys" in statement
        # a write in autocommit mode (the PostgreSQL charge's one statement) commits by itself
        autocommit = getattr(conn.connection.dbapi_connection, "autocommit", False) is True
        if autocommit and not statement.lstrip().upper().startswith(("SELECT", "SHOW")):
            counts["commit"] += 1

    def prebuilt(statement: str) -> None:
        # a prebuilt write commits by itself on PostgreSQL (Database.write_statement and
        # write_rows, autocommit); on SQLite it runs inside a write_sync transaction
        # (Database.execute_in), whose COMMIT the engine's event counts
        if not live.services.db.sqlite and not statement.lstrip().upper().startswith("SELECT"):
            counts["commit"] += 1

    listeners = live.services.db.prebuilt_listeners
    listeners.append(prebuilt)
    for engine in engines:
        event.listen(engine, "begin", begun)
        event.listen(engine, "commit", committed)
        event.listen(engine, "before_cursor_execute", executed)
    try:
        yield counts
    finally:
        listeners.remove(prebuilt)
        for engine in engines:
            event.remove(engine, "begin", begun)
            event.remove(engine, "commit", committed)
            event.remove(engine, "before_cursor_execute", executed)


async def _quiet(live: LiveServer) -> None:
    """Stop the background work that is not the requests': the job runner's and the webhook
    dispatcher's polling for due work and provider usage written every few seconds, so that
    their transactions cannot fall inside a measured request."""
    await live.services.runner.stop()
    if live.services.webhooks is not None:
        await live.services.webhooks.stop()
    await live.services.registry.books.stop_writing()


async def _post(live: LiveServer, client: httpx.AsyncClient, body: dict[str, Any]) -> Any:
    """POST ``body`` to find-email and wait for the answer's cache write, which is written
    behind the answer (LookupCacheStore.put), so that it is counted with its request."""
    response = await client.post("/api/v1/find-email", json=body)
    cache = live.services.lookup.waterfall.cache
    assert cache is not None
    await cache.flush()
    return response


async def test_imported_contact_and_cached_answers_commit_at_most_twice(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as live:
        key = await live.create_account("uow", credits=10)
        async with live.services.db.write_session() as session:
            await import_rows(session, [(2, JANE)], ImportReport(), await live.account_id("uow"))
        await _quiet(live)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            with counting(live) as imported:
                first = (await _post(live, client, BODY)).json()
            with counting(live) as cached:
                again = (await _post(live, client, BODY)).json()
            with counting(live) as refused:  # a bad body: nothing charged, nothing committed
                bad = await client.post("/api/v1/find-email", json={"firstName": "x"})
    assert (first["email"], first["waterfall"]["cached"]) == ("jane.roe@globex.test", False)
    assert (again["email"], again["waterfall"]["cached"]) == ("jane.roe@globex.test", True)
    assert bad.status_code == 400
    # the charge, then the cached answer's write; a cached answer only charges
    assert imported["commit"] == 2, imported
    assert cached["commit"] == 1, cached
    assert refused["commit"] == 0, refused


async def test_the_default_waterfall_commits_at_most_twice_for_an_imported_contact(
    make_settings: Callable[..., Settings], database_url: str, dns_zone: LoopbackDns
) -> None:
    """The whole default chain (known, website, smtp) for a domain that does not resolve: the
    crawler and the prober ask (DNS: NXDOMAIN) but the facts they learned on the domain's first
    lookup are not written again, reads are never committed, and the key is authenticated
    from the database once (then from the process's key cache)."""
    settings = make_settings(database_url=database_url, dns_servers=[dns_zone.address])
    async with LiveServer(settings) as live:
        key = await live.create_account("uow", credits=10)
        owner = await live.account_id("uow")
        john = {**JANE, "firstname": "John", "lastname": "Doe", "email": "john.doe@globex.test"}
        async with live.services.db.write_session() as session:
            await import_rows(session, [(2, JANE), (3, john)], ImportReport(), owner)
        await _quiet(live)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            # the domain's first lookup learns its facts (MX: none, the crawl: unreadable)
            first = (await _post(live, client, BODY)).json()
            with counting(live) as imported:
                other = await _post(live, client, {**BODY, "firstName": "John", "lastName": "Doe"})
            with counting(live) as cached:
                again = (await _post(live, client, BODY)).json()
    assert first["email"] == "jane.roe@globex.test"
    assert first["waterfall"]["tried"] == ["known", "website", "smtp"]
    assert other.json()["email"] == "john.doe@globex.test"
    assert again["waterfall"]["cached"] is True
    assert imported["commit"] <= 2, imported  # the charge, the cached answer
    assert cached["commit"] <= 1, cached  # the charge
    assert imported["auth"] == cached["auth"] == 0  # the key came from the key cache


async def test_a_full_prober_lookup_commits_at_most_four_times(
    dns_zone: LoopbackDns, smtp_world: SmtpWorld, database_url: str
) -> None:
    """No imported contact, no cached answer: the whole default chain asks a loopback domain
    with a real mail server (DNS, SMTP, the crawler's fetch) and learns its MX hosts, its
    catch-all verdict, its pattern and its (unreadable) site. What the lookup learned is
    persisted once (DomainKnowledge.persist in Waterfall.run), besides the charge and the
    cached answer."""
    dns_zone.add_mx("initech.test", [(10, "mx.initech.test")])
    dns_zone.add_a("mx.initech.test", "127.0.0.2")
    await smtp_world.serve("127.0.0.2", mailboxes={"peter.gibbons@initech.test"})
    settings = make_net_settings(dns_zone, smtp_world, database_url=database_url)
    async with LiveServer(settings) as live:
        key = await live.create_account("uow", credits=10)
        await _quiet(live)
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            with counting(live) as probed:
                peter = {"firstName": "Peter", "lastName": "Gibbons", "website": "initech.test"}
                found = (await _post(live, client, peter)).json()
    assert found["email"] == "peter.gibbons@initech.test", found
    assert found["waterfall"]["tried"][-1] == "smtp", found
    assert found["verification"] == "valid", found
    # the charge, what the lookup learned (MX, catch-all, pattern, the crawl it waited for),
    # the cached answer: 3 (was 8 when facts, patterns and crawls were written mid-lookup);
    # 4 when the crawl ends after the answer and so stores itself
    assert probed["commit"] <= 4, probed
