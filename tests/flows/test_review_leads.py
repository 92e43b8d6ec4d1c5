"""The review_leads flow under Prefect: it lists a supplier's leads in review (no email or phone), pauses
for a person's decisions, is resumed with input through the Prefect API and records each decision; no lead
waiting ends the run without pausing."""

from datetime import date

import pytest
from factories import ingest, lead, make_contract_file
from paused_runs import finished, run_artifacts, start_in_background, wait_until_paused
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from leadgov.flows.review_leads import ReviewParameters, review_leads
from leadgov.models import LeadReviewDecision
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.migrate import upgrade

CONTRACT = make_contract_file(**{"exploitability.review_reasons": ["OUT_OF_TARGET_SIZE", "FREE_EMAIL"]})


def db_url() -> str:
    from leadgov.config.settings import get_settings

    return get_settings().effective_database_url


def deliver() -> None:
    """L-00001 accepted; L-00002 (too small), L-00003 (webmail) and L-00004 (too small) in review."""
    upgrade(db_url())
    ingest(db_url(), [lead(1), lead(2, employees="1"), lead(3, email="camille.durand@gmail.com"),
                      lead(4, employees="2")], date(2027, 3, 1), contract=CONTRACT)


def statuses() -> dict[str, str]:
    with session_scope(db_url()) as session:
        return dict(session.execute(select(Lead.lead_id, Lead.status)).all())


def test_pauses_with_the_waiting_leads_and_records_each_decision(leadgov_env):
    deliver()
    thread, box, tag = start_in_background(review_leads, ReviewParameters(supplier_id="acme-leads",
                                                                          decision_poll_seconds=1))
    flow_run_id = wait_until_paused(tag, thread, box)

    waiting = run_artifacts(flow_run_id)["review-leads-acme-leads-waiting"].data
    assert "3 leads waiting for a decision" in waiting and "L-00002" in waiting and "gmail.com" in waiting
    assert "camille" not in waiting.lower() and "06 12" not in waiting  # no email, no phone
    with pytest.raises(RuntimeError, match="Cannot resume this run"):  # the form requires a comment
        resume_flow_run(flow_run_id, run_input={"accept": ["L-00002"], "comment": "", "decided_by": "Claire"})
    resume_flow_run(flow_run_id, run_input={"accept": ["L-00002"], "reject": ["L-00003"],
                                            "comment": "called the sales team", "decided_by": "Claire Martin"})
    state = finished(thread, box)

    assert state.is_completed(), state.message
    result = state.result()
    assert (result["accepted"], result["rejected"], result["decided_by"]) == (["L-00002"], ["L-00003"],
                                                                             "Claire Martin")
    assert statuses() == {"L-00001": "accepted", "L-00002": "accepted", "L-00003": "rejected", "L-00004": "review"}
    with session_scope(db_url()) as session:
        assert sorted(session.execute(select(LeadReviewDecision.decision, LeadReviewDecision.decided_by,
                                             LeadReviewDecision.comment)).all()) == [
            ("accept", "Claire Martin", "called the sales team"), ("reject", "Claire Martin", "called the sales team")]
    artifacts = run_artifacts(flow_run_id)
    assert "**accept**" in artifacts["review-leads-acme-leads-accept"].data
    assert "1 lead (L-00003)" in artifacts["review-leads-acme-leads-reject"].data


def test_nothing_waiting_ends_without_pausing(leadgov_env):
    upgrade(db_url())
    state = review_leads(ReviewParameters(supplier_id="acme-leads"), return_state=True)
    assert state.is_completed() and state.name == "NothingToReview"
