"""Monthly statements (docs/governance-rules.md, Billing): units, free replacements, credits, cap, freeze."""

from decimal import Decimal
from functools import lru_cache

import pytest
from factories import DELETE, make_contract

from leadgov.billing import StatementDraft, compute_statement
from leadgov.ledger import Ledger
from leadgov.periods import month_period

MARCH = month_period(2027, 3)


# --- builders: each test states only what it varies ---------------------------------------------

def lead(pk, status="accepted", day="2027-03-02", over_cap=False, lead_id=None, replaces=None):
    return {"lead_pk": pk, "lead_id": lead_id or f"L{pk}", "delivery_id": 1, "delivered_on": day,
            "status": status, "over_cap": over_cap, "replaces_lead_id": replaces}


def reason(pk, code):
    return {"lead_pk": pk, "code": code}


def event(pk, name, at, contest_reason=None):
    """``at`` in local (Paris) time unless it carries an offset."""
    return {"lead_pk": pk, "lead_id": f"L{pk}", "event": name,
            "at": f"{at}+01:00" if "+" not in at and "Z" not in at else at, "contest_reason": contest_reason}


def claim(claim_id, pk, status="open", *, filled_by=None, overdue_on=None, origin="rejection"):
    return {"claim_id": claim_id, "lead_pk": pk, "lead_id": f"L{pk}", "origin": origin,
            "opened_on": "2027-03-02", "month": "2027-03", "due_on": "2027-03-12", "status": status,
            "filled_by_lead_pk": filled_by, "overdue_on": overdue_on}


def ledger(leads=(), reasons=(), events=(), claims=()):
    return Ledger.build("acme-leads", leads=leads, reasons=reasons, events=events, claims=claims)


@lru_cache
def _contract(items):
    return make_contract(**dict(items))


def contract(model="per_qualified_lead", cap=None, fee=None, **overrides):
    """The example contract (45.00 per unit, freeze at 5 % duplicates / 10 % data errors / any GDPR
    breach) with ``model``, ``cap`` (None = no cap) and a fixed fee for ``mixed``."""
    overrides = {"billing.model": model, "billing.monthly_budget_cap_eur": DELETE if cap is None else cap,
                 **({"billing.fixed_fee_eur_monthly": fee} if fee is not None else {}), **overrides}
    return _contract(tuple(sorted(overrides.items(), key=lambda kv: kv[0])))


def statement(book, terms=None, billed_before=frozenset(), month=MARCH) -> StatementDraft:
    return compute_statement(book, terms or contract(), month, billed_before=frozenset(billed_before))


def units_of(draft):
    return draft.units["lead_pk"].tolist()


def eur(text):
    return Decimal(text)


# --- one hand-computed month per model ----------------------------------------------------------

def test_per_lead_month():
    book = ledger(
        leads=[lead(1), lead(2), lead(3, "rejected"), lead(4, "rejected"), lead(5, over_cap=True),
               lead(6, replaces="L3"), lead(7), lead(8), lead(9), lead(10)],
        reasons=[reason(3, "MISSING_FIELD"), reason(4, "DUPLICATE_PREVIOUS")],
        claims=[claim(1, 3, "filled", filled_by=6),                      # 3 was billed -> 6 is free
                claim(2, 90, "overdue", overdue_on="2027-03-05")],       # 90 billed in February
    )
    draft = statement(book, contract("per_lead", cap=300.0), billed_before={90})
    # billed: 1, 2, 3 (MISSING_FIELD is a billable rejection), 7, 8, 9, 10;
    # not: 4 (DUPLICATE_PREVIOUS non-billable), 5 (over cap), 6 (free replacement of 3)
    # 7 units x 45.00 = 315.00; cap 300.00 -> excess 15.00; 1 credit 45.00; due = 315 - 15 - 45 = 255.00
    assert units_of(draft) == [1, 2, 3, 7, 8, 9, 10]
    assert draft.billable_units == 7
    assert draft.gross_eur == eur("315.00")
    assert draft.budget_cap_eur == eur("300.00")
    assert draft.cap_excess_eur == eur("15.00")
    assert draft.credits_eur == eur("45.00")
    assert draft.amount_due_eur == eur("255.00")
    assert draft.credited_claim_ids == [2]
    # duplicates 1 of 10 = 10 % > 5 %; data errors 1 of 10 = 10 % = 10 % -> not a reason
    assert draft.frozen is True
    assert draft.freeze_reasons == ("DUPLICATE_RATE: 10.00 % > 5.00 % (1 of 10 leads)",)


