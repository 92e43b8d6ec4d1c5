"""A period's leads are found through their deliveries (``models.delivery.delivered_between``): every
query about a week, a month, a pilot's window or a retention cut-off reaches the lead table through
its ``(delivery_id, row_number)`` index, never by walking the supplier's every lead.

The lead table has no index on the delivery day (migration 0023). SQLite keeps no statistics here, so
a query that also said ``Lead.supplier_id == ...`` could have SQLite take the ``(supplier_id, lead_id)``
index for the cheaper path and read every lead the supplier ever delivered; these plans catch that.
Each store function is run for real on an empty database at the current schema, and the plan of each
statement it sent is read with the same parameters.
"""

import re
from collections.abc import Callable
from datetime import date

import pytest
from databases import sent_with_parameters
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgov.models import delivery_store, gdpr_store, ledger_store
from leadgov.models import pilot as pilot_store
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.pilot import Pilot
from leadgov.models.statuses import Decision
from leadgov.periods import month_of, week_of

SUPPLIER = "acme-leads"
DAY = date(2027, 3, 10)
TZ = "Europe/Paris"
#: A step of a plan that reads the lead table other than through a delivery's rows or a lead's key.
WALKS_LEADS = re.compile(r"SCAN lead\b|ix_lead_supplier_id_lead_id")


def plans(session: Session, run: Callable[[Session], object]) -> list[str]:
    """The plan of each statement about leads that ``run`` sent."""
    statements = sent_with_parameters(session.get_bind(), lambda: run(session))
    connection = session.connection()
    found = []
    for statement, parameters in statements:
        if re.search(r"\blead\b", statement):
            steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            found.append(statement + "\n  " + "\n  ".join(row[-1] for row in steps))
    assert found, "no statement about leads was sent"
    return found


def pilot() -> Pilot:
    """A pilot as stored (never added to the session: only its fields are read)."""
    return Pilot(id=1, supplier_id=SUPPLIER, contract_version_id=1, start_day=date(2027, 3, 1), size=100,
                 max_duration_days=30, state="running", created_by="owner")


CASES: dict[str, Callable[[Session], object]] = {
    "a week's ledger": lambda s: ledger_store.load_ledger(s, SUPPLIER, week_of(DAY), TZ),
    "a month's ledger": lambda s: ledger_store.load_ledger(s, SUPPLIER, month_of(DAY), TZ),
    "a month's billing ledger": lambda s: ledger_store.load_billing_ledger(s, SUPPLIER, month_of(DAY), TZ),
    "the billing cohort's size": lambda s: ledger_store.billing_cohort_size(s, SUPPLIER, month_of(DAY)),
    "daily reject counts": lambda s: ledger_store.daily_reject_counts(s, SUPPLIER, date(2027, 1, 1), DAY),
    "accepted in the ISO week": lambda s: delivery_store.accepted_in_iso_week(s, SUPPLIER, DAY),
    "accepted by company": lambda s: delivery_store.accepted_by_company(s, SUPPLIER, ["123456789"],
                                                                       date(2026, 9, 1), DAY),
    "a pilot's cohort": lambda s: s.execute(select(Lead.id).where(pilot_store.cohort_condition(s, pilot()))).all(),
    "a pilot's held leads": lambda s: pilot_store.held_leads(s, SUPPLIER, date(2027, 3, 1), DAY),
    "settling a pilot's holds": lambda s: pilot_store.settle_holds(s, pilot(), Decision.APPROVE, DAY),
    "the retention's counts": lambda s: gdpr_store.count_expired(s, 1, SUPPLIER, DAY),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_period_s_leads_are_found_through_its_deliveries(sqlite_database, tmp_path, case):
    with session_scope(sqlite_database(tmp_path / "plan.db")) as session:
        found = plans(session, CASES[case])
    walking = [plan for plan in found if WALKS_LEADS.search(plan)]
    assert not walking, "\n\n".join(walking)


def test_the_check_catches_a_walk_through_the_supplier_s_leads(sqlite_database, tmp_path):
    """The same month's leads asked with the supplier's equality beside the deliveries: SQLite takes
    ``(supplier_id, lead_id)``, which the check above would refuse (so it can fail)."""
    month = month_of(DAY)
    with session_scope(sqlite_database(tmp_path / "plan.db")) as session:
        found = plans(session, lambda s: s.execute(select(Lead.id).where(
            Lead.supplier_id == SUPPLIER, Lead.delivered_on.between(*month.dates))).all())
    assert any(WALKS_LEADS.search(plan) for plan in found), found


@pytest.mark.parametrize("hold", [
    lambda s: pilot_store.hold_beyond_cohort(s, SUPPLIER, 7),
    lambda s: pilot_store.hold_reviewed(s, SUPPLIER, [3, 4]),
], ids=["a delivery's leads", "leads just reviewed"])
def test_holding_leads_beyond_a_pilot_s_cohort_reads_only_the_leads_held(sqlite_database, tmp_path, monkeypatch, hold):
    """The hold's UPDATE finds its leads by their delivery or their keys, whatever else it checks."""
    monkeypatch.setattr(pilot_store, "undecided_pilot", lambda session, supplier_id: pilot())
    with session_scope(sqlite_database(tmp_path / "plan.db")) as session:
        found = plans(session, hold)
    walking = [plan for plan in found if WALKS_LEADS.search(plan)]
    assert not walking, "\n\n".join(walking)
