"""A supplier's pilot: started, is it matured, its verdict (report and committee alert), and the
contract owner's decision. The jobs behind the ``supplier_pilot`` flow, ``leadgov pilot start``,
``leadgov report pilot`` and the demo's pilots.

``start_pilot``: a pilot of one supplier under its contract version from a start day (refused while
the supplier has an undecided pilot). ``pilot_maturity``: can the pilot be judged on a day (the
contest window of its cohort's last delivery has closed)? ``wait_for_maturity``: check it every
``poll_seconds`` until it is. ``judge_pilot``: the cohort's figures and verdict, the pilot report,
then the PILOT_VERDICT alert to the committee (once per pilot: its outbox key is the pilot's).
``decide_pilot``: store the owner's decision; the supplier moves to the state it implies and the
leads the pilot held are billed in the decision's month (approve) or never. Between the verdict and
the decision a human decides: the flow pauses there, the demo answers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from leadgov.alerts.outbox import AlertRun, record
from leadgov.alerts.rules import pilot_verdict_alert
from leadgov.committee import report_pack
from leadgov.config.contract import load_contract
from leadgov.config.contract.api import CONTRACTS_DIR
from leadgov.errors import Refused
from leadgov.ingest import register_contract
from leadgov.models import committee_store
from leadgov.models.pilot import (
    STATE_AFTER,
    Pilot,
    create_pilot,
    last_decision_day,
    latest_pilot,
    mark_judged,
    record_decision,
    settle_holds,
    undecided_pilot,
)
from leadgov.models.statuses import Decision as Decision  # the decisions a door may offer
from leadgov.models.statuses import SupplierState
from leadgov.models.supplier import ContractVersion, Supplier, ensure_supplier
from leadgov.pilot import PilotMaturity as PilotMaturity  # what pilot_maturity returns
from leadgov.pilot_cohort import PilotAssessment, assess_pilot, load_maturity, pilot_contract
from leadgov.reports.committee import pilot_message, pilot_title
from leadgov.reports.pilot import write_pilot_report
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly


@dataclass(frozen=True)
class StartPilotRequest:
    """A pilot of ``supplier_id`` from ``start_day`` (default: the runtime's today), under the contract
    file ``contract_path`` (default: ``config/contracts/<supplier>.yaml``), started by ``started_by``
    (default: the runtime's actor)."""

    supplier_id: str
    start_day: date | None = None
    contract_path: Path | None = None
    started_by: str | None = None


@dataclass(frozen=True)
class PilotInfo:
    """A stored pilot: whose, under which contract version, from which day, how large its cohort."""

    pilot_id: int
    supplier_id: str
    contract_id: str
    contract_version_id: int
    start_day: date
    size: int
    max_duration_days: int
    state: str
    created_by: str
    created_at: datetime
    #: False when ``open_pilot`` found this pilot running rather than starting it.
    started: bool = True


@dataclass(frozen=True)
class MaturityRequest:
    """The pilot ``pilot_id`` (default: the supplier's latest), judged on ``as_of`` (default: the
    runtime's today, read again at each check)."""

    supplier_id: str
    pilot_id: int | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class PilotRequest:
    """The pilot judged (default: the supplier's latest), on which day (default: the runtime's
    today), and the report's folder (default: ``<output_dir>/reports``)."""

    supplier_id: str
    as_of: date | None = None
    out_dir: Path | None = None
    pilot_id: int | None = None


@dataclass(frozen=True)
class PilotReport:
    """The pilot's figures and verdict, and the report written from them."""

    assessment: PilotAssessment
    path: Path


@dataclass(frozen=True)
class PilotJudgement:
    """The verdict, its report and the committee alert."""

    assessment: PilotAssessment
    report_path: Path
    alerts: AlertRun

    @property
    def supplier_id(self) -> str:
        return self.assessment.supplier_id

    @property
    def verdict(self) -> str:
        return self.assessment.verdict.verdict


@dataclass(frozen=True)
class PilotDecisionRequest:
    """The owner's decision on the verdict, why, by whom, and the report it was taken on."""

    supplier_id: str
    verdict: str
    decision: Decision
    comment: str
    decided_by: str
    report_path: Path | None = None
    #: The pilot decided on; default: the supplier's undecided pilot.
    pilot_id: int | None = None


@dataclass(frozen=True)
class PilotDecisionResult:
    """The stored decision and the supplier's new state."""

    decision_id: int
    supplier_id: str
    pilot_id: int | None
    verdict: str
    decision: str
    comment: str
    decided_by: str
    decided_at: datetime
    report_path: str | None
    state: str
    #: Leads the pilot held that the decision put on the decision month's statement (approve).
    released: int = 0


# --- start_pilot ------------------------------------------------------------------------------


def _info(pilot: Pilot, version: ContractVersion, *, started: bool = True) -> PilotInfo:
    return PilotInfo(pilot_id=pilot.id, supplier_id=pilot.supplier_id, contract_id=version.contract_id,
                     contract_version_id=version.id, start_day=pilot.start_day, size=pilot.size,
                     max_duration_days=pilot.max_duration_days, state=pilot.state, created_by=pilot.created_by,
                     created_at=pilot.created_at, started=started)


def _pilot(session: Session, supplier_id: str, pilot_id: int | None) -> Pilot:
    """The pilot ``pilot_id`` of the supplier, or its latest; refused when there is none."""
    pilot = latest_pilot(session, supplier_id) if pilot_id is None else session.get(Pilot, pilot_id)
    if pilot is None or pilot.supplier_id != supplier_id:
        which = "no pilot" if pilot_id is None else f"no pilot {pilot_id}"
        raise Refused(f"supplier {supplier_id!r} has {which}: start one with `leadgov pilot start --supplier "
                      f"{supplier_id}` or the supplier_pilot flow")
    return pilot


def start_pilot(runtime: Runtime, request: StartPilotRequest) -> PilotInfo:
    """Store a running pilot of the supplier under its contract file's version (registered if new),
    from the start day; the supplier is in ``pilot`` again. Refused while the supplier has an
    undecided pilot, for a terminated supplier, and for a start day before its last pilot decision
    (the leads held by the earlier pilot stay its own)."""
    path = request.contract_path or CONTRACTS_DIR / f"{request.supplier_id}.yaml"
    contract = load_contract(path)
    if contract.contract.supplier.id != request.supplier_id:
        raise Refused(f"{path} is supplier {contract.contract.supplier.id!r}'s contract, not {request.supplier_id!r}'s")
    day = request.start_day or runtime.clock.today()
    c = contract.contract
    if not c.applies_on(day):
        raise Refused(f"the pilot of {request.supplier_id} cannot start on {day}: contract {c.contract_id} runs "
                      f"from {c.first_day} to {c.period.end}")
    with runtime.sessions() as session:
        running = undecided_pilot(session, request.supplier_id)
        if running is not None:
            raise Refused(f"supplier {request.supplier_id!r} already has an undecided pilot (pilot {running.id}, "
                          f"started {running.start_day}, {running.state}): record its decision before starting "
                          "another")
        supplier = session.get(Supplier, request.supplier_id)
        if supplier is not None and supplier.state == SupplierState.TERMINATED:
            raise Refused(f"supplier {request.supplier_id!r} was terminated: its deliveries are refused, no pilot "
                          "can start")
        decided = last_decision_day(session, request.supplier_id)
        if decided is not None and day < decided.date():
            raise Refused(f"the pilot of {request.supplier_id} cannot start on {day}, before its last pilot "
                          f"decision ({decided.date()})")
        version_id = register_contract(session, contract)
        supplier = ensure_supplier(session, c.supplier.id, c.supplier.name)
        supplier.state = SupplierState.PILOT.value
        pilot = create_pilot(session, supplier_id=request.supplier_id, contract_version_id=version_id,
                             start_day=day, size=c.pilot.size, max_duration_days=c.pilot.max_duration_days,
                             created_by=request.started_by or runtime.actor,
                             created_at=runtime.clock.now().astimezone(UTC).replace(tzinfo=None))
        return _info(pilot, session.get_one(ContractVersion, version_id))


def open_pilot(runtime: Runtime, request: StartPilotRequest) -> PilotInfo:
    """The supplier's undecided pilot when it has one that started on the requested day (or any day,
    when none is asked): a run that stopped waiting, or a pilot started from the command line, is
    followed, not started twice; otherwise ``start_pilot`` (refused while another pilot is undecided)."""
    with runtime.sessions() as session:
        running = undecided_pilot(session, request.supplier_id)
        if running is not None and request.start_day in (None, running.start_day):
            return _info(running, session.get_one(ContractVersion, running.contract_version_id), started=False)
    return start_pilot(runtime, request)


# --- pilot_maturity ----------------------------------------------------------------------------


def pilot_maturity(runtime: Runtime, request: MaturityRequest) -> PilotMaturity:
    """Whether the pilot can be judged on the day, from its cohort's stored leads (read only)."""
    with runtime.sessions() as session:
        pilot = _pilot(session, request.supplier_id, request.pilot_id)
        return load_maturity(session, pilot, request.as_of or runtime.clock.today())


def wait_for_maturity(runtime: Runtime, request: MaturityRequest, *, poll_seconds: float,
                      sleep: Callable[[float], None], on_wait: Callable[[PilotMaturity], object] | None = None,
                      steps: StepRunner = run_directly) -> PilotMaturity:
    """Check the pilot's maturity every ``poll_seconds`` (``sleep`` waits: the flow's is the process's,
    a test's moves its clock) until it is matured; the matured check. ``on_wait`` is told each time the
    expected maturity day changes (a delivery filled the cohort, or the first check)."""
    told: date | None = None
    while True:
        found = steps(pilot_maturity, runtime, request)
        if found.matured:
            return found
        if on_wait is not None and found.matured_on != told:
            on_wait(found)
            told = found.matured_on
        sleep(poll_seconds)


# --- judge_pilot: the steps --------------------------------------------------------------------


def assess(runtime: Runtime, supplier_id: str, as_of: date, pilot_id: int | None = None) -> PilotAssessment:
    """The pilot cohort's figures and verdict (read only)."""
    with runtime.sessions() as session:
        return assess_pilot(session, _pilot(session, supplier_id, pilot_id), runtime.timezone, as_of)


def write_report(runtime: Runtime, assessment: PilotAssessment, out_dir: Path | None = None) -> Path:
    """``pilot-<supplier>-<pilot id>.html`` in the contract's locale."""
    folder = out_dir or runtime.settings.output_dir / "reports"
    return write_pilot_report(assessment, folder, generated_on=runtime.clock.today())


def raise_verdict_alert(runtime: Runtime, assessment: PilotAssessment, report_path: Path) -> AlertRun:
    """Record the PILOT_VERDICT alert of the pilot and the report's pack for the committee of the
    pilot's contract (its channel and e-mails), mark the pilot judged (waiting for the decision), then
    send the outboxes (kept pending when Slack or SMTP is not configured)."""
    verdict = assessment.verdict

    def evaluate(session: Session) -> list[str]:
        pilot = session.get_one(Pilot, assessment.pilot_id)
        contract = pilot_contract(session, pilot)
        alerts = pilot_verdict_alert(contract, pilot_id=pilot.id, verdict=verdict.verdict, reasons=verdict.reasons,
                                     report_path=report_path.name)
        keys = record(session, alerts)
        committee_store.add_pack(session, pack=report_pack(
            report=f"pilot:{assessment.supplier_id}:{pilot.id}", title=pilot_title(assessment),
            message=pilot_message(assessment), locale=assessment.locale, html_path=report_path,
            slack_channel=contract.alerts.committee_channel, emails=tuple(contract.alerts.committee_emails),
            alert_key=alerts[0].key))
        mark_judged(session, pilot.id, verdict.verdict)
        return keys
    return runtime.alerts(evaluate)


# --- the jobs ----------------------------------------------------------------------------------


def pilot_report(runtime: Runtime, request: PilotRequest, *, steps: StepRunner = run_directly) -> PilotReport:
    """The pilot's figures and verdict, and its report (no alert, nothing stored)."""
    assessment = steps(assess, runtime, request.supplier_id, request.as_of or runtime.clock.today(), request.pilot_id)
    return PilotReport(assessment, steps(write_report, runtime, assessment, request.out_dir))


def judge_pilot(runtime: Runtime, request: PilotRequest, *, steps: StepRunner = run_directly) -> PilotJudgement:
    """The verdict, its report, and the committee's alert."""
    report = pilot_report(runtime, request, steps=steps)
    alerts = steps(raise_verdict_alert, runtime, report.assessment, report.path)
    return PilotJudgement(report.assessment, report.path, alerts)


def decide_pilot(runtime: Runtime, request: PilotDecisionRequest) -> PilotDecisionResult:
    """Store the owner's decision on the supplier's undecided pilot, dated by the runtime's clock; the
    supplier moves to ``active``, ``renegotiating`` or ``terminated``; on approval the leads the pilot
    held are billed on the statement of the decision's month (one transaction). Refused when the
    supplier has no undecided pilot (or ``pilot_id`` is not it)."""
    if request.decision not in STATE_AFTER:
        raise ValueError(f"unknown decision {request.decision!r}: approve, renegotiate or terminate")
    decided_at = runtime.clock.now().astimezone(UTC).replace(tzinfo=None)
    with runtime.sessions() as session:
        pilot = undecided_pilot(session, request.supplier_id)
        if pilot is None or request.pilot_id not in (None, pilot.id):
            which = "" if request.pilot_id is None else f" {request.pilot_id}"
            raise Refused(f"supplier {request.supplier_id!r} has no undecided pilot{which}: nothing to decide")
        row = record_decision(session, supplier_id=request.supplier_id, verdict=request.verdict,
                              decision=request.decision, comment=request.comment, decided_by=request.decided_by,
                              report_path=None if request.report_path is None else str(request.report_path),
                              decided_at=decided_at, pilot_id=pilot.id)
        released = settle_holds(session, pilot, Decision(request.decision), runtime.clock.today())
        supplier = session.get(Supplier, request.supplier_id)
        return PilotDecisionResult(
            decision_id=row.id, supplier_id=row.supplier_id, pilot_id=row.pilot_id, verdict=row.verdict,
            decision=row.decision, comment=row.comment, decided_by=row.decided_by, decided_at=row.decided_at,
            report_path=row.report_path, state=supplier.state if supplier else "", released=released)
