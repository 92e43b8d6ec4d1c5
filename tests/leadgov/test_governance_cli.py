"""The governance commands: outcomes import, contest, replacements, kpis, billing statement.

Each test runs ``leadgov`` on the ``db_url`` fixture (SQLite and PostgreSQL) with ``--db``;
dates come from ``--as-of`` / ``--at`` so that nothing depends on today.
"""

import csv
import io
import json

import pytest
from factories import ingest, lead, outcomes_csv
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.models import BillingStatement, OutcomeEvent, ReplacementClaim
from leadgov.models.db import session_scope

runner = CliRunner()

BILLING_KEYS = {"supplier_id", "month", "model", "billable_units", "unit_price_eur", "fixed_fee_eur", "gross_eur",
                "cap_excess_eur", "credits_eur", "amount_due_eur", "frozen", "freeze_reasons", "billable_lead_ids",
                "revision", "contract_version"}


# --- helpers -----------------------------------------------------------------------------------

def lid(n: int) -> str:
    return f"L-{n:05d}"


def deliver(db_url, n=20, rejected=()):
    """Leads L-00001..L-<n> delivered on 2027-03-01; those in ``rejected`` are rejected INVALID_EMAIL."""
    return ingest(db_url, [lead(i, email="bad") if i in rejected else lead(i) for i in range(1, n + 1)])


def leadgov(db_url, *args):
    """Run a command with ``--db``; ``result.stdout`` holds the output, ``result.stderr`` the errors."""
    return runner.invoke(app, [*args, "--db", db_url])


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def as_csv(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def printed(result) -> str:
    """stdout with rich's line wrapping undone (the console wraps at 80 columns under CliRunner)."""
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def refused(result) -> str:
    """The one-line error of a refused command (exit code 2)."""
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error:") and "\n" not in message and "Traceback" not in result.output
    return message


def export(tmp_path, rows, name="outcomes.csv"):
    path = tmp_path / name
    path.write_bytes(outcomes_csv(rows))
    return path


def count(db_url, model) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model))


def contest(db_url, n, reason="WRONG_NUMBER", at="2027-03-05T10:00", *extra):
    return leadgov(db_url, "contest", lid(n), "--supplier", "acme-leads", "--reason", reason, "--at", at, *extra)


def claims(db_url, *args) -> list[tuple]:
    """(lead_id, origin, status, opened_on, due_on, overdue_on) of the listed claims."""
    return [(c["lead_id"], c["origin"], c["status"], c["opened_on"], c["due_on"], c["overdue_on"])
            for c in as_json(leadgov(db_url, "replacements", "--format", "json", *args))]


# --- outcomes import ---------------------------------------------------------------------------

def test_outcomes_import_json_summary(db_url, tmp_path):
    deliver(db_url)
    path = export(tmp_path, [
        {"lead_id": lid(1), "event": "call_attempt", "at": "2027-03-02 10:00"},
        {"lead_id": lid(1), "event": "call_attempt", "at": "2027-03-02 10:00"},
        {"lead_id": "NOPE", "event": "call_attempt", "at": "2027-03-02 10:00"},
        {"lead_id": lid(2), "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "FAKE_LEAD"},
    ])
    first = as_json(leadgov(db_url, "outcomes", "import", str(path), "--format", "json"))
    assert {k: first[k] for k in ("source", "rows", "stored", "duplicated", "refused", "contests", "claims_opened",
                                  "claims_not_owed_cap")} == {
        "source": str(path), "rows": 4, "stored": 2, "duplicated": 1, "refused": 1, "contests": 1,
        "claims_opened": 1, "claims_not_owed_cap": 0}
    assert [(r["line"], r["rule"]) for r in first["refusals"]] == [(4, "UNKNOWN_LEAD")]
    again = as_json(leadgov(db_url, "outcomes", "import", str(path), "--format", "json"))
    assert (again["stored"], again["duplicated"], again["refused"], again["claims_opened"]) == (0, 3, 1, 0)
    assert count(db_url, OutcomeEvent) == 2 and count(db_url, ReplacementClaim) == 1


def test_outcomes_import_table_lists_refusals(db_url, tmp_path):
    deliver(db_url)
    path = export(tmp_path, [{"lead_id": "NOPE", "event": "call_attempt", "at": "2027-03-02 10:00"}])
    text = printed(leadgov(db_url, "outcomes", "import", str(path)))
    assert "1 row: 0 stored, 0 duplicated (already stored), 1 refused; 0 contests" in text
    assert "UNKNOWN_LEAD" in text and "no lead NOPE delivered by acme-leads" in text


def test_outcomes_import_missing_file(db_url, tmp_path):
    message = refused(leadgov(db_url, "outcomes", "import", str(tmp_path / "absent.csv")))
    assert "absent.csv: no such file" in message


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "empty"),
    (b"lead_id;supplier_id;event\nL-00001;acme-leads;reached\n", "missing column(s) at"),
])
def test_outcomes_import_unreadable_file(db_url, tmp_path, content, problem):
    deliver(db_url)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    message = refused(leadgov(db_url, "outcomes", "import", str(path), "--format", "json"))
    assert "bad.csv" in message and problem in message
    assert count(db_url, OutcomeEvent) == 0


