"""``build_verdicts`` joins each row's ordered reasons in Arrow; a plain Python join of the same reasons
(the reference below, the code it replaced) gives the same verdicts, any reasons and details."""

from itertools import groupby
from operator import itemgetter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgov.validation.engine import build_verdicts, order_reasons

CODES = ["MISSING_FIELD", "INVALID_EMAIL", "STALE", "FREE_EMAIL", "DUPLICATE_PREVIOUS", "SUPPRESSED"]


def reference(lead_ids: pd.Series, reasons: pd.DataFrame) -> pd.DataFrame:
    def joined(strings: list[str], sep: str) -> pd.Series:
        texts = {row: sep.join(s for _, s in group)
                 for row, group in groupby(zip(reasons["row"].tolist(), strings, strict=True), key=itemgetter(0))}
        return pd.Series(list(texts.values()), index=list(texts), dtype="str").reindex(lead_ids.index)

    codes = reasons["code"].tolist()
    first = dict(zip(reasons["row"].tolist()[::-1], codes[::-1], strict=True))
    verdicts = pd.DataFrame({
        "row_number": lead_ids.index.to_numpy() + 1, "lead_id": lead_ids, "status": "accepted",
        "reasons": joined(codes, ";").fillna(""),
        "primary_reason": pd.Series(list(first.values()), index=list(first), dtype="str").reindex(lead_ids.index),
        "details": joined((reasons["code"] + ": " + reasons["detail"]).tolist(), " | ").fillna(""),
    }, index=lead_ids.index)
    verdicts.loc[verdicts["reasons"] != "", "status"] = "rejected"
    return verdicts


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(0, 12),
       found=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(CODES), st.text(max_size=12)), max_size=30))
def test_verdicts_join_each_rows_reasons_as_a_python_join_does(rows, found):
    lead_ids = pd.Series([f"L-{n}" for n in range(rows)], dtype="str")
    found = [f for f in found if f[0] < rows]
    reasons = order_reasons(pd.DataFrame({"row": pd.Series([f[0] for f in found], dtype="int64"),
                                          "code": pd.Series([f[1] for f in found], dtype="str"),
                                          "detail": pd.Series([f[2] for f in found], dtype="str")}))
    got = build_verdicts(lead_ids, reasons)
    pd.testing.assert_frame_equal(got, reference(lead_ids, reasons))


def test_reasons_out_of_row_order_are_refused():
    reasons = pd.DataFrame({"row": [1, 0], "code": ["STALE", "STALE"], "detail": ["a", "b"]})
    with pytest.raises(ValueError, match="ordered by row"):
        build_verdicts(pd.Series(["a", "b"], dtype="str"), reasons)
