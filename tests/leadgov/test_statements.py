"""Claims, statements and KPIs through the database (SQLite and PostgreSQL): the pure rules
applied to what deliveries and outcome imports stored."""

import json
from datetime import date
from decimal import Decimal

from factories import contract_on_disk, ingest, lead, make_contract_file, outcomes_csv, service_runtime
from sqlalchemy import select

from leadgov.claims import check_overdue
from leadgov.governance import supplier_kpis
from leadgov.models import BillingStatement
from leadgov.models.claim_store import list_claims
from leadgov.models.db import session_scope
from leadgov.outcomes import import_outcomes
from leadgov.periods import parse_period
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.pilot import StartPilotRequest, start_pilot
from leadgov.statements import CreditLine, StoredStatement

TZ = "Europe/Paris"
NO_CAP = {"replacement.max_replacement_share": 1.0}
PER_LEAD = make_contract_file(**NO_CAP, **{"billing.model": "per_lead"})


def fresh(n: int, day: date, **overrides) -> dict:
    """A lead collected (and consented) on its delivery day, so it is not STALE on a later day."""
    stamp = f"{day.isoformat()} 08:00"
    return lead(n, collected_at=stamp, consent_at=stamp, **overrides)


def claims(db_url) -> dict[str, dict]:
    with session_scope(db_url) as session:
        return {c["lead_id"]: c for c in list_claims(session).to_dict("records")}


def runtime_on(db_url, day: date):
    """A runtime on ``db_url`` whose clock says ``day``, without Slack."""
    return service_runtime(db_url, day)


def bill(db_url, month: str, as_of: date) -> StoredStatement:
    """The month's statement of acme-leads through the billing service, its clock on ``as_of``."""
    return bill_statement(runtime_on(db_url, as_of), StatementRequest("acme-leads", month)).statement


def test_claim_lifecycle_through_deliveries(db_url):
    contract = make_contract_file(**NO_CAP)
    ingest(db_url, [lead(1), lead(2, email="bad"), lead(3, email="bad"), lead(4, email="bad")], contract=contract)
    assert {k: c["status"] for k, c in claims(db_url).items()} == {"L-00002": "open", "L-00003": "open",
                                                                     "L-00004": "open"}
    # 5 March: L-00002 replaced by an accepted lead, L-00003 by a rejected one
    day = date(2027, 3, 5)
    ingest(db_url, [fresh(10, day, replaces_lead_id="L-00002"),
                    fresh(11, day, email="bad", replaces_lead_id="L-00003")],
           day=day, contract=contract, name="r1.csv")
    after = claims(db_url)
    assert after["L-00002"]["status"] == "filled" and after["L-00002"]["filled_by"] == "L-00010"
    assert after["L-00003"]["status"] == "open"
    assert "L-00011" not in after  # a rejected replacement opens no claim of its own
    with session_scope(db_url) as session:
        assert len(check_overdue(session, date(2027, 3, 11))) == 0  # due on the 11th: still open that day
    with session_scope(db_url) as session:
        assert len(check_overdue(session, date(2027, 3, 12))) == 2
    after = claims(db_url)
    assert after["L-00003"]["status"] == "overdue" and after["L-00003"]["overdue_on"] == date(2027, 3, 12)
    # a late replacement fills nothing; rejected, it is an ordinary lead with its own claim
    day = date(2027, 3, 15)
    ingest(db_url, [fresh(12, day, replaces_lead_id="L-00004"),
                    fresh(13, day, email="bad", replaces_lead_id="L-00003")],
           day=day, contract=contract, name="r2.csv")
    after = claims(db_url)
    assert after["L-00004"]["status"] == "overdue" and after["L-00004"]["filled_by"] is None
    assert after["L-00013"]["status"] == "open"


def test_monthly_cap_counts_the_months_deliveries(db_url):
    # 0.20 x 10 delivered = 2 claims owed in March; the third rejection is not owed
    rows = [lead(i) for i in range(1, 8)] + [lead(i, email="bad") for i in range(8, 11)]
    ingest(db_url, rows)
    statuses = [c["status"] for c in claims(db_url).values()]
    assert sorted(statuses) == ["not_owed_cap", "open", "open"]


