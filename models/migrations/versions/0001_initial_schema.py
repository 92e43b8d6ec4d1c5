"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('supplier',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier'))
    )
    op.create_table('suppression_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('key_hmac', sa.String(length=64), nullable=False),
    sa.Column('identity_key', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppression_entry')),
    sa.UniqueConstraint('key_hmac', name=op.f('uq_suppression_entry_key_hmac'))
    )
    with op.batch_alter_table('suppression_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppression_entry_identity_key'), ['identity_key'], unique=False)

    op.create_table('contract_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('terms_sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('source_path', sa.String(length=500), nullable=False),
    sa.Column('supersedes', sa.String(length=100), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_contract_version_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_version')),
    sa.UniqueConstraint('sha256', name=op.f('uq_contract_version_sha256'))
    )
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_version_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_version_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('contract_version_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=False),
    sa.Column('delimiter', sa.String(length=2), nullable=True),
    sa.Column('delivered_count', sa.Integer(), nullable=False),
    sa.Column('accepted_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('over_cap_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_version_id'], ['contract_version.id'], name=op.f('fk_delivery_contract_version_id_contract_version')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_delivery_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('supplier_id', 'file_sha256', name=op.f('uq_delivery_supplier_id_file_sha256'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_delivered_on'), ['delivered_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('lead',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('primary_reason', sa.String(length=40), nullable=True),
    sa.Column('flags', sa.String(length=100), nullable=True),
    sa.Column('email_key', sa.BigInteger(), nullable=True),
    sa.Column('phone_key', sa.BigInteger(), nullable=True),
    sa.Column('lead_id', sa.String(length=200), nullable=True),
    sa.Column('collected_at', sa.DateTime(), nullable=True),
    sa.Column('company_name', sa.Text(), nullable=True),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('naf_code', sa.String(length=20), nullable=True),
    sa.Column('employees', sa.BigInteger(), nullable=True),
    sa.Column('legal_form', sa.Text(), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('department', sa.String(length=3), nullable=True),
    sa.Column('country', sa.String(length=10), nullable=True),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('job_title', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('budget_eur', sa.Float(), nullable=True),
    sa.Column('project_horizon_months', sa.BigInteger(), nullable=True),
    sa.Column('need', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('campaign', sa.Text(), nullable=True),
    sa.Column('consent_at', sa.DateTime(), nullable=True),
    sa.Column('consent_proof', sa.Text(), nullable=True),
    sa.Column('replaces_lead_id', sa.String(length=200), nullable=True),
    sa.Column('raw_record', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_lead_delivery_id_delivery')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_lead_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead')),
    sa.UniqueConstraint('delivery_id', 'row_number', name=op.f('uq_lead_delivery_id_row_number'))
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_email_key_delivered_on', ['email_key', 'delivered_on'], unique=False)
        batch_op.create_index('ix_lead_phone_key_delivered_on', ['phone_key', 'delivered_on'], unique=False)
        batch_op.create_index('ix_lead_supplier_id_delivered_on', ['supplier_id', 'delivered_on'], unique=False)
        batch_op.create_index('ix_lead_supplier_id_lead_id', ['supplier_id', 'lead_id'], unique=False)

    op.create_table('lead_reason',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id', 'row_number'], ['lead.delivery_id', 'lead.row_number'], name=op.f('fk_lead_reason_delivery_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_reason'))
    )
    with op.batch_alter_table('lead_reason', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_reason_code'), ['code'], unique=False)
        batch_op.create_index('ix_lead_reason_delivery_id_row_number', ['delivery_id', 'row_number'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('lead_reason', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_reason_delivery_id_row_number')
        batch_op.drop_index(batch_op.f('ix_lead_reason_code'))

    op.drop_table('lead_reason')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_supplier_id_lead_id')
        batch_op.drop_index('ix_lead_supplier_id_delivered_on')
        batch_op.drop_index('ix_lead_phone_key_delivered_on')
        batch_op.drop_index('ix_lead_email_key_delivered_on')

    op.drop_table('lead')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_delivered_on'))

    op.drop_table('delivery')
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_version_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_contract_version_contract_id'))

    op.drop_table('contract_version')
    with op.batch_alter_table('suppression_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppression_entry_identity_key'))

    op.drop_table('suppression_entry')
    op.drop_table('supplier')
    
