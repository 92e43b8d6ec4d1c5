"""Hostile operations (issue 16, items 6, 10 and 11): what passed a check and failed later, what
failed with an unclear message, and what leadgov left open to other users of the machine.

- Contracts: every number and date a contract holds is bounded to what the calendar and the
  database can hold, so a contract that passes ``leadgov contract check`` never crashes a later
  command (an infinite price, a window of millions of days, a month's total above NUMERIC(14, 2)).
- The database: two processes migrating the same new database at once both succeed (the migration
  runs under a lock); a lock held too long says "database is locked", a value the database cannot
  hold says "value too large", not "check --db".
- Operational defaults: the public development HMAC key is refused as soon as the data is real
  (PostgreSQL or Slack configured), unless LEADGOV_ALLOW_DEV_KEY=1; what leadgov creates on disk
  (the database and its -wal/-shm, result and return files, reports, inbox files it moves, the
  folders it makes) is readable by its owner only: files 0600, folders 0700.
"""

import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import databases
import pytest
import yaml
from factories import BASE_CONTRACT, HMAC_KEY, contract_dict, delivery_file, lead
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.config.settings import Settings, get_settings
from leadgov.models import ContractVersion, Delivery, Lead, SuppressionEntry
from leadgov.models.db import get_engine, session_scope
from leadgov.models.migrate import current_revisions, head_revisions

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def contract_check(tmp_path, **overrides) -> tuple[int, str]:
    """``leadgov contract check`` on the example contract with ``overrides``: (exit code, output)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(contract_dict(**overrides), allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["contract", "check", str(path)])
    return result.exit_code, result.output


# --- contracts: bounded numbers, dates and texts (item 6) -------------------------------------------

HOSTILE_CONTRACT_VALUES = [
    ("billing.unit_price_eur", math.inf),
    ("billing.unit_price_eur", math.nan),
    ("billing.unit_price_eur", 1e12),  # one lead's price overflows NUMERIC(14, 2) on PostgreSQL
    ("billing.monthly_budget_cap_eur", math.inf),
    ("billing.monthly_budget_cap_eur", 1e15),
    ("qualification.min_budget_eur", math.inf),
    ("qualification.min_employees", 10**30),
    ("qualification.max_project_horizon_months", 10**9),
    ("volumes.weekly_max", 10**30),
    ("volumes.monthly_max", 10**30),
    ("period.notice_days", 10**9),
    ("period.start", "0001-01-01"),
    ("period.end", "9999-12-31"),
    ("exploitability.max_age_days", 10_000_000),
    ("exclusions.dedup_window_days", 10_000_000),  # OverflowError: date value out of range
    ("gdpr.retention_days", 10_000_000),
    ("quality.first_contact_sla_hours", math.inf),
    ("replacement.contest_window_days", 10_000_000),
    ("replacement.replacement_deadline_days", 10_000_000),
    ("exclusivity.days", 10_000_000),
    ("pilot.max_duration_days", 10_000_000),
    ("alerts.reject_spike_sigma", math.inf),
    ("alerts.min_leads_for_rate_alerts", 10**30),
    # texts stored in bounded columns (a longer one fails on PostgreSQL, not on SQLite)
    ("contract_id", "ACME-" + "9" * 100),
    ("supplier.id", "acme-" + "a" * 64),
    ("supplier.name", "ACME " * 50),
    ("owner", "claire.martin" * 20 + "@buyer.example"),
    ("alerts.slack_channel", "#" + "x" * 100),
]


@pytest.mark.parametrize(("key", "value"), HOSTILE_CONTRACT_VALUES,
                         ids=[f"{key}={value!r:.12}" for key, value in HOSTILE_CONTRACT_VALUES])
def test_contract_check_refuses_a_value_beyond_what_leadgov_can_hold(tmp_path, key, value):
    code, output = contract_check(tmp_path, **{key: value})
    assert code == 2, output
    assert f"- {key}: must be" in output, output
    assert "Traceback" not in output


def test_contract_check_refuses_a_price_whose_contracted_month_overflows_the_money_columns(tmp_path):
    """Each key within its bounds, but their product above NUMERIC(14, 2): the price is named."""
    code, output = contract_check(tmp_path, **{"billing.unit_price_eur": 100_000.0,
                                               "volumes.monthly_max": 10_000_000})
    assert code == 2, output
    assert "- billing.unit_price_eur: 100000 EUR for each of volumes.monthly_max (10000000) leads" in output
    assert "more than leadgov can store (999999999999.99 EUR)" in " ".join(output.split())


def test_contract_check_bounds_are_inclusive_and_a_careful_buyers_extremes_pass(tmp_path):
    at_bounds = {
        "billing.unit_price_eur": 99_999.99, "volumes.weekly_max": 10_000_000, "volumes.monthly_max": 10_000_000,
        "billing.monthly_budget_cap_eur": 1_000_000_000.0, "exclusions.dedup_window_days": 3650,
        "gdpr.retention_days": 3650, "period.start": "2000-01-01", "period.end": "2199-12-31",
        "contract_id": "A" * 100, "supplier.name": "N" * 200}
    code, output = contract_check(tmp_path, **at_bounds)
    assert code == 0, output
    code, output = contract_check(tmp_path, **{**at_bounds, "exclusions.dedup_window_days": 3651})
    assert code == 2 and "- exclusions.dedup_window_days: must be at most 3650, got 3651" in output, output


# --- the database: migrations under a lock, clear errors (item 10) ---------------------------------

#: ``leadgov <argv>`` in a child process whose first call of ``alembic.command.upgrade`` waits until
#: ``SYNC_PARTIES`` processes reached it (or exits 97 after 30 s): both found the database new, and
#: both start migrating it at the same moment.
MIGRATING_CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from alembic import command

    sync_dir, parties, real = Path(os.environ["SYNC_DIR"]), int(os.environ["SYNC_PARTIES"]), command.upgrade

    def synced(*args, **kwargs):
        (sync_dir / str(os.getpid())).touch()
        deadline = time.monotonic() + 30
        while len(list(sync_dir.iterdir())) < parties:
            if time.monotonic() > deadline:
                os._exit(97)
            time.sleep(0.005)
        return real(*args, **kwargs)

    command.upgrade = synced
    from leadgov.cli import app
    app(args=sys.argv[1:], prog_name="leadgov")
""")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request, tmp_path, postgres_available) -> Iterator[str]:
    """The URL of a database never migrated: a SQLite file not yet created, or an empty schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'new.db'}"
        yield url
        get_engine(url).dispose()
        return
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    admin = databases.admin_engine()
    schema, url = databases.new_schema(admin)
    try:
        yield url
    finally:
        databases.drop_schema(admin, schema, url)
        admin.dispose()


def test_two_processes_migrating_a_new_database_at_once_both_succeed(tmp_path, new_database):
    """Before: SQLite "table ... already exists", PostgreSQL a UniqueViolation reported as "was the
    same file stored concurrently?"; now the second waits for the first's commit and finds the head."""
    sync_dir = tmp_path / f"sync-{uuid.uuid4().hex[:6]}"
    sync_dir.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LEADGOV_")},
           "SYNC_DIR": str(sync_dir), "SYNC_PARTIES": "2", "LEADGOV_HMAC_KEY": HMAC_KEY, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", MIGRATING_CHILD, "db", "upgrade", "--db", new_database],
                                  cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    runs = [(process.wait(timeout=120), *process.communicate()) for process in processes]
    assert [code for code, _, _ in runs] == [0, 0], runs
    assert all("database at the current schema" in stdout for _, stdout, _ in runs), runs
    assert current_revisions(new_database) == head_revisions()


