"""Alerts through the command line: ``leadgov validate``, ``contest``, ``outcomes import``,
``replacements check`` and ``billing statement`` raise them after their own commit;
``leadgov alerts`` lists, sends and checks. Settings come from the environment
(``LEADGOV_DATABASE_URL``, ``LEADGOV_SLACK_*``), with Slack pointed at the loopback fake Slack.
"""

import json
import re

import pytest
from factories import BASE_CONTRACT, delivery_file, ingest, lead, outcomes_csv
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.models.alert import OutboxAlert
from leadgov.models.db import session_scope
from leadgov.models.delivery import Delivery

runner = CliRunner()

SUPPLIER = "acme-leads"


# --- helpers -----------------------------------------------------------------------------------

def use_slack(monkeypatch, slack_server=None) -> None:
    """Point the bot-token settings at ``slack_server``, or leave Slack unconfigured (None)."""
    from leadgov.config.settings import get_settings

    monkeypatch.delenv("LEADGOV_SLACK_WEBHOOK_URL", raising=False)
    if slack_server is None:
        monkeypatch.delenv("LEADGOV_SLACK_BOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("LEADGOV_SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("LEADGOV_SLACK_BASE_URL", slack_server.api_url)
        monkeypatch.setenv("LEADGOV_SLACK_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()


@pytest.fixture
def env(monkeypatch, db_url, slack_server):
    """The test database and the fake Slack, from the environment as in production."""
    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_DATABASE_URL", db_url)
    use_slack(monkeypatch, slack_server)
    yield monkeypatch
    get_settings.cache_clear()


def leadgov(*args):
    return runner.invoke(app, list(args))


def ok(result) -> str:
    """stdout of a successful command, rich's line wrapping undone."""
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def alerts_line(result) -> str:
    """What a step printed on stderr about the alerts it raised ("" when none), unwrapped."""
    assert result.exit_code == 0, result.output
    found = re.search(r"alerts: \d+ new; sent \d+, failed \d+ \(kept for the next run\)"
                      r"(, kept in the outbox \d+ \(Slack or SMTP not configured\))?", " ".join(result.stderr.split()))
    return found.group(0) if found else ""


def validate(folder, rows):
    """``leadgov validate`` of ``rows`` delivered on 2027-03-01 under the example contract."""
    path = folder / "acme-2027-03-01.csv"
    path.write_bytes(delivery_file(rows).take())
    return leadgov("validate", "--contract", str(BASE_CONTRACT), "--delivery", str(path),
                   "--delivered-on", "2027-03-01", "--out", str(folder / "result.csv"))


def outbox(db_url) -> dict[str, tuple]:
    """(status, attempts) by key."""
    with session_scope(db_url) as session:
        return {a.key: (a.status, a.attempts) for a in session.scalars(select(OutboxAlert).order_by(OutboxAlert.id))}


def posted(slack_server) -> list[dict]:
    return [r["body"] for r in slack_server.requests]


def key(kind: str, period: str) -> str:
    return f"{kind}|{SUPPLIER}|{period}"


#: A GDPR breach in a 2-lead delivery: under the example's 20 leads, the only alert.
ONE_BREACH = [lead(1), lead(2, consent_proof="")]


# --- validate ------------------------------------------------------------------------------------

FIRST_NAMES = ["Ghislaine", "Aurélien", "Maëlys", "Thibault", "Solène"]
LAST_NAMES = ["Vandermeersch", "Kerbrat", "Lemoustier", "Dufresnoy"]
COMPANIES = ["Quartzline Industries", "Borealis Conseil", "Hexagone Logistique", "Téranga Systèmes"]


def person(i: int, **overrides) -> dict:
    """Lead ``i`` (0..19) with its own name, e-mail, phone and company."""
    first, last, company = FIRST_NAMES[i % 5], LAST_NAMES[i // 5], COMPANIES[i // 5]
    domain = re.sub(r"[^a-z]+", "-", company.lower().replace("é", "e")) + ".fr"
    email = f"{first.lower().replace('é', 'e').replace('ë', 'e')}.{last.lower()}@{domain}"
    return lead(i + 1, **{"first_name": first, "last_name": last, "company_name": company, "email": email,
                          "phone": f"07 81 45 {i:02d} 93", **overrides})


def personal_data(rows) -> set[str]:
    """Every way a name, e-mail, phone or company of ``rows`` could be written."""
    values = set()
    for r in rows:
        digits = r["phone"].replace(" ", "")
        values |= {r["first_name"], r["last_name"], f"{r['first_name']} {r['last_name']}", r["email"],
                   r["email"].split("@")[0], r["phone"], digits, f"+33{digits[1:]}", r["company_name"]}
    return {v.lower() for v in values}


def test_validate_raises_alerts_that_carry_no_personal_data(env, db_url, tmp_path, slack_server):
    # 20 leads: 2 rejected NO_CONSENT, 2 duplicates of others' e-mails; 20 % rejected, 10 % duplicates
    rows = [person(i, consent_proof="") if i < 2 else person(i) for i in range(18)]
    rows += [person(18, email=rows[5]["email"]), person(19, email=rows[9]["email"])]
    result = validate(tmp_path, rows)

    assert "stored as delivery 1" in ok(result)
    assert alerts_line(result) == "alerts: 5 new; sent 5, failed 0 (kept for the next run)"  # nothing kept
    assert sorted(outbox(db_url)) == sorted([
        key("REJECTION_SPIKE", "delivery:1"), key("REJECTION_SPIKE", "2027-W09"),
        key("DUPLICATE_SURGE", "delivery:1"), key("DUPLICATE_SURGE", "2027-W09"), key("GDPR_BREACH", "delivery:1")])
    assert "DUPLICATE_IN_DELIVERY (2)" in json.dumps(posted(slack_server), ensure_ascii=False)  # codes, not people

    secrets = personal_data(rows)
    # three incidents (spike, duplicates, GDPR): the week's spike and surge are replies in their
    # delivery's thread, whose first message is then updated
    paths = [r["path"] for r in slack_server.requests]
    assert (paths.count("/api/chat.postMessage"), paths.count("/api/chat.update")) == (5, 2)
    assert len(slack_server.top_level()) == 3
    for body in posted(slack_server):
        sent = json.dumps(body, ensure_ascii=False).lower()
        assert [s for s in secrets if s in sent] == []
    with session_scope(db_url) as session:
        stored = session.execute(select(OutboxAlert.text, OutboxAlert.blocks, OutboxAlert.facts)).all()
    for text, blocks, facts in stored:
        kept = json.dumps([text, json.loads(blocks), json.loads(facts)], ensure_ascii=False).lower()
        assert [s for s in secrets if s in kept] == []


def test_validate_succeeds_when_slack_answers_500(env, db_url, tmp_path, slack_server):
    slack_server.enqueue("error500", "error500", "error500")
    result = validate(tmp_path, ONE_BREACH)

    assert "stored as delivery 1" in ok(result)
    assert alerts_line(result).startswith("alerts: 1 new; sent 0, failed 1 (kept for the next run)")
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
    assert outbox(db_url) == {key("GDPR_BREACH", "delivery:1"): ("failed", 1)}

    # the same file again: nothing stored, no alert raised twice; the failed one is sent now
    again = validate(tmp_path, ONE_BREACH)
    assert "already ingested as delivery 1" in ok(again)
    assert alerts_line(again).startswith("alerts: 0 new; sent 1, failed 0")
    assert outbox(db_url) == {key("GDPR_BREACH", "delivery:1"): ("sent", 2)}
    # the retry looked for an earlier post of the alert first (Slack had none), then posted it once
    assert [r["path"] for r in slack_server.requests[3:]] == [
        "/api/conversations.list", "/api/conversations.history", "/api/chat.postMessage"]


def test_without_slack_settings_alerts_wait_for_alerts_send(env, db_url, tmp_path, slack_server):
    use_slack(env, None)
    result = validate(tmp_path, ONE_BREACH)
    assert alerts_line(result) == ("alerts: 1 new; sent 0, failed 0 (kept for the next run), kept in the outbox 1 "
                                   "(Slack or SMTP not configured)")
    assert outbox(db_url) == {key("GDPR_BREACH", "delivery:1"): ("pending", 0)}
    assert "sent 0, failed 0 (kept for the next run), kept in the outbox 1" in ok(leadgov("alerts", "send"))
    assert outbox(db_url) == {key("GDPR_BREACH", "delivery:1"): ("pending", 0)}

    use_slack(env, slack_server)
    assert ok(leadgov("alerts", "send")).startswith("sent 1, failed 0")
    assert outbox(db_url) == {key("GDPR_BREACH", "delivery:1"): ("sent", 1)}
    assert [b["channel"] for b in posted(slack_server)] == ["#lead-ops"]
    assert ok(leadgov("alerts", "send")).startswith("sent 0, failed 0")
    assert len(slack_server.requests) == 1


# --- leadgov alerts ------------------------------------------------------------------------------

def test_alerts_lists_the_outbox(env, db_url, tmp_path, slack_server):
    rows = [lead(i) for i in range(1, 17)] + [lead(i, email="bad") for i in range(17, 21)]
    slack_server.enqueue(("api_error", "channel_not_found"))  # the first alert is refused
    ok(validate(tmp_path, rows))

    listed = json.loads(ok(leadgov("alerts", "--format", "json")))
    assert [(a["key"], a["status"], a["attempts"]) for a in listed] == [
        (key("REJECTION_SPIKE", "delivery:1"), "failed", 1),
        (key("REJECTION_SPIKE", "2027-W09"), "pending", 0)]  # a reply waits for its thread's first message
    spike = listed[0]
    assert (spike["type"], spike["supplier_id"], spike["period"], spike["figure"], spike["threshold"],
            spike["channel"]) == ("REJECTION_SPIKE", SUPPLIER, "delivery:1", 0.2, 0.15, "#lead-ops")
    assert "channel_not_found" in spike["last_error"]
    assert spike["facts"]["top_reasons"] == [{"code": "INVALID_EMAIL", "count": 4}]

    failed = json.loads(ok(leadgov("alerts", "--status", "failed", "--format", "json")))
    assert [a["key"] for a in failed] == [key("REJECTION_SPIKE", "delivery:1")]
    table = ok(leadgov("alerts"))
    assert "failed" in table and "pending" in table and "0.15" in table


def test_alerts_check_fires_missing_deliveries_and_a_shortfall(env, db_url, slack_server):
    ingest(db_url, [lead(i) for i in range(1, 21)])  # Monday 1 March only: 20 leads, target 50

    result = leadgov("alerts", "check", "--as-of", "2027-03-08")
    assert "checked 1 supplier as of 2027-03-08" in ok(result)
    expected = [key("VOLUME_SHORTFALL", "2027-W09"), key("SLA_BREACH", "2027-W09")] + [
        key("DELIVERY_MISSING", f"day:2027-03-0{d}") for d in range(2, 6)]
    assert list(outbox(db_url)) == expected
    assert alerts_line(result).startswith("alerts: 6 new; sent 6, failed 0")
    shortfall = posted(slack_server)[0]
    assert shortfall["text"].startswith("ACME Leads SAS, semaine 2027-W09 : 20 leads livrés, sous le plancher de 40")

    again = leadgov("alerts", "check", "--as-of", "2027-03-09")  # Monday 8 March's next day is not over
    assert alerts_line(again) == "" and list(outbox(db_url)) == expected
    # three incidents: the four missing days are one, in one thread
    assert len(slack_server.top_level()) == 3 and len(slack_server.messages) == 6


def test_alerts_check_refuses_a_bad_date(env):
    result = leadgov("alerts", "check", "--as-of", "8 mars")
    assert result.exit_code == 2
    assert "--as-of '8 mars' is not a date like 2027-03-01" in result.stderr


# --- the governance commands --------------------------------------------------------------------

def test_contest_no_consent_on_call_raises_a_gdpr_breach(env, db_url, slack_server):
    ingest(db_url, [lead(1), lead(2)])
    result = leadgov("contest", "L-00002", "--supplier", SUPPLIER, "--reason", "NO_CONSENT_ON_CALL",
                     "--at", "2027-03-05T10:00")
    assert "contest NO_CONSENT_ON_CALL recorded" in ok(result)
    assert alerts_line(result).startswith("alerts: 1 new; sent 1")
    assert outbox(db_url) == {key("GDPR_BREACH", "contest:L-00002"): ("sent", 1)}
    assert posted(slack_server)[0]["text"].startswith("ACME Leads SAS, contest:L-00002 : 1 lead sans consentement")


def test_outcomes_import_raises_a_gdpr_breach_per_no_consent_contest(env, db_url, tmp_path, slack_server):
    ingest(db_url, [lead(1), lead(2), lead(3)])
    path = tmp_path / "outcomes.csv"
    path.write_bytes(outcomes_csv([
        {"lead_id": "L-00001", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "NO_CONSENT_ON_CALL"},
        {"lead_id": "L-00002", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "WRONG_NUMBER"},
        {"lead_id": "L-00003", "event": "call_attempt", "at": "2027-03-01 18:00"},
    ]))
    result = leadgov("outcomes", "import", str(path))
    assert alerts_line(result).startswith("alerts: 1 new; sent 1")
    assert outbox(db_url) == {key("GDPR_BREACH", "contest:L-00001"): ("sent", 1)}
    assert alerts_line(leadgov("outcomes", "import", str(path))) == ""  # imported again: nothing new


def test_replacements_check_raises_replacement_overdue(env, db_url, slack_server):
    ingest(db_url, [lead(1), lead(2, email="bad")])  # L-00002's replacement due on 11 March
    early = leadgov("replacements", "check", "--as-of", "2027-03-11")
    assert "0 claims became overdue" in ok(early) and alerts_line(early) == ""

    result = leadgov("replacements", "check", "--as-of", "2027-03-12")
    assert "1 claim became overdue" in ok(result)
    assert alerts_line(result).startswith("alerts: 1 new; sent 1")
    assert outbox(db_url) == {key("REPLACEMENT_OVERDUE", "overdue:2027-03-12"): ("sent", 1)}
    assert "L-00002" in posted(slack_server)[0]["text"]


def test_billing_statement_raises_billing_frozen(env, db_url, slack_server):
    ingest(db_url, [lead(1), lead(2, consent_proof="")])
    result = leadgov("billing", "statement", "--supplier", SUPPLIER, "--month", "2027-03", "--as-of", "2027-04-01")
    assert "FROZEN" in ok(result)
    frozen = key("BILLING_FROZEN", "2027-03")
    assert outbox(db_url)[frozen] == ("sent", 1)
    titles = [b["blocks"][0]["text"]["text"] for b in posted(slack_server)]
    assert titles.count("Facturation gelée") == 1

    again = leadgov("billing", "statement", "--supplier", SUPPLIER, "--month", "2027-03", "--as-of", "2027-04-02")
    assert "revision 2" in ok(again)
    assert outbox(db_url)[frozen] == ("sent", 1)  # frozen again: the same event, not sent twice
    assert len(slack_server.requests) == len(titles)
