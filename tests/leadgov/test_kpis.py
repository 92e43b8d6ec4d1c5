"""KPIs of a hand-built ledger: each test sets a numerator and a denominator and checks the figure."""

import json
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from factories import make_contract

from leadgov.kpis import Volume, compute_kpis
from leadgov.ledger import Ledger
from leadgov.periods import parse_period

TZ = "Europe/Paris"
CONTRACT = make_contract()  # first_contact_sla_hours: 24
AS_OF = date(2027, 4, 1)


def lead(pk, status="accepted", day="2027-03-01", over_cap=False):
    return {"lead_pk": pk, "lead_id": f"L-{pk}", "delivery_id": 1, "delivered_on": day,
            "status": status, "over_cap": over_cap}


def leads(n, status="accepted", start=1):
    return [lead(pk, status) for pk in range(start, start + n)]


def event(pk, name, at="2027-03-01T10:00", **extra):
    """An outcome at a local (Europe/Paris) wall-clock time."""
    return {"lead_pk": pk, "lead_id": f"L-{pk}", "event": name, "at": pd.Timestamp(at, tz=TZ), **extra}


def contest(pk, reason="WRONG_NUMBER", at="2027-03-02T10:00"):
    return event(pk, "contest", at, contest_reason=reason)


def reason(pk, code):
    return {"lead_pk": pk, "code": code}


def claim(pk, status, due_on="2027-03-11", claim_id=None):
    return {"claim_id": claim_id or pk, "lead_pk": pk, "lead_id": f"L-{pk}", "origin": "rejection",
            "opened_on": "2027-03-01", "month": "2027-03", "status": status,
            "due_on": None if status == "not_owed_cap" else due_on}


def kpis(leads=(), reasons=(), events=(), claims=(), *, period="2027-03", contract=CONTRACT,
         billed_eur=None, as_of=AS_OF):
    ledger = Ledger.build("acme-leads", leads=leads, reasons=reasons, events=events, claims=claims, tz=TZ)
    return compute_kpis(ledger, contract, parse_period(period), billed_eur=billed_eur, as_of=as_of)


def test_empty_period_has_no_rates_and_zero_counts():
    k = kpis()
    rates = ["reject_rate", "duplicate_rate", "data_error_rate", "first_contact_sla", "reachability",
             "appointment_rate", "opportunity_rate", "win_rate", "replacement_fill_rate"]
    assert {name: getattr(k, name) for name in rates} == dict.fromkeys(rates)
    counts = ["delivered", "accepted", "rejected", "over_cap", "contested", "gdpr_incidents", "called",
              "reached", "appointments", "opportunities", "won", "replacements_owed",
              "replacements_filled_on_time", "replacements_open", "replacements_not_owed_cap", "in_review"]
    assert {name: getattr(k, name) for name in counts} == dict.fromkeys(counts, 0)
    assert k.reason_breakdown == []
    assert [s["count"] for s in k.funnel] == [0] * 6
    assert k.won_amount_eur == Decimal("0.00")
    assert k.cost_per_accepted is None
    assert k.volume == Volume(delivered=0, target=None, minimum=150, maximum=250, status="below")
    assert (k.supplier_id, k.period, k.kind) == ("acme-leads", "2027-03", "month")


def test_status_counts_and_over_cap():
    # over_cap counts accepted leads only: lead 7's flag on a rejected lead is ignored
    k = kpis([*leads(3), lead(4, over_cap=True), *leads(2, "rejected", start=5),
              lead(7, "rejected", over_cap=True)])
    assert (k.delivered, k.accepted, k.rejected, k.over_cap) == (7, 4, 3, 1)


def test_leads_in_review_count_in_review_only_and_in_the_denominators():
    """A lead waiting in review is delivered, neither accepted nor rejected: the rates over delivered leads
    count it in their denominator only; its reasons count in the breakdown and the duplicate/data rates."""
    k = kpis([*leads(6), *leads(2, "rejected", start=7), *leads(2, "review", start=9)],
             reasons=[reason(7, "INVALID_PHONE"), reason(8, "STALE"), reason(9, "STALE"), reason(10, "FREE_EMAIL")])
    assert (k.delivered, k.accepted, k.rejected, k.in_review) == (10, 6, 2, 2)
    assert k.reject_rate == pytest.approx(2 / 10)
    assert [(r["code"], r["count"]) for r in k.reason_breakdown] == [("INVALID_PHONE", 1), ("STALE", 2),
                                                                     ("FREE_EMAIL", 1)]
    assert k.funnel[1] == {"stage": "accepted", "count": 6}
    assert k.as_dict()["in_review"] == 2
    assert kpis(leads(2)).in_review == 0


