"""Identity runs: a key found in any run of the window names the right stored lead."""

from datetime import timedelta

import pandas as pd
import pytest
from factories import DELIVERED_ON, HMAC_KEY, ingest, lead, make_contract_file

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
