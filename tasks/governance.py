"""Tasks of the governance flows: monthly billing, the quarterly review, and what they share
(migrating the database, dates in the settings' zone, alerts, artifacts).

Each task does one thing, receives paths, ids, months and days, and opens its own session: the
domain functions run in their transaction (``session_scope`` commits), alerts in their own one
afterwards (``evaluate_and_send``), exactly as the command line chains them.
"""

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, wait
from sqlalchemy import func, select

from leadgov.config.contract import parse_contract
from leadgov.config.settings import get_settings
from leadgov.alerts.evaluate import after_statement
from leadgov.alerts.outbox import AlertRun, evaluate_and_send, record
from leadgov.alerts.rules import quarterly_review_alert
from leadgov.governance import bill_month
from leadgov.periods import parse_period
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.migrate import upgrade
from leadgov.models.supplier import ContractVersion, Supplier, contract_version_in_force
from leadgov.reports.review import write_review_report
from leadgov.reports.statement import write_statement_report
from leadgov.tasks.deliveries import database_unreachable

#: The committee channel when no stored contract names one.
DEFAULT_COMMITTEE_CHANNEL = "#lead-governance"
#: Transient file errors worth a retry (a flaky share); a missing or forbidden file is not one.
PERMANENT_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


# --- helpers shared by the flows (plain functions, no I/O) -------------------------------------


def artifact_key(*parts: object) -> str:
    """An artifact key from ``parts``: lowercase letters, digits and dashes only (Prefect's rule)."""
    text = "-".join(str(p) for p in parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


def local_today() -> date:
    """Today in the settings' zone (Europe/Paris by default), not the server's."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def previous_month(day: date) -> str:
    """The calendar month before ``day``'s, as YYYY-MM."""
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def previous_quarter(day: date) -> str:
    """The quarter before ``day``'s, as YYYY-Qn."""
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year - 1:04d}-Q4" if quarter == 1 else f"{day.year:04d}-Q{quarter - 1}"


def transient_io(state) -> bool:
    """Retry when the database was unreachable or a file read failed on the way (never on a
    refused file, a missing file or a bug)."""
    error = state.result(raise_on_failure=False)
    if isinstance(error, OSError) and not isinstance(error, PERMANENT_FILE_ERRORS):
        return True
    return database_unreachable(state)


def collect(futures: list[PrefectFuture]) -> list[tuple[object, str | None]]:
    """Wait for every future; each one's (result, None) or (None, why it did not complete).

    A failed mapped task does not stop its siblings: the flow reports each one and decides.
    """
    wait(futures)
    outcomes = []
    for future in futures:
        state = future.state
        if state.is_completed():
            outcomes.append((future.result(), None))
            continue
        error = future.result(raise_on_failure=False) if state.is_failed() or state.is_crashed() else None
        why = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else (state.message or state.name)
        outcomes.append((None, why))
    return outcomes


def alert_summary(run: AlertRun) -> dict:
    """An alert run as plain data (keys and counts only)."""
    return {"new": list(run.new), "sent": run.sent.sent, "failed": run.sent.failed, "kept": run.sent.kept,
            "error": run.error}


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


# --- shared tasks ------------------------------------------------------------------------------


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def upgrade_database() -> None:
    """Bring the database to the current schema (once per flow run, before any other task)."""
    upgrade(get_settings().effective_database_url)


def _alerts_line(alerts: dict) -> str:
    if alerts.get("error"):
        return f"Alerts: {alerts['error']}."
    return (f"Alerts: {len(alerts['new'])} new; sent {alerts['sent']}, failed {alerts['failed']} "
            f"(kept for the next run), kept in the outbox {alerts['kept']} (Slack not configured).")


# --- monthly billing ---------------------------------------------------------------------------


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def suppliers_to_bill(month: str) -> list[str]:
    """The suppliers with a stored contract in force on the month's last day, by id."""
    period = parse_period(month)
    with session_scope(get_settings().effective_database_url) as session:
        ids = session.scalars(select(ContractVersion.supplier_id).distinct()).all()
        return sorted(s for s in ids if contract_version_in_force(session, s, period.end) is not None)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def bill_supplier_month(supplier_id: str, month: str, as_of: date) -> dict:
    """Compute and store the next revision of the supplier's statement for the month, in one
    transaction; its figures (no lead ids: the report lists them)."""
    settings = get_settings()
    period = parse_period(month)
    with session_scope(settings.effective_database_url) as session:
        data = bill_month(session, supplier_id, period.start.year, period.start.month, settings.timezone,
                          as_of).as_dict()
    keep = ("supplier_id", "month", "revision", "statement_id", "model", "billable_units", "unit_price_eur",
            "fixed_fee_eur", "gross_eur", "cap_excess_eur", "credits_eur", "amount_due_eur", "frozen",
            "freeze_reasons")
    return {key: data[key] for key in keep} | {"credit_lines": len(data["credit_lines"])}


@task(cache_policy=NO_CACHE)
def write_statement(statement: dict) -> str:
    """Write the HTML report of the statement just stored; its path."""
    settings = get_settings()
    with session_scope(settings.effective_database_url) as session:
        path = write_statement_report(session, statement["supplier_id"], statement["month"],
                                      settings.output_dir / "reports")
    return str(path)


@task(cache_policy=NO_CACHE)
def raise_statement_alerts(statement: dict) -> dict:
    """BILLING_FROZEN and the overdue claims the statement moved (after its commit)."""
    settings = get_settings()
    return alert_summary(evaluate_and_send(settings.effective_database_url, settings, lambda session: after_statement(
        session, statement["supplier_id"], statement)))


