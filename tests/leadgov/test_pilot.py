"""The pilot verdict: Wilson intervals, GO / RENEGOTIATE / STOP, reasons, clauses, top reasons, objections;
and when a pilot is matured (can be judged).

Expected intervals were computed independently, by inverting the score test with bisection
(|p̂ - p| = z·sqrt(p(1 - p)/n)), not with the formula under test.
"""

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import make_contract

from leadgov.cohort import share
from leadgov.kpis import Kpis, Volume
from leadgov.pilot import (
    GO,
    RENEGOTIATE,
    STOP,
    ThresholdCheck,
    pilot_maturity,
    pilot_verdict,
    wilson_interval,
)

# pilot thresholds: reject <= 15 %, reachability >= 50 %, appointments >= 5 %, first-contact SLA >= 80 %;
# freeze_if: duplicates above 5 %, data errors above 10 %; pilot.size 100
CONTRACT = make_contract(**{
    "pilot.size": 100,
    "pilot.thresholds.max_reject_rate": 0.15, "pilot.thresholds.min_reachability": 0.50,
    "pilot.thresholds.min_appointment_rate": 0.05, "pilot.thresholds.first_contact_sla_share": 0.80,
    "billing.freeze_if.duplicate_rate_above": 0.05, "billing.freeze_if.data_error_rate_above": 0.10,
})


def pilot(*, delivered=100, accepted=90, rejected=10, contested=0, called=90, reached=60, appointments=9,
          first_contact_within_sla=72, duplicates=2, data_errors=3, gdpr_incidents=0, replacements_owed=0,
          replacements_filled_on_time=0, reason_breakdown=(), volume=None, kind="pilot") -> Kpis:
    """Pilot KPIs whose rates follow from the counts, as ``compute_kpis`` derives them. The defaults
    hold every threshold: reject 10/100, reachability 60/90, appointments 9/90, SLA 72/90 = 80 % exactly."""
    return Kpis(
        supplier_id="acme-leads", period="pilot", kind=kind,
        delivered=delivered, accepted=accepted, rejected=rejected, over_cap=0, contested=contested,
        reject_rate=share(rejected + contested, delivered),
        duplicates=duplicates, duplicate_rate=share(duplicates, delivered),
        data_errors=data_errors, data_error_rate=share(data_errors, delivered),
        gdpr_incidents=gdpr_incidents, reason_breakdown=list(reason_breakdown),
        volume=volume or Volume(delivered, None, None, None, None),
        first_contact_within_sla=first_contact_within_sla,
        first_contact_sla=share(first_contact_within_sla, accepted),
        called=called, reached=reached, reachability=share(reached, called),
        appointments=appointments, appointment_rate=share(appointments, accepted - contested),
        opportunities=0, opportunity_rate=share(0, accepted), won=0, win_rate=share(0, accepted),
        won_amount_eur=Decimal("0.00"), funnel=[], billed_eur=None, cost_per_accepted=None,
        cost_per_appointment=None, cost_per_opportunity=None, cost_per_won=None,
        replacements_owed=replacements_owed, replacements_filled_on_time=replacements_filled_on_time,
        replacement_fill_rate=share(replacements_filled_on_time, replacements_owed),
        replacements_open=0, replacements_not_owed_cap=0,
    )


# --- Wilson interval ---------------------------------------------------------------------------

@pytest.mark.parametrize("successes, trials, low, high", [
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (81, 100, 0.7222, 0.8749),
    (10, 10, 0.7225, 1.0),
    (1, 1, 0.2065, 1.0),
    (22, 100, 0.1500, 0.3107),
])
def test_wilson_interval_known_values(successes, trials, low, high):
    got = wilson_interval(successes, trials)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_is_clamped_and_exact_at_the_edges():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0


def test_wilson_interval_of_nothing_is_none():
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize("successes, trials", [(-1, 10), (11, 10), (1, 0)])
def test_wilson_interval_refuses_impossible_counts(successes, trials):
    with pytest.raises(ValueError, match="0 <= successes <= trials"):
        wilson_interval(successes, trials)


# --- checks ------------------------------------------------------------------------------------

def test_checks_numerators_denominators_and_intervals():
    # contested leads count as rejected and leave the appointment denominator: 90 accepted - 5 contested
    v = pilot_verdict(pilot(contested=5, appointments=17), CONTRACT)
    assert [(c.name, c.numerator, c.denominator, c.direction, c.threshold) for c in v.checks] == [
        ("reject_rate", 15, 100, "max", 0.15),
        ("reachability", 60, 90, "min", 0.50),
        ("appointment_rate", 17, 85, "min", 0.05),
        ("first_contact_sla_share", 72, 90, "min", 0.80),
    ]
    reject = v.checks[0]
    assert reject.measured == 0.15 and reject.held  # equal to the threshold holds
    assert v.checks[3].measured == 0.8 and v.checks[3].held
    assert (reject.low, reject.high) == wilson_interval(15, 100)
    assert v.verdict == GO


