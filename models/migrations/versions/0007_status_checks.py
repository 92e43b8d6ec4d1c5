"""Statuses checked by the database (issue 12): each stored status column accepts only its enum's values

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

The values are written out here, not read from ``models.statuses``: a migration describes the schema
as it was at this revision. A later change to an enum comes with its own migration.
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

CHECKS = (
    ('lead', 'status', ('accepted', 'rejected')),
    ('outcome_event', 'event', ('call_attempt', 'reached', 'appointment_set', 'appointment_held', 'opportunity',
                                'won', 'lost', 'contest')),
    ('replacement_claim', 'status', ('open', 'filled', 'overdue', 'credited', 'not_owed_cap')),
    ('replacement_claim', 'origin', ('rejection', 'contest')),
    ('alert', 'status', ('pending', 'sending', 'sent', 'failed')),
    ('supplier', 'state', ('pilot', 'active', 'renegotiating', 'terminated')),
    ('pilot_decision', 'decision', ('approve', 'renegotiate', 'terminate')),
)


def upgrade() -> None:
    for table in dict.fromkeys(t for t, _, _ in CHECKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _, column, values in (c for c in CHECKS if c[0] == table):
                listed = ', '.join(f"'{v}'" for v in values)
                batch_op.create_check_constraint(column, f'{column} IN ({listed})')


def downgrade() -> None:
    for table in dict.fromkeys(t for t, _, _ in CHECKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _, column, _ in (c for c in CHECKS if c[0] == table):
                batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
