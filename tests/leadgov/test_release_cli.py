"""``leadgov billing release``: a frozen statement released with a comment becomes payable in a new
revision; refusals exit 2 with one line; ``billing statement`` shows the release (JSON and table)."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from factories import ingest, lead
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.models import BillingStatement
from leadgov.models.db import session_scope

runner = CliRunner()
RELEASE_KEYS = {"payable", "released_by", "released_at", "release_comment"}


def leadgov(db_url, *args):
    return runner.invoke(app, [*args, "--db", db_url])


def statement(db_url, format="json"):
    return leadgov(db_url, "billing", "statement", "--supplier", "acme-leads", "--month", "2027-03",
                   "--as-of", "2027-04-05", "--format", format)


def release(db_url, *extra, comment="consent proofs received", month="2027-03"):
    args = ["billing", "release", "--supplier", "acme-leads", "--month", month, "--by", "Claire Martin"]
    if comment is not None:
        args += ["--comment", comment]
    return leadgov(db_url, *args, *extra)


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result) -> str:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error:") and "\n" not in message and "Traceback" not in result.output
    return message


def revisions(db_url) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(BillingStatement))


def frozen_month(db_url):
    ingest(db_url, [lead(1), lead(2), lead(3, consent_proof="")])  # L-00003: a GDPR breach freezes March
    data = as_json(statement(db_url))
    assert RELEASE_KEYS <= set(data)
    assert (data["frozen"], data["payable"], data["released_by"], data["released_at"], data["release_comment"]) == (
        True, False, None, None, None)
    return data


def test_a_frozen_statement_released_with_a_comment_becomes_payable_in_a_new_revision(db_url):
    frozen = frozen_month(db_url)

    released = as_json(release(db_url, "--format", "json"))

    assert (released["revision"], released["payable"], released["frozen"]) == (2, True, True)
    assert (released["released_by"], released["release_comment"]) == ("Claire Martin", "consent proofs received")
    assert datetime.fromisoformat(released["released_at"]).tzinfo is not None
    assert released["amount_due_eur"] == frozen["amount_due_eur"]
    assert released["billable_lead_ids"] == frozen["billable_lead_ids"]
    assert revisions(db_url) == 2

    # recomputed unchanged: still released; the table says who released it instead of FROZEN
    table = statement(db_url, format="table")
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    day = datetime.fromisoformat(released["released_at"]).astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    assert f"released by Claire Martin on {day}: consent proofs received" in text and "consent proofs received" in text
    assert "FROZEN" not in text and "not payable" not in text


def test_a_release_without_a_comment_is_refused_with_exit_2(db_url):
    frozen_month(db_url)
    assert "a release needs a comment" in refused(release(db_url, comment=""))
    missing = release(db_url, comment=None)  # the option itself is required
    assert missing.exit_code == 2 and "--comment" in missing.output
    assert revisions(db_url) == 1


def test_a_release_of_a_month_not_frozen_unknown_or_released_is_refused(db_url):
    ingest(db_url, [lead(1)])
    assert "no statement for acme-leads in 2027-03" in refused(release(db_url))
    assert "is not a month like 2027-03" in refused(release(db_url, month="2027-13"))
    assert as_json(statement(db_url))["payable"] is True
    assert "revision 1 is not frozen" in refused(release(db_url))
    assert revisions(db_url) == 1


def test_a_release_is_refused_the_second_time(db_url):
    frozen_month(db_url)
    assert release(db_url).exit_code == 0
    assert "revision 2 is already released (by Claire Martin on" in refused(release(db_url, comment="again"))
    assert revisions(db_url) == 2