def reject_check(**changes) -> ThresholdCheck:
    return pilot_verdict(pilot(**changes), CONTRACT).checks[0]


def test_clearly_missed_and_uncertain():
    clear = reject_check(rejected=40, accepted=60, first_contact_within_sla=50)  # 40 % CI 30.9–49.8 %
    assert (clear.held, clear.clearly_missed, clear.uncertain) == (False, True, False)
    close = reject_check(rejected=18, accepted=82)  # 18 % CI 11.7–26.7 %
    assert (close.held, close.clearly_missed, close.uncertain) == (False, False, True)
    held = reject_check()  # 10 % CI 5.5–17.4 %: held, but the interval straddles 15 %
    assert (held.held, held.clearly_missed, held.uncertain) == (True, False, True)
    safe = reject_check(rejected=2, accepted=98, first_contact_within_sla=80)  # 2 % CI 0.6–7.0 %
    assert (safe.held, safe.clearly_missed, safe.uncertain) == (True, False, False)


def test_a_check_without_data_does_not_hold():
    v = pilot_verdict(pilot(called=0, reached=0), CONTRACT)
    reach = v.checks[1]
    assert reach == ThresholdCheck("reachability", None, 0.5, "min", 0, 0, None, None, held=False)
    assert (reach.clearly_missed, reach.uncertain) == (False, False)
    assert v.verdict == RENEGOTIATE
    assert v.reasons == ["reachability n/a: no data (0 of 0) vs 50.0 %"]
    assert v.clauses == []  # no evidence against the supplier: no clause


def test_an_empty_pilot_is_never_go():
    v = pilot_verdict(pilot(delivered=0, accepted=0, rejected=0, called=0, reached=0, appointments=0,
                            first_contact_within_sla=0, duplicates=0, data_errors=0), CONTRACT)
    assert [c.held for c in v.checks] == [False] * 4
    assert v.verdict == RENEGOTIATE
    assert v.reasons == [
        "reject_rate n/a: no data (0 of 0) vs 15.0 %",
        "reachability n/a: no data (0 of 0) vs 50.0 %",
        "appointment_rate n/a: no data (0 of 0) vs 5.0 %",
        "first_contact_sla_share n/a: no data (0 of 0) vs 80.0 % (our team)",
        "volume 0 < 100",
    ]
    assert v.clauses == ["volume"]


# --- verdicts ----------------------------------------------------------------------------------

def test_go_when_every_threshold_holds():
    v = pilot_verdict(pilot(), CONTRACT)
    assert (v.verdict, v.reasons, v.clauses) == (GO, [], [])
    assert all(c.held for c in v.checks)


def test_go_ignores_secondary_observations():
    # duplicates above the freeze threshold and a short pilot: the thresholds still all hold
    v = pilot_verdict(pilot(delivered=90, accepted=81, rejected=9, called=81, reached=60, appointments=9,
                            first_contact_within_sla=70, duplicates=9), CONTRACT)
    assert (v.verdict, v.reasons, v.clauses) == (GO, [], [])


def test_renegotiate_when_one_threshold_is_missed():
    v = pilot_verdict(pilot(reached=40), CONTRACT)  # reachability 40/90
    assert v.verdict == RENEGOTIATE
    assert [c.name for c in v.checks if not c.held] == ["reachability"]
    assert v.reasons == ["reachability 44.4 % < 50.0 % (95 % CI 34.6–54.7 %)"]
    assert v.clauses == ["criteria"]


def test_reason_format_of_a_missed_maximum():
    v = pilot_verdict(pilot(rejected=22, accepted=78, called=78, first_contact_within_sla=70), CONTRACT)
    assert v.verdict == RENEGOTIATE
    assert v.reasons == ["reject_rate 22.0 % > 15.0 % (95 % CI 15.0–31.1 %)"]


def test_reject_rate_exactly_twice_the_threshold_is_not_stop():
    v = pilot_verdict(pilot(rejected=30, accepted=70, called=70, reached=50, appointments=7,
                            first_contact_within_sla=60), CONTRACT)  # 30 % = 2 x 15 %
    assert v.verdict == RENEGOTIATE
    assert v.reasons == ["reject_rate 30.0 % > 15.0 % (95 % CI 21.9–39.6 %)"]


