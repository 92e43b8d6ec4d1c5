"""The weekly checks as a service, on a real database with a pinned clock and no Slack: finished
weeks only, every supplier not terminated, each alert once."""

from datetime import date

import pytest
from factories import ingest, lead, make_contract_file, service_runtime
from sqlalchemy import update

from leadgov.alerts.types import AlertType
from leadgov.errors import Refused
from leadgov.models.db import session_scope
from leadgov.models.supplier import Supplier
from leadgov.periods import finished_weeks
from leadgov.services.weekly import RaisedAlert, WeeklyChecksRequest, weekly_checks

BETA = {"supplier.id": "beta-leads", "supplier.name": "Beta Leads", "contract_id": "BETA-2027-01"}
MISSING_DAYS = [f"day:2027-03-0{d}" for d in range(2, 6)]  # Tuesday to Friday of 2027-W09


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


def test_a_finished_week_below_target_raises_its_alerts_once(db_url):
    ingest(db_url, [lead(i) for i in range(1, 21)])  # Monday 1 March only: 20 leads, target 50

    result = weekly_checks(runtime(db_url, date(2027, 3, 8)), WeeklyChecksRequest())  # Monday: W09 is over

    assert (result.as_of, result.weeks, result.suppliers) == (date(2027, 3, 8), ("2027-W09",), ("acme-leads",))
    assert result.raised == (
        RaisedAlert(AlertType.VOLUME_SHORTFALL, "acme-leads", "2027-W09"),
        RaisedAlert(AlertType.SLA_BREACH, "acme-leads", "2027-W09"),
        *(RaisedAlert(AlertType.DELIVERY_MISSING, "acme-leads", day) for day in MISSING_DAYS))
    assert result.count_by_type() == {AlertType.VOLUME_SHORTFALL: 1, AlertType.SLA_BREACH: 1,
                                      AlertType.DELIVERY_MISSING: 4}
    assert (result.alerts.sent.kept, result.alerts.error) == (6, None)

    again = weekly_checks(runtime(db_url, date(2027, 3, 9)), WeeklyChecksRequest())
    assert again.weeks == ("2027-W09",) and again.alerts.new == ()


def test_a_week_not_finished_by_the_clock_is_not_judged(db_url):
    ingest(db_url, [lead(i) for i in range(1, 21)])
    result = weekly_checks(runtime(db_url, date(2027, 3, 7)), WeeklyChecksRequest())  # Sunday of W09
    assert result.weeks == ("2027-W08",)
    assert [a for a in result.raised if a.period == "2027-W09"] == []
    later = weekly_checks(runtime(db_url, date(2027, 3, 7)), WeeklyChecksRequest(as_of=date(2027, 3, 8)))
    assert RaisedAlert(AlertType.VOLUME_SHORTFALL, "acme-leads", "2027-W09") in later.raised


def test_terminated_suppliers_are_not_checked(db_url):
    ingest(db_url, [lead(i) for i in range(1, 21)])
    ingest(db_url, [lead(100 + i) for i in range(1, 21)], contract=make_contract_file(**BETA), name="beta.csv")
    with session_scope(db_url) as session:
        session.execute(update(Supplier).where(Supplier.id == "acme-leads").values(state="terminated"))

    result = weekly_checks(runtime(db_url, date(2027, 3, 8)), WeeklyChecksRequest())

    assert result.suppliers == ("beta-leads",)
    assert {a.supplier_id for a in result.raised} == {"beta-leads"}


def test_several_finished_weeks(db_url):
    ingest(db_url, [lead(i) for i in range(1, 21)], contract=make_contract_file(**{"period.start": "2027-02-15"}))
    result = weekly_checks(runtime(db_url, date(2027, 3, 10)), WeeklyChecksRequest(weeks=3))
    assert result.weeks == ("2027-W07", "2027-W08", "2027-W09")
    shortfalls = [a.period for a in result.raised if a.type is AlertType.VOLUME_SHORTFALL]
    assert shortfalls == ["2027-W07", "2027-W08", "2027-W09"]


@pytest.mark.parametrize("weeks", [0, 54])
def test_a_number_of_weeks_out_of_range_is_refused(db_url, weeks):
    with pytest.raises(Refused, match=f"weeks {weeks}"):
        weekly_checks(runtime(db_url, date(2027, 3, 8)), WeeklyChecksRequest(weeks=weeks))


def test_finished_weeks_are_the_ones_before_the_week_of_the_check():
    def labels(as_of, weeks):
        return tuple(w.label for w in finished_weeks(as_of, weeks))
    assert labels(date(2027, 3, 8), 1) == ("2027-W09",)   # Monday
    assert labels(date(2027, 3, 14), 1) == ("2027-W09",)  # Sunday of W10
    assert labels(date(2027, 1, 4), 2) == ("2026-W52", "2026-W53")
