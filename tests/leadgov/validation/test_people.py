"""``text_in``: the set look-up the identity rules use on text columns."""

import pandas as pd
import pytest

from leadgov.validation.people import text_in


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_text_in_matches_members_exactly_and_never_a_missing_value(dtype):
    values = pd.Series(["a@x.fr", None, "A@x.fr", "b@x.fr", "é@x.fr"], index=[3, 4, 5, 6, 7], dtype=dtype)
    hit = text_in(values, {"a@x.fr", "é@x.fr", "zz"})
    assert hit.tolist() == [True, False, False, False, True]
    assert hit.index.tolist() == [3, 4, 5, 6, 7] and hit.dtype == bool


def test_text_in_with_no_members_or_only_missing_values():
    assert text_in(pd.Series(["a"], dtype="str"), set()).tolist() == [False]
    assert text_in(pd.Series([None, None], dtype="object"), {"a"}).tolist() == [False, False]
    assert text_in(pd.Series([None, None], dtype="str"), {"a"}).tolist() == [False, False]
