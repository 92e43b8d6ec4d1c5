"""The release_statement flow under Prefect: it shows the frozen statement, pauses for the
committee's decision, is resumed with input through the Prefect API and records it (release: a new
payable revision; keep_frozen: nothing stored); a statement not frozen ends without pausing."""

from datetime import date

import pytest
from factories import ingest, lead
from paused_runs import finished, run_artifacts, start_in_background, wait_until_paused
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from leadgov.flows.release_statement import ReleaseParameters, release_statement
from leadgov.models import BillingStatement
from leadgov.models.db import session_scope
from leadgov.models.migrate import upgrade
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.runtime import FixedClock, build_runtime

SUPPLIER = "acme-leads"
MONTH = "2027-03"


def db_url() -> str:
    from leadgov.config.settings import get_settings

    return get_settings().effective_database_url


def bill_month(frozen: bool = True) -> None:
    """March billed once; L-00002 without a consent proof (a GDPR breach) freezes it."""
    from leadgov.config.settings import get_settings

    url = db_url()
    upgrade(url)
    ingest(url, [lead(1), lead(2, consent_proof="") if frozen else lead(2)])
    runtime = build_runtime(get_settings(), clock=FixedClock(date(2027, 4, 1)))
    assert bill_statement(runtime, StatementRequest(SUPPLIER, MONTH)).statement.frozen is frozen


def stored() -> list[tuple]:
    with session_scope(db_url()) as session:
        return [tuple(r) for r in session.execute(
            select(BillingStatement.revision, BillingStatement.frozen, BillingStatement.released_by,
                   BillingStatement.release_comment).order_by(BillingStatement.revision))]


def state_types(flow_run_id) -> list[StateType]:
    with get_client(sync_client=True) as client:
        return [s.type for s in client.read_flow_run_states(flow_run_id)]


def parameters() -> ReleaseParameters:
    return ReleaseParameters(supplier_id=SUPPLIER, month=MONTH, decision_poll_seconds=1)


def test_pauses_and_a_release_stores_a_payable_revision(leadgov_env):
    bill_month()
    thread, box, tag = start_in_background(release_statement, parameters())
    flow_run_id = wait_until_paused(tag, thread, box)

    statement = run_artifacts(flow_run_id)["release-acme-leads-2027-03-statement"].data
    assert "revision 1" in statement and "**FROZEN**" in statement and "GDPR_BREACH" in statement
    assert "camille" not in statement.lower()  # no personal data
    assert stored() == [(1, True, None, None)]

    # the form requires a comment: without one the run stays paused
    with pytest.raises(RuntimeError, match="Cannot resume this run"):
        resume_flow_run(flow_run_id, run_input={"decision": "release", "comment": "", "decided_by": "Claire"})
    resume_flow_run(flow_run_id, run_input={"decision": "release", "comment": "proofs received",
                                            "decided_by": "Claire Martin"})
    state = finished(thread, box)

    assert state.is_completed(), state.message
    result = state.result()
    assert (result["decision"], result["revision"], result["payable"], result["decided_by"]) == (
        "release", 2, True, "Claire Martin")
    assert StateType.PAUSED in state_types(flow_run_id)
    assert stored() == [(1, True, None, None), (2, True, "Claire Martin", "proofs received")]
    assert "**released**" in run_artifacts(flow_run_id)["release-acme-leads-2027-03-decision"].data


def test_keep_frozen_stores_nothing(leadgov_env):
    bill_month()
    thread, box, tag = start_in_background(release_statement, parameters())
    flow_run_id = wait_until_paused(tag, thread, box)

    resume_flow_run(flow_run_id, run_input={"decision": "keep_frozen", "comment": "proofs still missing",
                                            "decided_by": "Claire Martin"})
    state = finished(thread, box)

    assert state.is_completed(), state.message
    assert (state.result()["decision"], state.result()["payable"]) == ("keep_frozen", False)
    assert stored() == [(1, True, None, None)]
    decision = run_artifacts(flow_run_id)["release-acme-leads-2027-03-decision"].data
    assert "**kept frozen**" in decision and "nothing stored" in decision and "proofs still missing" in decision


def test_a_statement_not_frozen_ends_without_pausing(leadgov_env):
    bill_month(frozen=False)
    state = release_statement(parameters(), return_state=True)

    assert state.is_completed() and state.name == "NothingToRelease"
    assert "revision 1 is not frozen: nothing to release" in state.message
    assert StateType.PAUSED not in state_types(state.state_details.flow_run_id)
    assert stored() == [(1, False, None, None)]
