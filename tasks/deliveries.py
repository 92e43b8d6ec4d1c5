"""Tasks of a delivery: each step of ``leadgov.services.deliveries`` as its Prefect task, and the
summary artifacts. Retries only where I/O can fail for a while: reading the files from a share
(never a refused or missing file) and storing when the database could not be reached (a retry is
safe: a committed delivery is recognised by its hash)."""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.reports.artifacts import Table, alerts_line, markdown
from leadgov.services import deliveries
from leadgov.services.deliveries import DeliveryResult
from leadgov.tasks.common import artifact_key, step_task

receive_file = step_task(deliveries.receive, retry="file", name="receive_file")
find_stored_delivery = step_task(deliveries.find_stored, retry="database", name="find_stored_delivery")
read_crm_export = step_task(deliveries.read_crm, retry="file", name="read_crm_export")
check_fields = step_task(deliveries.check, name="check_fields")
deduplicate_and_store = step_task(deliveries.store, retry="database", name="deduplicate_and_store")
write_result_files = step_task(deliveries.write_files, name="write_result_files")
raise_delivery_alerts = step_task(deliveries.raise_alerts, name="raise_delivery_alerts")


def delivery_markdown(result: DeliveryResult) -> str:
    """The delivery's summary: counts, reasons, files and alerts (never a lead's personal data)."""
    c = result.counts
    state = ("already ingested, nothing stored again" if result.already_ingested
             else "dry run, nothing stored" if result.dry_run else "stored")
    return markdown(
        f"Delivery {result.file_name} ({result.supplier_id})",
        f"Delivery {result.delivery_id}: {state}. Received on {result.delivered_on.isoformat()}; "
        f"CRM export checked: {'yes' if result.crm_checked else 'no'}.",
        Table(("delivered", "accepted", "rejected", "in review", "over weekly cap"),
              [(c.delivered, c.accepted, c.rejected, c.in_review, c.over_cap)]),
        Table(("reason", "leads"), sorted(result.reasons.items()), empty="No lead rejected."),
        f"Result file: {result.result_file or '(none)'}; return file: {result.return_file or '(none)'}.",
        alerts_line(result.alerts),
    )


@task(cache_policy=NO_CACHE)
def publish_delivery(result: DeliveryResult) -> None:
    """The summary and the per-reason table as artifacts, keys stable per supplier."""
    create_markdown_artifact(delivery_markdown(result), key=artifact_key("delivery", result.supplier_id, "summary"),
                             description="Latest delivery validation")
    table = [{"reason": code, "leads": count} for code, count in sorted(result.reasons.items())]
    create_table_artifact(table or [{"reason": "(none)", "leads": 0}],
                          key=artifact_key("delivery", result.supplier_id, "reasons"),
                          description="Rejections per reason of the latest delivery")