def test_reject_rate_counts_contested_leads():
    # 2 rejected + 1 contested over 10 delivered
    k = kpis([*leads(8), *leads(2, "rejected", start=9)], events=[contest(1)])
    assert (k.rejected, k.contested) == (2, 1)
    assert k.reject_rate == pytest.approx(3 / 10)


def test_a_contest_on_a_rejected_lead_is_not_a_contested_lead():
    # 1 rejected (with a stray contest event) + 0 contested over 2 delivered
    k = kpis([lead(1), lead(2, "rejected")], events=[contest(2)])
    assert k.contested == 0
    assert k.reject_rate == pytest.approx(1 / 2)


def test_duplicate_and_data_error_rates_and_gdpr_incidents():
    # duplicates: leads 1 (two duplicate codes) and 2 -> 2/10; data errors: lead 3 and 1 -> 2/10
    # gdpr: lead 4 rejected NO_CONSENT, lead 5 contested NO_CONSENT_ON_CALL -> 2
    k = kpis([*leads(4, "rejected"), *leads(6, start=5)],
             reasons=[reason(1, "DUPLICATE_PREVIOUS"), reason(1, "ALREADY_IN_CRM"), reason(1, "INVALID_PHONE"),
                      reason(2, "DUPLICATE_IN_DELIVERY"), reason(3, "MISSING_FIELD"), reason(4, "NO_CONSENT")],
             events=[contest(5, "NO_CONSENT_ON_CALL"), contest(6, "WRONG_NUMBER")])
    assert (k.duplicates, k.duplicate_rate) == (2, pytest.approx(0.2))
    assert (k.data_errors, k.data_error_rate) == (2, pytest.approx(0.2))
    assert k.gdpr_incidents == 2


def test_a_no_notice_rejection_is_a_gdpr_incident_counted_once_per_lead():
    # lead 1 NO_NOTICE, lead 2 NO_CONSENT and NO_NOTICE (one incident), lead 3 rejected for another reason
    k = kpis(leads(3, "rejected"), reasons=[reason(1, "NO_NOTICE"), reason(2, "NO_CONSENT"),
                                            reason(2, "NO_NOTICE"), reason(3, "INVALID_EMAIL")])
    assert k.gdpr_incidents == 2

def test_reason_breakdown_counts_a_lead_once_per_code_in_spec_order():
    # 4 delivered; DUPLICATE_PREVIOUS listed twice for lead 1 counts once
    k = kpis([*leads(3, "rejected"), lead(4)],
             reasons=[reason(1, "DUPLICATE_PREVIOUS"), reason(1, "DUPLICATE_PREVIOUS"), reason(1, "NO_CONSENT"),
                      reason(2, "DUPLICATE_PREVIOUS"), reason(3, "STALE"), reason(99, "STALE")])
    assert k.reason_breakdown == [
        {"code": "NO_CONSENT", "count": 1, "share": 0.25},
        {"code": "DUPLICATE_PREVIOUS", "count": 2, "share": 0.5},
        {"code": "STALE", "count": 1, "share": 0.25},  # lead 99 is not in the cohort
    ]


def test_first_contact_sla_is_inclusive_at_the_limit():
    # delivered 1 March, 24 h: lead 1 called at 2 March 00:00 (in), lead 2 at 00:01 (late),
    # lead 3 never called; the rejected lead 4 called in time is not in the denominator -> 1/3
    k = kpis([lead(1), lead(2), lead(3), lead(4, "rejected")],
             events=[event(1, "call_attempt", "2027-03-02T00:00"), event(2, "call_attempt", "2027-03-02T00:01"),
                     event(4, "call_attempt", "2027-03-01T09:00")])
    assert k.first_contact_within_sla == 1
    assert k.first_contact_sla == pytest.approx(1 / 3)


