"""Reporting periods (ISO week, month, quarter, one delivery, the pilot cohort) as local dates.

Every KPI, statement and alert names its period the same way: ``2027-W09``, ``2027-03``,
``2027-Q1``, ``delivery:42``, ``pilot`` (the supplier's latest pilot) or ``pilot:7`` (pilot 7).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month", "quarter", "delivery", "pilot"]

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_DELIVERY = re.compile(r"^delivery:(\d+)$")
_PILOT = re.compile(r"^pilot:(\d+)$")


class BadPeriod(ValueError):
    """A period label that names no period."""


@dataclass(frozen=True)
class Period:
    """A span of local days, inclusive at both ends (``start``/``end`` are None for delivery and pilot:
    the database says which leads they hold)."""

    kind: PeriodKind
    label: str
    start: date | None = None
    end: date | None = None
    delivery_id: int | None = None
    #: The pilot a ``pilot`` period is about; None: the supplier's latest pilot.
    pilot_id: int | None = None

    def contains(self, day: date) -> bool:
        return self.start is not None and self.end is not None and self.start <= day <= self.end

    @property
    def days(self) -> int | None:
        return None if self.start is None or self.end is None else (self.end - self.start).days + 1

    @property
    def dates(self) -> tuple[date, date]:
        """(start, end) of a dated period (week, month, quarter); a delivery or the pilot has none."""
        if self.start is None or self.end is None:
            raise ValueError(f"the period {self.label} has no dates")
        return self.start, self.end


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period("month", f"{year:04d}-{month:02d}", start, following - timedelta(days=1))


def week_period(year: int, week: int) -> Period:
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadPeriod(f"{year}-W{week:02d} is not an ISO week") from None
    return Period("week", f"{year:04d}-W{week:02d}", start, start + timedelta(days=6))


def week_of(day: date) -> Period:
    year, week, _ = day.isocalendar()
    return week_period(year, week)


def finished_weeks(as_of: date, weeks: int) -> list[Period]:
    """The last ``weeks`` ISO weeks finished before ``as_of``'s own week, oldest first."""
    last, _ = week_of(as_of - timedelta(weeks=1)).dates
    return [week_of(last - timedelta(weeks=back)) for back in range(weeks - 1, -1, -1)]


def month_of(day: date) -> Period:
    return month_period(day.year, day.month)


def months_in(period: Period) -> list[str]:
    """The "YYYY-MM" labels of the calendar months a dated period touches."""
    day, end = period.dates
    months = []
    while day <= end:
        months.append(f"{day:%Y-%m}")
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def parse_period(label: str) -> Period:
    """The period a label names; BadPeriod says which forms are understood."""
    text = label.strip()
    if m := _WEEK.match(text):
        return week_period(int(m[1]), int(m[2]))
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
        return month_period(int(m[1]), int(m[2]))
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        first = month_period(year, 3 * quarter - 2)
        last = month_period(year, 3 * quarter)
        return Period("quarter", f"{year:04d}-Q{quarter}", first.start, last.end)
    if m := _DELIVERY.match(text):
        return Period("delivery", text, delivery_id=int(m[1]))
    if text == "pilot":
        return Period("pilot", "pilot")
    if m := _PILOT.match(text):
        return pilot_period(int(m[1]))
    raise BadPeriod(f"unknown period {label!r}: use 2027-W09, 2027-03, 2027-Q1, delivery:ID, pilot or pilot:ID")


def pilot_period(pilot_id: int) -> Period:
    """The cohort of one pilot (``pilot:7``)."""
    return Period("pilot", f"pilot:{pilot_id}", pilot_id=pilot_id)


EXAMPLES = {"week": "2027-W09", "month": "2027-03", "quarter": "2027-Q1"}


def parse_period_of_kind(label: str, kind: PeriodKind) -> Period:
    """The ``kind`` of period ``label`` names (``2027-03`` for a month...); anything else, another
    kind included, is refused (``BadPeriod``)."""
    try:
        period: Period | None = parse_period(label)
    except BadPeriod:
        period = None
    if period is None or period.kind != kind:
        raise BadPeriod(f"{label!r} is not a {kind} like {EXAMPLES.get(kind, kind)}")
    return period


def local_day_start(day: date, tz: str) -> datetime:
    """00:00 of a local day, as a naive UTC datetime (how timestamps are stored)."""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
