"""Outcome events, replacement claims and billing statements (issue 3)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('contract_version_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=20), nullable=False),
    sa.Column('unit_price_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('fixed_fee_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('billable_units', sa.Integer(), nullable=False),
    sa.Column('gross_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('budget_cap_eur', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('cap_excess_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('credits_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('amount_due_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('freeze_reasons', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by', sa.String(length=200), nullable=True),
    sa.Column('release_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contract_version_id'], ['contract_version.id'], name=op.f('fk_billing_statement_contract_version_id_contract_version')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_billing_statement_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_statement')),
    sa.UniqueConstraint('supplier_id', 'month', 'revision', name=op.f('uq_billing_statement_supplier_id_month_revision'))
    )
    op.create_table('outcome_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('lead_id', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('contest_reason', sa.String(length=40), nullable=True),
    sa.Column('amount_eur', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('objection', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_pk'], ['lead.id'], name=op.f('fk_outcome_event_lead_pk_lead')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_outcome_event_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_event')),
    sa.UniqueConstraint('lead_pk', 'event', 'at', name=op.f('uq_outcome_event_lead_pk_event_at'))
    )
    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.create_index('ix_outcome_event_supplier_id_event', ['supplier_id', 'event'], unique=False)

    op.create_table('replacement_claim',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('lead_id', sa.String(length=200), nullable=True),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('filled_by_lead_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('filled_on', sa.Date(), nullable=True),
    sa.Column('overdue_on', sa.Date(), nullable=True),
    sa.Column('credited_on', sa.Date(), nullable=True),
    sa.Column('credited_statement_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['credited_statement_id'], ['billing_statement.id'], name=op.f('fk_replacement_claim_credited_statement_id_billing_statement')),
    sa.ForeignKeyConstraint(['filled_by_lead_pk'], ['lead.id'], name=op.f('fk_replacement_claim_filled_by_lead_pk_lead')),
    sa.ForeignKeyConstraint(['lead_pk'], ['lead.id'], name=op.f('fk_replacement_claim_lead_pk_lead')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_replacement_claim_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replacement_claim')),
    sa.UniqueConstraint('lead_pk', name=op.f('uq_replacement_claim_lead_pk'))
    )
    with op.batch_alter_table('replacement_claim', schema=None) as batch_op:
        batch_op.create_index('ix_replacement_claim_supplier_id_lead_id', ['supplier_id', 'lead_id'], unique=False)
        batch_op.create_index('ix_replacement_claim_supplier_id_status', ['supplier_id', 'status'], unique=False)

    op.create_table('billing_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('lead_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.String(length=200), nullable=True),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['replacement_claim.id'], name=op.f('fk_billing_line_claim_id_replacement_claim')),
    sa.ForeignKeyConstraint(['lead_pk'], ['lead.id'], name=op.f('fk_billing_line_lead_pk_lead')),
    sa.ForeignKeyConstraint(['statement_id'], ['billing_statement.id'], name=op.f('fk_billing_line_statement_id_billing_statement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_line'))
    )
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.create_index('ix_billing_line_lead_pk', ['lead_pk'], unique=False)
        batch_op.create_index('ix_billing_line_statement_id_kind', ['statement_id', 'kind'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_line_statement_id_kind')
        batch_op.drop_index('ix_billing_line_lead_pk')

    op.drop_table('billing_line')
    with op.batch_alter_table('replacement_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_replacement_claim_supplier_id_status')
        batch_op.drop_index('ix_replacement_claim_supplier_id_lead_id')

    op.drop_table('replacement_claim')
    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.drop_index('ix_outcome_event_supplier_id_event')

    op.drop_table('outcome_event')
    op.drop_table('billing_statement')
