"""The leadgov command line: exit codes, messages, result files, idempotence."""

import json

import pandas as pd
import pytest
from factories import BASE_CONTRACT, delivery_file, lead
from typer.testing import CliRunner

from leadgov.cli import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def delivery(folder, rows, name="acme.csv"):
    path = folder / name
    path.write_bytes(delivery_file(rows).take())
    return path


def validate(folder, path, *extra):
    return runner.invoke(app, ["validate", "--contract", str(BASE_CONTRACT), "--delivery", str(path),
                               "--delivered-on", "2027-03-01", "--out", str(folder / "result.csv"), *extra])


def read_result(path):
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_validate_writes_result_and_summary(workdir):
    path = delivery(workdir, [lead(1), lead(2, employees="=1+1"), lead(3, source="partner")])
    result = validate(workdir, path, "--returns", str(workdir / "returns.csv"))
    assert result.exit_code == 0, result.output
    assert "stored as delivery 1" in result.output and "UNAUTHORIZED_SOURCE" in result.output
    rows = read_result(workdir / "result.csv")
    assert list(rows.columns) == ["row_number", "lead_id", "status", "reasons", "primary_reason", "details", "flags"]
    assert rows["status"].tolist() == ["accepted", "rejected", "rejected"]
    returns = read_result(workdir / "returns.csv")
    assert returns["motifs"].tolist() == ["INVALID_VALUE", "UNAUTHORIZED_SOURCE"]
    assert returns["explication"].iloc[1] == "Canal de collecte non autorisé par le contrat."


def test_same_file_again_stores_nothing_and_rewrites_results(workdir):
    path = delivery(workdir, [lead(1), lead(2, employees="1")])
    assert validate(workdir, path).exit_code == 0
    first = (workdir / "result.csv").read_bytes()
    (workdir / "result.csv").unlink()
    again = validate(workdir, path, "--format", "json")
    assert again.exit_code == 0
    payload = json.loads(again.output)
    assert payload["already_ingested"] is True and payload["delivery_id"] == 1
    assert (workdir / "result.csv").read_bytes() == first


def test_dry_run_then_real_run(workdir):
    path = delivery(workdir, [lead(1)])
    assert "dry run, nothing stored" in validate(workdir, path, "--dry-run").output
    assert "stored as delivery 1" in validate(workdir, path).output


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"\x00\x01\x02binary", "NUL"),
    (b"Ref;Nom\n1;Dupont\n", "collected_at"),
])
def test_unreadable_file_refused_with_one_line(workdir, content, message):
    path = workdir / "bad.csv"
    path.write_bytes(content)
    result = validate(workdir, path)
    assert result.exit_code == 2
    assert "error:" in result.output and message in result.output
    assert not (workdir / "result.csv").exists()


def test_bad_contract_refused_naming_key(workdir, tmp_path):
    contract = tmp_path / "typo.yaml"
    contract.write_text(BASE_CONTRACT.read_text(encoding="utf-8")
                        .replace("max_reject_rate: 0.15  ", "max_reject_rat: 0.15  ", 1), encoding="utf-8")
    result = runner.invoke(app, ["validate", "--contract", str(contract),
                                 "--delivery", str(delivery(workdir, [lead(1)])),
                                 "--delivered-on", "2027-03-01", "--out", str(workdir / "r.csv")])
    assert result.exit_code == 2
    assert "quality.max_reject_rat" in result.output


def test_bad_date_refused(workdir):
    result = runner.invoke(app, ["validate", "--contract", str(BASE_CONTRACT), "--delivery",
                                 str(delivery(workdir, [lead(1)])), "--delivered-on", "01/03/2027",
                                 "--out", str(workdir / "r.csv")])
    assert result.exit_code == 2 and "2027-03-01" in result.output


def test_crm_check_without_export_is_refused_and_stores_nothing(workdir, monkeypatch):
    """A contract with exclusions.crm_check and no CRM export (neither --crm nor LEADGOV_CRM_EXPORT):
    refused in one line, nothing stored; the same file with the export is then stored."""
    from sqlalchemy import create_engine, func, select

    from leadgov.config.settings import get_settings
    from leadgov.models import Delivery

    monkeypatch.delenv("LEADGOV_CRM_EXPORT")
    get_settings.cache_clear()
    path = delivery(workdir, [lead(1)])
    result = validate(workdir, path)
    assert result.exit_code == 2
    assert "crm_check" in result.output and "--crm" in result.output and "LEADGOV_CRM_EXPORT" in result.output
    engine = create_engine(f"sqlite:///{workdir / 'cli.db'}")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Delivery)) == 0
    crm = workdir / "crm.csv"
    crm.write_text("email;phone\n" + lead(1)["email"] + ";\n", encoding="utf-8")
    result = validate(workdir, path, "--crm", str(crm), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["reasons"] == {"ALREADY_IN_CRM": 1}
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Delivery)) == 1
    engine.dispose()


def test_unreachable_database_is_a_clear_error(workdir):
    result = runner.invoke(app, ["validate", "--contract", str(BASE_CONTRACT), "--delivery",
                                 str(delivery(workdir, [lead(1)])), "--delivered-on", "2027-03-01",
                                 "--out", str(workdir / "r.csv"),
                                 "--db", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"])
    assert result.exit_code == 3
    assert "database" in result.output and "Traceback" not in result.output


def test_contract_check_command():
    result = runner.invoke(app, ["contract", "check", str(BASE_CONTRACT)])
    assert result.exit_code == 0 and "ACME-2027-01" in result.output