def test_reject_rate_just_above_twice_the_threshold_is_stop():
    v = pilot_verdict(pilot(rejected=31, accepted=69, called=69, reached=50, appointments=7,
                            first_contact_within_sla=60), CONTRACT)  # 31 %
    assert v.verdict == STOP
    assert v.reasons == ["STOP: reject_rate 31.0 % > 2 x 15.0 % = 30.0 %",
                         "reject_rate 31.0 % > 15.0 % (95 % CI 22.8–40.6 %)"]
    assert v.clauses == ["criteria"]


def test_contested_leads_count_towards_stop():
    # 21 rejected + 10 contested = 31 of 100
    v = pilot_verdict(pilot(rejected=21, accepted=79, contested=10, called=79, first_contact_within_sla=70),
                      CONTRACT)
    assert v.verdict == STOP


def test_one_gdpr_incident_is_stop_even_when_everything_holds():
    v = pilot_verdict(pilot(gdpr_incidents=1), CONTRACT)
    assert all(c.held for c in v.checks)
    assert (v.verdict, v.reasons, v.clauses) == (STOP, ["STOP: gdpr_incidents 1 > 0"], [])


def test_a_no_notice_rejection_in_the_cohort_is_stop():
    """From the ledger: NO_NOTICE counts as a GDPR incident like NO_CONSENT, so the verdict is STOP."""
    from leadgov.kpis import compute_kpis
    from leadgov.ledger import Ledger
    from leadgov.periods import parse_period

    leads = [{"lead_pk": pk, "lead_id": f"L-{pk}", "delivery_id": 1, "delivered_on": "2027-03-01",
              "status": "rejected" if pk == 11 else "accepted", "over_cap": False} for pk in range(1, 12)]
    for code, verdict in (("NO_NOTICE", STOP), ("OUT_OF_TARGET_SIZE", RENEGOTIATE)):
        ledger = Ledger.build("acme-leads", leads=leads, reasons=[{"lead_pk": 11, "code": code}], events=[],
                              claims=[], tz="Europe/Paris")
        kpis = compute_kpis(ledger, CONTRACT, parse_period("2027-03"), as_of=date(2027, 4, 1))
        v = pilot_verdict(kpis, CONTRACT)
        assert (v.verdict, "STOP: gdpr_incidents 1 > 0" in v.reasons) == (verdict, verdict == STOP), code

# --- clauses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, clauses", [
    ({"rejected": 20, "accepted": 80}, ["criteria"]),                      # reject 20 %
    ({"reached": 44}, ["criteria"]),                                       # reachability 44/90
    ({"appointments": 4}, ["criteria", "billing_model"]),                  # 4/90 = 4.4 %
    ({"first_contact_within_sla": 71}, []),                                # 78.9 %: our team
])
def test_clauses_per_missed_threshold(changes, clauses):
    v = pilot_verdict(pilot(**changes), CONTRACT)
    assert v.verdict == RENEGOTIATE
    assert [c.name for c in v.checks if not c.held] == [
        {"rejected": "reject_rate", "reached": "reachability", "appointments": "appointment_rate",
         "first_contact_within_sla": "first_contact_sla_share"}[next(iter(changes))]]
    assert v.clauses == clauses


@pytest.mark.parametrize("changes, clause, reason", [
    ({"duplicates": 6}, "criteria", "duplicate_rate 6.0 % > 5.0 %"),
    ({"data_errors": 11}, "criteria", "data_error_rate 11.0 % > 10.0 %"),
    ({"replacements_owed": 10, "replacements_filled_on_time": 8}, "replacement_share",
     "replacement_fill_rate 80.0 % < 90.0 % (8 of 10 owed filled on time)"),
    ({"volume": Volume(100, None, 120, 200, "below")}, "volume", "volume 100 < 120"),
])
def test_clauses_of_secondary_observations(changes, clause, reason):
    # they never change the verdict; with the appointment rate missed (4/90), they add their clause
    assert pilot_verdict(pilot(**changes), CONTRACT).verdict == GO
    v = pilot_verdict(pilot(appointments=4, **changes), CONTRACT)
    assert v.verdict == RENEGOTIATE
    assert v.reasons[1:] == [reason]
    assert v.clauses == [c for c in ("criteria", "volume", "replacement_share", "billing_model")
                         if c in {"criteria", "billing_model", clause}]


