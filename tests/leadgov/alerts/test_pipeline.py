"""Alerts from stored data to Slack: each rule fired by what deliveries, outcome imports, the
overdue check, statements and the weekly check stored (``leadgov.alerts.evaluate``), then the
outbox (``leadgov.alerts.outbox``) posting them with the real slack-sdk to the loopback fake Slack.

Every test runs on SQLite and PostgreSQL (``db_url``). Deliveries are on Monday 2027-03-01 (ISO
week 2027-W09) unless a test says otherwise; contracts are the example's with small volumes.
"""

import json
import tempfile
import time
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from databases import sent_with_parameters
from factories import DELIVERED_ON, ingest, lead, make_contract_file, outcomes_csv
from sqlalchemy import select

from leadgov.alerts import evaluate
from leadgov.alerts.outbox import AlertRun, SendSummary, send_pending
from leadgov.alerts.slack import SlackSender
from leadgov.config.settings import Settings
from leadgov.governance import supplier_kpis
from leadgov.models import alert_store
from leadgov.models.alert import OutboxAlert
from leadgov.models.db import session_scope
from leadgov.periods import week_of
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.outcomes import OutcomesImportRequest, import_outcomes
from leadgov.services.replacements import ReplacementCheckRequest, check_replacements
from leadgov.services.runtime import FixedClock, Runtime, build_runtime
from leadgov.services.weekly import WeeklyChecksRequest, weekly_checks

TZ = "Europe/Paris"
SUPPLIER = "acme-leads"
#: Small volumes and rate alerts from 2 leads, so that each test delivers a handful of leads.
SMALL = {"alerts.min_leads_for_rate_alerts": 2, "volumes.weekly_target": 5, "volumes.weekly_max": 6,
         "replacement.max_replacement_share": 1.0}
#: Rate alerts from the example's 20 leads: a 2-lead delivery raises no rate alert.
RATES_FROM_20 = {"alerts.min_leads_for_rate_alerts": 20}
#: Only Monday deliveries expected: a single delivery on DELIVERED_ON leaves no day missing.
MONDAYS = {"volumes.delivery_weekdays": ["mon"]}


# --- helpers -----------------------------------------------------------------------------------

def contract(**overrides):
    return make_contract_file(**{**SMALL, **overrides})


def leads(accepted: int, rejected: int = 0, *, start: int = 1, day: date = DELIVERED_ON, **rejection) -> list[dict]:
    """``accepted`` valid leads, then ``rejected`` leads rejected INVALID_EMAIL (or made invalid by
    ``rejection`` overrides); collected on ``day`` so that none is STALE; numbered from ``start``."""
    stamp = {"collected_at": f"{day.isoformat()} 08:00", "consent_at": f"{day.isoformat()} 08:00"}
    rejection = rejection or {"email": "bad"}
    return ([lead(start + i, **stamp) for i in range(accepted)]
            + [lead(start + accepted + i, **{**stamp, **rejection}) for i in range(rejected)])


def deliver(db_url, rows, terms=None, day: date = DELIVERED_ON) -> int:
    """Store ``rows`` as a delivery of ``day`` under ``terms`` (default: SMALL); its id."""
    return ingest(db_url, rows, day=day, contract=terms or contract(), name=f"{day}.csv").delivery_id


def in_session(db_url, function, *args) -> list[str]:
    with session_scope(db_url) as session:
        return function(session, *args)


def runtime(db_url, settings: Settings | None = None, day: date = date(2027, 3, 2)) -> Runtime:
    """A runtime on ``db_url`` whose clock says ``day``; Slack as ``settings`` say (default: none)."""
    settings = settings or Settings(_env_file=None, slack_bot_token=None, slack_webhook_url=None)
    return build_runtime(settings, database_url=db_url, clock=FixedClock(day), migrate=False)


def new_keys(run: AlertRun) -> list[str]:
    assert run.error is None, run.error
    return list(run.new)


def after_delivery(db_url, delivery_id: int) -> list[str]:
    return in_session(db_url, evaluate.after_delivery, delivery_id, TZ, date(2027, 3, 2))


def check_weeks(db_url, as_of: date, weeks: int = 1) -> list[str]:
    """The weekly checks (``leadgov alerts check``) as of ``as_of``: the new keys."""
    return new_keys(weekly_checks(runtime(db_url), WeeklyChecksRequest(as_of, weeks)).alerts)