def test_a_migrated_sqlite_database_keeps_its_foreign_keys_enforced(tmp_path):
    """The migration turns SQLite's foreign keys off (batch mode copies tables) and on again after
    its commit: before, "on" was sent inside the transaction, a no-op, and the pooled connection
    went on without them."""
    from leadgov.models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    with get_engine(url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    get_engine(url).dispose()


def error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    return lines[0]


def with_query(url: str, sqlite_query: str, postgres_option: str) -> str:
    """``url`` with a SQLite query parameter, or one more PostgreSQL ``options`` setting."""
    if url.startswith("sqlite"):
        return f"{url}?{sqlite_query}"
    return f"{url}%20{postgres_option}"


def test_a_command_kept_waiting_by_a_lock_says_database_is_locked(db_url):
    """Another connection holds the write lock longer than the command waits (SQLite's busy timeout
    from the URL's ``timeout``, PostgreSQL's ``lock_timeout``): before, "database error
    (OperationalError) ... check --db"."""
    waiting = with_query(db_url, "timeout=0.2", "-clock_timeout%3D200")
    holder = get_engine(db_url).raw_connection()
    try:
        cursor = holder.cursor()
        if db_url.startswith("sqlite"):
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE suppression_entry IN ACCESS EXCLUSIVE MODE")
        result = runner.invoke(app, ["gdpr", "object", "--email", "jean.dupont@nexalog.fr", "--db", waiting])
    finally:
        holder.rollback()
        holder.close()
        get_engine(waiting).dispose()
    assert result.exit_code == 3, result.output
    line = error_line(result.output)
    assert line.startswith("error: database is locked: another process is writing to it"), line
    assert "check --db" not in line and "jean.dupont" not in result.output
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(SuppressionEntry)) == 0


