"""Folding, words and whole-word keyword matching."""

from __future__ import annotations

import pandas as pd
import pytest

from leadgov.normalise.text import contains_keyword, fold, words


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
