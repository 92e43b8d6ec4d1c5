"""Typed values: integers, amounts, datetimes, French postal codes (docs/deliveries.md:
Normalisation, INVALID_VALUE, `postal_code`).

Each parser returns `value` (NA where missing or unreadable) and `invalid` (True only where a
value is present but unreadable), so that the checks can tell MISSING_FIELD from INVALID_VALUE.
All parsing is vectorised (RE2 over Arrow, numpy, pandas); no per-row Python.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadgov.normalise.text import as_arrow, ascii_digits, blank_to_null, to_str_series

_SPACE = r"[ \x{a0}\x{202f}]"  # space, non-breaking space, narrow non-breaking space

# --- Numbers -----------------------------------------------------------------------------------

#: Whole numbers: plain digits, or groups of three separated by spaces ("12 500", NBSPs too).
_INTEGER = rf"^(?:[0-9]+|[1-9][0-9]{{0,2}}(?:{_SPACE}[0-9]{{3}})+)$"

_GROUPED = r"[1-9][0-9]{0,2}(?:S[0-9]{3})+"
#: Integer part: plain digits, or groups of three separated by ONE kind of thousands separator.
_AMOUNT_INT = "(?:[0-9]+|" + "|".join(_GROUPED.replace("S", sep) for sep in (_SPACE, r"\.", ",")) + ")"
_CURRENCY = r"(?:€|EUR(?:OS?)?|[Ee]ur(?:os?)?)"
_AMOUNT = (
    rf"^(?:{_CURRENCY}{_SPACE}?)?(?P<int>{_AMOUNT_INT})(?:(?P<sep>[.,])(?P<dec>[0-9]{{1,2}}))?"
    rf"(?:{_SPACE}?{_CURRENCY})?$"
)
_MAX_INT_DIGITS = 18  # beyond, an int64 could overflow: such a headcount/horizon is unreadable
_MAX_AMOUNT_DIGITS = 15  # a budget of a million billion euros or more is not a budget
CENT = Decimal("0.01")


def _present(s: pd.Series) -> pa.Array:
    """The values as Arrow strings, trimmed; empty = missing."""
    return blank_to_null(pc.utf8_trim_whitespace(as_arrow(s)))


def _frame(value: pd.Series, present: pa.Array, readable: pa.Array) -> pd.DataFrame:
    """The (`value`, `invalid`) frame; `value` already NA where unreadable."""
    invalid = pc.and_(pc.is_valid(present), pc.invert(pc.fill_null(readable, False)))
    return pd.DataFrame({"value": value, "invalid": invalid.to_numpy(zero_copy_only=False)}, index=value.index)


def parse_integers(s: pd.Series) -> pd.DataFrame:
    """Whole non-negative numbers: "12", "1 250" (thousands separated by a space, a non-breaking
    or narrow non-breaking space, in groups of three). A sign, a decimal point ("12.0") or any
    other character makes the value unreadable: a headcount or a horizon is a whole number and
    cannot be negative. Columns `value` (Int64) and `invalid` (bool)."""
    present = _present(s)
    readable = pc.match_substring_regex(present, _INTEGER)
    digits = ascii_digits(present)
    readable = pc.and_(readable, pc.less_equal(pc.utf8_length(digits), _MAX_INT_DIGITS))
    readable = pc.fill_null(readable, False)
    numbers = pc.cast(pc.if_else(readable, digits, pa.scalar(None, digits.type)), pa.int64())
    value = pd.Series(_masked_integers(numbers), index=s.index)
    return _frame(value, present, readable)


def _masked_integers(numbers: pa.Array) -> pd.arrays.IntegerArray:
    """An Arrow int64 array as pandas' Int64, from its values and its nulls: ``pd.array(numbers,
    dtype="Int64")`` goes through a Python object per value when there are nulls (0.35 s a
    million, against 3 ms)."""
    values = pc.fill_null(numbers, 0).to_numpy(zero_copy_only=False)
    return pd.arrays.IntegerArray(values.astype(np.int64, copy=False),
                                  pc.is_null(numbers).to_numpy(zero_copy_only=False))


def _separator_reused(int_part: pa.Array, sep: pa.Array) -> pa.Array:
    """Whether the decimal separator is also the thousands separator ("1,234,56")."""
    return pc.or_(
        pc.and_(pc.equal(sep, "."), pc.match_substring(int_part, ".")),
        pc.and_(pc.equal(sep, ","), pc.match_substring(int_part, ",")),
    )


def parse_amounts(s: pd.Series) -> pd.DataFrame:
    """Non-negative amounts in euros. Rule: the integer part is plain digits or groups of three
    separated by one kind of thousands separator (space, NBSP, narrow NBSP, "." or ","); an
    optional decimal part is a "." or "," followed by 1 or 2 digits at the end, and must differ
    from the thousands separator. So "5000,50", "5 000,50 €", "5.000,50" and "5,000.50" are all
    5000.5; "5.000" and "5,000" are 5000 (three digits after the separator: thousands); "5,5" is
    5.5; "1,234,56" and "5000.123" are unreadable. An optional "€"/"EUR"/"euros" before or after.
    A sign makes it unreadable, so do more than 15 digits before the decimal separator.
    Columns `value` (Float64) and `invalid` (bool). Money the buyer counts goes through
    ``parse_euros`` instead: the same rule, exact."""
    number, present, readable = _amount_texts(s)
    value = pd.Series(pd.array(pc.cast(number, pa.float64()), dtype="Float64"), index=s.index)
    return _frame(value, present, readable)


def parse_euros(s: pd.Series) -> pd.DataFrame:
    """Amounts in euros by the rule of ``parse_amounts``, with `value` an exact ``Decimal`` (an
    object column, None where missing or unreadable): a float would round the cents of an amount
    of more than 13 digits. Columns `value` and `invalid` (bool)."""
    number, present, readable = _amount_texts(s)
    value = pd.Series([None if text is None else Decimal(text).quantize(CENT) for text in number.to_pylist()],
                      index=s.index, dtype="object")
    return _frame(value, present, readable)


def _amount_texts(s: pd.Series) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The amounts as plain decimal text ("5000.50"), null where missing or unreadable; the
    trimmed values; whether each is readable."""
    present = _present(s)
    parts = pc.extract_regex(present, _AMOUNT)
    int_part, sep, dec = (pc.struct_field(parts, f) for f in ("int", "sep", "dec"))
    int_digits = ascii_digits(int_part)
    readable = pc.and_(pc.is_valid(parts), pc.invert(_separator_reused(int_part, sep)))
    readable = pc.and_(readable, pc.less_equal(pc.utf8_length(int_digits), _MAX_AMOUNT_DIGITS))
    readable = pc.fill_null(readable, False)
    with_decimals = pc.binary_join_element_wise(int_digits, dec, pa.scalar(".", int_digits.type))
    number = pc.if_else(pc.equal(dec, ""), int_digits, with_decimals)
    number = pc.if_else(readable, number, pa.scalar(None, number.type))
    return number, present, readable


