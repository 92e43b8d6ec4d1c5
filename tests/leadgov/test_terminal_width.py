"""Readable everywhere: every command that prints a table stays readable in an 80-column terminal.

Each command runs through typer's CliRunner with ``COLUMNS=80`` (what rich reads for the width) on a
database seeded with realistic data (rejections, contests, refused outcome lines, overdue claims,
alerts, a frozen statement, a refused inbox file): no printed line is longer than 80 characters and
no header or value is cut to an ellipsis. The demo runs once for the module (it plays a quarter).
"""

import csv
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from factories import (
    BASE_CONTRACT,
    HMAC_KEY,
    contract_dict,
    delivery_file,
    ingest,
    lead,
    make_contract_file,
    outcomes_csv,
)
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.cli.common import err, out
from leadgov.config.settings import get_settings

WIDTH = 80
runner = CliRunner()
MARCH = date(2027, 3, 1)
#: A second supplier with a long name and id, so that columns holding supplier ids are wide.
NORTHWIND = {"supplier.id": "northwind-prospection-b2b", "supplier.name": "Northwind Prospection B2B",
             "contract_id": "NORTHWIND-PROSPECTION-2027-01"}


def readable(result, exit_code: int = 0) -> str:
    """The command's output (stdout and stderr), checked to fit 80 columns without an ellipsis."""
    assert result.exit_code == exit_code, result.output
    text = result.output
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, "\n".join(too_long)
    assert "…" not in text, text
    return text


