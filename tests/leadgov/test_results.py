"""Result and return files: columns, order, locale, and no cell a spreadsheet would execute."""

import pandas as pd
import pytest
from factories import lead, validate_rows

from leadgov.csv_out import safe_column
from leadgov.results import write_result_file, write_return_file


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert safe_column(pd.Series([cell, "safe"], dtype="str")).tolist() == ["'" + cell, "safe"]


def test_result_file_neutralises_supplier_text_and_keeps_file_order(tmp_path):
    verdicts = validate_rows([lead(1, lead_id="=cmd|' /C calc'!A0"), lead(2, employees="1")]).verdicts
    path = write_result_file(verdicts, tmp_path / "r.csv", "fr")
    assert path.read_bytes().startswith("\ufeff".encode())
    rows = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert rows["lead_id"].tolist() == ["'=cmd|' /C calc'!A0", "L-00002"]
    assert rows["row_number"].tolist() == ["1", "2"]
    assert rows["primary_reason"].tolist() == ["", "OUT_OF_TARGET_SIZE"]


def test_return_file_in_english_lists_only_rejected_and_review_leads(tmp_path):
    verdicts = validate_rows([lead(1), lead(2, source="partner", employees="1")]).verdicts
    path = write_return_file(verdicts, tmp_path / "returns.csv", "en")
    rows = pd.read_csv(path, sep=",", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert rows.columns.tolist() == ["row_number", "lead_id", "status", "reasons", "explanation", "details"]
    assert rows["status"].tolist() == ["rejected"]
    assert rows["reasons"].tolist() == ["OUT_OF_TARGET_SIZE;UNAUTHORIZED_SOURCE"]
    assert rows["explanation"].iloc[0] == ("Headcount outside the contract's range. "
                                           "Collection channel not allowed by the contract.")


def test_every_reason_is_explained_in_both_languages():
    from leadgov.explanations import EXPLANATIONS
    from leadgov.reasons import RejectionReason

    for locale in ("fr", "en"):
        assert set(EXPLANATIONS[locale]) == set(RejectionReason)
