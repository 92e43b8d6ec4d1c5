"""Flow: judge a supplier's matured pilot, alert the committee, and wait for the owner's decision.

Steps, each the task of a ``leadgov.services.pilot`` step: (1) is the pilot matured (the contest
window of its last delivery has closed by ``as_of``)? If not, the run ends **Completed**, in a state
named ``NotMatured``, with a "rerun on or after <date>" artifact and nothing recorded (rerun it then:
no self-rescheduling, which an in-process run could not do anyway). (2) verdict and pilot report;
(3) PILOT_VERDICT alert to the committee channel; (4) verdict and checks artifacts; (5) the run
**pauses** (``pause_flow_run(wait_for_input=...)``) until the contract owner resumes it with a
``PilotDecisionInput`` (UI form, or ``prefect.flow_runs.resume_flow_run(id, run_input={...})``);
(6) the decision is recorded and the supplier moves to ``active``, ``renegotiating`` or ``terminated``.

Pause: the run keeps its process and thread, polling the API every ``decision_poll_seconds``;
the API validates the input against the form's schema before it lets the run resume. If nobody
decides within ``decision_timeout_seconds``, nothing is recorded and the supplier stays in ``pilot``:
the flow raises ``NoDecisionTaken`` ("No decision taken ...", in the run's logs, in the
``pilot-<supplier>-decision`` artifact and raised to a caller of the flow function) and the run ends
**Failed**. The API itself fails any transition out of an expired pause, with its own message "The flow
was failed and never resumed.", so a Cancelled ending is not possible and the run's state message is
the API's. Rerun the flow to ask again (the verdict alert is not sent twice: its outbox key is the
supplier's pilot).
"""

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import BaseModel, Field, create_model

from leadgov.services.pilot import Decision, MaturityRequest, PilotDecisionRequest, PilotRequest, judge_pilot
from leadgov.tasks.common import (
    NoDecisionTaken,
    as_tasks,
    decision_poll,
    decision_timeout,
    open_runtime,
    wait_for_decision,
)
from leadgov.tasks.pilot import (
    check_maturity,
    publish_decision,
    publish_no_decision,
    publish_not_matured,
    publish_verdict,
    record_pilot_decision,
)


class PilotParameters(BaseModel):
    """One supplier's pilot to judge, and how long to wait for the contract owner's decision."""

    supplier_id: str = Field(description="The supplier's id (supplier.id in its contract), e.g. acme-leads.")
    contract_path: str = Field(description="The supplier's contract file, e.g. config/contracts/acme-leads.yaml.")
    start_date: date = Field(description="The pilot's first delivery day; the pilot window counts from it.")
    as_of: date | None = Field(
        None, description="The day the verdict is computed; default today (in leadgov's timezone).")
    decision_timeout_seconds: int = decision_timeout()
    decision_poll_seconds: int = decision_poll()


DECIDED_BY = "Who decides; default the contract's owner."


class PilotDecisionInput(RunInput):
    """The contract owner's decision on the pilot; the verdict above is only a recommendation."""

    decision: Decision = Field(description="approve: the supplier becomes active; renegotiate: renegotiating; "
                                           "terminate: terminated (its deliveries are refused).")
    comment: str = Field(min_length=1, description="Why (kept with the decision).")
    decided_by: str | None = Field(None, description=DECIDED_BY)


def decision_form(summary: str, owner: str | None) -> type[PilotDecisionInput]:
    """The decision form for this run: the verdict's markdown above it, the owner as ``decided_by``
    (``RunInput.with_initial_data`` alone would drop that field's description); required when the
    contract names no owner."""
    decided_by: Any = ((str | None, Field(owner, description=DECIDED_BY)) if owner else
                       (str, Field(min_length=1, description="Who decides (the contract names no owner).")))
    form = create_model("PilotDecisionInput", __base__=PilotDecisionInput, decided_by=decided_by)
    return form.with_initial_data(description=summary)


@flow(name="supplier_pilot", flow_run_name="pilot {request.supplier_id}", log_prints=False)
def supplier_pilot(request: PilotParameters) -> dict[str, object] | State[Any]:
    """Judge a matured pilot, alert the committee, pause for the owner's decision and record it.

    Args:
        request: which supplier, under which contract, judged on which day, and how long to wait.

    Returns a dict: ``verdict``, ``decision``, ``state`` (the supplier's), ``report_path`` ...; a pilot
    not matured yet ends Completed (named NotMatured) with ``matured: False``; no decision in time
    raises ``NoDecisionTaken`` (the run ends Failed), recording nothing.
    """
    logger = get_run_logger()
    runtime = open_runtime()
    found = check_maturity(runtime, MaturityRequest(request.supplier_id, Path(request.contract_path),
                                                    request.start_date, request.as_of))
    for note in found.notes:
        logger.warning(note)
    as_of = found.as_of
    if not found.matured:
        publish_not_matured(found)
        message = (f"Pilot of {request.supplier_id} not matured yet on {as_of}: the contest window of its last "
                   f"delivery closes {found.contest_closes_on}; rerun on or after {found.matured_on}.")
        logger.info(message)
        result = {"supplier_id": request.supplier_id, "matured": False, "as_of": as_of.isoformat(),
                  "matured_on": found.matured_on.isoformat(), "verdict": None, "decision": None,
                  "state": found.supplier_state}
        return Completed(name="NotMatured", message=message, data=result)

    judgement = judge_pilot(runtime, PilotRequest(request.supplier_id, as_of), steps=as_tasks)
    verdict = judgement.assessment.verdict
    summary = publish_verdict(judgement, found.notes)
    logger.info("Pilot of %s: verdict %s; waiting up to %s s for the owner's decision",
                request.supplier_id, verdict.verdict, request.decision_timeout_seconds)

    owner = judgement.assessment.owner
    answer = wait_for_decision(decision_form(summary, owner), timeout=request.decision_timeout_seconds,
                               poll=request.decision_poll_seconds)
    if answer is None:
        message = (f"No decision taken on the pilot of {request.supplier_id} (verdict {verdict.verdict}) within "
                   f"{request.decision_timeout_seconds} s: nothing recorded, the supplier stays in "
                   f"{found.supplier_state!r}. Rerun the flow to ask again.")
        logger.error(message)
        publish_no_decision(request.supplier_id, message)
        raise NoDecisionTaken(message)

    decided_by = answer.decided_by or owner or ""  # the form requires it when the contract names no owner
    decided = record_pilot_decision(runtime, PilotDecisionRequest(
        supplier_id=request.supplier_id, verdict=verdict.verdict, decision=answer.decision, comment=answer.comment,
        decided_by=decided_by, report_path=judgement.report_path))
    publish_decision(decided)
    logger.info("Pilot of %s: %s decided %s; supplier now %s", request.supplier_id, decided.decided_by,
                decided.decision, decided.state)
    alerts = judgement.alerts
    return {"supplier_id": request.supplier_id, "matured": True, "as_of": as_of.isoformat(),
            "verdict": verdict.verdict, "decision": decided.decision, "state": decided.state,
            "comment": decided.comment, "decided_by": decided.decided_by, "reasons": list(verdict.reasons),
            "clauses": list(verdict.clauses), "report_path": str(judgement.report_path),
            "alert": {"new": list(alerts.new), "sent": alerts.sent.sent, "failed": alerts.sent.failed,
                      "kept": alerts.sent.kept, "error": alerts.error}}
