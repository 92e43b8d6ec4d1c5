"""COMPANY_CAP (docs/deliveries.md): at most ``volumes.max_leads_per_company`` accepted leads of one
company (valid SIREN) from the supplier within the dedup window: earlier deliveries, then earlier rows."""

from datetime import timedelta

import pytest
from factories import DELIVERED_ON, ingest, lead, make_contract, make_contract_file, reasons_of, validate_rows

from leadgov.config.contract import ContractError
from leadgov.reasons import REASON_ORDER
from leadgov.reasons import RejectionReason as R
from leadgov.validation.people import KnownPeople

SIREN = "732829320"  # the factory's company
OTHER_SIREN = "552100554"  # valid, a competitor's in the example contract (``capped`` clears that list)
THIRD_SIREN = "443061841"  # valid, no competitor's
SIRET = "73282932000074"  # an establishment of SIREN


def capped(cap: int, **overrides) -> object:
    return make_contract(**{"volumes.max_leads_per_company": cap, "exclusions.competitor_sirens": [], **overrides})


def test_the_third_lead_of_a_company_under_a_cap_of_two():
    assert reasons_of([lead(1), lead(2), lead(3)], capped(2)) == [[], [], ["COMPANY_CAP"]]


def test_no_cap_no_limit():
    assert make_contract().volumes.max_leads_per_company is None
    assert reasons_of([lead(n) for n in range(1, 6)]) == [[]] * 5


def test_a_siret_is_its_company():
    rows = [lead(1, siren=SIRET), lead(2, siren="732 829 320"), lead(3, siren=SIRET)]
    assert reasons_of(rows, capped(2)) == [[], [], ["COMPANY_CAP"]]


def test_each_company_has_its_own_cap():
    rows = [lead(1), lead(2, siren=OTHER_SIREN), lead(3), lead(4, siren=OTHER_SIREN), lead(5, siren=OTHER_SIREN)]
    assert reasons_of(rows, capped(2)) == [[], [], [], [], ["COMPANY_CAP"]]


def test_a_lead_with_another_reason_is_not_capped_and_takes_no_place():
    rows = [lead(1, employees="1"), lead(2), lead(3, source="partner"), lead(4)]
    assert reasons_of(rows, capped(1)) == [["OUT_OF_TARGET_SIZE"], [], ["UNAUTHORIZED_SOURCE"], ["COMPANY_CAP"]]


def test_a_duplicate_of_an_earlier_row_is_a_duplicate_not_capped():
    rows = [lead(1), lead(2, email=lead(1)["email"]), lead(3)]
    assert reasons_of(rows, capped(2)) == [[], ["DUPLICATE_IN_DELIVERY"], []]


def test_leads_without_a_valid_siren_are_never_capped():
    rows = [lead(1, siren="732829321"), lead(2, siren="732829321"), lead(3, siren="7328293200001")]
    assert reasons_of(rows, capped(1)) == [["INVALID_COMPANY_ID"]] * 3
    optional = capped(1, **{"exploitability.required_fields": ["lead_id", "email", "phone"]})
    assert reasons_of([lead(1, siren=None), lead(2, siren=None), lead(3, siren="  ")], optional) == [[], [], []]


def test_accepted_leads_of_earlier_deliveries_take_places_first():
    known = KnownPeople(accepted_by_company={SIREN: 1, OTHER_SIREN: 5})
    rows = [lead(1), lead(2), lead(3, siren=OTHER_SIREN)]
    assert reasons_of(rows, capped(2), known=known) == [[], ["COMPANY_CAP"], ["COMPANY_CAP"]]


def test_detail_says_how_many_without_quoting_the_siren():
    known = KnownPeople(accepted_by_company={OTHER_SIREN: 5})
    rows = [lead(1), lead(2), lead(3, siren=OTHER_SIREN)]
    verdicts = validate_rows(rows, capped(1), known=known).verdicts
    window = make_contract().exclusions.dedup_window_days
    assert verdicts["details"].tolist() == [
        "", f"COMPANY_CAP: company (SIREN) at its cap: 1 accepted within {window} days (max 1)",
        f"COMPANY_CAP: company (SIREN) at its cap: 5 accepted within {window} days (max 1)"]
    assert verdicts["primary_reason"].tolist()[1:] == ["COMPANY_CAP", "COMPANY_CAP"]
    assert not verdicts["details"].str.contains(OTHER_SIREN).any()


def test_company_cap_is_last_in_the_primary_order():
    assert max(REASON_ORDER, key=REASON_ORDER.__getitem__) == R.COMPANY_CAP
    assert REASON_ORDER[R.COMPANY_CAP] == REASON_ORDER[R.UNAUTHORIZED_SOURCE] + 1


def test_the_weekly_cap_counts_the_leads_still_accepted_after_the_company_cap():
    contract = capped(1, **{"volumes.weekly_max": 2, "volumes.weekly_target": 1})
    rows = [lead(1), lead(2), lead(3, siren=OTHER_SIREN), lead(4, siren=THIRD_SIREN)]
    verdicts = validate_rows(rows, contract).verdicts
    assert verdicts["status"].tolist() == ["accepted", "rejected", "accepted", "accepted"]
    assert verdicts["reasons"].tolist() == ["", "COMPANY_CAP", "", ""]
    assert verdicts["flags"].fillna("").tolist() == ["", "", "", "OVER_WEEKLY_CAP"]