def import_events(db_url, rows: list[dict], as_of: date = date(2027, 3, 5)) -> list[str]:
    """Import outcome events (``leadgov outcomes import`` on ``as_of``): what their contests raised."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "outcomes.csv"
        path.write_bytes(outcomes_csv(rows))
        result = import_outcomes(runtime(db_url, day=as_of), OutcomesImportRequest(path))
    assert not result.imported.refusals, result.imported.refusals
    return new_keys(result.alerts)


def overdue_check(db_url, as_of: date) -> list[str]:
    """The daily check (``leadgov replacements check``), then its alerts, each in its own transaction."""
    return new_keys(check_replacements(runtime(db_url), ReplacementCheckRequest(as_of)).alerts)


def statement(db_url, as_of: date = date(2027, 4, 1)) -> list[str]:
    """March's statement through the billing service (``leadgov billing statement``), then its alerts."""
    return new_keys(bill_statement(runtime(db_url, day=as_of), StatementRequest(SUPPLIER, "2027-03")).alerts)


def of_type(keys, kind: str) -> list[str]:
    return [k for k in keys if k.startswith(f"{kind}|")]


def stored(db_url) -> dict[str, dict]:
    """The outbox by key."""
    with session_scope(db_url) as session:
        return {a.key: asdict(a) for a in alert_store.list_alerts(session)}


def outbox(db_url) -> dict[str, tuple]:
    """(status, attempts, last_error) by key."""
    return {k: (a["status"], a["attempts"], a["last_error"]) for k, a in stored(db_url).items()}


def posted(slack_server) -> list[dict]:
    return [r["body"] for r in slack_server.requests]


def key(kind: str, period: str) -> str:
    return f"{kind}|{SUPPLIER}|{period}"


# --- each alert type, from stored data ---------------------------------------------------------

@pytest.mark.parametrize(("accepted", "rejected", "fires"), [
    (16, 4, True),   # 20 leads, 20 % > 15 %
    (17, 3, False),  # exactly 15 %: not above the limit
    (15, 4, False),  # 21 % but 19 leads: under min_leads_for_rate_alerts (20)
], ids=["above", "at-the-limit", "too-few-leads"])
def test_rejection_spike_on_a_delivery(db_url, accepted, rejected, fires):
    delivery_id = deliver(db_url, leads(accepted, rejected), contract(**RATES_FROM_20))
    keys = after_delivery(db_url, delivery_id)
    if not fires:
        assert of_type(keys, "REJECTION_SPIKE") == []
        return
    assert of_type(keys, "REJECTION_SPIKE") == [key("REJECTION_SPIKE", f"delivery:{delivery_id}"),
                                                key("REJECTION_SPIKE", "2027-W09")]
    spike = stored(db_url)[key("REJECTION_SPIKE", f"delivery:{delivery_id}")]
    assert (spike["figure"], spike["threshold"], spike["channel"]) == (0.2, 0.15, "#lead-ops")
    assert spike["facts"]["top_reasons"] == [{"code": "INVALID_EMAIL", "count": 4}]
    assert spike["facts"]["contest_window_closes"] == "2027-03-08"


@pytest.mark.parametrize(("duplicates", "fires"), [(2, True), (1, False)])  # of 20: 10 %, then exactly 5 %
def test_duplicate_surge(db_url, duplicates, fires):
    rows = leads(20 - duplicates) + [lead(100 + i, email=lead(1)["email"]) for i in range(duplicates)]
    keys = after_delivery(db_url, deliver(db_url, rows))
    if not fires:
        assert of_type(keys, "DUPLICATE_SURGE") == []
        return
    assert of_type(keys, "DUPLICATE_SURGE") == [key("DUPLICATE_SURGE", "delivery:1"),
                                                key("DUPLICATE_SURGE", "2027-W09")]
    surge = stored(db_url)[key("DUPLICATE_SURGE", "delivery:1")]
    assert (surge["figure"], surge["threshold"], surge["facts"]) == (0.1, 0.05, {"delivered": 20, "duplicates": 2,
                                                                             "delivered_on": "2027-03-01"})


@pytest.mark.parametrize(("rejection", "fires"), [({"consent_proof": ""}, True), ({"email": "bad"}, False)],
                         ids=["no-consent", "other-rejection"])