@pytest.mark.parametrize("day, last_in, first_late", [
    # spring forward: 00:00 CET + 24 h = 01:00 CEST the next day (the local clock skipped an hour)
    ("2027-03-28", "2027-03-29T01:00", "2027-03-29T01:01"),
    # fall back: 00:00 CEST + 24 h = 23:00 CET the same local evening
    ("2027-10-31", "2027-10-31T23:00", "2027-10-31T23:01"),
])
def test_first_contact_sla_counts_elapsed_hours_across_dst(day, last_in, first_late):
    k = kpis([lead(1, day=day), lead(2, day=day)],
             events=[event(1, "call_attempt", last_in), event(2, "call_attempt", first_late)])
    assert k.first_contact_within_sla == 1
    assert k.first_contact_sla == pytest.approx(1 / 2)


def test_first_contact_sla_uses_the_earliest_call():
    # lead 1: a late call listed first, its earliest call is in time; lead 2: only late calls -> 1/2
    k = kpis([lead(1), lead(2)],
             events=[event(1, "call_attempt", "2027-03-03T09:00"), event(1, "call_attempt", "2027-03-01T15:00"),
                     event(2, "call_attempt", "2027-03-03T09:00"), event(2, "reached", "2027-03-01T15:00")])
    assert k.first_contact_sla == pytest.approx(1 / 2)


def test_reachability_ignores_reached_without_a_call_attempt():
    # called: 1, 2, 3; reached and called: 1, 2 (lead 4 reached without a call) -> 2/3
    k = kpis(leads(4), events=[event(1, "call_attempt"), event(1, "reached"),
                               event(1, "reached", "2027-03-02T10:00"),  # reached twice: one lead
                               event(2, "call_attempt"), event(2, "reached"), event(3, "call_attempt"),
                               event(4, "reached")])
    assert (k.called, k.reached) == (3, 2)
    assert k.reachability == pytest.approx(2 / 3)


def test_appointment_rate_excludes_contested_leads_from_both_sides():
    # accepted 1-4, lead 4 contested (with an appointment): 1 appointment (lead 1)
    # over 3 accepted-not-contested; the rejected lead 5's appointment is not counted
    k = kpis([*leads(4), lead(5, "rejected")],
             events=[event(1, "appointment_set"), event(1, "appointment_set", "2027-03-02T10:00"),
                     event(4, "appointment_set"), contest(4), event(5, "appointment_set")])
    assert k.appointments == 1
    assert k.appointment_rate == pytest.approx(1 / 3)


def test_opportunity_and_win_rates_and_won_amount():
    # 4 accepted: opportunities 1, 2 -> 2/4; won 1 -> 1/4 with 1200.50 + 99.25;
    # the rejected lead 5's opportunity and won are not counted
    k = kpis([*leads(4), lead(5, "rejected")],
             events=[event(1, "opportunity"), event(2, "opportunity"), event(5, "opportunity"),
                     event(1, "won", amount_eur=1200.50), event(1, "won", "2027-03-05T10:00", amount_eur=99.25),
                     event(5, "won", amount_eur=5000.0)])
    assert (k.opportunities, k.opportunity_rate) == (2, pytest.approx(0.5))
    assert (k.won, k.win_rate) == (1, pytest.approx(0.25))
    assert k.won_amount_eur == Decimal("1299.75")


def test_won_amount_is_summed_in_decimal_to_the_cent():
    # 15 digits and cents (what an outcome export may hold): a float cannot hold them, nor their sum
    k = kpis(leads(1), events=[event(1, "won", amount_eur=Decimal("999999999999999.99"))])
    assert k.won_amount_eur == Decimal("999999999999999.99")  # as a float: 1000000000000000.00
    cents = [event(pk, "won", amount_eur=Decimal("0.01")) for pk in (2, 3)]
    k = kpis(leads(3), events=[event(1, "won", amount_eur=Decimal("333333333333333.33")), *cents])
    assert k.won_amount_eur == Decimal("333333333333333.35")  # a float sum: 333333333333333.30


def test_funnel_counts_each_stage():
    k = kpis([*leads(3), lead(4, "rejected")],
             events=[event(1, "call_attempt"), event(1, "reached"), event(2, "call_attempt"), event(2, "reached"),
                     event(1, "appointment_set"), event(1, "opportunity"), event(1, "won", amount_eur=10.0)])
    assert k.funnel == [{"stage": "delivered", "count": 4}, {"stage": "accepted", "count": 3},
                        {"stage": "reached", "count": 2}, {"stage": "appointment", "count": 1},
                        {"stage": "opportunity", "count": 1}, {"stage": "won", "count": 1}]


