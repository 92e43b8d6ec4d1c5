"""Deciding leads held in review (docs/governance.md, The review tier): who, when and why are stored; an
acceptance is billed on the statement of the decision's month; a rejection opens its claim on the decision
day; a lead not in review, or past its deadline, is refused with nothing stored; the list shows no email or
phone. SQLite and PostgreSQL (the ``db_url`` fixture)."""

from dataclasses import asdict
from datetime import date

import pytest
from factories import HMAC_KEY, ingest, lead, make_contract_file, service_runtime
from sqlalchemy import select

from leadgov.config.settings import Settings
from leadgov.errors import Refused
from leadgov.models import LeadReviewDecision
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.gdpr_store import erase_expired, erase_leads
from leadgov.models.replacement import ReplacementClaim
from leadgov.models.supplier import ContractVersion
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.lead_review import (
    ReviewDecisionRequest,
    ReviewListRequest,
    decide_review,
    decide_reviews,
    list_reviews,
)
from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

REVIEWED = {"exploitability.review_reasons": ["OUT_OF_TARGET_SIZE", "FREE_EMAIL"],
            "exploitability.review_deadline_days": 10, "replacement.max_replacement_share": 1.0}
CONTRACT = make_contract_file(**REVIEWED)
DELIVERED = date(2027, 3, 29)  # due 2027-04-08 (10 days), in the next month


def runtime(db_url, day: date, actor: str = "jdupont"):
    return service_runtime(db_url, day, actor=actor)


def deliver(db_url):
    """L-00001 accepted, L-00002 and L-00003 in review (too small; webmail), L-00004 rejected."""
    rows = [lead(1, collected_at="2027-03-27 10:00", consent_at="2027-03-27 10:00"),
            lead(2, employees="1", collected_at="2027-03-27 10:00", consent_at="2027-03-27 10:00"),
            lead(3, email="camille.durand@gmail.com", collected_at="2027-03-27 10:00",
                 consent_at="2027-03-27 10:00"),
            lead(4, phone="12", collected_at="2027-03-27 10:00", consent_at="2027-03-27 10:00")]
    outcome = ingest(db_url, rows, DELIVERED, contract=CONTRACT)
    assert outcome.result.verdicts["status"].tolist() == ["accepted", "review", "review", "rejected"]


def decide(db_url, day, decision, *lead_ids, by="Claire Martin", comment="checked with sales"):
    return decide_review(runtime(db_url, day), ReviewDecisionRequest("acme-leads", lead_ids, decision, comment, by))


def leads(db_url) -> dict[str, tuple[str, date | None]]:
    with session_scope(db_url) as session:
        return {i: (s, d) for i, s, d in session.execute(select(Lead.lead_id, Lead.status, Lead.decided_on))}


def claims(db_url) -> list[tuple[str, str, date, date | None]]:
    with session_scope(db_url) as session:
        return sorted(session.execute(select(ReplacementClaim.lead_id, ReplacementClaim.status,
                                             ReplacementClaim.opened_on, ReplacementClaim.due_on)).all())


def test_the_list_shows_what_the_reasons_concern_and_no_email_or_phone(db_url):
    deliver(db_url)
    listed = list_reviews(runtime(db_url, date(2027, 3, 31)), ReviewListRequest())
    assert listed.as_of == date(2027, 3, 31)
    first, second = listed.leads
    assert (first.lead_id, first.reasons, first.employees, first.due_on, first.days_left) == (
        "L-00002", ("OUT_OF_TARGET_SIZE",), 1, date(2027, 4, 8), 8)
    assert first.details == "OUT_OF_TARGET_SIZE: employees 1 outside 10..5000"
    assert (second.lead_id, second.reasons, second.email_domain) == ("L-00003", ("FREE_EMAIL",), "gmail.com")
    assert (second.company_name, second.siren, second.job_title, second.source) == (
        "Nexalog SAS", "732829320", "Directrice des systèmes d'information", "web_form")
    shown = repr([asdict(x) for x in listed.leads])
    for personal in ("camille", "Martin", "Durand", "+336", "06 12"):
        assert personal.lower() not in shown.lower()
    assert list_reviews(runtime(db_url, date(2027, 3, 31)), ReviewListRequest("other")).leads == ()


