"""Hostile input against personal data and the files a delivery writes (issue 16, items 2 and 9).

- A supplier puts a person's data in any column (source, country, legal form, NAF, an extra column)
  and the reasons' details quote some of them: ``gdpr erase`` must leave none of the person's values
  anywhere in the database, nor in any file written afterwards from stored data.
- A supplier uses emails or phone numbers as lead ids: the file is refused whole (a lead id is kept
  after an erasure, so it must not identify anyone).
- The result files cannot be written: refused before anything is stored when the folder is unusable;
  when the write still fails after the commit (disk full), the alerts are evaluated all the same, the
  error is one clear line and running the command again writes the files.

Everything runs on SQLite and PostgreSQL (``db_url``), through the services or the command line.
"""

import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from factories import HMAC_KEY, contract_dict, lead, service_runtime, to_csv
from sqlalchemy import MetaData, String, Table, Text, func, select, text, update
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.config.settings import Settings
from leadgov.models import Delivery, Lead, LeadReason, OutboxAlert
from leadgov.models.db import session_scope
from leadgov.models.raw_record_store import decode_block, raw_records_at, supplied_values_at
from leadgov.services.deliveries import DeliveryRequest, ResultFilesNotWritten, process_delivery, write_files
from leadgov.services.gdpr import PersonRequest, erase_person
from leadgov.services.inbox import InboxRequest, process_inbox
from leadgov.services.outcomes import OutcomesImportRequest, import_outcomes
from leadgov.services.returns import ReturnsReportRequest, returns_report
from leadgov.services.steps import run_directly

runner = CliRunner()
DAY = date(2027, 3, 1)

#: The erased person: every value a supplier can give, each one distinctive so that a scan finds it.
ZOE = lead(
    77, lead_id="ZG-0077", company_name="Zorglub Conseil", siren="404833006", naf_code="47.11Z", employees="7777",
    legal_form="SCOP Zorglubienne", postal_code="29000", country="Zorgland", first_name="Zoé",
    last_name="Zorglub", job_title="Directrice Zorglubienne", email="Zoe.Zorglub@zorglub-conseil.fr",
    phone="06 98 76 54 32", budget_eur="31337", need="Rappeler Zoé Zorglub avant l'été", source="salon-zorglub",
    consent_proof="cert-zorglub-42", campaign="campagne-zorglub", Commentaire="ami de Zorglub",
)
#: Someone else in the same delivery, who must keep every value.
OTHER = lead(2, campaign="printemps", Commentaire="RAS")
#: What must not appear anywhere once ZOE is erased (a regular expression, case ignored): every
#: text value of hers, her phone in the forms it is written and stored, and the numbers the
#: reasons' details quoted (as whole numbers: a hash holding the digits is no leak).
ZOE_VALUES = re.compile(
    r"zorglub|zorgland|zoé|zoe\.|cert-zorglub|\+33698765432|06 98 76 54 32|0698765432|\b404833006\b|\b29000\b"
    r"|\b7777\b|\b31337\b|\b4711z\b|\b47\.11z\b",
    re.IGNORECASE,
)
#: The lead columns an erased lead keeps: what billing, claims and audits need (ids, delivery,
#: verdict, the day of the decision). Stated here, not imported, so that the test can fail.
KEPT_COLUMNS = {"id", "delivery_id", "supplier_id", "row_number", "delivered_on", "status", "primary_reason", "flags",
                "lead_id", "replaces_lead_id", "erased"}


def settings(db_url: str, **values) -> Settings:
    return Settings(_env_file=None, database_url=db_url, hmac_key=HMAC_KEY, slack_bot_token=None,
                    slack_webhook_url=None, **values)


def runtime(db_url: str, day: date = DAY):
    return service_runtime(db_url, day)


def contract_file(folder: Path, **overrides) -> Path:
    """The example contract, without the CRM check."""
    data = contract_dict(**{"exclusions.crm_check": False, **overrides})
    path = folder / "acme-leads.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def delivery_path(folder: Path, rows: list[dict], name: str = "acme.csv") -> Path:
    headers = dict(yaml.safe_load(contract_file(folder).read_text(encoding="utf-8"))["delivery"]["columns"])
    path = folder / name
    path.write_text(to_csv(rows, headers), encoding="utf-8")
    return path


