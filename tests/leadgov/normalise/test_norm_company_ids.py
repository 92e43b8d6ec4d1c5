"""SIREN / SIRET: Luhn, La Poste's rule, whitespace, and the vectorised Luhn against a plain one."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgov.normalise.company_ids import normalise_sirens


def luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def expected(raw: str) -> str | None:
    compact = "".join(raw.split())
    if not compact.isascii() or not compact.isdigit():
        return None
    if len(compact) == 9:
        return compact if luhn(compact) else None
    if len(compact) == 14:
        siren = compact[:9]
        rest_ok = sum(map(int, compact)) % 5 == 0 if siren == "356000000" else luhn(compact)
        return siren if luhn(siren) and rest_ok else None
    return None


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn(body + d))


@pytest.mark.parametrize(
    "raw, siren",
    [("732829320", "732829320"), ("552100554", "552100554"), ("732 829 320", "732829320"),
     ("732\u00a0829\u202f320", "732829320"), ("73282932000074", "732829320"), ("732 829 320 00074", "732829320"),
     ("35600000049837", "356000000"),  # La Poste: fails Luhn, digits sum to 45
     ("356000000", "356000000")],
)  # fmt: skip
def test_valid(raw, siren):
    out = normalise_sirens(pd.Series([raw]))
    assert out["siren"].tolist() == [siren]
    assert out["valid"].tolist() == [True]


@pytest.mark.parametrize(
    "raw",
    ["732829321", "73282932", "7328293200", "73282932000075", "35600000000048",  # La Poste: Luhn ok, sum 26
     "552.100.554", "552-100-554", "FR732829320", "abcdefghi", "７３２８２９３２０", "+732829320", "000000000x"],
)  # fmt: skip
def test_invalid(raw):
    out = normalise_sirens(pd.Series([raw]))
    assert out["valid"].tolist() == [False]
    assert out["siren"].isna().all()


def test_all_zero_siren_passes_luhn_like_the_algorithm_says():
    assert normalise_sirens(pd.Series(["000000000"]))["valid"].tolist() == [luhn("000000000")]


def test_missing_and_blank_are_missing_and_index_kept():
    out = normalise_sirens(pd.Series([None, " \u00a0", "732829320"], index=[5, 6, 7], dtype="str"))
    assert out["valid"].tolist() == [pd.NA, pd.NA, True]
    assert list(out.index) == [5, 6, 7]


def test_vectorised_checks_equal_a_plain_implementation():
    rng = random.Random(7)
    values = []
    for _ in range(20_000):
        width = rng.choice([8, 9, 9, 9, 10, 13, 14, 14, 14, 15])
        digits = "".join(rng.choice("0123456789") for _ in range(width))
        if rng.random() < 0.4:
            if width == 14:
                digits = with_check_digit(with_check_digit(digits[:8]) + digits[9:13])
            else:
                digits = with_check_digit(digits[:-1])
        if rng.random() < 0.05:
            digits = "356000000" + digits[9:] if width == 14 else digits
        values.append(digits if rng.random() < 0.8 else " ".join([digits[:3], digits[3:6], digits[6:]]))
    out = normalise_sirens(pd.Series(values))
    assert [None if pd.isna(x) else x for x in out["siren"]] == [expected(v) for v in values]
    assert out["valid"].sum() > 5000


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.integers(0, 8), st.integers(1, 9))
def test_changing_one_digit_of_a_valid_siren_makes_it_invalid(body, position, shift):
    siren = with_check_digit(body)
    changed = siren[:position] + str((int(siren[position]) + shift) % 10) + siren[position + 1 :]
    out = normalise_sirens(pd.Series([siren, changed]))
    assert out["valid"].tolist() == [True, False]


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.text(alphabet="0123456789", min_size=4, max_size=4))
def test_a_siret_whose_two_checksums_hold_is_valid(body, nic):
    siren = with_check_digit(body)
    siret = with_check_digit(siren + nic)
    valid = normalise_sirens(pd.Series([siret]))["valid"].tolist()
    assert valid == [siren != "356000000" or sum(map(int, siret)) % 5 == 0]
