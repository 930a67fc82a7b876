"""tags, tag rules, segments, RFM segment sizes and join sources

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('loyalty_rfm_segment_size',
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('segment', sa.String(length=64), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('as_of', 'segment', name=op.f('pk_loyalty_rfm_segment_size'))
    )
    op.create_table('loyalty_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tag')),
    sa.UniqueConstraint('name', name=op.f('uq_loyalty_tag_name'))
    )
    op.create_table('loyalty_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['loyalty_staff_account.id'], name=op.f('fk_loyalty_segment_created_by_staff_id_loyalty_staff_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_segment')),
    sa.UniqueConstraint('name', name=op.f('uq_loyalty_segment_name'))
    )
    op.create_table('loyalty_tag_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("action IN ('add', 'remove')", name=op.f('ck_loyalty_tag_rule_action')),
    sa.CheckConstraint("kind IN ('keyword', 'event', 'rfm')", name=op.f('ck_loyalty_tag_rule_kind')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['loyalty_staff_account.id'], name=op.f('fk_loyalty_tag_rule_created_by_staff_id_loyalty_staff_account')),
    sa.ForeignKeyConstraint(['tag_id'], ['loyalty_tag.id'], name=op.f('fk_loyalty_tag_rule_tag_id_loyalty_tag')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tag_rule'))
    )
    with op.batch_alter_table('loyalty_tag_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_tag_rule_tag_id'), ['tag_id'], unique=False)

    op.create_table('loyalty_member_tag',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('pos_key_id', sa.Integer(), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('tagged_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('manual', 'rule', 'import', 'rfm')", name=op.f('ck_loyalty_member_tag_source')),
    sa.ForeignKeyConstraint(['member_id'], ['cards_member.id'], name=op.f('fk_loyalty_member_tag_member_id_cards_member')),
    sa.ForeignKeyConstraint(['pos_key_id'], ['loyalty_pos_key.id'], name=op.f('fk_loyalty_member_tag_pos_key_id_loyalty_pos_key')),
    sa.ForeignKeyConstraint(['rule_id'], ['loyalty_tag_rule.id'], name=op.f('fk_loyalty_member_tag_rule_id_loyalty_tag_rule')),
    sa.ForeignKeyConstraint(['staff_id'], ['loyalty_staff_account.id'], name=op.f('fk_loyalty_member_tag_staff_id_loyalty_staff_account')),
    sa.ForeignKeyConstraint(['tag_id'], ['loyalty_tag.id'], name=op.f('fk_loyalty_member_tag_tag_id_loyalty_tag')),
    sa.PrimaryKeyConstraint('tag_id', 'member_id', name=op.f('pk_loyalty_member_tag'))
    )
    with op.batch_alter_table('loyalty_member_tag', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_member_tag_member', ['member_id'], unique=False)

    op.create_table('loyalty_member_tag_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('pos_key_id', sa.Integer(), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('add', 'remove')", name=op.f('ck_loyalty_member_tag_change_action')),
    sa.CheckConstraint("source IN ('manual', 'rule', 'import', 'rfm')", name=op.f('ck_loyalty_member_tag_change_source')),
    sa.ForeignKeyConstraint(['member_id'], ['cards_member.id'], name=op.f('fk_loyalty_member_tag_change_member_id_cards_member')),
    sa.ForeignKeyConstraint(['pos_key_id'], ['loyalty_pos_key.id'], name=op.f('fk_loyalty_member_tag_change_pos_key_id_loyalty_pos_key')),
    sa.ForeignKeyConstraint(['rule_id'], ['loyalty_tag_rule.id'], name=op.f('fk_loyalty_member_tag_change_rule_id_loyalty_tag_rule')),
    sa.ForeignKeyConstraint(['staff_id'], ['loyalty_staff_account.id'], name=op.f('fk_loyalty_member_tag_change_staff_id_loyalty_staff_account')),
    sa.ForeignKeyConstraint(['tag_id'], ['loyalty_tag.id'], name=op.f('fk_loyalty_member_tag_change_tag_id_loyalty_tag')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_member_tag_change'))
    )
    with op.batch_alter_table('loyalty_member_tag_change', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_member_tag_change_member_changed', ['member_id', 'changed_at'], unique=False)

    with op.batch_alter_table('cards_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_source', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('join_store_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cards_member_joined_at'), ['joined_at'], unique=False)
    # Members from before sources were kept: a referrer means a referral, a chat
    # identity names the platform, and a member with neither came from an import.
    op.execute("""
        UPDATE cards_member SET join_source = CASE
          WHEN referred_by_member_id IS NOT NULL THEN 'referral'
          ELSE COALESCE((SELECT i.platform FROM cards_member_identity i
                         WHERE i.member_id = cards_member.id
                         ORDER BY i.followed_at, i.id LIMIT 1), 'import')
        END
    """)
    with op.batch_alter_table('cards_member', schema=None) as batch_op:
        batch_op.alter_column('join_source', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_check_constraint(
            'join_source',
            "join_source IN ('line', 'messenger', 'referral', 'store_link', 'import')")

    # Segments (loyalty.segments) and RFM read visits by time window (index-only) and by
    # store, and members by tier.
    op.drop_index('ix_loyalty_imported_visit_visited_at', table_name='loyalty_imported_visit')
    op.create_index('ix_loyalty_imported_visit_visited_member', 'loyalty_imported_visit',
                    ['visited_at', 'member_id', 'amount', 'store_id'])
    op.create_index('ix_loyalty_imported_visit_store_visited', 'loyalty_imported_visit',
                    ['store_id', 'visited_at', 'member_id'])
    op.create_index('ix_loyalty_ledger_entry_stamps_created', 'loyalty_ledger_entry',
                    ['created_at', 'member_id', 'amount', 'store_id'],
                    postgresql_where=sa.text("kind = 'stamp'"),
                    sqlite_where=sa.text("kind = 'stamp'"))
    op.create_index('ix_loyalty_balance_tier', 'loyalty_balance', ['tier'])
    op.create_index('ix_loyalty_ledger_entry_voids_created', 'loyalty_ledger_entry',
                    ['created_at'], postgresql_where=sa.text("kind = 'void'"),
                    sqlite_where=sa.text("kind = 'void'"))

    # The per-member visit summary segments read (loyalty.visit_summary).
    op.create_table('loyalty_member_visit_summary',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('last_visit_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('visits_7', sa.Integer(), nullable=False),
    sa.Column('spend_7', sa.BigInteger(), nullable=False),
    sa.Column('visits_30', sa.Integer(), nullable=False),
    sa.Column('spend_30', sa.BigInteger(), nullable=False),
    sa.Column('visits_90', sa.Integer(), nullable=False),
    sa.Column('spend_90', sa.BigInteger(), nullable=False),
    sa.Column('visits_180', sa.Integer(), nullable=False),
    sa.Column('spend_180', sa.BigInteger(), nullable=False),
    sa.Column('visits_365', sa.Integer(), nullable=False),
    sa.Column('spend_365', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_loyalty_member_visit_summary'))
    )
    op.create_table('loyalty_visit_summary_build',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', core.db.UTCDateTime(), nullable=False),
    sa.Column('as_of_day', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('imported_through', sa.Integer(), nullable=False),
    sa.Column('built_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_visit_summary_build'))
    )


def downgrade() -> None:
    op.drop_table('loyalty_visit_summary_build')
    op.drop_table('loyalty_member_visit_summary')
    op.drop_index('ix_loyalty_ledger_entry_voids_created', table_name='loyalty_ledger_entry')
    op.drop_index('ix_loyalty_balance_tier', table_name='loyalty_balance')
    op.drop_index('ix_loyalty_ledger_entry_stamps_created', table_name='loyalty_ledger_entry')
    op.drop_index('ix_loyalty_imported_visit_store_visited', table_name='loyalty_imported_visit')
    op.drop_index('ix_loyalty_imported_visit_visited_member',
                  table_name='loyalty_imported_visit')
    op.create_index('ix_loyalty_imported_visit_visited_at', 'loyalty_imported_visit',
                    ['visited_at'])
    with op.batch_alter_table('cards_member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cards_member_join_source'), type_='check')
        batch_op.drop_index(batch_op.f('ix_cards_member_joined_at'))
        batch_op.drop_column('join_store_id')
        batch_op.drop_column('join_source')

    with op.batch_alter_table('loyalty_member_tag_change', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_member_tag_change_member_changed')

    op.drop_table('loyalty_member_tag_change')
    with op.batch_alter_table('loyalty_member_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_member_tag_member')

    op.drop_table('loyalty_member_tag')
    with op.batch_alter_table('loyalty_tag_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_tag_rule_tag_id'))

    op.drop_table('loyalty_tag_rule')
    op.drop_table('loyalty_segment')
    op.drop_table('loyalty_tag')
    op.drop_table('loyalty_rfm_segment_size')
