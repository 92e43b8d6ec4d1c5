"""Who decided (issue 14, audit trail): contests, erasures and objections, statement computations

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-06

Every human decision keeps who took it and when. Pilot decisions, releases and review decisions keep
theirs in their own tables; this adds the three that had only a time: the person (or run) that
recorded an outcome event such as a contest, asked for an objection or erasure, or computed a
statement revision. Rows stored before keep NULL: nobody knows who.
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by', sa.String(length=200), nullable=True))
    with op.batch_alter_table('suppression_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('billing_statement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('computed_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('billing_statement', schema=None) as batch_op:
        batch_op.drop_column('computed_by')
    with op.batch_alter_table('suppression_entry', schema=None) as batch_op:
        batch_op.drop_column('requested_at')
        batch_op.drop_column('requested_by')
    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.drop_column('recorded_by')
