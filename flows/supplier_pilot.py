"""Flow: a supplier's pilot from its start to the contract owner's decision, waiting by itself.

Steps, each the task of a ``leadgov.services.pilot`` step: (1) the pilot is started for the supplier
from ``start_date`` under its contract (``config/contracts/<supplier>.yaml``), or, when the supplier
already has an undecided pilot from that day (or no day is given), that pilot is followed: a run that
stopped waiting is simply started again, a pilot started with ``leadgov pilot start`` is carried on.
Another undecided pilot refuses the run (one pilot at a time). (2) The run **waits by itself**: it
checks every ``check_every_seconds`` (default: daily) whether the cohort is complete and the contest
window of its last delivery has closed, sleeping in between (a ``check_maturity`` task per check; a
``pilot-<supplier>-<pilot>-verdict`` artifact says when it expects to mature). (3) verdict and pilot
report; (4) PILOT_VERDICT alert to the committee; (5) verdict and checks artifacts; (6) the run
**pauses** (``pause_flow_run(wait_for_input=...)``) until the contract owner resumes it with a
``PilotDecisionInput`` (UI form, or ``prefect.flow_runs.resume_flow_run(id, run_input={...})``);
(7) the decision is recorded: the supplier moves to ``active``, ``renegotiating`` or ``terminated``,
and the leads the pilot held (PILOT_HOLD) go on the decision month's statement (approve) or never.

Waiting is a loop in the run, not ``suspend_flow_run``: it works the same under a served deployment,
a worker and Prefect's test harness (suspending needs a deployment and persisted results). A worker
restarted meanwhile ends the run (Crashed): start the flow again for the supplier, it follows the
same pilot. ``as_of`` pins the day the checks see (a replay on recorded data); without it every
check reads the clock again.

Pause: the run keeps its process and thread, polling the API every ``decision_poll_seconds``;
the API validates the input against the form's schema before it lets the run resume. If nobody
decides within ``decision_timeout_seconds``, nothing is recorded and the pilot stays undecided:
the flow raises ``NoDecisionTaken`` ("No decision taken ...", in the run's logs, in the
``pilot-<supplier>-<pilot>-decision`` artifact and raised to a caller of the flow function) and the
run ends **Failed**. Start the flow again to ask again (it follows the pilot; the verdict alert is
not sent twice: its outbox key is the pilot's).

The supplier is a choice among the contracts of ``config/contracts`` read when the flow is imported:
by ``prefect deploy`` (the form's choices) and by each run. A new supplier's contract needs a
redeploy to appear in the form.
"""

import time
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from prefect import flow, get_run_logger
from prefect.input import RunInput
from pydantic import BaseModel, Field, create_model

from leadgov.config.contract.api import contract_supplier_ids
from leadgov.services.pilot import (
    Decision,
    MaturityRequest,
    PilotDecisionRequest,
    PilotRequest,
    StartPilotRequest,
    judge_pilot,
    wait_for_maturity,
)
from leadgov.tasks.common import (
    NoDecisionTaken,
    as_tasks,
    decision_poll,
    decision_timeout,
    open_runtime,
    wait_for_decision,
)
from leadgov.tasks.pilot import (
    open_pilot,
    publish_decision,
    publish_no_decision,
    publish_verdict,
    publish_waiting,
    record_pilot_decision,
)

#: The suppliers the form offers: those with a contract in config/contracts when the flow is imported.
SUPPLIERS = contract_supplier_ids()
if TYPE_CHECKING:
    SupplierChoice = str
else:
    SupplierChoice = Literal[SUPPLIERS] if SUPPLIERS else str

DAY_SECONDS = 24 * 3600


class PilotParameters(BaseModel):
    """One supplier's pilot: from which day, how often to check that it matured, how long to wait for
    the contract owner's decision."""

    supplier_id: SupplierChoice = Field(
        description="The supplier (its contract config/contracts/<supplier>.yaml is the pilot's contract).")
    start_date: date | None = Field(
        None, description="The pilot's first day: its cohort is the first pilot.size leads delivered from it. "
                          "Empty: follow the supplier's undecided pilot, or start one today.")
    as_of: date | None = Field(
        None, description="Judge as if today were this day (a replay on recorded data); empty: the clock, "
                          "read at each check.")
    check_every_seconds: int = Field(
        DAY_SECONDS, ge=1, description="How often the run checks whether the pilot has matured (default: daily).")
    decision_timeout_seconds: int = decision_timeout()
    decision_poll_seconds: int = decision_poll()


