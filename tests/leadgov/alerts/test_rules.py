"""Alert rules: for every alert type, a case that fires and one just short of its threshold."""

import json
import statistics
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import DELETE, make_contract

from leadgov.alerts.rules import (
    billing_frozen_alert,
    budget_cap_alerts,
    budget_cap_clears,
    contest_gdpr_alerts,
    contract_renewal_alert,
    delivery_alerts,
    delivery_missing_alerts,
    pilot_verdict_alert,
    quarterly_review_alert,
    replacement_overdue_alerts,
    review_waiting_alert,
    week_alerts,
    week_clears,
)
from leadgov.alerts.types import Alert, AlertType, Clear
from leadgov.kpis import Kpis, Volume

# The values every test below relies on, pinned so that an edit of the example contract cannot
# silently move a threshold.
PINNED = {
    "supplier.id": "acme-leads",
    "supplier.name": "ACME Leads SAS",
    "locale": "fr",
    "quality.max_reject_rate": 0.15,
    "quality.first_contact_sla_share": 0.80,
    "quality.first_contact_sla_hours": 24,
    "billing.freeze_if.duplicate_rate_above": 0.05,
    "billing.freeze_if.gdpr_breach": True,
    "volumes.weekly_target": 50,
    "volumes.weekly_max": 60,
    "volumes.delivery_weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "replacement.contest_window_days": 7,
    "period.start": date(2027, 1, 1),
    "period.end": date(2027, 12, 31),
    "alerts.slack_channel": "#lead-ops",
    "alerts.committee_channel": "#lead-governance",
    "alerts.reject_spike_sigma": 2.0,
    "alerts.min_leads_for_rate_alerts": 20,
}
CONTRACT = make_contract(**PINNED)
BUDGET = make_contract(**{**PINNED, "billing.monthly_budget_cap_eur": 1000, "period.notice_days": 60,
                          "period.auto_renew": True})
OPS, COMMITTEE = "#lead-ops", "#lead-governance"
DELIVERED_ON = date(2027, 3, 1)  # a Monday
WEEK = "2027-W09"

BASE = Kpis(
    supplier_id="acme-leads", period="delivery:42", kind="delivery",
    delivered=40, accepted=40, rejected=0, over_cap=0, contested=0, reject_rate=0.0,
    duplicates=0, duplicate_rate=0.0, data_errors=0, data_error_rate=0.0, gdpr_incidents=0,
    reason_breakdown=[], volume=Volume(40, None, None, None, None),
    first_contact_within_sla=40, first_contact_sla=1.0, called=40, reached=30, reachability=0.75,
    appointments=5, appointment_rate=0.125, opportunities=2, opportunity_rate=0.05, won=1, win_rate=0.025,
    won_amount_eur=Decimal("1000.00"), funnel=[], billed_eur=None, cost_per_accepted=None,
    cost_per_appointment=None, cost_per_opportunity=None, cost_per_won=None,
    replacements_owed=0, replacements_filled_on_time=0, replacement_fill_rate=None,
    replacements_open=0, replacements_not_owed_cap=0,
)


def delivery(**changes) -> Kpis:
    """KPIs of delivery 42 with nothing alarming, except ``changes``."""
    return replace(BASE, **changes)


def week(**changes) -> Kpis:
    """KPIs of ISO week 2027-W09 with nothing alarming (45 leads: within volume), except ``changes``."""
    quiet = {"period": WEEK, "kind": "week", "delivered": 45, "accepted": 45, "first_contact_within_sla": 45}
    return replace(BASE, **quiet | changes)


def fired(alerts: list[Alert]) -> list[AlertType]:
    return [a.type for a in alerts]


def on_delivery(kpis: Kpis, contract=CONTRACT) -> list[Alert]:
    return delivery_alerts(kpis, contract, delivery_id=42, delivered_on=DELIVERED_ON)


