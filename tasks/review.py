"""Tasks of the quarterly review: each step of ``leadgov.services.review`` as its Prefect task, and
the review's artifacts. Building the review only reads: it is retried when the database could not
be reached."""

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.formatting import counted
from leadgov.reports.artifacts import alerts_line, markdown
from leadgov.services import review
from leadgov.services.review import ReviewResult
from leadgov.tasks.common import step_task

build_quarterly_review = step_task(review.build, retry="database", name="build_quarterly_review")
write_quarterly_review = step_task(review.write_report, name="write_quarterly_review")
raise_quarterly_review_alert = step_task(review.raise_alert, name="raise_quarterly_review_alert")


def review_markdown(result: ReviewResult) -> str:
    """The quarter, how many suppliers, the report's files, the committee's message and the alert."""
    html = result.report_path
    pdf = html.with_suffix(".pdf")
    return markdown(
        f"Quarterly review {result.quarter}",
        f"Figures as of {result.as_of.isoformat()}, {counted(len(result.suppliers), 'supplier')}.",
        f"Report: [{html.name}]({html.resolve().as_uri()}) · [{pdf.name}]({pdf.resolve().as_uri()}) (`{html.parent}`)",
        "Delivered to the committee (Slack channel and e-mails) with this message:",
        "\n".join(f"> {line}" for line in result.message.splitlines()),
        alerts_line(result.alerts),
    )


@task(cache_policy=NO_CACHE)
def publish_quarterly_review(result: ReviewResult) -> None:
    """Markdown summary linking the report, and the table of suppliers reviewed."""
    suppliers = [{"supplier_id": s.supplier_id, "name": s.name, "leads_delivered": s.leads_delivered}
                 for s in result.suppliers]
    create_markdown_artifact(review_markdown(result), key="quarterly-review-summary",
                             description=f"Latest quarterly review ({result.quarter})")
    create_table_artifact(suppliers or [{"supplier_id": "(none)", "name": "", "leads_delivered": 0}],
                          key="quarterly-review-table", description="Suppliers of the latest quarterly review")
    get_run_logger().info("quarterly review %s written to %s", result.quarter, result.report_path)
