"""Leads settled after their delivery (issue 14): the ``review`` status and the day of the decision

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

A lead whose reasons a person may judge is stored with the status ``review`` until accepted or
rejected; a lead held by an undecided pilot (PILOT_HOLD) waits for the pilot's decision. Either is
billed on the statement of the month of that decision, kept in ``lead.decided_on``. Leads stored
before were settled at delivery: NULL.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch_op.drop_constraint(op.f('ck_lead_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('accepted', 'rejected', 'review')")


def downgrade() -> None:
    # A lead still in review has no place in the older schema: it counts as rejected there.
    op.execute("UPDATE lead SET status = 'rejected' WHERE status = 'review'")
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_lead_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('accepted', 'rejected')")
        batch_op.drop_column('decided_on')
