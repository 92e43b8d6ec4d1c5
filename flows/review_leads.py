"""Flow: show a supplier's leads held in review, pause for a person's decisions, record them.

Steps: (1) the leads still in review (``read_reviews``) and their markdown artifact
``review-leads-<supplier>-waiting`` (lead ids, reasons and the fields they concern, the days left; never a
name, an email or a phone); none waiting ends the run **Completed** (named ``NothingToReview``) without
pausing. (2) The run **pauses** (``pause_flow_run(wait_for_input=...)``) until a person resumes it with a
``ReviewDecisionsInput`` (UI form, or ``prefect.flow_runs.resume_flow_run(id, run_input={...})``): the lead
ids to accept, those to reject, a comment (required) and who decides. (3) Both lists are stored through
``leadgov.services.lead_review.decide_reviews`` (the job behind ``leadgov review accept|reject``) in one
transaction: a refusal (a lead not in review, past its deadline, or named in both lists) fails the run with
its one-line refusal and stores neither list. The ``review-leads-<supplier>-accept`` and ``-reject`` artifacts say what
was stored (``-decision`` when nobody decided in time).

Pause, as the release_statement flow: nobody deciding within ``decision_timeout_seconds`` stores nothing and
fails the run (``NoDecisionTaken``); the daily check still rejects the leads left past their deadline.
"""

from typing import Any

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import BaseModel, Field

from leadgov.services import lead_review as review_service
from leadgov.services.lead_review import ReviewDecisionRequest, ReviewListRequest
from leadgov.tasks.common import (
    NoDecisionTaken,
    as_tasks,
    decision_poll,
    decision_timeout,
    open_runtime,
    wait_for_decision,
)
from leadgov.tasks.lead_review import publish_no_review_decision, publish_review_decision, publish_waiting, read_reviews


class ReviewParameters(BaseModel):
    """One supplier's leads in review to put before a person, and how long to wait for the decisions."""

    supplier_id: str = Field(description="The supplier's id (supplier.id in its contract), e.g. acme-leads.")
    decision_timeout_seconds: int = decision_timeout()
    decision_poll_seconds: int = decision_poll()


class ReviewDecisionsInput(RunInput):
    """Your decisions on the leads listed above (by lead id); a lead named in neither list keeps waiting."""

    accept: list[str] = Field(default_factory=list, description="Lead ids to accept: billed on this month's "
                                                                "statement.")
    reject: list[str] = Field(default_factory=list, description="Lead ids to reject: each opens its replacement "
                                                                "claim today.")
    comment: str = Field(min_length=1, description="Why (kept with each decision).")
    decided_by: str = Field(min_length=1, description="Who decides.")


@flow(name="review_leads", flow_run_name="review leads of {request.supplier_id}", log_prints=False)
def review_leads(request: ReviewParameters) -> dict[str, object] | State[Any]:
    """List the supplier's leads in review, pause for a person's decisions and record them.

    Returns a dict: ``accepted`` and ``rejected`` (the lead ids decided), ``decided_by``, ``decided_on``;
    nothing waiting ends Completed (named NothingToReview); no decision in time raises ``NoDecisionTaken``.
    """
    logger = get_run_logger()
    runtime = open_runtime()
    listed = read_reviews(runtime, ReviewListRequest(request.supplier_id))
    summary = publish_waiting(listed, request.supplier_id)
    if not listed.leads:
        message = f"No lead of {request.supplier_id} waits in review: nothing to decide."
        logger.info(message)
        return Completed(name="NothingToReview", message=message, data={"accepted": [], "rejected": []})

    logger.info("%s leads of %s in review: waiting up to %s s for the decisions", len(listed.leads),
                request.supplier_id, request.decision_timeout_seconds)
    answer = wait_for_decision(ReviewDecisionsInput.with_initial_data(description=summary),
                               timeout=request.decision_timeout_seconds, poll=request.decision_poll_seconds)
    if answer is None:
        message = (f"No decision taken on the leads of {request.supplier_id} in review within "
                   f"{request.decision_timeout_seconds} s: nothing stored. Rerun the flow to ask again.")
        logger.error(message)
        publish_no_review_decision(request.supplier_id, message)
        raise NoDecisionTaken(message)

    done: dict[str, object] = {"accepted": [], "rejected": [], "decided_by": answer.decided_by, "decided_on": None}
    results = review_service.decide_reviews(runtime, [
        ReviewDecisionRequest(request.supplier_id, tuple(lead_ids), decision, answer.comment, answer.decided_by)
        for decision, lead_ids in (("accept", answer.accept), ("reject", answer.reject)) if lead_ids
    ], steps=as_tasks)
    for result in results:
        publish_review_decision(result)
        key = "accepted" if result.decision == "accept" else "rejected"
        logger.info("%s leads of %s: %s by %s", result.decided, request.supplier_id, key, result.decided_by)
        done[key] = [x.lead_id for x in result.leads]
        done["decided_on"] = result.decided_on.isoformat()
    return done