@pytest.mark.parametrize("changes", [
    {"duplicates": 5},                                                     # 5 % is not above 5 %
    {"data_errors": 10},                                                   # 10 % is not above 10 %
    {"replacements_owed": 10, "replacements_filled_on_time": 9},           # 90 % is not below 90 %
    {"replacements_owed": 0},                                              # nothing owed
    {"volume": Volume(100, None, 100, 200, "within")},
    {"delivered": 99, "rejected": 9, "kind": "delivery"},                  # no contracted volume, not a pilot
])
def test_no_clause_at_the_boundaries(changes):
    # reachability missed so that the verdict is RENEGOTIATE and clauses are listed
    v = pilot_verdict(pilot(reached=44, **changes), CONTRACT)
    assert v.clauses == ["criteria"]
    assert len(v.reasons) == 1


def test_a_short_pilot_points_to_volume():
    v = pilot_verdict(pilot(delivered=99, rejected=9, reached=44), CONTRACT)
    assert v.reasons[-1] == "volume 99 < 100"
    assert v.clauses == ["criteria", "volume"]


def test_sla_miss_is_our_team_and_adds_no_clause():
    v = pilot_verdict(pilot(first_contact_within_sla=63), CONTRACT)  # 70 %
    assert v.verdict == RENEGOTIATE
    assert v.reasons == ["first_contact_sla_share 70.0 % < 80.0 % (95 % CI 59.9–78.5 %) (our team)"]
    assert v.clauses == []


def test_clauses_are_distinct_and_in_fixed_order():
    v = pilot_verdict(pilot(rejected=20, accepted=80, reached=40, appointments=2, first_contact_within_sla=60,
                            duplicates=8, data_errors=12, replacements_owed=5, replacements_filled_on_time=1,
                            volume=Volume(100, None, 150, 250, "below")), CONTRACT)
    assert v.clauses == ["criteria", "volume", "replacement_share", "billing_model"]
    assert v.reasons == [
        "reject_rate 20.0 % > 15.0 % (95 % CI 13.3–28.9 %)",
        "reachability 44.4 % < 50.0 % (95 % CI 34.6–54.7 %)",
        "appointment_rate 2.5 % < 5.0 % (95 % CI 0.7–8.7 %)",
        "first_contact_sla_share 75.0 % < 80.0 % (95 % CI 64.5–83.2 %) (our team)",
        "duplicate_rate 8.0 % > 5.0 %",
        "data_error_rate 12.0 % > 10.0 %",
        "volume 100 < 150",
        "replacement_fill_rate 20.0 % < 90.0 % (1 of 5 owed filled on time)",
    ]


# --- top reasons and objections ----------------------------------------------------------------

def test_top_three_reasons_by_count_ties_in_breakdown_order():
    breakdown = [{"code": "NO_CONSENT", "count": 2, "share": 0.02},
                 {"code": "DUPLICATE_PREVIOUS", "count": 5, "share": 0.05},
                 {"code": "INVALID_PHONE", "count": 5, "share": 0.05},
                 {"code": "STALE", "count": 1, "share": 0.01},
                 {"code": "OUT_OF_TARGET", "count": 3, "share": 0.03}]
    v = pilot_verdict(pilot(reason_breakdown=breakdown), CONTRACT)
    assert v.top_reasons == [{"code": "DUPLICATE_PREVIOUS", "count": 5, "share": 0.05},
                             {"code": "INVALID_PHONE", "count": 5, "share": 0.05},
                             {"code": "OUT_OF_TARGET", "count": 3, "share": 0.03}]


def test_top_five_objections_by_count_then_name():
    objections = {"price": 3, "timing": 5, "already_equipped": 3, "no_budget": 7, "x_other": 1,
                  "competitor": 1, "never": 0}
    v = pilot_verdict(pilot(), CONTRACT, objections=objections)
    assert v.objections == [("no_budget", 7), ("timing", 5), ("already_equipped", 3), ("price", 3),
                            ("competitor", 1)]
    assert pilot_verdict(pilot(), CONTRACT).objections == []


def test_verdict_as_dict_is_json_ready():
    v = pilot_verdict(pilot(reached=40), CONTRACT, objections={"price": 2})
    data = json.loads(json.dumps(v.as_dict()))
    assert data["verdict"] == "RENEGOTIATE"
    assert data["checks"][1]["name"] == "reachability"
    assert (data["checks"][1]["held"], data["checks"][1]["uncertain"]) == (False, True)
    assert data["objections"] == [["price", 2]]


def test_other_thresholds_come_from_the_contract():
    strict = make_contract(**{"pilot.thresholds.max_reject_rate": 0.05})
    v = pilot_verdict(pilot(), strict)  # 10 % > 5 %, but not above 2 x 5 %
    assert v.verdict == RENEGOTIATE
    v = pilot_verdict(replace(pilot(), rejected=11, accepted=89), strict)  # counts, not the rate field
    assert v.verdict == STOP


