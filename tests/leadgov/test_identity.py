"""Identity keys must never change for a given value and key, or stored leads stop matching."""

import pandas as pd

from leadgov.identity import identity_keys, value_hmac


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
