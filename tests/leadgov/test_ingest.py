"""Validating and storing deliveries against a real database (SQLite and PostgreSQL)."""

from datetime import date, timedelta

import pandas as pd
import pytest
from factories import DELIVERED_ON, HMAC_KEY, ingest, lead, make_contract_file
from sqlalchemy import func, select

from leadgov.identity import identity_keys, value_hmac
from leadgov.models import ContractVersion, Delivery, Lead, LeadReason, SuppressionEntry, delivery_store
from leadgov.models.db import session_scope
from leadgov.models.raw_record_store import supplied_values_at
from leadgov.models.supplier import ContractConflict

ACME = make_contract_file()
OTHER = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})


def count(db_url, model) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model))


def reasons(outcome) -> list[str]:
    return outcome.result.verdicts["reasons"].tolist()


def test_store_then_same_bytes_is_a_no_op(db_url):
    rows = [lead(1), lead(2, employees="1"), lead(3, email=None)]
    first = ingest(db_url, rows)
    assert not first.already_ingested
    assert count(db_url, Lead) == 3 and count(db_url, LeadReason) == 2
    again = ingest(db_url, rows, name="renamed.csv")
    assert again.already_ingested and again.delivery_id == first.delivery_id
    assert count(db_url, Delivery) == 1 and count(db_url, Lead) == 3 and count(db_url, LeadReason) == 2
    pd.testing.assert_frame_equal(again.result.verdicts.reset_index(drop=True),
                                  first.result.verdicts.reset_index(drop=True), check_dtype=False)


def test_delivery_records_counts_and_contract_version(db_url):
    outcome = ingest(db_url, [lead(1), lead(2, employees="1")])
    with session_scope(db_url) as session:
        delivery = session.get(Delivery, outcome.delivery_id)
        version = session.get(ContractVersion, delivery.contract_version_id)
        assert (delivery.delivered_count, delivery.accepted_count, delivery.rejected_count) == (2, 1, 1)
        assert version.sha256 == ACME.sha256 and version.content == ACME.text
        stored = session.scalars(select(Lead).order_by(Lead.row_number)).all()
        assert stored[0].phone == "+33612340001" and stored[0].email == "camille.martin1@nexalog.fr"
        assert stored[1].primary_reason == "OUT_OF_TARGET_SIZE" and stored[0].status == "accepted"
        values = supplied_values_at(session, pd.DataFrame({"delivery_id": [delivery.id] * 2, "row_number": [1, 2]}))
        assert values["collected_at"].iloc[0].isoformat() == "2027-02-27T10:00:00"
        assert values["employees"].tolist() == [int(lead(1)["employees"]), 1]


def test_duplicate_previous_within_window_boundary_included(db_url):
    window = ACME.contract.exclusions.dedup_window_days
    ingest(db_url, [lead(1), lead(2, employees="1")], day=DELIVERED_ON, name="a.csv")
    for days, expected in ((window, "DUPLICATE_PREVIOUS"), (window + 1, "")):
        day = DELIVERED_ON + timedelta(days=days)
        outcome = ingest(db_url, [lead(1, lead_id="N1", collected_at=str(day)),
                                  lead(2, lead_id="N2", collected_at=str(day))],
                         day=day, name=f"{days}.csv", dry_run=True)
        assert reasons(outcome) == [expected, expected]  # the rejected earlier lead counts too


def test_duplicate_other_supplier_only_for_accepted_leads(db_url):
    ingest(db_url, [lead(1), lead(2, employees="1")], contract=OTHER)
    outcome = ingest(db_url, [lead(1), lead(2)])
    assert reasons(outcome) == ["DUPLICATE_OTHER_SUPPLIER", ""]


def test_later_deliveries_do_not_count_as_earlier(db_url):
    ingest(db_url, [lead(1)], day=DELIVERED_ON + timedelta(days=3), name="late.csv")
    outcome = ingest(db_url, [lead(1, lead_id="X")], name="early.csv")
    assert reasons(outcome) == [""]


def test_weekly_cap_across_deliveries_of_one_iso_week(db_url):
    contract = make_contract_file(**{"volumes.weekly_max": 2, "volumes.weekly_target": 1})
    monday, wednesday, next_monday = date(2027, 3, 1), date(2027, 3, 3), date(2027, 3, 8)
    ingest(db_url, [lead(1)], day=monday, contract=contract, name="a.csv")
    outcome = ingest(db_url, [lead(2), lead(3)], day=wednesday, contract=contract, name="b.csv")
    assert outcome.result.verdicts["flags"].fillna("").tolist() == ["", "OVER_WEEKLY_CAP"]
    outcome = ingest(db_url, [lead(4, collected_at="2027-03-05")], day=next_monday, contract=contract, name="c.csv")
    assert outcome.result.verdicts["flags"].fillna("").tolist() == [""]