@pytest.mark.parametrize(("value", "problem"), [
    (0, "must be a whole number of at least 1 (leave the key out for no cap), got 0"),
    (-2, "must be a whole number of at least 1 (leave the key out for no cap), got -2"),
    ("3", "must be a whole number, got '3'"),
    (2.5, "must be a whole number, got 2.5"),
    (True, "must be a whole number, got true"),
])
def test_the_contract_key_is_a_positive_whole_number(value, problem):
    with pytest.raises(ContractError) as refused:
        make_contract(**{"volumes.max_leads_per_company": value})
    assert refused.value.problems == [f"volumes.max_leads_per_company: {problem}"]


# --- against the store (SQLite and PostgreSQL) ---

CAP_2 = make_contract_file(**{"volumes.max_leads_per_company": 2})
OTHER = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse",
                              "volumes.max_leads_per_company": 2})


def reasons(outcome) -> list[str]:
    return outcome.result.verdicts["reasons"].tolist()


def test_accepted_leads_of_earlier_deliveries_count_within_the_window_boundary_included(db_url):
    window = CAP_2.contract.exclusions.dedup_window_days
    ingest(db_url, [lead(1), lead(2)], contract=CAP_2, name="a.csv")
    for days, expected in ((0, "COMPANY_CAP"), (window, "COMPANY_CAP"), (window + 1, "")):
        day = DELIVERED_ON + timedelta(days=days)
        outcome = ingest(db_url, [lead(10 + days % 7, lead_id=f"N{days}", collected_at=str(day),
                                       consent_at=str(day))],
                         day=day, contract=CAP_2, name=f"{days}.csv", dry_run=True)
        assert reasons(outcome) == [expected]


def test_then_earlier_rows_of_the_delivery(db_url):
    ingest(db_url, [lead(1)], contract=CAP_2, name="a.csv")
    outcome = ingest(db_url, [lead(2), lead(3), lead(4, siren=THIRD_SIREN)], contract=CAP_2, name="b.csv",
                     day=DELIVERED_ON + timedelta(days=1))
    assert reasons(outcome) == ["", "COMPANY_CAP", ""]


def test_rejected_leads_of_earlier_deliveries_do_not_count(db_url):
    first = ingest(db_url, [lead(1, employees="1"), lead(2, source="partner"), lead(3)], contract=CAP_2, name="a.csv")
    assert first.result.verdicts["status"].tolist() == ["rejected", "rejected", "accepted"]
    outcome = ingest(db_url, [lead(4), lead(5)], contract=CAP_2, name="b.csv", day=DELIVERED_ON + timedelta(days=1))
    assert reasons(outcome) == ["", "COMPANY_CAP"]


def test_another_suppliers_accepted_leads_do_not_count(db_url):
    ingest(db_url, [lead(1), lead(2)], contract=OTHER, name="a.csv")
    outcome = ingest(db_url, [lead(3), lead(4), lead(5)], contract=CAP_2, name="b.csv")
    assert reasons(outcome) == ["", "", "COMPANY_CAP"]


def test_a_stored_delivery_keeps_its_company_cap_verdicts(db_url):
    rows = [lead(1), lead(2), lead(3)]
    first = ingest(db_url, rows, contract=CAP_2)
    again = ingest(db_url, rows, contract=CAP_2, name="again.csv")
    assert again.already_ingested and reasons(again) == reasons(first) == ["", "", "COMPANY_CAP"]


def test_the_return_file_explains_the_cap_to_the_supplier(tmp_path):
    import pandas as pd

    from leadgov.results import write_return_file

    verdicts = validate_rows([lead(1), lead(2)], capped(1)).verdicts
    path = write_return_file(verdicts, tmp_path / "retours.csv", "fr")
    rows = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert rows["lead_id"].tolist() == ["L-00002"] and rows["motifs"].tolist() == ["COMPANY_CAP"]
    assert rows["explication"].iloc[0].startswith("Nombre maximal de leads acceptés pour cette entreprise")
    assert rows["détails"].iloc[0].startswith("COMPANY_CAP: company (SIREN) at its cap: 1 accepted")


def test_a_capped_lead_goes_to_review_when_the_contract_reviews_company_cap():
    """COMPANY_CAP alone, listed in review_reasons: the lead waits in review; a review lead (only
    review reasons) is not "otherwise accepted", so it takes no place under the cap."""
    contract = capped(1, **{"exploitability.review_reasons": ["COMPANY_CAP", "OUT_OF_TARGET_SIZE"]})
    rows = [lead(1, employees="1"), lead(2), lead(3)]
    verdicts = validate_rows(rows, contract).verdicts
    assert list(verdicts["status"]) == ["review", "accepted", "review"]
    assert list(verdicts["reasons"]) == ["OUT_OF_TARGET_SIZE", "", "COMPANY_CAP"]
