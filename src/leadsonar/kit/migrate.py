"""Apply Alembic migrations (at every start, and in tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
QUEUE_TABLE_PREFIX = "procrastinate_"
MIGRATE_LOCK = 0x4C_53_6D_69_67  # pg_advisory_xact_lock key of migrations ("LSmig")


def ours(name: str | None, type_: str, _parents: object = None) -> bool:
    """Alembic ``include_name`` hook: the job queue's tables (procrastinate's own schema, created
    by migration 0004 on PostgreSQL) are not described by our models, so comparing models with
    the database leaves them out."""
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the database schema to the newest revision; a no-op when it already is.

    On PostgreSQL, processes starting together (API and workers on one database) take turns
    through a transaction-scoped advisory lock: the first migrates, the others then find the
    schema at head.
    """

    def _upgrade(connection: object) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK}
            )
        await connection.run_sync(_upgrade)
