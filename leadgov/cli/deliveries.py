"""``leadgov validate``, ``contract check``, ``db upgrade`` and ``demo``: the delivery commands."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from leadgov.cli.common import (
    DbOption,
    OutputFormat,
    cli_runtime,
    err,
    folding_table,
    out,
    parse_day,
    report_alerts,
    user_errors,
)
from leadgov.config.contract import load_contract
from leadgov.services.deliveries import DeliveryRequest, DeliveryResult, ResultFilesNotWritten, process_delivery

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
contract_app = typer.Typer(help="Contract files.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database to the current schema."""
    with user_errors():
        url = cli_runtime(db).database_url
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
    crm: Annotated[Path | None, typer.Option(help="CRM export (CSV with email, phone); default "
                                                  "LEADGOV_CRM_EXPORT. Required by contracts with crm_check.")] = None,
    returns: Annotated[Path | None, typer.Option(help="Also write the supplier's return file here.")] = None,
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option(help="Validate only; store nothing.")] = False,
    format: Annotated[OutputFormat, typer.Option(help="Summary format.")] = OutputFormat.table,
) -> None:
    """Validate one delivery against its contract, store it, write the result file and raise the alerts."""
    with user_errors():
        day = parse_day(delivered_on, "--delivered-on")
        request = DeliveryRequest(contract_path=contract, delivery_path=delivery, delivered_on=day,
                                  crm_path=crm, result_file=out_path, return_file=returns, dry_run=dry_run)
        try:
            result = process_delivery(cli_runtime(db), request)
        except ResultFilesNotWritten as exc:  # stored, alerts evaluated: exit 1, a rerun writes the files
            print_summary(exc.result, format)
            report_alerts(exc.result.alerts)
            err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    print_summary(result, format)
    report_alerts(result.alerts)


def print_summary(result: DeliveryResult, format: OutputFormat) -> None:
    """Delivered, accepted, rejected per reason: as a table or one JSON object."""
    counts = asdict(result.counts)
    name = result.file_name
    if format is OutputFormat.json:
        out.print_json(json.dumps({
            "file": name, "delivery_id": result.delivery_id, "already_ingested": result.already_ingested,
            "dry_run": result.dry_run, **counts, "reasons": result.reasons,
        }))
        return
    if result.already_ingested:
        out.print(f"{name}: already ingested as delivery {result.delivery_id}; nothing stored again, "
                  "stored results written unchanged")
    elif result.dry_run:
        out.print(f"{name}: dry run, nothing stored")
    else:
        out.print(f"{name}: stored as delivery {result.delivery_id}")
    table = folding_table("delivered", "accepted", "rejected", "in review", "over weekly cap")
    table.add_row(*(str(counts[k]) for k in ("delivered", "accepted", "rejected", "in_review", "over_cap")))
    out.print(table)
    if result.reasons:
        by_reason = folding_table("reason", "leads")
        for code, count in result.reasons.items():
            by_reason.add_row(code, str(count))
        out.print(by_reason)
