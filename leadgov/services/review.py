"""The quarterly review: the job behind the ``quarterly_review`` flow, ``leadgov report review`` and
the demo's end of quarter.

Steps (``quarterly_review``): build the review's data (every supplier that delivered in the quarter:
KPIs, weekly KPIs, amounts, recommendation, decision log), render it as HTML in the settings'
locale, then record the QUARTERLY_REVIEW alert for the committee channel (once per quarter: a rerun
rewrites the report and adds no alert) and send the outbox. ``review_report`` is the same without the
alert (the command line writes the report only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from leadgov.alerts.outbox import AlertRun, record
from leadgov.alerts.rules import quarterly_review_alert
from leadgov.reports.review import write_review_report
from leadgov.review import QuarterlyReview, bounds, build_review, committee_channel, previous_quarter, quarter_period_of
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly


@dataclass(frozen=True)
class ReviewRequest:
    """The quarter (YYYY-Qn, default: the one before ``as_of``), the day the figures are computed for
    (default: the runtime's today) and the report's folder (default: ``<output_dir>/reports``)."""

    quarter: str | None = None
    as_of: date | None = None
    out_dir: Path | None = None

    def resolved(self, today: date) -> tuple[str, date]:
        """(quarter, as_of) with their defaults; a quarter that is not one is refused (``BadPeriod``)."""
        as_of = self.as_of or today
        quarter = self.quarter or previous_quarter(as_of)
        quarter_period_of(quarter)
        return quarter, as_of


@dataclass(frozen=True)
class ReviewedSupplier:
    supplier_id: str
    name: str
    leads_delivered: int


@dataclass(frozen=True)
class ReviewReport:
    """The review's data and the report written from it."""

    review: QuarterlyReview = field(repr=False)
    path: Path

    @property
    def quarter(self) -> str:
        return self.review.quarter.label

    @property
    def suppliers(self) -> tuple[ReviewedSupplier, ...]:
        return tuple(ReviewedSupplier(s.supplier_id, s.name, s.kpis.delivered) for s in self.review.suppliers)


@dataclass(frozen=True)
class ReviewResult:
    """The review written and announced to the committee."""

    report: ReviewReport
    alerts: AlertRun

    @property
    def quarter(self) -> str:
        return self.report.quarter

    @property
    def as_of(self) -> date:
        return self.report.review.as_of

    @property
    def report_path(self) -> Path:
        return self.report.path

    @property
    def suppliers(self) -> tuple[ReviewedSupplier, ...]:
        return self.report.suppliers


# --- the steps ---------------------------------------------------------------------------------


def build(runtime: Runtime, quarter: str, as_of: date) -> QuarterlyReview:
    """Load and compute every figure of the review (read only)."""
    period = quarter_period_of(quarter)
    with runtime.sessions() as session:
        return build_review(session, period, runtime.timezone, as_of)


def write_report(runtime: Runtime, review: QuarterlyReview, out_dir: Path | None = None) -> Path:
    """``review-<quarter>.html`` in the settings' locale."""
    folder = out_dir or runtime.settings.output_dir / "reports"
    return write_review_report(review, runtime.settings.locale, folder, generated_on=runtime.clock.today())


def raise_alert(runtime: Runtime, review: QuarterlyReview, report_path: Path) -> AlertRun:
    """Record the QUARTERLY_REVIEW alert on the committee channel (the first stored contract's, the
    reviewed suppliers' first) and send the outbox."""
    def evaluate(session: Session) -> list[str]:
        channel = committee_channel(session, review.supplier_ids, bounds(review.quarter)[1])
        return record(session, quarterly_review_alert(
            quarter=review.quarter.label, channel=channel, locale=runtime.settings.locale,
            report_path=str(report_path), suppliers=len(review.suppliers)))
    return runtime.alerts(evaluate)


# --- the jobs ----------------------------------------------------------------------------------


def review_report(runtime: Runtime, request: ReviewRequest, *, steps: StepRunner = run_directly) -> ReviewReport:
    """Build the review and write its report."""
    quarter, as_of = request.resolved(runtime.clock.today())
    review = steps(build, runtime, quarter, as_of)
    return ReviewReport(review, steps(write_report, runtime, review, request.out_dir))


def quarterly_review(runtime: Runtime, request: ReviewRequest, *, steps: StepRunner = run_directly) -> ReviewResult:
    """Build the review, write its report and tell the committee."""
    report = review_report(runtime, request, steps=steps)
    return ReviewResult(report, steps(raise_alert, runtime, report.review, report.path))
