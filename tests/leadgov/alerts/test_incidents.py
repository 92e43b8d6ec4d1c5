"""Incidents, not floods: alerts about one ongoing problem form one thread per (type, supplier) in
the managers' channel; later alerts are replies that refresh the first message; a clean check closes
the incident with a last reply. Sent with the real slack-sdk to the loopback fake Slack, on SQLite and
PostgreSQL; a retry never posts twice; a command's sending keeps to its time budget.
"""

import time
from datetime import date, timedelta

from test_alerts_cli import ONE_BREACH, alerts_line, env, validate  # noqa: F401 - env is a fixture
from test_pipeline import DELIVERED_ON, MONDAYS, contract, deliver, key, leads, runtime

from leadgov.alerts import evaluate
from leadgov.alerts.outbox import Budget, SendSummary, send_pending
from leadgov.alerts.slack import SlackSender
from leadgov.models import incident_store
from leadgov.models.db import session_scope
from leadgov.services.replacements import ReplacementCheckRequest, check_replacements
from leadgov.services.weekly import WeeklyChecksRequest, weekly_checks

TZ = "Europe/Paris"
#: Mondays only, rate alerts from 2 leads, no weekly cap in reach.
TERMS = {**MONDAYS, "volumes.weekly_max": 100, "volumes.weekly_target": 20}


def sent_after_delivery(db_url, settings, delivery_id: int, day: date):
    return runtime(db_url, settings, day).alerts(lambda session: evaluate.after_delivery(
        session, delivery_id, TZ, day))


def incidents(db_url, kind: str):
    with session_scope(db_url) as session:
        return [i for i in incident_store.list_incidents(session) if i.type == kind]


def keyed(slack_server, prefix: str) -> list[dict]:
    """The messages Slack holds whose alert key starts with ``prefix``, oldest first."""
    return [m for m in slack_server.messages if (m["metadata"] or {}).get("event_payload", {}).get(
        "key", "").startswith(prefix)]


def test_a_spike_is_one_thread_until_a_clean_week_closes_it(db_url, slack_settings, slack_server):
    terms = contract(**TERMS)
    deliver(db_url, leads(16, 4), terms)  # Monday W09: the delivery and its week spike (20 % > 15 %)
    run = sent_after_delivery(db_url, slack_settings, 1, date(2027, 3, 2))
    assert run.new[:2] == (key("REJECTION_SPIKE", "delivery:1"), key("REJECTION_SPIKE", "2027-W09"))

    opener, reply = keyed(slack_server, "REJECTION_SPIKE|")
    assert opener["thread_ts"] is None and reply["thread_ts"] == opener["ts"]
    assert opener["blocks"][-1]["elements"][0]["text"].startswith("Incident en cours : 2 alertes")

    monday = DELIVERED_ON + timedelta(weeks=1)  # W10: 20 leads, none rejected
    deliver(db_url, leads(20, start=100, day=monday), terms, monday)
    sent_after_delivery(db_url, slack_settings, 2, monday + timedelta(days=1))
    assert incidents(db_url, "REJECTION_SPIKE")[0].state == "open"  # W10 is not finished yet

    checked = weekly_checks(runtime(db_url, slack_settings, date(2027, 3, 15)), WeeklyChecksRequest())
    assert checked.weeks == ("2027-W10",)
    [incident] = incidents(db_url, "REJECTION_SPIKE")
    assert (incident.state, incident.cleared_period, incident.closing_status) == ("closed", "2027-W10", "sent")
    closing = slack_server.replies(opener["ts"])[-1]
    assert closing["metadata"]["event_payload"]["key"] == f"REJECTION_SPIKE|acme-leads|closed:{incident.id}:2027-W10"
    assert closing["text"] == ("Résolu : Pic de rejets. ACME Leads SAS, semaine 2027-W10 : taux de rejet de 0,0 %, "
                               "dans la limite (15,0 %).")
    assert opener["blocks"][-1]["elements"][0]["text"] == "Incident clos : semaine 2027-W10, problème résolu."
    assert len(slack_server.top_level("C0OPS")) == len({(m["metadata"]["event_payload"]["key"].split("|")[0])
                                                        for m in slack_server.top_level("C0OPS")})

    before = len(slack_server.messages)
    weekly_checks(runtime(db_url, slack_settings, date(2027, 3, 15)), WeeklyChecksRequest())  # a rerun
    assert len(slack_server.messages) == before


