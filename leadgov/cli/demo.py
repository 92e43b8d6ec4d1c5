"""``leadgov demo``: the main job on embedded defaults (SQLite, no Prefect server, no Slack)."""

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadgov.cli.common import DbOption, out, user_errors
from leadgov.config.settings import get_settings
from leadgov.formatting import format_money, format_rate
from leadgov.services.alerts import OutboxEntry


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo's files and reports.")] = Path("out/demo"),
    db: DbOption = None,
) -> None:
    """A quarter of lead purchasing from three suppliers: deliveries, outcomes, replacements,
    alerts, statements, pilots and the quarterly review, into a fresh demo database."""
    from leadgov.demo import run_demo

    settings = get_settings()
    url = db or f"sqlite:///{(settings.data_dir / 'demo.db').as_posix()}"
    if db is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (settings.data_dir / f"demo.db{suffix}").unlink(missing_ok=True)
    out.print("[bold]leadgov demo[/bold]: 13 weeks of 2027-Q1 for three suppliers (ACME Leads: behaves; "
              "DataPulse: week-7 spike, late replacements; Prospectia: fails its pilot) ...")
    start = time.perf_counter()
    with user_errors():
        result = run_demo(url, settings, out_dir)
    print_suppliers(result.rows)
    print_alerts(result.alerts)
    out.print("[bold]Reports[/bold] (self-contained HTML, open them in a browser):")
    for path in result.reports:
        out.print(f"  {path}", highlight=False, soft_wrap=True)
    out.print(f"database: {url}\ndone in {time.perf_counter() - start:.0f} s")


def print_suppliers(rows: list[dict]) -> None:
    table = Table("supplier", "files", "refused", "delivered", "accepted", "reject rate", "reachability",
                  "appt. rate", "repl. on time", "billed Q1", "pilot", "decision", "alerts", title="2027-Q1")
    for r in rows:
        table.add_row(r["supplier"], str(r["deliveries"]), str(r["refused_files"]), str(r["delivered"]),
                      str(r["accepted"]), format_rate(r["reject_rate"], "en"), format_rate(r["reachability"], "en"),
                      format_rate(r["appointment_rate"], "en"), format_rate(r["replacement_fill_rate"], "en"),
                      format_money(r["billed_eur"], "en"), r["pilot_verdict"] or "", r["pilot_decision"] or "",
                      str(r["alerts"]))
    out.print(table)


def print_alerts(alerts: tuple[OutboxEntry, ...]) -> None:
    """What would be posted to Slack (alerts stay in the outbox unless Slack is configured)."""
    table = Table("alert", "supplier", "period", "channel", "status", title=f"Alerts ({len(alerts)})")
    for a in alerts:
        table.add_row(a.type, a.supplier_id, a.period, a.channel, a.status)
    out.print(table)
