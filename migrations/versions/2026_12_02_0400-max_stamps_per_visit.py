"""max stamps per visit

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing program versions get the default bound (loyalty.programs).
    with op.batch_alter_table("loyalty_program") as batch:
        batch.add_column(
            sa.Column("max_stamps_per_visit", sa.Integer(), nullable=False, server_default="10")
        )


def downgrade() -> None:
    with op.batch_alter_table("loyalty_program") as batch:
        batch.drop_column("max_stamps_per_visit")