def test_per_qualified_lead_month():
    book = ledger(
        leads=[lead(1), lead(2), lead(3), lead(4), lead(5), lead(6), lead(7, "rejected"),
               lead(8, over_cap=True)],
        reasons=[reason(7, "NO_CONSENT")],
        events=[event(2, "contest", "2027-03-04 10:00", "WRONG_NUMBER")],
        claims=[claim(1, 2, "open", origin="contest"),
                claim(2, 91, "overdue", overdue_on="2027-03-20"),          # 91 billed before: credited
                claim(3, 92, "overdue", overdue_on="2027-03-21")],         # 92 never billed: no credit
    )
    draft = statement(book, contract("per_qualified_lead", cap=200.0), billed_before={91})
    # billed: 1, 3, 4, 5, 6; not: 2 (contested), 7 (rejected), 8 (over cap)
    # 5 units x 45.00 = 225.00; cap 200.00 -> excess 25.00; 1 credit 45.00; due = 225 - 25 - 45 = 155.00
    assert units_of(draft) == [1, 3, 4, 5, 6]
    assert (draft.gross_eur, draft.cap_excess_eur, draft.credits_eur) == (eur("225.00"), eur("25.00"), eur("45.00"))
    assert draft.amount_due_eur == eur("155.00")
    assert draft.credited_claim_ids == [2]
    assert draft.freeze_reasons == (
        "GDPR_BREACH: 1 lead rejected NO_CONSENT or NO_NOTICE, or contested NO_CONSENT_ON_CALL (L7)",)


def test_per_appointment_month():
    book = ledger(
        leads=[lead(1), lead(2), lead(3), lead(4, "rejected")],
        reasons=[reason(4, "INVALID_COMPANY_ID")],
        events=[event(1, "appointment_held", "2027-03-10 10:00"),
                event(2, "appointment_held", "2027-04-02 10:00"),     # April: not this month
                event(3, "appointment_held", "2027-03-12 10:00"),
                event(3, "appointment_held", "2027-03-20 10:00"),     # second appointment: ignored
                event(50, "appointment_held", "2027-03-03 10:00"),    # February lead: billed now
                event(51, "appointment_held", "2027-03-04 10:00"),    # already billed in February
                event(52, "appointment_held", "2027-02-25 10:00"),    # first appointment in February
                event(52, "appointment_held", "2027-03-06 10:00")],
        claims=[claim(1, 51, "overdue", overdue_on="2027-03-15")],
    )
    draft = statement(book, contract("per_appointment", cap=100.0, **{"billing.unit_price_eur": 60.0}),
                      billed_before={51})
    # 3 units (1, 3, 50) x 60.00 = 180.00; cap 100.00 -> excess 80.00; 1 credit 60.00;
    # due = 180 - 80 - 60 = 40.00
    assert units_of(draft) == [1, 3, 50]
    assert draft.billable_lead_ids == ["L1", "L3", "L50"]
    assert (draft.gross_eur, draft.cap_excess_eur, draft.credits_eur) == (eur("180.00"), eur("80.00"), eur("60.00"))
    assert draft.amount_due_eur == eur("40.00")
    # data errors 1 of 4 = 25 % > 10 %
    assert draft.freeze_reasons == ("DATA_ERROR_RATE: 25.00 % > 10.00 % (1 of 4 leads)",)


