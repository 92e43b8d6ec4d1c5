"""The quarterly recommendation: each rule just above and at its threshold, precedence, None rates,
evidence, clauses."""

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from factories import DELETE, make_contract

from leadgov.kpis import Kpis, Volume
from leadgov.recommendation import (
    PROGRESSIVE_EXIT,
    RENEGOTIATE,
    RENEW,
    Evidence,
    recommend,
)

# quality: reject <= 15 %, reachability >= 60 %; freeze_if: duplicates above 5 %
CONTRACT = make_contract(**{"quality.max_reject_rate": 0.15, "quality.min_reachability": 0.60,
                            "billing.freeze_if.duplicate_rate_above": 0.05})
WITHIN = Volume(delivered=600, target=None, minimum=450, maximum=750, status="within")


def quarter(period="2027-Q1", **values) -> Kpis:
    """A quarter that renews: reject 10 %, reachability 70 %, duplicates 2 %, volume within, nothing
    owed, no GDPR incident. ``values`` set fields directly (rates included)."""
    base = dict(
        supplier_id="acme-leads", period=period, kind="quarter",
        delivered=600, accepted=540, rejected=60, over_cap=0, contested=0, reject_rate=0.10,
        duplicates=12, duplicate_rate=0.02, data_errors=6, data_error_rate=0.01, gdpr_incidents=0,
        reason_breakdown=[], volume=WITHIN, first_contact_within_sla=450, first_contact_sla=450 / 540,
        called=500, reached=350, reachability=0.70, appointments=40, appointment_rate=40 / 540,
        opportunities=10, opportunity_rate=10 / 540, won=3, win_rate=3 / 540, won_amount_eur=Decimal("0.00"),
        funnel=[], billed_eur=None, cost_per_accepted=None, cost_per_appointment=None,
        cost_per_opportunity=None, cost_per_won=None, replacements_owed=0, replacements_filled_on_time=0,
        replacement_fill_rate=None, replacements_open=0, replacements_not_owed_cap=0,
    )
    return Kpis(**{**base, **values})


def owed(filled, n):
    return {"replacements_owed": n, "replacements_filled_on_time": filled, "replacement_fill_rate": filled / n}


def evidence(rec, name) -> Evidence:
    (found,) = [e for e in rec.evidence if e.name == name]
    return found


def test_a_clean_quarter_renews_with_the_figures_that_held():
    rec = recommend(quarter(), CONTRACT)
    assert (rec.action, rec.clauses) == (RENEW, [])
    assert rec.evidence == [
        Evidence("reject_rate", 0.10, 0.15, "10.0 % <= 15.0 %", "ok"),
        Evidence("reachability", 0.70, 0.60, "70.0 % >= 60.0 %", "ok"),
        Evidence("duplicate_rate", 0.02, 0.05, "2.0 % <= 5.0 %", "ok"),
        Evidence("volume", 600, 450, "600 within 450..750", "ok"),
        Evidence("replacement_fill_rate", None, 0.9, "n/a: no replacement owed", "n/a"),
        Evidence("gdpr_incidents", 0, 0, "no incident", "ok"),
        Evidence("frozen_months", 0, 0, "no month frozen", "ok"),
    ]


# --- each rule: at its threshold nothing happens, just beyond it fires ---------------------------

@pytest.mark.parametrize("values, action, clauses", [
    ({"reject_rate": 0.15}, RENEW, []),
    ({"reject_rate": 0.151}, RENEGOTIATE, ["criteria"]),
    ({"reject_rate": 0.30}, RENEGOTIATE, ["criteria"]),           # exactly 2 x 15 %
    ({"reject_rate": 0.301}, PROGRESSIVE_EXIT, ["criteria"]),
    ({"reachability": 0.60}, RENEW, []),
    ({"reachability": 0.599}, RENEGOTIATE, ["criteria"]),
    ({"duplicate_rate": 0.05}, RENEW, []),
    ({"duplicate_rate": 0.051}, RENEGOTIATE, ["dedup"]),
    ({"volume": Volume(450, None, 450, 750, "within")}, RENEW, []),
    ({"volume": Volume(449, None, 450, 750, "below")}, RENEGOTIATE, ["volume"]),
    ({"volume": Volume(800, None, 450, 750, "above")}, RENEW, []),
    (owed(9, 10), RENEW, []),                                     # 90 %
    (owed(8, 9), RENEGOTIATE, ["replacement_share"]),             # 88.9 %
    (owed(5, 10), RENEGOTIATE, ["replacement_share"]),            # 50 %: not below 50 %
    (owed(2, 5), PROGRESSIVE_EXIT, ["replacement_share"]),        # 40 % with 5 owed
    (owed(1, 4), RENEGOTIATE, ["replacement_share"]),             # 25 % but only 4 owed
    ({"gdpr_incidents": 1}, RENEGOTIATE, ["gdpr"]),
    ({"gdpr_incidents": 2}, PROGRESSIVE_EXIT, ["gdpr"]),
])
def test_each_rule_at_and_beyond_its_threshold(values, action, clauses):
    rec = recommend(quarter(**values), CONTRACT)
    assert (rec.action, rec.clauses) == (action, clauses)


