"""Integers, amounts, datetimes, postal codes and departments."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgov.normalise import values as values_module
from leadgov.normalise.values import (
    department_from_postal_code,
    is_french_postal_code,
    parse_amounts,
    parse_datetimes,
    parse_integers,
)

TZ = "Europe/Paris"


def as_lists(frame: pd.DataFrame) -> tuple[list, list]:
    return [None if pd.isna(v) else v for v in frame["value"]], frame["invalid"].tolist()


# --- Integers ----------------------------------------------------------------------------------


def test_integers():
    s = pd.Series(["12", "1 250", "1\u00a0250", "1\u202f250", "007", "12.0", "-3", "+3", "1 25", "12 500 000",
                   "abc", "", None, "9" * 19, "1,5"], index=range(10, 25))  # fmt: skip
    out = parse_integers(s)
    values, invalid = as_lists(out)
    assert values == [12, 1250, 1250, 1250, 7, None, None, None, None, 12_500_000, None, None, None, None, None]
    assert invalid == [False] * 5 + [True] * 4 + [False, True, False, False, True, True]
    assert str(out["value"].dtype) == "Int64"
    assert list(out.index) == list(range(10, 25))


# --- Amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [("5000", 5000.0), ("5 000", 5000.0), ("5000.50", 5000.5), ("5000,50", 5000.5), ("5 000,50 €", 5000.5),
     ("5000 EUR", 5000.0), ("€5000", 5000.0), ("5000€", 5000.0), ("5 000 euros", 5000.0), ("5000 EUROS", 5000.0),
     ("EUR 12", 12.0), ("5.000,50", 5000.5),
     ("5,000.50", 5000.5), ("5.000", 5000.0), ("5,000", 5000.0), ("5,5", 5.5), ("0,5", 0.5),
     ("1.234.567,89", 1234567.89), ("1 234.5", 1234.5), ("1\u202f234,56\u00a0€", 1234.56), ("0", 0.0)],
)  # fmt: skip
def test_readable_amounts(raw, value):
    values, invalid = as_lists(parse_amounts(pd.Series([raw])))
    assert values == [pytest.approx(value)] and invalid == [False]


@pytest.mark.parametrize(
    "raw",
    ["-5000", "+5000", "5000.123", "1,234,56", "1.234.5", "0,125", "5 00", "abc", "5e3", "5000 $", "12 k€",
     "1" * 16, "5.000.000.0"],
)  # fmt: skip
def test_unreadable_amounts(raw):
    values, invalid = as_lists(parse_amounts(pd.Series([raw])))
    assert values == [None] and invalid == [True]


def test_missing_amount_is_not_invalid():
    out = parse_amounts(pd.Series([None, "  "], dtype="str"))
    assert as_lists(out) == ([None, None], [False, False])
    assert str(out["value"].dtype) == "Float64"


# --- Datetimes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [("2027-03-01", "2027-03-01 00:00"), ("2027-03-01T10:15", "2027-03-01 10:15"),
     ("2027-03-01 10:15:30", "2027-03-01 10:15:30"), ("2027-03-01T10:15:30.250", "2027-03-01 10:15:30.250"),
     ("2027-03-01T10:15:30Z", "2027-03-01 11:15:30"),  # winter: Paris = UTC+1
     ("2027-07-01T10:15:30Z", "2027-07-01 12:15:30"),  # summer: UTC+2
     ("2027-07-01T10:15:30+02:00", "2027-07-01 10:15:30"), ("2027-01-01T10:00:00-05:00", "2027-01-01 16:00"),
     ("2027-01-01T10:00+0100", "2027-01-01 10:00"), ("2027-01-01T10:00:00.5+01", "2027-01-01 10:00:00.5"),
     ("2027-03-01T10:15:30.123456789Z", "2027-03-01 11:15:30.123456789"),
     ("01/03/2027", "2027-03-01"), ("1/3/2027", "2027-03-01"), ("01/03/2027 10:15", "2027-03-01 10:15"),
     ("01/03/2027 9:05", "2027-03-01 09:05"), ("01/03/2027 10:15:30", "2027-03-01 10:15:30"),
     ("29/02/2028", "2028-02-29"), ("31/12/2027 23:59:59", "2027-12-31 23:59:59")],
)  # fmt: skip
def test_auto_dates(raw, expected):
    values, invalid = as_lists(parse_datetimes(pd.Series([raw]), "auto", TZ))
    assert values == [pd.Timestamp(expected)] and invalid == [False]


@pytest.mark.parametrize(
    "raw",
    ["31/02/2027", "29/02/2027", "2027-02-29", "2027-13-01", "2027-00-10", "2027-04-31", "00/01/2027",
     "2027-03-01T24:00", "2027-03-01T10:60", "2027-03-01 10:15:60", "2027-03-01T10:15+25:00", "03-01-2027",
     "2027/03/01", "01/03/27", "2027-3-1", "2027-03-01T10", "2027-03-01Z", "01/03/2027T10:15", "1er mars 2027",
     "0001-01-01", "9999-12-31", "01/03/2027 10:15 +01:00", "2027-03-01T10:15:30.1234567890"],
)  # fmt: skip
def test_auto_dates_unreadable(raw):
    values, invalid = as_lists(parse_datetimes(pd.Series([raw]), "auto", TZ))
    assert values == [None] and invalid == [True]


def test_dates_keep_index_dtype_and_missing():
    s = pd.Series(["2027-03-01", None, "x"], index=[9, 8, 7], dtype="str")
    out = parse_datetimes(s, "auto", TZ)
    assert list(out.index) == [9, 8, 7]
    assert out["value"].dtype == np.dtype("datetime64[ns]")
    assert out["invalid"].tolist() == [False, False, True]


def test_explicit_formats():
    out = parse_datetimes(pd.Series(["01.03.2027 10:15", "2027-03-01", None]), "%d.%m.%Y %H:%M", TZ)
    assert as_lists(out) == ([pd.Timestamp("2027-03-01 10:15"), None, None], [False, True, False])
    aware = parse_datetimes(pd.Series(["2027-03-01 10:15 +0000", "2027-07-01 10:15 -0100"]), "%Y-%m-%d %H:%M %z", TZ)
    assert as_lists(aware)[0] == [pd.Timestamp("2027-03-01 11:15"), pd.Timestamp("2027-07-01 13:15")]


def test_auto_dates_agree_with_pandas_on_many_random_values():
    rng = random.Random(2)
    values, expected = [], []
    for _ in range(5000):
        y, m, d = rng.randint(1990, 2040), rng.randint(0, 13), rng.randint(0, 32)
        h, mi = rng.randint(0, 25), rng.randint(0, 61)
        iso, fr = f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}", f"{d:02d}/{m:02d}/{y:04d} {h:02d}:{mi:02d}"
        ts = pd.to_datetime(iso, format="%Y-%m-%dT%H:%M", errors="coerce")
        values += [iso, fr]
        expected += [None if pd.isna(ts) else ts] * 2
    got, invalid = as_lists(parse_datetimes(pd.Series(values), "auto", TZ))
    assert got == expected
    assert invalid == [e is None for e in expected]


# --- Postal codes ------------------------------------------------------------------------------


def test_departments():
    codes = pd.Series(["20000", "20199", "20200", "20999", "97411", "98800", "75001", "01000", "7500", "75 001",
                       "750011", "2A000", None], index=range(20, 33))  # fmt: skip
    departments = department_from_postal_code(codes)
    assert [None if pd.isna(d) else d for d in departments] == (
        ["2A", "2A", "2B", "2B", "974", "988", "75", "01"] + [None] * 5
    )
    assert list(departments.index) == list(range(20, 33))
    assert is_french_postal_code(codes).tolist() == [True] * 8 + [False] * 5


def test_mixed_shapes_and_offsets_in_one_column():
    s = pd.Series(["2027-03-01T10:00Z", "01/03/2027 10:00", "2027-07-01T10:00+02:00", "bad", "2027-07-01T10:00"])
    values, invalid = as_lists(parse_datetimes(s, "auto", TZ))
    assert values == [pd.Timestamp("2027-03-01 11:00"), pd.Timestamp("2027-03-01 10:00"),
                      pd.Timestamp("2027-07-01 10:00"), None, pd.Timestamp("2027-07-01 10:00")]  # fmt: skip
    assert invalid == [False, False, False, True, False]


@pytest.mark.parametrize("cells", [[], [None, None], ["", "abc"], ["9" * 18, None, "0"]])
def test_integers_of_empty_unreadable_and_large_columns_are_int64_with_their_nas(cells):
    """Built from Arrow's values and nulls, not value by value: the same Int64 column as pandas makes
    from the Python values."""
    out = parse_integers(pd.Series(cells, dtype="str"))
    expected = pd.array([int(c) if c and c.isdigit() else None for c in cells], dtype="Int64")
    assert out["value"].array.equals(expected)
    assert str(out["value"].dtype) == "Int64"


def dates_by_extraction(cells: list[str | None]) -> pd.DataFrame:
    """The reference for ``parse_datetimes(..., "auto")``: every value's groups extracted by the general
    ISO or French pattern (``_ISO``, ``_FRENCH``), with no fixed-place slicing."""
    present = pa.array([None if c is None or not c.strip() else c.strip() for c in cells], pa.large_string())
    ns, readable = np.zeros(len(cells), dtype=np.int64), np.zeros(len(cells), dtype=bool)
    for pattern, convert in ((values_module._ISO, lambda t: values_module._iso_ns(t, TZ)),
                             (values_module._FRENCH, values_module._french_ns)):
        rows = np.flatnonzero(pc.fill_null(pc.match_substring_regex(present, pattern), False).to_numpy(False))
        ns[rows], readable[rows] = convert(present.take(rows))
    wall = np.where(readable, ns, np.iinfo(np.int64).min).view("datetime64[ns]")
    return pd.DataFrame({"value": wall, "invalid": pc.is_valid(present).to_numpy(zero_copy_only=False) & ~readable})


def date_like(day: str, month: str, year: str, time: str) -> tuple[str, str]:
    """ISO-like and French-like patterns built from these parts (hypothesis generates their values)."""
    offset = r"(Z|[+-][01][0-9](:?[0-6][0-9])?)"
    return (rf"{year}-{month}-{day}([T ]{time}([.,][0-9]{{1,9}})?{offset}?)?", rf"{day}/{month}/{year}( {time})?")


#: Mostly readable values, and values at the edges: impossible days, months and times, one-digit fields,
#: years outside what a datetime holds.
USUAL = date_like(r"(0[1-9]|1[0-9]|2[0-8])", r"(0[1-9]|1[0-2])", r"20[0-9]{2}",
                  r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
EDGES = date_like(r"(0[0-9]|[12][0-9]|3[0-2]|[0-9])", r"(0[0-9]|1[0-3]|[0-9])", r"(1677|1678|2261|2262|19[0-9]{2})",
                  r"([01][0-9]|2[0-5]|[0-9]):([0-5][0-9]|60)(:([0-5][0-9]|6[01]))?")
DATE_LIKE = st.one_of(*(st.from_regex(pattern, fullmatch=True) for pattern in (*USUAL, *EDGES)))


@given(st.lists(st.one_of(st.none(), DATE_LIKE, st.text(alphabet="0123456789-/: T", max_size=20)), max_size=30))
def test_dates_at_fixed_places_are_read_as_the_general_patterns_read_them(cells):
    """The usual values are sliced at fixed places instead of extracted (``_FIXED_ISO``, ``_FIXED_FRENCH``):
    the same datetimes and the same unreadable values as extracting every value by the general patterns,
    impossible dates and times, one-digit days, fractions and offsets included."""
    out = parse_datetimes(pd.Series(cells, dtype="str"), "auto", TZ)
    expected = dates_by_extraction(cells)
    assert out["value"].to_numpy().tolist() == expected["value"].to_numpy().tolist()
    assert out["invalid"].tolist() == expected["invalid"].tolist()