def on_week(kpis: Kpis, earlier=(), finished=True, contract=CONTRACT) -> list[Alert]:
    return week_alerts(kpis, contract, earlier_reject_rates=list(earlier), finished=finished)


def expected(kind: AlertType, period: str, figure, threshold, channel=OPS, **facts) -> Alert:
    return Alert(type=kind, supplier_id="acme-leads", supplier_name="ACME Leads SAS", period=period,
                 channel=channel, locale="fr", figure=figure, threshold=threshold, facts=facts)


# --- nothing alarming ---------------------------------------------------------------------------

def test_quiet_delivery_and_week_fire_nothing():
    assert on_delivery(delivery()) == []
    assert on_week(week(), earlier=[0.0, 0.0, 0.0, 0.0]) == []


def test_a_delivery_without_leads_fires_nothing_even_with_no_minimum():
    contract = make_contract(**PINNED | {"alerts.min_leads_for_rate_alerts": 0})
    empty = delivery(delivered=0, accepted=0, reject_rate=None, duplicate_rate=None, first_contact_sla=None)
    assert on_delivery(empty, contract) == []
    assert on_week(replace(empty, period=WEEK, kind="week"), finished=False, contract=contract) == []


def test_kpis_of_the_wrong_kind_are_refused():
    with pytest.raises(ValueError, match="week"):
        on_week(delivery())
    with pytest.raises(ValueError, match="delivery"):
        on_delivery(week())


# --- REJECTION_SPIKE on a delivery --------------------------------------------------------------

BREAKDOWN = [  # the spec's order, as compute_kpis gives it
    {"code": "NO_CONSENT", "count": 1, "share": 0.05},
    {"code": "MISSING_FIELD", "count": 2, "share": 0.1},
    {"code": "INVALID_PHONE", "count": 2, "share": 0.1},
    {"code": "STALE", "count": 1, "share": 0.05},
]


def test_delivery_rejection_spike_fires_above_max_reject_rate():
    kpis = delivery(delivered=20, accepted=15, rejected=4, contested=1, reject_rate=0.25,
                    reason_breakdown=BREAKDOWN, gdpr_incidents=0)
    assert on_delivery(kpis) == [expected(
        AlertType.REJECTION_SPIKE, "delivery:42", 0.25, 0.15, rule="threshold",
        delivered=20, rejected=4, contested=1, delivered_on="2027-03-01", contest_window_closes="2027-03-08",
        top_reasons=[{"code": "MISSING_FIELD", "count": 2}, {"code": "INVALID_PHONE", "count": 2},
                     {"code": "NO_CONSENT", "count": 1}],
    )]
    assert on_delivery(kpis)[0].key == "REJECTION_SPIKE|acme-leads|delivery:42"


def test_delivery_rejection_spike_not_at_exactly_the_threshold():
    assert on_delivery(delivery(delivered=20, rejected=3, reject_rate=3 / 20)) == []


def test_delivery_rejection_spike_needs_the_minimum_of_leads():
    assert on_delivery(delivery(delivered=19, rejected=19, reject_rate=1.0)) == []
    assert fired(on_delivery(delivery(delivered=20, rejected=20, reject_rate=1.0))) == [AlertType.REJECTION_SPIKE]


# --- DUPLICATE_SURGE ----------------------------------------------------------------------------

def test_duplicate_surge_fires_above_the_freeze_rate_on_a_delivery_and_a_week():
    assert on_delivery(delivery(delivered=20, duplicates=2, duplicate_rate=0.1)) == [expected(
        AlertType.DUPLICATE_SURGE, "delivery:42", 0.1, 0.05, delivered=20, duplicates=2,
        delivered_on="2027-03-01")]
    [alert] = on_week(week(delivered=45, duplicates=3, duplicate_rate=3 / 45))
    assert (alert.key, alert.channel, alert.figure, alert.threshold) == (
        "DUPLICATE_SURGE|acme-leads|2027-W09", OPS, 3 / 45, 0.05)


