"""A lead has one foreign key, to its delivery and that delivery's supplier (issue 15)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05

A lead pointed at its delivery and, separately, at its supplier: two checks per stored lead.
PostgreSQL runs each as a look-up of its own, so a million-lead delivery spent about 4 s of its 18 s
store on the second million (the supplier's). The one key ``(delivery_id, supplier_id)`` ->
``delivery (id, supplier_id)`` checks both at once: the delivery exists, it is that supplier's, and the
supplier exists because the delivery's own key says so. The guarantee is stronger than before (a
lead's supplier can no longer differ from its delivery's), and each lead costs one check.

SQLite rewrites the lead table to change its keys (batch mode): on a large database this upgrade
copies every stored lead once.
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_delivery_id_supplier_id'), ['id', 'supplier_id'])
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_constraint('fk_lead_supplier_id_supplier', type_='foreignkey')
        batch_op.drop_constraint('fk_lead_delivery_id_delivery', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_lead_delivery_id_delivery'), 'delivery',
                                    ['delivery_id', 'supplier_id'], ['id', 'supplier_id'])


def downgrade() -> None:
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_constraint('fk_lead_delivery_id_delivery', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_lead_delivery_id_delivery'), 'delivery', ['delivery_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_lead_supplier_id_supplier'), 'supplier', ['supplier_id'], ['id'])
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_constraint('uq_delivery_id_supplier_id', type_='unique')
