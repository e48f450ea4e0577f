"""lifecycle reminders runbooks alerts followups postmortems

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:28:12.490344
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import bot.store.tables


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_channel_state',
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('window_start', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('new_groups', sa.Integer(), nullable=False),
    sa.Column('storm_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('storm_groups', sa.Integer(), nullable=False),
    sa.Column('storm_alerts', sa.Integer(), nullable=False),
    sa.Column('storm_updated_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('channel_id')
    )
    op.create_table('alert_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('card_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('card_posted_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('card_count', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_groups_fingerprint'), ['fingerprint'], unique=True)
        batch_op.create_index(batch_op.f('ix_alert_groups_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_groups_status'), ['status'], unique=False)

    op.create_table('followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followups_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_owner_id'), ['owner_id'], unique=False)

    op.create_table('postmortems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('generated_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('completed_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id')
    )
    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('due_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('fired_count', sa.Integer(), nullable=False),
    sa.Column('last_fired_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'kind', name='uq_reminder_kind')
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_incident_id'), ['incident_id'], unique=False)

    op.create_table('runbook_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('runbook_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('message_ts', sa.JSON(), nullable=False),
    sa.Column('step_count', sa.Integer(), nullable=False),
    sa.Column('posted_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('posted_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('runbook_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_runs_incident_id'), ['incident_id'], unique=False)

    op.create_table('alert_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('received_at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['alert_groups.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_events_group_id'), ['group_id'], unique=False)

    op.create_table('runbook_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('at', bot.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runbook_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'step_index', name='uq_runbook_step')
    )
    with op.batch_alter_table('runbook_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_steps_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identified_at', bot.store.tables.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('identified_at')

    with op.batch_alter_table('runbook_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbook_steps_run_id'))

    op.drop_table('runbook_steps')
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_events_group_id'))

    op.drop_table('alert_events')
    with op.batch_alter_table('runbook_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbook_runs_incident_id'))

    op.drop_table('runbook_runs')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_incident_id'))
        batch_op.drop_index(batch_op.f('ix_reminders_due_at'))

    op.drop_table('reminders')
    op.drop_table('postmortems')
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followups_owner_id'))
        batch_op.drop_index(batch_op.f('ix_followups_incident_id'))

    op.drop_table('followups')
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_groups_status'))
        batch_op.drop_index(batch_op.f('ix_alert_groups_incident_id'))
        batch_op.drop_index(batch_op.f('ix_alert_groups_fingerprint'))

    op.drop_table('alert_groups')
    op.drop_table('alert_channel_state')
