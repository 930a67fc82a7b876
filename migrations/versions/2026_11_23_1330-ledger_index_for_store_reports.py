"""ledger index for store reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:30:43.388665
"""

from collections.abc import Sequence

from alembic import op



revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_loyalty_ledger_entry_store_created", "loyalty_ledger_entry", ["store_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_loyalty_ledger_entry_store_created", table_name="loyalty_ledger_entry")
