"""Idle polls only read: the webhook dispatcher and the embedded job runner look for due work
every ``job_poll_interval`` with one prebuilt read (Database.fetch), and open a write
transaction only when something is due, so an idle server never takes SQLite's write lock
(which would send the hot path's inline writes, and other processes, waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from leadsonar.config import Settings
from leadsonar.testing.live import LiveServer

pytestmark = pytest.mark.asyncio

TABLES = ("webhook_deliveries", "enrichment_items")


async def test_idle_polls_read_without_a_write_transaction(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(
        database_url=database_url, providers="email=known;phone=known", job_poll_interval=0.05
    )
    async with LiveServer(settings) as live:
        db = live.services.db
        await live.services.registry.books.stop_writing()  # its own writes every two seconds
        through_engines: list[str] = []
        peeks: list[str] = []

        def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if any(table in statement for table in TABLES):
                through_engines.append(statement)

        db.prebuilt_listeners.append(
            lambda sql: peeks.append(sql) if any(t in sql for t in TABLES) else None
        )
        for engine in db.sync_engines:
            event.listen(engine, "before_cursor_execute", executed)
        try:
            await asyncio.sleep(0.6)  # about a dozen polls of each
        finally:
            for engine in db.sync_engines:
                event.remove(engine, "before_cursor_execute", executed)
    assert any("webhook_deliveries" in sql for sql in peeks), peeks
    if db.sqlite:  # the embedded runner (PostgreSQL's queue worker polls on its own)
        assert any("enrichment_items" in sql for sql in peeks), peeks
    assert through_engines == []  # no claim (and so no write transaction) while idle