# --- contest -----------------------------------------------------------------------------------

def test_contest_recorded_with_claim(db_url):
    deliver(db_url)
    text = printed(contest(db_url, 1, "wrong_number", "2027-03-05T10:00", "--note", "standard"))
    assert text == "lead L-00001 of acme-leads: contest WRONG_NUMBER recorded; a replacement claim is opened"
    assert claims(db_url) == [(lid(1), "contest", "open", "2027-03-05", "2027-03-15", None)]
    with session_scope(db_url) as session:
        event = session.scalars(select(OutcomeEvent)).one()
        assert (event.event, event.contest_reason, event.note, event.at.isoformat()) == (
            "contest", "WRONG_NUMBER", "standard", "2027-03-05T09:00:00")
    again = printed(contest(db_url, 1, "wrong_number", "2027-03-05T10:00"))
    assert again == "lead L-00001 of acme-leads: this contest was already recorded"
    assert count(db_url, OutcomeEvent) == 1 and count(db_url, ReplacementClaim) == 1


def test_contest_over_the_cap_says_so(db_url):
    deliver(db_url, n=4)  # ceil(0.2 x 4) = 1 claim owed
    assert contest(db_url, 1).exit_code == 0
    assert "claim recorded as not_owed_cap" in printed(contest(db_url, 2))
    assert [c[2] for c in claims(db_url)] == ["open", "not_owed_cap"]


@pytest.mark.parametrize(("n", "reason", "at", "rule"), [
    (1, "WRONG_NUMBER", "2027-03-09T00:00", "CONTEST_LATE"),
    (1, "TOO_EXPENSIVE", "2027-03-05T10:00", "CONTEST_REASON"),
    (20, "WRONG_NUMBER", "2027-03-05T10:00", "CONTEST_REJECTED_LEAD"),
    (99, "WRONG_NUMBER", "2027-03-05T10:00", "UNKNOWN_LEAD"),
    (1, "WRONG_NUMBER", "2027-02-28T10:00", "BEFORE_DELIVERY"),
    (1, "WRONG_NUMBER", "next tuesday", "INVALID_AT"),
])
def test_refused_contest_stores_nothing(db_url, n, reason, at, rule):
    deliver(db_url, rejected={20})
    message = refused(contest(db_url, n, reason, at))
    assert f"contest refused ({rule})" in message
    assert count(db_url, OutcomeEvent) == 0
    assert [c[1] for c in claims(db_url)] == ["rejection"]


def test_second_contest_refused(db_url):
    deliver(db_url)
    assert contest(db_url, 1).exit_code == 0
    message = refused(contest(db_url, 1, "FAKE_LEAD", "2027-03-06T10:00"))
    assert "contest refused (ALREADY_CONTESTED)" in message
    assert count(db_url, OutcomeEvent) == 1 and count(db_url, ReplacementClaim) == 1


def test_contest_unknown_supplier_refused(db_url):
    deliver(db_url)
    result = leadgov(db_url, "contest", lid(1), "--supplier", "nobody", "--reason", "WRONG_NUMBER",
                     "--at", "2027-03-05T10:00")
    assert "contest refused (UNKNOWN_SUPPLIER)" in refused(result)


# --- replacements ------------------------------------------------------------------------------

@pytest.fixture
def three_claims(db_url, seeds):
    """Two rejection claims (L-00019, L-00020: opened 1 March, due 11 March) and a contest claim
    (L-00001: opened 5 March, due 15 March); seeded once per engine, then copied (conftest.py ``seeds``)."""
    seeds.restore(db_url, seed_three_claims)
    return db_url


