"""slack_outbox: Slack calls kept until Slack takes them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 22:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import bot.store.tables


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

When = bot.store.tables.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('slack_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', Text(length=40), nullable=False),
    sa.Column('args', sa.JSON(), server_default='{}', nullable=False),
    sa.Column('key', Text(length=200), nullable=True),
    sa.Column('urgency', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', When(timezone=True), nullable=False),
    sa.Column('due_at', When(timezone=True), nullable=False),
    sa.Column('lease_owner', Text(length=40), nullable=True),
    sa.Column('lease_until', When(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('slack_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_outbox_due_at'), ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_outbox_due_at'))
    op.drop_table('slack_outbox')
