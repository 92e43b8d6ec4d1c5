"""Folding, words and whole-word keyword matching."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgov.normalise import text
from leadgov.normalise.text import PYTHON_SPACES, contains_keyword, fold, words
from leadgov.validation.prepare import normalise_naf_codes


def as_list(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


@pytest.mark.parametrize(
    "raw, folded",
    [("Directeur Général", "directeur general"), ("ÉCOLE  Œuvre", "ecole oeuvre"), ("Ça  va", "ca va"),
     ("Head-of Sales", "head of sales"), ("Chef–de—projet", "chef de projet"), ("  x \t y\u00a0z  ", "x y z"),
     ("Cæsar", "caesar"), ("Straße", "strasse"), ("ﬁnance", "finance"), ("İstanbul", "istanbul"),
     ("e\u0301te\u0301", "ete"), ("Directeur (DSI) - Paris", "directeur (dsi) paris"), ("a_b", "a_b")],
)  # fmt: skip
def test_fold(raw, folded):
    assert as_list(fold(pd.Series([raw]))) == [folded]


def test_fold_keeps_index_missing_and_empty_becomes_missing():
    out = fold(pd.Series(["A", None, "-", " – "], index=[3, 1, 2, 0], dtype="str"))
    assert list(out.index) == [3, 1, 2, 0]
    assert as_list(out) == ["a", None, None, None]


@pytest.mark.parametrize(
    "raw, expected",
    [("Directeur (DSI) - Paris", "directeur dsi paris"), ("Chef d'équipe", "chef d equipe"),
     ("R&D / Innovation", "r d innovation"), ("CTO, co-founder.", "cto co founder"), ("DG_adjoint", "dg adjoint"),
     ("N°2", "n 2"), ("Resp. Achats", "resp achats"), ("!!!", None)],
)  # fmt: skip
def test_words(raw, expected):
    assert as_list(words(pd.Series([raw]))) == [expected]


def test_contains_keyword_whole_consecutive_words():
    titles = words(pd.Series(
        ["Head-of Sales", "Head of Sales", "Sales head", "DGFiP auditor", "DG", "Directeur Général (DG)",
         "Étudiante en M2", "Responsable des achats", "Responsable achats", None, "Heads of sales"]
    ))  # fmt: skip
    assert contains_keyword(titles, ["head of"]).tolist() == [True, True] + [False] * 9
    assert contains_keyword(titles, ["DG"]).tolist() == [False] * 4 + [True, True] + [False] * 5
    assert contains_keyword(titles, ["étudiante"]).tolist() == [False] * 6 + [True] + [False] * 4
    assert contains_keyword(titles, ["responsable achats", "Directeur-Général"]).tolist() == (
        [False] * 5 + [True, False, False, True, False, False]
    )


def test_contains_keyword_edge_cases():
    titles = words(pd.Series(["a b c", None], index=[5, 6]))
    assert contains_keyword(titles, []).tolist() == [False, False]
    assert contains_keyword(titles, ["--", ""]).tolist() == [False, False]
    assert contains_keyword(titles, ["b c", "x"]).tolist() == [True, False]
    assert list(contains_keyword(titles, ["a"]).index) == [5, 6]
    assert contains_keyword(titles, ["a b c d"]).dtype == bool


def test_keywords_with_regex_characters_are_literal():
    titles = words(pd.Series(["c plus plus dev", "c dev"]))
    assert contains_keyword(titles, ["C++ dev"]).tolist() == [False, True]  # reduced to "c dev"
    assert contains_keyword(titles, ["(c.*"]).tolist() == [True, True]  # reduced to "c"
    assert contains_keyword(titles, [".*"]).tolist() == [False, False]  # no word at all


def test_object_and_str_dtypes_give_the_same_result():
    raw = ["Été", "Œil-de-bœuf", None, "x"]
    assert as_list(words(pd.Series(raw, dtype=object))) == as_list(words(pd.Series(raw, dtype="str")))


def test_python_spaces_is_the_class_of_the_characters_python_calls_spaces():
    """``PYTHON_SPACES`` (RE2) matches exactly the code points ``str.isspace`` accepts."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]  # surrogates are not text
    matched = pc.match_substring_regex(pa.array(chars), f"^[{PYTHON_SPACES}]$").to_pylist()
    assert [c for c, hit in zip(chars, matched, strict=True) if hit != c.isspace()] == []


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(
    "0123456789azAZ.ßéﬁ \t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u2007\u202f\u3000\u200b-_")))))
def test_naf_codes_are_normalised_as_pandas_normalises_them_value_by_value(codes):
    """Arrow's kernels give what ``str.upper().str.replace(r"[.\\s]", "")`` gives (the plain pandas way)."""
    series = pd.Series(codes, dtype="str")
    expected = series.str.upper().str.replace(r"[.\s]", "", regex=True)
    pd.testing.assert_series_equal(normalise_naf_codes(series), expected)


@given(st.lists(st.one_of(st.none(), st.sampled_from(["Directeur (DSI) - Paris", "SARL", "s.a.r.l.", "Œuvre-ﬁne",
                                                      "DIRECTRICE", "  ", "-", "Gérant"]), st.text()), max_size=40))
def test_words_of_repeated_values_are_the_words_of_each_row(cells):
    """Computed once per distinct value and taken back to the rows (``per_distinct``): the same as
    computing every row."""
    series = pd.Series(cells, dtype="str")
    each = [words(pd.Series([cell], dtype="str")).iloc[0] for cell in cells]  # one value: computed on its row
    pd.testing.assert_series_equal(words(series), pd.Series(each, dtype="str"))


@pytest.mark.parametrize("cells", [["DSI", "Gérant", "CEO", "CTO"] + ["DSI"] * 6,  # a varied start: row by row
                                   ["DSI", "DSI", None, "DSI"] + ["Gérant", "CEO", None, "ceo", "DSI"]])
def test_words_are_the_same_whether_the_start_of_the_column_repeats_or_not(cells, monkeypatch):
    monkeypatch.setattr(text, "_DISTINCT_PROBE", 4)
    each = [words(pd.Series([cell], dtype="str")).iloc[0] for cell in cells]
    pd.testing.assert_series_equal(words(pd.Series(cells, dtype="str")), pd.Series(each, dtype="str"))