def test_duplicate_surge_not_at_exactly_the_freeze_rate_nor_under_the_minimum():
    assert on_delivery(delivery(delivered=20, duplicates=1, duplicate_rate=0.05)) == []
    assert on_delivery(delivery(delivered=19, duplicates=19, duplicate_rate=1.0)) == []
    assert on_week(week(delivered=19, duplicates=19, duplicate_rate=1.0), finished=False) == []


def test_duplicate_surge_is_off_without_a_freeze_rate():
    contract = make_contract(**PINNED | {"billing.freeze_if.duplicate_rate_above": DELETE})
    assert contract.billing.freeze_if.duplicate_rate_above is None
    assert on_delivery(delivery(delivered=20, duplicates=20, duplicate_rate=1.0), contract) == []


# --- GDPR_BREACH --------------------------------------------------------------------------------

def test_gdpr_breach_fires_on_one_incident_whatever_the_volume():
    assert on_delivery(delivery(delivered=3, gdpr_incidents=1)) == [expected(
        AlertType.GDPR_BREACH, "delivery:42", 1, 0, delivered=3, freezes_statement=True,
        delivered_on="2027-03-01")]
    assert on_week(week(delivered=3, gdpr_incidents=2), finished=False) == []  # alerted by delivery or contest


def test_gdpr_breach_fires_once_per_contest_no_consent_on_call():
    contests = [{"lead_id": "L-7", "contest_reason": "NO_CONSENT_ON_CALL"},
                {"lead_id": "L-8", "contest_reason": "WRONG_NUMBER"}]
    [alert] = contest_gdpr_alerts(make_contract(**PINNED), contests)
    assert (alert.type, alert.key, alert.figure, alert.threshold, alert.facts["lead_ids"]) == (
        AlertType.GDPR_BREACH, "GDPR_BREACH|acme-leads|contest:L-7", 1, 0, ["L-7"])


def test_gdpr_breach_not_without_incident():
    assert on_delivery(delivery(delivered=3, gdpr_incidents=0)) == []


def test_gdpr_breach_says_whether_it_freezes_the_statement():
    contract = make_contract(**PINNED | {"billing.freeze_if.gdpr_breach": False})
    [alert] = on_delivery(delivery(gdpr_incidents=1), contract)
    assert alert.facts["freezes_statement"] is False


# --- REJECTION_SPIKE on a week ------------------------------------------------------------------

TREND = [0.08, 0.10, 0.12, 0.10]
TREND_BOUND = statistics.mean(TREND) + 2.0 * statistics.stdev(TREND)  # ~0.1327


def test_week_rejection_spike_threshold_rule_needs_no_history():
    [alert] = on_week(week(delivered=40, rejected=8, reject_rate=0.2), earlier=[None, 0.1])
    assert alert == expected(
        AlertType.REJECTION_SPIKE, WEEK, 0.2, 0.15, rule="threshold", max_reject_rate=0.15,
        mean=None, std=None, sigma=2.0, delivered=40, rejected=8, contested=0, top_reasons=[])
    assert alert.key == "REJECTION_SPIKE|acme-leads|2027-W09"


def test_week_rejection_spike_not_at_exactly_the_threshold():
    assert on_week(week(delivered=40, rejected=6, reject_rate=6 / 40)) == []


def test_week_rejection_spike_needs_the_minimum_of_leads():
    assert on_week(week(delivered=19, rejected=19, reject_rate=1.0), earlier=TREND, finished=False) == []


def test_week_trend_rule_fires_above_mean_plus_sigma_std_of_the_last_four_weeks():
    [alert] = on_week(week(reject_rate=0.14), earlier=TREND)
    assert alert.figure == 0.14
    assert alert.threshold == TREND_BOUND
    assert (alert.facts["rule"], alert.facts["mean"], alert.facts["std"]) == (
        "trend", statistics.mean(TREND), statistics.stdev(TREND))
    assert alert.channel == OPS and alert.period == WEEK


