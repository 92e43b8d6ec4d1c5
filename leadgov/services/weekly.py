"""The weekly checks: the job behind ``leadgov alerts check``, the ``weekly_checks`` flow (Mondays)
and the demo's Mondays.

Steps, in this order (``weekly_checks``): the suppliers to check (every supplier not terminated);
then, in one transaction after which the outbox is sent, the rules that wait for a week to finish
(VOLUME_SHORTFALL, VOLUME_EXCESS, SLA_BREACH, the week's REJECTION_SPIKE and DUPLICATE_SURGE) on the
last ``weeks`` finished ISO weeks before the day of the check, and DELIVERY_MISSING for the expected
delivery days of those weeks that brought nothing. Every alert is stored once under its key, so a
rerun raises nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from leadgov.alerts.evaluate import check_finished_weeks
from leadgov.alerts.outbox import AlertRun
from leadgov.alerts.types import AlertType
from leadgov.errors import Refused
from leadgov.models.supplier import not_terminated_supplier_ids
from leadgov.periods import finished_weeks
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly

#: At most a year of finished weeks per check.
MAX_WEEKS = 53


@dataclass(frozen=True)
class WeeklyChecksRequest:
    #: The day of the check; default today (the runtime's clock, in the settings' time zone).
    as_of: date | None = None
    #: How many finished ISO weeks (the last ones before ``as_of``'s week) are checked.
    weeks: int = 1


@dataclass(frozen=True)
class RaisedAlert:
    """A new alert of the check: its type, supplier and period (its key: ``type|supplier|period``)."""

    type: AlertType
    supplier_id: str
    period: str

    @classmethod
    def from_key(cls, key: str) -> RaisedAlert:
        kind, supplier_id, period = key.split("|", 2)
        return cls(AlertType(kind), supplier_id, period)


@dataclass(frozen=True)
class WeeklyChecksResult:
    as_of: date
    #: The ISO weeks checked (e.g. ``2027-W09``), oldest first.
    weeks: tuple[str, ...]
    #: The suppliers checked (not terminated), by id.
    suppliers: tuple[str, ...]
    alerts: AlertRun

    @property
    def raised(self) -> tuple[RaisedAlert, ...]:
        """The new alerts, in the order they were stored."""
        return tuple(RaisedAlert.from_key(key) for key in self.alerts.new)

    def count_by_type(self) -> dict[AlertType, int]:
        return dict(Counter(alert.type for alert in self.raised))


# --- the steps ---------------------------------------------------------------------------------


def suppliers_to_check(runtime: Runtime) -> tuple[str, ...]:
    """Every supplier not terminated, by id."""
    with runtime.sessions() as session:
        return tuple(not_terminated_supplier_ids(session))


def check_weeks(runtime: Runtime, supplier_ids: tuple[str, ...], as_of: date, weeks: int) -> AlertRun:
    """The finished weeks' rules and the missing deliveries of every supplier, in one transaction,
    then the outbox is sent. An evaluation that fails is reported in the ``AlertRun``."""
    return runtime.alerts(lambda session: [key for supplier_id in supplier_ids for key in check_finished_weeks(
        session, supplier_id, as_of, runtime.timezone, weeks)])


# --- the job -----------------------------------------------------------------------------------


def weekly_checks(runtime: Runtime, request: WeeklyChecksRequest, *,
                  steps: StepRunner = run_directly) -> WeeklyChecksResult:
    """Check the last finished weeks of every supplier not terminated and raise their alerts."""
    if not 1 <= request.weeks <= MAX_WEEKS:
        raise Refused(f"weeks {request.weeks}: check from 1 to {MAX_WEEKS} finished weeks")
    as_of = request.as_of or runtime.clock.today()
    suppliers = steps(suppliers_to_check, runtime)
    alerts = steps(check_weeks, runtime, suppliers, as_of, request.weeks)
    return WeeklyChecksResult(as_of, tuple(w.label for w in finished_weeks(as_of, request.weeks)), suppliers, alerts)
