"""The supplier_pilot flow under Prefect: it pauses for the owner's decision, is resumed with input
through the Prefect API, and stores the decision; too early it ends without pausing; without a
decision in time it fails and records nothing."""

import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from factories import BASE_CONTRACT, DELIVERED_ON, TZ, ingest, lead, outcomes_csv
from paused_runs import WAIT_SECONDS, finished, run_artifacts, start_in_background, wait_until_paused
from prefect import tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterTags
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run

from leadgov.flows.supplier_pilot import NoDecisionTaken, PilotParameters, supplier_pilot
from leadgov.models.alert_store import list_alerts
from leadgov.models.db import session_scope
from leadgov.models.migrate import upgrade
from leadgov.models.pilot import decisions
from leadgov.models.supplier import Supplier
from leadgov.outcomes import import_outcomes

SUPPLIER = "acme-leads"
START = DELIVERED_ON  # 2027-03-01
# Pilot window: deliveries before 31 March (30 days), so the last possible delivery is 30 March; its
# contest window (7 days) closes at the end of 6 April: the pilot is matured from 7 April.
MATURED_ON = date(2027, 4, 7)


def db_url() -> str:
    from leadgov.config.settings import get_settings

    return get_settings().effective_database_url


def seed_pilot() -> None:
    """Ten accepted leads and one without consent (NO_CONSENT: a GDPR incident, so STOP), with calls."""
    url = db_url()
    upgrade(url)
    rows = [lead(n) for n in range(1, 11)] + [lead(11, consent_at="", consent_proof="")]
    ingest(url, rows, day=START, name="pilot-1.csv")
    events = []
    for n in range(1, 9):
        events += [{"lead_id": f"L-{n:05d}", "event": "call_attempt", "at": "2027-03-01 14:00"},
                   {"lead_id": f"L-{n:05d}", "event": "reached", "at": "2027-03-01 14:05"}]
    events.append({"lead_id": "L-00001", "event": "appointment_set", "at": "2027-03-03 10:00", "objection": "prix"})
    with session_scope(url) as session:
        imported = import_outcomes(session, outcomes_csv(events), "outcomes.csv", TZ)
        assert not imported.refusals, imported.refusals


def request(**overrides) -> PilotParameters:
    values = {"supplier_id": SUPPLIER, "contract_path": str(BASE_CONTRACT), "start_date": START,
              "as_of": MATURED_ON, "decision_poll_seconds": 1, **overrides}
    return PilotParameters(**values)