DECIDED_BY = "Who decides; default the contract's owner."


class PilotDecisionInput(RunInput):
    """The contract owner's decision on the pilot; the verdict above is only a recommendation."""

    decision: Decision = Field(description="approve: the supplier becomes active and the held leads are billed "
                                           "this month; renegotiate: renegotiating; terminate: terminated (its "
                                           "deliveries are refused). Held leads are never billed unless approved.")
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
def supplier_pilot(request: PilotParameters) -> dict[str, object]:
    """Start (or follow) a supplier's pilot, wait until it matures, judge it, alert the committee,
    pause for the owner's decision and record it.

    Args:
        request: which supplier, from which day, how often to check, how long to wait for the decision.

    Returns a dict: ``pilot_id``, ``verdict``, ``decision``, ``state`` (the supplier's), ``report_path``
    ...; no decision in time raises ``NoDecisionTaken`` (the run ends Failed), recording nothing.
    """
    logger = get_run_logger()
    supplier = request.supplier_id
    runtime = open_runtime()
    pilot = open_pilot(runtime, StartPilotRequest(supplier, request.start_date))
    logger.info("Pilot %s of %s (%s) from %s: cohort of %s leads within %s days", pilot.pilot_id, supplier,
                "started" if pilot.started else "followed", pilot.start_day, pilot.size, pilot.max_duration_days)
    found = wait_for_maturity(runtime, MaturityRequest(supplier, pilot.pilot_id, request.as_of),
                              poll_seconds=request.check_every_seconds, sleep=time.sleep,
                              on_wait=publish_waiting, steps=as_tasks)
    for note in found.notes:
        logger.warning(note)

    judgement = judge_pilot(runtime, PilotRequest(supplier, found.as_of, pilot_id=pilot.pilot_id), steps=as_tasks)
    verdict = judgement.assessment.verdict
    summary = publish_verdict(judgement, found.notes)
    logger.info("Pilot %s of %s: verdict %s; waiting up to %s s for the owner's decision", pilot.pilot_id,
                supplier, verdict.verdict, request.decision_timeout_seconds)

    owner = judgement.assessment.owner
    answer = wait_for_decision(decision_form(summary, owner), timeout=request.decision_timeout_seconds,
                               poll=request.decision_poll_seconds)
    if answer is None:
        message = (f"No decision taken on pilot {pilot.pilot_id} of {supplier} (verdict {verdict.verdict}) within "
                   f"{request.decision_timeout_seconds} s: nothing recorded, the pilot stays undecided and the "
                   f"supplier in {found.supplier_state!r}. Start the flow again to ask again.")
        logger.error(message)
        publish_no_decision(supplier, pilot.pilot_id, message)
        raise NoDecisionTaken(message)

    decided_by = answer.decided_by or owner or ""  # the form requires it when the contract names no owner
    decided = record_pilot_decision(runtime, PilotDecisionRequest(
        supplier_id=supplier, verdict=verdict.verdict, decision=answer.decision, comment=answer.comment,
        decided_by=decided_by, report_path=judgement.report_path, pilot_id=pilot.pilot_id))
    publish_decision(decided)
    logger.info("Pilot %s of %s: %s decided %s; supplier now %s", pilot.pilot_id, supplier, decided.decided_by,
                decided.decision, decided.state)
    alerts = judgement.alerts
    return {"supplier_id": supplier, "pilot_id": pilot.pilot_id, "start_day": pilot.start_day.isoformat(),
            "as_of": found.as_of.isoformat(), "verdict": verdict.verdict, "decision": decided.decision,
            "state": decided.state, "comment": decided.comment, "decided_by": decided.decided_by,
            "released": decided.released, "reasons": list(verdict.reasons), "clauses": list(verdict.clauses),
            "report_path": str(judgement.report_path),
            "alert": {"new": list(alerts.new), "sent": alerts.sent.sent, "failed": alerts.sent.failed,
                      "kept": alerts.sent.kept, "error": alerts.error}}
