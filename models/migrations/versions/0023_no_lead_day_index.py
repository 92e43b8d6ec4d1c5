"""The lead table loses its index on the delivery day (issue 15)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

A period's leads (a week, a month, a pilot's window, a retention cut-off) are found through their
deliveries: the delivery table's rows of the supplier in the period, then each delivery's leads on the
lead table's own ``(delivery_id, row_number)`` index (``models.delivery.delivered_between``). The
``(supplier_id, delivered_on)`` index had every stored lead pay for one more index entry: 0.9 s of
the 7.8 s a million-lead delivery spent inserting its leads, and about 15 % of the lead table's size.
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_lead_supplier_id_delivered_on', table_name='lead')


def downgrade() -> None:
    op.create_index('ix_lead_supplier_id_delivered_on', 'lead', ['supplier_id', 'delivered_on'], unique=False)
