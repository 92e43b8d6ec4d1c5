"""Hostile input reaching what leadgov writes (issue 16): spreadsheet formulas in every CSV it writes,
look-alike characters that would dodge the email and phone rules, and bidi controls in the reports.

- every CSV leadgov writes goes through ``leadgov.csv_out``: a text cell starting like a formula is
  prefixed with ``'``, a number (a negative amount included) stays a number;
- an email domain written with fullwidth letters or dots is the domain it stands for; a phone with
  letters is not a phone; a phone written with any Unicode space reads like one with plain spaces;
- a refused header names the missing field as the contract spells it;
- a report shows no bidi control character from a supplier's file.
"""

import ast
import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import BASE_CONTRACT, DELIVERED_ON, HMAC_KEY, ingest, lead, make_contract_file
from sqlalchemy import select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.config.settings import Settings
from leadgov.csv_out import FORMULA_START, records_text, safe_cell, safe_column, write_frame, write_records_file
from leadgov.models import Lead
from leadgov.models.db import session_scope
from leadgov.reports import charts
from leadgov.services.billing import StatementReportRequest, StatementRequest, bill_statement, statement_report
from leadgov.services.returns import ReturnsReportRequest, returns_report
from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
PER_LEAD = make_contract_file(**{"replacement.max_replacement_share": 1.0, "billing.model": "per_lead"})
#: Lead ids a supplier could send: each starts like a spreadsheet formula.
HOSTILE_IDS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0"]


def leadgov(db_url: str, *args: str):
    return runner.invoke(app, [*args, "--db", db_url])


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_no_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for value in row.values():
            assert not (value or "").startswith(FORMULA_START), value


# --- every CSV writer ------------------------------------------------------------------------------


def test_billing_statement_csv_neutralises_lead_ids_and_keeps_a_credit_a_number(db_url):
    # per_lead: every delivered lead is billed; the last one, rejected, has a claim overdue on 1 April: a credit
    rows = [lead(i + 1, lead_id=v) for i, v in enumerate(HOSTILE_IDS[:-1])]
    ingest(db_url, [*rows, lead(9, lead_id=HOSTILE_IDS[-1], employees="5")], contract=PER_LEAD)

    result = leadgov(db_url, "billing", "statement", "--supplier", "acme-leads", "--month", "2027-03",
                     "--format", "csv", "--as-of", "2027-04-01")

    assert result.exit_code == 0, result.output
    lines = csv_rows(result.stdout)
    assert_no_formula([{k: v for k, v in r.items() if k != "amount_eur"} for r in lines])
    units = [r for r in lines if r["kind"] == "unit"]
    assert sorted(r["lead_id"] for r in units) == sorted("'" + v for v in HOSTILE_IDS)
    assert {r["amount_eur"] for r in units} == {"45.00"}
    assert [(r["kind"], r["lead_id"], r["amount_eur"]) for r in lines[4:]] == [
        ("credit", "'" + HOSTILE_IDS[-1], "-45.00")]
    assert Decimal(lines[-1]["amount_eur"]) == Decimal("-45.00")  # a number, not text
    assert result.stdout.splitlines()[-1].endswith(",-45.00")  # written bare: a spreadsheet adds it up


def test_replacements_csv_neutralises_lead_ids(db_url):
    ingest(db_url, [lead(1), *(lead(i + 2, lead_id=v, email="bad") for i, v in enumerate(HOSTILE_IDS))])

    result = leadgov(db_url, "replacements", "--format", "csv")

    assert result.exit_code == 0, result.output
    lines = csv_rows(result.stdout)
    assert_no_formula(lines)
    assert sorted(r["lead_id"] for r in lines) == sorted("'" + v for v in HOSTILE_IDS)
    assert {r["origin"] for r in lines} == {"rejection"}


def test_the_demo_tables_are_written_through_the_same_writer(tmp_path):
    path = write_records_file(tmp_path / "alerts.csv", ["type", "supplier_id", "count"],
                              [{"type": "=1+1", "supplier_id": "@x", "count": -3}, {"type": "ok"}])
    assert path.read_text(encoding="utf-8") == "type,supplier_id,count\n'=1+1,'@x,-3\nok,,\n"


