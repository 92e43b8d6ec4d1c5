"""Identity runs replace the email/phone key indexes of the lead table (issue 2 performance)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

from leadgov.models.identity_store import rebuild_runs


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=5), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('keys', sa.LargeBinary(), nullable=False),
    sa.Column('rows', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_identity_run_delivery_id_delivery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_run')),
    sa.UniqueConstraint('delivery_id', 'kind', name=op.f('uq_identity_run_delivery_id_kind'))
    )
    with op.batch_alter_table('identity_run', schema=None) as batch_op:
        batch_op.create_index('ix_identity_run_kind_delivered_on', ['kind', 'delivered_on'], unique=False)

    # Stored deliveries get their runs from their leads' keys; the indexes go (plain DROP INDEX:
    # no table copy, even on SQLite).
    rebuild_runs(op.get_bind())
    op.drop_index('ix_lead_email_key_delivered_on', table_name='lead')
    op.drop_index('ix_lead_phone_key_delivered_on', table_name='lead')



def downgrade() -> None:
    op.create_index('ix_lead_phone_key_delivered_on', 'lead', ['phone_key', 'delivered_on'], unique=False)
    op.create_index('ix_lead_email_key_delivered_on', 'lead', ['email_key', 'delivered_on'], unique=False)

    with op.batch_alter_table('identity_run', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_run_kind_delivered_on')

    op.drop_table('identity_run')
