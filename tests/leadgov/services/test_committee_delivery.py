"""The committee receives the review and pilot reports themselves (docs/governance.md, "Delivery to
the committee"): HTML and PDF uploaded to its Slack channel with a message of headline figures and
recommendations (the real slack-sdk ``files_upload_v2`` against the loopback Slack), and e-mailed to
each of its addresses (a real SMTP server on loopback). Once per revision, whatever the reruns; a new
revision is delivered again and says so; without settings, everything waits in the outbox.
"""

import io
import json
from datetime import date

import databases
import pytest
from factories import HMAC_KEY, ingest, lead, make_contract_file
from pypdf import PdfReader
from slack_server import FakeSlack
from smtp_server import SmtpServer
from sqlalchemy import select

from leadgov.config.settings import Settings
from leadgov.models import OutboxAlert
from leadgov.models.committee_store import list_deliveries
from leadgov.models.db import session_scope
from leadgov.reports.i18n import LABELS
from leadgov.services.review import ReviewRequest, quarterly_review
from leadgov.services.runtime import FixedClock, build_runtime
from leadgov.services.weekly import WeeklyChecksRequest, weekly_checks

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
EMAILS = ["comite-achats@buyer.example", "daf@buyer.example"]
ACME = make_contract_file(**{"alerts.committee_emails": EMAILS, "replacement.max_replacement_share": 1.0})
BETA = make_contract_file(**{"supplier.id": "beta-leads", "supplier.name": "Beta Leads", "contract_id": "BETA-1"})


@pytest.fixture
def slack(monkeypatch):
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    with FakeSlack() as server:
        yield server


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def runtime(db_url, tmp_path, *, slack=None, smtp=None, day=date(2027, 4, 20)):
    settings = Settings(
        _env_file=None, database_url=db_url, hmac_key=HMAC_KEY, output_dir=tmp_path, slack_webhook_url=None,
        slack_bot_token="xoxb-test" if slack else None, slack_base_url=slack.api_url if slack else "https://x/",
        slack_timeout_seconds=5, smtp_host="127.0.0.1" if smtp else None, smtp_port=smtp.port if smtp else 25,
        smtp_from="leadgov@buyer.example")
    return build_runtime(settings, clock=FixedClock(day), migrate=False)


def review(db_url, tmp_path, **senders):
    return quarterly_review(runtime(db_url, tmp_path, **senders), ReviewRequest("2027-Q1"))


def deliver_quarter(url):
    """Two suppliers delivered in 2027-Q1."""
    ingest(url, [lead(i, email="bad") if i in (9, 10) else lead(i) for i in range(1, 11)], contract=ACME)
    ingest(url, [lead(i) for i in range(20, 24)], day=date(2027, 2, 1), contract=BETA, name="beta.csv")
    return url


@pytest.fixture
def quarter(db_url):
    """The quarter on SQLite and PostgreSQL (the packs' files are stored as binary columns)."""
    return deliver_quarter(db_url)


@pytest.fixture
def quarter_sqlite(tmp_path, sqlite_template):
    """The quarter on SQLite only: the tests of how the outbox behaves, not of the database."""
    return deliver_quarter(databases.copy_sqlite_template(sqlite_template, tmp_path / "leadgov.db"))


def deliveries(db_url):
    with session_scope(db_url) as session:
        return [(d.report, d.revision, d.medium, d.target, d.status) for d in list_deliveries(session)]


def completed(slack) -> list[dict]:
    return [r["body"] for r in slack.calls("files.completeUploadExternal")]


def test_the_review_is_uploaded_to_the_committee_channel_once_per_revision(db_url, tmp_path, quarter, slack):
    result = review(db_url, tmp_path, slack=slack)
    html = result.report_path.read_bytes()
    pdf = result.report_path.with_suffix(".pdf").read_bytes()

    # the channel's name resolved to its id, then the two files uploaded and shared with the message
    assert [r["body"]["filename"] for r in slack.calls("files.getUploadURLExternal")] == [
        "review-2027-Q1.html", "review-2027-Q1.pdf"]
    assert [u["body"] for u in slack.uploads] == [html, pdf]
    assert pdf.startswith(b"%PDF")
    [done] = completed(slack)
    assert done["channel_id"] == "C0GOV"  # "#lead-governance", found on conversations.list's second page
    assert len(slack.calls("conversations.list")) == 2
    assert [f["title"] for f in json.loads(done["files"])] == ["review-2027-Q1.html", "review-2027-Q1.pdf"]
    comment = done["initial_comment"]
    assert comment.startswith("*Revue trimestrielle 2027-Q1* : 2 fournisseur(s)")
    for supplier in result.report.review.suppliers:  # each supplier's recommendation, in the report's words
        action = LABELS["fr"][supplier.recommendation.action].lower()
        assert f"• {supplier.name} : *{action}* · livrés {supplier.kpis.delivered} · taux de rejet" in comment
    assert "taux de rejet 20,0 % (seuil 15,0 %)" in comment  # ACME: 2 of 10 rejected
    assert "révision" not in comment and "/" not in comment.split("\n")[0]  # no path on the server's disk
    assert slack.calls("chat.postMessage") == []  # the alert's message is the upload's comment
    with session_scope(db_url) as session:
        assert session.scalar(select(OutboxAlert.status).where(OutboxAlert.type == "QUARTERLY_REVIEW")) == "sent"
    # no SMTP settings: the e-mails wait in the outbox
    assert deliveries(db_url) == [("review:2027-Q1", 1, "slack", "#lead-governance", "sent")] + [
        ("review:2027-Q1", 1, "email", email, "pending") for email in EMAILS]

    # the same figures again, the next day: nothing new is stored or sent
    before = len(slack.requests)
    review(db_url, tmp_path, slack=slack, day=date(2027, 4, 21))
    assert len(slack.requests) == before and len(deliveries(db_url)) == 3

    # new figures (a late delivery of the quarter): revision 2, delivered once and marked
    ingest(db_url, [lead(i) for i in range(40, 45)], day=date(2027, 3, 15), contract=ACME, name="late.csv")
    review(db_url, tmp_path, slack=slack)
    review(db_url, tmp_path, slack=slack)
    assert len(completed(slack)) == 2
    assert completed(slack)[1]["initial_comment"].split("\n")[0].endswith("(révision 2)")
    assert [d[:3] for d in deliveries(db_url) if d[1] == 2] == [("review:2027-Q1", 2, "slack")] + [
        ("review:2027-Q1", 2, "email")] * 2


