"""The value types of contract keys: each carries its own check, so every field says what it accepts."""

from __future__ import annotations

import re
import typing
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from leadgov.config.contract.wording import _show
from leadgov.fields import CANONICAL_FIELDS as CANONICAL_FIELDS  # re-exported
from leadgov.fields import CanonicalField as CanonicalField  # re-exported
from leadgov.reasons import REVIEWABLE_REASONS, ContestReason, RejectionReason

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = typing.get_args(Weekday)


def _refuse(kind: str, message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose message is shown to the contract's author as is."""
    return PydanticCustomError(f"contract_{kind}", message, context)


def _as_date(value: Any) -> Any:
    """Accept a YAML date or an ISO ``YYYY-MM-DD`` string; refuse datetimes and numbers
    (pydantic would read ``20270101`` as a Unix timestamp)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _refuse("date", "must be a date written YYYY-MM-DD, got {got}", got=_show(value))


def _distinct(values: list[Any]) -> list[Any]:
    """Drop repeated entries, keeping the first: a code listed twice means the same thing."""
    return list(dict.fromkeys(values))


def _code_of(enum_cls: type[Enum], noun: str) -> BeforeValidator:
    """The check of a field accepting exactly the values of ``enum_cls``, whose error lists them all."""
    allowed = [member.value for member in enum_cls]

    def check(value: Any) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        raise _refuse(
            "code",
            "unknown {noun} {got} (allowed: {allowed})",
            noun=noun,
            got=_show(value),
            allowed=", ".join(allowed),
        )

    return BeforeValidator(check)


def _review_code(value: Any) -> Any:
    """A reason the review tier may hold (``REVIEWABLE_REASONS``): another known reason code is
    refused as such, an unknown text as unknown; both errors list the allowed codes."""
    if isinstance(value, str) and value in REVIEWABLE_REASONS:
        return value
    known = isinstance(value, str) and value in RejectionReason.__members__
    raise _refuse(
        "code",
        "{got} {what} (allowed: {allowed})",
        got=_show(value),
        what="cannot be reviewed: a person may only judge the targeting, contact, freshness and source reasons"
        if known else "is not a reason code the review tier knows",
        allowed=", ".join(REVIEWABLE_REASONS),
    )


def _text(*, upper: bool = False, lower: bool = False, max_length: int | None = None) -> StringConstraints:
    """Non-empty trimmed text (after optional case folding), of at most ``max_length`` characters."""
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, to_upper=upper, to_lower=lower
    )


def _matching(pattern: str, explanation: str) -> AfterValidator:
    """The check of a text matching ``pattern`` (after the case folding of its constraints)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _refuse("format", "must be {what}, got {got}", what=explanation, got=_show(value))
        return value

    return AfterValidator(check)


# --- bounds: every number and date a contract holds fits the calendar and the database ---------
#
# A contract that passes ``leadgov contract check`` must never fail later: a window of millions of
# days moves a date out of the calendar, an infinite price cannot be billed, a price times a month's
# leads must fit the database's money columns (NUMERIC(14, 2) in models/billing.py). So every number
# has a finite range a careful buyer will never need to exceed (docs/contract-reference.md, Bounds).

#: Durations (windows, deadlines, retention, notice): ten years at most.
MAX_DAYS = 3650
#: The same ten years, for the keys counted in months and in hours.
MAX_MONTHS = 120
MAX_HOURS = 24 * MAX_DAYS
#: Leads in a week or a month, and the alerts' minimum of leads.
MAX_LEADS = 10_000_000
#: ``alerts.reject_spike_sigma``: standard deviations above the trailing mean.
MAX_SIGMA = 100
#: A company's headcount (the largest employers have a few million).
MAX_EMPLOYEES = 10_000_000
#: The price of one lead, qualified lead or appointment, in euros.
MAX_UNIT_PRICE_EUR = 100_000
#: Any other amount a contract states (monthly fee, budget cap, budget threshold), in euros.
MAX_AMOUNT_EUR = 1_000_000_000
#: The largest amount the database stores (NUMERIC(14, 2)): a month's total must fit.
MAX_STORED_EUR = Decimal("999999999999.99")
#: Contract dates: far enough from the edges of the calendar (and of pandas' timestamps, 1677 to
#: 2262) that moving one by ``MAX_DAYS`` stays inside.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)
#: The longest text of the keys stored in a bounded database column (models/supplier.py, alert.py, pilot.py).
MAX_ID_CHARS = 100  # contract_id, supersedes, the Slack channels
MAX_SLUG_CHARS = 64  # supplier.id
MAX_NAME_CHARS = 200  # supplier.name, owner


def _in_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _refuse(
            "date", "must be between {first} and {last}, got {got}", first=str(FIRST_DAY), last=str(LAST_DAY),
            got=str(value),
        )
    return value


Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
IdText = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_CHARS)]
NameText = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)]
LowerText = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, to_lower=True)
]
Flag = Annotated[bool, Strict()]
Days = Annotated[int, Strict(), Field(ge=0, le=MAX_DAYS)]
Months = Annotated[int, Strict(), Field(ge=0, le=MAX_MONTHS)]
Leads = Annotated[int, Strict(), Field(ge=0, le=MAX_LEADS)]