def test_lead_id_reused_from_earlier_delivery(db_url):
    ingest(db_url, [lead(1, lead_id="A")], name="a.csv")
    outcome = ingest(db_url, [lead(2, lead_id="A")], name="b.csv")
    assert reasons(outcome) == ["INVALID_VALUE"]


def test_suppression_list_and_crm(db_url):
    email = lead(1)["email"]
    key = int(identity_keys(pd.Series([email], dtype="str"), HMAC_KEY).iloc[0])
    with session_scope(db_url) as session:
        session.add(SuppressionEntry(kind="email", key_hmac=value_hmac(email, HMAC_KEY), identity_key=key,
                                     reason="objected"))
    crm = b"Email;Telephone;Phone\nCAMILLE.MARTIN2@nexalog.fr;;\n;;06 12 34 00 03\n"
    outcome = ingest(db_url, [lead(1), lead(2), lead(3), lead(4)], crm_data=crm)
    assert reasons(outcome) == ["SUPPRESSED", "ALREADY_IN_CRM", "ALREADY_IN_CRM", ""]


def test_crm_export_ignored_when_contract_has_no_crm_check(db_url):
    crm = b"email\ncamille.martin1@nexalog.fr\n"
    no_check = make_contract_file(**{"exclusions.crm_check": False, "contract_id": "ACME-NO-CRM"})
    assert reasons(ingest(db_url, [lead(1)], contract=no_check, crm_data=crm, dry_run=True)) == [""]
    assert reasons(ingest(db_url, [lead(1)], crm_data=crm, dry_run=True)) == ["ALREADY_IN_CRM"]


def test_dry_run_stores_nothing(db_url):
    outcome = ingest(db_url, [lead(1)], dry_run=True)
    assert outcome.delivery_id is None and count(db_url, Lead) == 0 and count(db_url, Delivery) == 0


def test_failure_while_storing_leaves_nothing(db_url, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(delivery_store, "insert_reasons", broken)
    with pytest.raises(RuntimeError):
        ingest(db_url, [lead(1), lead(2, employees="1")])
    assert (count(db_url, Delivery), count(db_url, Lead), count(db_url, LeadReason)) == (0, 0, 0)
    monkeypatch.undo()
    assert not ingest(db_url, [lead(1), lead(2, employees="1")]).already_ingested  # re-running is safe


def test_contract_versions(db_url):
    ingest(db_url, [lead(1)], name="a.csv")
    commented = make_contract_file()
    from leadgov.config.contract import parse_contract

    commented = parse_contract(ACME.text + "\n# signed copy in the shared drive\n", "acme.yaml")
    ingest(db_url, [lead(2)], contract=commented, name="b.csv")
    assert count(db_url, ContractVersion) == 2
    changed = make_contract_file(**{"billing.unit_price_eur": 50.0})
    with pytest.raises(ContractConflict, match="supersedes"):
        ingest(db_url, [lead(3)], contract=changed, name="c.csv")
    amended = make_contract_file(**{"billing.unit_price_eur": 50.0, "supersedes": "ACME-2027-01",
                                    "effective_from": "2027-06-01"})
    assert not ingest(db_url, [lead(4)], contract=amended, name="d.csv").already_ingested


def test_a_column_no_lead_fills_is_stored_null_and_a_filled_one_as_delivered(db_url):
    """insert_leads leaves out the columns the delivery never fills, and a block the values no lead fills:
    they must still read NULL."""
    ingest(db_url, [lead(1, campaign=None, siren=None), lead(2, campaign=None, siren=None)])
    ingest(db_url, [lead(3, campaign="printemps"), lead(4, campaign=None, siren=None)],
           day=DELIVERED_ON + timedelta(days=1))
    with session_scope(db_url) as session:
        rows = session.execute(select(Lead.lead_id, Lead.siren, Lead.delivery_id, Lead.row_number)).all()
        campaigns = supplied_values_at(session, pd.DataFrame(rows), ["campaign"])["campaign"].tolist()
    stored = {r.lead_id: (campaign, r.siren) for r, campaign in zip(rows, campaigns, strict=True)}
    assert stored == {"L-00001": (None, None), "L-00002": (None, None), "L-00003": ("printemps", lead(3)["siren"]),
                      "L-00004": (None, None)}