def test_per_lead_statement_credit_revision_and_free_replacement(db_url):
    # March: 4 leads, one rejected OUT_OF_TARGET_SIZE (a billable reason under per_lead), one
    # rejected INVALID_EMAIL (non-billable). Both open claims due 11 March; neither is replaced.
    ingest(db_url, [lead(1), lead(2), lead(3, employees="5"), lead(4, email="bad")], contract=PER_LEAD)
    march = bill(db_url, "2027-03", date(2027, 4, 1))
    # units: L1, L2, L3 = 3 x 45.00 = 135.00; L3's claim overdue on 12 March and L3 was billed:
    # credit 45.00; L4 was never billed: no credit. Due 135.00 - 45.00 = 90.00
    assert march.billable_lead_ids == ("L-00001", "L-00002", "L-00003")
    assert march.credit_lines == (CreditLine(claims(db_url)["L-00003"]["id"], "L-00003", Decimal("45.00")),)
    assert (march.gross_eur, march.credits_eur, march.amount_due_eur) == (
        Decimal("135.00"), Decimal("45.00"), Decimal("90.00"))
    assert march.revision == 1 and march.contract_id == "ACME-2027-01"
    assert claims(db_url)["L-00003"]["status"] == "credited"
    assert claims(db_url)["L-00004"]["status"] == "overdue"

    again = bill(db_url, "2027-03", date(2027, 4, 2))
    assert again.revision == 2 and again.amount_due_eur == Decimal("90.00")
    with session_scope(db_url) as session:
        revisions = session.execute(select(BillingStatement.revision, BillingStatement.amount_due_eur)
                                    .order_by(BillingStatement.revision)).all()
    assert [(r, Decimal(a)) for r, a in revisions] == [(1, Decimal("90.00")), (2, Decimal("90.00"))]


def test_replacement_of_a_billed_lead_is_free_next_month(db_url):
    # 29 March: L1 accepted, L2 rejected OUT_OF_TARGET_SIZE (billed under per_lead), claim due 8 April
    march, april = date(2027, 3, 29), date(2027, 4, 2)
    ingest(db_url, [fresh(1, march), fresh(2, march, employees="5")], day=march, contract=PER_LEAD)
    bill(db_url, "2027-03", date(2027, 4, 1))
    # 2 April: L10 replaces L2 on time (free), L11 is an ordinary lead
    ingest(db_url, [fresh(10, april, replaces_lead_id="L-00002"), fresh(11, april)], day=april,
           contract=PER_LEAD, name="april.csv")
    april = bill(db_url, "2027-04", date(2027, 5, 1))
    assert april.billable_lead_ids == ("L-00011",)  # 1 x 45.00; the free replacement is not billed
    assert april.amount_due_eur == Decimal("45.00") and april.credit_lines == ()


def test_statement_frozen_on_a_gdpr_breach_with_its_reason(db_url):
    ingest(db_url, [lead(1), lead(2, consent_proof="")])
    statement = bill(db_url, "2027-03", date(2027, 4, 1))
    assert statement.frozen is True
    assert statement.freeze_reasons[-1].startswith("GDPR_BREACH: 1 lead")
    with session_scope(db_url) as session:
        stored = session.scalar(select(BillingStatement.freeze_reasons))
    assert json.loads(stored) == list(statement.freeze_reasons)