def test_gdpr_breach_on_a_no_consent_rejection(db_url, rejection, fires):
    # a breach is not a rate: 2 leads are enough
    keys = after_delivery(db_url, deliver(db_url, leads(1, 1, **rejection), contract(**RATES_FROM_20)))
    if not fires:
        assert keys == []
        return
    assert keys == [key("GDPR_BREACH", "delivery:1")]
    breach = stored(db_url)[key("GDPR_BREACH", "delivery:1")]
    assert (breach["figure"], breach["facts"]) == (1, {"delivered": 2, "freezes_statement": True,
                                                       "delivered_on": "2027-03-01"})


#: Legitimate interest: every lead needs its notice_sent_at (NO_NOTICE).
NOTICE = {"gdpr.legal_basis": "legitimate_interest"}


@pytest.mark.parametrize(("notice", "fires"), [(None, True), ("2027-03-02 09:00", True), ("2027-03-01 09:00", False)],
                         ids=["missing", "after-delivery", "in-time"])
def test_gdpr_breach_and_freeze_on_a_no_notice_rejection(db_url, notice, fires):
    rows = [{**row, "notice_sent_at": "2027-03-01 09:00"} for row in leads(2)]
    rows[1]["notice_sent_at"] = notice
    keys = after_delivery(db_url, deliver(db_url, rows, contract(**RATES_FROM_20, **NOTICE)))
    frozen = of_type(statement(db_url), "BILLING_FROZEN")
    if not fires:
        assert (keys, frozen) == ([], [])
        return
    assert keys == [key("GDPR_BREACH", "delivery:1")]
    assert stored(db_url)[keys[0]]["figure"] == 1
    assert frozen == [key("BILLING_FROZEN", "2027-03")]
    assert stored(db_url)[frozen[0]]["facts"]["freeze_reasons"] == [
        "GDPR_BREACH: 1 lead rejected NO_CONSENT or NO_NOTICE, or contested NO_CONSENT_ON_CALL (L-00002)"]


@pytest.mark.parametrize(("reason", "fires"), [("NO_CONSENT_ON_CALL", True), ("WRONG_NUMBER", False)])
def test_gdpr_breach_on_a_no_consent_on_call_contest(db_url, reason, fires):
    deliver(db_url, leads(20), contract(**RATES_FROM_20))
    keys = import_events(db_url, [{"lead_id": "L-00003", "event": "contest", "at": "2027-03-03 10:00",
                                   "contest_reason": reason}])
    if not fires:
        assert of_type(keys, "GDPR_BREACH") == []
        return
    assert of_type(keys, "GDPR_BREACH") == [key("GDPR_BREACH", "contest:L-00003")]
    assert stored(db_url)[key("GDPR_BREACH", "contest:L-00003")]["facts"] == {
        "lead_ids": ["L-00003"], "freezes_statement": True}


@pytest.mark.parametrize(("delivered", "fires"), [(3, True), (4, False)])  # floor: 0.8 x 5 = 4
def test_volume_shortfall_of_a_finished_week(db_url, delivered, fires):
    deliver(db_url, leads(delivered), contract(**MONDAYS))
    assert after_delivery(db_url, 1) == []  # volumes wait for the week to finish
    keys = of_type(check_weeks(db_url, date(2027, 3, 8)), "VOLUME_SHORTFALL")
    if not fires:
        assert keys == []
        return
    assert keys == [key("VOLUME_SHORTFALL", "2027-W09")]
    shortfall = stored(db_url)[key("VOLUME_SHORTFALL", "2027-W09")]
    assert (shortfall["figure"], shortfall["threshold"], shortfall["facts"]["weekly_target"]) == (3, 4.0, 5)


@pytest.mark.parametrize(("delivered", "fires"), [(7, True), (6, False)])  # weekly_max 6
def test_volume_excess_of_a_finished_week(db_url, delivered, fires):
    deliver(db_url, leads(delivered), contract(**MONDAYS))
    keys = of_type(check_weeks(db_url, date(2027, 3, 8)), "VOLUME_EXCESS")
    if not fires:
        assert keys == []
        return
    assert keys == [key("VOLUME_EXCESS", "2027-W09")]
    excess = stored(db_url)[key("VOLUME_EXCESS", "2027-W09")]
    assert (excess["figure"], excess["threshold"], excess["facts"]["over_cap"]) == (7, 6, 1)