@pytest.mark.parametrize("frozen, action, clauses", [
    (0, RENEW, []),
    (1, RENEGOTIATE, ["billing_model"]),
    (3, RENEGOTIATE, ["billing_model"]),
])
def test_frozen_months(frozen, action, clauses):
    rec = recommend(quarter(), CONTRACT, frozen_months=frozen)
    assert (rec.action, rec.clauses) == (action, clauses)
    assert evidence(rec, "frozen_months").measured == frozen


def test_negative_frozen_months_are_refused():
    with pytest.raises(ValueError, match="frozen_months"):
        recommend(quarter(), CONTRACT, frozen_months=-1)


def test_no_duplicate_rule_when_the_contract_sets_none():
    contract = make_contract(**{"billing.freeze_if.duplicate_rate_above": DELETE})
    rec = recommend(quarter(duplicate_rate=0.40), contract)
    assert rec.action == RENEW
    assert evidence(rec, "duplicate_rate") == Evidence("duplicate_rate", 0.40, None,
                                                       "40.0 %; the contract sets no threshold", "ok")


@pytest.mark.parametrize("previous_rate, rate, action", [
    (0.16, 0.16, PROGRESSIVE_EXIT),   # two quarters in a row above 15 %
    (0.15, 0.16, RENEGOTIATE),        # the previous one was at the threshold
    (0.16, 0.15, RENEW),              # this one is at the threshold
    (0.40, 0.10, RENEW),              # a bad past alone triggers nothing
    (None, 0.16, RENEGOTIATE),        # no data in the previous quarter
])
def test_two_quarters_in_a_row_above_the_threshold(previous_rate, rate, action):
    rec = recommend(quarter(reject_rate=rate), CONTRACT, previous=quarter("2026-Q4", reject_rate=previous_rate))
    assert rec.action == action
    assert [e.name for e in rec.evidence][:2] == ["reject_rate", "previous_reject_rate"]


def test_two_quarters_evidence():
    rec = recommend(quarter(reject_rate=0.18), CONTRACT, previous=quarter("2026-Q4", reject_rate=0.20))
    assert (rec.action, rec.clauses) == (PROGRESSIVE_EXIT, ["criteria"])
    assert evidence(rec, "reject_rate") == Evidence("reject_rate", 0.18, 0.15, "18.0 % > 15.0 %", "renegotiate")
    assert evidence(rec, "previous_reject_rate") == Evidence(
        "previous_reject_rate", 0.20, 0.15,
        "two quarters in a row above 15.0 %: 2026-Q4 20.0 %, 2027-Q1 18.0 %", "progressive_exit")


def test_no_previous_quarter_no_previous_evidence():
    rec = recommend(quarter(), CONTRACT)
    assert "previous_reject_rate" not in [e.name for e in rec.evidence]


# --- precedence, None rates, evidence, clauses ---------------------------------------------------

def test_progressive_exit_beats_renegotiate_and_keeps_every_clause():
    rec = recommend(quarter(reject_rate=0.31, duplicate_rate=0.06, gdpr_incidents=1, reachability=0.5,
                            volume=Volume(400, None, 450, 750, "below"), **owed(8, 10)),
                    CONTRACT, frozen_months=1)
    assert rec.action == PROGRESSIVE_EXIT
    assert rec.clauses == ["criteria", "volume", "replacement_share", "billing_model", "gdpr", "dedup"]
    assert [(e.name, e.outcome) for e in rec.evidence] == [
        ("reject_rate", "progressive_exit"),
        ("reachability", "renegotiate"),
        ("duplicate_rate", "renegotiate"),
        ("volume", "renegotiate"),
        ("replacement_fill_rate", "renegotiate"),
        ("gdpr_incidents", "renegotiate"),
        ("frozen_months", "renegotiate"),
    ]


