"""A pilot decision moves the supplier's state; a terminated supplier's deliveries are refused."""

import pytest
from factories import ingest, lead

from leadgov.models.db import session_scope
from leadgov.models.pilot import decisions, record_decision
from leadgov.models.supplier import Supplier, SupplierTerminated


@pytest.mark.parametrize(("decision", "state"), [("approve", "active"), ("renegotiate", "renegotiating"),
                                                 ("terminate", "terminated")])
def test_decision_moves_the_supplier(db_url, decision, state):
    ingest(db_url, [lead(1)])
    with session_scope(db_url) as session:
        assert session.get(Supplier, "acme-leads").state == "pilot"  # a new supplier starts in pilot
        record_decision(session, supplier_id="acme-leads", verdict="GO", decision=decision, comment="ok",
                        decided_by="claire")
    with session_scope(db_url) as session:
        assert session.get(Supplier, "acme-leads").state == state
        assert [(d.verdict, d.decision, d.decided_by) for d in decisions(session, "acme-leads")] == [
            ("GO", decision, "claire")]


def test_unknown_decision_refused(db_url):
    ingest(db_url, [lead(1)])
    with session_scope(db_url) as session, pytest.raises(ValueError, match="unknown decision"):
        record_decision(session, supplier_id="acme-leads", verdict="GO", decision="maybe", comment="",
                        decided_by="x")


def test_deliveries_of_a_terminated_supplier_are_refused(db_url):
    ingest(db_url, [lead(1)])
    with session_scope(db_url) as session:
        record_decision(session, supplier_id="acme-leads", verdict="STOP", decision="terminate", comment="GDPR",
                        decided_by="claire")
    with pytest.raises(SupplierTerminated, match="acme-leads was terminated"):
        ingest(db_url, [lead(2)], name="later.csv")
