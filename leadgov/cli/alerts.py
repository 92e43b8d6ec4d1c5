"""``leadgov alerts``: the outbox of Slack alerts, its sending and the weekly check."""

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from leadgov.config.settings import get_settings
from leadgov.alerts.evaluate import check_finished_weeks
from leadgov.alerts.outbox import evaluate_and_send, send_pending
from leadgov.alerts.slack import SlackSender
from leadgov.cli.common import DbOption, OutputFormat, database_url, out, parse_as_of, print_json, report_alerts, user_errors
from leadgov.models import alert_store
from leadgov.models.db import session_scope
from leadgov.models.supplier import Supplier

alerts_app = typer.Typer(help="Slack alerts: list the outbox, send it, run the weekly check.",
                         invoke_without_command=True)


class AlertStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    status: Annotated[AlertStatus | None, typer.Option(help="Only alerts in this status.")] = None,
    format: Annotated[OutputFormat, typer.Option(help="Output format.")] = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List the alerts raised so far (each stored once, under type|supplier|period)."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors(), session_scope(database_url(db, get_settings())) as session:
        rows = alert_store.list_alerts(session, status.value if status else None)
    if format is OutputFormat.json:
        print_json(rows)
        return
    table = Table("type", "supplier", "period", "figure", "threshold", "channel", "status", "attempts")
    for r in rows:
        table.add_row(r["type"], r["supplier_id"], r["period"], _figure(r["figure"]), _figure(r["threshold"]),
                      r["channel"], r["status"], str(r["attempts"]))
    out.print(table)


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


@alerts_app.command("send")
def alerts_send(db: DbOption = None) -> None:
    """Send what is pending or failed (without Slack settings, alerts stay in the outbox)."""
    settings = get_settings()
    with user_errors():
        summary = send_pending(database_url(db, settings), SlackSender.from_settings(settings))
    out.print(f"sent {summary.sent}, failed {summary.failed} (kept for the next run), "
              f"kept in the outbox {summary.kept} (Slack not configured)")


@alerts_app.command("check")
def alerts_check(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day of the check, YYYY-MM-DD (default: today).")] = None,
    weeks: Annotated[int, typer.Option(help="How many finished ISO weeks to look at.", min=1, max=53)] = 1,
    db: DbOption = None,
) -> None:
    """The weekly check: volumes, SLA and spikes of finished weeks, and missing deliveries."""
    settings = get_settings()
    with user_errors():
        day = parse_as_of(as_of)
        url = database_url(db, settings)
        with session_scope(url) as session:
            suppliers = session.scalars(select(Supplier.id).where(Supplier.state != "terminated")).all()

        def evaluate(session):
            return [key for s in suppliers for key in check_finished_weeks(session, s, day, settings.timezone, weeks)]

        run = evaluate_and_send(url, settings, evaluate)
    out.print(f"checked {len(suppliers)} suppliers as of {day}")
    report_alerts(run)
