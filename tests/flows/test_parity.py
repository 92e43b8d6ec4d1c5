"""One path for every job: the same deliveries through ``leadgov validate`` (file by file), through
``leadgov inbox run`` and through the ``weekly_delivery_validation`` flow give the same stored leads,
reasons and claims, the same result and return files, and the same alert keys.

The sequence spans three months and two suppliers, with duplicates within and across deliveries
(and across suppliers), rejections that open replacement claims, replacements that fill them, a
file delivered twice and a file refused whole.
"""

import filecmp
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml
from factories import contract_dict, delivery_file, lead, make_contract_file
from sqlalchemy import select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.models.alert import OutboxAlert
from leadgov.models.db import session_scope
from leadgov.models.delivery import Delivery, Lead, LeadReason
from leadgov.models.raw_record_store import raw_records_at
from leadgov.models.replacement import ReplacementClaim

pytestmark = pytest.mark.prefect

BETA = {"supplier.id": "beta-leads", "supplier.name": "Beta Leads", "contract_id": "BETA-2027-01"}
CONTRACTS = {"acme-leads": contract_dict(), "beta-leads": contract_dict(**BETA)}
GARBAGE = bytes(range(256)) * 20


def FILLERS(first: int) -> list[dict]:  # noqa: N802 - accepted leads, so that the month owes replacements
    return [lead(n) for n in range(first, first + 12)]


def csv_of(supplier: str, rows: list[dict], day: date) -> bytes:
    """The supplier's file of ``rows``, each collected (and consented) two days before ``day``."""
    overrides = BETA if supplier == "beta-leads" else {}
    collected = f"{day - timedelta(days=2)} 10:00"
    rows = [r | {k: collected for k in ("collected_at", "consent_at") if r[k]} for r in rows]
    return delivery_file(rows, day, contract=make_contract_file(**overrides).contract).take()


def sequence() -> list[tuple[date, str, str, bytes]]:
    """(day, supplier, file name, bytes), in the order every door sees them."""
    feb, feb8, mar, apr = date(2027, 2, 1), date(2027, 2, 8), date(2027, 3, 1), date(2027, 4, 5)
    beta_replacements = csv_of("beta-leads", [lead(40, replaces_lead_id="L-00021"), lead(41)], feb8)
    return [
        (feb, "acme-leads", "acme-02.csv", csv_of("acme-leads", [
            lead(1), lead(2, employees="1"), lead(3, email=lead(1)["email"]), lead(4, siren="123456789"),
            lead(5), *FILLERS(100)], feb)),
        (feb, "beta-leads", "beta-02.csv", csv_of("beta-leads", [lead(5), lead(20), lead(21, employees="1"),
                                                                 *FILLERS(200)], feb)),
        (feb8, "acme-leads", "acme-02b.csv", csv_of("acme-leads", [lead(30, replaces_lead_id="L-00002")], feb8)),
        (feb8, "beta-leads", "beta-02b.csv", beta_replacements),
        (mar, "acme-leads", "acme-03.csv", csv_of("acme-leads", [lead(1), lead(31), lead(32, consent_at="")], mar)),
        (mar, "acme-leads", "acme-03-garbage.csv", GARBAGE),
        (mar, "beta-leads", "beta-03.csv", csv_of("beta-leads", [lead(42), lead(43, employees="1")], mar)),
        (apr, "acme-leads", "acme-04.csv", csv_of("acme-leads", [lead(50), lead(51, employees="2")], apr)),
        (apr, "beta-leads", "beta-04-again.csv", beta_replacements),
    ]


def days() -> list[date]:
    return sorted({day for day, *_ in sequence()})


