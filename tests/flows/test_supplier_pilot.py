"""The supplier_pilot flow under Prefect: it starts the pilot, pauses for the owner's decision, is
resumed with input through the Prefect API, and stores the decision; started before the cohort is
complete it waits by itself and goes on once the deliveries and the contest window are complete;
without a decision in time it fails and records nothing."""

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

from leadgov.config.contract import load_contract
from leadgov.flows.supplier_pilot import NoDecisionTaken, PilotParameters, supplier_pilot
from leadgov.models.alert_store import list_alerts
from leadgov.models.db import session_scope
from leadgov.models.migrate import upgrade
from leadgov.models.pilot import decisions, pilots
from leadgov.models.supplier import Supplier
from leadgov.outcomes import import_outcomes

SUPPLIER = "acme-leads"
START = DELIVERED_ON  # 2027-03-01
# Pilot window: deliveries before 31 March (30 days), so the last possible delivery is 30 March; its
# contest window (7 days) closes at the end of 6 April: the pilot is matured from 7 April.
MATURED_ON = date(2027, 4, 7)
#: The contract the flow runs the pilot under (config/contracts/acme-leads.yaml): the deliveries too.
CONTRACT = load_contract(BASE_CONTRACT)


def db_url() -> str:
    from leadgov.config.settings import get_settings

    return get_settings().effective_database_url


def seed_pilot() -> None:
    """Ten accepted leads and one without consent (NO_CONSENT: a GDPR incident, so STOP), with calls."""
    url = db_url()
    upgrade(url)
    rows = [lead(n) for n in range(1, 11)] + [lead(11, consent_at="", consent_proof="")]
    ingest(url, rows, day=START, name="pilot-1.csv", contract=CONTRACT)
    events = []
    for n in range(1, 9):
        events += [{"lead_id": f"L-{n:05d}", "event": "call_attempt", "at": "2027-03-01 14:00"},
                   {"lead_id": f"L-{n:05d}", "event": "reached", "at": "2027-03-01 14:05"}]
    events.append({"lead_id": "L-00001", "event": "appointment_set", "at": "2027-03-03 10:00", "objection": "prix"})
    with session_scope(url) as session:
        imported = import_outcomes(session, outcomes_csv(events), "outcomes.csv", TZ)
        assert not imported.refusals, imported.refusals


def request(**overrides) -> PilotParameters:
    values = {"supplier_id": SUPPLIER, "start_date": START, "as_of": MATURED_ON, "check_every_seconds": 1,
              "decision_poll_seconds": 1, **overrides}
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
    assert {"pilot-acme-leads-1-verdict", "pilot-acme-leads-1-checks"} <= artifacts.keys()
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
    assert result["pilot_id"] == 1 and result["start_day"] == "2027-03-01"
    assert task_names(flow_run_id) == ["open_runtime", "open_pilot", "check_maturity", "compute_verdict",
                                       "write_pilot_report",
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
        ("PILOT_VERDICT|acme-leads|pilot:1", "#lead-governance", "STOP")]
    assert alerts[0].status == "pending"  # Slack is not configured: kept in the outbox

    report = Path(result["report_path"])
    assert report == leadgov_env / "out" / "reports" / "pilot-acme-leads-1.html" and report.is_file()

    artifacts = run_artifacts(flow_run_id)
    verdict = artifacts["pilot-acme-leads-1-verdict"].data
    assert "**STOP**" in verdict and "| reject_rate |" in verdict and "95 % CI" in verdict
    assert "STOP: gdpr_incidents 1 > 0" in verdict
    assert "camille" not in verdict.lower() and "nexalog.fr" not in verdict  # no personal data
    checks = artifacts["pilot-acme-leads-1-checks"].data
    assert all(name in checks for name in ("reject_rate", "reachability", "appointment_rate",
                                          "first_contact_sla_share", "ci95_low", "ci95_high"))
    assert "terminate" in artifacts["pilot-acme-leads-1-decision"].data


