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
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from factories import ingest, lead, make_contract_file
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.csv_out import FORMULA_START, records_text, safe_cell, safe_column, write_frame, write_records_file

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


#: The modules allowed to write CSV themselves: the writer, and the demo's generated inputs (the
#: supplier deliveries, CRM and outcome exports it plays: other systems' files, read back as such).
CSV_WRITERS_ALLOWED = {"leadgov/csv_out.py", "leadgov/tools/synthetic.py", "leadgov/demo/outcomes.py",
                       "leadgov/demo/timeline.py"}


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
