"""A delivery outside its contract's period is refused whole, in every door (the service, ``leadgov
validate``, the inbox; the flow in tests/flows/test_validate_delivery_flow.py): the period's first and
last day are accepted, the day before and the day after refused, with one line naming the period and
nothing stored. A version that supersedes another applies from its ``effective_from``."""

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import databases
import pytest
import yaml
from factories import HMAC_KEY, contract_dict, lead, to_csv
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.config.contract import load_contract
from leadgov.config.contract.api import CONTRACTS_DIR
from leadgov.config.settings import Settings
from leadgov.demo.profiles import PROFILES
from leadgov.demo.timeline import FIRST_DAY, WEEKS
from leadgov.errors import Refused
from leadgov.models import Delivery
from leadgov.models.db import session_scope
from leadgov.services.deliveries import DeliveryRequest, process_delivery
from leadgov.services.inbox import FileStatus, InboxRequest, process_inbox
from leadgov.services.runtime import FixedClock, OutboxNotifier, Runtime, build_runtime

MARCH = {"period.start": date(2027, 3, 1), "period.end": date(2027, 3, 31), "exclusions.crm_check": False}
FIRST, LAST = date(2027, 3, 1), date(2027, 3, 31)
PERIOD = "2027-03-01 to 2027-03-31"


def write_contract(folder: Path, **overrides: object) -> Path:
    path = folder / "acme-leads.yaml"
    path.write_text(yaml.safe_dump(contract_dict(**{**MARCH, **overrides}), allow_unicode=True), encoding="utf-8")
    return path


def write_delivery(folder: Path, name: str = "acme.csv") -> Path:
    path = folder / name
    path.write_text(to_csv([lead(1), lead(2)]), encoding="utf-8")
    return path


def runtime_on(tmp_path: Path, sqlite_template: Path) -> tuple[Runtime, str]:
    url = databases.copy_sqlite_template(sqlite_template, tmp_path / "leadgov.db")
    settings = Settings(_env_file=None, database_url=url, hmac_key=HMAC_KEY, crm_export=None,
                        output_dir=tmp_path / "out")
    return build_runtime(settings, clock=FixedClock(date(2027, 4, 2)), notifier=OutboxNotifier(None),
                         migrate=False), url


