"""Flow: close a month: every supplier's statement, its report and its alerts (``close_month``, the
same service as the demo's), each step shown as its task; fails at the end if a supplier failed."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.services.billing import CloseMonthRequest, CloseMonthResult, close_month
from leadgov.tasks.billing import publish_billing
from leadgov.tasks.common import as_tasks, open_runtime

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class BillingFailed(RuntimeError):
    """At least one supplier's statement or report could not be made (the others were)."""


@flow(name="monthly_billing", log_prints=False)
def monthly_billing(
    month: Annotated[str | None, Field(pattern=MONTH, description="Calendar month, YYYY-MM (default: the month "
                                                                  "before as_of).")] = None,
    as_of: Annotated[date | None, Field(description="Day the statements are computed on (default: today, in the "
                                                    "settings' time zone).")] = None,
) -> CloseMonthResult:
    """Store a new statement revision per supplier, write its report, raise its alerts.

    Args:
        month: Calendar month, YYYY-MM (default: the month before as_of).
        as_of: Day the statements are computed on (default: today, in the settings' time zone).
    """
    result = close_month(open_runtime(), CloseMonthRequest(month=month, as_of=as_of), steps=as_tasks)
    publish_billing(result)
    if result.failed_suppliers:
        raise BillingFailed(f"billing {result.month} failed for {', '.join(result.failed_suppliers)} "
                            "(the other suppliers were billed)")
    return result