def test_mixed_month():
    book = ledger(
        leads=[lead(1), lead(2), lead(3), lead(4), lead(5, "rejected"), lead(6)],
        reasons=[reason(5, "ALREADY_IN_CRM")],
        events=[event(6, "contest", "2027-03-05 09:00", "NO_CONSENT_ON_CALL")],
        claims=[claim(1, 93, "credited", overdue_on="2027-03-31")],
    )
    draft = statement(book, contract("mixed", cap=600.0, fee=500.0), billed_before={93})
    # 4 units (1-4) x 45.00 = 180.00 + fee 500.00 = 680.00; cap 600.00 -> excess 80.00;
    # 1 credit 45.00; due = 680 - 80 - 45 = 555.00
    assert units_of(draft) == [1, 2, 3, 4]
    assert draft.fixed_fee_eur == eur("500.00")
    assert (draft.gross_eur, draft.cap_excess_eur, draft.credits_eur) == (eur("680.00"), eur("80.00"), eur("45.00"))
    assert draft.amount_due_eur == eur("555.00")
    # duplicates 1 of 6 = 16.67 % > 5 %; GDPR: lead 6 contested NO_CONSENT_ON_CALL
    assert draft.freeze_reasons == (
        "DUPLICATE_RATE: 16.67 % > 5.00 % (1 of 6 leads)",
        "GDPR_BREACH: 1 lead rejected NO_CONSENT or NO_NOTICE, or contested NO_CONSENT_ON_CALL (L6)",
    )


# --- which leads are units ----------------------------------------------------------------------

def test_per_lead_bills_a_billable_rejection_but_not_a_non_billable_one():
    book = ledger(leads=[lead(1, "rejected"), lead(2, "rejected"), lead(3, "rejected")],
                  reasons=[reason(1, "INVALID_PHONE"), reason(2, "OUT_OF_TARGET_SIZE"),
                           reason(3, "OUT_OF_TARGET_SIZE"), reason(3, "INVALID_EMAIL")])
    # 1: non-billable reason; 2: billable; 3: any non-billable reason wins
    assert units_of(statement(book, contract("per_lead"))) == [2]


@pytest.mark.parametrize("model", ["per_lead", "per_qualified_lead", "mixed"])
def test_over_weekly_cap_is_never_billed(model):
    book = ledger(leads=[lead(1), lead(2, over_cap=True)])
    assert units_of(statement(book, contract(model))) == [1]


def test_contested_lead_is_not_billed_per_qualified_lead_but_is_per_lead():
    book = ledger(leads=[lead(1), lead(2)], events=[event(2, "contest", "2027-03-03 10:00", "UNREACHABLE")])
    assert units_of(statement(book, contract("per_qualified_lead"))) == [1]
    assert units_of(statement(book, contract("per_lead"))) == [1, 2]


# --- free replacements --------------------------------------------------------------------------

def test_replacement_of_a_lead_billed_this_month_is_free():
    book = ledger(leads=[lead(1, "rejected"), lead(2, replaces="L1")], reasons=[reason(1, "MISSING_FIELD")],
                  claims=[claim(1, 1, "filled", filled_by=2)])
    assert units_of(statement(book, contract("per_lead"))) == [1]


def test_replacement_of_a_lead_billed_in_an_earlier_month_is_free():
    book = ledger(leads=[lead(2, replaces="L90")], claims=[claim(1, 90, "filled", filled_by=2)])
    assert units_of(statement(book, billed_before={90})) == []
    assert units_of(statement(book, billed_before=set())) == [2]


def test_replacement_of_a_never_billed_lead_is_billed():
    # per_qualified_lead: the contested lead 1 is not billed, so its replacement is
    book = ledger(leads=[lead(1), lead(2, replaces="L1")],
                  events=[event(1, "contest", "2027-03-03 10:00", "FAKE_LEAD")],
                  claims=[claim(1, 1, "filled", filled_by=2, origin="contest")])
    assert units_of(statement(book, contract("per_qualified_lead"))) == [2]