def test_the_review_is_emailed_to_each_committee_address_with_both_files(quarter_sqlite, tmp_path, smtp):
    result = review(quarter_sqlite, tmp_path, smtp=smtp)

    assert sorted(to for to, _ in smtp.messages) == [[e] for e in sorted(EMAILS)]  # one e-mail per recipient
    for _, message in smtp.messages:
        assert message["Subject"] == "Revue trimestrielle des fournisseurs de leads : 2027-Q1"
        assert message["From"] == "leadgov@buyer.example"
        body = message.get_body(("plain",)).get_content()
        assert "Revue trimestrielle 2027-Q1 : 2 fournisseur(s)" in body and "ACME Leads SAS" in body
        files = {part.get_filename(): part for part in message.iter_attachments()}
        assert sorted(files) == ["review-2027-Q1.html", "review-2027-Q1.pdf"]
        assert files["review-2027-Q1.html"].get_content_type() == "text/html"
        assert files["review-2027-Q1.html"].get_payload(decode=True) == result.report_path.read_bytes()
        pdf = PdfReader(io.BytesIO(files["review-2027-Q1.pdf"].get_payload(decode=True)))
        text = " ".join(page.extract_text() for page in pdf.pages)
        assert "ACME Leads SAS" in text and "Beta Leads" in text and "2027-Q1" in text
    # Slack not configured: its delivery waits; the e-mails are not sent twice
    review(quarter_sqlite, tmp_path, smtp=smtp)
    assert len(smtp.messages) == 2
    assert [d[2:] for d in deliveries(quarter_sqlite)] == [("slack", "#lead-governance", "pending")] + [
        ("email", e, "sent") for e in EMAILS]
    # a new revision is e-mailed again, its subject saying so
    ingest(quarter_sqlite, [lead(i) for i in range(40, 45)], day=date(2027, 3, 15), contract=ACME, name="late.csv")
    review(quarter_sqlite, tmp_path, smtp=smtp)
    assert [m["Subject"] for _, m in smtp.messages[2:]] == [
        "Revue trimestrielle des fournisseurs de leads : 2027-Q1 (révision 2)"] * 2


def test_without_settings_the_pack_waits_then_any_later_run_delivers_it(quarter_sqlite, tmp_path, slack, smtp):
    review(quarter_sqlite, tmp_path)
    assert {d[4] for d in deliveries(quarter_sqlite)} == {"pending"} and slack.requests == [] and smtp.messages == []

    # the next run of any job with both configured sends what waited
    weekly_checks(runtime(quarter_sqlite, tmp_path, slack=slack, smtp=smtp, day=date(2027, 4, 26)),
                  WeeklyChecksRequest(date(2027, 4, 26), 1))
    assert {d[4] for d in deliveries(quarter_sqlite)} == {"sent"}
    assert len(completed(slack)) == 1 and len(smtp.messages) == 2


def test_a_refused_recipient_is_retried_alone(quarter_sqlite, tmp_path, smtp):
    smtp.refused.add("daf@buyer.example")
    review(quarter_sqlite, tmp_path, smtp=smtp)
    with session_scope(quarter_sqlite) as session:
        failed = [d for d in list_deliveries(session) if d.status == "failed"]
    assert [(d.target, d.attempts) for d in failed] == [("daf@buyer.example", 1)]
    assert "550" in failed[0].last_error and "Revue" not in failed[0].last_error  # what failed, not the content

    smtp.refused.clear()
    review(quarter_sqlite, tmp_path, smtp=smtp)  # the same revision: only the failed e-mail goes again
    assert sorted(to for to, _ in smtp.messages) == [["comite-achats@buyer.example"], ["daf@buyer.example"]]


def test_an_unknown_committee_channel_fails_clearly_and_waits(quarter_sqlite, tmp_path, slack):
    slack.channels = {"general": "C0GEN"}
    review(quarter_sqlite, tmp_path, slack=slack)
    with session_scope(quarter_sqlite) as session:
        [state] = [d for d in list_deliveries(session) if d.medium == "slack"]
    assert (state.status, state.attempts) == ("failed", 1)
    assert "#lead-governance" in state.last_error and "channel not found" in state.last_error
    assert slack.uploads == []
