"""``leadgov alerts``: the outbox of Slack alerts, its sending and the weekly check."""

from dataclasses import asdict
from itertools import groupby
from typing import Annotated

import typer

from leadgov.cli.common import (
    DbOption,
    OutputFormat,
    cli_runtime,
    folding_table,
    out,
    parse_as_of,
    print_json,
    report_alerts,
    user_errors,
)
from leadgov.formatting import counted
from leadgov.models.statuses import AlertStatus
from leadgov.services.alerts import StoredAlert, outbox, send_alerts
from leadgov.services.weekly import MAX_WEEKS, WeeklyChecksRequest, weekly_checks

alerts_app = typer.Typer(help="Slack alerts: list the outbox, send it, run the weekly check.",
                         invoke_without_command=True)


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
    print_outbox(rows)


def print_outbox(rows: tuple[StoredAlert, ...]) -> None:
    """One table per supplier (titled with its channels), five short columns: readable in 80 columns.
    The attempts show in the status when a send failed; every field is in ``--format json``."""
    for supplier, group in groupby(sorted(rows, key=lambda r: r.supplier_id), key=lambda r: r.supplier_id):
        entries = list(group)
        channels = sorted({r.channel for r in entries})
        table = folding_table("type", "period", "figure", "threshold", "status",
                              title=f"{supplier} → {', '.join(channels)}")
        for r in entries:
            table.add_row(r.type, r.period, _figure(r.figure), _figure(r.threshold), _status(r))
        out.print(table)
    out.print(counted(len(rows), "alert"))


def _status(entry: StoredAlert) -> str:
    return entry.status if entry.status == "sent" or not entry.attempts else f"{entry.status} ({entry.attempts} tries)"


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


@alerts_app.command("send")
def alerts_send(db: DbOption = None) -> None:
    """Send what is pending or failed (without Slack settings, alerts stay in the outbox)."""
    with user_errors():
        summary = send_alerts(cli_runtime(db))
    out.print(summary.line())


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
    out.print(f"checked {counted(len(result.suppliers), 'supplier')} as of {result.as_of}")
    report_alerts(result.alerts)
