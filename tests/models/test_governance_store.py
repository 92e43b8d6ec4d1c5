"""What the governance jobs read besides a ledger (``models.governance_store``), through the database."""

import hashlib
from datetime import timedelta

from factories import DELIVERED_ON, delivery_file, ingest, lead, make_contract_file, settings_for

from leadgov.ingest import DeliveryFile, ingest_delivery
from leadgov.models.db import session_scope
from leadgov.models.governance_store import suppliers_delivering

OTHER = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})
LATE = make_contract_file(**{"contract_id": "LT-2027", "supplier.id": "latecomer", "supplier.name": "Latecomer"})


def _header_only(db_url: str) -> None:
    """A delivery of DataPulse's whose file has its header and no row: stored, with no lead."""
    header = delivery_file([lead(1)], contract=OTHER.contract).take().split(b"\n")[0] + b"\n"
    file = DeliveryFile(data=header, file_name="empty.csv", delivered_on=DELIVERED_ON,
                        sha256=hashlib.sha256(header).hexdigest())
    with session_scope(db_url) as session:
        outcome = ingest_delivery(session, file, OTHER, settings_for(db_url))
    assert outcome.delivery_id is not None and outcome.result.counts()["delivered"] == 0


def test_the_suppliers_of_a_period_are_those_that_delivered_a_lead_in_it(db_url):
    """The quarterly review covers the suppliers that delivered at least one lead in the quarter: not
    one whose only delivery of the period held no row, nor one that delivered after it."""
    ingest(db_url, [lead(1)])
    _header_only(db_url)
    ingest(db_url, [lead(1)], day=DELIVERED_ON + timedelta(days=40), contract=LATE)
    with session_scope(db_url) as session:
        assert suppliers_delivering(session, DELIVERED_ON, DELIVERED_ON + timedelta(days=30)) == ["acme-leads"]
        assert suppliers_delivering(session, DELIVERED_ON, DELIVERED_ON + timedelta(days=40)) == [
            "acme-leads", "latecomer"]
