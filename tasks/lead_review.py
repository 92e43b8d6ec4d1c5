"""Tasks of the review tier: each step of ``leadgov.services.lead_review`` as its Prefect task, and the
artifacts a reviewer reads (lead ids, reasons and the fields they concern, never a name, an email or a
phone). Reading the waiting leads is retried when the database could not be reached; storing a decision
is not (a lead decided is refused the second time anyway)."""

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.formatting import counted
from leadgov.reports.artifacts import Table, markdown
from leadgov.services import lead_review
from leadgov.services.lead_review import ReviewDecisionResult, ReviewList
from leadgov.tasks.common import artifact_key, step_task

read_reviews = step_task(lead_review.list_reviews, retry="database", name="read_reviews")
store_review_decisions = step_task(lead_review.store_decisions, name="store_review_decisions")


def review_key(supplier_id: str | None, what: str) -> str:
    """``review-leads-<supplier or all>-<what>``."""
    return artifact_key("review-leads", supplier_id or "all", what)


def waiting_markdown(listed: ReviewList) -> str:
    """The leads waiting for a decision, oldest first: what their reasons concern, and the days left."""
    rows = [(x.supplier_id, x.lead_id or "", x.delivered_on.isoformat(), f"{x.due_on.isoformat()} ({x.days_left} d)",
             ", ".join(x.reasons), x.details, x.company_name or "", x.job_title or "", x.email_domain or "")
            for x in listed.leads]
    return markdown(
        f"Leads in review on {listed.as_of.isoformat()}",
        f"{counted(len(listed.leads), 'lead')} waiting for a decision. Past its last day, the daily check rejects a "
        "lead (decided by deadline).",
        Table(("supplier", "lead", "delivered", "decide by", "reasons", "details", "company", "job title",
               "email domain"), rows, empty="No lead waits for a decision."),
        "Decide below: **accept** bills the lead on the statement of this month; **reject** opens its "
        "replacement claim today. Name the leads by their lead id, one decision for all of them.",
    )


@task(cache_policy=NO_CACHE)
def publish_waiting(listed: ReviewList, supplier_id: str | None) -> str:
    """The waiting leads as a markdown artifact; returns the markdown (shown again above the form)."""
    text = waiting_markdown(listed)
    create_markdown_artifact(text, key=review_key(supplier_id, "waiting"), description="Leads in review")
    return text


@task(cache_policy=NO_CACHE)
def publish_review_decision(result: ReviewDecisionResult) -> None:
    """The decision just stored (key ``...-accept`` or ``...-reject``): on which leads, by whom, when, and
    the claims it opened or filled."""
    create_markdown_artifact(
        markdown(f"Review decision for {result.supplier_id}: **{result.decision}**",
                 f"{counted(result.decided, 'lead')} ({', '.join(x.lead_id for x in result.leads)}) decided by "
                 f"{result.decided_by} on {result.decided_on.isoformat()}.",
                 f"Comment: {result.comment}",
                 f"Claims opened: {result.claims.opened} (not owed, over the monthly cap: "
                 f"{result.claims.not_owed_cap}); claims filled: {result.claims.filled}."),
        key=review_key(result.supplier_id, result.decision), description="Review decision")


@task(cache_policy=NO_CACHE)
def publish_no_review_decision(supplier_id: str | None, message: str) -> None:
    """Nobody decided in time: nothing stored."""
    create_markdown_artifact(markdown("Leads in review: no decision taken", message),
                             key=review_key(supplier_id, "decision"), description="No decision taken")
