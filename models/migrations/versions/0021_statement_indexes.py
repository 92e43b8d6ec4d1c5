"""Two indexes a month's statement needs (issue 15)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04

A month's statement is about the leads delivered in the month and settled at delivery, or settled by
a person in the month (``lead.decided_on``). Without an index on ``decided_on`` that OR made every
statement query walk all of the supplier's leads (a fifth of a second per query at 335,000 leads, six
queries per statement, and one statement per delivery for the budget alert). The index is partial: it
holds only the leads with a decision day, so storing a delivery, whose leads have none, does not
write to it.

The statement also joins the claims its cohort's leads filled (``replacement_claim.filled_by_lead_pk``);
without an index each cohort lead scanned the claim table. That index is partial too: a claim is
opened unfilled, so opening a delivery's claims does not write to it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

DECIDED = "decided_on IS NOT NULL"
FILLED = "filled_by_lead_pk IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_lead_supplier_id_decided_on', 'lead', ['supplier_id', 'decided_on'], unique=False,
                    sqlite_where=sa.text(DECIDED), postgresql_where=sa.text(DECIDED))
    op.create_index('ix_replacement_claim_filled_by_lead_pk', 'replacement_claim', ['filled_by_lead_pk'],
                    unique=False, sqlite_where=sa.text(FILLED), postgresql_where=sa.text(FILLED))


def downgrade() -> None:
    op.drop_index('ix_replacement_claim_filled_by_lead_pk', table_name='replacement_claim')
    op.drop_index('ix_lead_supplier_id_decided_on', table_name='lead')