@pytest.mark.parametrize(("as_of", "fires"), [
    (date(2027, 3, 5), True),   # Wednesday's next day (Thursday) is over
    (date(2027, 3, 4), False),  # still Thursday: the delivery may come today
])
def test_delivery_missing_once_the_next_day_is_over(db_url, as_of, fires):
    # the contract starts on Monday 1 March, expects Mondays and Wednesdays; only Monday delivered
    deliver(db_url, leads(5), contract(**{"period.start": "2027-03-01", "volumes.delivery_weekdays": ["mon", "wed"]}))
    keys = of_type(check_weeks(db_url, as_of), "DELIVERY_MISSING")
    if not fires:
        assert keys == []
        return
    assert keys == [key("DELIVERY_MISSING", "day:2027-03-03")]
    assert stored(db_url)[keys[0]]["facts"] == {"expected_on": "2027-03-03", "weekday": "wed",
                                                "late_after": "2027-03-04"}


@pytest.mark.parametrize(("as_of", "fires"), [(date(2027, 3, 12), True), (date(2027, 3, 11), False)])
def test_replacement_overdue_after_the_deadline(db_url, as_of, fires):
    deliver(db_url, leads(1, 1))  # L-00002 rejected on 1 March: its replacement is due on 11 March
    keys = overdue_check(db_url, as_of)
    if not fires:
        assert keys == []
        return
    assert keys == [key("REPLACEMENT_OVERDUE", "overdue:2027-03-12")]
    overdue = stored(db_url)[keys[0]]
    assert overdue["figure"] == 1
    assert {k: overdue["facts"][k] for k in ("lead_ids", "due_on", "credit_month")} == {
        "lead_ids": ["L-00002"], "due_on": ["2027-03-11"], "credit_month": "2027-03"}


@pytest.mark.parametrize(("called_in_time", "fires"), [(3, True), (4, False)])  # of 5; target 80 %
def test_sla_breach_of_our_team_in_a_finished_week(db_url, called_in_time, fires):
    deliver(db_url, leads(5), contract(**MONDAYS))
    calls = [{"lead_id": f"L-{n:05d}", "event": "call_attempt",
              "at": "2027-03-01 18:00" if n <= called_in_time else "2027-03-03 10:00"} for n in range(1, 6)]
    assert import_events(db_url, calls) == []  # the SLA waits for the week to finish
    keys = of_type(check_weeks(db_url, date(2027, 3, 8)), "SLA_BREACH")
    if not fires:
        assert keys == []
        return
    assert keys == [key("SLA_BREACH", "2027-W09")]
    breach = stored(db_url)[keys[0]]
    assert (breach["figure"], breach["threshold"]) == (0.6, 0.8)
    assert breach["facts"] == {"concerns": "our_team", "accepted": 5, "called_within_sla": 3, "sla_hours": 24.0}


@pytest.mark.parametrize(("accepted", "fires"), [(8, True), (9, False)])  # 1 data error: 11.1 %, then 10 %
def test_billing_frozen_statement(db_url, accepted, fires):
    deliver(db_url, leads(accepted, 1))  # data_error_rate_above 0.10
    keys = of_type(statement(db_url), "BILLING_FROZEN")
    if not fires:
        assert keys == []
        return
    assert keys == [key("BILLING_FROZEN", "2027-03")]
    frozen = stored(db_url)[keys[0]]
    assert frozen["facts"]["revision"] == 1
    # the amount due stored as a number: 6 qualified leads within the weekly cap (weekly_max 6) x 45
    assert frozen["figure"] == frozen["facts"]["amount_due_eur"] == 270.0
    assert [r.split(":")[0] for r in frozen["facts"]["freeze_reasons"]] == ["DATA_ERROR_RATE"]
    assert of_type(statement(db_url, date(2027, 4, 2)), "BILLING_FROZEN") == []  # revision 2: the same event


@pytest.mark.parametrize(("rejected_in_w09", "fires"), [(2, True), (1, False)])
def test_rejection_spike_of_a_week_above_its_trend(db_url, rejected_in_w09, fires):
    # four Mondays at 10 % rejected (mean 10 %, std 0), then W09; the contract's limit is out of reach
    terms = contract(**MONDAYS, **{"quality.max_reject_rate": 0.5, "volumes.weekly_max": 20})
    for week in range(4, 0, -1):
        day = DELIVERED_ON - timedelta(weeks=week)
        deliver(db_url, leads(9, 1, start=100 * week, day=day), terms, day)
    deliver(db_url, leads(10 - rejected_in_w09, rejected_in_w09), terms)
    keys = of_type(check_weeks(db_url, date(2027, 3, 8)), "REJECTION_SPIKE")
    if not fires:
        assert keys == []
        return
    assert keys == [key("REJECTION_SPIKE", "2027-W09")]
    spike = stored(db_url)[keys[0]]
    assert (spike["figure"], spike["threshold"]) == (0.2, pytest.approx(0.1))
    assert (spike["facts"]["rule"], spike["facts"]["mean"], spike["facts"]["std"]) == ("trend", pytest.approx(0.1), 0)


