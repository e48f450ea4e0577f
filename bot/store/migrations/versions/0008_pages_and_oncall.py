"""pages (an outbox until the pager has them) and the on-call cache

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 04:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import bot.store.tables


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

When = bot.store.tables.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('target', Text(length=120), nullable=False),
    sa.Column('pager', Text(length=20), nullable=False),
    sa.Column('dedup_key', Text(length=200), nullable=False),
    sa.Column('service', Text(length=80), nullable=True),
    sa.Column('paged_user', Text(length=40), nullable=True),
    sa.Column('requested_by', Text(length=40), nullable=False),
    sa.Column('requested_in', Text(length=40), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('urgency', Text(length=10), nullable=False),
    sa.Column('state', Text(length=20), nullable=False),
    sa.Column('requested_at', When(timezone=True), nullable=False),
    sa.Column('due_at', When(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', Text(length=40), nullable=True),
    sa.Column('lease_until', When(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('external_id', Text(length=100), nullable=True),
    sa.Column('paged_at', When(timezone=True), nullable=True),
    sa.Column('acknowledged_at', When(timezone=True), nullable=True),
    sa.Column('acknowledged_by', Text(length=200), nullable=True),
    sa.Column('acknowledged_user', Text(length=40), nullable=True),
    sa.Column('resolve_wanted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('resolved_at', When(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'target', 'pager', name='uq_page_target')
    )
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pages_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pages_dedup_key'), ['dedup_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pages_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_pages_due_at'), ['due_at'], unique=False)

    op.create_table('oncall',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', Text(length=80), nullable=False),
    sa.Column('pager', Text(length=20), nullable=False),
    sa.Column('people', sa.JSON(), server_default='[]', nullable=False),
    sa.Column('fetched_at', When(timezone=True), nullable=True),
    sa.Column('tried_at', When(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('lease_until', When(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service', 'pager', name='uq_oncall_service')
    )


def downgrade() -> None:
    op.drop_table('oncall')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pages_due_at'))
        batch_op.drop_index(batch_op.f('ix_pages_state'))
        batch_op.drop_index(batch_op.f('ix_pages_dedup_key'))
        batch_op.drop_index(batch_op.f('ix_pages_incident_id'))
    op.drop_table('pages')