# --- Datetimes ---------------------------------------------------------------------------------

#: ISO 8601: date, optional time (T or space) with optional seconds, fraction and UTC offset.
_ISO = (
    r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
#: French: dd/mm/yyyy (day and month may have one digit), optional " HH:MM" or " HH:MM:SS".
_FRENCH = (
    r"^(?P<d>[0-9]{1,2})/(?P<mo>[0-9]{1,2})/(?P<y>[0-9]{4})"
    r"(?: (?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2}))?)?$"
)
#: The usual ISO and French values, with every field at a fixed place (a two-digit day and month, no
#: fraction of a second, no offset): converted by slicing them, not by extracting their groups (which
#: costs ten times a match). Other values of either shape go through ``_ISO`` and ``_FRENCH``.
_FIXED_ISO = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?$"
_FIXED_FRENCH = r"^[0-9]{2}/[0-9]{2}/[0-9]{4}(?: [0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?$"
_ISO_PLACES = {"y": (0, 4), "mo": (5, 7), "d": (8, 10), "h": (11, 13), "mi": (14, 16), "s": (17, 19)}
_FRENCH_PLACES = {"d": (0, 2), "mo": (3, 5), "y": (6, 10), "h": (11, 13), "mi": (14, 16), "s": (17, 19)}
_YEARS = (1678, 2261)  # inside pandas' datetime64[ns] range
_NS = {"d": 86_400 * 10**9, "h": 3_600 * 10**9, "mi": 60 * 10**9, "s": 10**9}


def _field(parts: pa.Array, name: str) -> np.ndarray:
    """An extracted digit group as int64 (0 where absent or unmatched)."""
    text = pc.fill_null(pc.struct_field(parts, name), "")
    text = pc.if_else(pc.equal(text, ""), "0", text)
    values: np.ndarray = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
    return values


def _fraction_ns(parts: pa.Array) -> np.ndarray:
    """The fractional seconds of ISO values, in nanoseconds."""
    digits = pc.fill_null(pc.struct_field(parts, "f"), "")
    fraction: np.ndarray = pc.cast(
        pc.utf8_rpad(pc.if_else(pc.equal(digits, ""), "0", digits), 9, "0"), pa.int64()
    ).to_numpy()
    return fraction


def _offset_minutes(parts: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has offset, offset in minutes east of UTC, offset readable) of ISO values."""
    tz = pc.fill_null(pc.struct_field(parts, "tz"), "")
    has = pc.not_equal(tz, "").to_numpy(zero_copy_only=False)
    digits = pc.replace_substring_regex(tz, r"[^0-9]", "")
    hours = pc.cast(pc.if_else(pc.equal(digits, ""), "0", pc.utf8_slice_codeunits(digits, 0, 2)), pa.int64())
    mins = pc.utf8_slice_codeunits(digits, 2, 4)
    mins = pc.cast(pc.if_else(pc.equal(mins, ""), "0", mins), pa.int64())
    sign = np.where(pc.starts_with(tz, "-").to_numpy(zero_copy_only=False), -1, 1)
    hours, mins = hours.to_numpy(), mins.to_numpy()
    return has, sign * (hours * 60 + mins), (hours <= 23) & (mins <= 59)


def _assemble(parts: pa.Array, matched: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(wall-clock nanoseconds since the epoch, readable) from extracted date/time groups.

    Impossible dates (31/02) and times (24:00, 12:60) are unreadable; years outside 1678-2261 too."""
    y, mo, d = _field(parts, "y"), _field(parts, "mo"), _field(parts, "d")
    h, mi, s = _field(parts, "h"), _field(parts, "mi"), _field(parts, "s")
    ok = matched & (y >= _YEARS[0]) & (y <= _YEARS[1]) & (mo >= 1) & (mo <= 12) & (d >= 1)
    month = ((np.where(ok, y, 1970) - 1970) * 12 + np.where(ok, mo, 1) - 1).astype("datetime64[M]")
    first_day = month.astype("datetime64[D]")
    month_days = ((month + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    ok &= (d <= month_days) & (h <= 23) & (mi <= 59) & (s <= 59)
    days = first_day.astype(np.int64) + d - 1
    ns = days * _NS["d"] + h * _NS["h"] + mi * _NS["mi"] + s * _NS["s"]
    return np.where(ok, ns, 0), ok


def _sliced(text: pa.Array, places: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(wall-clock nanoseconds, readable) of values whose groups sit at ``places`` (a group past the
    value's end is absent, as an unmatched optional group)."""
    groups = [pc.utf8_slice_codeunits(text, start, stop) for start, stop in places.values()]
    return _assemble(pa.StructArray.from_arrays(groups, names=list(places)), np.ones(len(text), dtype=bool))


def _iso_ns(text: pa.Array, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """(local wall-clock nanoseconds in `tz`, readable) of values of the ISO shape. A value with
    an offset is converted from that offset to `tz`; one without is already local."""
    parts = pc.extract_regex(text, _ISO)
    ns, ok = _assemble(parts, np.ones(len(text), dtype=bool))
    has_offset, offset, offset_ok = _offset_minutes(parts)
    ok &= offset_ok
    ns += _fraction_ns(parts)
    shifted = ok & has_offset
    if shifted.any():
        utc = pd.Series((ns[shifted] - offset[shifted] * _NS["mi"]).view("datetime64[ns]"))
        local = utc.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
        ns[shifted] = local.astype("datetime64[ns]").to_numpy().view(np.int64)
    return ns, ok


def _french_ns(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(local wall-clock nanoseconds, readable) of values of the dd/mm/yyyy shape."""
    parts = pc.extract_regex(text, _FRENCH)
    return _assemble(parts, np.ones(len(text), dtype=bool))


def _parse_auto(present: pa.Array, tz: str) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 or dd/mm/yyyy values -> (naive local datetimes, readable). Each shape's groups
    are extracted only from the rows it matches (extraction costs ten times a match)."""
    ns = np.zeros(len(present), dtype=np.int64)
    readable = np.zeros(len(present), dtype=bool)
    shapes: tuple[tuple[str, Callable[[pa.Array], tuple[np.ndarray, np.ndarray]]], ...] = (
        (_FIXED_ISO, lambda text: _sliced(text, _ISO_PLACES)),
        (_FIXED_FRENCH, lambda text: _sliced(text, _FRENCH_PLACES)),
        (_ISO, lambda text: _iso_ns(text, tz)),
        (_FRENCH, _french_ns),
    )
    left = np.flatnonzero(pc.is_valid(present).to_numpy(zero_copy_only=False))  # rows no shape has taken
    for pattern, convert in shapes:
        if not len(left):
            break
        text = present if len(left) == len(present) else present.take(left)
        matched = pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(zero_copy_only=False)
        rows = left[matched]
        ns[rows], readable[rows] = convert(text.filter(pa.array(matched)))
        left = left[~matched]
    wall = np.where(readable, ns, np.iinfo(np.int64).min).view("datetime64[ns]")
    return pd.Series(wall), readable


def _parse_format(present: pa.Array, date_format: str, tz: str) -> tuple[pd.Series, np.ndarray]:
    """Values in a strftime `date_format` -> (naive local datetimes, readable). A format with an
    offset (%z) gives aware datetimes, converted to `tz` then made naive."""
    text = pd.Series(pd.array(present, dtype="str"))
    aware = "%z" in date_format or "%Z" in date_format
    parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=aware)
    if aware:
        parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    return parsed, parsed.notna().to_numpy()


def parse_datetimes(s: pd.Series, date_format: str, tz: str) -> pd.DataFrame:
    """Columns `value` (naive datetime64[ns], local time of `tz`; NaT if missing or unreadable)
    and `invalid` (bool).

    `date_format == "auto"`: ISO 8601 (`2027-03-01`, `2027-03-01T10:15`, `2027-03-01 10:15:30`,
    optional fraction of seconds, optional `Z`/`+01:00`/`+0100`/`+01` offset: such values are
    converted to `tz`; values without offset are already local) or `dd/mm/yyyy` with optional
    ` HH:MM` or ` HH:MM:SS`. Anything else is unreadable, and so are impossible dates or times.
    Otherwise `date_format` is a strftime pattern (pandas' `to_datetime(format=...)`)."""
    present = _present(s)
    if date_format == "auto":
        value, readable = _parse_auto(present, tz)
    else:
        value, readable = _parse_format(present, date_format, tz)
    value.index = s.index
    return _frame(value, present, pa.array(readable))


# --- French postal codes -----------------------------------------------------------------------


def is_french_postal_code(s: pd.Series) -> pd.Series:
    """Exactly five ASCII digits (missing -> False)."""
    hits = pc.fill_null(pc.match_substring_regex(as_arrow(s), r"^[0-9]{5}$"), False)
    return pd.Series(hits.to_numpy(zero_copy_only=False), index=s.index)


def department_from_postal_code(postal_codes: pd.Series) -> pd.Series:
    """The department of valid French postal codes: the first two digits, except Corsica
    (20000-20199 -> "2A", 20200-20999 -> "2B") and overseas (97xxx, 98xxx -> first three digits).
    NA for missing or malformed codes."""
    codes = as_arrow(postal_codes)
    valid = pc.fill_null(pc.match_substring_regex(codes, r"^[0-9]{5}$"), False)
    codes = pc.if_else(valid, codes, pa.scalar(None, codes.type))
    two, three = pc.utf8_slice_codeunits(codes, 0, 2), pc.utf8_slice_codeunits(codes, 0, 3)
    corsica = pc.if_else(pc.less(three, "202"), "2A", "2B")
    department = pc.if_else(pc.equal(two, "20"), corsica, two)
    department = pc.if_else(pc.match_substring_regex(two, r"^9[78]$"), three, department)
    return to_str_series(department, postal_codes.index, postal_codes.name)
