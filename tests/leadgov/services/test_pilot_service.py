"""A supplier's pilot as services, on a real database with a pinned clock and no Slack: its start, its
maturity, its verdict (report and committee alert) and the owner's decision."""

from datetime import date, datetime

import pytest
import yaml
from factories import contract_dict, contract_on_disk, ingest, lead, outcomes_csv, service_runtime
from sqlalchemy import select

from leadgov.errors import Refused
from leadgov.models import OutboxAlert
from leadgov.models.db import session_scope
from leadgov.models.pilot import decisions
from leadgov.models.supplier import Supplier
from leadgov.outcomes import import_outcomes
from leadgov.services.pilot import (
    MaturityRequest,
    PilotDecisionRequest,
    PilotRequest,
    StartPilotRequest,
    decide_pilot,
    judge_pilot,
    pilot_maturity,
    pilot_report,
    start_pilot,
)

TZ = "Europe/Paris"
START = date(2027, 3, 1)
# pilot.size 100, 30 days: 11 leads is not a full cohort, so a lead may come until 30 March; contests of
# that day are accepted until 6 April: the pilot is matured from 7 April
MATURED_ON = date(2027, 4, 7)


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


@pytest.fixture
def pilot(db_url, tmp_path):
    """A pilot started on 1 March; ten accepted leads and one without consent (NO_CONSENT: a GDPR
    incident, so STOP); eight called and reached, one appointment with an objection."""
    start_pilot(runtime(db_url, START, tmp_path),
                StartPilotRequest("acme-leads", START, contract_on_disk(tmp_path), "Léa Owner"))
    ingest(db_url, [lead(n) for n in range(1, 11)] + [lead(11, consent_at="", consent_proof="")], day=START)
    events = []
    for n in range(1, 9):
        events += [{"lead_id": f"L-{n:05d}", "event": "call_attempt", "at": "2027-03-01 14:00"},
                   {"lead_id": f"L-{n:05d}", "event": "reached", "at": "2027-03-01 14:05"}]
    events.append({"lead_id": "L-00001", "event": "appointment_set", "at": "2027-03-03 10:00", "objection": "prix"})
    with session_scope(db_url) as session:
        assert not import_outcomes(session, outcomes_csv(events), "outcomes.csv", TZ).refusals


def verdict_alerts(db_url) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        return [tuple(r) for r in session.execute(select(OutboxAlert.key, OutboxAlert.channel)
                                                  .where(OutboxAlert.type == "PILOT_VERDICT"))]


def test_maturity_from_the_stored_deliveries_and_the_clock(db_url, pilot, tmp_path):
    request = MaturityRequest("acme-leads")
    early = pilot_maturity(runtime(db_url, MATURED_ON.replace(day=6), tmp_path), request)
    assert (early.as_of, early.matured, early.matured_on, early.contest_closes_on) == (
        date(2027, 4, 6), False, MATURED_ON, date(2027, 4, 6))
    assert (early.first_delivery, early.cohort_leads, early.cohort_full, early.window_last_day) == (
        START, 11, False, date(2027, 3, 30))
    assert (early.supplier_state, early.notes) == ("pilot", ())
    assert pilot_maturity(runtime(db_url, MATURED_ON, tmp_path), request).matured
    # the day asked for wins over the clock
    asked = MaturityRequest("acme-leads", as_of=date(2027, 3, 20))
    assert not pilot_maturity(runtime(db_url, MATURED_ON, tmp_path), asked).matured


def test_a_pilot_refuses_another_suppliers_contract(db_url, tmp_path):
    other = tmp_path / "beta.yaml"
    other.write_text(yaml.safe_dump(contract_dict(**{"supplier.id": "beta-leads"})), encoding="utf-8")
    with pytest.raises(Refused, match="is supplier 'beta-leads'.s contract, not 'acme-leads'.s"):
        start_pilot(runtime(db_url, START, tmp_path), StartPilotRequest("acme-leads", START, other))


