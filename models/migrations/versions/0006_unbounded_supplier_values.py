"""Columns holding supplier values become unbounded text (PostgreSQL refused long values)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.alter_column('lead_id',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.Text(),
               existing_nullable=True)

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('file_name',
               existing_type=sa.VARCHAR(length=500),
               type_=sa.Text(),
               existing_nullable=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.alter_column('lead_id',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('siren',
               existing_type=sa.VARCHAR(length=9),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('naf_code',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('postal_code',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('country',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('language',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('replaces_lead_id',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.Text(),
               existing_nullable=True)

    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.alter_column('lead_id',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.Text(),
               existing_nullable=False)
        batch_op.alter_column('contest_reason',
               existing_type=sa.VARCHAR(length=40),
               type_=sa.Text(),
               existing_nullable=True)
        batch_op.alter_column('amount_eur',
               existing_type=sa.NUMERIC(precision=14, scale=2),
               type_=sa.Numeric(precision=18, scale=2),
               existing_nullable=True)
        batch_op.alter_column('objection',
               existing_type=sa.VARCHAR(length=100),
               type_=sa.Text(),
               existing_nullable=True)

    with op.batch_alter_table('replacement_claim', schema=None) as batch_op:
        batch_op.alter_column('lead_id',
               existing_type=sa.VARCHAR(length=200),
               type_=sa.Text(),
               existing_nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('replacement_claim', schema=None) as batch_op:
        batch_op.alter_column('lead_id',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=200),
               existing_nullable=True)

    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.alter_column('objection',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=100),
               existing_nullable=True)
        batch_op.alter_column('amount_eur',
               existing_type=sa.Numeric(precision=18, scale=2),
               type_=sa.NUMERIC(precision=14, scale=2),
               existing_nullable=True)
        batch_op.alter_column('contest_reason',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=40),
               existing_nullable=True)
        batch_op.alter_column('lead_id',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=200),
               existing_nullable=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.alter_column('replaces_lead_id',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=200),
               existing_nullable=True)
        batch_op.alter_column('language',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=10),
               existing_nullable=True)
        batch_op.alter_column('country',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=10),
               existing_nullable=True)
        batch_op.alter_column('postal_code',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=20),
               existing_nullable=True)
        batch_op.alter_column('naf_code',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=20),
               existing_nullable=True)
        batch_op.alter_column('siren',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=9),
               existing_nullable=True)
        batch_op.alter_column('lead_id',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=200),
               existing_nullable=True)

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('file_name',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=500),
               existing_nullable=False)

    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.alter_column('lead_id',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=200),
               existing_nullable=True)