def text_cells(db_url: str) -> dict[str, str]:
    """Every text cell of every table of the schema (as the database has it at its revision, not the
    models), by ``table.column#row``."""
    cells = {}
    with session_scope(db_url) as session:
        schema = MetaData()
        schema.reflect(bind=session.connection())
        for table in schema.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for number, row in enumerate(session.execute(select(*columns)).all()):
                cells |= {f"{table.name}.{c.name}#{number}": v for c, v in zip(columns, row, strict=True)
                          if isinstance(v, str)}
        if "raw_record_block" in schema.tables:  # raw records and supplied values: compressed blocks, read as text
            values = "supplied_values" in schema.tables["raw_record_block"].c
            for block, *blobs in session.execute(text(
                    f"SELECT id, records{', supplied_values' if values else ''} FROM raw_record_block")).all():
                for blob in blobs:
                    table = decode_block(bytes(blob))
                    for name in table.column_names[1:]:
                        if pa.types.is_large_string(table.schema.field(name).type) or pa.types.is_string(
                                table.schema.field(name).type):
                            cells |= {f"raw_record_block.{name}#{block}.{i}": v
                                      for i, v in enumerate(table.column(name).to_pylist()) if v is not None}
    return cells


def leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    """Where ZOE's values still appear: place -> the values found."""
    found = {place: ZOE_VALUES.findall(text) for place, text in texts.items()}
    return {place: values for place, values in found.items() if values}


# --- item 2: erasure leaves nothing of the person ------------------------------------------------


def test_erase_leaves_no_supplier_value_of_the_person_in_the_database_or_regenerated_files(db_url, tmp_path):
    contract = contract_file(tmp_path)
    file = delivery_path(tmp_path, [ZOE, OTHER])
    request = DeliveryRequest(contract, file, DAY).with_files_in(tmp_path / "first")
    stored = process_delivery(runtime(db_url), request)
    assert stored.counts.delivered == 2 and stored.counts.rejected == 1
    details = stored.verdicts["details"].iloc[0]
    for quoted in ("salon-zorglub", "ZORGLAND", "4711Z", "7777"):  # what the details quote
        assert quoted in details
    outcomes = tmp_path / "outcomes.csv"
    pd.DataFrame([{"lead_id": "ZG-0077", "supplier_id": "acme-leads", "event": "reached", "at": "2027-03-02 10:00",
                   "note": "Zoé Zorglub rappellera"}]).to_csv(outcomes, sep=";", index=False)
    imported = import_outcomes(runtime(db_url), OutcomesImportRequest(outcomes))
    assert imported.imported.stored == 1, imported
    seen = {place.split("#")[0] for place in leaks(text_cells(db_url))}  # the scan sees her before the erasure
    assert seen >= {"raw_record_block.company_name", "raw_record_block.legal_form", "raw_record_block.country",
                    "raw_record_block.source", "raw_record_block.campaign", "lead.email", "raw_record_block.raw_record",
                    "lead_reason.detail", "outcome_event.note"}

    erased = erase_person(runtime(db_url), PersonRequest(emails=("zoe.zorglub@zorglub-conseil.fr",)))
    assert erased.leads_erased == 1

    assert leaks(text_cells(db_url)) == {}
    with session_scope(db_url) as session:
        rows = [dict(r) for r in session.execute(select(Lead.__table__).order_by(Lead.row_number)).mappings()]
        places = pd.DataFrame(rows)
        records = raw_records_at(session, places)
        values = supplied_values_at(session, places).astype(object).where(lambda v: v.notna(), None)
        reasons = session.execute(select(LeadReason.code).where(LeadReason.row_number == 1)
                                  .order_by(LeadReason.id)).scalars().all()
    zoe, other = ({**rows[i], **values.iloc[i].to_dict(), "raw_record": records.iloc[i]} for i in (0, 1))
    assert zoe["erased"] is True and other["erased"] is False
    assert {name for name, value in zoe.items() if value is not None} <= KEPT_COLUMNS
    assert (zoe["lead_id"], zoe["status"], zoe["primary_reason"]) == ("ZG-0077", "rejected", "OUT_OF_TARGET_GEO")
    assert {"UNAUTHORIZED_SOURCE", "OUT_OF_TARGET_SIZE", "OUT_OF_TARGET_SECTOR"} <= set(reasons)  # codes kept
    assert all(other[name] is not None for name in ("company_name", "source", "legal_form", "country", "need",
                                                     "raw_record", "campaign", "consent_at"))  # others keep theirs

    # Everything written later from stored data: the result and return files, the returns report.
    again = process_delivery(runtime(db_url), request.with_files_in(tmp_path / "again"))
    assert again.already_ingested
    report = returns_report(runtime(db_url), ReturnsReportRequest(stored.delivery_id, tmp_path / "reports"))
    outputs = {str(p): p.read_text(encoding="utf-8-sig") for p in (again.result_file, again.return_file, report.path)}
    assert "ZG-0077" in outputs[str(again.return_file)]  # her row is still there, by its id
    assert leaks(outputs) == {}
    assert leaks({"verdicts": again.verdicts.to_csv()}) == {}