# --- maturity: pilot.size 3, max_duration_days 30, contest_window_days 7 ---------------------------

SMALL = make_contract(**{"pilot.size": 3, "pilot.max_duration_days": 30, "replacement.contest_window_days": 7})
START = date(2027, 3, 1)


def maturity(as_of, *, first=START, leads=3, last=date(2027, 3, 10), state="pilot", start=START):
    return pilot_maturity(SMALL, start_date=start, first_delivery=first, cohort_leads=leads,
                          cohort_last_delivery=last, supplier_state=state, as_of=as_of)


def test_a_full_cohort_matures_the_day_after_the_contest_window_of_its_last_delivery():
    # full on 10 March: contests are accepted until 17 March included; judged from 18 March
    found = maturity(date(2027, 3, 17))
    assert (found.cohort_full, found.last_delivery, found.contest_closes_on, found.matured_on) == (
        True, date(2027, 3, 10), date(2027, 3, 17), date(2027, 3, 18))
    assert not found.matured and found.notes == ()
    assert maturity(date(2027, 3, 18)).matured


def test_a_cohort_not_full_waits_for_the_end_of_the_pilot_window():
    # 2 of 3 leads: a lead may still come until 30 March (1 March + 30 days - 1), then 7 days of contests
    found = maturity(date(2027, 4, 6), leads=2)
    assert (found.cohort_full, found.window_last_day, found.last_delivery) == (False, date(2027, 3, 30),
                                                                               date(2027, 3, 30))
    assert (found.contest_closes_on, found.matured_on, found.matured) == (date(2027, 4, 6), date(2027, 4, 7), False)
    assert maturity(date(2027, 4, 7), leads=2).matured


def test_no_delivery_yet_counts_from_the_start_date():
    found = maturity(date(2027, 4, 7), first=None, leads=0, last=None)
    assert (found.window_last_day, found.matured_on, found.matured, found.notes) == (
        date(2027, 3, 30), date(2027, 4, 7), True, ())


@pytest.mark.parametrize("start, first", [
    (date(2027, 3, 1), date(2027, 3, 4)),   # a first delivery after the start day
    (date(2027, 3, 4), date(2027, 3, 4)),   # a first delivery on the start day
])
def test_the_window_counts_from_the_start_day_whenever_the_first_lead_came(start, first):
    # docs/governance.md, Pilot: the cohort is what is delivered within max_duration_days of the start day
    found = maturity(date(2027, 5, 1), first=first, leads=1, last=first, start=start)
    assert found.window_last_day == start + timedelta(days=29)  # 30 days, the start day included
    assert found.notes == ()


def test_a_supplier_already_decided_on_is_noted():
    found = maturity(date(2027, 3, 18), state="active")
    assert found.matured
    assert found.notes == ("the supplier is already 'active': a new decision would replace that state",)



# --- the reasons in the report's language -------------------------------------------------------

def test_a_verdicts_reasons_read_in_words_in_french_and_english():
    from leadgov.reports.i18n import verdict_reason

    stop = pilot_verdict(pilot(rejected=31, accepted=69, called=69, reached=50, appointments=7,
                               first_contact_within_sla=60), CONTRACT)
    assert [verdict_reason(r, "fr") for r in stop.reasons] == [
        "Taux de rejet de 31,0 %, au-dessus de deux fois le seuil de 15,0 % (30,0 %) : arrêt",
        "Taux de rejet de 31,0 %, au-dessus du seuil de 15,0 % (intervalle de confiance à 95 % : 22,8 % à 40,6 %)"]
    sla = pilot_verdict(pilot(first_contact_within_sla=63), CONTRACT)
    assert [verdict_reason(r, "fr") for r in sla.reasons] == [
        "SLA premier appel (notre équipe) de 70,0 %, sous le seuil de 80,0 % "
        "(intervalle de confiance à 95 % : 59,9 % à 78,5 %)"]  # the label says it is our team
    assert verdict_reason(sla.reasons[0], "en").startswith("First-contact SLA (our team) 70.0%, below the 80.0% limit")
    assert verdict_reason("reachability n/a", "fr") == "reachability n/a"  # read back from JSON: as it is


def test_a_verdicts_reasons_survive_pickle_and_copy_with_their_figures():
    import copy
    import pickle

    [reason] = pilot_verdict(pilot(first_contact_within_sla=63), CONTRACT).reasons
    for twin in (pickle.loads(pickle.dumps(reason)), copy.deepcopy(reason)):
        assert twin == reason and (twin.name, twin.measured, twin.low) == (reason.name, reason.measured, reason.low)
