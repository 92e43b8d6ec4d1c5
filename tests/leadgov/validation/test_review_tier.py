"""The review tier at validation (docs/validation-rules.md, Review tier): a lead whose reasons are all in
``exploitability.review_reasons`` waits in ``review``; one more reason of any other kind rejects it. The
contract refuses a code the tier may not hold. The stored leads, the result and return files keep the status;
identity treats a lead in review like a rejected one."""

from datetime import date

import pandas as pd
import pytest
from factories import ingest, lead, make_contract, make_contract_file, validate_rows
from sqlalchemy import select

from leadgov.config.contract import ContractError
from leadgov.ingest import stored_result
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.replacement import ReplacementClaim
from leadgov.reasons import REVIEWABLE_REASONS, RejectionReason
from leadgov.results import return_frame

REVIEWED = {"exploitability.review_reasons": ["OUT_OF_TARGET_SIZE", "FREE_EMAIL"]}


def statuses(rows, **overrides):
    return validate_rows(rows, make_contract(**{**REVIEWED, **overrides})).verdicts["status"].tolist()


def test_a_lead_whose_reasons_are_all_review_reasons_waits_in_review():
    rows = [lead(1), lead(2, employees="1"), lead(3, employees="1", email="camille3@gmail.com"),
            lead(4, email="camille4@gmail.com")]
    result = validate_rows(rows, make_contract(**REVIEWED))
    assert result.verdicts["status"].tolist() == ["accepted", "review", "review", "review"]
    # the reasons are recorded as usual, primary first
    assert result.verdicts["reasons"].tolist() == ["", "OUT_OF_TARGET_SIZE", "FREE_EMAIL;OUT_OF_TARGET_SIZE",
                                                   "FREE_EMAIL"]
    assert result.verdicts["primary_reason"].tolist()[1:] == ["OUT_OF_TARGET_SIZE", "FREE_EMAIL", "FREE_EMAIL"]
    assert result.counts() == {"delivered": 4, "accepted": 1, "rejected": 0, "in_review": 3, "over_cap": 0}


def test_a_review_reason_beside_any_other_reason_rejects_the_lead():
    rows = [lead(1, employees="1", source="partner"),  # OUT_OF_TARGET_SIZE + UNAUTHORIZED_SOURCE (not listed)
            lead(2, employees="1", phone="12"),  # + INVALID_PHONE
            lead(3, employees="1")]
    assert statuses(rows) == ["rejected", "rejected", "review"]


def test_without_review_reasons_every_reason_rejects():
    rows = [lead(1, employees="1"), lead(2, email="camille2@gmail.com")]
    assert validate_rows(rows, make_contract()).verdicts["status"].tolist() == ["rejected", "rejected"]
    assert make_contract().exploitability.review_reasons == []
    assert make_contract().exploitability.review_deadline_days == 5


def test_the_weekly_cap_counts_no_lead_in_review():
    rows = [lead(1, employees="1"), lead(2), lead(3)]
    result = validate_rows(rows, make_contract(**REVIEWED, **{"volumes.weekly_max": 1, "volumes.weekly_target": 1}))
    assert result.verdicts["status"].tolist() == ["review", "accepted", "accepted"]
    assert result.verdicts["flags"].fillna("").tolist() == ["", "", "OVER_WEEKLY_CAP"]


@pytest.mark.parametrize("code", REVIEWABLE_REASONS)
def test_every_reviewable_code_is_accepted_by_the_contract(code):
    contract = make_contract(**{"exploitability.review_reasons": [code, code]})
    assert contract.exploitability.review_reasons == [code]  # a code listed twice means the same


@pytest.mark.parametrize(("code", "says"), [
    ("DUPLICATE_PREVIOUS", "'DUPLICATE_PREVIOUS' cannot be reviewed"),
    ("NO_CONSENT", "'NO_CONSENT' cannot be reviewed"),
    ("INVALID_EMAIL", "'INVALID_EMAIL' cannot be reviewed"),
    ("TOO_SMALL", "'TOO_SMALL' is not a reason code the review tier knows"),
])
def test_a_code_the_review_tier_may_not_hold_is_a_contract_error(code, says):
    with pytest.raises(ContractError) as caught:
        make_contract(**{"exploitability.review_reasons": ["STALE", code]})
    (problem,) = caught.value.problems
    assert problem.startswith(f"exploitability.review_reasons[1]: {says}")
    assert "(allowed: STALE, GENERIC_EMAIL, FREE_EMAIL, OUT_OF_TARGET_GEO" in problem
    assert "COMPANY_CAP)" in problem


def test_the_reviewable_codes_are_known_reasons_but_company_cap():
    assert set(REVIEWABLE_REASONS) - set(RejectionReason) <= {"COMPANY_CAP"}


def test_a_negative_deadline_is_refused():
    with pytest.raises(ContractError) as caught:
        make_contract(**{"exploitability.review_deadline_days": -1})
    assert caught.value.problems[0].startswith("exploitability.review_deadline_days")


def test_the_return_file_lists_rejected_and_review_leads_with_their_status():
    rows = [lead(1), lead(2, employees="1"), lead(3, employees="1", source="partner")]
    verdicts = validate_rows(rows, make_contract(**REVIEWED)).verdicts
    frame = return_frame(verdicts, "fr")
    assert frame.columns.tolist() == ["ligne", "lead_id", "statut", "motifs", "explication", "détails"]
    assert frame[["ligne", "statut"]].values.tolist() == [[2, "en revue"], [3, "rejeté"]]
    assert return_frame(verdicts, "en")["status"].tolist() == ["in review", "rejected"]


# --- stored ----------------------------------------------------------------------------------------

CONTRACT = make_contract_file(**REVIEWED)


def test_a_stored_lead_in_review_keeps_its_status_and_opens_no_claim(db_url):
    outcome = ingest(db_url, [lead(1), lead(2, employees="1"), lead(3, phone="12")], contract=CONTRACT)
    assert outcome.result.verdicts["status"].tolist() == ["accepted", "review", "rejected"]
    with session_scope(db_url) as session:
        stored = dict(session.execute(select(Lead.lead_id, Lead.status)).all())
        claims = session.scalars(select(ReplacementClaim.lead_id)).all()
        again = stored_result(session, outcome.delivery_id)
    assert stored == {"L-00001": "accepted", "L-00002": "review", "L-00003": "rejected"}
    assert claims == ["L-00003"]  # the lead in review opens none while it waits
    pd.testing.assert_frame_equal(again.verdicts, outcome.result.verdicts, check_dtype=False, check_index_type=False)


def test_a_lead_in_review_is_a_duplicate_for_its_supplier_but_not_for_another(db_url):
    """Identity treats a lead in review like a rejected lead: DUPLICATE_PREVIOUS looks at every earlier lead
    of the supplier, DUPLICATE_OTHER_SUPPLIER only at the accepted leads of the others."""
    ingest(db_url, [lead(1, employees="1")], contract=CONTRACT)
    other = make_contract_file(**{"supplier.id": "other-leads", "contract_id": "OTHER-1"})
    later = ingest(db_url, [lead(1, lead_id="O-1")], date(2027, 3, 2), contract=other, name="o.csv")
    assert later.result.verdicts["status"].tolist() == ["accepted"]
    again = ingest(db_url, [lead(1, lead_id="L-9")], date(2027, 3, 3), contract=CONTRACT, name="again.csv")
    assert again.result.verdicts["reasons"].tolist() == ["DUPLICATE_PREVIOUS;DUPLICATE_OTHER_SUPPLIER"]
