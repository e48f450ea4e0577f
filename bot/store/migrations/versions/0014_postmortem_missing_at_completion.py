"""postmortem missing at completion: what was still missing when it was marked complete anyway,
and the newest timeline entry the draft was written from (later ones make it out of date)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drafted_through', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('missing_at_completion', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.drop_column('missing_at_completion')
        batch_op.drop_column('drafted_through')
