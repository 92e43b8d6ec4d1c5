"""The value types of contract keys: each carries its own check, so every field says what it accepts."""

from __future__ import annotations

import re
import typing
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from leadgov.config.contract.wording import _show
from leadgov.fields import CANONICAL_FIELDS as CANONICAL_FIELDS  # re-exported
from leadgov.fields import CanonicalField as CanonicalField  # re-exported
from leadgov.reasons import ContestReason, RejectionReason

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


def _text(*, upper: bool = False, lower: bool = False) -> StringConstraints:
    """Non-empty trimmed text (after optional case folding)."""
    return StringConstraints(strip_whitespace=True, min_length=1, to_upper=upper, to_lower=lower)


def _matching(pattern: str, explanation: str) -> AfterValidator:
    """The check of a text matching ``pattern`` (after the case folding of its constraints)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _refuse("format", "must be {what}, got {got}", what=explanation, got=_show(value))
        return value

    return AfterValidator(check)


Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
LowerText = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, to_lower=True)
]
Flag = Annotated[bool, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]
Money = Annotated[float, Strict(), Field(ge=0)]
Rate = Annotated[float, Strict(), Field(ge=0, le=1)]
Day = Annotated[date, BeforeValidator(_as_date)]

Reason = Annotated[RejectionReason, _code_of(RejectionReason, "reason code")]
ContestCode = Annotated[ContestReason, _code_of(ContestReason, "contest reason code")]
Canonical = Annotated[CanonicalField, _code_of(CanonicalField, "canonical field")]
Reasons = Annotated[list[Reason], AfterValidator(_distinct)]
ContestCodes = Annotated[list[ContestCode], AfterValidator(_distinct)]
Canonicals = Annotated[list[Canonical], AfterValidator(_distinct)]

Slug = Annotated[
    str,
    Strict(),
    _text(),
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
