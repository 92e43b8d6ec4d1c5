"""Tasks of the GDPR retention purge: its step (``leadgov.services.gdpr.erase_expired``) as a Prefect
task, retried when the database could not be reached (a retry is safe: erased leads are not counted
again), and the artifacts, which carry counts per supplier and contract version only, never a lead's
data nor even its id."""

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.reports.artifacts import Block, Table, markdown
from leadgov.services import gdpr
from leadgov.services.gdpr import RetentionResult
from leadgov.tasks.common import step_task

purge_expired_leads = step_task(gdpr.erase_expired, retry="database", name="purge_expired_leads")

COLUMNS = ("supplier_id", "contract_id", "contract_version_id", "retention_days", "delivered_before", "leads",
           "deliveries", "outcome_notes")


def _verb(result: RetentionResult) -> str:
    return "would be erased (dry run)" if result.dry_run else "erased"


def retention_markdown(result: RetentionResult) -> str:
    """The totals, a row per contract version, and the versions that could not be read."""
    blocks: list[Block] = [
        f"Personal data of **{result.total('leads')}** leads {_verb(result)}, in {result.total('deliveries')} "
        f"deliveries, and {result.total('outcome_notes')} outcome notes.",
        Table(("supplier", "contract", "version", "retention (days)", "delivered before", "leads", "deliveries",
               "notes"), [tuple(getattr(line, name) for name in COLUMNS) for line in result.lines],
              empty="No delivery stored."),
    ]
    if result.errors:
        blocks.append("\n".join(["Not purged:", *(f"- {error}" for error in result.errors)]))
    return markdown(f"GDPR retention as of {result.as_of.isoformat()}", *blocks)


@task(cache_policy=NO_CACHE)
def publish_retention(result: RetentionResult) -> None:
    """The summary and the table per contract version as artifacts (stable keys), and one log line."""
    create_markdown_artifact(retention_markdown(result), key="gdpr-retention-summary",
                             description=f"Latest GDPR retention purge ({result.as_of.isoformat()})")
    table = [{name: getattr(line, name) for name in COLUMNS} for line in result.lines]
    create_table_artifact(table or [{"supplier_id": "(none)", "leads": 0}], key="gdpr-retention-table",
                          description="Leads erased by the latest retention purge, per contract version")
    get_run_logger().info("retention as of %s: %s leads %s in %s deliveries", result.as_of.isoformat(),
                          result.total("leads"), _verb(result), result.total("deliveries"))
