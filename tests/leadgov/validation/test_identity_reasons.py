"""Identity-based reasons: duplicates in the file, earlier deliveries, other suppliers, CRM, suppression."""

import pandas as pd
from factories import HMAC_KEY, lead, reasons_of, validate_rows

from leadgov.identity import identity_keys, value_hmac
from leadgov.validation.people import KnownPeople


def test_duplicate_in_delivery_by_email_or_phone_first_kept():
    rows = [
        lead(1, email="a.b@nexalog.fr", phone="06 11 11 11 11"),
        lead(2, email="A.B@nexalog.fr ", phone="06 22 22 22 22"),  # same email after normalisation
        lead(3, email="c.d@nexalog.fr", phone="+33611111111"),  # same phone in another format
        lead(4, email="e.f@nexalog.fr", phone="06 33 33 33 33"),
    ]
    assert reasons_of(rows) == [[], ["DUPLICATE_IN_DELIVERY"], ["DUPLICATE_IN_DELIVERY"], []]


def test_first_occurrence_kept_whatever_its_fate():
    rows = [lead(1, email="a.b@nexalog.fr", employees="1"), lead(2, email="a.b@nexalog.fr")]
    assert reasons_of(rows) == [["OUT_OF_TARGET_SIZE"], ["DUPLICATE_IN_DELIVERY"]]


def test_duplicate_detail_names_the_first_row():
    rows = [lead(1), lead(2), lead(3, email=lead(2)["email"])]
    assert "same person as row 2" in validate_rows(rows).verdicts["details"].iloc[2]


def test_invalid_values_take_no_part_in_identity():
    rows = [lead(1, email="x@@nexalog.fr", phone="12"), lead(2, email="x@@nexalog.fr", phone="12")]
    assert reasons_of(rows) == [["INVALID_EMAIL", "INVALID_PHONE"], ["INVALID_EMAIL", "INVALID_PHONE"]]


def test_no_identity_never_duplicate():
    rows = [lead(1, email=None, phone=None), lead(2, email=None, phone=None)]
    assert reasons_of(rows) == [["MISSING_FIELD"], ["MISSING_FIELD"]]


def test_previous_and_other_supplier_from_known_people():
    known = KnownPeople(previous_emails=frozenset({"camille.martin1@nexalog.fr"}),
                        other_supplier_phones=frozenset({"+33612340002"}))
    assert reasons_of([lead(1), lead(2), lead(3)], known=known) == [
        ["DUPLICATE_PREVIOUS"], ["DUPLICATE_OTHER_SUPPLIER"], []]


def test_crm_match_by_email_or_phone():
    known = KnownPeople(crm_emails=frozenset({"camille.martin1@nexalog.fr"}), crm_phones=frozenset({"+33612340002"}))
    assert reasons_of([lead(1), lead(2), lead(3)], known=known) == [["ALREADY_IN_CRM"], ["ALREADY_IN_CRM"], []]


def test_suppressed_needs_the_hmac_not_only_the_key():
    email = "camille.martin1@nexalog.fr"
    key = int(identity_keys(pd.Series([email], dtype="str"), HMAC_KEY).iloc[0])
    proven = KnownPeople(suppressed_keys=frozenset({key}), suppressed_proofs=frozenset({value_hmac(email, HMAC_KEY)}))
    assert reasons_of([lead(1), lead(2)], known=proven) == [["SUPPRESSED"], []]
    collision_only = KnownPeople(suppressed_keys=frozenset({key}), suppressed_proofs=frozenset({"0" * 64}))
    assert reasons_of([lead(1)], known=collision_only) == [[]]


def test_over_weekly_cap_counts_accepted_in_delivery_order():
    from factories import make_contract

    contract = make_contract(**{"volumes.weekly_max": 3, "volumes.weekly_target": 2})
    rows = [lead(1), lead(2, employees="1"), lead(3), lead(4), lead(5)]
    verdicts = validate_rows(rows, contract, known=KnownPeople(accepted_earlier_in_week=1)).verdicts
    assert list(verdicts["status"]) == ["accepted", "rejected", "accepted", "accepted", "accepted"]
    assert verdicts["flags"].fillna("").tolist() == ["", "", "", "OVER_WEEKLY_CAP", "OVER_WEEKLY_CAP"]