def test_the_trend_reads_each_earlier_week_s_reject_rate_as_its_kpis_do(db_url):
    # nine weeks with one delivery each on a Sunday, a Monday or a Tuesday (the weeks' edges), one
    # week without any, contests and calls on accepted leads: the grouped query behind the trend
    # gives each week the reject rate of that week's full KPIs
    terms = contract(**{"volumes.weekly_max": 100})
    first = date(2027, 1, 3)  # a Sunday: the last day of 2026-W53
    contests, n = [], 1
    for i in range(9):
        day = first + timedelta(days=7 * i + i % 3)
        if week_of(day).label == "2027-W05":
            continue
        accepted, rejected = 2 + i % 5, i % 4
        deliver(db_url, leads(accepted, rejected, start=n, day=day), terms, day)
        event = {"lead_id": f"L-{n:05d}", "at": f"{(day + timedelta(days=1)).isoformat()} 10:00"}
        if i % 2 == 0:
            contests.append({**event, "event": "contest", "contest_reason": "WRONG_NUMBER"})
        else:  # an event that is not a contest counts for nothing here
            contests.append({**event, "event": "call_attempt"})
        n += accepted + rejected
    import_events(db_url, contests, as_of=first + timedelta(days=64))
    week = week_of(first + timedelta(days=63))
    start, _ = week.dates
    earlier = [week_of(start - timedelta(weeks=back)) for back in range(8, 0, -1)]
    with session_scope(db_url) as session:
        kpis = [supplier_kpis(session, SUPPLIER, w, TZ, date(2027, 3, 10)) for w in earlier]
        assert evaluate.earlier_reject_rates(session, SUPPLIER, week) == [k.reject_rate for k in kpis]
    rates = [k.reject_rate for k in kpis]
    assert None in rates and len({r for r in rates if r is not None}) >= 3  # an empty week, and rates that differ
    assert sum(k.contested for k in kpis) >= 2  # contests counted


def test_a_supplier_delivering_every_week_has_its_trend_read_from_the_four_weeks_before(db_url):
    # the four weeks before W10 each have leads, at different rates; six weeks before, a week that
    # would move the trend: one grouped query over the four weeks only, each at its KPIs' rate
    terms = contract(**MONDAYS, **{"volumes.weekly_max": 100})
    n = 1
    for back, (accepted, rejected) in {6: (1, 9), 4: (9, 1), 3: (8, 2), 2: (7, 3), 1: (9, 1)}.items():
        day = DELIVERED_ON - timedelta(weeks=back)
        deliver(db_url, leads(accepted, rejected, start=n, day=day), terms, day)
        n += accepted + rejected
    week = week_of(DELIVERED_ON)
    start, _ = week.dates
    recent = [week_of(start - timedelta(weeks=back)) for back in range(4, 0, -1)]
    rates: list[float | None] = []
    with session_scope(db_url) as session:
        sent = sent_with_parameters(session.get_bind(),
                                    lambda: rates.extend(evaluate.earlier_reject_rates(session, SUPPLIER, week)))
        expected = [supplier_kpis(session, SUPPLIER, w, TZ, DELIVERED_ON).reject_rate for w in recent]
    assert rates == expected == [0.1, 0.2, 0.3, 0.1]
    assert len(sent) == 1
    parameters = sent[0][1]
    bounds = {str(v) for v in (parameters.values() if isinstance(parameters, dict) else parameters)}
    assert {recent[0].dates[0].isoformat(), recent[-1].dates[1].isoformat()} <= bounds  # the four weeks, no more


@pytest.mark.parametrize(("terms", "as_of", "week"), [
    ({"period.start": "2027-03-01"}, date(2027, 3, 1), "2027-W08"),  # the contract's first day
    ({"period.end": "2027-03-07"}, date(2027, 3, 15), "2027-W10"),   # the week after it ended
], ids=["before-start", "after-end"])
def test_no_volume_alert_for_a_week_outside_the_contract(db_url, terms, as_of, week):
    deliver(db_url, leads(5), contract(**MONDAYS, **terms))
    assert of_type(check_weeks(db_url, as_of), "VOLUME_SHORTFALL") == []


