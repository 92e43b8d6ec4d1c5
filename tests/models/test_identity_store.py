"""Identity runs: a key found in any run of the window names the right stored lead."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from factories import DELIVERED_ON, HMAC_KEY, ingest, lead, make_contract_file
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgov.identity import identity_keys
from leadgov.models import identity_store
from leadgov.models.db import session_scope
from leadgov.models.identity_store import PROBE_KEYS, identity_matches

OTHER = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})


def _key(email: str) -> int:
    return int(identity_keys(pd.Series([email], dtype="str"), HMAC_KEY).iloc[0])


@pytest.mark.parametrize("probe_keys", [PROBE_KEYS, 1, 3])
def test_hits_in_several_runs_name_their_own_delivery_supplier_and_status(db_url, monkeypatch, probe_keys):
    """The same hits whether the window's runs are probed all at once, one run at a time (1 key) or a
    batch of runs (3 keys: a run of two keys and the next)."""
    monkeypatch.setattr(identity_store, "PROBE_KEYS", probe_keys)
    ingest(db_url, [lead(1, email="a@alpha.fr"), lead(2, email="b@alpha.fr")])
    ingest(db_url, [lead(3, email="c@beta.fr"), lead(4, email="d@beta.fr", employees="1")],
           day=DELIVERED_ON + timedelta(days=1), contract=OTHER)
    ingest(db_url, [lead(5, email="e@gamma.fr")], day=DELIVERED_ON + timedelta(days=2))
    wanted = [_key(e) for e in ("b@alpha.fr", "d@beta.fr", "e@gamma.fr", "nobody@x.fr")]
    with session_scope(db_url) as session:
        found = identity_matches(session, kind="email", keys=wanted, since=DELIVERED_ON,
                                 until=DELIVERED_ON + timedelta(days=2))
    assert sorted(found.values.tolist()) == [
        ["b@alpha.fr", "acme-leads", "accepted"],
        ["d@beta.fr", "datapulse", "rejected"],
        ["e@gamma.fr", "acme-leads", "accepted"],
    ]


_KEY = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=300, deadline=None)
@given(wanted=st.lists(_KEY, min_size=1, max_size=40, unique=True),
       runs=st.lists(st.lists(_KEY, max_size=30), min_size=1, max_size=4),
       taken=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
       low_bits_only=st.booleans())
def test_the_low_bits_filter_finds_the_same_keys_as_the_hash_probe_alone(wanted, runs, taken, low_bits_only):
    """The fast path (the bitmap of the keys' low bits, then the hash probe) finds exactly the stored keys
    that are wanted, as the hash probe alone does: negative keys, and keys that share a wanted key's low
    bits without being it (``low_bits_only``) included."""
    wanted_keys = np.asarray(wanted, dtype=np.int64)
    bitmap = identity_store.low_bits_filter(wanted_keys)
    assert bitmap is not None
    slots = len(bitmap)
    if low_bits_only:  # stored keys that only share a wanted key's slot: the bitmap lets them through
        runs = [*runs, [k ^ (slots << n % 8) for n, k in enumerate(wanted)]]  # a higher bit flipped
    for n, position in enumerate(taken):  # wanted keys that were stored
        run = runs[n % len(runs)]
        run.insert(position % (len(run) + 1), wanted[position % len(wanted)])
    stored = [identity_store.StoredRun(delivery_id=10 + n, keys=np.asarray(keys, dtype="<i8").tobytes(),
                                       rows=np.arange(1, len(keys) + 1, dtype="<i4").tobytes())
              for n, keys in enumerate(runs)]
    table = pd.Index(wanted_keys)
    expected = sorted((10 + n, row) for n, keys in enumerate(runs)
                      for row, key in enumerate(keys, 1) if key in set(wanted))
    for found in (identity_store._probed(table, stored, bitmap), identity_store._probed(table, stored)):
        assert sorted(zip(found["delivery_id"].tolist(), found["row_number"].tolist(), strict=True)) == expected


def test_a_large_look_up_skips_the_low_bits_filter():
    """Past ``FILTER_MAX_SLOTS`` the bitmap would filter little for its size: no bitmap."""
    few = np.arange(identity_store.FILTER_MAX_SLOTS // identity_store.FILTER_SLOTS_PER_KEY, dtype=np.int64)
    assert len(identity_store.low_bits_filter(few)) == identity_store.FILTER_MAX_SLOTS
    assert identity_store.low_bits_filter(np.arange(len(few) + 1, dtype=np.int64)) is None