def test_a_week_checked_before_a_later_spike_does_not_close_it(db_url, slack_settings, slack_server):
    terms = contract(**TERMS)
    monday = DELIVERED_ON + timedelta(weeks=1)
    deliver(db_url, leads(20), terms)  # W09: clean
    deliver(db_url, leads(16, 4, start=100, day=monday), terms, monday)  # W10: spike
    sent_after_delivery(db_url, slack_settings, 2, monday)
    weekly_checks(runtime(db_url, slack_settings, monday), WeeklyChecksRequest())  # checks W09, clean
    assert incidents(db_url, "REJECTION_SPIKE")[0].state == "open"


def test_missing_deliveries_are_one_incident_closed_by_the_next_delivery(db_url, slack_settings, slack_server):
    terms = contract(**{**TERMS, "period.start": "2027-03-01", "volumes.delivery_weekdays": ["mon", "wed"]})
    deliver(db_url, leads(20), terms)
    weekly_checks(runtime(db_url, slack_settings, date(2027, 3, 15)), WeeklyChecksRequest(weeks=2))
    missing = keyed(slack_server, "DELIVERY_MISSING|")
    assert [m["thread_ts"] is None for m in missing] == [True, False, False]  # 3, 8 and 10 March: one thread
    monday = date(2027, 3, 15)
    deliver(db_url, leads(20, start=100, day=monday), terms, monday)
    sent_after_delivery(db_url, slack_settings, 2, monday)
    [incident] = incidents(db_url, "DELIVERY_MISSING")
    assert (incident.state, incident.occurrences, incident.closing_status) == ("closed", 3, "sent")
    assert slack_server.replies(missing[0]["ts"])[-1]["text"].startswith("Résolu : Livraison manquante.")


def test_overdue_replacements_of_several_days_are_one_incident_closed_after_a_quiet_week(
        db_url, slack_settings, slack_server):
    terms = contract()
    deliver(db_url, leads(1, 1), terms)  # L-00002 rejected on 1 March: due 11 March
    deliver(db_url, leads(1, 1, start=10, day=date(2027, 3, 2)), terms, date(2027, 3, 2))  # due 12 March
    for day in (date(2027, 3, 12), date(2027, 3, 13)):
        check_replacements(runtime(db_url, slack_settings, day), ReplacementCheckRequest(day))
    opener, reply = keyed(slack_server, "REPLACEMENT_OVERDUE|")
    assert reply["thread_ts"] == opener["ts"]
    check_replacements(runtime(db_url, slack_settings, date(2027, 3, 19)), ReplacementCheckRequest(date(2027, 3, 19)))
    assert incidents(db_url, "REPLACEMENT_OVERDUE")[0].state == "open"  # 6 quiet days
    check_replacements(runtime(db_url, slack_settings, date(2027, 3, 20)), ReplacementCheckRequest(date(2027, 3, 20)))
    assert incidents(db_url, "REPLACEMENT_OVERDUE")[0].state == "closed"
    assert slack_server.replies(opener["ts"])[-1]["text"].endswith("aucun remplacement passé en retard depuis 7 jours.")


def test_a_problem_back_within_two_weeks_reopens_its_thread(db_url, slack_settings, slack_server):
    terms = contract(**TERMS)
    for week, rejected in ((0, 4), (1, 0), (2, 4)):  # spike, clean week, spike again
        monday = DELIVERED_ON + timedelta(weeks=week)
        deliver(db_url, leads(20 - rejected, rejected, start=100 * week + 1, day=monday), terms, monday)
        sent_after_delivery(db_url, slack_settings, week + 1, monday)
        weekly_checks(runtime(db_url, slack_settings, monday + timedelta(days=7)), WeeklyChecksRequest())
    [incident] = incidents(db_url, "REJECTION_SPIKE")
    assert incident.occurrences == 4  # 2 x (a delivery + its week)
    assert len([m for m in keyed(slack_server, "REJECTION_SPIKE|") if m["thread_ts"] is None]) == 1
    closings = [m for m in keyed(slack_server, "REJECTION_SPIKE|acme-leads|closed:")]
    assert len(closings) == 1  # closed after W10, reopened by W11: one thread


