"""Leads erased before issue 16 lose every supplied value too, and their reasons' quoting details

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

An erasure used to null the personal columns only: the other values the supplier delivered (source,
country, legal form, NAF code, company name ...) and the reasons' details quoting them stayed. A lead
whose ``raw_record`` is NULL was erased (every delivery stores one): it now loses them as a new
erasure does. No schema change. The columns and the detail are written out here, not read from
``models.gdpr_store``: a migration describes the data as it was at this revision.
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SUPPLIED_COLUMNS = ('collected_at', 'company_name', 'siren', 'naf_code', 'employees', 'legal_form', 'postal_code',
                    'department', 'country', 'language', 'budget_eur', 'project_horizon_months', 'source',
                    'campaign', 'consent_at')
ERASED_DETAIL = "erased with the lead's data"


def upgrade() -> None:
    nulls = ', '.join(f'{column} = NULL' for column in SUPPLIED_COLUMNS)
    held = ' OR '.join(f'{column} IS NOT NULL' for column in SUPPLIED_COLUMNS)
    op.execute(f'UPDATE lead SET {nulls} WHERE raw_record IS NULL AND ({held})')
    detail = ERASED_DETAIL.replace("'", "''")
    op.execute(f"UPDATE lead_reason SET detail = '{detail}' WHERE detail <> '{detail}' AND EXISTS ("
               "SELECT 1 FROM lead WHERE lead.delivery_id = lead_reason.delivery_id "
               "AND lead.row_number = lead_reason.row_number AND lead.raw_record IS NULL)")


def downgrade() -> None:
    """Nothing to undo: erased values are gone for good."""