def test_week_trend_rule_needs_four_earlier_weeks():
    assert on_week(week(reject_rate=0.14), earlier=TREND[1:]) == []


def test_week_trend_rule_skips_weeks_without_a_rate_and_uses_the_last_four():
    # 0.5 is older than the last four rated weeks: with it, the mean would be far above 0.14.
    earlier = [0.5, None, 0.08, None, 0.10, 0.12, None, 0.10, None]
    [alert] = on_week(week(reject_rate=0.14), earlier=earlier)
    assert alert.threshold == TREND_BOUND
    # three rated weeks among the last ones and Nones do not make four
    assert on_week(week(reject_rate=0.14), earlier=[None, 0.10, None, 0.12, 0.10, None]) == []


def test_week_trend_rule_not_at_exactly_the_bound():
    flat = [0.1, 0.1, 0.1, 0.1]  # std 0: the bound is the mean
    assert on_week(week(reject_rate=0.1), earlier=flat) == []
    [alert] = on_week(week(reject_rate=0.11), earlier=flat)
    assert (alert.threshold, alert.facts["rule"], alert.facts["std"]) == (0.1, "trend", 0.0)


def test_week_spike_crossing_both_bounds_reports_the_lower_one():
    [by_trend] = on_week(week(reject_rate=0.2), earlier=TREND)  # bound ~0.133 < 0.15
    assert (by_trend.threshold, by_trend.facts["rule"]) == (TREND_BOUND, "trend")
    high = [0.2, 0.3, 0.25, 0.2]  # bound > 0.15: the contract's limit is the lower one
    [by_limit] = on_week(week(reject_rate=0.2), earlier=high)
    assert (by_limit.threshold, by_limit.facts["rule"]) == (0.15, "threshold")
    assert by_limit.facts["mean"] == statistics.mean(high)


# --- VOLUME_SHORTFALL / VOLUME_EXCESS ------------------------------------------------------------

def test_volume_shortfall_fires_below_eighty_percent_of_the_target():
    [alert] = on_week(week(delivered=39, accepted=10))
    assert alert == expected(AlertType.VOLUME_SHORTFALL, WEEK, 39, 40.0,
                             delivered=39, weekly_target=50, weekly_max=60, over_cap=0)
    assert alert.key == "VOLUME_SHORTFALL|acme-leads|2027-W09"


def test_volume_shortfall_not_at_exactly_eighty_percent_nor_before_the_week_ends():
    assert on_week(week(delivered=40, accepted=10)) == []
    assert on_week(week(delivered=39, accepted=10), finished=False) == []


def test_volume_excess_fires_above_the_weekly_max():
    [alert] = on_week(week(delivered=61, accepted=47, first_contact_within_sla=47, over_cap=1))
    assert alert == expected(AlertType.VOLUME_EXCESS, WEEK, 61, 60,
                             delivered=61, weekly_target=50, weekly_max=60, over_cap=1)


def test_volume_excess_not_at_exactly_the_max_nor_before_the_week_ends():
    assert on_week(week(delivered=60, accepted=47)) == []
    assert on_week(week(delivered=61, accepted=47), finished=False) == []


# --- VOLUME_CAP_NEAR / VOLUME_CAP_REACHED ------------------------------------------------------

def test_volume_cap_near_at_80_percent_of_the_weekly_max_and_reached_at_the_max_while_the_week_runs():
    assert on_week(week(delivered=47, accepted=47), finished=False) == []
    assert on_week(week(delivered=48, accepted=48), finished=False) == [expected(
        AlertType.VOLUME_CAP_NEAR, WEEK, 48, 48.0, accepted=48, weekly_max=60)]
    assert on_week(week(delivered=59, accepted=59), finished=False)[0].type == AlertType.VOLUME_CAP_NEAR
    assert on_week(week(delivered=60, accepted=60), finished=False) == [expected(
        AlertType.VOLUME_CAP_REACHED, WEEK, 60, 60, accepted=60, weekly_max=60)]  # reached: not NEAR as well


