"""Migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from leadsonar.kit.db import Database
from leadsonar.kit.migrate import ours, upgrade_to_head
from leadsonar.models import Base

pytestmark = pytest.mark.asyncio


async def test_migrations_match_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade_to_head(db.engine)
        await upgrade_to_head(db.engine)  # a second start is a no-op

        def diff(connection: Any) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": ours}
            )
            return list(compare_metadata(context, Base.metadata))

        async with db.engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await db.dispose()
    assert differences == []
