"""``leadgov validate``, ``contract check``, ``db upgrade`` and ``demo``: the delivery commands."""

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadgov.config.contract import load_contract
from leadgov.config.settings import Settings, get_settings
from leadgov.alerts.evaluate import after_delivery
from leadgov.alerts.outbox import evaluate_and_send
from leadgov.cli.common import DbOption, OutputFormat, Refused, database_url, err, out, report_alerts, user_errors
from leadgov.ingest import DeliveryFile, IngestOutcome, ingest_delivery, read_bounded
from leadgov.results import write_result_file, write_return_file
from leadgov.models.db import session_scope

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
contract_app = typer.Typer(help="Contract files.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database to the current schema."""
    with user_errors():
        url = database_url(db, get_settings())
    out.print(f"database at the current schema: {url.split('@')[-1]}")


@contract_app.command("check")
def contract_check(path: Path) -> None:
    """Validate a contract file and print its main terms."""
    with user_errors():
        contract = load_contract(path).contract
    out.print(f"{path}: contract {contract.contract_id} for {contract.supplier.id} is valid "
              f"({contract.billing.model}, {contract.period.start} → {contract.period.end})")


def validate(
    contract: Annotated[Path, typer.Option(help="The supplier's contract (YAML).")],
    delivery: Annotated[Path, typer.Option(help="The delivered file (CSV or JSON).")],
    delivered_on: Annotated[str, typer.Option(help="Day the file was received, YYYY-MM-DD.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the result CSV.")],
    crm: Annotated[Path | None, typer.Option(help="CRM export (CSV with email, phone).")] = None,
    returns: Annotated[Path | None, typer.Option(help="Also write the supplier's return file here.")] = None,
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option(help="Validate only; store nothing.")] = False,
    format: Annotated[OutputFormat, typer.Option(help="Summary format.")] = OutputFormat.table,
) -> None:
    """Validate one delivery against its contract, store it, and write the result file."""
    settings = get_settings()
    with user_errors():
        outcome, contract_file, url = run_validation(contract, delivery, delivered_on, crm, db, settings, dry_run)
        locale = contract_file.contract.locale
        write_result_file(outcome.result.verdicts, out_path, locale)
        if returns is not None:
            write_return_file(outcome.result.verdicts, returns, locale)
    print_summary(outcome, delivery.name, format, dry_run)
    if not dry_run:
        report_alerts(evaluate_and_send(url, settings, lambda session: after_delivery(
            session, outcome.delivery_id, settings.timezone, date.today())))
    if crm is None and contract_file.contract.exclusions.crm_check and not outcome.already_ingested:
        err.print("warning: the contract asks for a CRM check (exclusions.crm_check) but no --crm "
                  "export was given: ALREADY_IN_CRM was not checked", highlight=False)


def parse_day(text: str) -> date:
    """A YYYY-MM-DD day, or a clear refusal."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"--delivered-on {text!r} is not a date like 2027-03-01") from None


def run_validation(contract_path: Path, delivery_path: Path, delivered_on: str, crm: Path | None,
                   db: str | None, settings: Settings, dry_run: bool):
    """Load, validate and (unless dry run) store a delivery in one transaction."""
    day = parse_day(delivered_on)
    contract_file = load_contract(contract_path)
    for path in (delivery_path, crm):
        if path is not None and not path.is_file():
            raise Refused(f"{path}: no such file")
    file = DeliveryFile.from_path(delivery_path, day, settings.max_file_bytes)
    crm_data = read_bounded(crm, settings.max_file_bytes) if crm is not None else None
    url = database_url(db, settings)
    with session_scope(url) as session:
        outcome = ingest_delivery(session, file, contract_file, settings, crm_data=crm_data, dry_run=dry_run)
        if dry_run:
            session.rollback()
    return outcome, contract_file, url


def print_summary(outcome: IngestOutcome, name: str, format: OutputFormat, dry_run: bool) -> None:
    """Delivered, accepted, rejected per reason: as a table or one JSON object."""
    counts = outcome.result.counts()
    reasons = outcome.result.reason_counts()
    if format is OutputFormat.json:
        out.print_json(json.dumps({
            "file": name, "delivery_id": outcome.delivery_id, "already_ingested": outcome.already_ingested,
            "dry_run": dry_run, **counts, "reasons": reasons,
        }))
        return
    if outcome.already_ingested:
        out.print(f"{name}: already ingested as delivery {outcome.delivery_id}; nothing stored again, "
                  "stored results written unchanged")
    elif dry_run:
        out.print(f"{name}: dry run, nothing stored")
    else:
        out.print(f"{name}: stored as delivery {outcome.delivery_id}")
    table = Table("delivered", "accepted", "rejected", "over weekly cap")
    table.add_row(*(str(counts[k]) for k in ("delivered", "accepted", "rejected", "over_cap")))
    out.print(table)
    if reasons:
        by_reason = Table("reason", "leads")
        for code, count in reasons.items():
            by_reason.add_row(code, str(count))
        out.print(by_reason)