def write_contracts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for supplier, data in CONTRACTS.items():
        (folder / f"{supplier}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def drop_into_inbox(inbox: Path, day: date) -> None:
    """The day's files, each dated (modification time) on the day it was received."""
    stamp = datetime(day.year, day.month, day.day, 18, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    for when, supplier, name, data in sequence():
        if when == day:
            path = inbox / supplier / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (stamp, stamp))


def use_database(monkeypatch, url: str) -> None:
    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_DATABASE_URL", url)
    get_settings.cache_clear()


def through_validate(root: Path, monkeypatch) -> tuple[str, Path]:
    url = f"sqlite:///{root / 'validate.db'}"
    use_database(monkeypatch, url)
    contracts, out, files = write_contracts(root / "contracts"), root / "out", root / "files"
    runner = CliRunner()
    for day, supplier, name, data in sequence():
        path = files / supplier / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stem = Path(name).stem
        result = runner.invoke(app, [
            "validate", "--contract", str(contracts / f"{supplier}.yaml"), "--delivery", str(path),
            "--delivered-on", day.isoformat(), "--out", str(out / supplier / f"{stem}.result.csv"),
            "--returns", str(out / supplier / f"{stem}.returns.csv")])
        assert result.exit_code == (2 if name.endswith("garbage.csv") else 0), result.output
    return url, out


def through_inbox_command(root: Path, monkeypatch) -> tuple[str, Path]:
    url = f"sqlite:///{root / 'inbox.db'}"
    use_database(monkeypatch, url)
    contracts, out, inbox = write_contracts(root / "contracts"), root / "out", root / "inbox"
    runner = CliRunner()
    for day in days():
        drop_into_inbox(inbox, day)
        result = runner.invoke(app, ["inbox", "run", "--inbox", str(inbox), "--contracts", str(contracts),
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert (inbox / "acme-leads" / "refused" / "acme-03-garbage.csv").exists()
    return url, out


def through_flow(root: Path, monkeypatch) -> tuple[str, Path]:
    from leadgov.flows.weekly_delivery_validation import InboxParameters, weekly_delivery_validation

    url = f"sqlite:///{root / 'flow.db'}"
    use_database(monkeypatch, url)
    contracts, out, inbox = write_contracts(root / "contracts"), root / "out", root / "inbox"
    for day in days():
        drop_into_inbox(inbox, day)
        summary = weekly_delivery_validation(InboxParameters(inbox_dir=str(inbox), contracts_dir=str(contracts),
                                                             out_dir=str(out)))
        assert summary["errors"] == 0
    return url, out


def stored(url: str) -> dict[str, list[tuple]]:
    """What the database holds, without surrogate ids nor timestamps of the run itself."""
    with session_scope(url) as session:
        leads = session.execute(select(
            Delivery.supplier_id, Delivery.file_name, Delivery.delivered_on, Lead.row_number, Lead.lead_id,
            Lead.status, Lead.primary_reason, Lead.flags, Lead.email, Lead.phone, Lead.email_key, Lead.delivery_id)
            .join(Delivery, Delivery.id == Lead.delivery_id).order_by(Delivery.supplier_id, Delivery.file_name,
                                                                      Lead.row_number)).all()
        reasons = session.execute(select(Delivery.file_name, LeadReason.row_number, LeadReason.code,
                                         LeadReason.detail)
                                  .join(Delivery, Delivery.id == LeadReason.delivery_id)
                                  .order_by(Delivery.file_name, LeadReason.row_number, LeadReason.code)).all()
        claims = session.execute(select(
            ReplacementClaim.supplier_id, ReplacementClaim.lead_id, ReplacementClaim.origin, ReplacementClaim.reason,
            ReplacementClaim.opened_on, ReplacementClaim.due_on, ReplacementClaim.status,
            ReplacementClaim.filled_by_lead_pk, ReplacementClaim.filled_on,
        ).order_by(ReplacementClaim.supplier_id, ReplacementClaim.lead_id)).all()
        alerts = session.execute(select(OutboxAlert.key, OutboxAlert.channel, OutboxAlert.text)
                                 .order_by(OutboxAlert.key)).all()
        records = raw_records_at(session, pd.DataFrame([(r.delivery_id, r.row_number) for r in leads],
                                                       columns=["delivery_id", "row_number"]))
    leads = [(*r[:-1], record) for r, record in zip(leads, records, strict=True)]  # the raw record, not the id
    return {"leads": [tuple(r) for r in leads], "reasons": [tuple(r) for r in reasons],
            "claims": [tuple(r) for r in claims], "alerts": [tuple(r) for r in alerts]}


def files_of(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.csv"))


def test_validate_inbox_command_and_flow_store_and_write_the_same(leadgov_env, monkeypatch):
    validate_url, validate_out = through_validate(leadgov_env / "validate", monkeypatch)
    inbox_url, inbox_out = through_inbox_command(leadgov_env / "inbox", monkeypatch)
    flow_url, flow_out = through_flow(leadgov_env / "flow", monkeypatch)

    expected = stored(validate_url)
    # The sequence exercises what it claims to: duplicates, rejections, claims filled, alerts.
    assert len({r[1] for r in expected["leads"]}) == 7  # seven stored deliveries (garbage refused, one repeated)
    codes = {r[2] for r in expected["reasons"]}
    assert {"DUPLICATE_IN_DELIVERY", "DUPLICATE_PREVIOUS", "OUT_OF_TARGET_SIZE"} <= codes
    assert {c[6] for c in expected["claims"]} >= {"filled", "open"}
    assert expected["alerts"]

    for url in (inbox_url, flow_url):
        assert stored(url) == expected

    names = files_of(validate_out)
    assert len(names) == 2 * 8  # a result and a return file per delivery, the repeated one's too
    for out in (inbox_out, flow_out):
        assert files_of(out) == names
        for name in names:
            assert filecmp.cmp(validate_out / name, out / name, shallow=False), name
