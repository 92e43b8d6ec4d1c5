"""The pilot as a phase of the supplier's life (issue 14): a pilot table, and decisions linked to it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

A pilot is started for one supplier under one contract version from a start day; its cohort is the
first ``size`` leads delivered from that day within ``max_duration_days``. A supplier has at most one
undecided pilot (running or judged): a partial unique index. Decisions stored before keep
``pilot_id`` NULL: no pilot was recorded then (a supplier still in pilot gets one with
``leadgov pilot start``).
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

UNDECIDED = "state != 'decided'"


def upgrade() -> None:
    op.create_table(
        'pilot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.String(length=64), nullable=False),
        sa.Column('contract_version_id', sa.Integer(), nullable=False),
        sa.Column('start_day', sa.Date(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('max_duration_days', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('verdict', sa.String(length=12), nullable=True),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('running', 'judged', 'decided')", name=op.f('ck_pilot_state')),
        sa.ForeignKeyConstraint(['contract_version_id'], ['contract_version.id'],
                                name=op.f('fk_pilot_contract_version_id_contract_version')),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_pilot_supplier_id_supplier')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot')),
    )
    op.create_index(op.f('ix_pilot_supplier_id'), 'pilot', ['supplier_id'], unique=False)
    op.create_index('uq_pilot_supplier_id_undecided', 'pilot', ['supplier_id'], unique=True,
                    sqlite_where=sa.text(UNDECIDED), postgresql_where=sa.text(UNDECIDED))
    with op.batch_alter_table('pilot_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pilot_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_pilot_decision_pilot_id'), ['pilot_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_pilot_decision_pilot_id_pilot'), 'pilot', ['pilot_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('pilot_decision', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pilot_decision_pilot_id_pilot'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_pilot_decision_pilot_id'))
        batch_op.drop_column('pilot_id')
    op.drop_index('uq_pilot_supplier_id_undecided', table_name='pilot')
    op.drop_index(op.f('ix_pilot_supplier_id'), table_name='pilot')
    op.drop_table('pilot')