def test_volume_cap_counts_accepted_leads_not_delivered_ones():
    assert on_week(week(delivered=90, accepted=40, rejected=50, reject_rate=None), finished=False) == []


# --- SLA_BREACH ---------------------------------------------------------------------------------

def test_sla_breach_fires_below_the_share_and_is_about_our_team():
    [alert] = on_week(week(accepted=20, first_contact_within_sla=15, first_contact_sla=0.75))
    assert alert == expected(AlertType.SLA_BREACH, WEEK, 0.75, 0.8, concerns="our_team",
                             accepted=20, called_within_sla=15, sla_hours=24)
    assert alert.key == "SLA_BREACH|acme-leads|2027-W09" and alert.channel == OPS


def test_sla_breach_not_at_exactly_the_share_nor_under_the_minimum_nor_before_the_week_ends():
    assert on_week(week(accepted=20, first_contact_within_sla=16, first_contact_sla=16 / 20)) == []
    assert on_week(week(accepted=19, first_contact_within_sla=0, first_contact_sla=0.0)) == []
    assert on_week(week(accepted=20, first_contact_sla=0.75), finished=False) == []


# --- DELIVERY_MISSING ---------------------------------------------------------------------------

def test_delivery_missing_fires_once_the_next_day_is_over():
    # Mon 1 delivered, Tue 2 not: alert only from Thu 4 (the end of Wed 3 has passed)
    alerts = delivery_missing_alerts(CONTRACT, delivered_days={date(2027, 3, 1)}, since=date(2027, 3, 1),
                                     as_of=date(2027, 3, 4))
    assert alerts == [expected(AlertType.DELIVERY_MISSING, "day:2027-03-02", None, None,
                               expected_on="2027-03-02", weekday="tue", late_after="2027-03-03")]
    assert alerts[0].key == "DELIVERY_MISSING|acme-leads|day:2027-03-02"


def test_delivery_missing_not_yet_on_the_next_day_itself():
    assert delivery_missing_alerts(CONTRACT, delivered_days={date(2027, 3, 1)}, since=date(2027, 3, 1),
                                   as_of=date(2027, 3, 3)) == []


def test_delivery_missing_skips_other_weekdays_days_delivered_and_days_before_since():
    # Fri 5, Sat 6, Sun 7, Mon 8 ... as of Wed 10: Fri 5 delivered, weekend not expected, Mon 8 missing
    alerts = delivery_missing_alerts(CONTRACT, delivered_days={date(2027, 3, 5)}, since=date(2027, 3, 5),
                                     as_of=date(2027, 3, 10))
    assert [a.period for a in alerts] == ["day:2027-03-08"]
    saturdays = make_contract(**PINNED | {"volumes.delivery_weekdays": ["sat"]})
    alerts = delivery_missing_alerts(saturdays, delivered_days=set(), since=date(2027, 3, 1),
                                     as_of=date(2027, 3, 15))
    assert [a.period for a in alerts] == ["day:2027-03-06", "day:2027-03-13"]


def test_delivery_missing_expects_nothing_outside_the_contract_period():
    alerts = delivery_missing_alerts(CONTRACT, delivered_days=set(), since=date(2026, 12, 30),
                                     as_of=date(2027, 1, 5))
    assert [a.period for a in alerts] == ["day:2027-01-01"]  # a Friday; Thu 31 Dec is before the start


# --- REPLACEMENT_OVERDUE ------------------------------------------------------------------------