def seed_three_claims(db_url):
    deliver(db_url, rejected={19, 20})
    assert contest(db_url, 1).exit_code == 0


def test_replacements_json_lists_claims_with_history(three_claims):
    assert claims(three_claims) == [
        (lid(19), "rejection", "open", "2027-03-01", "2027-03-11", None),
        (lid(20), "rejection", "open", "2027-03-01", "2027-03-11", None),
        (lid(1), "contest", "open", "2027-03-05", "2027-03-15", None),
    ]
    listed = as_json(leadgov(three_claims, "replacements", "--format", "json"))
    assert set(listed[0]) == {"id", "supplier_id", "lead_id", "origin", "reason", "opened_on", "due_on", "status",
                              "filled_by", "filled_on", "overdue_on", "credited_on", "credited_statement_id"}
    assert [c["reason"] for c in listed] == ["INVALID_EMAIL", "INVALID_EMAIL", "WRONG_NUMBER"]


def test_replacements_csv(three_claims):
    rows = as_csv(leadgov(three_claims, "replacements", "--format", "csv"))
    assert [(r["lead_id"], r["origin"], r["due_on"], r["status"], r["overdue_on"]) for r in rows] == [
        (lid(19), "rejection", "2027-03-11", "open", ""),
        (lid(20), "rejection", "2027-03-11", "open", ""),
        (lid(1), "contest", "2027-03-15", "open", ""),
    ]


def test_replacements_check_marks_overdue_the_day_after_the_deadline(three_claims):
    text = printed(leadgov(three_claims, "replacements", "check", "--as-of", "2027-03-11"))
    assert text == "0 claims became overdue (as of 2027-03-11)"
    assert [c[2] for c in claims(three_claims)] == ["open", "open", "open"]
    text = printed(leadgov(three_claims, "replacements", "check", "--as-of", "2027-03-12"))
    assert text == "2 claims became overdue (as of 2027-03-12)"
    assert claims(three_claims) == [
        (lid(19), "rejection", "overdue", "2027-03-01", "2027-03-11", "2027-03-12"),
        (lid(20), "rejection", "overdue", "2027-03-01", "2027-03-11", "2027-03-12"),
        (lid(1), "contest", "open", "2027-03-05", "2027-03-15", None),
    ]
    assert [c[0] for c in claims(three_claims, "--status", "open")] == [lid(1)]
    assert [c[0] for c in claims(three_claims, "--status", "overdue")] == [lid(19), lid(20)]
    again = printed(leadgov(three_claims, "replacements", "check", "--as-of", "2027-03-20"))
    assert again == "1 claim became overdue (as of 2027-03-20)"  # only the contest claim is left to go overdue
    assert [c[5] for c in claims(three_claims)] == ["2027-03-12", "2027-03-12", "2027-03-16"]


def test_replacements_filters_by_status_and_supplier(three_claims):
    assert claims(three_claims, "--status", "filled") == []
    assert len(claims(three_claims, "--status", "open", "--supplier", "acme-leads")) == 3
    assert claims(three_claims, "--supplier", "nobody") == []


def test_replacements_check_bad_date(db_url):
    assert "2027-03-01" in refused(leadgov(db_url, "replacements", "check", "--as-of", "12/03/2027"))


# --- kpis --------------------------------------------------------------------------------------

@pytest.mark.parametrize("period", ["2027-03", "2027-W09", "2027-Q1"])
def test_kpis_match_what_was_ingested(db_url, period):
    deliver(db_url, rejected={19, 20})
    assert contest(db_url, 1).exit_code == 0
    data = as_json(leadgov(db_url, "kpis", "--supplier", "acme-leads", "--period", period, "--format", "json",
                           "--as-of", "2027-04-01"))
    assert (data["delivered"], data["accepted"], data["rejected"], data["contested"]) == (20, 18, 2, 1)
    assert data["reject_rate"] == pytest.approx(3 / 20)
    assert data["data_error_rate"] == pytest.approx(2 / 20)


def test_kpis_of_a_month_without_deliveries(db_url):
    deliver(db_url)
    data = as_json(leadgov(db_url, "kpis", "--supplier", "acme-leads", "--period", "2027-04", "--format", "json",
                           "--as-of", "2027-05-01"))
    assert (data["delivered"], data["accepted"], data["rejected"]) == (0, 0, 0)


