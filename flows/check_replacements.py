"""Flow: the daily replacement check: open claims past their deadline go overdue, with alerts."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.tasks.governance import (local_today, mark_overdue_claims, publish_replacements_check, raise_overdue_alerts,
                              upgrade_database)


@flow(name="check_replacements", log_prints=False)
def check_replacements(
    as_of: Annotated[date | None, Field(description="Day of the check (default: today, in the settings' time "
                                                    "zone).")] = None,
) -> dict:
    """Mark overdue the open claims past their deadline, then raise REPLACEMENT_OVERDUE alerts.

    Args:
        as_of: Day of the check (default: today, in the settings' time zone).
    """
    day = as_of or local_today()
    upgrade_database()
    claims = mark_overdue_claims(day)
    alerts = raise_overdue_alerts(day)
    return publish_replacements_check(day, claims, alerts)
