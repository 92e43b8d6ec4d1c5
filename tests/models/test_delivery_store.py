"""Session-taking functions of the delivery store, on SQLite and PostgreSQL."""

import numpy as np
from factories import ingest, lead
from sqlalchemy import select, update

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


def test_accepted_by_company_counts_this_suppliers_accepted_leads_of_the_window(db_url):
    from datetime import timedelta

    from factories import DELIVERED_ON, make_contract_file

    from leadgov.models.delivery_store import accepted_by_company

    other = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})
    ingest(db_url, [lead(1), lead(2, siren="73282932000074"), lead(3, employees="1"), lead(4, siren="443061841"),
                    lead(5, siren="443061841")], name="a.csv")
    ingest(db_url, [lead(6), lead(7)], contract=other, name="b.csv")
    ingest(db_url, [lead(8)], day=DELIVERED_ON + timedelta(days=1), name="c.csv")  # after the window's end
    with session_scope(db_url) as session:
        # a lead in review is not accepted (it takes part in identity like a rejected one)
        session.execute(update(Lead).where(Lead.supplier_id == "acme-leads", Lead.row_number == 5,
                                           Lead.delivered_on == DELIVERED_ON).values(status="review"))
        def counts(since, until, sirens=("732829320", "443061841", "552100554")):
            return accepted_by_company(session, "acme-leads", list(sirens), since, until)

        assert counts(DELIVERED_ON, DELIVERED_ON) == {"732829320": 2, "443061841": 1}
        assert counts(DELIVERED_ON - timedelta(days=180), DELIVERED_ON + timedelta(days=1)) == {
            "732829320": 3, "443061841": 1}
        assert counts(DELIVERED_ON + timedelta(days=1), DELIVERED_ON + timedelta(days=2)) == {"732829320": 1}
        assert counts(DELIVERED_ON, DELIVERED_ON, sirens=["443061841"]) == {"443061841": 1}
        assert counts(DELIVERED_ON, DELIVERED_ON, sirens=[]) == {}
