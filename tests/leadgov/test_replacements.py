"""Replacement claim rules without a database: the monthly cap, filling, going overdue."""

from datetime import date

import pandas as pd
from factories import make_contract

from leadgov.replacements import match_replacements, new_claims, overdue_claims, owed_per_month

CONTRACT = make_contract()  # deadline 10 days, max_replacement_share 0.20


def candidates(n: int, day: str = "2027-03-01", origin: str = "rejection") -> pd.DataFrame:
    return pd.DataFrame({"lead_pk": range(1, n + 1), "lead_id": [f"L{i}" for i in range(1, n + 1)],
                         "origin": origin, "reason": "INVALID_EMAIL", "opened_on": pd.Timestamp(day)})


def test_owed_per_month_is_exact_at_the_boundary():
    assert owed_per_month(0.20, 100) == 20  # 0.2 x 100 is 20.000000000000004 in binary floats
    assert owed_per_month(0.20, 101) == 21  # 20.2: claims 0..20 are under it
    assert owed_per_month(0.20, 0) == 0
    assert owed_per_month(0.15, 20) == 3


def test_the_claim_that_reaches_the_cap_is_not_owed():
    claims = new_claims(candidates(22), CONTRACT, owed_so_far={}, delivered={"2027-03": 100})
    assert claims["status"].tolist() == ["open"] * 20 + ["not_owed_cap"] * 2
    assert claims["due_on"].iloc[0] == pd.Timestamp("2027-03-11")
    assert claims["due_on"].iloc[20:].isna().all()


def test_claims_already_owed_in_the_month_count_against_the_cap():
    claims = new_claims(candidates(3), CONTRACT, owed_so_far={"2027-03": 19}, delivered={"2027-03": 100})
    assert claims["status"].tolist() == ["open", "not_owed_cap", "not_owed_cap"]


def test_each_month_has_its_own_cap():
    both = pd.concat([candidates(2, "2027-03-31"), candidates(2, "2027-04-01")], ignore_index=True)
    claims = new_claims(both, CONTRACT, owed_so_far={"2027-03": 1}, delivered={"2027-03": 10, "2027-04": 5})
    # March: 0.2 x 10 = 2 owed, 1 already -> 1 more; April: 0.2 x 5 = 1 owed
    assert claims["status"].tolist() == ["open", "not_owed_cap", "open", "not_owed_cap"]
    assert claims["month"].tolist() == ["2027-03", "2027-03", "2027-04", "2027-04"]


def leads(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["lead_pk", "replaces_lead_id", "status", "delivered_on"])


OPEN = pd.DataFrame({"claim_id": [7], "lead_id": ["L1"], "due_on": [pd.Timestamp("2027-03-11")]})


def test_accepted_replacement_on_the_deadline_fills():
    m = match_replacements(leads((50, "L1", "accepted", pd.Timestamp("2027-03-11"))), OPEN)
    assert m.fills.to_dict("records") == [{"claim_id": 7, "filled_by_lead_pk": 50,
                                           "filled_on": pd.Timestamp("2027-03-11")}]
    assert m.late.empty and m.no_own_claim == frozenset()


def test_rejected_replacement_leaves_the_claim_open_and_opens_none():
    m = match_replacements(leads((50, "L1", "rejected", pd.Timestamp("2027-03-05"))), OPEN)
    assert m.fills.empty and m.no_own_claim == frozenset({50})


def test_first_accepted_replacement_in_row_order_fills():
    m = match_replacements(leads((50, "L1", "rejected", pd.Timestamp("2027-03-05")),
                                 (51, "L1", "accepted", pd.Timestamp("2027-03-05")),
                                 (52, "L1", "accepted", pd.Timestamp("2027-03-05"))), OPEN)
    assert m.fills["filled_by_lead_pk"].tolist() == [51]
    assert m.no_own_claim == frozenset({50})


def test_late_replacement_fills_nothing_and_marks_the_claim_overdue():
    m = match_replacements(leads((50, "L1", "accepted", pd.Timestamp("2027-03-12"))), OPEN)
    assert m.fills.empty
    assert m.late.to_dict("records") == [{"claim_id": 7, "overdue_on": pd.Timestamp("2027-03-12")}]
    assert m.no_own_claim == frozenset()


def test_lead_naming_no_open_claim_is_ordinary():
    m = match_replacements(leads((50, "L9", "rejected", pd.Timestamp("2027-03-05")),
                                 (51, None, "accepted", pd.Timestamp("2027-03-05"))), OPEN)
    assert m.fills.empty and m.late.empty and m.no_own_claim == frozenset()


def test_overdue_only_after_the_deadline_day():
    claims = pd.DataFrame({"claim_id": [1, 2, 3], "status": ["open", "open", "filled"],
                           "due_on": pd.to_datetime(["2027-03-11", "2027-03-12", "2027-03-01"])})
    late = overdue_claims(claims, date(2027, 3, 12))
    assert late[["claim_id", "overdue_on"]].to_dict("records") == [
        {"claim_id": 1, "overdue_on": pd.Timestamp("2027-03-12")}
    ]
    assert overdue_claims(claims, date(2027, 3, 11)).empty
