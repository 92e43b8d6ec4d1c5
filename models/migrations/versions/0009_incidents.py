"""Incidents, not floods (issue 13): alerts grouped per (type, supplier) while a problem lasts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('supplier_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('locale', sa.String(length=2), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('opened_key', sa.String(length=300), nullable=False),
    sa.Column('latest_key', sa.String(length=300), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('last_seen_on', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('cleared_period', sa.String(length=40), nullable=True),
    sa.Column('cleared_through', sa.Date(), nullable=True),
    sa.Column('closing_text', sa.Text(), nullable=True),
    sa.Column('closing_blocks', sa.Text(), nullable=True),
    sa.Column('closing_status', sa.String(length=10), nullable=True),
    sa.Column('slack_channel', sa.String(length=40), nullable=True),
    sa.Column('slack_ts', sa.String(length=40), nullable=True),
    sa.Column('head_outdated', sa.Boolean(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_incident_state')),
    sa.CheckConstraint("closing_status IN ('pending', 'sending', 'sent', 'failed')",
                       name=op.f('ck_incident_closing_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('uq_incident_open_type_supplier', ['type', 'supplier_id'], unique=True,
                              sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('slack_ts', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_alert_incident_id_incident'), 'incident', ['incident_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alert_incident_id_incident'), type_='foreignkey')
        batch_op.drop_column('slack_ts')
        batch_op.drop_column('incident_id')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('uq_incident_open_type_supplier')
    op.drop_table('incident')
