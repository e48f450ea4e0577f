"""pending room notices: a war-room alert notice held back by pacing, or whose post failed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 15:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import bot.store.tables


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('room_pending', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('room_retry_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('all_clear_pending', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                'all_clear_retry_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('all_clear_retry_at')
        batch_op.drop_column('all_clear_pending')
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.drop_column('room_retry_at')
        batch_op.drop_column('room_pending')