def _positive(value: int) -> int:
    """A cap of 0 (or less) would reject every lead of every company: the author meant no cap."""
    if value < 1:
        raise _refuse("positive", "must be a whole number of at least 1 (leave the key out for no cap), got {got}",
                      got=_show(value))
    return value


#: A cap on leads that is off when absent: a whole number from 1 up.
LeadCap = Annotated[int, Strict(), Field(le=MAX_LEADS), AfterValidator(_positive)]
Employees = Annotated[int, Strict(), Field(ge=0, le=MAX_EMPLOYEES)]
Hours = Annotated[float, Strict(), Field(gt=0, le=MAX_HOURS, allow_inf_nan=False)]
UnitPrice = Annotated[float, Strict(), Field(ge=0, le=MAX_UNIT_PRICE_EUR, allow_inf_nan=False)]
Money = Annotated[float, Strict(), Field(ge=0, le=MAX_AMOUNT_EUR, allow_inf_nan=False)]
Rate = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Day = Annotated[date, BeforeValidator(_as_date), AfterValidator(_in_calendar)]

Reason = Annotated[RejectionReason, _code_of(RejectionReason, "reason code")]
ContestCode = Annotated[ContestReason, _code_of(ContestReason, "contest reason code")]
Canonical = Annotated[CanonicalField, _code_of(CanonicalField, "canonical field")]
Reasons = Annotated[list[Reason], AfterValidator(_distinct)]
ReviewCode = Annotated[str, BeforeValidator(_review_code)]
ReviewCodes = Annotated[list[ReviewCode], AfterValidator(_distinct)]
ContestCodes = Annotated[list[ContestCode], AfterValidator(_distinct)]
Canonicals = Annotated[list[Canonical], AfterValidator(_distinct)]

Slug = Annotated[
    str,
    Strict(),
    _text(max_length=MAX_SLUG_CHARS),
    _matching(
        r"[a-z0-9][a-z0-9-]*",
        "a slug of lower-case letters, digits and hyphens, starting with a letter or digit"
        " (e.g. acme-leads)",
    ),
]
CountryCode = Annotated[
    str, Strict(), _text(upper=True), _matching(r"[A-Z]{2}", "an ISO 3166 two-letter country code (e.g. FR)")
]
Department = Annotated[
    str,
    Strict(),
    _text(upper=True),
    _matching(
        r"0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97\d|98\d",
        "a French department code: 01..95 (Corsica: 2A, 2B; overseas: 971..989)",
    ),
]
NafPattern = Annotated[
    str,
    Strict(),
    _text(upper=True),
    _matching(
        r"\d{2}(\.?\d{1,2})?\*|\d{2}\.?\d{2}[A-Z]",
        'a full NAF/APE code ("62.01Z" or "6201Z") or a prefix ending in * ("62*", "62.0*")',
    ),
]
Domain = Annotated[
    str,
    Strict(),
    _text(lower=True),
    _matching(
        r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]",
        "a domain name without @ or www (e.g. rival.example)",
    ),
]
Siren = Annotated[
    str,
    Strict(),
    _text(),
    _matching(r"\d{9}", "a 9-digit SIREN (quote it in YAML)"),
    BeforeValidator(lambda value: value.replace(" ", "") if isinstance(value, str) else value),
]


def _phone_region(value: str) -> str:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise _refuse(
            "region",
            "unknown phone region {got}"
            " (an ISO 3166 code that phonenumbers knows, e.g. FR, BE, CH, LU, DE)",
            got=_show(value),
        )
    return value


PhoneRegion = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_phone_region)
]
