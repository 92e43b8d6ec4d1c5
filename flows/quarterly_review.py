"""Flow: the quarterly cross-supplier review, announced to the committee (the ``quarterly_review``
service, the same as the demo's), each step shown as its task."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.services import review
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.review import publish_quarterly_review

QUARTER = r"^\d{4}-Q[1-4]$"


@flow(name="quarterly_review", log_prints=False)
def quarterly_review(
    quarter: Annotated[str | None, Field(pattern=QUARTER, description="Quarter, e.g. 2027-Q1 (default: the quarter "
                                                                      "before as_of).")] = None,
    as_of: Annotated[date | None, Field(description="Day the figures are computed for (default: today, in the "
                                                    "settings' time zone).")] = None,
) -> review.ReviewResult:
    """Write the review of every supplier that delivered in the quarter and record its alert.

    Args:
        quarter: Quarter, e.g. 2027-Q1 (default: the quarter before as_of).
        as_of: Day the figures are computed for (default: today, in the settings' time zone).
    """
    result = review.quarterly_review(open_runtime(), review.ReviewRequest(quarter=quarter, as_of=as_of),
                                     steps=as_tasks)
    publish_quarterly_review(result)
    return result