def test_a_cell_is_neutralised_only_when_it_is_text():
    assert [safe_cell(v) for v in ["=1", "+33 6", "-2", "@A1", "\tx", "\rx", "\nx", "\0x", "a-b", "", None]] == [
        "'=1", "'+33 6", "'-2", "'@A1", "'\tx", "'\rx", "'\nx", "'\0x", "a-b", "", None]
    numbers = [Decimal("-12.50"), -3, -0.5, np.int64(-7), np.float64(-1.25), True]
    assert [safe_cell(v) for v in numbers] == numbers
    assert records_text(["amount"], [{"amount": Decimal("-12.50")}]) == "amount\n-12.50\n"


def test_a_frame_keeps_its_numeric_columns_numbers(tmp_path):
    frame = pd.DataFrame({"row": [-1, 2], "amount": [-12.5, 3.0], "mixed": [Decimal("-4.00"), "-4"],
                          "lead_id": pd.Series(["-2", None], dtype="str")})
    assert safe_column(frame["mixed"]).tolist() == [Decimal("-4.00"), "'-4"]
    path = write_frame(frame, tmp_path / "f.csv", delimiter=";")
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["row;amount;mixed;lead_id", "-1;-12.5;-4.00;'-2",
                                                                 "2;3.0;'-4;"]


#: The modules allowed to write CSV themselves: the writer, the demo's generated inputs (the
#: supplier deliveries, CRM and outcome exports it plays: other systems' files, read back as such), and
#: PostgreSQL's bulk path, whose CSV is the COPY stream sent to the server, never a file anyone opens
#: (escaping formulas there would change the stored values).
CSV_WRITERS_ALLOWED = {"leadgov/csv_out.py", "leadgov/tools/synthetic.py", "leadgov/demo/outcomes.py",
                       "leadgov/demo/timeline.py", "models/delivery_store.py"}


def _writes_csv(tree: ast.AST) -> list[int]:
    """Lines calling csv.writer / csv.DictWriter / a frame's to_csv / pyarrow's write_csv."""
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"writer", "DictWriter", "to_csv", "write_csv"}:
                calls.append(node.lineno)
    return calls


def test_every_csv_leadgov_writes_goes_through_one_writer():
    offenders = {}
    folders = ["leadgov", "config", "models", "tasks", "flows", "reports"]  # the package and its linked folders
    for path in sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative not in CSV_WRITERS_ALLOWED and (lines := _writes_csv(ast.parse(path.read_text("utf-8")))):
            offenders[relative] = lines
    assert offenders == {}


# --- look-alike characters in emails and phones ----------------------------------------------------


def reasons(outcome) -> list[str]:
    return outcome.result.verdicts["reasons"].fillna("").tolist()


def test_an_email_domain_in_fullwidth_forms_is_free_email_competitor_and_the_same_person(db_url):
    first = ingest(db_url, [lead(1, email="jean.martin@nexalog.fr")])
    assert reasons(first) == [""]

    again = ingest(db_url, [lead(2, email="Jean.Martin@ｎｅｘａｌｏｇ．ｆｒ"),
                            lead(3, email="jean.martin@ｇｍａｉｌ.com"), lead(4, email="jean.martin@gmail。com"),
                            lead(5, email="sales@ｒｉｖａｌ-ｃｒｍ.example")], name="again.csv")

    got = reasons(again)
    assert got[0].startswith("DUPLICATE_PREVIOUS")  # the same person as lead 1
    assert "FREE_EMAIL" in got[1].split(";") and "FREE_EMAIL" in got[2].split(";")
    assert got[2].startswith("DUPLICATE_IN_DELIVERY")  # the same address as lead 3
    assert "COMPETITOR" in got[3].split(";")
    with session_scope(db_url) as session:  # stored as the address it stands for
        emails = dict(session.execute(select(Lead.lead_id, Lead.email)).tuples().all())
    assert [emails[f"L-0000{n}"] for n in (2, 3, 4, 5)] == [
        "jean.martin@nexalog.fr", "jean.martin@gmail.com", "jean.martin@gmail.com", "sales@rival-crm.example"]