def test_kpis_from_the_database(db_url):
    contract = make_contract_file(**NO_CAP)
    ingest(db_url, [lead(1), lead(2), lead(3), lead(4, email="bad")], contract=contract)
    data = outcomes_csv([
        {"lead_id": "L-00001", "event": "call_attempt", "at": "2027-03-01 18:00"},
        {"lead_id": "L-00001", "event": "reached", "at": "2027-03-01 18:05"},
        {"lead_id": "L-00002", "event": "call_attempt", "at": "2027-03-03 09:00"},  # after the 24 h SLA
        {"lead_id": "L-00003", "event": "contest", "at": "2027-03-02 10:00", "contest_reason": "WRONG_NUMBER"},
        {"lead_id": "L-00001", "event": "appointment_set", "at": "2027-03-02 10:00"},
    ])
    with session_scope(db_url) as session:
        import_outcomes(session, data, "outcomes.csv", TZ)
    with session_scope(db_url) as session:
        empty = supplier_kpis(session, "acme-leads", parse_period("2027-04"), TZ, date(2027, 5, 1))
        march = supplier_kpis(session, "acme-leads", parse_period("2027-03"), TZ, date(2027, 4, 1))
    assert empty.delivered == 0 and empty.reject_rate is None and empty.reachability is None
    assert (march.delivered, march.accepted, march.rejected, march.contested) == (4, 3, 1, 1)
    assert march.reject_rate == 2 / 4          # 1 rejected + 1 contested over 4 delivered
    assert march.data_error_rate == 1 / 4      # INVALID_EMAIL
    assert march.first_contact_sla == 1 / 3   # L1 called within 24 h of 00:00 on 1 March; L2 not; L3 never
    assert march.reachability == 1 / 2         # L1 reached of L1, L2 called
    assert march.appointment_rate == 1 / 2     # L1 of the accepted, not contested L1, L2
    assert march.billed_eur is None            # no statement yet
    # L4's rejection (due 11 March) and L3's contest (due 12 March), unfilled on 1 April: owed, not filled
    assert (march.replacements_owed, march.replacements_filled_on_time, march.replacement_fill_rate) == (2, 0, 0.0)
    bill(db_url, "2027-03", date(2027, 4, 1))
    with session_scope(db_url) as session:
        march = supplier_kpis(session, "acme-leads", parse_period("2027-03"), TZ, date(2027, 4, 1))
        week = supplier_kpis(session, "acme-leads", parse_period("2027-W09"), TZ, date(2027, 4, 1))
    # per_qualified_lead: L1 and L2 billed (L3 contested), 2 x 45.00
    assert march.billed_eur == Decimal("90.00") and march.cost_per_accepted == Decimal("30.00")
    assert week.billed_eur == Decimal("90.00") and week.delivered == 4  # 1 March is in ISO week 9


def test_delivery_and_pilot_cohorts(db_url, tmp_path):
    # pilot: size 3, max 30 days, started 1 March. 1 March: 2 leads; 5 March: 2 leads; 10 April (day 40): 1 lead
    contract = make_contract_file(**NO_CAP, **{"pilot.size": 3, "pilot.max_duration_days": 30})
    start_pilot(runtime_on(db_url, date(2027, 3, 1)),
                StartPilotRequest("acme-leads", date(2027, 3, 1), contract_on_disk(tmp_path, contract)))
    first = ingest(db_url, [lead(1), lead(2, email="bad")], contract=contract)
    day = date(2027, 3, 5)
    ingest(db_url, [fresh(3, day), fresh(4, day)], day=day, contract=contract, name="b.csv")
    ingest(db_url, [fresh(5, date(2027, 4, 10))], day=date(2027, 4, 10), contract=contract, name="c.csv")
    with session_scope(db_url) as session:
        delivery = supplier_kpis(session, "acme-leads", parse_period(f"delivery:{first.delivery_id}"), TZ,
                                 date(2027, 5, 1))
        pilot = supplier_kpis(session, "acme-leads", parse_period("pilot"), TZ, date(2027, 5, 1))
    assert (delivery.delivered, delivery.rejected, delivery.volume.status) == (2, 1, None)
    assert (pilot.delivered, pilot.accepted, pilot.rejected) == (3, 2, 1)  # L1, L2 and the first of 5 March


def test_pilot_cohort_stops_at_its_duration(db_url, tmp_path):
    contract = make_contract_file(**NO_CAP, **{"pilot.size": 100, "pilot.max_duration_days": 30})
    # the pilot is started (docs/governance.md, Pilot): its window counts from its start day
    start_pilot(runtime_on(db_url, date(2027, 3, 1)),
                StartPilotRequest("acme-leads", date(2027, 3, 1), contract_on_disk(tmp_path, contract)))
    ingest(db_url, [lead(1)], contract=contract)
    ingest(db_url, [fresh(2, date(2027, 3, 30))], day=date(2027, 3, 30), contract=contract, name="b.csv")
    ingest(db_url, [fresh(3, date(2027, 3, 31))], day=date(2027, 3, 31), contract=contract, name="c.csv")
    with session_scope(db_url) as session:
        pilot = supplier_kpis(session, "acme-leads", parse_period("pilot"), TZ, date(2027, 5, 1))
    assert pilot.delivered == 2  # 1 and 30 March are within 30 days of 1 March; 31 March is not