BILLING_COLUMNS = ("supplier_id", "month", "revision", "billable_units", "gross_eur", "cap_excess_eur",
                   "credits_eur", "amount_due_eur", "frozen")


@task(cache_policy=NO_CACHE)
def publish_billing(month: str, rows: list[dict]) -> dict:
    """A table per supplier (``billing-<supplier>-<yyyy-mm>``), the month's table and a summary.

    ``rows``: per supplier, the statement figures and ``report``, or ``error``.
    """
    lines = [f"# Monthly billing {month}", "",
             "| supplier | revision | units | gross € | cap excess € | credits € | amount due € | frozen | report |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    table = []
    for row in rows:
        if row.get("error"):
            lines.append(f"| {row['supplier_id']} | | | | | | | | error: {row['error']} |")
            table.append({"supplier_id": row["supplier_id"], "month": month, "error": row["error"]})
            continue
        figures = {key: row.get(key) for key in BILLING_COLUMNS} | {"report": row.get("report") or "",
                                                                  "error": row.get("report_error") or ""}
        table.append(figures)
        create_table_artifact([figures], key=artifact_key("billing", row["supplier_id"], month),
                              description=f"Statement of {row['supplier_id']} for {month} (latest revision)")
        lines.append(
            f"| {row['supplier_id']} | {row['revision']} | {row['billable_units']} | {_money(row['gross_eur'])} "
            f"| {_money(row['cap_excess_eur'])} | {_money(row['credits_eur'])} | {_money(row['amount_due_eur'])} "
            f"| {'FROZEN: ' + '; '.join(row['freeze_reasons']) if row['frozen'] else 'no'} "
            f"| {row.get('report') or row.get('report_error') or ''} |")
    if not rows:
        lines.append("| (no supplier with a contract in force) | | | | | | | | |")
    create_markdown_artifact("\n".join(lines), key="monthly-billing-summary",
                             description=f"Latest monthly billing ({month})")
    create_table_artifact(table or [{"supplier_id": "(none)", "month": month}], key="monthly-billing-table",
                          description="Statements of the latest monthly billing, one row per supplier")
    return {"month": month, "statements": rows}


# --- quarterly review --------------------------------------------------------------------------


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def write_quarterly_review(quarter: str, as_of: date) -> dict:
    """Write the cross-supplier review report; its path and the suppliers it covers (id, name, leads)."""
    settings = get_settings()
    period = parse_period(quarter)
    with session_scope(settings.effective_database_url) as session:
        path = write_review_report(session, quarter, settings.timezone, as_of, settings.locale,
                                   settings.output_dir / "reports")
        counts = session.execute(
            select(Lead.supplier_id, Supplier.name, func.count())
            .join(Supplier, Supplier.id == Lead.supplier_id)
            .where(Lead.delivered_on.between(period.start, period.end))
            .group_by(Lead.supplier_id, Supplier.name).order_by(Lead.supplier_id)
        ).all()
    return {"quarter": quarter, "as_of": as_of.isoformat(), "report_path": str(path),
            "suppliers": [{"supplier_id": s, "name": n, "leads_delivered": int(c)} for s, n, c in counts]}


def committee_channel(session, supplier_ids: list[str], day: date) -> str:
    """The committee channel of the first stored contract found (the review's suppliers first)."""
    stored = sorted(set(session.scalars(select(ContractVersion.supplier_id).distinct()).all()))
    for supplier_id in [*supplier_ids, *stored]:
        version = (contract_version_in_force(session, supplier_id, day)
                   or contract_version_in_force(session, supplier_id))
        if version is not None:
            return parse_contract(version.content, version.source_path).contract.alerts.committee_channel
    return DEFAULT_COMMITTEE_CHANNEL


@task(cache_policy=NO_CACHE)
def raise_quarterly_review_alert(review: dict) -> dict:
    """Record the QUARTERLY_REVIEW alert for the committee and send it (once per quarter)."""
    settings = get_settings()
    suppliers = [s["supplier_id"] for s in review["suppliers"]]
    day = parse_period(review["quarter"]).end

    def evaluate(session):
        return record(session, quarterly_review_alert(
            quarter=review["quarter"], channel=committee_channel(session, suppliers, day), locale=settings.locale,
            report_path=review["report_path"], suppliers=len(suppliers)))
    return alert_summary(evaluate_and_send(settings.effective_database_url, settings, evaluate))


@task(cache_policy=NO_CACHE)
def publish_quarterly_review(review: dict, alerts: dict) -> dict:
    """Markdown summary linking the report, and the table of suppliers reviewed."""
    path = Path(review["report_path"])
    lines = [
        f"# Quarterly review {review['quarter']}",
        "",
        f"Figures as of {review['as_of']}, {len(review['suppliers'])} suppliers.",
        "",
        f"Report: [{path.name}]({path.resolve().as_uri()}) (`{path}`)",
        "",
        _alerts_line(alerts),
    ]
    create_markdown_artifact("\n".join(lines), key="quarterly-review-summary",
                             description=f"Latest quarterly review ({review['quarter']})")
    create_table_artifact(review["suppliers"] or [{"supplier_id": "(none)", "name": "", "leads_delivered": 0}],
                          key="quarterly-review-table", description="Suppliers of the latest quarterly review")
    get_run_logger().info("quarterly review %s written to %s", review["quarter"], path)
    return review | {"alerts": alerts}