def test_cost_per_unit_rounds_half_up_and_is_none_on_zero_count():
    # 100.01 billed over 2 accepted = 50.005 -> 50.01; 1 appointment; no opportunity, no won
    k = kpis(leads(2), events=[event(1, "appointment_set")], billed_eur=Decimal("100.01"))
    assert k.billed_eur == Decimal("100.01")
    assert k.cost_per_accepted == Decimal("50.01")
    assert k.cost_per_appointment == Decimal("100.01")
    assert (k.cost_per_opportunity, k.cost_per_won) == (None, None)


def test_cost_per_unit_is_none_without_a_billed_amount():
    k = kpis(leads(3), events=[event(1, "appointment_set"), event(1, "opportunity"), event(1, "won")])
    assert (k.billed_eur, k.cost_per_accepted, k.cost_per_appointment, k.cost_per_opportunity,
            k.cost_per_won) == (None, None, None, None, None)
    assert k.won_amount_eur == Decimal("0.00")  # a won event without an amount


SMALL = make_contract(**{"volumes.weekly_target": 3, "volumes.weekly_max": 5,
                         "volumes.monthly_min": 4, "volumes.monthly_max": 6})


@pytest.mark.parametrize("period, delivered, expected", [
    ("2027-W09", 2, Volume(2, 3, 3, 5, "below")),
    ("2027-W09", 3, Volume(3, 3, 3, 5, "within")),
    ("2027-W09", 5, Volume(5, 3, 3, 5, "within")),
    ("2027-W09", 6, Volume(6, 3, 3, 5, "above")),
    ("2027-03", 3, Volume(3, None, 4, 6, "below")),
    ("2027-03", 6, Volume(6, None, 4, 6, "within")),
    ("2027-03", 7, Volume(7, None, 4, 6, "above")),
    ("2027-Q1", 11, Volume(11, None, 12, 18, "below")),
    ("2027-Q1", 12, Volume(12, None, 12, 18, "within")),
    ("2027-Q1", 19, Volume(19, None, 12, 18, "above")),
    ("delivery:1", 7, Volume(7, None, None, None, None)),
    ("pilot", 7, Volume(7, None, None, None, None)),
])
def test_volume_against_the_contract(period, delivered, expected):
    k = kpis(leads(delivered), period=period, contract=SMALL)
    assert k.volume == expected
    assert k.kind == parse_period(period).kind


def test_replacement_fill_rate_over_owed_claims_of_the_cohort():
    # as of 1 April: owed = filled (1, 2) + overdue (3) + credited (4) + open past due (5) = 5; filled 2 -> 2/5
    # not owed: open due 1 April (6, not yet past due), not_owed_cap (7), lead 99 outside the cohort
    k = kpis([*leads(7, "rejected")],
             claims=[claim(1, "filled"), claim(2, "filled"), claim(3, "overdue"), claim(4, "credited"),
                     claim(5, "open", due_on="2027-03-31"), claim(6, "open", due_on="2027-04-01"),
                     claim(7, "not_owed_cap"), claim(99, "filled")])
    assert k.replacements_owed == 5
    assert k.replacements_filled_on_time == 2
    assert k.replacement_fill_rate == pytest.approx(2 / 5)
    assert (k.replacements_open, k.replacements_not_owed_cap) == (1, 1)


def test_as_dict_is_json_ready():
    k = kpis([*leads(2), lead(3, "rejected")], reasons=[reason(3, "STALE")],
             events=[event(1, "won", amount_eur=10.25)], billed_eur=Decimal("90"))
    data = json.loads(json.dumps(k.as_dict()))
    assert data["billed_eur"] == 90.0
    assert data["cost_per_accepted"] == 45.0
    assert data["won_amount_eur"] == 10.25
    assert data["cost_per_won"] == 90.0
    assert data["volume"] == {"delivered": 3, "target": None, "minimum": 150, "maximum": 250, "status": "below"}
    assert data["reason_breakdown"] == [{"code": "STALE", "count": 1, "share": pytest.approx(1 / 3)}]
    assert data["reject_rate"] == pytest.approx(1 / 3)
