"""Flow: one delivery file, processed exactly as ``leadgov validate`` does (the same service), each
step shown as its task: receive, already stored?, CRM export, check, store, files, alerts."""

from datetime import date
from pathlib import Path

from prefect import flow
from pydantic import BaseModel, Field

from leadgov.services.deliveries import DeliveryRequest, process_delivery
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.deliveries import publish_delivery


class DeliveryParameters(BaseModel):
    """One delivery to validate against its supplier's contract."""

    contract_path: str = Field(description="The supplier's contract file, e.g. config/contracts/acme-leads.yaml.")
    delivery_path: str = Field(description="The delivered CSV or JSON file.")
    delivered_on: date = Field(description="The day the file was received (never taken from the clock).")
    crm_path: str | None = Field(
        None, description="The CRM export to check ALREADY_IN_CRM against (default: LEADGOV_CRM_EXPORT); "
                          "required when the contract has exclusions.crm_check.")
    out_dir: str = Field("out/deliveries", description="Folder for the result and return files "
                                                       "(<file>.result.csv, <file>.returns.csv).")
    dry_run: bool = Field(False, description="Validate only: store nothing, raise no alert.")

    def request(self) -> DeliveryRequest:
        return DeliveryRequest(
            contract_path=Path(self.contract_path), delivery_path=Path(self.delivery_path),
            delivered_on=self.delivered_on, crm_path=Path(self.crm_path) if self.crm_path else None,
            dry_run=self.dry_run,
        ).with_files_in(Path(self.out_dir))


@flow(name="validate_delivery", flow_run_name="validate {request.delivery_path}", log_prints=False)
def validate_delivery(request: DeliveryParameters) -> dict[str, object]:
    """Validate one delivery: store it once, write the result and return files, raise its alerts.

    Args:
        request: which file, under which contract, received on which day.
    """
    result = process_delivery(open_runtime(), request.request(), steps=as_tasks)
    publish_delivery(result)
    return {"supplier_id": result.supplier_id, "file": result.file_name, "delivery_id": result.delivery_id,
            "already_ingested": result.already_ingested, **vars(result.counts), "reasons": result.reasons,
            "result_file": str(result.result_file), "return_file": str(result.return_file),
            "alerts": list(result.alerts.new)}
