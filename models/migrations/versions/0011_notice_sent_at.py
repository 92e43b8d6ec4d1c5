"""The lead keeps when the supplier informed the person (issue 14): NO_NOTICE under legitimate interest

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A contract whose legal basis is legitimate interest needs each lead's ``notice_sent_at``, the
evidence that the person was told their data is passed on; the access export shows it and an
erasure removes it like the other supplied values. Leads stored before have none (NULL).
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_sent_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_column('notice_sent_at')
