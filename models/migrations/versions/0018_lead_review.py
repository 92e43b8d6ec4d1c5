"""Review decisions (issue 14, the review tier): who accepted or rejected a lead held in review, and why

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

A lead whose reasons are all in the contract's ``exploitability.review_reasons`` is stored in status
``review`` (0012 allows it); a person, or the daily check past the deadline (``deadline``), decides it.
The lead's ``status`` and ``decided_on`` take the decision; this table keeps who, when and the comment.
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lead_review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("decision IN ('accept', 'reject')", name=op.f('ck_lead_review_decision_decision')),
    sa.ForeignKeyConstraint(['lead_pk'], ['lead.id'], name=op.f('fk_lead_review_decision_lead_pk_lead')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_lead_review_decision_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_review_decision')),
    sa.UniqueConstraint('lead_pk', name=op.f('uq_lead_review_decision_lead_pk'))
    )
    with op.batch_alter_table('lead_review_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_review_decision_supplier_id'), ['supplier_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lead_review_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_review_decision_supplier_id'))
    op.drop_table('lead_review_decision')
