"""Flow: validate the new delivery files of every supplier's inbox folder, one task run per supplier."""

from datetime import date

from prefect import flow, unmapped
from pydantic import BaseModel, Field

from leadgov.tasks.governance import collect, upgrade_database
from leadgov.tasks.inbox import (
    find_supplier_inboxes,
    publish_inbox_summary,
    resolve_contracts_dir,
    resolve_inbox_dir,
    validate_supplier_inbox,
)


class InboxRequest(BaseModel):
    """Where the suppliers drop their files, and where their contracts are."""

    inbox_dir: str | None = Field(
        None, description="Inbox folder with one sub-folder per supplier id holding its new files "
                          "(default: <data_dir>/inbox). Files end in <supplier>/processed/ or <supplier>/refused/.")
    contracts_dir: str | None = Field(
        None, description="Folder of the contracts, one <supplier id>.yaml per supplier (default: config/contracts).")
    delivered_on: date | None = Field(
        None, description="The day the files were received (default: each file's modification date, "
                          "in the settings' time zone).")


class InboxFailed(RuntimeError):
    """At least one supplier's inbox could not be processed (the others were)."""


@flow(name="weekly_delivery_validation", log_prints=False)
def weekly_delivery_validation(request: InboxRequest = InboxRequest()) -> dict:
    """Validate every supplier's new files in parallel; fail at the end if a supplier errored.

    Args:
        request: the inbox and contracts folders, and the day the files were received.
    """
    inbox_dir = resolve_inbox_dir(request.inbox_dir)
    contracts_dir = resolve_contracts_dir(request.contracts_dir)
    upgrade_database()
    suppliers = find_supplier_inboxes(inbox_dir)
    futures = validate_supplier_inbox.map(suppliers, unmapped(inbox_dir), unmapped(contracts_dir),
                                          unmapped(request.delivered_on))
    results = [result if error is None else {"supplier_id": supplier, "error": error, "files": []}
               for supplier, (result, error) in zip(suppliers, collect(list(futures)))]
    summary = publish_inbox_summary(inbox_dir, results)
    failed = [r["supplier_id"] for r in results if r["error"]]
    if failed:
        raise InboxFailed(f"{len(failed)} supplier inbox(es) failed, their remaining files stay in the inbox: "
                          f"{', '.join(failed)} (the other suppliers were processed)")
    return summary