def test_a_delivery_of_an_erased_person_stores_nothing_of_them(db_url, tmp_path):
    """The person comes back in a later delivery: rejected SUPPRESSED and stored already erased, the
    details of the other reasons included."""
    contract = contract_file(tmp_path)
    process_delivery(runtime(db_url), DeliveryRequest(contract, delivery_path(tmp_path, [OTHER]), DAY))
    erase_person(runtime(db_url), PersonRequest(emails=("zoe.zorglub@zorglub-conseil.fr",)))
    file = delivery_path(tmp_path, [ZOE], name="later.csv")
    later = process_delivery(runtime(db_url), DeliveryRequest(contract, file, DAY).with_files_in(tmp_path / "out"))
    assert "SUPPRESSED" in later.verdicts["reasons"].iloc[0].split(";")
    assert leaks(text_cells(db_url)) == {}
    with session_scope(db_url) as session:  # stored erased: the retention and a later erasure count it no more
        assert dict(session.execute(select(Lead.lead_id, Lead.erased)).all()) == {"L-00002": False, "ZG-0077": True}
    outputs = {str(p): p.read_text(encoding="utf-8-sig") for p in (later.result_file, later.return_file)}
    assert leaks(outputs) == {}


@pytest.mark.migrations
def test_leads_erased_before_the_upgrade_lose_their_supplied_values_too(db_url, tmp_path):
    """A lead erased by an earlier version kept its supplied values and its reasons' quoting details:
    the upgrade (migration 0010) erases them, and nothing else."""
    from alembic import command

    from leadgov.models.migrate import alembic_config, upgrade

    contract = contract_file(tmp_path)
    process_delivery(runtime(db_url), DeliveryRequest(contract, delivery_path(tmp_path, [ZOE, OTHER]), DAY))
    command.downgrade(alembic_config(db_url), "0009")
    with session_scope(db_url) as session:  # what an erasure did before: the personal columns and keys only
        lead_0009 = Table("lead", MetaData(), autoload_with=session.connection())
        session.execute(update(lead_0009).where(lead_0009.c.lead_id == "ZG-0077").values(
            first_name=None, last_name=None, job_title=None, email=None, phone=None, need=None, consent_proof=None,
            raw_record=None, email_key=None, phone_key=None))
    assert {place.split("#")[0] for place in leaks(text_cells(db_url))} >= {"lead.source", "lead_reason.detail"}
    other_before = leads_of(db_url)["L-00002"]

    upgrade(db_url)

    assert leaks(text_cells(db_url)) == {}
    after = leads_of(db_url)
    assert {name for name, value in after["ZG-0077"].items() if value is not None} <= KEPT_COLUMNS
    # 0011 adds the notice and 0012 the decision day: NULL for leads stored before
    # 0022 says whether a lead was erased
    assert after["L-00002"] == {**other_before, "notice_sent_at": None, "decided_on": None, "erased": False}
    assert after["ZG-0077"]["erased"] is True


def leads_of(db_url: str) -> dict[str, dict]:
    """Every lead by id, with the columns the database has at its revision (not the model's)."""
    with session_scope(db_url) as session:
        table = Table("lead", MetaData(), autoload_with=session.connection())
        rows = [dict(row) for row in session.execute(select(table)).mappings().all()]
        if "raw_record" not in table.c:  # since 0020, raw records are kept in blocks beside the leads
            records = raw_records_at(session, pd.DataFrame(rows))
            rows = [row | {"raw_record": record} for row, record in zip(rows, records, strict=True)]
        if "company_name" not in table.c:  # since 0022, so are the other supplied values
            values = supplied_values_at(session, pd.DataFrame(rows)).astype(object)
            values = values.where(values.notna(), None).to_dict("records")
            rows = [row | value for row, value in zip(rows, values, strict=True)]
        return {row["lead_id"]: row for row in rows}


