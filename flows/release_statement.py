"""Flow: show a supplier's frozen statement to the committee, pause for its decision, record it.

Steps: (1) the latest revision of the month (``read_statement``) and its markdown artifact
``release-<supplier>-<month>-statement``; a month never billed fails the run with the one-line
refusal; a revision not frozen, or already released, ends the run **Completed** (named
``NothingToRelease``) without pausing. (2) The run **pauses** (``pause_flow_run(wait_for_input=...)``)
until a committee member resumes it with a ``ReleaseDecisionInput`` (UI form, or
``prefect.flow_runs.resume_flow_run(id, run_input={...})``): ``release`` or ``keep_frozen``, a
comment (required) and who decides. (3) ``release`` stores a new revision marked released and
payable through ``leadgov.services.release`` (the same job as ``leadgov billing release``);
``keep_frozen`` stores nothing and the ``release-<supplier>-<month>-decision`` artifact says so.

Pause, as the supplier_pilot flow: the run keeps its process, polling the API every
``decision_poll_seconds``; nobody deciding within ``decision_timeout_seconds`` stores nothing and
fails the run (``NoDecisionTaken``). Rerun the flow to ask again.
"""

from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import BaseModel, Field

from leadgov.services import release as release_service
from leadgov.services.release import ReleaseRequest
from leadgov.tasks.common import (
    NoDecisionTaken,
    as_tasks,
    decision_poll,
    decision_timeout,
    open_runtime,
    wait_for_decision,
)
from leadgov.tasks.release import (
    publish_kept_frozen,
    publish_no_decision,
    publish_released,
    publish_statement,
    read_statement,
)


class ReleaseParameters(BaseModel):
    """One supplier's frozen month to put before the committee, and how long to wait for its decision."""

    supplier_id: str = Field(description="The supplier's id (supplier.id in its contract), e.g. acme-leads.")
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="The frozen statement's month, YYYY-MM, e.g. 2027-03.")
    decision_timeout_seconds: int = decision_timeout()
    decision_poll_seconds: int = decision_poll()


class ReleaseDecisionInput(RunInput):
    """The committee's decision on the frozen statement shown above."""

    decision: Literal["release", "keep_frozen"] = Field(
        description="release: a new revision, payable, with the same amounts (cannot be undone); "
                    "keep_frozen: nothing stored, the statement stays not payable.")
    comment: str = Field(min_length=1, description="Why (kept with the release).")
    decided_by: str = Field(min_length=1, description="Who decides (the committee's member).")


@flow(name="release_statement", flow_run_name="release {request.supplier_id} {request.month}", log_prints=False)
def release_statement(request: ReleaseParameters) -> dict[str, object] | State[Any]:
    """Show the month's frozen statement, pause for the committee's decision and record it.

    Returns a dict: ``decision``, ``revision`` (the latest one after the decision), ``payable`` ...;
    nothing to release ends Completed (named NothingToRelease); no decision in time raises
    ``NoDecisionTaken`` (the run ends Failed), storing nothing.
    """
    logger = get_run_logger()
    runtime = open_runtime()
    statement = read_statement(runtime, request.supplier_id, request.month)
    summary = publish_statement(statement)
    base = {"supplier_id": request.supplier_id, "month": request.month}
    if not statement.releasable:
        message = (f"{request.supplier_id} {request.month} revision {statement.revision} is "
                   f"{'already released' if statement.released else 'not frozen'}: nothing to release.")
        logger.info(message)
        return Completed(name="NothingToRelease", message=message,
                         data={**base, "decision": None, "revision": statement.revision, "payable": statement.payable})

    logger.info("%s %s revision %s frozen: waiting up to %s s for the committee's decision", request.supplier_id,
                request.month, statement.revision, request.decision_timeout_seconds)
    answer = wait_for_decision(ReleaseDecisionInput.with_initial_data(description=summary),
                               timeout=request.decision_timeout_seconds, poll=request.decision_poll_seconds)
    if answer is None:
        message = (f"No decision taken on {request.supplier_id} {request.month} within "
                   f"{request.decision_timeout_seconds} s: nothing stored, the statement stays frozen. "
                   "Rerun the flow to ask again.")
        logger.error(message)
        publish_no_decision(statement, message)
        raise NoDecisionTaken(message)

    if answer.decision == "keep_frozen":
        publish_kept_frozen(statement, answer.decided_by, answer.comment)
        logger.info("%s %s kept frozen by %s", request.supplier_id, request.month, answer.decided_by)
        return {**base, "decision": "keep_frozen", "revision": statement.revision, "payable": False,
                "decided_by": answer.decided_by, "comment": answer.comment}

    released = release_service.release_statement(
        runtime, ReleaseRequest(request.supplier_id, request.month, answer.decided_by, answer.comment), steps=as_tasks)
    publish_released(released)
    s = released.statement
    logger.info("%s %s released by %s as revision %s", request.supplier_id, request.month, s.released_by, s.revision)
    return {**base, "decision": "release", "revision": s.revision, "payable": s.payable,
            "decided_by": s.released_by, "comment": s.release_comment,
            "released_at": s.released_at.isoformat() if s.released_at else None,
            "amount_due_eur": f"{s.amount_due_eur:.2f}"}
