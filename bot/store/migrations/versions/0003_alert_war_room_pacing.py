"""alert war-room pacing: when a war room last heard about a group, and was offered all-clear

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import bot.store.tables


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_posted_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('all_clear_posted_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('all_clear_posted_at')

    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.drop_column('room_posted_at')