@pytest.mark.parametrize("period", ["2027-13", "March", "2027-W54"])
def test_kpis_unknown_period(db_url, period):
    deliver(db_url)
    assert period in refused(leadgov(db_url, "kpis", "--supplier", "acme-leads", "--period", period))


def test_kpis_money_is_rendered_from_decimals_and_stays_a_number_in_json(db_url):
    deliver(db_url, rejected={20})
    assert statement(db_url).exit_code == 0  # March billed: 19 accepted leads x 45 EUR
    args = ("kpis", "--supplier", "acme-leads", "--period", "2027-03", "--as-of", "2027-04-05")
    table = printed(leadgov(db_url, *args))
    assert "€855.00" in table and "€45.00" in table and "n/a" in table  # formatting.format_money; no won deal
    data = as_json(leadgov(db_url, *args, "--format", "json"))
    assert (data["billed_eur"], data["cost_per_accepted"], data["cost_per_won"]) == (855.0, 45.0, None)
    assert type(data["billed_eur"]) is float


def test_kpis_supplier_without_contract(db_url):
    deliver(db_url)
    message = refused(leadgov(db_url, "kpis", "--supplier", "nobody", "--period", "2027-03", "--format", "json"))
    assert "no contract stored for supplier 'nobody'" in message


# --- billing statement -------------------------------------------------------------------------

def statement(db_url, *args, month="2027-03", format="json"):
    return leadgov(db_url, "billing", "statement", "--supplier", "acme-leads", "--month", month, "--format", format,
                   "--as-of", "2027-04-05", *args)


def test_billing_statement_json(db_url):
    deliver(db_url, rejected={20})
    assert contest(db_url, 1).exit_code == 0  # contested: not billed under per_qualified_lead
    data = as_json(statement(db_url))
    assert BILLING_KEYS <= set(data)
    assert {k: data[k] for k in BILLING_KEYS - {"contract_version", "billable_lead_ids"}} == {
        "supplier_id": "acme-leads", "month": "2027-03", "model": "per_qualified_lead", "billable_units": 18,
        "unit_price_eur": 45.0, "fixed_fee_eur": 0.0, "gross_eur": 810.0, "cap_excess_eur": 0.0, "credits_eur": 0.0,
        "amount_due_eur": 810.0, "frozen": False, "freeze_reasons": [], "revision": 1}
    assert data["billable_lead_ids"] == [lid(i) for i in range(2, 20)]
    assert data["contract_version"]["contract_id"] == "ACME-2027-01"


def test_billing_statement_revisions_are_kept(db_url):
    deliver(db_url)
    first, second = as_json(statement(db_url)), as_json(statement(db_url))
    assert (first["revision"], second["revision"]) == (1, 2)
    assert first["statement_id"] != second["statement_id"]
    with session_scope(db_url) as session:
        stored = session.execute(select(BillingStatement.month, BillingStatement.revision,
                                        BillingStatement.billable_units)
                                 .order_by(BillingStatement.revision)).all()
    assert [tuple(r) for r in stored] == [("2027-03", 1, 20), ("2027-03", 2, 20)]


def test_billing_statement_csv_one_line_per_billed_lead(db_url):
    deliver(db_url, n=5, rejected={5})
    rows = as_csv(statement(db_url, format="csv"))
    assert [(r["supplier_id"], r["month"], r["revision"], r["kind"], r["lead_id"], r["claim_id"], r["amount_eur"])
            for r in rows] == [("acme-leads", "2027-03", "1", "unit", lid(i), "", "45.00") for i in range(1, 5)]


def test_billing_statement_frozen_on_gdpr_breach(db_url):
    deliver(db_url)
    assert contest(db_url, 1, "NO_CONSENT_ON_CALL").exit_code == 0
    data = as_json(statement(db_url))
    assert data["frozen"] is True and len(data["freeze_reasons"]) == 1
    assert data["billable_units"] == 19


@pytest.mark.parametrize("month", ["2027-13", "2027-W09", "03/2027"])
def test_billing_statement_bad_month(db_url, month):
    deliver(db_url)
    assert f"--month '{month}' is not a month like 2027-03" in refused(statement(db_url, month=month))
    assert count(db_url, BillingStatement) == 0


def test_billing_statement_supplier_without_contract(db_url):
    deliver(db_url)
    result = leadgov(db_url, "billing", "statement", "--supplier", "nobody", "--month", "2027-03")
    assert "no contract stored for supplier 'nobody'" in refused(result)