def test_replacement_overdue_one_alert_per_overdue_day():
    claims = [
        {"claim_id": 7, "lead_id": "L-9", "due_on": date(2027, 3, 11), "overdue_on": date(2027, 3, 12)},
        {"claim_id": 3, "lead_id": "L-2", "due_on": "2027-03-10", "overdue_on": "2027-03-12"},
        {"claim_id": 9, "lead_id": "L-5", "due_on": date(2027, 3, 31), "overdue_on": date(2027, 4, 1)},
    ]
    alerts = replacement_overdue_alerts(CONTRACT, claims)
    assert alerts == [
        expected(AlertType.REPLACEMENT_OVERDUE, "overdue:2027-03-12", 2, None, claim_ids=[3, 7],
                 lead_ids=["L-2", "L-9"], due_on=["2027-03-10", "2027-03-11"], overdue_on="2027-03-12",
                 credit_month="2027-03"),
        expected(AlertType.REPLACEMENT_OVERDUE, "overdue:2027-04-01", 1, None, claim_ids=[9],
                 lead_ids=["L-5"], due_on=["2027-03-31"], overdue_on="2027-04-01", credit_month="2027-04"),
    ]
    assert alerts[0].key == "REPLACEMENT_OVERDUE|acme-leads|overdue:2027-03-12"


def test_replacement_overdue_accepts_pandas_timestamps():
    import pandas as pd

    claims = [{"claim_id": 1, "lead_id": "L-1", "due_on": pd.Timestamp("2027-03-11"),
               "overdue_on": pd.Timestamp("2027-03-12")}]
    assert [a.period for a in replacement_overdue_alerts(CONTRACT, claims)] == ["overdue:2027-03-12"]


def test_replacement_overdue_not_without_newly_overdue_claims():
    assert replacement_overdue_alerts(CONTRACT, []) == []


# --- BILLING_FROZEN -----------------------------------------------------------------------------

STATEMENT = {"month": "2027-03", "revision": 1, "frozen": True, "amount_due_eur": Decimal("1234.50"),
             "freeze_reasons": ["DUPLICATE_RATE: 8.00 % > 5.00 % (4 of 50 leads)"]}


def test_billing_frozen_fires_on_a_frozen_statement():
    assert billing_frozen_alert(CONTRACT, STATEMENT) == [expected(
        AlertType.BILLING_FROZEN, "2027-03", 1234.5, None, revision=1, amount_due_eur=1234.5,
        freeze_reasons=["DUPLICATE_RATE: 8.00 % > 5.00 % (4 of 50 leads)"])]


def test_billing_frozen_not_on_a_payable_statement():
    assert billing_frozen_alert(CONTRACT, STATEMENT | {"frozen": False, "freeze_reasons": []}) == []


def test_billing_frozen_again_in_a_later_revision_is_the_same_event():
    [first] = billing_frozen_alert(CONTRACT, STATEMENT)
    [again] = billing_frozen_alert(CONTRACT, STATEMENT | {"revision": 2, "amount_due_eur": Decimal("900.00")})
    assert first.key == again.key == "BILLING_FROZEN|acme-leads|2027-03"
    assert again.facts["revision"] == 2


# --- PILOT_VERDICT / QUARTERLY_REVIEW -----------------------------------------------------------

def test_pilot_verdict_goes_to_the_committee():
    alerts = pilot_verdict_alert(CONTRACT, pilot_id=3, verdict="RENEGOTIATE", reasons=["reject_rate 18.0 % > 15.0 %"],
                                 report_path="reports/acme-leads/pilot.html")
    assert alerts == [expected(AlertType.PILOT_VERDICT, "pilot:3", None, None, channel=COMMITTEE,
                               verdict="RENEGOTIATE", reasons=["reject_rate 18.0 % > 15.0 %"],
                               report_path="reports/acme-leads/pilot.html")]
    assert alerts[0].key == "PILOT_VERDICT|acme-leads|pilot:3"  # one per pilot (docs/governance.md, Pilot)


def test_pilot_verdict_refuses_an_unknown_verdict():
    with pytest.raises(ValueError, match="GO"):
        pilot_verdict_alert(CONTRACT, pilot_id=1, verdict="MAYBE", reasons=[], report_path=None)