def bill_march(db_url) -> None:
    statement(db_url, date(2027, 4, 1))


def replace_late(db_url) -> None:
    day = date(2027, 3, 15)
    stamp = f"{day.isoformat()} 08:00"
    late = deliver(db_url, [lead(10, collected_at=stamp, consent_at=stamp, replaces_lead_id="L-00002")], day=day)
    in_session(db_url, evaluate.after_delivery, late, TZ, day)


@pytest.mark.parametrize("step", [bill_march, replace_late], ids=["billing", "late-replacement"])
def test_a_claim_gone_overdue_outside_the_daily_check_is_alerted(db_url, step):
    deliver(db_url, leads(1, 1))  # L-00002 rejected on 1 March: its replacement is due on 11 March
    step(db_url)  # no daily check ran since: this step marks the claim overdue
    overdue_check(db_url, date(2027, 4, 2))  # the next daily check finds nothing open any more
    assert of_type(stored(db_url), "REPLACEMENT_OVERDUE") == [key("REPLACEMENT_OVERDUE", "overdue:2027-03-12")]


# --- once per key --------------------------------------------------------------------------------

def test_rerunning_evaluations_stores_and_sends_nothing_twice(db_url, slack_settings, slack_server):
    delivery_id = deliver(db_url, leads(1, 1, consent_proof=""), contract(**RATES_FROM_20, **MONDAYS))

    def evaluate_all(session):
        return (evaluate.after_delivery(session, delivery_id, TZ, date(2027, 3, 2))
                + evaluate.check_finished_weeks(session, SUPPLIER, date(2027, 3, 8), TZ))

    first = runtime(db_url, slack_settings).alerts(evaluate_all)
    assert first.new == (key("GDPR_BREACH", "delivery:1"), key("VOLUME_SHORTFALL", "2027-W09"))
    assert first.sent == SendSummary(sent=2)
    again = runtime(db_url, slack_settings).alerts(evaluate_all)
    assert (again.new, again.sent, again.error) == ((), SendSummary(), None)
    assert len(slack_server.requests) == 2
    assert [b["text"].split(" :")[0] for b in posted(slack_server)] == [
        "ACME Leads SAS, livraison 1", "ACME Leads SAS, semaine 2027-W09"]
    assert outbox(db_url) == {k: ("sent", 1, None) for k in first.new}


# --- the outbox and Slack ------------------------------------------------------------------------

def spike(db_url, settings) -> AlertRun:
    """A delivery of 20 leads, 4 rejected INVALID_EMAIL: REJECTION_SPIKE of the delivery and of
    its week, evaluated and sent with ``settings``."""
    delivery_id = deliver(db_url, leads(16, 4), contract(**{"volumes.weekly_max": 100}))  # no cap alert
    return runtime(db_url, settings).alerts(lambda session: evaluate.after_delivery(
        session, delivery_id, TZ, date(2027, 3, 2)))


def only_alert(db_url, settings) -> str:
    """One GDPR_BREACH, recorded and then sent with ``settings``: its key."""
    deliver(db_url, leads(1, 1, consent_proof=""), contract(**RATES_FROM_20))
    run = runtime(db_url, settings).alerts(lambda session: evaluate.after_delivery(
        session, 1, TZ, date(2027, 3, 2)))
    assert run.new == (key("GDPR_BREACH", "delivery:1"),)
    return run.new[0]


