"""The lead_reason table loses its index on the reason code (issue 15)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05

No query looks reasons up by their code alone: every reader joins them to their leads on
``(delivery_id, row_number)``, which keeps its index. The code's index only cost each stored reason
one more index entry (a million-lead delivery stores about 250,000 reasons).
"""
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_lead_reason_code', table_name='lead_reason')


def downgrade() -> None:
    op.create_index('ix_lead_reason_code', 'lead_reason', ['code'], unique=False)
