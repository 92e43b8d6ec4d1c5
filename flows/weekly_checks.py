"""Flow: the weekly checks, exactly as ``leadgov alerts check`` does (the same service): the rules
of the last finished ISO weeks (volumes, SLA, spikes) and the missing deliveries of every supplier
not terminated. Scheduled on Monday mornings, when last week has just finished."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.services.weekly import MAX_WEEKS, WeeklyChecksRequest, WeeklyChecksResult
from leadgov.services.weekly import weekly_checks as weekly_checks_job
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.weekly import publish_weekly_checks


class WeeklyChecksFailed(RuntimeError):
    """The alerts of the check could not be evaluated (published first; rerun the flow)."""


@flow(name="weekly_checks", log_prints=False)
def weekly_checks(
    as_of: Annotated[date | None, Field(description="Day of the check: the finished weeks are the ones before "
                                                    "this day's ISO week (default: today, in the settings' time "
                                                    "zone).")] = None,
    weeks: Annotated[int, Field(ge=1, le=MAX_WEEKS, description="How many finished ISO weeks to check, "
                                                                 "counting back from last week "
                                                                 "(1: last week only).")] = 1,
) -> WeeklyChecksResult:
    """Check the finished weeks of every supplier not terminated and raise their alerts; fails
    (after publishing) when the alerts could not be evaluated, since the next run checks later weeks.

    Args:
        as_of: Day of the check (default: today, in the settings' time zone).
        weeks: How many finished ISO weeks to check.
    """
    result = weekly_checks_job(open_runtime(), WeeklyChecksRequest(as_of, weeks), steps=as_tasks)
    publish_weekly_checks(result)
    if result.alerts.error:
        raise WeeklyChecksFailed(result.alerts.error)
    return result
