"""Tasks of the inbox flow: the suppliers with new files, one supplier's files (a task run per
supplier, retried only on transient I/O: a file stored before the failure is recognised by its hash
and only filed), and the summary artifacts."""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.formatting import counted
from leadgov.reports.artifacts import Table, markdown
from leadgov.services import inbox
from leadgov.services.inbox import FileStatus, InboxResult
from leadgov.tasks.common import step_task

find_supplier_inboxes = step_task(inbox.supplier_inboxes, retry="file", name="find_supplier_inboxes")
validate_supplier_inbox = step_task(inbox.process_supplier_inbox, retry="io", name="validate_supplier_inbox")

FILE_COLUMNS = ("supplier_id", "file", "status", "delivered_on", "delivery_id", "already_ingested", "delivered",
                "accepted", "rejected", "in_review", "over_cap", "reason")


def inbox_markdown(result: InboxResult) -> str:
    """Per supplier: files processed and refused, leads accepted and rejected, the error if any."""
    rows = []
    for s in result.suppliers:
        processed = [f for f in s.files if f.status is FileStatus.processed and f.delivery]
        rows.append((s.supplier_id, len(processed), sum(f.status is FileStatus.refused for f in s.files),
                     sum(f.delivery.counts.accepted for f in processed if f.delivery),
                     sum(f.delivery.counts.rejected for f in processed if f.delivery), s.error or ""))
    return markdown(
        f"Inbox validation of `{result.inbox_dir}`",
        Table(("supplier", "processed", "refused", "accepted", "rejected", "error"), rows,
              empty="No new file in the inbox."),
        f"{counted(result.processed, 'file')} processed, {result.refused} refused, {result.failed} failed, "
        f"{counted(len(result.failed_suppliers), 'supplier')} in error.",
    )


def file_rows(result: InboxResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for s in result.suppliers:
        for f in s.files:
            d = f.delivery
            rows.append({"supplier_id": f.supplier_id, "file": f.file, "status": f.status.value,
                         "delivered_on": f.delivered_on.isoformat(), "delivery_id": d and d.delivery_id,
                         "already_ingested": d and d.already_ingested, "delivered": d and d.counts.delivered,
                         "accepted": d and d.counts.accepted, "rejected": d and d.counts.rejected,
                         "in_review": d and d.counts.in_review, "over_cap": d and d.counts.over_cap,
                         "reason": f.reason})
        if s.error:
            rows.append(dict.fromkeys(FILE_COLUMNS) | {"supplier_id": s.supplier_id, "status": "error",
                                                       "reason": s.error})
    return rows


@task(cache_policy=NO_CACHE)
def publish_inbox_summary(result: InboxResult) -> None:
    """Markdown summary per supplier and one table row per file (counts and reasons of refusal:
    never a lead's personal data)."""
    create_markdown_artifact(inbox_markdown(result), key="inbox-validation-summary",
                             description="Latest weekly inbox validation")
    create_table_artifact(file_rows(result) or [dict.fromkeys(FILE_COLUMNS) | {"status": "(no new file)"}],
                          key="inbox-validation-table", description="Files of the latest inbox validation")
