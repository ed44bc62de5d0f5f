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
from leadsonar.testing.live import LiveServer

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
    """Count transactions begun and committed on the server's engine inside the block."""
    counts = {"begin": 0, "commit": 0}
    engine = live.services.db.engine.sync_engine

    def begun(_conn: Any) -> None:
        counts["begin"] += 1

    def committed(_conn: Any) -> None:
        counts["commit"] += 1

    event.listen(engine, "begin", begun)
    event.listen(engine, "commit", committed)
    try:
        yield counts
    finally:
        event.remove(engine, "begin", begun)
        event.remove(engine, "commit", committed)


async def test_imported_contact_and_cached_answers_commit_at_most_twice(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url=database_url, providers="email=known;phone=known")
    async with LiveServer(settings) as live:
        key = await live.create_account("uow", credits=10)
        async with live.services.db.write_session() as session:
            await import_rows(session, [(2, JANE)], ImportReport(), await live.account_id("uow"))
        # Background work is not the requests': the job runner's polling for due items and
        # provider usage written every few seconds. Stop both so that their transactions
        # cannot fall inside a measured request.
        await live.services.runner.stop()
        await live.services.registry.books.stop_writing()
        async with httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            with counting(live) as imported:
                first = (await client.post("/api/v1/find-email", json=BODY)).json()
            with counting(live) as cached:
                again = (await client.post("/api/v1/find-email", json=BODY)).json()
            with counting(live) as refused:  # a bad body: nothing charged, nothing committed
                bad = await client.post("/api/v1/find-email", json={"firstName": "x"})
    assert (first["email"], first["waterfall"]["cached"]) == ("jane.roe@globex.test", False)
    assert (again["email"], again["waterfall"]["cached"]) == ("jane.roe@globex.test", True)
    assert bad.status_code == 400
    # the charge, then the cached answer's write; a cached answer only charges
    assert imported["commit"] == 2, imported
    assert cached["commit"] == 1, cached
    assert refused["commit"] == 0, refused