# --- item 2: a lead id must not identify a person ------------------------------------------------


def lead_rows(db_url: str) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(Lead)) or 0


#: Ids made of digits that are neither written as a phone (no prefix, or zero-padded) nor the row's
#: own phone: they stay ids.
OPAQUE_IDS = ("123456789", "L-0612345678", "20270301", "0000123456")


@pytest.mark.parametrize(("field", "value"), [
    ("lead_id", "camille.martin5@nexalog.fr"),
    ("lead_id", "Camille.Martin5@Nexalog.FR"),
    ("lead_id", "06 12 34 00 05"),
    ("lead_id", "+33612340005"),
    ("lead_id", "0033 6 12 34 00 05"),
    ("lead_id", "(+33) 6 12 34 00 05"),
    ("lead_id", "612340005"),  # the row's own phone, without its leading 0
    ("replaces_lead_id", "camille.martin9@nexalog.fr"),
    ("replaces_lead_id", "01.45.67.89.10"),
])
def test_a_lead_id_that_is_an_email_or_a_phone_refuses_the_file(db_url, tmp_path, field, value):
    contract = contract_file(tmp_path)
    opaque = [lead(n, lead_id=lead_id, replaces_lead_id=lead_id[::-1]) for n, lead_id in enumerate(OPAQUE_IDS, 1)]
    file = delivery_path(tmp_path, [*opaque, lead(5, **{field: value})])
    result = runner.invoke(app, ["validate", "--contract", str(contract), "--delivery", str(file),
                                 "--delivered-on", DAY.isoformat(), "--out", str(tmp_path / "r.csv"),
                                 "--db", db_url])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "acme.csv" in message and "row 5" in message and field in message
    assert value.lower() not in message.lower() and "nexalog" not in message.lower()
    assert lead_rows(db_url) == 0 and not (tmp_path / "r.csv").exists()

    delivery_path(tmp_path, [*opaque, lead(5)])  # the supplier's own ids instead
    fixed = runner.invoke(app, ["validate", "--contract", str(contract), "--delivery", str(file),
                                "--delivered-on", DAY.isoformat(), "--out", str(tmp_path / "r.csv"), "--db", db_url])
    assert fixed.exit_code == 0, fixed.output
    assert lead_rows(db_url) == 5


# --- item 9: the result files ---------------------------------------------------------------------


def validate(db_url: str, folder: Path, file: Path, out: Path):
    return runner.invoke(app, ["validate", "--contract", str(contract_file(folder)), "--delivery", str(file),
                               "--delivered-on", DAY.isoformat(), "--out", str(out), "--db", db_url])


