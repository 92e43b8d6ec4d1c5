"""Flow: the weekly GDPR retention purge, exactly as ``leadgov gdpr purge`` does (the same service):
the personal data of leads older than their contract's ``gdpr.retention_days`` is erased
(docs/gdpr.md). Its artifacts and logs hold counts per supplier and contract, never a lead's data
nor even its id."""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.services.gdpr import PurgeRequest, RetentionResult, purge_expired
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.gdpr import publish_retention


class RetentionIncomplete(RuntimeError):
    """Some contract versions could not be read: their leads were not purged (the others were)."""


@flow(name="gdpr_retention", log_prints=False)
def gdpr_retention(
    as_of: Annotated[date | None, Field(description="Day the ages are computed on (default: today, in the "
                                                    "settings' time zone).")] = None,
    dry_run: Annotated[bool, Field(description="Count what would be erased; change nothing.")] = False,
) -> RetentionResult:
    """Erase the personal data of leads older than their contract's retention, then publish the counts;
    fails (after publishing) when a stored contract version could not be read.

    Args:
        as_of: Day the ages are computed on (default: today, in the settings' time zone).
        dry_run: Count what would be erased; change nothing.
    """
    result = purge_expired(open_runtime(), PurgeRequest(as_of, dry_run), steps=as_tasks)
    publish_retention(result)
    if result.errors:
        raise RetentionIncomplete("; ".join(result.errors))
    return result
