"""Bill a supplier's month and close a month for every supplier: the jobs behind ``leadgov billing
statement``, ``leadgov report statement``, the ``monthly_billing`` flow and the demo's 1st of the month.

``bill_statement``: compute and store the next revision of one supplier's statement (claims past
their deadline are moved to overdue first, so the month's credits are known), then raise its alerts
(BILLING_FROZEN, the claims it moved) after the commit.

``close_month``: every supplier with a contract in force on the month's last day, each in turn: its
statement, its HTML report, its alerts. A supplier that fails is reported in the result and the
others are still billed; the caller decides what a failure means (the flow fails at the end).

Money stays ``Decimal`` in every result: doors render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from leadgov.alerts.evaluate import after_statement
from leadgov.alerts.outbox import AlertRun
from leadgov.alerts.rules import StatementFacts
from leadgov.governance import bill_month
from leadgov.reports.statement import write_statement_report
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly
from leadgov.statements import (
    StoredStatement,
    latest_statement,
    month_numbers,
    month_period_of,
    previous_month,
    read_statement,
)
from leadgov.statements import suppliers_to_bill as contracted_on_last_day


@dataclass(frozen=True)
class StatementRequest:
    """One supplier's month (YYYY-MM), computed as of a day (default: the runtime's today)."""

    supplier_id: str
    month: str
    as_of: date | None = None


@dataclass(frozen=True)
class StatementResult:
    """The revision just stored, line by line, and the alerts it raised."""

    statement: StoredStatement
    as_of: date
    alerts: AlertRun


@dataclass(frozen=True)
class CloseMonthRequest:
    """The month to close (default: the month before ``as_of``) and the day it is computed on
    (default: the runtime's today)."""

    month: str | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class SupplierMonth:
    """One supplier's part of a month's closing: its statement, report and alerts, or why not.

    ``error`` says why no statement was stored; ``report_error`` why the stored one has no report."""

    supplier_id: str
    statement: StoredStatement | None = None
    report: Path | None = None
    alerts: AlertRun | None = None
    error: str | None = None
    report_error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or self.report_error is not None


@dataclass(frozen=True)
class CloseMonthResult:
    month: str
    as_of: date
    suppliers: tuple[SupplierMonth, ...]

    @property
    def failed_suppliers(self) -> list[str]:
        return [s.supplier_id for s in self.suppliers if s.failed]


@dataclass(frozen=True)
class StatementReportRequest:
    """The report of the latest revision of a supplier's month; ``out_dir`` default ``<output_dir>/reports``."""

    supplier_id: str
    month: str
    out_dir: Path | None = None


@dataclass(frozen=True)
class StatementReport:
    statement: StoredStatement
    path: Path


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def reports_dir(runtime: Runtime, out_dir: Path | None = None) -> Path:
    """Where reports go: the folder asked for, else ``<output_dir>/reports``."""
    return out_dir or runtime.settings.output_dir / "reports"


# --- the steps ---------------------------------------------------------------------------------


def suppliers_to_bill(runtime: Runtime, month: str) -> list[str]:
    """The suppliers with a stored contract in force on the month's last day, by id."""
    period = month_period_of(month)
    with runtime.sessions() as session:
        return contracted_on_last_day(session, period)


def store_statement(runtime: Runtime, supplier_id: str, month: str, as_of: date) -> StoredStatement:
    """Compute the supplier's month and store it as its next revision, in one transaction (earlier
    revisions are kept: a retry stores one more revision, never a changed one)."""
    year, number = month_numbers(month)
    with runtime.sessions() as session:
        statement = bill_month(session, supplier_id, year, number, runtime.timezone, as_of, by=runtime.actor)
        return read_statement(session, statement.stored)


def write_report(runtime: Runtime, statement: StoredStatement, out_dir: Path | None = None) -> Path:
    """The statement's HTML report (``statement-<supplier>-<month>-r<revision>.html``), in the contract's locale."""
    return write_statement_report(statement, reports_dir(runtime, out_dir), generated_on=runtime.clock.today())


def raise_alerts(runtime: Runtime, statement: StoredStatement, as_of: date) -> AlertRun:
    """BILLING_FROZEN and the overdue claims the statement moved (looked back from ``as_of``, the day
    it was computed on), after its commit; then the outbox is sent."""
    # a recomputed month that stays released (docs/governance-rules.md) is payable: no BILLING_FROZEN
    facts: StatementFacts = {"month": statement.month, "revision": statement.revision,
                             "frozen": not statement.payable, "amount_due_eur": statement.amount_due_eur,
                             "freeze_reasons": list(statement.freeze_reasons), "gross_eur": statement.gross_eur}
    return runtime.alerts(lambda session: after_statement(session, statement.supplier_id, facts, today=as_of))


# --- the jobs ----------------------------------------------------------------------------------


def bill_statement(runtime: Runtime, request: StatementRequest, *,
                   steps: StepRunner = run_directly) -> StatementResult:
    """Store the next revision of the supplier's month, then raise its alerts."""
    month_period_of(request.month)  # a month that is not one is refused before anything is stored
    as_of = request.as_of or runtime.clock.today()
    statement = steps(store_statement, runtime, request.supplier_id, request.month, as_of)
    return StatementResult(statement, as_of, steps(raise_alerts, runtime, statement, as_of))


def close_month(runtime: Runtime, request: CloseMonthRequest, *, steps: StepRunner = run_directly) -> CloseMonthResult:
    """Every supplier's statement of the month, its report and its alerts; a failing supplier is
    reported and the others are billed."""
    as_of = request.as_of or runtime.clock.today()
    month = request.month or previous_month(as_of)
    month_period_of(month)
    done = []
    for supplier_id in steps(suppliers_to_bill, runtime, month):
        try:
            statement = steps(store_statement, runtime, supplier_id, month, as_of)
        except Exception as exc:  # noqa: BLE001 - reported for this supplier; the others go on
            done.append(SupplierMonth(supplier_id, error=_why(exc)))
            continue
        report, report_error = None, None
        try:
            report = steps(write_report, runtime, statement)
        except Exception as exc:  # noqa: BLE001 - the statement is stored; its report is reported missing
            report_error = _why(exc)
        try:
            alerts = steps(raise_alerts, runtime, statement, as_of)
        except Exception as exc:  # noqa: BLE001 - the statement is stored; the next run raises its alerts
            alerts = AlertRun(error=_why(exc))
        done.append(SupplierMonth(supplier_id, statement, report, alerts, report_error=report_error))
    return CloseMonthResult(month, as_of, tuple(done))


def statement_report(runtime: Runtime, request: StatementReportRequest) -> StatementReport:
    """Write the report of the latest revision of the month (``LookupError`` when it was never billed)."""
    month_period_of(request.month)
    with runtime.sessions() as session:
        statement = latest_statement(session, request.supplier_id, request.month)
    return StatementReport(statement, write_report(runtime, statement, request.out_dir))
