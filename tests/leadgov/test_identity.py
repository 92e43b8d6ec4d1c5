"""Identity keys must never change for a given value and key, or stored leads stop matching."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgov.identity import identity_keys, siphash_key, value_hmac


def test_keys_are_stable_across_versions():
    # Pinned values: if pandas ever changes its hash, every stored key would silently stop
    # matching; this test fails first, and the keys must then be recomputed by a migration.
    keys = identity_keys(pd.Series(["camille.martin@nexalog.fr", "+33612345678"], dtype="str"), "k")
    assert keys.tolist() == [823380578293725269, -531002978876231991]


def test_keys_depend_on_the_secret_and_skip_missing():
    values = pd.Series(["a@b.fr", None], dtype="str")
    first, second = identity_keys(values, "one"), identity_keys(values, "two")
    assert first.iloc[0] != second.iloc[0]
    assert first.isna().tolist() == [False, True]


def test_hmac_is_keyed_sha256():
    assert value_hmac("a@b.fr", "k") != value_hmac("a@b.fr", "other")
    assert len(value_hmac("a@b.fr", "k")) == 64


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["a@b.fr", "+33612345678", "", "é"])),
                max_size=30))
def test_hashing_each_value_gives_the_keys_hashing_each_distinct_value_gives(values):
    """``identity_keys`` hashes every value as it is; categorizing first (each distinct value once, as
    keys were computed before) must give every value the same key, duplicates and any text included."""
    series = pd.Series(values, dtype="str")
    present = series.notna()
    expected = pd.Series(pd.NA, index=series.index, dtype="Int64")
    if present.any():
        hashed = pd.util.hash_array(series[present].to_numpy(dtype=object), hash_key=siphash_key("k"),
                                    categorize=True)
        expected[present] = hashed.view(np.int64)
    assert identity_keys(series, "k").tolist() == expected.tolist()