def test_quarterly_review_is_for_all_suppliers_on_the_given_channel():
    alerts = quarterly_review_alert(quarter="2027-Q1", channel="#board", locale="en",
                                    report_path="reports/2027-Q1.html", suppliers=3)
    assert alerts == [Alert(type=AlertType.QUARTERLY_REVIEW, supplier_id="all", supplier_name="",
                            period="2027-Q1", channel="#board", locale="en", figure=None, threshold=None,
                            facts={"suppliers": 3, "report_path": "reports/2027-Q1.html"})]
    assert alerts[0].key == "QUARTERLY_REVIEW|all|2027-Q1"


def test_quarterly_review_refuses_an_unknown_locale():
    with pytest.raises(ValueError, match="locale"):
        quarterly_review_alert(quarter="2027-Q1", channel="#board", locale="de", report_path=None, suppliers=1)


# --- every alert --------------------------------------------------------------------------------

def test_every_type_has_a_rule_and_only_the_committee_types_go_to_the_committee():
    alerts = (
        on_delivery(delivery(delivered=20, rejected=5, reject_rate=0.25, duplicate_rate=0.1, gdpr_incidents=1))
        + on_week(week(delivered=39, accepted=20, first_contact_sla=0.5))
        + on_week(week(delivered=61, accepted=61, first_contact_within_sla=61))
        + delivery_missing_alerts(CONTRACT, delivered_days=set(), since=date(2027, 3, 1), as_of=date(2027, 3, 3))
        + replacement_overdue_alerts(CONTRACT, [{"claim_id": 1, "lead_id": "L-1", "due_on": "2027-03-11",
                                                 "overdue_on": "2027-03-12"}])
        + billing_frozen_alert(CONTRACT, STATEMENT)
        + pilot_verdict_alert(CONTRACT, pilot_id=1, verdict="GO", reasons=[], report_path=None)
        + quarterly_review_alert(quarter="2027-Q1", channel=COMMITTEE, locale="fr", report_path=None, suppliers=2)
        + on_week(week(delivered=48, accepted=48), finished=False)
        + budget_cap_alerts(BUDGET, month="2027-03", billable_eur=Decimal("800.00"))
        + budget_cap_alerts(BUDGET, month="2027-03", billable_eur=Decimal("1000.00"))
        + contract_renewal_alert(CONTRACT, today=CONTRACT.period.end - timedelta(days=CONTRACT.period.notice_days))
        + review_waiting_alert(CONTRACT, today=date(2027, 3, 9), waiting=1, oldest_due=date(2027, 3, 9))
    )
    assert {a.type for a in alerts} == set(AlertType)
    assert {a.type for a in alerts if a.channel == COMMITTEE} == {AlertType.PILOT_VERDICT, AlertType.QUARTERLY_REVIEW}
    for alert in alerts:
        assert json.loads(json.dumps(alert.facts)) == alert.facts


# --- BUDGET_CAP_NEAR / BUDGET_CAP_REACHED --------------------------------------------------------

def test_budget_cap_near_at_80_percent_and_reached_at_the_cap_of_the_months_billable_amount():
    assert budget_cap_alerts(BUDGET, month="2027-03", billable_eur=Decimal("799.99")) == []
    assert budget_cap_alerts(BUDGET, month="2027-03", billable_eur=Decimal("800.00")) == [expected(
        AlertType.BUDGET_CAP_NEAR, "2027-03", 800.0, 800.0, billable_eur=800.0, budget_cap_eur=1000.0)]
    assert budget_cap_alerts(BUDGET, month="2027-03", billable_eur=Decimal("1000.00")) == [expected(
        AlertType.BUDGET_CAP_REACHED, "2027-03", 1000.0, 1000.0, billable_eur=1000.0, budget_cap_eur=1000.0)]
    no_cap = make_contract(**{**PINNED, "billing.monthly_budget_cap_eur": DELETE})
    assert budget_cap_alerts(no_cap, month="2027-03", billable_eur=Decimal("1e9")) == []  # no cap, no alert


