"""Session-taking functions of the delivery store, on SQLite and PostgreSQL."""

import numpy as np
from factories import ingest, lead
from sqlalchemy import select

from leadgov.models import Lead
from leadgov.models.db import session_scope
from leadgov.models.delivery_store import lead_pks


def test_lead_pks_follow_the_asked_row_numbers(db_url):
    delivery_id = ingest(db_url, [lead(n) for n in range(1, 6)]).delivery_id
    with session_scope(db_url) as session:
        stored = dict(session.execute(select(Lead.row_number, Lead.id)).all())
        asked = np.array([5, 2, 3])
        assert lead_pks(session, delivery_id, asked).tolist() == [stored[5], stored[2], stored[3]]
        assert lead_pks(session, delivery_id, np.array([], dtype="int64")).tolist() == []
