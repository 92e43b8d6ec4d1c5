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
from leadgov.committee import report_pack
from leadgov.models import committee_store
from leadgov.reports.committee import review_message, review_title
from leadgov.reports.review import write_review_report
from leadgov.review import QuarterlyReview, build_review, committee_of, previous_quarter, quarter_period_of
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
    """The review written and delivered to the committee: ``message`` is what goes with its files."""

    report: ReviewReport
    alerts: AlertRun
    message: str = ""

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


def raise_alert(runtime: Runtime, review: QuarterlyReview, report_path: Path, message: str) -> AlertRun:
    """Record the QUARTERLY_REVIEW alert and the report's pack for the committee (the first stored
    contract's committee channel and e-mails, the reviewed suppliers' first), then send the outboxes:
    the committee gets the HTML and PDF with the headline message, once per revision."""
    locale = runtime.settings.locale

    def evaluate(session: Session) -> list[str]:
        committee = committee_of(session, review.supplier_ids, review.quarter.dates[1])
        alerts = quarterly_review_alert(quarter=review.quarter.label, channel=committee.channel, locale=locale,
                                        report_path=report_path.name, suppliers=len(review.suppliers))
        keys = record(session, alerts)
        committee_store.add_pack(session, pack=report_pack(
            report=f"review:{review.quarter.label}", title=review_title(review, locale),
            message=message, locale=locale, html_path=report_path,
            slack_channel=committee.channel, emails=committee.emails, alert_key=alerts[0].key))
        return keys
    return runtime.alerts(evaluate)


# --- the jobs ----------------------------------------------------------------------------------


def review_report(runtime: Runtime, request: ReviewRequest, *, steps: StepRunner = run_directly) -> ReviewReport:
    """Build the review and write its report."""
    quarter, as_of = request.resolved(runtime.clock.today())
    review = steps(build, runtime, quarter, as_of)
    return ReviewReport(review, steps(write_report, runtime, review, request.out_dir))


def quarterly_review(runtime: Runtime, request: ReviewRequest, *, steps: StepRunner = run_directly) -> ReviewResult:
    """Build the review, write its report (HTML and PDF) and deliver it to the committee."""
    report = review_report(runtime, request, steps=steps)
    message = review_message(report.review, runtime.settings.locale)
    return ReviewResult(report, steps(raise_alert, runtime, report.review, report.path, message), message)