def test_a_claim_that_is_not_filled_makes_no_free_replacement():
    book = ledger(leads=[lead(2, replaces="L90")], claims=[claim(1, 90, "overdue", overdue_on="2027-04-01")])
    assert units_of(statement(book, billed_before={90})) == [2]


def test_replacement_chain_alternates_billed_and_free():
    # per_lead: 1 billed (MISSING_FIELD is billable); 2 replaces 1: free; 2 contested, 3 replaces 2:
    # 2 was not billed, so 3 is billed; 3 contested, 4 replaces 3: free.
    book = ledger(
        leads=[lead(1, "rejected"), lead(2, replaces="L1"), lead(3, replaces="L2"), lead(4, replaces="L3")],
        reasons=[reason(1, "MISSING_FIELD")],
        events=[event(2, "contest", "2027-03-04 10:00", "WRONG_PERSON"),
                event(3, "contest", "2027-03-06 10:00", "WRONG_PERSON")],
        claims=[claim(3, 3, "filled", filled_by=4, origin="contest"), claim(1, 1, "filled", filled_by=2),
                claim(2, 2, "filled", filled_by=3, origin="contest")],
    )
    assert units_of(statement(book, contract("per_lead"))) == [1, 3]


def test_free_replacements_do_not_apply_per_appointment():
    book = ledger(leads=[lead(2, replaces="L90")], claims=[claim(1, 90, "filled", filled_by=2)],
                  events=[event(2, "appointment_held", "2027-03-10 10:00")])
    assert units_of(statement(book, contract("per_appointment"), billed_before={90})) == [2]


# --- credits ------------------------------------------------------------------------------------

def test_credit_only_for_billed_leads_in_the_month_of_overdue_on_once_per_claim():
    book = ledger(
        leads=[lead(1, "rejected"), lead(2, "rejected")],
        reasons=[reason(1, "MISSING_FIELD"), reason(2, "INVALID_PHONE")],
        claims=[claim(10, 90, "overdue", overdue_on="2027-03-01"),
                claim(10, 90, "overdue", overdue_on="2027-03-01"),   # same claim loaded twice
                claim(11, 91, "overdue", overdue_on="2027-03-02"),   # 91 never billed
                claim(12, 90, "overdue", overdue_on="2027-02-28"),   # February's statement
                claim(13, 90, "overdue", overdue_on="2027-04-01"),   # April's statement
                claim(14, 90, "credited", overdue_on="2027-03-31"),  # recomputation keeps it
                claim(15, 1, "overdue", overdue_on="2027-03-13"),    # 1 billed on this statement
                claim(16, 2, "overdue", overdue_on="2027-03-13"),    # 2 not billed (INVALID_PHONE)
                claim(17, 90, "open")],
    )
    draft = statement(book, contract("per_lead"), billed_before={90})
    # 1 unit (lead 1) x 45.00 = 45.00; 3 credits (10, 14, 15) x 45.00 = 135.00; due = 45 - 135 = -90.00
    assert draft.credits[["claim_id", "lead_pk", "lead_id"]].values.tolist() == [
        [15, 1, "L1"], [10, 90, "L90"], [14, 90, "L90"]]
    assert draft.credits["amount_eur"].tolist() == [eur("45.00")] * 3
    assert draft.credits_eur == eur("135.00")
    assert draft.amount_due_eur == eur("-90.00")


def test_negative_amount_due_when_credits_exceed_gross():
    book = ledger(leads=[lead(1)], claims=[claim(1, 90, "overdue", overdue_on="2027-03-10"),
                                           claim(2, 91, "overdue", overdue_on="2027-03-11")])
    draft = statement(book, billed_before={90, 91})
    # 1 unit x 45.00 = 45.00; 2 credits = 90.00; due = 45 - 90 = -45.00
    assert (draft.gross_eur, draft.credits_eur, draft.amount_due_eur) == (eur("45.00"), eur("90.00"), eur("-45.00"))


# --- per_appointment ----------------------------------------------------------------------------

