"""Flow: every supplier's new files of the inbox, processed by the same service as ``leadgov inbox run``
(each file exactly as ``leadgov validate`` would), one task run per supplier.

Suppliers are processed one after the other, by id, never in parallel: a person delivered by two
suppliers is accepted from the first one stored and rejected DUPLICATE_OTHER_SUPPLIER from the
other, so the order must be the same whatever the door, and two suppliers validated at once could
otherwise both be accepted (and billed) for the same person."""

from datetime import date
from pathlib import Path

from prefect import flow
from pydantic import BaseModel, Field

from leadgov.services.inbox import InboxRequest, process_inbox
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.inbox import publish_inbox_summary


class InboxParameters(BaseModel):
    """Where the suppliers drop their files, their contracts, the CRM export and the output folder."""

    inbox_dir: str | None = Field(
        None, description="Inbox folder with one sub-folder per supplier id holding its new files "
                          "(default: <data_dir>/inbox). Files end in <supplier>/processed/, <supplier>/refused/ "
                          "or, after an unexpected error, <supplier>/failed/.")
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


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


class InboxFailed(RuntimeError):
    """At least one supplier's inbox could not be processed (the others were)."""


@flow(name="weekly_delivery_validation", log_prints=False)
def weekly_delivery_validation(request: InboxParameters = InboxParameters()) -> dict[str, object]:
    """Validate every supplier's new files, supplier after supplier; fail at the end if a supplier errored.

    Args:
        request: the inbox, contracts and output folders, the CRM export, and the day the files were received.
    """
    runtime = open_runtime()
    inbox = InboxRequest.with_defaults(
        runtime.settings, inbox_dir=_path(request.inbox_dir), contracts_dir=_path(request.contracts_dir),
        out_dir=_path(request.out_dir), crm_path=_path(request.crm_path), delivered_on=request.delivered_on)
    result = process_inbox(runtime, inbox, steps=as_tasks)
    publish_inbox_summary(result)
    if result.failed_suppliers:
        raise InboxFailed(f"{len(result.failed_suppliers)} supplier inbox(es) failed, their remaining files stay in "
                          f"the inbox: {', '.join(result.failed_suppliers)} (the other suppliers were processed)")
    if result.failed:
        raise InboxFailed(f"{result.failed} file(s) set aside in <supplier>/failed/ by an unexpected error (the other "
                          "files were processed): see their .reason.txt")
    return {"inbox_dir": str(inbox.inbox_dir), "processed": result.processed, "refused": result.refused,
            "failed": result.failed,
            "errors": len(result.failed_suppliers), "suppliers": [s.supplier_id for s in result.suppliers],
            "files": [{"supplier_id": f.supplier_id, "file": f.file, "status": f.status.value,
                       "delivery_id": f.delivery.delivery_id if f.delivery else None, "reason": f.reason}
                      for f in result.files]}
