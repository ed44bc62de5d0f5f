"""ledger balance rows; imported contacts belong to an account; addresses teach patterns once

Revision ID: 0003
Revises: 0002_h_jobs_webhooks
Create Date: 2026-12-01 02:12:24

- ``account_balances``: one row per account, backfilled from ``ledger_entries`` (balance = sum of
  amounts, total_earned = sum of positive amounts, total_spent = negated sum of negative ones).
- ``known_contacts.account_id``: existing contacts go to the account named ``default`` (else the
  oldest account; one named ``default`` is created when contacts exist but no account does).
  ``contact_key`` identifies a contact within its account; duplicates left by importing a file
  twice are dropped (the newest row of each key is kept).
- ``learned_addresses``: addresses whose pattern evidence was counted (hashes only).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002_h_jobs_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_addresses",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "learned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    op.create_table(
        "account_balances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("total_earned", sa.Integer(), nullable=False),
        sa.Column("total_spent", sa.Integer(), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_account_balances_not_negative"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.execute(
        """
        INSERT INTO account_balances (account_id, balance, total_earned, total_spent)
        SELECT a.id,
               COALESCE(SUM(e.amount), 0),
               COALESCE(SUM(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN e.amount < 0 THEN -e.amount ELSE 0 END), 0)
        FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
        GROUP BY a.id
        """
    )

    with op.batch_alter_table("known_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contact_key", sa.String(length=800), nullable=True))
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT COUNT(*) FROM known_contacts")).scalar():
        owner = (
            connection.execute(sa.text("SELECT id FROM accounts WHERE name = 'default'")).scalar()
            or connection.execute(sa.text("SELECT MIN(id) FROM accounts")).scalar()
        )
        if owner is None:
            connection.execute(sa.text("INSERT INTO accounts (name) VALUES ('default')"))
            owner = connection.execute(
                sa.text("SELECT id FROM accounts WHERE name = 'default'")
            ).scalar()
            connection.execute(
                sa.text(
                    "INSERT INTO account_balances (account_id, balance, total_earned, "
                    "total_spent) VALUES (:id, 0, 0, 0)"
                ),
                {"id": owner},
            )
        connection.execute(sa.text("UPDATE known_contacts SET account_id = :id"), {"id": owner})
        connection.execute(
            sa.text(
                """
                UPDATE known_contacts SET contact_key = CASE
                    WHEN email IS NOT NULL THEN 'email:' || lower(email)
                    ELSE 'name:' || name_key || '@' || COALESCE(domain, lower(company), '')
                END
                """
            )
        )
        connection.execute(
            sa.text(
                """
                DELETE FROM known_contacts WHERE id NOT IN (
                    SELECT MAX(id) FROM known_contacts GROUP BY account_id, contact_key
                )
                """
            )
        )
    with op.batch_alter_table("known_contacts", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("contact_key", existing_type=sa.String(length=800), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_known_contacts_account_id"), ["account_id"], unique=False
        )
        batch_op.create_unique_constraint(
            "uq_known_contacts_account_key", ["account_id", "contact_key"]
        )
        batch_op.create_foreign_key(
            "fk_known_contacts_account_id_accounts",
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("known_contacts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_known_contacts_account_id_accounts", type_="foreignkey")
        batch_op.drop_constraint("uq_known_contacts_account_key", type_="unique")
        batch_op.drop_index(batch_op.f("ix_known_contacts_account_id"))
        batch_op.drop_column("contact_key")
        batch_op.drop_column("account_id")
    op.drop_table("account_balances")
    op.drop_table("learned_addresses")