def test_per_appointment_bills_a_lead_delivered_in_an_earlier_month():
    book = ledger(events=[event(40, "appointment_held", "2027-03-09 15:00")])
    draft = statement(book, contract("per_appointment"))
    assert draft.units.values.tolist() == [[40, "L40", eur("45.00")]]


def test_per_appointment_does_not_rebill_a_lead_billed_before():
    book = ledger(events=[event(40, "appointment_held", "2027-03-09 15:00")])
    assert units_of(statement(book, contract("per_appointment"), billed_before={40})) == []


def test_per_appointment_never_bills_a_lead_over_the_weekly_cap():
    book = ledger(leads=[lead(1), lead(2, over_cap=True)],
                  events=[event(1, "appointment_held", "2027-03-05 10:00"),
                          event(2, "appointment_held", "2027-03-05 11:00")])
    assert units_of(statement(book, contract("per_appointment"))) == [1]


def test_per_appointment_counts_only_the_first_appointment_held():
    book = ledger(leads=[lead(1)],
                  events=[event(1, "appointment_held", "2027-03-20 10:00"),
                          event(1, "appointment_held", "2027-03-05 10:00"),
                          event(2, "appointment_held", "2027-03-02 10:00"),   # listed first, held second
                          event(2, "appointment_held", "2027-02-27 10:00"),
                          event(3, "appointment_set", "2027-03-02 10:00")])
    draft = statement(book, contract("per_appointment"))
    assert units_of(draft) == [1]
    assert draft.billable_units == 1


def test_per_appointment_month_is_the_local_day():
    # 23:30 UTC on 28 February is 00:30 on 1 March in Paris
    book = ledger(events=[event(1, "appointment_held", "2027-02-28T23:30:00Z"),
                          event(2, "appointment_held", "2027-03-31T22:30:00Z")])  # 1 April, 00:30 Paris
    assert units_of(statement(book, contract("per_appointment"))) == [1]


# --- freeze -------------------------------------------------------------------------------------

def _leads_with(n, flagged, code):
    return [lead(pk, "rejected" if pk <= flagged else "accepted") for pk in range(1, n + 1)], \
        [reason(pk, code) for pk in range(1, flagged + 1)]


@pytest.mark.parametrize(("n", "frozen"), [(19, True), (20, False)])
def test_duplicate_rate_freezes_only_above_threshold(n, frozen):
    leads, reasons = _leads_with(n, 1, "DUPLICATE_IN_DELIVERY")   # 1/19 = 5.26 %; 1/20 = 5.00 %
    draft = statement(ledger(leads, reasons))
    assert draft.frozen is frozen
    assert draft.freeze_reasons == (("DUPLICATE_RATE: 5.26 % > 5.00 % (1 of 19 leads)",) if frozen else ())


@pytest.mark.parametrize(("n", "frozen"), [(19, True), (20, False)])
def test_data_error_rate_freezes_only_above_threshold(n, frozen):
    leads, reasons = _leads_with(n, 2, "INVALID_VALUE")   # 2/19 = 10.53 %; 2/20 = 10.00 %
    draft = statement(ledger(leads, reasons))
    assert draft.frozen is frozen
    assert draft.freeze_reasons == (("DATA_ERROR_RATE: 10.53 % > 10.00 % (2 of 19 leads)",) if frozen else ())


def test_absent_rate_threshold_never_freezes():
    leads, reasons = _leads_with(2, 2, "DUPLICATE_PREVIOUS")
    terms = contract(**{"billing.freeze_if.duplicate_rate_above": DELETE})
    assert statement(ledger(leads, reasons), terms).frozen is False


def test_one_gdpr_breach_freezes_and_names_lead_ids():
    book = ledger(leads=[lead(1, "rejected"), lead(2), lead(3)], reasons=[reason(1, "NO_CONSENT")],
                  events=[event(3, "contest", "2027-03-03 10:00", "NO_CONSENT_ON_CALL")])
    draft = statement(book)
    assert draft.frozen is True
    assert draft.freeze_reasons == (
        "GDPR_BREACH: 2 leads rejected NO_CONSENT or NO_NOTICE, or contested NO_CONSENT_ON_CALL (L1, L3)",)


