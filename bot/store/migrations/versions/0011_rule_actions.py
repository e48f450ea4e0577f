"""rule actions: each (rule, incident, event, action) at most once, retried until done

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import bot.store.tables


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

When = bot.store.tables.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('rule_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', Text(length=80), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('event', Text(length=40), nullable=False),
    sa.Column('action', sa.Integer(), nullable=False),
    sa.Column('kind', Text(length=20), nullable=False),
    sa.Column('state', Text(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', When(timezone=True), nullable=True),
    sa.Column('lease_owner', Text(length=40), nullable=True),
    sa.Column('lease_until', When(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', When(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rule', 'incident_id', 'event', 'action', name='uq_rule_action')
    )
    with op.batch_alter_table('rule_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_actions_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_actions_due_at'), ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rule_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_actions_due_at'))
        batch_op.drop_index(batch_op.f('ix_rule_actions_incident_id'))
    op.drop_table('rule_actions')
