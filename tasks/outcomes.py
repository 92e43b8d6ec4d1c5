"""Tasks of an outcomes import: each step of ``leadgov.services.outcomes`` as its Prefect task, and
the summary artifacts. Retries only where I/O can fail for a while: reading the export from a share
(never a refused or missing file) and storing when the database could not be reached (a retry is
safe: events already stored are recognised as duplicates)."""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.reports.artifacts import Table, alerts_line, markdown
from leadgov.services import outcomes
from leadgov.services.outcomes import OutcomesImportResult
from leadgov.tasks.common import step_task

read_export = step_task(outcomes.read_export, retry="file")
store_outcomes = step_task(outcomes.store_outcomes, retry="database")
raise_outcome_alerts = step_task(outcomes.raise_outcome_alerts)


def outcomes_markdown(result: OutcomesImportResult) -> str:
    """The import's counts and its alerts (counts only: the refusals are in their table)."""
    i = result.imported
    return markdown(
        f"Outcomes import: {result.path.name}",
        Table(("rows", "stored", "duplicated", "refused", "contests", "claims opened", "over the monthly cap"),
              [(i.rows, i.stored, i.duplicated, i.refused, i.contests, i.claims.opened, i.claims.not_owed_cap)]),
        alerts_line(result.alerts),
    )


@task(cache_policy=NO_CACHE)
def publish_outcomes_import(result: OutcomesImportResult) -> None:
    """The summary, and the refusals table (line, rule, message: never a personal value)."""
    create_markdown_artifact(outcomes_markdown(result), key="outcomes-import-summary",
                             description="Latest outcomes import")
    table = [{"line": r.line, "rule": r.rule, "message": r.message} for r in result.imported.refusals]
    create_table_artifact(table or [{"line": None, "rule": "(none)", "message": "no row refused"}],
                          key="outcomes-import-refusals", description="Rows refused by the latest outcomes import")