def _settle(db_url, *, status: dict[str, str] | None = None, flag: dict[str, str] | None = None,
            decided_on: dict[str, date] | None = None) -> None:
    """Set leads' status, flag or decision day by lead id, as a review decision or a pilot would."""
    from sqlalchemy import update

    from leadgov.models.delivery import Lead

    with session_scope(db_url) as session:
        for column, values in (("status", status), ("flags", flag), ("decided_on", decided_on)):
            for lead_id, value in (values or {}).items():
                session.execute(update(Lead).where(Lead.lead_id == lead_id).values({column: value}))


def test_leads_settled_after_delivery_are_billed_in_the_month_of_the_decision(db_url):
    """A lead in review, or held by an undecided pilot, is on no statement; once a person settles it,
    it is billed on the statement of the decision's month, never its delivery month's (per qualified
    lead: only accepted leads)."""
    ingest(db_url, [fresh(n, date(2027, 3, 1)) for n in range(1, 6)], day=date(2027, 3, 1))
    _settle(db_url, status={"L-00001": "review", "L-00002": "review"},
            flag={"L-00003": "PILOT_HOLD", "L-00004": "PILOT_HOLD"})
    march = bill(db_url, "2027-03", date(2027, 4, 1))
    assert march.billable_lead_ids == ("L-00005",)  # the review and held leads wait
    # April: L-00001 accepted and L-00002 rejected in review, L-00003's pilot approved; L-00004 stays held
    _settle(db_url, status={"L-00001": "accepted", "L-00002": "rejected"},
            decided_on={"L-00001": date(2027, 4, 2), "L-00002": date(2027, 4, 2), "L-00003": date(2027, 4, 3)})
    assert bill(db_url, "2027-03", date(2027, 5, 1)).billable_lead_ids == ("L-00005",)
    assert bill(db_url, "2027-04", date(2027, 5, 1)).billable_lead_ids == ("L-00001", "L-00003")
    assert bill(db_url, "2027-05", date(2027, 6, 1)).billable_lead_ids == ()  # L-00004 never billed


def test_per_appointment_bills_the_appointments_held_in_the_month_by_leads_of_other_months(db_url):
    """A month's per-appointment statement bills the leads whose first appointment was held in it,
    wherever they were delivered (``ledger_store.held_elsewhere``), but never a lead over the weekly
    cap, nor one held in February."""
    contract = make_contract_file(**NO_CAP, **{"billing.model": "per_appointment", "volumes.weekly_max": 2,
                                               "volumes.weekly_target": 2})
    february, march = date(2027, 2, 22), date(2027, 3, 10)
    # 22 February: L1 and L2 accepted, L3 over the weekly cap of 2 (accepted, flagged OVER_WEEKLY_CAP)
    ingest(db_url, [fresh(1, february), fresh(2, february), fresh(3, february)], day=february, contract=contract,
           name="february.csv")
    ingest(db_url, [fresh(4, march)], day=march, contract=contract, name="march.csv")
    data = outcomes_csv([
        {"lead_id": "L-00001", "event": "appointment_held", "at": "2027-03-05 10:00"},  # February lead, March
        {"lead_id": "L-00002", "event": "appointment_held", "at": "2027-02-26 10:00"},  # February's statement
        {"lead_id": "L-00003", "event": "appointment_held", "at": "2027-03-05 11:00"},  # over the cap: never
        {"lead_id": "L-00004", "event": "appointment_held", "at": "2027-03-12 10:00"},  # March lead, March
    ])
    with session_scope(db_url) as session:
        import_outcomes(session, data, "outcomes.csv", TZ)
    assert bill(db_url, "2027-03", date(2027, 4, 1)).billable_lead_ids == ("L-00001", "L-00004")
    assert bill(db_url, "2027-02", date(2027, 4, 1)).billable_lead_ids == ("L-00002",)
