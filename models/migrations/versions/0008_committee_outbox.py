"""The committee outbox (issue 13): each published report revision and its deliveries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('committee_pack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('alert_key', sa.String(length=300), nullable=True),
    sa.Column('locale', sa.String(length=2), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('html_name', sa.String(length=200), nullable=False),
    sa.Column('html', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_name', sa.String(length=200), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_pack')),
    sa.UniqueConstraint('report', 'fingerprint', name=op.f('uq_committee_pack_report_fingerprint')),
    sa.UniqueConstraint('report', 'revision', name=op.f('uq_committee_pack_report_revision'))
    )
    op.create_table('committee_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('medium', sa.String(length=10), nullable=False),
    sa.Column('target', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("medium IN ('slack', 'email')", name=op.f('ck_committee_delivery_medium')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')",
                       name=op.f('ck_committee_delivery_status')),
    sa.ForeignKeyConstraint(['pack_id'], ['committee_pack.id'],
                            name=op.f('fk_committee_delivery_pack_id_committee_pack')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_delivery')),
    sa.UniqueConstraint('pack_id', 'medium', 'target', name=op.f('uq_committee_delivery_pack_id_medium_target'))
    )
    with op.batch_alter_table('committee_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_committee_delivery_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('committee_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_committee_delivery_status')
    op.drop_table('committee_delivery')
    op.drop_table('committee_pack')