def test_maturity_of_a_supplier_without_a_pilot_is_refused(db_url, tmp_path):
    ingest(db_url, [lead(1)], day=START)
    with pytest.raises(Refused, match="'acme-leads' has no pilot: start one with `leadgov pilot start"):
        pilot_maturity(runtime(db_url, MATURED_ON, tmp_path), MaturityRequest("acme-leads"))


def test_the_verdict_its_report_and_the_committee_alert(db_url, pilot, tmp_path):
    judgement = judge_pilot(runtime(db_url, MATURED_ON, tmp_path), PilotRequest("acme-leads"))

    a = judgement.assessment
    assert (judgement.verdict, a.as_of, a.owner, a.size) == ("STOP", MATURED_ON, "claire.martin@buyer.example", 100)
    assert (a.kpis.delivered, a.kpis.accepted, a.kpis.rejected, a.kpis.gdpr_incidents) == (11, 10, 1, 1)
    assert (a.first, a.last, a.supplier_name, a.contract_id) == (START, START, "ACME Leads SAS", "ACME-2027-01")
    reject, reachability = a.verdict.checks[:2]
    assert (reject.numerator, reject.denominator, reachability.numerator, reachability.denominator) == (1, 11, 8, 8)
    assert a.verdict.reasons[0] == "STOP: gdpr_incidents 1 > 0" and a.verdict.objections == [("prix", 1)]
    assert judgement.report_path == tmp_path / "reports" / "pilot-acme-leads-1.html"  # the pilot's own report
    assert "07/04/2027" in judgement.report_path.read_text(encoding="utf-8")  # dated by the clock
    assert judgement.alerts.new == ("PILOT_VERDICT|acme-leads|pilot:1",) and judgement.alerts.error is None
    assert verdict_alerts(db_url) == [("PILOT_VERDICT|acme-leads|pilot:1", "#lead-governance")]

    again = judge_pilot(runtime(db_url, MATURED_ON, tmp_path), PilotRequest("acme-leads"))
    assert again.alerts.new == () and len(verdict_alerts(db_url)) == 1  # the committee is told once


def test_the_pilot_report_alone_tells_nobody(db_url, pilot, tmp_path):
    written = pilot_report(runtime(db_url, MATURED_ON, tmp_path), PilotRequest("acme-leads", out_dir=tmp_path))
    assert written.path == tmp_path / "pilot-acme-leads-1.html" and written.assessment.verdict.verdict == "STOP"
    assert verdict_alerts(db_url) == []


def test_the_owners_decision_moves_the_supplier(db_url, pilot, tmp_path):
    rt = runtime(db_url, MATURED_ON, tmp_path)
    judgement = judge_pilot(rt, PilotRequest("acme-leads"))

    decided = decide_pilot(rt, PilotDecisionRequest("acme-leads", judgement.verdict, "terminate", "GDPR",
                                                     "claire.martin@buyer.example", judgement.report_path))

    assert (decided.verdict, decided.decision, decided.state, decided.comment) == ("STOP", "terminate", "terminated",
                                                                                  "GDPR")
    assert decided.decided_at == datetime(2027, 4, 7, 7, 0)  # 09:00 in Paris, stored in UTC
    assert decided.report_path == str(judgement.report_path)
    with session_scope(db_url) as session:
        assert [(d.id, d.decision) for d in decisions(session, "acme-leads")] == [(decided.decision_id, "terminate")]
        assert session.get(Supplier, "acme-leads").state == "terminated"
    with pytest.raises(ValueError, match="unknown decision 'maybe'"):
        decide_pilot(rt, PilotDecisionRequest("acme-leads", "STOP", "maybe", "?", "someone"))
    with pytest.raises(Refused, match="'acme-leads' has no undecided pilot: nothing to decide"):
        decide_pilot(rt, PilotDecisionRequest("acme-leads", "STOP", "approve", "again", "someone"))