def wait_for_task(tag: str, name: str, thread, box) -> object:
    """The id of the run tagged ``tag`` once it has run a task called ``name``."""
    deadline = time.monotonic() + WAIT_SECONDS
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                pytest.fail(f"the flow ended early: {box}")
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
            if runs and name in task_names(runs[0].id):
                return runs[0].id
            time.sleep(0.2)
    pytest.fail(f"the flow run did not run {name} within {WAIT_SECONDS} s")


def test_started_before_the_cohort_is_complete_it_waits_and_goes_on_by_itself(leadgov_env):
    """The pilot (pilot.size 100) has 11 leads on 20 March: a lead may come until 30 March, so the run
    waits (checking every second here, daily by default). Once 89 more leads are delivered on 2 March,
    the cohort is complete and the contest window of its last delivery closed on 9 March: the run
    judges the pilot and asks for the decision, without being started again."""
    seed_pilot()
    thread, box, tag = start_in_background(supplier_pilot, request(as_of=date(2027, 3, 20)))
    flow_run_id = wait_for_task(tag, "publish_waiting", thread, box)
    waiting = run_artifacts(flow_run_id)["pilot-acme-leads-1-verdict"].data
    assert "judges the pilot by itself from 2027-04-07" in waiting and "11 leads" in waiting
    with session_scope(db_url()) as session:
        assert list_alerts(session) == [] and decisions(session, SUPPLIER) == []
    time.sleep(1.5)  # a check or two more: still waiting
    assert thread.is_alive() and "compute_verdict" not in task_names(flow_run_id)

    ingest(db_url(), [lead(n) for n in range(12, 101)], day=date(2027, 3, 2), name="pilot-2.csv", contract=CONTRACT)
    assert wait_until_paused(tag, thread, box) == flow_run_id
    resume_flow_run(flow_run_id, run_input={"decision": "renegotiate", "comment": "GDPR"})
    state = finished(thread, box)

    assert state.is_completed(), state.message
    result = state.result()
    assert (result["pilot_id"], result["as_of"], result["decision"], result["state"]) == (
        1, "2027-03-20", "renegotiate", "renegotiating")
    names = task_names(flow_run_id)
    assert names.count("publish_waiting") == 1 and names.count("check_maturity") >= 3
    assert names.index("compute_verdict") > max(i for i, n in enumerate(names) if n == "check_maturity")
    with session_scope(db_url()) as session:
        assert [(p.id, p.state, p.start_day) for p in pilots(session, SUPPLIER)] == [(1, "decided", START)]


def test_a_run_started_again_follows_the_undecided_pilot(leadgov_env):
    seed_pilot()
    with pytest.raises(NoDecisionTaken):
        supplier_pilot(request(decision_timeout_seconds=1))
    thread, box, tag = start_in_background(supplier_pilot, request(start_date=None))
    flow_run_id = wait_until_paused(tag, thread, box)
    resume_flow_run(flow_run_id, run_input={"decision": "terminate", "comment": "GDPR"})
    assert finished(thread, box).result()["pilot_id"] == 1
    with session_scope(db_url()) as session:
        assert [(p.id, p.state) for p in pilots(session, SUPPLIER)] == [(1, "decided")]
        assert len([a for a in list_alerts(session) if a.type == "PILOT_VERDICT"]) == 1  # told once


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
    assert "No decision taken" in run_artifacts(run.id)["pilot-acme-leads-1-decision"].data
    with session_scope(db_url()) as session:
        assert decisions(session, SUPPLIER) == []
        assert session.get(Supplier, SUPPLIER).state == "pilot"


def test_flow_parameters_make_a_form():
    schema = supplier_pilot.parameters.model_dump()
    props = schema["definitions"]["PilotParameters"]["properties"]
    assert {"type": "string", "format": "date"} in props["start_date"]["anyOf"]
    assert props.keys() == {"supplier_id", "start_date", "as_of", "check_every_seconds", "decision_timeout_seconds",
                            "decision_poll_seconds"}  # no parameter that changes nothing (a pilot_size did)
    assert all(p.get("description") for p in props.values())
    # the supplier is a choice among the contracts of config/contracts, not free text
    assert props["supplier_id"]["enum"] == ["acme-leads", "datapulse", "prospectia"]
    with pytest.raises(ValueError, match="acme-leads"):
        PilotParameters(supplier_id="nobody")