def deliveries(db_url: str) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def delivery_alerts(db_url: str) -> list[str]:
    with session_scope(db_url) as session:
        return list(session.scalars(select(OutboxAlert.type).where(OutboxAlert.period.like("delivery:%"))).all())


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_an_unwritable_out_is_refused_before_anything_is_stored(db_url, tmp_path, where):
    (tmp_path / "plain-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    out = tmp_path / "plain-file" / "result.csv" if where == "under a file" else tmp_path / "folder"
    result = validate(db_url, tmp_path, delivery_path(tmp_path, [lead(1)]), out)
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"{out.name} in {out.parent}" in message and "nothing was stored" in message
    assert deliveries(db_url) == 0


def test_a_disk_full_after_the_commit_still_raises_the_alerts_and_a_rerun_writes_the_files(db_url, tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    file = delivery_path(tmp_path, [lead(1), lead(2, consent_proof="")])  # NO_CONSENT: a GDPR_BREACH alert
    full = validate(db_url, tmp_path, file, Path("/dev/full"))
    assert full.exit_code == 1, full.output
    assert full.exception is None or isinstance(full.exception, SystemExit)
    message = " ".join(full.output.split())
    assert "Traceback" not in message and "stored as delivery 1" in message and "/dev" in message
    assert "No space left on device" in message and "again" in message
    assert deliveries(db_url) == 1
    assert delivery_alerts(db_url) == ["GDPR_BREACH"]

    again = validate(db_url, tmp_path, file, tmp_path / "result.csv")
    assert again.exit_code == 0, again.output
    assert "already ingested as delivery 1" in " ".join(again.output.split())
    assert (tmp_path / "result.csv").read_text(encoding="utf-8-sig").count("\n") == 3
    assert deliveries(db_url) == 1 and delivery_alerts(db_url) == ["GDPR_BREACH"]


def test_a_folder_gone_between_the_check_and_the_write(db_url, tmp_path):
    """The output folder passes the check, then is replaced by a file before the files are written
    (a fault injected through the step runner): alerts evaluated, a clear error, a safe rerun."""
    out = tmp_path / "out"
    request = DeliveryRequest(contract_file(tmp_path), delivery_path(tmp_path, [lead(1), lead(2, consent_proof="")]),
                              DAY).with_files_in(out)

    def break_the_folder_before_writing(step, *args):
        if step is write_files:
            shutil.rmtree(out, ignore_errors=True)
            out.write_text("a file now", encoding="utf-8")
        return run_directly(step, *args)

    with pytest.raises(ResultFilesNotWritten) as failed:
        process_delivery(runtime(db_url), request, steps=break_the_folder_before_writing)
    message = str(failed.value)
    assert "\n" not in message and str(out) in message and "acme.csv" in message
    assert failed.value.result.delivery_id == 1 and failed.value.result.alerts.error is None
    assert deliveries(db_url) == 1 and delivery_alerts(db_url) == ["GDPR_BREACH"]

    out.unlink()
    again = process_delivery(runtime(db_url), request)
    assert again.already_ingested and again.result_file is not None and again.result_file.is_file()
    assert deliveries(db_url) == 1 and delivery_alerts(db_url) == ["GDPR_BREACH"]


def test_an_inbox_whose_output_folder_is_unusable_keeps_its_files_waiting(db_url, tmp_path):
    """The inbox checks the supplier's output folder before its files: a folder that cannot be written
    fails the supplier (its files wait for the next run), it does not file them under refused/."""
    contracts, inbox = tmp_path / "contracts", tmp_path / "inbox" / "acme-leads"
    contracts.mkdir()
    inbox.mkdir(parents=True)
    shutil.move(contract_file(tmp_path), contracts / "acme-leads.yaml")
    shutil.move(delivery_path(tmp_path, [lead(1)]), inbox / "d.csv")
    (tmp_path / "out").write_text("a file, not a folder", encoding="utf-8")
    request = InboxRequest(inbox_dir=inbox.parent, contracts_dir=contracts, out_dir=tmp_path / "out",
                           delivered_on=DAY)

    result = process_inbox(runtime(db_url), request)

    (supplier,) = result.suppliers
    assert supplier.error is not None and str(tmp_path / "out") in supplier.error
    assert "\n" not in supplier.error and "nothing was stored" in supplier.error
    assert (inbox / "d.csv").is_file() and not (inbox / "refused").exists()
    assert deliveries(db_url) == 0


def test_an_inbox_file_stored_but_whose_files_cannot_be_written_waits_and_the_rerun_writes_them(
        db_url, tmp_path, monkeypatch):
    """A disk full while writing the result files, after the delivery was committed (a fault injected
    into the write): the file is neither set aside in failed/ nor filed as processed; it waits, and the
    next run finds the delivery stored and writes its files."""
    import errno

    from leadgov.services import deliveries as delivery_service

    contracts, inbox = tmp_path / "contracts", tmp_path / "inbox" / "acme-leads"
    contracts.mkdir()
    inbox.mkdir(parents=True)
    shutil.move(contract_file(tmp_path), contracts / "acme-leads.yaml")
    shutil.move(delivery_path(tmp_path, [lead(1), lead(2)]), inbox / "d.csv")
    request = InboxRequest(inbox_dir=inbox.parent, contracts_dir=contracts, out_dir=tmp_path / "out",
                           delivered_on=DAY)

    def disk_full(_runtime, _received, _outcome):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "acme-leads" / "d.result.csv"))

    with monkeypatch.context() as patch:
        patch.setattr(delivery_service, "write_files", disk_full)
        (supplier,) = process_inbox(runtime(db_url), request).suppliers
    assert supplier.error is not None and "could not be written" in supplier.error
    assert (inbox / "d.csv").is_file() and not (inbox / "failed").exists()
    assert deliveries(db_url) == 1

    (supplier,) = process_inbox(runtime(db_url), request).suppliers
    assert supplier.error is None and (inbox / "processed" / "d.csv").is_file()
    assert sorted(p.name for p in (tmp_path / "out" / "acme-leads").iterdir()) == ["d.result.csv", "d.returns.csv"]
    assert deliveries(db_url) == 1
