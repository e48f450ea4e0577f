"""war-room set-up leases: unfinished set-ups are resumed after a crash, one replica at a time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import bot.store.tables


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = "('investigating', 'identified', 'monitoring')"


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('setup_due_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('setup_attempts', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                'setup_lease_until', bot.store.tables.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                'setup_lease_owner', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                'declarer_told_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f('ix_incidents_setup_due_at'), ['setup_due_at'], unique=False
        )
    # Incidents from before: a war room that exists was announced; an open incident without
    # a room (never failed) or without its summary is resumed.
    op.execute("UPDATE incidents SET declarer_told_at = declared_at WHERE channel_id IS NOT NULL")
    op.execute(
        "UPDATE incidents SET setup_due_at = declared_at "
        f"WHERE status IN {OPEN} AND setup_error IS NULL "
        "AND (channel_id IS NULL OR intro_ts IS NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_setup_due_at'))
        batch_op.drop_column('declarer_told_at')
        batch_op.drop_column('setup_lease_owner')
        batch_op.drop_column('setup_lease_until')
        batch_op.drop_column('setup_attempts')
        batch_op.drop_column('setup_due_at')
