"""A month's statement finds its leads through index ranges (SQLite's query plans): its cost follows
the month's leads, not every lead the supplier ever delivered."""

from datetime import date

from sqlalchemy import select

from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.ledger_store import _CLAIM_FIELDS, billing_condition, held_elsewhere
from leadgov.models.replacement import ReplacementClaim
from leadgov.periods import month_of


def plan(session, query) -> str:
    sql = str(query.compile(session.bind, compile_kwargs={"literal_binds": True}))
    return "\n".join(row[-1] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_the_billing_cohort_is_two_index_ranges(sqlite_database, tmp_path):
    """Leads of the month's deliveries (the lead table's (delivery_id, row_number) index), and leads
    settled in it (the partial index on ``decided_on``)."""
    condition = billing_condition("acme-leads", month_of(date(2027, 3, 10)))
    with session_scope(sqlite_database(tmp_path / "plan.db")) as session:
        steps = plan(session, select(Lead.id).where(condition))
    assert "MULTI-INDEX OR" in steps, steps
    assert "SEARCH lead USING INDEX sqlite_autoindex_lead_1 (delivery_id=?)" in steps, steps
    assert "ix_lead_supplier_id_decided_on (supplier_id=? AND decided_on>? AND decided_on<?)" in steps, steps


def test_the_claims_a_cohort_filled_are_found_by_index(sqlite_database, tmp_path):
    condition = billing_condition("acme-leads", month_of(date(2027, 3, 10)))
    query = (select(*_CLAIM_FIELDS).join(Lead, Lead.id == ReplacementClaim.filled_by_lead_pk).where(condition))
    with session_scope(sqlite_database(tmp_path / "plan.db")) as session:
        steps = plan(session, query)
    assert "SCAN replacement_claim" not in steps, steps
    assert "ix_replacement_claim_filled_by_lead_pk" in steps, steps


def test_appointments_held_by_other_months_leads_start_from_the_supplier_s_events(sqlite_database, tmp_path):
    """The statement's appointments of leads from other months: from the supplier's held events by
    their index, each lead by its key; never a walk through every lead the supplier delivered."""
    query = held_elsewhere("acme-leads", month_of(date(2027, 3, 10)), "Europe/Paris")
    with session_scope(sqlite_database(tmp_path / "plan.db")) as session:
        steps = plan(session, query)
    assert "ix_outcome_event_supplier_id_event (supplier_id=? AND event=?)" in steps, steps
    assert "SEARCH lead USING INTEGER PRIMARY KEY (rowid=?)" in steps, steps
    assert "lead USING INDEX" not in steps and "SCAN lead" not in steps, steps