def test_a_value_too_large_for_the_database_says_value_too_large(db_url, tmp_path):
    """A value the database cannot hold: on SQLite, longer than its maximum length (lowered here to
    4 KB, below the contract's text, instead of writing the default 1 GB); on PostgreSQL, the
    contract's path longer than its column (500 characters). Before: "database error (DataError)
    ... check --db", exit 3; now "value too large", exit 2, nothing stored."""
    contract = tmp_path / ("d" * 240) / ("e" * 240) / "contract.yaml"
    contract.parent.mkdir(parents=True)
    contract.write_text(BASE_CONTRACT.read_text(encoding="utf-8"), encoding="utf-8")
    delivery = tmp_path / "d.csv"
    delivery.write_bytes(delivery_file([lead(1)]).take())

    def small_limit(dbapi_connection, _record) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 4096)

    if db_url.startswith("sqlite"):
        get_engine(db_url).dispose()
        event.listen(get_engine(db_url), "connect", small_limit)
    try:
        result = runner.invoke(app, ["validate", "--contract", str(contract), "--delivery", str(delivery),
                                     "--delivered-on", "2027-03-01", "--out", str(tmp_path / "r.csv"), "--db", db_url])
    finally:
        if db_url.startswith("sqlite"):
            event.remove(get_engine(db_url), "connect", small_limit)
            get_engine(db_url).dispose()
    assert result.exit_code == 2, result.output
    line = error_line(result.output)
    assert line.startswith("error: value too large for the database ("), line
    assert "check --db" not in line
    with session_scope(db_url) as session:
        for model in (ContractVersion, Delivery, Lead):
            assert session.scalar(select(func.count()).select_from(model)) == 0


# --- operational defaults: the development key, private files (item 11) ----------------------------

