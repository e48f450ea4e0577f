"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:08:41.694220
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import bot.store.tables


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.Integer)),
        [{"name": "incident", "value": 0}],
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('is_private', sa.Boolean(), nullable=False),
    sa.Column('is_drill', sa.Boolean(), nullable=False),
    sa.Column('declared_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('origin_channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('channel_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('intro_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('status_card_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('setup_error', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('detected_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('declared_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mitigated_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_update_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel_id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_incidents_status'), ['status'], unique=False)

    op.create_table('processed_events',
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('received_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('role_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('assigned_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('assigned_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'role', name='uq_role_per_incident')
    )
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_assignments_incident_id'), ['incident_id'], unique=False)

    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('occurred_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('permalink', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'source_key', name='uq_timeline_source')
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_events_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_events_incident_id'))

    op.drop_table('timeline_events')
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_assignments_incident_id'))

    op.drop_table('role_assignments')
    op.drop_table('processed_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_status'))
        batch_op.drop_index(batch_op.f('ix_incidents_number'))

    op.drop_table('incidents')
    op.drop_table('counters')
