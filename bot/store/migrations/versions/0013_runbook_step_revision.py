"""runbook step revision: a done or skipped step can be undone, so each change is counted

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runbook_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    # the older code reads any stored step as done or skipped: an undone step is just pending,
    # and its first "done" entry must give up the timeline key the older code marks it with
    # again (or marking that step would fail on the unique key for good)
    op.execute(
        "UPDATE timeline_events SET source_key = source_key || '\\:before-downgrade' "
        "WHERE source_key IN (SELECT 'runbook:' || run_id || ':step:' || step_index "
        "FROM runbook_steps WHERE status = 'pending')"
    )
    op.execute("DELETE FROM runbook_steps WHERE status = 'pending'")
    with op.batch_alter_table('runbook_steps', schema=None) as batch_op:
        batch_op.drop_column('revision')