def task_names(flow_run_id) -> list[str]:
    """The run's task runs (names without their suffix), in the order they started."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return [run.name.rsplit("-", 1)[0] for run in sorted(runs, key=lambda r: r.start_time or r.expected_start_time)]


def state_types(flow_run_id) -> list[StateType]:
    with get_client(sync_client=True) as client:
        return [s.type for s in client.read_flow_run_states(flow_run_id)]


def test_pauses_resumes_with_input_and_records_the_decision(leadgov_env):
    seed_pilot()
    thread, box, tag = start_in_background(supplier_pilot, request())
    flow_run_id = wait_until_paused(tag, thread, box)

    # the verdict was published and alerted before the pause
    artifacts = run_artifacts(flow_run_id)
    assert {"pilot-acme-leads-verdict", "pilot-acme-leads-checks"} <= artifacts.keys()
    with session_scope(db_url()) as session:
        assert decisions(session, SUPPLIER) == []
        assert session.get(Supplier, SUPPLIER).state == "pilot"

    # the API checks the input against the form's schema: an unknown decision leaves the run paused
    with pytest.raises(RuntimeError, match="Cannot resume this run"):
        resume_flow_run(flow_run_id, run_input={"decision": "maybe", "comment": "GDPR"})
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(flow_run_id).state.is_paused()

    resume_flow_run(flow_run_id, run_input={"decision": "terminate", "comment": "GDPR"})
    state = finished(thread, box)

    assert state.is_completed(), state.message
    result = state.result()
    assert (result["verdict"], result["decision"], result["state"]) == ("STOP", "terminate", "terminated")
    assert result["decided_by"] == "claire.martin@buyer.example"  # the form's default: the contract owner
    assert any(r.startswith("STOP: gdpr_incidents 1") for r in result["reasons"])
    assert StateType.PAUSED in state_types(flow_run_id)
    assert task_names(flow_run_id) == ["open_runtime", "check_maturity", "compute_verdict", "write_pilot_report",
                                       "send_verdict_alert", "publish_verdict", "record_pilot_decision",
                                       "publish_decision"]

    with session_scope(db_url()) as session:
        stored = decisions(session, SUPPLIER)
        assert [(d.verdict, d.decision, d.comment, d.decided_by) for d in stored] == [
            ("STOP", "terminate", "GDPR", "claire.martin@buyer.example")]
        assert stored[0].report_path == result["report_path"]
        assert session.get(Supplier, SUPPLIER).state == "terminated"
        alerts = [a for a in list_alerts(session) if a.type == "PILOT_VERDICT"]
    assert [(a.key, a.channel, a.facts["verdict"]) for a in alerts] == [
        ("PILOT_VERDICT|acme-leads|pilot", "#lead-governance", "STOP")]
    assert alerts[0].status == "pending"  # Slack is not configured: kept in the outbox

    report = Path(result["report_path"])
    assert report == leadgov_env / "out" / "reports" / "pilot-acme-leads.html" and report.is_file()

    artifacts = run_artifacts(flow_run_id)
    verdict = artifacts["pilot-acme-leads-verdict"].data
    assert "**STOP**" in verdict and "| reject_rate |" in verdict and "95 % CI" in verdict
    assert "STOP: gdpr_incidents 1 > 0" in verdict
    assert "camille" not in verdict.lower() and "nexalog.fr" not in verdict  # no personal data
    checks = artifacts["pilot-acme-leads-checks"].data
    assert all(name in checks for name in ("reject_rate", "reachability", "appointment_rate",
                                          "first_contact_sla_share", "ci95_low", "ci95_high"))
    assert "terminate" in artifacts["pilot-acme-leads-decision"].data


def test_not_matured_ends_without_pausing_and_records_nothing(leadgov_env):
    seed_pilot()
    state = supplier_pilot(request(as_of=date(2027, 3, 20)), return_state=True)

    assert state.is_completed() and state.name == "NotMatured"
    assert "rerun on or after 2027-04-07" in state.message
    result = state.result()
    assert result == {"supplier_id": SUPPLIER, "matured": False, "as_of": "2027-03-20",
                      "matured_on": "2027-04-07", "verdict": None, "decision": None, "state": "pilot"}
    flow_run_id = state.state_details.flow_run_id
    assert StateType.PAUSED not in state_types(flow_run_id)
    assert task_names(flow_run_id) == ["open_runtime", "check_maturity", "publish_not_matured"]
    artifacts = run_artifacts(flow_run_id)
    assert "Rerun on or after 2027-04-07" in artifacts["pilot-acme-leads-verdict"].data
    assert "pilot-acme-leads-checks" not in artifacts

    with session_scope(db_url()) as session:
        assert decisions(session, SUPPLIER) == []
        assert session.get(Supplier, SUPPLIER).state == "pilot"
        assert list_alerts(session) == []
    assert not (leadgov_env / "out" / "reports").exists()


def test_the_last_day_of_the_contest_window_is_not_matured(leadgov_env):
    seed_pilot()
    state = supplier_pilot(request(as_of=date(2027, 4, 6)), return_state=True)
    assert state.name == "NotMatured" and state.result()["matured_on"] == "2027-04-07"


def test_no_decision_in_time_fails_and_records_nothing(leadgov_env):
    seed_pilot()
    tag = f"test-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    with tags(tag), pytest.raises(NoDecisionTaken, match="No decision taken .* within 2 s: nothing recorded"):
        supplier_pilot(request(decision_timeout_seconds=2))
    assert time.monotonic() - started < WAIT_SECONDS

    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
    assert run.state.is_failed()  # the API fails a run leaving an expired pause, with its own message
    assert StateType.PAUSED in state_types(run.id)
    assert "No decision taken" in run_artifacts(run.id)["pilot-acme-leads-decision"].data
    with session_scope(db_url()) as session:
        assert decisions(session, SUPPLIER) == []
        assert session.get(Supplier, SUPPLIER).state == "pilot"


def test_flow_parameters_make_a_form():
    schema = supplier_pilot.parameters.model_dump()
    props = schema["definitions"]["PilotParameters"]["properties"]
    assert props["start_date"]["format"] == "date"
    assert props.keys() == {"supplier_id", "contract_path", "start_date", "as_of", "decision_timeout_seconds",
                            "decision_poll_seconds"}  # no parameter that changes nothing (a pilot_size did)
    assert all(p.get("description") for p in props.values())
