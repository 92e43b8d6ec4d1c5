"""Flow: validate one delivery file, store it, write the result and return files."""

from datetime import date

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field

from leadgov.ingest import IngestOutcome
from tasks.deliveries import (
    deduplicate_and_store,
    load_contract_file,
    normalise_leads,
    read_delivery_file,
    receive_file,
    validate_fields,
    write_results,
)


class DeliveryRequest(BaseModel):
    """One delivery to validate against its supplier's contract."""

    contract_path: str = Field(description="The supplier's contract file, e.g. config/contracts/acme-leads.yaml.")
    delivery_path: str = Field(description="The delivered CSV or JSON file.")
    delivered_on: date = Field(description="The day the file was received (never taken from the clock).")
    crm_path: str | None = Field(None, description="The CRM export to check ALREADY_IN_CRM against.")
    out_dir: str = Field("out/deliveries", description="Folder for the result and return files.")
    dry_run: bool = Field(False, description="Validate only: store nothing.")


@flow(name="validate_delivery", flow_run_name="validate {request.delivery_path}", log_prints=False)
def validate_delivery(request: DeliveryRequest) -> dict:
    """Validate one delivery: read, normalise, validate, deduplicate and store, write results.

    Args:
        request: which file, under which contract, received on which day.
    """
    contract = load_contract_file(request.contract_path)
    file = receive_file(request.delivery_path, request.delivered_on)
    raw = read_delivery_file(file, contract)
    normalised = normalise_leads(raw, file, contract)
    checked = validate_fields(normalised, file, contract, request.crm_path)
    outcome = deduplicate_and_store(checked, request.dry_run)
    paths = write_results(outcome, contract, request.out_dir, file.file_name)
    summary = summarise(outcome, contract.contract.supplier.id, file.file_name, paths)
    publish(summary, outcome)
    return summary


def summarise(outcome: IngestOutcome, supplier_id: str, file_name: str, paths: dict[str, str]) -> dict:
    """The run's result as plain data (what the artifacts and callers see)."""
    return {
        "supplier_id": supplier_id, "file": file_name, "delivery_id": outcome.delivery_id,
        "already_ingested": outcome.already_ingested, **outcome.result.counts(),
        "reasons": outcome.result.reason_counts(), **paths,
    }


def publish(summary: dict, outcome: IngestOutcome) -> None:
    """A markdown summary and a per-reason table, under keys stable per supplier."""
    supplier = summary["supplier_id"]
    state = "already ingested, nothing stored again" if summary["already_ingested"] else "stored"
    lines = [
        f"# Delivery {summary['file']} ({supplier})",
        "",
        f"Delivery {summary['delivery_id']}: {state}.",
        "",
        "| delivered | accepted | rejected | over weekly cap |",
        "| --- | --- | --- | --- |",
        f"| {summary['delivered']} | {summary['accepted']} | {summary['rejected']} | {summary['over_cap']} |",
    ]
    create_markdown_artifact("\n".join(lines), key=f"delivery-{supplier}-summary",
                             description="Latest delivery validation")
    table = [{"reason": code, "leads": count} for code, count in summary["reasons"].items()]
    create_table_artifact(table or [{"reason": "(none)", "leads": 0}], key=f"delivery-{supplier}-reasons",
                          description="Rejections per reason of the latest delivery")