def test_an_accepted_lead_is_billed_in_the_decision_month_not_the_delivery_month(db_url):
    deliver(db_url)
    result = decide(db_url, date(2027, 4, 2), "accept", "L-00002")
    assert (result.decision, result.decided_by, result.decided_on, result.decided) == (
        "accept", "Claire Martin", date(2027, 4, 2), 1)
    assert leads(db_url)["L-00002"] == ("accepted", date(2027, 4, 2))
    with session_scope(db_url) as session:
        stored = session.scalars(select(LeadReviewDecision)).one()
        assert (stored.decision, stored.decided_by, stored.decided_on, stored.comment) == (
            "accept", "Claire Martin", date(2027, 4, 2), "checked with sales")
    assert claims(db_url) == [("L-00004", "open", date(2027, 3, 29), date(2027, 4, 8))]  # acceptance opens none
    march = bill_statement(runtime(db_url, date(2027, 4, 5)), StatementRequest("acme-leads", "2027-03")).statement
    april = bill_statement(runtime(db_url, date(2027, 5, 5)), StatementRequest("acme-leads", "2027-04")).statement
    assert march.billable_lead_ids == ("L-00001",)  # L-00003 still waits: on no statement
    assert april.billable_lead_ids == ("L-00002",)


def test_a_lead_accepted_after_review_takes_no_place_under_the_weekly_cap(db_url):
    """The weekly cap is decided at delivery: a lead a person accepts later neither is flagged by it nor
    counts toward it for the week's later deliveries."""
    capped = make_contract_file(**{**REVIEWED, "volumes.weekly_target": 1, "volumes.weekly_max": 1})
    monday, wednesday = date(2027, 3, 22), date(2027, 3, 24)
    stamp = {"collected_at": "2027-03-21 10:00", "consent_at": "2027-03-21 10:00"}
    ingest(db_url, [lead(1, employees="1", **stamp)], monday, contract=capped)
    decide(db_url, date(2027, 3, 23), "accept", "L-00001")
    later = ingest(db_url, [lead(2, **stamp), lead(3, **stamp)], wednesday, contract=capped, name="w.csv")
    assert list(later.result.verdicts["flags"].fillna("")) == ["", "OVER_WEEKLY_CAP"]
    with session_scope(db_url) as session:
        assert session.scalar(select(Lead.flags).where(Lead.lead_id == "L-00001")) is None


def test_a_rejected_lead_opens_its_claim_on_the_decision_day(db_url):
    deliver(db_url)
    result = decide(db_url, date(2027, 3, 31), "reject", "L-00002", "L-00003", by=None)
    assert (result.decided_by, result.claims.opened) == ("jdupont", 2)  # without --by: the runtime's actor
    assert [x.lead_id for x in result.leads] == ["L-00002", "L-00003"]
    assert leads(db_url)["L-00003"] == ("rejected", date(2027, 3, 31))
    assert claims(db_url) == [("L-00002", "open", date(2027, 3, 31), date(2027, 4, 10)),
                              ("L-00003", "open", date(2027, 3, 31), date(2027, 4, 10)),
                              ("L-00004", "open", date(2027, 3, 29), date(2027, 4, 8))]


def test_a_claim_opened_in_a_month_without_deliveries_is_not_owed(db_url):
    """The monthly cap counts the decision month's deliveries, as for a contest."""
    deliver(db_url)
    assert decide(db_url, date(2027, 4, 8), "reject", "L-00002").claims.not_owed_cap == 1  # the deadline day
    assert ("L-00002", "not_owed_cap", date(2027, 4, 8), None) in claims(db_url)


def test_the_day_after_the_deadline_a_decision_is_refused(db_url):
    deliver(db_url)
    with pytest.raises(Refused, match=r"lead L-00002 of acme-leads is past its review deadline \(2027-04-08\)"):
        decide(db_url, date(2027, 4, 9), "accept", "L-00002")
    assert leads(db_url)["L-00002"] == ("review", None)


