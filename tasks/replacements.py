"""Tasks of the daily replacement check: each step of ``leadgov.services.replacements`` as its
Prefect task, and the summary artifacts. Marking claims overdue is retried when the database could
not be reached (a retry is safe: a claim moved is no longer open)."""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.formatting import counted
from leadgov.reports.artifacts import Table, alerts_line, markdown
from leadgov.services import replacements
from leadgov.services.replacements import ReplacementCheckResult
from leadgov.tasks.common import step_task

reject_past_deadline = step_task(replacements.reject_past_deadline, retry="database",
                                 name="reject_reviews_past_deadline")
mark_overdue_claims = step_task(replacements.mark_overdue, retry="database", name="mark_overdue_claims")
raise_daily_alerts = step_task(replacements.raise_daily_alerts)


def replacements_markdown(result: ReplacementCheckResult) -> str:
    """How many claims went overdue, per supplier, and the alerts."""
    return markdown(
        f"Replacement check of {result.as_of.isoformat()}",
        f"{counted(result.overdue, 'claim')} became overdue. Left in review past their deadline and rejected "
        f"(decided by deadline): {counted(len(result.reviews_rejected), 'lead')}.",
        Table(("supplier", "claims gone overdue"), list(result.by_supplier().items()),
              empty="No supplier has a claim gone overdue."),
        alerts_line(result.alerts),
    )


@task(cache_policy=NO_CACHE)
def publish_replacements_check(result: ReplacementCheckResult) -> None:
    """The summary, and the table of claims moved to overdue (claim, supplier, lead id, days)."""
    create_markdown_artifact(replacements_markdown(result), key="replacements-check-summary",
                             description="Latest daily replacement check")
    table = [{"claim_id": c.claim_id, "supplier_id": c.supplier_id, "lead_id": c.lead_id,
              "due_on": c.due_on.isoformat(), "overdue_on": c.overdue_on.isoformat()} for c in result.claims]
    create_table_artifact(table or [{"claim_id": None, "supplier_id": "(none)", "lead_id": "", "due_on": "",
                                     "overdue_on": ""}],
                          key="replacements-check-table", description="Claims moved to overdue by the latest check")
