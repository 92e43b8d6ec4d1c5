"""Flow: every supplier's new files of the inbox, one task run per supplier (in parallel), each file
processed exactly as ``leadgov validate`` and ``leadgov inbox run`` do (the same service)."""

from datetime import date
from pathlib import Path

from prefect import flow, unmapped
from pydantic import BaseModel, Field

from leadgov.config.contract.api import CONTRACTS_DIR
from leadgov.services.inbox import InboxRequest, InboxResult, SupplierInboxResult
from leadgov.tasks.common import collect, open_runtime
from leadgov.tasks.inbox import find_supplier_inboxes, publish_inbox_summary, validate_supplier_inbox


class InboxParameters(BaseModel):
    """Where the suppliers drop their files, their contracts, the CRM export and the output folder."""

    inbox_dir: str | None = Field(
        None, description="Inbox folder with one sub-folder per supplier id holding its new files "
                          "(default: <data_dir>/inbox). Files end in <supplier>/processed/ or <supplier>/refused/.")
    contracts_dir: str | None = Field(
        None, description="Folder of the contracts, one <supplier id>.yaml per supplier (default: config/contracts).")
    crm_path: str | None = Field(
        None, description="The CRM export (default: LEADGOV_CRM_EXPORT); required when a contract has "
                          "exclusions.crm_check, otherwise that supplier fails and its files wait.")
    out_dir: str | None = Field(
        None, description="Folder of the result and return files, under <supplier id>/ "
                          "(default: <output_dir>/deliveries).")
    delivered_on: date | None = Field(
        None, description="The day the files were received (default: each file's modification date, "
                          "in the settings' time zone).")


class InboxFailed(RuntimeError):
    """At least one supplier's inbox could not be processed (the others were)."""


@flow(name="weekly_delivery_validation", log_prints=False)
def weekly_delivery_validation(request: InboxParameters = InboxParameters()) -> dict[str, object]:
    """Validate every supplier's new files in parallel; fail at the end if a supplier errored.

    Args:
        request: the inbox, contracts and output folders, the CRM export, and the day the files were received.
    """
    runtime = open_runtime()
    settings = runtime.settings
    inbox = InboxRequest(
        inbox_dir=Path(request.inbox_dir) if request.inbox_dir else settings.data_dir / "inbox",
        contracts_dir=Path(request.contracts_dir) if request.contracts_dir else CONTRACTS_DIR,
        out_dir=Path(request.out_dir) if request.out_dir else settings.output_dir / "deliveries",
        crm_path=Path(request.crm_path) if request.crm_path else None, delivered_on=request.delivered_on)
    suppliers = find_supplier_inboxes(runtime, inbox)
    futures = validate_supplier_inbox.map(unmapped(runtime), suppliers)
    result = InboxResult(inbox.inbox_dir, tuple(
        done if error is None else SupplierInboxResult(supplier.supplier_id, error=error)
        for supplier, (done, error) in zip(suppliers, collect(list(futures)), strict=True)))
    publish_inbox_summary(result)
    if result.failed_suppliers:
        raise InboxFailed(f"{len(result.failed_suppliers)} supplier inbox(es) failed, their remaining files stay in "
                          f"the inbox: {', '.join(result.failed_suppliers)} (the other suppliers were processed)")
    return {"inbox_dir": str(inbox.inbox_dir), "processed": result.processed, "refused": result.refused,
            "errors": len(result.failed_suppliers), "suppliers": [s.supplier_id for s in result.suppliers],
            "files": [{"supplier_id": f.supplier_id, "file": f.file, "status": f.status.value,
                       "delivery_id": f.delivery.delivery_id if f.delivery else None, "reason": f.reason}
                      for f in result.files]}