@pytest.mark.parametrize(("lead_ids", "message"), [
    (("L-00002", "L-00001"), "lead L-00001 of acme-leads cannot be decided: it is accepted, not in review"),
    (("L-00002", "L-00004"), "lead L-00004 of acme-leads cannot be decided: it is rejected, not in review"),
    (("L-00002", "L-99999"), "no lead L-99999 from supplier acme-leads: nothing decided"),
])
def test_a_batch_with_a_lead_not_in_review_is_refused_whole(db_url, lead_ids, message):
    deliver(db_url)
    with pytest.raises(Refused, match=message):
        decide(db_url, date(2027, 3, 30), "accept", *lead_ids)
    assert leads(db_url)["L-00002"] == ("review", None)
    with session_scope(db_url) as session:
        assert session.scalars(select(LeadReviewDecision)).all() == []


def both(accept: tuple[str, ...], reject: tuple[str, ...]) -> list[ReviewDecisionRequest]:
    return [ReviewDecisionRequest("acme-leads", accept, "accept", "sized by phone", "Claire Martin"),
            ReviewDecisionRequest("acme-leads", reject, "reject", "webmail only", "Claire Martin")]


def test_the_accept_and_reject_lists_of_one_form_are_stored_together(db_url):
    deliver(db_url)
    accepted, rejected = decide_reviews(runtime(db_url, date(2027, 3, 30)), both(("L-00002",), ("L-00003",)))
    assert (accepted.decision, [x.lead_id for x in accepted.leads]) == ("accept", ["L-00002"])
    assert (rejected.decision, [x.lead_id for x in rejected.leads], rejected.claims.opened) == ("reject",
                                                                                                ["L-00003"], 1)
    assert leads(db_url)["L-00002"] == ("accepted", date(2027, 3, 30))
    assert leads(db_url)["L-00003"] == ("rejected", date(2027, 3, 30))


@pytest.mark.parametrize(("accept", "reject", "message"), [
    (("L-00002",), ("L-00004",), "lead L-00004 of acme-leads cannot be decided: it is rejected, not in review"),
    (("L-00002", "L-00003"), ("L-00003",), "lead L-00003 named in more than one decision"),
])
def test_a_refused_list_stores_the_other_list_neither(db_url, accept, reject, message):
    """One transaction for the form: the acceptances are not kept when the rejections are refused."""
    deliver(db_url)
    before = leads(db_url), claims(db_url)
    with pytest.raises(Refused, match=message):
        decide_reviews(runtime(db_url, date(2027, 3, 30)), both(accept, reject))
    assert (leads(db_url), claims(db_url)) == before
    assert leads(db_url)["L-00002"] == ("review", None)
    with session_scope(db_url) as session:
        assert session.scalars(select(LeadReviewDecision)).all() == []


def test_a_lead_decided_once_is_not_decided_again(db_url):
    deliver(db_url)
    decide(db_url, date(2027, 3, 30), "reject", "L-00002")
    with pytest.raises(Refused, match=r"it was already decided \(reject, by Claire Martin on 2027-03-30\)"):
        decide(db_url, date(2027, 3, 31), "accept", "L-00002")
    assert leads(db_url)["L-00002"] == ("rejected", date(2027, 3, 30))


@pytest.mark.parametrize(("decision", "comment", "by", "message"), [
    ("maybe", "x", "A", "unknown decision 'maybe': accept or reject"),
    ("accept", "  ", "A", "a review decision needs a comment"),
    ("accept", "x", " ", "a review decision needs who decides it"),
])
def test_an_incomplete_request_is_refused(db_url, decision, comment, by, message):
    deliver(db_url)
    with pytest.raises(Refused, match=message):
        decide(db_url, date(2027, 3, 30), decision, "L-00002", by=by, comment=comment)


# --- the daily check --------------------------------------------------------------------------------


def check(db_url, day):
    from leadgov.services.replacements import ReplacementCheckRequest, check_replacements

    return check_replacements(runtime(db_url, day), ReplacementCheckRequest())


