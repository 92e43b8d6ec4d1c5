"""``leadgov alerts``: the outbox of Slack alerts, its sending and the weekly check."""

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from leadgov.cli.common import (
    DbOption,
    OutputFormat,
    cli_runtime,
    out,
    parse_as_of,
    print_json,
    report_alerts,
    user_errors,
)
from leadgov.services.alerts import outbox, send_alerts
from leadgov.services.weekly import MAX_WEEKS, WeeklyChecksRequest, weekly_checks

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
    with user_errors():
        rows = outbox(cli_runtime(db), status.value if status else None)
    if format is OutputFormat.json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("type", "supplier", "period", "figure", "threshold", "channel", "status", "attempts")
    for r in rows:
        table.add_row(r.type, r.supplier_id, r.period, _figure(r.figure), _figure(r.threshold), r.channel, r.status,
                      str(r.attempts))
    out.print(table)


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


@alerts_app.command("send")
def alerts_send(db: DbOption = None) -> None:
    """Send what is pending or failed (without Slack settings, alerts stay in the outbox)."""
    with user_errors():
        summary = send_alerts(cli_runtime(db))
    out.print(f"sent {summary.sent}, failed {summary.failed} (kept for the next run), "
              f"kept in the outbox {summary.kept} (Slack not configured)")


@alerts_app.command("check")
def alerts_check(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day of the check, YYYY-MM-DD (default: today).")] = None,
    weeks: Annotated[int, typer.Option(help="How many finished ISO weeks to look at.", min=1, max=MAX_WEEKS)] = 1,
    db: DbOption = None,
) -> None:
    """The weekly check: volumes, SLA and spikes of finished weeks, and missing deliveries."""
    with user_errors():
        request = WeeklyChecksRequest(parse_as_of(as_of), weeks)
        result = weekly_checks(cli_runtime(db), request)
    out.print(f"checked {len(result.suppliers)} suppliers as of {result.as_of}")
    report_alerts(result.alerts)
