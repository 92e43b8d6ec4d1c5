"""Flow: judge a supplier's matured pilot, alert the committee, and wait for the owner's decision.

Steps: (1) is the pilot matured (the contest window of its last delivery has closed by ``as_of``)?
If not, the run ends **Completed**, in a state named ``NotMatured``, with a "rerun on or after <date>"
artifact and nothing recorded (rerun it then: no self-rescheduling, which an in-process run could
not do anyway). (2) verdict and pilot report; (3) PILOT_VERDICT alert to the committee channel;
(4) verdict and checks artifacts; (5) the run **pauses** (``pause_flow_run(wait_for_input=...)``)
until the contract owner resumes it with a ``PilotDecisionInput`` (UI form, or
``prefect.flow_runs.resume_flow_run(id, run_input={...})``); (6) the decision is recorded and the
supplier moves to ``active``, ``renegotiating`` or ``terminated``.

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

from datetime import date, datetime
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import BaseModel, Field, create_model

from leadgov.config.settings import get_settings
from leadgov.models.pilot import Decision
from leadgov.tasks.deliveries import load_contract_file
from leadgov.tasks.pilot import (
    check_maturity,
    compute_verdict,
    publish_no_decision,
    publish_not_matured,
    publish_verdict,
    record_pilot_decision,
    send_verdict_alert,
)

WEEK_SECONDS = 7 * 24 * 3600


class NoDecisionTaken(RuntimeError):
    """Nobody decided within the decision timeout: nothing was recorded."""


class PilotRequest(BaseModel):
    """One supplier's pilot to judge, and how long to wait for the contract owner's decision."""

    supplier_id: str = Field(description="The supplier's id (supplier.id in its contract), e.g. acme-leads.")
    contract_path: str = Field(description="The supplier's contract file, e.g. config/contracts/acme-leads.yaml.")
    start_date: date = Field(description="The pilot's first delivery day; the pilot window counts from it.")
    pilot_size: int | None = Field(
        None, ge=1,
        description="Expected pilot size; default the contract's pilot.size. Informative only: the cohort "
                    "and the verdict always use the contract's pilot.size (a different value is noted).")
    as_of: date | None = Field(
        None, description="The day the verdict is computed; default today (in leadgov's timezone).")
    decision_timeout_seconds: int = Field(
        WEEK_SECONDS, ge=1,
        description="How long the run waits, paused, for the owner's decision; then it fails, recording nothing.")
    decision_poll_seconds: int = Field(
        10, ge=1, le=600, description="How often the paused run checks whether it was resumed.")


DECIDED_BY = "Who decides; default the contract's owner."


class PilotDecisionInput(RunInput):
    """The contract owner's decision on the pilot; the verdict above is only a recommendation."""

    decision: Decision = Field(description="approve: the supplier becomes active; renegotiate: renegotiating; "
                                           "terminate: terminated (its deliveries are refused).")
    comment: str = Field(min_length=1, description="Why (kept with the decision).")
    decided_by: str | None = Field(None, description=DECIDED_BY)


def decision_form(summary: str, owner: str) -> type[PilotDecisionInput]:
    """The decision form for this run: the verdict's markdown above it, the owner as ``decided_by``
    (``RunInput.with_initial_data`` alone would drop that field's description)."""
    form = create_model("PilotDecisionInput", __base__=PilotDecisionInput,
                        decided_by=(str | None, Field(owner, description=DECIDED_BY)))
    return form.with_initial_data(description=summary)


@flow(name="supplier_pilot", flow_run_name="pilot {request.supplier_id}", log_prints=False)
def supplier_pilot(request: PilotRequest):
    """Judge a matured pilot, alert the committee, pause for the owner's decision and record it.

    Args:
        request: which supplier, under which contract, judged on which day, and how long to wait.

    Returns a dict: ``verdict``, ``decision``, ``state`` (the supplier's), ``report_path`` ...; a pilot
    not matured yet ends Completed (named NotMatured) with ``matured: False``; no decision in time
    raises ``NoDecisionTaken`` (the run ends Failed), recording nothing.
    """
    logger = get_run_logger()
    settings = get_settings()
    as_of = request.as_of or datetime.now(ZoneInfo(settings.timezone)).date()
    contract = load_contract_file(request.contract_path)

    found = check_maturity(request.supplier_id, contract, request.start_date, as_of, request.pilot_size)
    if not found.matured:
        publish_not_matured(found)
        message = (f"Pilot of {request.supplier_id} not matured yet on {as_of}: the contest window of its last "
                   f"delivery closes {found.contest_closes_on}; rerun on or after {found.matured_on}.")
        logger.info(message)
        result = {"supplier_id": request.supplier_id, "matured": False, "as_of": as_of.isoformat(),
                  "matured_on": found.matured_on.isoformat(), "verdict": None, "decision": None,
                  "state": found.supplier_state}
        return Completed(name="NotMatured", message=message, data=result)

    verdict = compute_verdict(request.supplier_id, as_of)
    alert = send_verdict_alert(contract, verdict)
    summary = publish_verdict(request.supplier_id, verdict, as_of, found.notes)
    logger.info("Pilot of %s: verdict %s; waiting up to %s s for the owner's decision",
                request.supplier_id, verdict["verdict"], request.decision_timeout_seconds)

    owner = contract.contract.owner
    form = decision_form(summary, owner)
    try:
        answer = pause_flow_run(wait_for_input=form, timeout=request.decision_timeout_seconds,
                                poll_interval=request.decision_poll_seconds)
    except FlowPauseTimeout as exc:
        message = (f"No decision taken on the pilot of {request.supplier_id} (verdict {verdict['verdict']}) within "
                   f"{request.decision_timeout_seconds} s: nothing recorded, the supplier stays in "
                   f"{found.supplier_state!r}. Rerun the flow to ask again.")
        logger.error(message)
        publish_no_decision(request.supplier_id, message)
        raise NoDecisionTaken(message) from exc

    stored = record_pilot_decision(request.supplier_id, verdict["verdict"], answer.decision, answer.comment,
                                   answer.decided_by or owner, verdict["report_path"])
    logger.info("Pilot of %s: %s decided %s; supplier now %s", request.supplier_id, stored["decided_by"],
                stored["decision"], stored["state"])
    return {"supplier_id": request.supplier_id, "matured": True, "as_of": as_of.isoformat(),
            "verdict": verdict["verdict"], "decision": stored["decision"], "state": stored["state"],
            "comment": stored["comment"], "decided_by": stored["decided_by"], "reasons": verdict["reasons"],
            "clauses": verdict["clauses"], "report_path": verdict["report_path"], "alert": alert}