def test_alerts_are_posted_to_the_contract_channel_with_their_blocks(db_url, slack_settings, slack_server):
    run = spike(db_url, slack_settings)

    assert run.sent == SendSummary(sent=2)
    # one incident: the delivery's spike opens it, the week's is a reply in its thread, and the first
    # message is updated with the incident's latest figures
    assert [r["path"] for r in slack_server.requests] == ["/api/chat.postMessage"] * 2 + ["/api/chat.update"]
    assert slack_server.requests[0]["headers"]["authorization"] == "Bearer xoxb-test"
    delivery, week, update = posted(slack_server)
    first = slack_server.top_level("C0OPS")[0]
    assert week["thread_ts"] == first["ts"] and "thread_ts" not in delivery
    assert (update["channel"], update["ts"]) == ("C0OPS", first["ts"])
    assert update["blocks"][-1]["elements"][0]["text"] == (
        "Incident en cours : 2 alertes, la dernière pour semaine 2027-W09 (20,0 %).")
    assert [m["metadata"]["event_payload"]["key"] for m in slack_server.messages] == [
        key("REJECTION_SPIKE", "delivery:1"), key("REJECTION_SPIKE", "2027-W09")]
    delivery.pop("metadata"), week.pop("metadata"), week.pop("thread_ts")
    assert delivery == {
        "channel": "#lead-ops",
        "text": "ACME Leads SAS, livraison 1 : taux de rejet de 20,0 %, au-dessus du seuil du contrat (15,0 %). "
                "La fenêtre de contestation se ferme le 08/03/2027 : envoyer le rapport de retour au fournisseur.",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Pic de rejets", "emoji": False}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*Fournisseur*\nACME Leads SAS"},
                {"type": "mrkdwn", "text": "*Période*\nlivraison 1"},
                {"type": "mrkdwn", "text": "*Taux de rejet*\n20,0 %"},
                {"type": "mrkdwn", "text": "*Seuil*\n15,0 %"},
            ]},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Principaux motifs : INVALID_EMAIL (4)"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Prochaine étape* : La fenêtre de contestation "
                                         "se ferme le 08/03/2027 : envoyer le rapport de retour au fournisseur."}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": "`REJECTION_SPIKE` · `REJECTION_SPIKE|acme-leads|delivery:1`"}]},
        ],
    }
    assert week["blocks"][-1]["elements"][0]["text"] == "`REJECTION_SPIKE` · `REJECTION_SPIKE|acme-leads|2027-W09`"
    assert "Revoir avec le fournisseur les motifs de rejet de la semaine." in week["text"]
    # what was posted is what the outbox stored
    with session_scope(db_url) as session:
        rows = session.execute(select(OutboxAlert.text, OutboxAlert.blocks).order_by(OutboxAlert.id)).all()
    assert [(b["text"], b["blocks"]) for b in posted(slack_server)[:2]] == [(t, json.loads(b)) for t, b in rows]
    assert {s for s, _, _ in outbox(db_url).values()} == {"sent"}


def test_a_rate_limited_post_is_retried_after_retry_after(db_url, slack_settings, slack_server):
    slack_server.enqueue(("ratelimited", 0))
    alert_key = only_alert(db_url, slack_settings)

    first, retry = posted(slack_server)
    assert first == retry  # the same message, posted again by the SDK's retry handler
    assert outbox(db_url) == {alert_key: ("sent", 1, None)}


def test_a_post_failing_with_500_is_kept_and_sent_by_the_next_run(db_url, slack_settings, slack_server):
    slack_server.enqueue("error500", "error500", "error500")  # every attempt of the first run
    alert_key = only_alert(db_url, slack_settings)

    assert len(slack_server.requests) == 3  # 1 attempt + 2 retries
    status, attempts, error = outbox(db_url)[alert_key]
    assert (status, attempts) == ("failed", 1)
    assert "HTTP 500" in error and "#lead-ops" in error
    text = posted(slack_server)[0]["text"]
    assert "consentement" not in error and text not in error and "Internal Server Error" not in error

    sender = SlackSender.from_settings(slack_settings)
    assert send_pending(db_url, sender) == SendSummary(sent=1)  # Slack is back
    # a retry first looks for an earlier post of the alert (none here), then posts it
    assert [r["path"] for r in slack_server.requests[3:]] == [
        "/api/conversations.list", "/api/conversations.history", "/api/chat.postMessage"]
    assert posted(slack_server)[-1]["text"] == text
    assert outbox(db_url) == {alert_key: ("sent", 2, None)}
    assert send_pending(db_url, sender) == SendSummary()  # nothing left: sent once
    assert len(slack_server.requests) == 6


def test_a_hanging_slack_is_bounded_by_the_timeout(db_url, slack_settings, slack_server):
    deliver(db_url, leads(1, 1, consent_proof=""), contract(**RATES_FROM_20))
    in_session(db_url, evaluate.after_delivery, 1, TZ, date(2027, 3, 2))
    slack_server.enqueue(("hang", 5))
    sender = SlackSender.from_settings(slack_settings)  # timeout 0.5 s

    started = time.monotonic()
    assert send_pending(db_url, sender) == SendSummary(failed=1)
    assert time.monotonic() - started < 4  # bounds the hang; not a performance test
    assert len(slack_server.requests) == 1  # a read timeout is not retried (Slack may have posted it)
    status, attempts, error = outbox(db_url)[key("GDPR_BREACH", "delivery:1")]
    assert (status, attempts) == ("failed", 1) and "timed out" in error
    assert send_pending(db_url, sender) == SendSummary(sent=1)


