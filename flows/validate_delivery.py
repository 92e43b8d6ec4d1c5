"""Flow: validate one delivery file, store it, write the result and return files."""

from datetime import date

from prefect import flow
from pydantic import BaseModel, Field

from leadgov.tasks.deliveries import (
    deduplicate_and_store,
    load_contract_file,
    normalise_leads,
    publish_summary,
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
    return publish_summary(outcome, contract.contract.supplier.id, file.file_name, paths)