def test_the_daily_check_leaves_a_lead_on_its_deadline_day_and_rejects_it_the_day_after(db_url):
    deliver(db_url)
    decide(db_url, date(2027, 3, 30), "accept", "L-00003")
    assert check(db_url, date(2027, 4, 8)).reviews_rejected == ()  # the deadline day: still a person's call
    assert leads(db_url)["L-00002"] == ("review", None)

    result = check(db_url, date(2027, 4, 9))
    assert [(r.lead_id, r.due_on, r.decided_on) for r in result.reviews_rejected] == [
        ("L-00002", date(2027, 4, 8), date(2027, 4, 9))]
    assert leads(db_url)["L-00002"] == ("rejected", date(2027, 4, 9))
    with session_scope(db_url) as session:
        stored = session.scalars(select(LeadReviewDecision).where(LeadReviewDecision.decision == "reject")).one()
        assert (stored.decided_by, stored.decided_on) == ("deadline", date(2027, 4, 9))
    # its claim opens on the decision day (not owed: April has no delivery yet); L-00004's went overdue
    assert claims(db_url) == [("L-00002", "not_owed_cap", date(2027, 4, 9), None),
                              ("L-00004", "overdue", date(2027, 3, 29), date(2027, 4, 8))]
    assert check(db_url, date(2027, 4, 10)).reviews_rejected == ()  # nothing left to reject


def test_a_late_check_decides_on_the_day_after_the_deadline_whenever_it_runs(db_url):
    deliver(db_url)
    result = check(db_url, date(2027, 4, 20))
    assert [(r.lead_id, r.decided_on) for r in result.reviews_rejected] == [
        ("L-00002", date(2027, 4, 9)), ("L-00003", date(2027, 4, 9))]


def review_waiting_keys(db_url) -> list[str]:
    from leadgov.models.alert import OutboxAlert

    with session_scope(db_url) as session:
        return list(session.scalars(select(OutboxAlert.key).where(OutboxAlert.type == "REVIEW_WAITING")
                                    .order_by(OutboxAlert.id)))


def test_the_daily_check_raises_review_waiting_when_the_oldest_is_due_within_a_day(db_url):
    deliver(db_url)  # L-00002 and L-00003 due on 2027-04-08
    check(db_url, date(2027, 4, 6))
    assert review_waiting_keys(db_url) == []  # two days left
    check(db_url, date(2027, 4, 7))
    check(db_url, date(2027, 4, 7))  # a rerun adds nothing
    check(db_url, date(2027, 4, 8))
    assert len(review_waiting_keys(db_url)) == 2
    assert [k.rsplit("|", 1)[-1] for k in review_waiting_keys(db_url)] == ["day:2027-04-07", "day:2027-04-08"]
    check(db_url, date(2027, 4, 9))  # both rejected by the deadline first: nothing waits
    assert len(review_waiting_keys(db_url)) == 2


# --- the command line ---------------------------------------------------------------------------------


def test_the_review_commands_list_accept_and_reject(db_url):
    import json

    from typer.testing import CliRunner

    from leadgov.cli import app

    deliver(db_url)
    runner = CliRunner()
    listed = runner.invoke(app, ["review", "list", "--format", "json", "--db", db_url])
    assert listed.exit_code == 0, listed.output
    records = json.loads(listed.output)
    assert [(r["lead_id"], r["reasons"]) for r in records] == [("L-00002", "OUT_OF_TARGET_SIZE"),
                                                               ("L-00003", "FREE_EMAIL")]
    assert "camille" not in listed.output.lower()
    table = runner.invoke(app, ["review", "list", "--db", db_url])
    assert table.exit_code == 0 and "2 leads in review" in table.output, table.output

    accepted = runner.invoke(app, ["review", "accept", "L-00002", "--supplier", "acme-leads", "--by", "Claire Martin",
                                   "--comment", "small but strategic", "--db", db_url])
    assert accepted.exit_code == 0, accepted.output
    assert "1 lead of acme-leads accepted by Claire Martin" in accepted.output
    again = runner.invoke(app, ["review", "reject", "L-00002", "L-00003", "--supplier", "acme-leads",
                                "--comment", "no", "--db", db_url])
    assert again.exit_code == 2 and "L-00002 of acme-leads cannot be decided" in again.output
    no_comment = runner.invoke(app, ["review", "reject", "L-00003", "--supplier", "acme-leads", "--comment", " ",
                                     "--db", db_url])
    assert no_comment.exit_code == 2 and "needs a comment" in no_comment.output
    assert leads(db_url)["L-00003"] == ("review", None)