@pytest.mark.parametrize("phone", ["06 12 AB CD 78", "06 12 34 5a6 78", "01 23 45 67 89 ext. 12"])
def test_a_phone_with_letters_is_invalid_phone(db_url, phone):
    outcome = ingest(db_url, [lead(1, phone=phone)])
    assert reasons(outcome)[0].split(";")[0] == "INVALID_PHONE"


def test_a_phone_with_narrow_no_break_spaces_is_read_and_is_the_same_person(db_url):
    outcome = ingest(db_url, [lead(1, phone="06 12 34 56 78"),
                              lead(2, phone="06\u202f12\u202f34\u202f56\u202f78", email="other@nexalog.fr"),
                              lead(3, phone="+33\u202f6\u200912\u00a034\u300056\u202f79", email="third@nexalog.fr")])
    got = reasons(outcome)
    assert got[0] == "" and got[2] == ""
    assert got[1].split(";")[0] == "DUPLICATE_IN_DELIVERY"  # read, and the same phone as lead 1


# --- messages and reports --------------------------------------------------------------------------


def test_a_missing_column_is_named_as_the_contract_spells_it(db_url, tmp_path):
    delivery = tmp_path / "no-id.csv"
    delivery.write_text("email;phone\njean@nexalog.fr;06 12 34 56 78\n", encoding="utf-8")

    result = runner.invoke(app, ["validate", "--contract", str(BASE_CONTRACT), "--delivery", str(delivery),
                                 "--delivered-on", DELIVERED_ON.isoformat(), "--out", str(tmp_path / "r.csv"),
                                 "--db", db_url])

    assert result.exit_code == 2, result.output
    error = " ".join(result.stderr.split())
    assert "lead_id (expected header 'Ref' or 'lead_id')" in error and "siren (expected header 'SIREN'" in error
    assert "CanonicalField" not in error and "<" not in error


#: Unicode's Bidi_Control characters: embeddings, overrides, isolates and marks.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_a_report_shows_no_bidi_control_from_a_suppliers_file(db_url, tmp_path):
    # per_lead: all three billed; L-1000-A, rejected (too small), has a claim overdue on 1 April: a credit line
    rows = [lead(1, lead_id="L-\u202e1000-A\u202c", employees="5"), lead(2, lead_id="L-\u20662\u2069" + BIDI)]
    outcome = ingest(db_url, [*rows, lead(3)], name="offre\u202efdp.csv", contract=PER_LEAD)
    settings = Settings(_env_file=None, database_url=db_url, hmac_key=HMAC_KEY, slack_bot_token=None,
                        slack_webhook_url=None)
    runtime = build_runtime(settings, clock=FixedClock(date(2027, 4, 2)), notifier=OutboxNotifier(None))

    returns = returns_report(runtime, ReturnsReportRequest(outcome.delivery_id, tmp_path)).path.read_text("utf-8")
    bill_statement(runtime, StatementRequest("acme-leads", "2027-03", date(2027, 4, 1)))
    statement = statement_report(runtime, StatementReportRequest("acme-leads", "2027-03", tmp_path))
    html = statement.path.read_text("utf-8")

    for page in (returns, html):
        assert not set(BIDI) & set(page)
    assert "L-1000-A" in returns and "offrefdp.csv" in returns
    assert "L-1000-A" in html and "L-2" in html


def test_a_chart_shows_no_bidi_control():
    svg = charts.bar_chart([("acme\u202e-leads", 0.5), ("\u2067beta\u2069", 0.2)], title="T\u202eitle",
                           y_label="share", locale="fr", percent=True)
    assert not set(BIDI) & set(svg) and "acme-leads" in svg and "Title" in svg