def stored(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


@pytest.mark.parametrize("day", [FIRST, LAST])
def test_the_periods_first_and_last_day_are_accepted(tmp_path, sqlite_template, day):
    runtime, url = runtime_on(tmp_path, sqlite_template)
    result = process_delivery(runtime, DeliveryRequest(write_contract(tmp_path), write_delivery(tmp_path), day))
    assert result.delivery_id is not None and result.counts.delivered == 2
    assert stored(url) == 1


@pytest.mark.parametrize(("day", "side"), [(FIRST - timedelta(days=1), "before"), (LAST + timedelta(days=1), "after")])
def test_the_day_before_and_the_day_after_are_refused_whole(tmp_path, sqlite_template, day, side):
    runtime, url = runtime_on(tmp_path, sqlite_template)
    request = DeliveryRequest(write_contract(tmp_path), write_delivery(tmp_path), day,
                              result_file=tmp_path / "out" / "r.csv")
    with pytest.raises(Refused) as refused:
        process_delivery(runtime, request)
    message = str(refused.value)
    assert message == (f"acme.csv: delivered on {day}, {side} the period of contract ACME-2027-01 of acme-leads, "
                       f"{PERIOD}; nothing was stored")
    assert stored(url) == 0 and not (tmp_path / "out" / "r.csv").exists()


def test_the_same_bytes_already_stored_are_refused_on_a_day_outside_the_period(tmp_path, sqlite_template):
    """The day is checked before the stored bytes are looked up: a re-run cannot bring a day outside the
    period through."""
    runtime, url = runtime_on(tmp_path, sqlite_template)
    contract, delivery = write_contract(tmp_path), write_delivery(tmp_path)
    process_delivery(runtime, DeliveryRequest(contract, delivery, LAST))
    with pytest.raises(Refused, match="after the period"):
        process_delivery(runtime, DeliveryRequest(contract, delivery, LAST + timedelta(days=1)))
    assert stored(url) == 1


SUPERSEDING = {"contract_id": "ACME-2027-01-B", "supersedes": "ACME-2027-01", "effective_from": date(2027, 3, 15)}


def test_a_superseding_version_applies_from_its_effective_from(tmp_path, sqlite_template):
    runtime, url = runtime_on(tmp_path, sqlite_template)
    contract = write_contract(tmp_path, **SUPERSEDING)
    with pytest.raises(Refused) as refused:
        process_delivery(runtime, DeliveryRequest(contract, write_delivery(tmp_path), date(2027, 3, 14)))
    assert str(refused.value) == (
        "acme.csv: delivered on 2027-03-14, before 2027-03-15, from which contract ACME-2027-01-B of acme-leads "
        f"(period {PERIOD}) supersedes ACME-2027-01 (effective_from): validate it under ACME-2027-01; "
        "nothing was stored")
    assert stored(url) == 0
    result = process_delivery(runtime, DeliveryRequest(contract, write_delivery(tmp_path), date(2027, 3, 15)))
    assert result.delivery_id is not None
    with pytest.raises(Refused, match=f"after the period of contract ACME-2027-01-B of acme-leads, {PERIOD}"):
        process_delivery(runtime, DeliveryRequest(contract, write_delivery(tmp_path, "b.csv"), date(2027, 4, 1)))


def test_a_superseding_version_effective_before_its_period_applies_from_the_period(tmp_path, sqlite_template):
    runtime, _ = runtime_on(tmp_path, sqlite_template)
    contract = write_contract(tmp_path, **{**SUPERSEDING, "effective_from": date(2027, 2, 1)})
    with pytest.raises(Refused, match=f"before the period of contract ACME-2027-01-B of acme-leads, {PERIOD}"):
        process_delivery(runtime, DeliveryRequest(contract, write_delivery(tmp_path), date(2027, 2, 28)))


def test_leadgov_validate_exits_2_with_one_line_and_stores_nothing(tmp_path, monkeypatch):
    from leadgov.config.settings import get_settings

    db = tmp_path / "cli.db"
    monkeypatch.setenv("LEADGOV_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, [
            "validate", "--contract", str(write_contract(tmp_path)), "--delivery", str(write_delivery(tmp_path)),
            "--delivered-on", "2027-04-01", "--out", str(tmp_path / "r.csv")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "after the period" in lines[0] and PERIOD in lines[0], result.output
    assert stored(f"sqlite:///{db}") == 0 and not (tmp_path / "r.csv").exists()


def set_day(path: Path, day: date) -> None:
    stamp = datetime(day.year, day.month, day.day, 12).timestamp()
    os.utime(path, (stamp, stamp))


def test_the_inbox_refuses_a_file_of_a_day_outside_the_period_and_processes_the_others(tmp_path, sqlite_template):
    """The inbox's day is the file's (its modification date when the run names none): the file of the
    day after the period goes to refused/ with its reason, the file of the last day is stored."""
    runtime, url = runtime_on(tmp_path, sqlite_template)
    contracts, folder = tmp_path / "contracts", tmp_path / "inbox" / "acme-leads"
    contracts.mkdir()
    folder.mkdir(parents=True)
    write_contract(contracts)
    late = write_delivery(folder, "late.csv")
    set_day(late, LAST + timedelta(days=1))
    on_time = folder / "on-time.csv"
    on_time.write_text(to_csv([lead(3)]), encoding="utf-8")
    set_day(on_time, LAST)

    result = process_inbox(runtime, InboxRequest.with_defaults(runtime.settings, inbox_dir=tmp_path / "inbox",
                                                               contracts_dir=contracts))

    by_file = {f.file: f for f in result.files}
    assert by_file["late.csv"].status is FileStatus.refused
    assert by_file["on-time.csv"].status is FileStatus.processed
    assert (folder / "refused" / "late.csv").is_file() and not late.exists()
    reason = (folder / "refused" / "late.csv.reason.txt").read_text(encoding="utf-8")
    assert f"delivered on 2027-04-01, after the period of contract ACME-2027-01 of acme-leads, {PERIOD}" in reason
    assert stored(url) == 1


def test_every_demo_delivery_falls_within_its_contract():
    """The demo plays 2027-Q1 (and delivers nothing after it): each supplier's contract covers it."""
    last = FIRST_DAY + timedelta(days=WEEKS * 7 - 1)
    for profile in PROFILES:
        contract = load_contract(CONTRACTS_DIR / profile.contract_file).contract
        assert contract.applies_on(FIRST_DAY) and contract.applies_on(last), profile.supplier_id