def no_key(monkeypatch) -> None:
    """The environment of an install that never set LEADGOV_HMAC_KEY (the tests set one: conftest.py)."""
    for name in ("LEADGOV_HMAC_KEY", "LEADGOV_ALLOW_DEV_KEY", "LEADGOV_SLACK_BOT_TOKEN", "LEADGOV_SLACK_WEBHOOK_URL",
                 "LEADGOV_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def test_the_development_key_is_refused_with_postgresql(monkeypatch, pg_url):
    no_key(monkeypatch)
    result = runner.invoke(app, ["alerts", "--db", pg_url])
    assert result.exit_code == 2, result.output
    line = error_line(result.output)
    assert "LEADGOV_HMAC_KEY is the public development key while a PostgreSQL database is configured" in line
    assert "LEADGOV_ALLOW_DEV_KEY=1" in line

    monkeypatch.setenv("LEADGOV_ALLOW_DEV_KEY", "1")  # the explicit opt-out (a shared test server)
    get_settings.cache_clear()
    assert runner.invoke(app, ["alerts", "--db", pg_url]).exit_code == 0


def test_the_development_key_is_refused_with_slack_and_nothing_is_created(monkeypatch, tmp_path):
    no_key(monkeypatch)
    monkeypatch.setenv("LEADGOV_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    database = tmp_path / "data" / "leadgov.db"
    result = runner.invoke(app, ["db", "upgrade", "--db", f"sqlite:///{database}"])
    assert result.exit_code == 2, result.output
    assert "LEADGOV_HMAC_KEY is the public development key while Slack is configured" in error_line(result.output)
    assert not database.exists()


def test_the_development_key_still_runs_sqlite_without_slack(monkeypatch, tmp_path):
    """The demo's and a first try's setup: the default key, a SQLite file, no Slack; and a key of
    one's own with PostgreSQL-like settings runs too (the refusal is about the development key)."""
    no_key(monkeypatch)
    result = runner.invoke(app, ["db", "upgrade", "--db", f"sqlite:///{tmp_path / 'leadgov.db'}"])
    assert result.exit_code == 0, result.output
    assert Settings(_env_file=None, slack_bot_token="xoxb-1").dev_key_refusal("sqlite:///x.db") is not None
    assert Settings(_env_file=None, hmac_key=HMAC_KEY, slack_bot_token="xoxb-1").dev_key_refusal(
        "postgresql://db/leadgov") is None


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The process umask of a usual shell (022: files 0644, folders 0755) during the test: what
    leadgov creates must not depend on it."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_what_a_delivery_leaves_on_disk_is_private(tmp_path, usual_umask):
    """Before: the database, its -wal and -shm, the result and return files, the report and every
    folder made for them were 0644/0755, readable by every user of the machine."""
    contract = tmp_path / "contract.yaml"
    contract.write_text(BASE_CONTRACT.read_text(encoding="utf-8"), encoding="utf-8")
    delivery = tmp_path / "d.csv"
    delivery.write_bytes(delivery_file([lead(1), lead(2, email="not-an-email")]).take())
    database = tmp_path / "data" / "leadgov.db"
    url = f"sqlite:///{database}"
    try:
        result = runner.invoke(app, [
            "validate", "--contract", str(contract), "--delivery", str(delivery), "--delivered-on", "2027-03-01",
            "--out", str(tmp_path / "out" / "deliveries" / "d.result.csv"),
            "--returns", str(tmp_path / "out" / "deliveries" / "d.returns.csv"), "--db", url])
        assert result.exit_code == 0, result.output
        report = runner.invoke(app, ["report", "returns", "--delivery", "1", "--out", str(tmp_path / "out" / "reports"),
                                     "--db", url])
        assert report.exit_code == 0, report.output
        files = [database, database.with_name("leadgov.db-wal"), database.with_name("leadgov.db-shm"),
                 tmp_path / "out" / "deliveries" / "d.result.csv", tmp_path / "out" / "deliveries" / "d.returns.csv",
                 *(tmp_path / "out" / "reports").iterdir()]
        assert {str(path.relative_to(tmp_path)): oct(mode(path)) for path in files} == {
            str(path.relative_to(tmp_path)): "0o600" for path in files}
        folders = [tmp_path / "data", tmp_path / "out", tmp_path / "out" / "deliveries", tmp_path / "out" / "reports"]
        assert {path.name: oct(mode(path)) for path in folders} == {path.name: "0o700" for path in folders}
    finally:
        get_engine(url).dispose()


def test_inbox_files_leadgov_moves_are_private(tmp_path, usual_umask):
    """A supplier's upload (0644 here) moved into processed/ or refused/ keeps its mode in a rename:
    leadgov makes it 0600, and the refusal's note and the folders it creates are private too."""
    inbox, contracts = tmp_path / "inbox", tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "acme-leads.yaml").write_text(BASE_CONTRACT.read_text(encoding="utf-8"), encoding="utf-8")
    (inbox / "acme-leads").mkdir(parents=True)
    good, bad = inbox / "acme-leads" / "a.csv", inbox / "acme-leads" / "b.csv"
    good.write_bytes(delivery_file([lead(1)]).take())
    bad.write_bytes(b"")  # an empty file: refused whole
    stamp = datetime(2027, 3, 1, 12).timestamp()  # the inbox's day is the file's: within the contract's period
    for path in (good, bad):
        path.chmod(0o644)
        os.utime(path, (stamp, stamp))
    url = f"sqlite:///{tmp_path / 'leadgov.db'}"
    try:
        result = runner.invoke(app, ["inbox", "run", "--inbox", str(inbox), "--contracts", str(contracts),
                                     "--out", str(tmp_path / "out"), "--db", url])
    finally:
        get_engine(url).dispose()
    assert result.exit_code == 0, result.output
    supplier = inbox / "acme-leads"
    moved = [supplier / "processed" / "a.csv", supplier / "refused" / "b.csv", *(supplier / "refused").glob("b.csv.*")]
    assert len(moved) == 3, sorted(p.name for p in (supplier / "refused").iterdir())
    assert {path.name: oct(mode(path)) for path in moved} == {path.name: "0o600" for path in moved}
    assert {oct(mode(supplier / name)) for name in ("processed", "refused")} == {"0o700"}
    written = {path.relative_to(tmp_path / "out").as_posix(): oct(mode(path)) for path in (tmp_path / "out").rglob("*")}
    assert written == {"acme-leads": "0o700", "acme-leads/a.result.csv": "0o600",
                       "acme-leads/a.returns.csv": "0o600"}, written


def test_a_new_sqlite_database_is_private_even_outside_a_door(tmp_path, usual_umask):
    """The SQLite file is created 0600 (in folders created 0700) by whatever opens it first, a door
    or not (here the migration alone, under the usual umask); SQLite gives -wal and -shm its mode."""
    from leadgov.models.migrate import upgrade

    database = tmp_path / "new" / "leadgov.db"
    url = f"sqlite:///{database}"
    try:
        upgrade(url)
        with get_engine(url).connect() as connection:  # a connection keeps -wal and -shm
            connection.exec_driver_sql("SELECT 1")
            modes = {path.name: oct(mode(path)) for path in database.parent.iterdir()}
    finally:
        get_engine(url).dispose()
    assert modes == {"leadgov.db": "0o600", "leadgov.db-wal": "0o600", "leadgov.db-shm": "0o600"}
    assert mode(database.parent) == 0o700
