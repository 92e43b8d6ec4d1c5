"""A supplier's pilot: is it matured, its verdict (report and committee alert), and the contract
owner's decision. The jobs behind the ``supplier_pilot`` flow, ``leadgov report pilot`` and the
demo's pilots.

``pilot_maturity``: can the pilot be judged on a day (the contest window of its last delivery has
closed)? ``judge_pilot``: the cohort's figures and verdict, the pilot report, then the PILOT_VERDICT
alert to the committee (once per supplier: its outbox key is the supplier's pilot). ``decide_pilot``:
store the owner's decision; the supplier moves to the state it implies. Between the verdict and the
decision a human decides: the flow pauses there, the demo answers itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from leadgov.alerts.outbox import AlertRun, record
from leadgov.alerts.rules import pilot_verdict_alert
from leadgov.committee import report_pack
from leadgov.config.contract import load_contract
from leadgov.errors import Refused
from leadgov.governance import contract_for
from leadgov.models import committee_store
from leadgov.models.pilot import record_decision
from leadgov.models.statuses import Decision as Decision  # the decisions a door may offer
from leadgov.models.supplier import Supplier
from leadgov.pilot import PilotMaturity as PilotMaturity  # what pilot_maturity returns
from leadgov.pilot_cohort import PilotAssessment, assess_pilot, load_maturity
from leadgov.reports.committee import pilot_message, pilot_title
from leadgov.reports.pilot import write_pilot_report
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly


@dataclass(frozen=True)
class MaturityRequest:
    """The supplier's pilot under its contract file, started on ``start_date``, judged on ``as_of``
    (default: the runtime's today)."""

    supplier_id: str
    contract_path: Path
    start_date: date
    as_of: date | None = None


@dataclass(frozen=True)
class PilotRequest:
    """The supplier whose pilot is judged, on which day (default: the runtime's today), and the
    report's folder (default: ``<output_dir>/reports``)."""

    supplier_id: str
    as_of: date | None = None
    out_dir: Path | None = None


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


@dataclass(frozen=True)
class PilotDecisionResult:
    """The stored decision and the supplier's new state."""

    decision_id: int
    supplier_id: str
    verdict: str
    decision: str
    comment: str
    decided_by: str
    decided_at: datetime
    report_path: str | None
    state: str


# --- pilot_maturity ----------------------------------------------------------------------------


def pilot_maturity(runtime: Runtime, request: MaturityRequest) -> PilotMaturity:
    """Whether the pilot can be judged on the day, from the stored deliveries (read only). The
    contract file must be the supplier's."""
    contract = load_contract(request.contract_path).contract
    if contract.supplier.id != request.supplier_id:
        raise Refused(f"{request.contract_path} is supplier {contract.supplier.id!r}'s contract, "
                      f"not {request.supplier_id!r}'s")
    with runtime.sessions() as session:
        return load_maturity(session, contract, request.start_date, request.as_of or runtime.clock.today())


# --- judge_pilot: the steps --------------------------------------------------------------------


def assess(runtime: Runtime, supplier_id: str, as_of: date) -> PilotAssessment:
    """The pilot cohort's figures and verdict (read only)."""
    with runtime.sessions() as session:
        return assess_pilot(session, supplier_id, runtime.timezone, as_of)


def write_report(runtime: Runtime, assessment: PilotAssessment, out_dir: Path | None = None) -> Path:
    """``pilot-<supplier>.html`` in the contract's locale."""
    folder = out_dir or runtime.settings.output_dir / "reports"
    return write_pilot_report(assessment, folder, generated_on=runtime.clock.today())


def raise_verdict_alert(runtime: Runtime, assessment: PilotAssessment, report_path: Path) -> AlertRun:
    """Record the PILOT_VERDICT alert and the report's pack for the committee of the supplier's
    contract (its channel and e-mails), then send the outboxes (kept pending when Slack or SMTP is
    not configured)."""
    verdict = assessment.verdict

    def evaluate(session: Session) -> list[str]:
        _, contract = contract_for(session, assessment.supplier_id, None)
        alerts = pilot_verdict_alert(contract, verdict=verdict.verdict, reasons=verdict.reasons,
                                     report_path=report_path.name)
        keys = record(session, alerts)
        committee_store.add_pack(session, pack=report_pack(
            report=f"pilot:{assessment.supplier_id}", title=pilot_title(assessment),
            message=pilot_message(assessment), locale=assessment.locale, html_path=report_path,
            slack_channel=contract.alerts.committee_channel, emails=tuple(contract.alerts.committee_emails),
            alert_key=alerts[0].key))
        return keys
    return runtime.alerts(evaluate)


# --- the jobs ----------------------------------------------------------------------------------


def pilot_report(runtime: Runtime, request: PilotRequest, *, steps: StepRunner = run_directly) -> PilotReport:
    """The pilot's figures and verdict, and its report (no alert, nothing stored)."""
    assessment = steps(assess, runtime, request.supplier_id, request.as_of or runtime.clock.today())
    return PilotReport(assessment, steps(write_report, runtime, assessment, request.out_dir))


def judge_pilot(runtime: Runtime, request: PilotRequest, *, steps: StepRunner = run_directly) -> PilotJudgement:
    """The verdict, its report, and the committee's alert."""
    report = pilot_report(runtime, request, steps=steps)
    alerts = steps(raise_verdict_alert, runtime, report.assessment, report.path)
    return PilotJudgement(report.assessment, report.path, alerts)


def decide_pilot(runtime: Runtime, request: PilotDecisionRequest) -> PilotDecisionResult:
    """Store the owner's decision, dated by the runtime's clock; the supplier moves to ``active``,
    ``renegotiating`` or ``terminated`` (one transaction)."""
    decided_at = runtime.clock.now().astimezone(UTC).replace(tzinfo=None)
    with runtime.sessions() as session:
        row = record_decision(session, supplier_id=request.supplier_id, verdict=request.verdict,
                              decision=request.decision, comment=request.comment, decided_by=request.decided_by,
                              report_path=None if request.report_path is None else str(request.report_path),
                              decided_at=decided_at)
        supplier = session.get(Supplier, request.supplier_id)
        return PilotDecisionResult(
            decision_id=row.id, supplier_id=row.supplier_id, verdict=row.verdict, decision=row.decision,
            comment=row.comment, decided_by=row.decided_by, decided_at=row.decided_at, report_path=row.report_path,
            state=supplier.state if supplier else "")
