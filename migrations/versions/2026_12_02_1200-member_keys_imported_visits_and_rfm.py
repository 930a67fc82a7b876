"""member keys, imported visits and RFM scores

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

import base64
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _new_member_key() -> str:
    # As cards.codes.new_member_key makes them, frozen here with the migration.
    return "pl_" + base64.b32encode(secrets.token_bytes(10)).decode().lower()


def upgrade() -> None:
    with op.batch_alter_table("cards_member") as batch:
        batch.add_column(sa.Column("member_key", sa.String(length=64), nullable=True))
    # Members who joined before keys existed get a generated one, like a new join.
    members = sa.table("cards_member", sa.column("id", sa.Integer),
                       sa.column("member_key", sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(members.c.id)).scalars().all()
    if ids:
        connection.execute(
            members.update().where(members.c.id == sa.bindparam("member_id"))
            .values(member_key=sa.bindparam("key")),
            [{"member_id": member_id, "key": _new_member_key()} for member_id in ids],
        )
    with op.batch_alter_table("cards_member") as batch:
        batch.alter_column("member_key", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_cards_member_member_key"), ["member_key"])

    op.create_table(
        "loyalty_imported_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("imported_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0",
                           name=op.f("ck_loyalty_imported_visit_amount_not_negative")),
        sa.ForeignKeyConstraint(["member_id"], ["cards_member.id"],
                                name=op.f("fk_loyalty_imported_visit_member_id_cards_member")),
        sa.ForeignKeyConstraint(["store_id"], ["loyalty_store.id"],
                                name=op.f("fk_loyalty_imported_visit_store_id_loyalty_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_imported_visit")),
        sa.UniqueConstraint("member_id", "store_id", "visited_at", "amount",
                            name=op.f("uq_loyalty_imported_visit_member_id_store_id_visited_at_amount")),
    )
    op.create_index(op.f("ix_loyalty_imported_visit_visited_at"), "loyalty_imported_visit",
                    ["visited_at"])

    op.create_table(
        "loyalty_rfm_score",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.BigInteger(), nullable=False),
        sa.Column("r", sa.Integer(), nullable=False),
        sa.Column("f", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["cards_member.id"],
                                name=op.f("fk_loyalty_rfm_score_member_id_cards_member")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_loyalty_rfm_score")),
    )
    op.create_index(op.f("ix_loyalty_rfm_score_segment"), "loyalty_rfm_score", ["segment"])

    op.create_table(
        "loyalty_rfm_segment_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("from_segment", sa.String(length=64), nullable=True),
        sa.Column("to_segment", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["cards_member.id"],
                                name=op.f("fk_loyalty_rfm_segment_change_member_id_cards_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_rfm_segment_change")),
    )
    op.create_index("ix_loyalty_rfm_segment_change_member_changed",
                    "loyalty_rfm_segment_change", ["member_id", "changed_at"])


def downgrade() -> None:
    op.drop_table("loyalty_rfm_segment_change")
    op.drop_table("loyalty_rfm_score")
    op.drop_table("loyalty_imported_visit")
    with op.batch_alter_table("cards_member") as batch:
        batch.drop_constraint("uq_cards_member_member_key", type_="unique")
        batch.drop_column("member_key")