@pytest.mark.parametrize(("gdpr_breach", "frozen"), [(True, True), (False, False)])
def test_a_no_notice_rejection_is_a_gdpr_breach_that_freezes(gdpr_breach, frozen):
    book = ledger(leads=[lead(1, "rejected"), lead(2), lead(3, "rejected")],
                  reasons=[reason(1, "NO_NOTICE"), reason(3, "NO_CONSENT"), reason(3, "NO_NOTICE")])
    draft = statement(book, contract(**{"billing.freeze_if.gdpr_breach": gdpr_breach}))
    assert draft.frozen is frozen
    assert draft.freeze_reasons == (
        ("GDPR_BREACH: 2 leads rejected NO_CONSENT or NO_NOTICE, or contested NO_CONSENT_ON_CALL (L1, L3)",)
        if frozen else ())

def test_gdpr_breach_false_disables_that_freeze():
    book = ledger(leads=[lead(1, "rejected"), lead(2)], reasons=[reason(1, "NO_CONSENT")])
    draft = statement(book, contract(**{"billing.freeze_if.gdpr_breach": False}))
    assert (draft.frozen, draft.freeze_reasons) == (False, ())


# --- edges and output ---------------------------------------------------------------------------

def test_empty_month():
    draft = statement(ledger(), contract(cap=9000.0))
    assert draft.billable_units == 0
    assert draft.frozen is False and draft.freeze_reasons == ()
    assert (draft.gross_eur, draft.cap_excess_eur, draft.credits_eur, draft.amount_due_eur) == (eur("0.00"),) * 4
    assert draft.units.empty and draft.credits.empty


def test_no_cap_means_no_excess():
    draft = statement(ledger(leads=[lead(pk) for pk in range(1, 4)]))
    # 3 x 45.00 = 135.00, no cap
    assert (draft.budget_cap_eur, draft.cap_excess_eur, draft.amount_due_eur) == (None, eur("0.00"), eur("135.00"))


def test_money_is_rounded_half_up_to_the_cent():
    terms = contract(**{"billing.unit_price_eur": 12.345})   # 12.345 -> 12.35 per unit
    draft = statement(ledger(leads=[lead(1), lead(2)]), terms)
    assert (draft.unit_price_eur, draft.gross_eur) == (eur("12.35"), eur("24.70"))


def test_as_dict():
    book = ledger(leads=[lead(2), lead(1), lead(3, "rejected")], reasons=[reason(3, "NO_CONSENT")],
                  claims=[claim(7, 90, "overdue", overdue_on="2027-03-10")])
    out = statement(book, contract("mixed", cap=100.0, fee=40.5), billed_before={90}).as_dict()
    # 2 units x 45.00 + 40.50 = 130.50; cap 100.00 -> excess 30.50; 1 credit 45.00; due = 130.50 - 30.50 - 45 = 55.00
    assert out == {
        "supplier_id": "acme-leads", "month": "2027-03", "model": "mixed", "billable_units": 2,
        "unit_price_eur": 45.0, "fixed_fee_eur": 40.5, "gross_eur": 130.5, "budget_cap_eur": 100.0,
        "cap_excess_eur": 30.5, "credits_eur": 45.0, "amount_due_eur": 55.0, "frozen": True,
        "freeze_reasons": [
            "GDPR_BREACH: 1 lead rejected NO_CONSENT or NO_NOTICE, or contested NO_CONSENT_ON_CALL (L3)"],
        "billable_lead_ids": ["L1", "L2"],
        "credit_lines": [{"claim_id": 7, "lead_id": "L90", "amount_eur": 45.0}],
    }
    assert type(out["amount_due_eur"]) is float and type(out["credit_lines"][0]["claim_id"]) is int


def test_a_statement_needs_a_month():
    from leadgov.periods import week_period

    with pytest.raises(ValueError, match="calendar month"):
        statement(ledger(), month=week_period(2027, 9))