def test_one_refused_alert_does_not_hold_back_other_incidents_only_its_own_thread(
        db_url, slack_settings, slack_server):
    slack_server.enqueue(("api_error", "channel_not_found"))
    terms = contract(**{"volumes.weekly_max": 100})
    delivery_id = deliver(db_url, leads(15, 4) + leads(0, 1, start=20, consent_proof=""), terms)
    run = runtime(db_url, slack_settings).alerts(lambda session: evaluate.after_delivery(
        session, delivery_id, TZ, date(2027, 3, 2)))

    assert run.sent == SendSummary(sent=1, failed=1)
    assert outbox(db_url) == {
        key("REJECTION_SPIKE", "delivery:1"): ("failed", 1, "SlackDeliveryError: Slack message to channel "
                                                          "'#lead-ops' not delivered: HTTP 200, Slack error "
                                                          "channel_not_found"),
        key("GDPR_BREACH", "delivery:1"): ("sent", 1, None),  # another incident: not held back
        key("REJECTION_SPIKE", "2027-W09"): ("pending", 0, None),  # waits for its thread's first message
    }
    sender = SlackSender.from_settings(slack_settings)
    assert send_pending(db_url, sender) == SendSummary(sent=2)
    opener, reply = [m for m in slack_server.messages if "REJECTION_SPIKE" in m["metadata"]["event_payload"]["key"]]
    assert reply["thread_ts"] == opener["ts"] and opener["thread_ts"] is None


def test_without_slack_settings_alerts_stay_pending_until_slack_is_configured(
        db_url, make_settings, slack_settings, slack_server):
    run = spike(db_url, make_settings())

    assert run.sent == SendSummary(kept=2)
    assert {k: s for k, s in outbox(db_url).items()} == {
        key("REJECTION_SPIKE", "delivery:1"): ("pending", 0, None),
        key("REJECTION_SPIKE", "2027-W09"): ("pending", 0, None),
    }
    assert slack_server.requests == []
    assert send_pending(db_url, SlackSender.from_settings(slack_settings)) == SendSummary(sent=2)
    assert {s for s, _, _ in outbox(db_url).values()} == {"sent"}


def test_an_evaluation_error_is_reported_not_raised(db_url, slack_settings, slack_server):
    def broken(session):
        raise RuntimeError("ledger unreadable")

    run = runtime(db_url, slack_settings).alerts(broken)
    assert (run.new, run.sent) == ((), SendSummary())
    assert run.error == "alerts not evaluated (RuntimeError); run `leadgov alerts check`"
    assert slack_server.requests == []


@pytest.mark.parametrize(("cap", "fires"), [(250, "BUDGET_CAP_REACHED"), (300, "BUDGET_CAP_NEAR"), (350, None)])
def test_budget_cap_after_a_delivery(db_url, cap, fires):
    # 6 qualified leads x 45 EUR = 270 billable so far in March: >= the cap, >= 80 % of it, under 80 %
    terms = contract(**{"billing.monthly_budget_cap_eur": cap})
    keys = [k for k in after_delivery(db_url, deliver(db_url, leads(6), terms)) if k.startswith("BUDGET_CAP_")]
    assert keys == ([key(fires, "2027-03")] if fires else [])
    if fires:
        assert stored(db_url)[keys[0]]["facts"] == {"billable_eur": 270.0, "budget_cap_eur": float(cap)}


@pytest.mark.parametrize(("as_of", "fires"), [(date(2027, 10, 11), False), (date(2027, 10, 18), True),
                                              (date(2027, 11, 1), True), (date(2027, 11, 8), False)])
def test_contract_renewal_from_the_weekly_check(db_url, as_of, fires):
    # the contract ends on 31 December with 60 days' notice: the last day to give it is 1 November, the
    # alert is due from 14 days before it (18 October)
    deliver(db_url, leads(5), contract(**MONDAYS))
    keys = of_type(check_weeks(db_url, as_of), "CONTRACT_RENEWAL")
    assert keys == ([key("CONTRACT_RENEWAL", "renewal:2027-12-31")] if fires else [])
