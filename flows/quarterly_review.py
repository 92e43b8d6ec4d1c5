"""Flow: the quarterly cross-supplier review report, announced to the committee."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.tasks.governance import (local_today, previous_quarter, publish_quarterly_review, raise_quarterly_review_alert,
                              upgrade_database, write_quarterly_review)

QUARTER = r"^\d{4}-Q[1-4]$"


@flow(name="quarterly_review", log_prints=False)
def quarterly_review(
    quarter: Annotated[str | None, Field(pattern=QUARTER, description="Quarter, e.g. 2027-Q1 (default: the quarter "
                                                                      "before as_of).")] = None,
    as_of: Annotated[date | None, Field(description="Day the figures are computed for (default: today, in the "
                                                    "settings' time zone).")] = None,
) -> dict:
    """Write the review of every supplier that delivered in the quarter and record its alert.

    Args:
        quarter: Quarter, e.g. 2027-Q1 (default: the quarter before as_of).
        as_of: Day the figures are computed for (default: today, in the settings' time zone).
    """
    day = as_of or local_today()
    label = quarter or previous_quarter(day)
    upgrade_database()
    review = write_quarterly_review(label, day)
    alerts = raise_quarterly_review_alert(review)
    return publish_quarterly_review(review, alerts)