# --- where a decision shows: the quarterly review's decision log, the person's access export ----------


def test_review_decisions_are_in_the_quarterly_reviews_decision_log_summed_with_who_when_why(db_url, tmp_path):
    from html import unescape

    from leadgov.services.review import ReviewRequest, review_report

    deliver(db_url)
    decide(db_url, date(2027, 3, 30), "accept", "L-00002", comment="the size is fine for this buyer")
    decide(db_url, date(2027, 3, 31), "reject", "L-00003", by="Léa Owner", comment="webmail: not workable")
    settings = Settings(_env_file=None, database_url=db_url, hmac_key=HMAC_KEY, slack_bot_token=None,
                        slack_webhook_url=None, output_dir=tmp_path)
    rt = build_runtime(settings, clock=FixedClock(date(2027, 4, 20)), notifier=OutboxNotifier(None))

    written = review_report(rt, ReviewRequest("2027-Q1"))

    acme = written.review.suppliers[0]
    assert [(d.at, d.decision, d.decided_by, d.comment, d.leads) for d in acme.review_decisions] == [
        (date(2027, 3, 30), "accept", "Claire Martin", "the size is fine for this buyer", 1),
        (date(2027, 3, 31), "reject", "Léa Owner", "webmail: not workable", 1)]
    log = unescape(written.path.read_text(encoding="utf-8")).split("Journal des décisions")[1].split("</section>")[0]
    assert "1 lead en revue accepté (par Claire Martin) : the size is fine for this buyer" in log
    assert "1 lead en revue rejeté (par Léa Owner) : webmail: not workable" in log
    assert "L-00002" not in log and "L-00003" not in log  # summed, never listed one by one


def test_the_access_export_shows_the_persons_review_decision(db_url):
    from leadgov.services.gdpr import PersonRequest, export_person

    deliver(db_url)
    decide(db_url, date(2027, 3, 31), "accept", "L-00003", comment="webmail, but the decision maker")

    exported = export_person(runtime(db_url, date(2027, 4, 2)), PersonRequest(emails=("camille.durand@gmail.com",)))

    (document,) = exported.leads
    assert (document["lead_id"], document["status"]) == ("L-00003", "accepted")
    decision = document["review_decision"]
    assert {k: decision[k] for k in ("decision", "decided_on", "decided_by", "comment")} == {
        "decision": "accept", "decided_on": "2027-03-31", "decided_by": "Claire Martin",
        "comment": "webmail, but the decision maker"}
    assert decision["decided_at"] is not None
    other = export_person(runtime(db_url, date(2027, 4, 2)), PersonRequest(emails=("camille.martin1@nexalog.fr",)))
    assert other.leads[0]["review_decision"] is None  # accepted at delivery: never reviewed


def test_erasure_blanks_the_review_comment_and_keeps_the_decision(db_url):
    """A review comment is free text that may name the person: erasing the lead (a person's erasure,
    or retention) blanks it; the decision, who took it and when stay."""
    deliver(db_url)
    decide(db_url, date(2027, 3, 31), "accept", "L-00002", comment="Camille Durand confirms 40 staff")
    decide(db_url, date(2027, 3, 31), "reject", "L-00003", comment="Camille Durand left the company")
    with session_scope(db_url) as session:
        pk = session.scalar(select(Lead.id).where(Lead.lead_id == "L-00002"))
        erase_leads(session, [pk])
    with session_scope(db_url) as session:
        kept = {r.lead_pk: (r.decision, r.decided_by, r.comment) for r in session.scalars(select(LeadReviewDecision))}
    assert kept[pk] == ("accept", "Claire Martin", "")
    assert [c for p, (_, _, c) in kept.items() if p != pk] == ["Camille Durand left the company"]

    with session_scope(db_url) as session:
        version = session.scalar(select(ContractVersion.id))
        erase_expired(session, version, "acme-leads", date(2027, 4, 1))
    with session_scope(db_url) as session:
        assert set(session.scalars(select(LeadReviewDecision.comment))) == {""}
