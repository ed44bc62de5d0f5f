"""an account's imported contact found by name through one index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:50:00

``find_contact`` and ``count_namesakes`` ask for ``account_id = ? AND name_key = ? AND domain
= ?``. With only single-column indexes SQLite (no statistics until ``ANALYZE``) chose the
``account_id`` one and read every contact of the account per lookup: 20,000 rows, ~20 ms of CPU.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_known_contacts_account_name",
        "known_contacts",
        ["account_id", "name_key", "domain"],
    )


def downgrade() -> None:
    op.drop_index("ix_known_contacts_account_name", table_name="known_contacts")