def test_a_month_billed_under_80_percent_of_the_cap_clears_the_budget_incident():
    assert budget_cap_clears(BUDGET, month="2027-04", through=date(2027, 4, 30), billable_eur=Decimal("799.99")) == [
        Clear(AlertType.BUDGET_CAP_NEAR, "2027-04", date(2027, 4, 30), "within", 799.99, 800.0)]
    assert budget_cap_clears(BUDGET, month="2027-04", through=date(2027, 4, 30), billable_eur=Decimal("800")) == []


# --- CONTRACT_RENEWAL ----------------------------------------------------------------------------

def test_contract_renewal_from_notice_days_plus_14_before_the_end_until_the_last_day_to_give_notice():
    end = BUDGET.period.end  # 2027-12-31, notice 60 days: last day to give notice 2027-11-01
    deadline = end - timedelta(days=60)
    assert contract_renewal_alert(BUDGET, today=deadline - timedelta(days=15)) == []
    [alert] = contract_renewal_alert(BUDGET, today=deadline - timedelta(days=14))
    assert alert == expected(AlertType.CONTRACT_RENEWAL, "renewal:2027-12-31", None, None,
                             period_end="2027-12-31", notice_deadline="2027-11-01", notice_days=60, auto_renew=True)
    assert contract_renewal_alert(BUDGET, today=deadline)[0].key == alert.key  # once per contract period
    assert contract_renewal_alert(BUDGET, today=deadline + timedelta(days=1)) == []


# --- REVIEW_WAITING ------------------------------------------------------------------------------

def test_review_waiting_when_the_oldest_lead_in_review_is_due_within_a_day():
    day = date(2027, 3, 9)
    assert review_waiting_alert(CONTRACT, today=day, waiting=3, oldest_due=date(2027, 3, 11)) == []
    assert review_waiting_alert(CONTRACT, today=day, waiting=0, oldest_due=None) == []
    assert review_waiting_alert(CONTRACT, today=day, waiting=3, oldest_due=date(2027, 3, 10)) == [expected(
        AlertType.REVIEW_WAITING, "day:2027-03-09", 3, None, waiting=3, oldest_due="2027-03-10")]


# --- clears (incidents) --------------------------------------------------------------------------

def test_a_finished_week_within_every_limit_clears_each_type_it_can_judge():
    quiet = week(delivered=50, accepted=40, first_contact_within_sla=40, first_contact_sla=1.0)
    clears = week_clears(quiet, CONTRACT, on_week(quiet))
    assert {c.type for c in clears} == {
        AlertType.REJECTION_SPIKE, AlertType.DUPLICATE_SURGE, AlertType.GDPR_BREACH, AlertType.VOLUME_SHORTFALL,
        AlertType.VOLUME_EXCESS, AlertType.SLA_BREACH, AlertType.VOLUME_CAP_NEAR}
    assert all(c.period == WEEK and c.through == date(2027, 3, 7) and c.reason == "within" for c in clears)


def test_a_type_that_fired_or_cannot_be_judged_is_not_cleared():
    spiking = week(delivered=50, rejected=20, reject_rate=0.4, accepted=30)
    assert AlertType.REJECTION_SPIKE not in {c.type for c in week_clears(spiking, CONTRACT, on_week(spiking))}
    few = week(delivered=10, accepted=10, reject_rate=0.0)  # under min_leads_for_rate_alerts: rates not judged
    assert AlertType.REJECTION_SPIKE not in {c.type for c in week_clears(few, CONTRACT, on_week(few))}
    breach = week(delivered=50, gdpr_incidents=1)
    assert AlertType.GDPR_BREACH not in {c.type for c in week_clears(breach, CONTRACT, on_week(breach))}
