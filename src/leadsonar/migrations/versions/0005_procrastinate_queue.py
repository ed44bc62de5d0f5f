"""the bulk-job queue: procrastinate's schema on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 02:30:00

procrastinate 3.10.0's own ``schema.sql`` (copied, frozen, in ``migrations/sql/``) creates the
queue's tables (``procrastinate_jobs``, ``procrastinate_workers`` …), types and functions. SQLite
has no queue (the embedded runner polls the items table), so nothing happens there. Upgrading
procrastinate means a new revision that applies the SQL migrations procrastinate ships between
the two versions (docs/deploy.md).
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0-schema.sql"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Through the DB-API cursor without parameters: the script holds '%' (RAISE formats) that
    # must not be read as placeholders.
    cursor = bind.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(SCHEMA.read_text(encoding="utf-8"))
    finally:
        cursor.close()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE; "
        "DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type, "
        "procrastinate_job_to_defer_v1 CASCADE"
    )
