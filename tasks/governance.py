"""What the gdpr_retention flow still takes from here: today in the settings' zone and migrating the
database. Billing, the quarterly review, the outcomes import and the replacement check moved to their
services (``leadgov.services``) and their tasks (``leadgov.tasks.billing``, ``review``, ``outcomes``,
``replacements``)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from prefect import task
from prefect.cache_policies import NO_CACHE

from leadgov.config.settings import get_settings
from leadgov.services.runtime import build_runtime
from leadgov.tasks.common import database_unreachable


def local_today() -> date:
    """Today in the settings' zone (Europe/Paris by default), not the server's."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def upgrade_database() -> None:
    """Bring the database to the current schema (once per flow run, before any other task): building
    the runtime is the one place that upgrades it."""
    build_runtime()
