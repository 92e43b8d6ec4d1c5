"""Tasks of the weekly checks: each step of ``leadgov.services.weekly`` as its Prefect task, and the
summary artifacts. Listing the suppliers is retried when the database could not be reached; the
check itself reports an evaluation error in its result (the flow fails on it, after publishing)."""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.formatting import counted
from leadgov.reports.artifacts import Table, alerts_line, markdown
from leadgov.services import weekly
from leadgov.services.weekly import WeeklyChecksResult
from leadgov.tasks.common import step_task

suppliers_to_check = step_task(weekly.suppliers_to_check, retry="database")
check_finished_weeks = step_task(weekly.check_weeks, name="check_finished_weeks")


def weekly_markdown(result: WeeklyChecksResult) -> str:
    """The weeks and suppliers checked, the new alerts per type, and the send summary."""
    return markdown(
        f"Weekly checks of {result.as_of.isoformat()}",
        f"Finished weeks checked: {', '.join(result.weeks)}; {counted(len(result.suppliers), 'supplier')} "
        "(every supplier not terminated).",
        Table(("alert", "new"), sorted((str(kind), n) for kind, n in result.count_by_type().items()),
              empty="No new alert."),
        alerts_line(result.alerts),
    )


@task(cache_policy=NO_CACHE)
def publish_weekly_checks(result: WeeklyChecksResult) -> None:
    """The summary, and the table of new alerts (type, supplier, period: never a lead's data)."""
    create_markdown_artifact(weekly_markdown(result), key="weekly-checks-summary",
                             description="Latest weekly checks")
    table = [{"type": str(a.type), "supplier_id": a.supplier_id, "period": a.period} for a in result.raised]
    create_table_artifact(table or [{"type": "(none)", "supplier_id": "", "period": ""}],
                          key="weekly-checks-alerts", description="Alerts raised by the latest weekly checks")