@pytest.fixture
def narrow(monkeypatch):
    """An 80-column terminal, the settings' key the one the seeded deliveries were stored with."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.setenv("LEADGOV_HMAC_KEY", HMAC_KEY)
    monkeypatch.setenv("LEADGOV_DEFAULT_PHONE_REGION", "FR")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_consoles_take_the_width_of_the_terminal_when_they_print(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert out.console().width == 80 and err.console().width == 80
    monkeypatch.setenv("COLUMNS", "132")
    assert out.console().width == 132 and err.console().width == 132


def seed(url: str) -> None:
    """March 2027 for two suppliers: rejections of every kind, contests (one a GDPR breach that
    freezes the statement), outcome lines refused with long explanations."""
    acme = [lead(n) for n in range(1, 41)]
    acme[36] = lead(37, email="not-an-email")
    acme[37] = lead(38, employees="1")
    acme[38] = lead(39, siren="123456789")
    acme[39] = lead(40, email=lead(1)["email"])
    ingest(url, acme, MARCH, name="acme-leads-2027-03-01-weekly-delivery.csv")
    northwind = make_contract_file(**NORTHWIND)
    ingest(url, [lead(n, lead_id=f"NW-2027-03-{n:06d}") for n in range(100, 130)], MARCH, northwind,
           name="northwind-prospection-b2b-2027-03-01.csv")


def outcome_rows() -> list[dict]:
    rows: list[dict] = []
    for n in range(1, 31):
        rows.append({"lead_id": f"L-{n:05d}", "event": "call_attempt", "at": "2027-03-02 10:00"})
        if n % 2:
            rows.append({"lead_id": f"L-{n:05d}", "event": "reached", "at": "2027-03-02 10:05"})
        if n % 5 == 0:
            rows.append({"lead_id": f"L-{n:05d}", "event": "appointment_set", "at": "2027-03-04 10:00"})
    rows += [
        {"lead_id": "L-00002", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "WRONG_NUMBER"},
        {"lead_id": "L-00004", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "NO_CONSENT_ON_CALL"},
        {"lead_id": "L-00006", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "NOT_A_REASON"},
        {"lead_id": "L-00038", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "WRONG_NUMBER"},
        {"lead_id": "NO-SUCH-LEAD-IN-ANY-DELIVERY", "event": "reached", "at": "2027-03-02 10:00"},
        {"lead_id": "L-00003", "event": "contest", "at": "2027-06-30 10:00", "contest_reason": "FAKE_LEAD"},
    ]
    return rows


@pytest.fixture
def seeded(narrow, tmp_path, sqlite_database) -> str:
    url = sqlite_database(tmp_path / "leadgov.db")
    seed(url)
    export = tmp_path / "outcomes.csv"
    export.write_bytes(outcomes_csv(outcome_rows()))
    readable(leadgov(url, "outcomes", "import", str(export)))
    readable(leadgov(url, "replacements", "check", "--as-of", "2027-03-25"))
    return url


def leadgov(url: str, *args: str):
    return runner.invoke(app, [*args, "--db", url])


def test_outcomes_import_lists_its_refusals_within_80_columns(narrow, tmp_path, sqlite_database):
    url = sqlite_database(tmp_path / "leadgov.db")
    seed(url)
    export = tmp_path / "outcomes.csv"
    export.write_bytes(outcomes_csv(outcome_rows()))
    text = readable(leadgov(url, "outcomes", "import", str(export)))
    assert "NOT_A_REASON" in text and "NO-SUCH-LEAD-IN-ANY-DELIVERY" in text
    assert len([line for line in text.splitlines() if line.startswith("│")]) >= 3  # the refusals' table


def test_governance_tables_fit_80_columns(seeded, tmp_path):
    url = seeded
    claims = readable(leadgov(url, "replacements"))
    assert "overdue" in claims and "L-00037" in claims
    readable(leadgov(url, "replacements", "--supplier", "acme-leads", "--status", "overdue"))
    alerts = readable(leadgov(url, "alerts"))
    assert "REPLACEMENT_OVERDUE" in alerts
    for supplier in ("acme-leads", NORTHWIND["supplier.id"]):
        kpis = readable(leadgov(url, "kpis", "--supplier", supplier, "--period", "2027-Q1", "--as-of", "2027-04-15"))
        assert "reject_rate" in kpis and "cost_per_appointment" in kpis
    statement = readable(leadgov(url, "billing", "statement", "--supplier", "acme-leads", "--month", "2027-03",
                                 "--as-of", "2027-04-15"))
    assert "FROZEN" in statement and "amount due" in statement
    readable(leadgov(url, "billing", "statement", "--supplier", NORTHWIND["supplier.id"], "--month", "2027-03",
                     "--as-of", "2027-04-15"))


def test_gdpr_commands_fit_80_columns(seeded):
    url = seeded
    readable(leadgov(url, "gdpr", "purge", "--dry-run", "--as-of", "2031-01-01"))
    readable(leadgov(url, "gdpr", "object", "--email", lead(5)["email"]))
    readable(leadgov(url, "gdpr", "erase", "--email", lead(6)["email"], "--phone", lead(6)["phone"]))
    readable(leadgov(url, "gdpr", "purge", "--as-of", "2031-01-01"))


def test_validate_fits_80_columns(narrow, tmp_path, sqlite_database, monkeypatch):
    url = sqlite_database(tmp_path / "leadgov.db")
    monkeypatch.chdir(tmp_path)
    rows = [lead(n) for n in range(1, 21)] + [
        lead(21, email="nope"), lead(22, employees="1"), lead(23, siren="123"), lead(24, consent_at=""),
        lead(25, email=lead(1)["email"]), lead(26, naf_code="01.11Z"), lead(27, postal_code="ABCDE")]
    path = Path("acme-leads-2027-03-01-weekly-delivery-with-a-long-name.csv")
    path.write_bytes(delivery_file(rows, MARCH).take())
    text = readable(leadgov(url, "validate", "--contract", str(BASE_CONTRACT), "--delivery", str(path),
                            "--delivered-on", "2027-03-01", "--out", "result.csv", "--returns", "returns.csv"))
    assert "INVALID_EMAIL" in text


def test_inbox_run_fits_80_columns(narrow, tmp_path, sqlite_database):
    url = sqlite_database(tmp_path / "leadgov.db")
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    inbox = tmp_path / "inbox"
    for data in (contract_dict(), contract_dict(**NORTHWIND)):
        supplier = data["supplier"]["id"]
        (contracts / f"{supplier}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        (inbox / supplier).mkdir(parents=True)
    contract = make_contract_file(**NORTHWIND).contract
    rows = [lead(n, lead_id=f"NW-2027-03-{n:06d}") for n in range(1, 15)] + [lead(15, email="bad")]
    (inbox / NORTHWIND["supplier.id"] / "northwind-prospection-b2b-weekly-2027-03-01.csv").write_bytes(
        delivery_file(rows, MARCH, contract=contract).take())
    (inbox / "acme-leads" / "acme-leads-weekly-delivery-2027-03-01.csv").write_bytes(
        delivery_file([lead(n) for n in range(30, 40)], MARCH).take())
    (inbox / "acme-leads" / "acme-leads-weekly-delivery-2027-03-01-corrupted.csv").write_bytes(
        bytes(range(256)) * 20)
    stamp = datetime(2027, 3, 1, 18, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    for path in inbox.glob("*/*"):
        os.utime(path, (stamp, stamp))
    result = runner.invoke(app, ["inbox", "run", "--inbox", str(inbox), "--contracts", str(contracts),
                                 "--out", str(tmp_path / "out"), "--db", url])
    text = readable(result, result.exit_code)
    assert result.exit_code in (0, 1)
    assert "refused" in text and "processed" in text


def test_demo_prints_a_summary_within_80_columns_and_the_full_tables_in_files(demo_run):
    """The demo plays its quarter once (minutes; run at 80 columns, shared with test_demo.py:
    conftest.py ``demo_run``): the summary fits, every figure of the summary and every alert is in
    the CSV files it names."""
    tmp_path = demo_run.folder
    text = readable(demo_run.result)
    lines = text.splitlines()
    assert "out/summary.csv" in [line.strip() for line in lines]
    assert "out/alerts.csv" in [line.strip() for line in lines]
    with (tmp_path / "out" / "summary.csv").open(encoding="utf-8") as file:
        summary = list(csv.DictReader(file))
    assert [row["supplier"] for row in summary] == ["acme-leads", "datapulse", "prospectia"]
    assert set(summary[0]) == {"supplier", "deliveries", "refused_files", "delivered", "accepted", "reject_rate",
                               "reachability", "appointment_rate", "replacement_fill_rate", "billed_eur",
                               "review_accepted", "review_rejected", "pilot_verdict", "pilot_decision", "alerts"}
    for row in summary:  # the figures printed are those of the file
        assert any(line.startswith("│ leads delivered") and f" {row['delivered']} " in line for line in lines)
    with (tmp_path / "out" / "alerts.csv").open(encoding="utf-8") as file:
        alerts = list(csv.DictReader(file))
    assert f"Alerts ({len(alerts)})" in text
    assert sum(int(row["alerts"]) for row in summary) + sum(a["supplier_id"] == "all" for a in alerts) == len(alerts)
    assert len(lines) < 60  # counts per type and supplier, not one line per alert
    assert "@" not in text and not any("@" in value for a in alerts for value in a.values())  # no e-mail address