def test_one_exit_rule_is_enough_among_clean_figures():
    rec = recommend(quarter(gdpr_incidents=3), CONTRACT)
    assert (rec.action, rec.clauses) == (PROGRESSIVE_EXIT, ["gdpr"])
    assert evidence(rec, "gdpr_incidents") == Evidence("gdpr_incidents", 3, 0, "3 incidents >= 2",
                                                       "progressive_exit")


def test_none_rates_never_trigger_and_read_n_a():
    rec = recommend(quarter(reject_rate=None, reachability=None, duplicate_rate=None,
                            replacements_owed=0, replacement_fill_rate=None,
                            volume=Volume(0, None, None, None, None)),
                    CONTRACT, previous=quarter("2026-Q4", reject_rate=0.5))
    assert (rec.action, rec.clauses) == (RENEW, [])
    assert [(e.name, e.measured, e.outcome, e.note) for e in rec.evidence if e.outcome == "n/a"] == [
        ("reject_rate", None, "n/a", "n/a: no lead delivered"),
        ("reachability", None, "n/a", "n/a: no lead called"),
        ("duplicate_rate", None, "n/a", "n/a: no lead delivered"),
        ("volume", 0, "n/a", "n/a: no contracted volume for this period"),
        ("replacement_fill_rate", None, "n/a", "n/a: no replacement owed"),
    ]
    assert evidence(rec, "previous_reject_rate").outcome == "ok"


def test_evidence_of_a_renegotiation():
    rec = recommend(quarter(reachability=0.599, **owed(8, 9)), CONTRACT)
    assert rec.action == RENEGOTIATE
    assert evidence(rec, "reachability") == Evidence("reachability", 0.599, 0.60, "59.9 % < 60.0 %", "renegotiate")
    assert evidence(rec, "replacement_fill_rate") == Evidence(
        "replacement_fill_rate", 8 / 9, 0.9, "88.9 % < 90.0 % (8 of 9 owed filled on time)", "renegotiate")


def test_evidence_of_an_exit():
    rec = recommend(quarter(reject_rate=0.31, **owed(2, 5)), CONTRACT)
    assert rec.action == PROGRESSIVE_EXIT
    assert evidence(rec, "reject_rate") == Evidence("reject_rate", 0.31, 0.15, "31.0 % > 2 x 15.0 % = 30.0 %",
                                                    "progressive_exit")
    assert evidence(rec, "replacement_fill_rate") == Evidence(
        "replacement_fill_rate", 0.4, 0.9, "40.0 % < 50.0 % with 5 >= 5 owed (2 of 5 owed filled on time)",
        "progressive_exit")
    assert evidence(rec, "volume").outcome == "ok"


def test_every_action_carries_every_figure():
    names = ["reject_rate", "reachability", "duplicate_rate", "volume", "replacement_fill_rate",
             "gdpr_incidents", "frozen_months"]
    for kpis in (quarter(), quarter(reject_rate=0.2), quarter(reject_rate=0.5)):
        rec = recommend(kpis, CONTRACT)
        assert [e.name for e in rec.evidence] == names


def test_thresholds_come_from_the_contract():
    lenient = make_contract(**{"quality.max_reject_rate": 0.25})
    assert recommend(quarter(reject_rate=0.2), lenient).action == RENEW
    assert recommend(quarter(reject_rate=0.51), lenient).action == PROGRESSIVE_EXIT
    assert recommend(quarter(reject_rate=0.5), lenient).action == RENEGOTIATE


def test_recommendation_as_dict_is_json_ready():
    rec = recommend(replace(quarter(), gdpr_incidents=1), CONTRACT)
    data = json.loads(json.dumps(rec.as_dict()))
    assert data["action"] == "renegotiate"
    assert data["clauses"] == ["gdpr"]
    assert data["evidence"][5] == {"name": "gdpr_incidents", "measured": 1, "threshold": 0,
                                   "note": "1 incident > 0", "outcome": "renegotiate"}
