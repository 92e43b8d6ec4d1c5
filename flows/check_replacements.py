"""Flow: the daily replacement check, exactly as ``leadgov replacements check`` does (the same
service): open claims past their deadline go overdue, then REPLACEMENT_OVERDUE alerts."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.services.replacements import ReplacementCheckRequest, ReplacementCheckResult
from leadgov.services.replacements import check_replacements as check_replacements_job
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.replacements import publish_replacements_check


@flow(name="check_replacements", log_prints=False)
def check_replacements(
    as_of: Annotated[date | None, Field(description="Day of the check (default: today, in the settings' time "
                                                    "zone).")] = None,
) -> ReplacementCheckResult:
    """Mark overdue the open claims past their deadline, then raise REPLACEMENT_OVERDUE alerts.

    Args:
        as_of: Day of the check (default: today, in the settings' time zone).
    """
    result = check_replacements_job(open_runtime(), ReplacementCheckRequest(as_of), steps=as_tasks)
    publish_replacements_check(result)
    return result