def test_cap_near_then_reached_is_one_incident(db_url, slack_settings, slack_server):
    terms = contract(**{**TERMS, "volumes.weekly_max": 10, "volumes.weekly_target": 8,
                        "volumes.delivery_weekdays": ["mon", "tue"]})
    deliver(db_url, leads(8), terms)  # 8 of 10: NEAR
    sent_after_delivery(db_url, slack_settings, 1, DELIVERED_ON)
    tuesday = DELIVERED_ON + timedelta(days=1)
    deliver(db_url, leads(2, start=50, day=tuesday), terms, tuesday)  # 10 of 10: REACHED
    sent_after_delivery(db_url, slack_settings, 2, tuesday)
    near, reached = keyed(slack_server, "VOLUME_CAP_")
    assert near["metadata"]["event_payload"]["key"] == key("VOLUME_CAP_NEAR", "2027-W09")
    assert reached["metadata"]["event_payload"]["key"] == key("VOLUME_CAP_REACHED", "2027-W09")
    assert reached["thread_ts"] == near["ts"]
    assert [i.state for i in incidents(db_url, "VOLUME_CAP")] == ["open"]


def test_with_a_webhook_every_alert_is_its_own_message(db_url, make_settings, slack_server):
    deliver(db_url, leads(16, 4), contract(**TERMS))
    sent_after_delivery(db_url, make_settings(slack_webhook_url=slack_server.webhook_url), 1, date(2027, 3, 2))
    assert [r["path"] for r in slack_server.requests].count("/hook") == 2  # no thread without the Web API


# --- a retry never posts twice (Slack at-least-once) ---------------------------------------------

def test_a_post_whose_answer_was_lost_is_found_not_posted_again(db_url, slack_settings, slack_server):
    deliver(db_url, leads(1, 1, consent_proof=""), contract(**{"alerts.min_leads_for_rate_alerts": 20}))
    slack_server.enqueue(("lost", 2))  # Slack posts it; the answer never arrives within the 0.5 s timeout
    run = sent_after_delivery(db_url, slack_settings, 1, date(2027, 3, 2))
    assert run.sent == SendSummary(failed=1)
    assert len(keyed(slack_server, "GDPR_BREACH|")) == 1

    assert send_pending(db_url, SlackSender.from_settings(slack_settings)) == SendSummary(sent=1)
    assert len(keyed(slack_server, "GDPR_BREACH|")) == 1  # found in the channel's history: not posted again
    assert slack_server.calls("chat.postMessage")[-1]["body"]["metadata"]["event_payload"]["key"] == key(
        "GDPR_BREACH", "delivery:1")  # the only post is the lost one
    assert len(slack_server.calls("chat.postMessage")) == 1


# --- sending keeps to a time budget --------------------------------------------------------------

def test_sending_stops_when_its_time_is_up_and_leaves_the_rest_pending(db_url, slack_settings, slack_server):
    terms = contract(**TERMS)
    deliver(db_url, leads(15, 4) + leads(0, 1, start=20, consent_proof=""), terms)  # spike x2 + GDPR
    in_session_new = runtime(db_url).alerts(lambda session: evaluate.after_delivery(session, 1, TZ, DELIVERED_ON))
    assert len(in_session_new.new) == 3
    slack_server.enqueue(("hang", 5))  # Slack hangs on the first post
    sender = SlackSender.from_settings(slack_settings)  # timeout 0.5 s per request
    started = time.monotonic()
    summary = send_pending(db_url, sender, Budget(0.3))
    assert time.monotonic() - started < 3  # bounded by the budget, not the hang; not a performance test
    assert summary == SendSummary(failed=1, deferred=2)
    assert send_pending(db_url, sender) == SendSummary(sent=3)  # the next run sends the rest


def test_validate_with_a_hanging_slack_returns_within_its_budget(env, tmp_path, slack_server):  # noqa: F811
    from leadgov.config.settings import get_settings

    env.setenv("LEADGOV_SEND_BUDGET_SECONDS", "0.2")
    env.setenv("LEADGOV_SLACK_TIMEOUT_SECONDS", "30")
    get_settings.cache_clear()
    slack_server.enqueue(("hang", 10), ("hang", 10))
    started = time.monotonic()
    result = validate(tmp_path, ONE_BREACH)
    assert time.monotonic() - started < 8  # at most 1 s per request once the budget is short; not a benchmark
    assert alerts_line(result).startswith("alerts: 1 new; sent 0, failed 1")
