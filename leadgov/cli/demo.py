"""``leadgov demo``: the main job on embedded defaults (SQLite, no Prefect server, no Slack)."""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadgov.cli.common import DbOption, folding_table, out, user_errors
from leadgov.config.settings import get_settings
from leadgov.csv_out import write_records_file
from leadgov.formatting import format_money, format_rate
from leadgov.private_files import private_dir
from leadgov.services.alerts import StoredAlert

if TYPE_CHECKING:
    from leadgov.demo import DemoResult


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
        private_dir(settings.data_dir)
        for suffix in ("", "-wal", "-shm"):
            (settings.data_dir / f"demo.db{suffix}").unlink(missing_ok=True)
    out.print("[bold]leadgov demo[/bold]: 13 weeks of 2027-Q1, three suppliers (ACME Leads: behaves; "
              "DataPulse: week-7 spike, review queue; Prospectia: pilot fails on consent) ...")
    start = time.perf_counter()
    with user_errors():
        result = run_demo(url, settings, out_dir)
    print_suppliers(result.rows)
    print_alerts(result.alerts)
    out.print("[bold]Full tables[/bold] (CSV):")
    for path in write_tables(result, out_dir):
        out.print(f"  {path}", highlight=False, soft_wrap=True)
    out.print("[bold]Reports[/bold] (self-contained HTML, open them in a browser):")
    for path in result.reports:
        out.print(f"  {path}", highlight=False, soft_wrap=True)
    out.print(f"database: {url}\ndone in {time.perf_counter() - start:.0f} s")


#: The summary's figures, one line each (label, how to print the value); the suppliers are the columns,
#: so the table keeps four short columns in an 80-column terminal. summary.csv holds the raw values.
FIGURES: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("deliveries", "files stored", str),
    ("refused_files", "files refused", str),
    ("delivered", "leads delivered", str),
    ("accepted", "leads accepted", str),
    ("reject_rate", "reject rate", lambda v: format_rate(v, "en")),
    ("reachability", "reachability", lambda v: format_rate(v, "en")),
    ("appointment_rate", "appointment rate", lambda v: format_rate(v, "en")),
    ("replacement_fill_rate", "replaced on time", lambda v: format_rate(v, "en")),
    ("billed_eur", "billed Q1", lambda v: format_money(v, "en")),
    ("review_accepted", "review: accepted", str),
    ("review_rejected", "review: rejected", str),
    ("pilot_verdict", "pilot verdict", lambda v: v or ""),
    ("pilot_decision", "pilot decision", lambda v: v or ""),
    ("alerts", "alerts", str),
)
SUMMARY_COLUMNS = ("supplier", *(key for key, _, _ in FIGURES))
ALERT_COLUMNS = ("id", "type", "supplier_id", "period", "figure", "threshold", "channel", "status", "attempts",
                 "created_at", "sent_at")


def print_suppliers(rows: list[dict[str, Any]]) -> None:
    """The quarter per supplier: one row per figure, one column per supplier."""
    table = folding_table("", *(str(r["supplier"]) for r in rows), title="2027-Q1")
    for column in table.columns[1:]:
        column.justify = "right"
    for key, label, shown in FIGURES:
        table.add_row(label, *(shown(r[key]) for r in rows))
    out.print(table)


def print_alerts(alerts: tuple[StoredAlert, ...]) -> None:
    """What would be posted to Slack (alerts stay in the outbox unless Slack is configured), counted
    per type and supplier with their statuses; each alert is a line of alerts.csv."""
    table = folding_table("alert", "supplier", "count", "status", title=f"Alerts ({len(alerts)})")
    table.columns[2].justify = "right"
    groups = Counter((a.type, a.supplier_id) for a in alerts)
    for (kind, supplier), count in sorted(groups.items()):
        statuses = Counter(a.status for a in alerts if (a.type, a.supplier_id) == (kind, supplier))
        table.add_row(kind, supplier, str(count), ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())))
    out.print(table)


def write_tables(result: "DemoResult", out_dir: Path) -> list[Path]:
    """summary.csv (one line per supplier, every figure of the summary) and alerts.csv (one line per
    alert: no personal data, alerts hold none) in the demo's folder."""
    return [write_records_file(out_dir / "summary.csv", SUMMARY_COLUMNS, result.rows),
            write_records_file(out_dir / "alerts.csv", ALERT_COLUMNS, (asdict(a) for a in result.alerts))]
