"""Flow: the weekly GDPR retention purge: the personal data of leads older than their contract's
``gdpr.retention_days`` is erased (docs/gdpr.md). Its artifacts and logs hold counts per supplier and
contract, never a lead's data nor even its id.

Its tasks live here rather than in ``tasks/``: they are this flow's only ones.
"""

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from leadgov.config.settings import get_settings
from leadgov.gdpr import purge
from leadgov.models.db import session_scope
from leadgov.tasks.deliveries import database_unreachable
from leadgov.tasks.governance import local_today, upgrade_database


class RetentionIncomplete(RuntimeError):
    """Some contract versions could not be read: their leads were not purged (the others were)."""


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def purge_expired_leads(as_of: date, dry_run: bool) -> dict:
    """Erase (or count, on a dry run) in one transaction; a retry is safe: erased leads are not
    counted again. The counts per supplier and contract version."""
    with session_scope(get_settings().effective_database_url) as session:
        return purge(session, as_of, dry_run=dry_run).as_dict()


@task(cache_policy=NO_CACHE)
def publish_retention(summary: dict) -> dict:
    """Markdown summary and a table per contract version: counts only."""
    verb = "would be erased (dry run)" if summary["dry_run"] else "erased"
    lines = [
        f"# GDPR retention as of {summary['as_of']}",
        "",
        f"Personal data of **{summary['leads']}** leads {verb}, in {summary['deliveries']} deliveries, "
        f"and {summary['outcome_notes']} outcome notes.",
        "",
        "| supplier | contract | version | retention (days) | delivered before | leads | deliveries | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {c['supplier_id']} | {c['contract_id']} | {c['contract_version_id']} | {c['retention_days']} "
              f"| {c['delivered_before']} | {c['leads']} | {c['deliveries']} | {c['outcome_notes']} |"
              for c in summary["contracts"]]
    if not summary["contracts"]:
        lines.append("| (no delivery stored) | | | | | | | |")
    if summary["errors"]:
        lines += ["", "Not purged:", *(f"- {error}" for error in summary["errors"])]
    create_markdown_artifact("\n".join(lines), key="gdpr-retention-summary",
                             description=f"Latest GDPR retention purge ({summary['as_of']})")
    table = [{key: c[key] for key in ("supplier_id", "contract_id", "contract_version_id", "retention_days",
                                      "delivered_before", "leads", "deliveries", "outcome_notes")}
             for c in summary["contracts"]]
    create_table_artifact(table or [{"supplier_id": "(none)", "leads": 0}], key="gdpr-retention-table",
                          description="Leads erased by the latest retention purge, per contract version")
    get_run_logger().info("retention as of %s: %s leads %s in %s deliveries", summary["as_of"], summary["leads"],
                          verb, summary["deliveries"])
    return summary


@flow(name="gdpr_retention", log_prints=False)
def gdpr_retention(
    as_of: Annotated[date | None, Field(description="Day the ages are computed on (default: today, in the "
                                                    "settings' time zone).")] = None,
    dry_run: Annotated[bool, Field(description="Count what would be erased; change nothing.")] = False,
) -> dict:
    """Erase the personal data of leads older than their contract's retention, then publish the counts.

    Args:
        as_of: Day the ages are computed on (default: today, in the settings' time zone).
        dry_run: Count what would be erased; change nothing.
    """
    day = as_of or local_today()
    upgrade_database()
    summary = publish_retention(purge_expired_leads(day, dry_run))
    if summary["errors"]:
        raise RetentionIncomplete("; ".join(summary["errors"]))
    return summary
