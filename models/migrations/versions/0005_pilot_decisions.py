"""Pilot decisions (issue 6)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pilot_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('verdict', sa.String(length=12), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('report_path', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_pilot_decision_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot_decision'))
    )
    with op.batch_alter_table('pilot_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_decision_supplier_id'), ['supplier_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pilot_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_decision_supplier_id'))

    op.drop_table('pilot_decision')
