"""Concurrency and faults on PostgreSQL (issue 7, part 5): real processes racing on one database.

Each race runs ``leadgov validate`` in two separate Python processes against the same PostgreSQL
schema. A file barrier around ``leadgov.ingest.check_delivery`` (the pure half, reached once the
first "already stored?" look-up found nothing) releases both processes together, and each one's
first commit is held back a moment, so that the other is inside its own transaction, past its
checks, before anything is committed: the race is forced, not hoped for.

Rules checked (README "validate"; models/delivery.py; leadgov/ingest.py):

* the same bytes validated twice at the same moment are stored once (the unique constraint
  ``delivery(supplier_id, file_sha256)``), and the second validation ends as "already ingested"
  (exit 0), never with a traceback;
* two different files of one supplier at the same moment are both stored, and the rules that
  depend on what is already stored (DUPLICATE_PREVIOUS, the weekly cap) see one after the other
  (the lock ``store_delivery`` takes before deciding, in ``models.delivery_store``);
* a failure in the middle of storing a delivery's replacement claims leaves nothing of the delivery
  (the outcome import's failure injection, after the events and before the claims, is
  tests/leadgov/test_outcomes.py::test_failure_while_storing_leaves_nothing, on both databases);
* an alert is never lost nor posted twice: two senders at once post each alert once, and an alert
  left ``sending`` by a worker killed mid-send is sent by a later run once its claim is stale.
"""

import os
import subprocess
import sys
import textwrap
import threading
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from factories import DELIVERED_ON, HMAC_KEY, contract_dict, delivery_file, ingest, lead
from sqlalchemy import create_engine, func, select, text, update

from leadgov.models import Delivery, Lead, LeadReason, ReplacementClaim
from leadgov.models.db import session_scope

pytestmark = pytest.mark.postgres
#: The server tests/conftest.py uses (the same variable and default).
POSTGRES_URL = os.environ.get("LEADGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

ROOT = Path(__file__).resolve().parents[2]

#: Runs ``leadgov <argv>`` after wrapping ``module:function`` in a barrier: each process, on its
#: first call, waits until ``parties`` processes reached it (or exits 97 after 30 s). With
#: ``HOLD_COMMIT`` set, the first commit of the process waits that many seconds first, so that the
#: other process surely reaches the statement that blocks on this one's uncommitted rows.
CHILD = textwrap.dedent("""
    import importlib, os, sys, time
    from pathlib import Path

    sync_dir = Path(os.environ["SYNC_DIR"])
    parties = int(os.environ["SYNC_PARTIES"])
    module_name, name = os.environ["SYNC_POINT"].split(":")
    module = importlib.import_module(module_name)
    real = getattr(module, name)
    waited = []

    def synced(*args, **kwargs):
        if not waited:
            waited.append(True)
            (sync_dir / str(os.getpid())).touch()
            deadline = time.monotonic() + 30
            while len(list(sync_dir.iterdir())) < parties:
                if time.monotonic() > deadline:
                    sys.stderr.write("test barrier: timed out\\n")
                    os._exit(97)
                time.sleep(0.005)
        return real(*args, **kwargs)

    setattr(module, name, synced)
    hold = float(os.environ.get("HOLD_COMMIT") or 0)
    if hold:
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        held = []

        def before_commit(session):
            if not held:
                held.append(True)
                time.sleep(hold)

        event.listen(Session, "before_commit", before_commit)
    from leadgov.cli import app
    app(args=sys.argv[1:], prog_name="leadgov")
""")


# --- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def new_pg_url(postgres_available):
    """``new_pg_url()``: a fresh PostgreSQL schema at the current schema version, dropped at the
    end of the module (PostgreSQL only: SQLite has one writer and no concurrent transactions)."""
    from leadgov.models.db import get_engine
    from leadgov.models.migrate import upgrade

    if not postgres_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL is not reachable")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    made: list[tuple[str, str]] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        made.append((schema, url))
        upgrade(url)
        return url

    yield make
    for schema, url in made:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url(new_pg_url) -> str:
    return new_pg_url()


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def child_env(sync_dir: Path, parties: int, point: str, hold: float) -> dict[str, str]:
    """The children's environment: no LEADGOV_ setting of the caller's (no Slack, no database),
    the factories' identity key and the tests' empty CRM export (the contract asks for the CRM check)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGOV_")}
    crm = sync_dir.parent / "crm-export-empty.csv"
    crm.write_text("email;phone\n", encoding="utf-8")
    env.update(SYNC_DIR=str(sync_dir), SYNC_PARTIES=str(parties), SYNC_POINT=point, HOLD_COMMIT=str(hold),
               LEADGOV_HMAC_KEY=HMAC_KEY, LEADGOV_CRM_EXPORT=str(crm),
               PYTHONPATH=str(ROOT), COLUMNS="200")
    return env


#: Both processes leave the pure half together (they already found the bytes not stored), and the
#: first commit of each waits HOLD seconds: the other one is then surely inside its own transaction,
#: past its checks, when the first commits.
SYNC_POINT = "leadgov.ingest:check_delivery"
HOLD = 0.6


def race(folder: Path, url: str, contract: Path, deliveries: list[Path]) -> list[Run]:
    """``leadgov validate`` of each delivery, one process each, released together at SYNC_POINT."""
    sync_dir = folder / f"sync-{uuid.uuid4().hex[:6]}"
    sync_dir.mkdir()
    env = child_env(sync_dir, len(deliveries), SYNC_POINT, HOLD)
    processes = []
    for i, path in enumerate(deliveries):
        argv = ["validate", "--contract", str(contract), "--delivery", str(path), "--delivered-on",
                DELIVERED_ON.isoformat(), "--out", str(folder / f"result-{i}.csv"), "--db", url]
        processes.append(subprocess.Popen([sys.executable, "-c", CHILD, *argv], cwd=folder, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    runs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=90)
        runs.append(Run(process.returncode, stdout, stderr))
    assert all(r.code != 97 for r in runs), runs  # every process reached the barrier
    return runs


def write_delivery(folder: Path, rows: list[dict], name: str) -> Path:
    path = folder / name
    path.write_bytes(delivery_file(rows, name=name).take())
    return path


def write_contract(folder: Path, **overrides) -> Path:
    path = folder / "contract.yaml"
    path.write_text(yaml.safe_dump(contract_dict(**overrides), allow_unicode=True), encoding="utf-8")
    return path


def count(url: str, model, *where) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def seed(url: str, contract: Path) -> None:
    """An earlier delivery under the same contract file (another ISO week, another person): the
    supplier and the contract version are already stored, the race is about the deliveries only."""
    from leadgov.config.contract import load_contract

    ingest(url, [lead(900, collected_at="2027-02-01 10:00", consent_at="2027-02-01 10:00")],
           day=date(2027, 2, 1), contract=load_contract(contract), name="seed.csv")


def no_traceback(runs: list[Run]) -> None:
    for run in runs:
        assert "Traceback" not in run.stderr + run.stdout, run.stderr


# --- the same bytes twice at once --------------------------------------------------------------

ROWS = [lead(1), lead(2, employees="1"), lead(3)]


@pytest.fixture(scope="module", params=[True, False], ids=["known-supplier", "new-supplier"])
def same_file_race(request, new_pg_url, tmp_path_factory):
    """Two processes validate the same file at the same moment: (url, sha256, runs, folder)."""
    url = new_pg_url()
    folder = tmp_path_factory.mktemp("same")
    contract = write_contract(folder)
    if request.param:
        seed(url, contract)
    path = write_delivery(folder, ROWS, "acme-2027-03-01.csv")
    sha = delivery_file(ROWS, name=path.name).sha256
    return request.param, url, sha, race(folder, url, contract, [path, path]), folder


def test_same_file_at_once_is_stored_once(same_file_race):
    """The unique constraint: one delivery, its leads once, and no traceback either way."""
    _, url, sha, runs, _ = same_file_race
    with session_scope(url) as session:
        [delivery_id] = session.scalars(select(Delivery.id).where(Delivery.file_sha256 == sha)).all()
    assert count(url, Lead, Lead.delivery_id == delivery_id) == len(ROWS)
    assert count(url, LeadReason, LeadReason.delivery_id == delivery_id) == 1
    no_traceback(runs)
    for run in runs:
        assert run.code in (0, 3), run
        if run.code == 3:  # today's fallback: one clear line, nothing stored
            assert run.stderr.strip().startswith("error:") and len(run.stderr.strip().splitlines()) == 1


def test_same_file_at_once_second_ends_already_ingested(same_file_race):
    """The rule: one "stored", the other "already ingested", both exit 0 with the same results."""
    known, _, _, runs, folder = same_file_race
    assert [r.code for r in runs] == [0, 0], [r.stderr for r in runs]
    outputs = sorted(r.stdout.splitlines()[0].split(": ", 1)[1].split(";")[0] for r in runs)
    assert outputs[0].startswith("already ingested as delivery ") and outputs[1].startswith("stored as delivery ")
    assert outputs[0].removeprefix("already ingested as ") == outputs[1].removeprefix("stored as ")
    assert (folder / "result-0.csv").read_bytes() == (folder / "result-1.csv").read_bytes()


# --- two files of one supplier at once ---------------------------------------------------------

@pytest.mark.parametrize("stored_before", [
    "supplier-and-contract",
    "supplier-only",
    "nothing",
])
def test_two_files_of_a_supplier_at_once_are_both_stored_one_after_the_other(stored_before, pg_url, tmp_path):
    """Both stored; the person in both files is DUPLICATE_PREVIOUS exactly once, and the weekly
    cap (3) is applied across both files as if they came one after the other."""
    contract = write_contract(tmp_path, **{"volumes.weekly_max": 3, "volumes.weekly_target": 2})
    if stored_before == "supplier-and-contract":
        seed(pg_url, contract)
    elif stored_before == "supplier-only":  # the same terms in another file: another contract version
        earlier = tmp_path / "earlier.yaml"
        earlier.write_text(contract.read_text(encoding="utf-8") + "# signed copy\n", encoding="utf-8")
        seed(pg_url, earlier)
    first = write_delivery(tmp_path, [lead(1), lead(2), lead(10)], "a.csv")
    second = write_delivery(tmp_path, [lead(3), lead(4), lead(10, lead_id="B-10")], "b.csv")
    runs = race(tmp_path, pg_url, contract, [first, second])
    no_traceback(runs)
    assert [r.code for r in runs] == [0, 0], [r.stderr for r in runs]
    day = Delivery.delivered_on == DELIVERED_ON
    assert count(pg_url, Delivery, day) == 2
    in_week = Lead.delivered_on == DELIVERED_ON  # the seed is in another ISO week
    assert count(pg_url, LeadReason, LeadReason.code == "DUPLICATE_PREVIOUS") == 1
    assert count(pg_url, Lead, in_week, Lead.status == "accepted") == 5
    assert count(pg_url, Lead, in_week, Lead.flags.like("%OVER_WEEKLY_CAP%")) == 2
    with session_scope(pg_url) as session:
        totals = session.execute(select(func.sum(Delivery.accepted_count), func.sum(Delivery.over_cap_count))
                                 .where(day)).one()
    assert tuple(totals) == (5, 2)


# --- a failure in the middle of storing a delivery's claims ------------------------------------

def test_failure_while_storing_claims_leaves_nothing_of_the_delivery(pg_url, monkeypatch):
    """The replacement fills its claim (UPDATE) and the rejected lead opens one (INSERT), then the
    connection is lost: no delivery, no lead, the first claim still open, no new claim."""
    from leadgov.config.contract import parse_contract
    from leadgov.models import claim_store

    terms = parse_contract(yaml.safe_dump(contract_dict(**{"replacement.max_replacement_share": 1.0}),
                                          allow_unicode=True), "contract.yaml")
    ingest(pg_url, [lead(1), lead(2, email="bad")], contract=terms, name="a.csv")
    later = date(2027, 3, 3)
    rows = [lead(3, replaces_lead_id="L-00002", collected_at="2027-03-02 10:00"), lead(4, email="bad")]
    real = claim_store.insert_claims

    def broken(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(claim_store, "insert_claims", broken)
    with pytest.raises(RuntimeError, match="connection lost"):
        ingest(pg_url, rows, day=later, contract=terms, name="b.csv")
    assert count(pg_url, Delivery) == 1 and count(pg_url, Lead) == 2
    with session_scope(pg_url) as session:
        claims = session.execute(select(ReplacementClaim.lead_id, ReplacementClaim.status,
                                        ReplacementClaim.filled_by_lead_pk)).all()
    assert [tuple(c) for c in claims] == [("L-00002", "open", None)]
    monkeypatch.undo()
    again = ingest(pg_url, rows, day=later, contract=terms, name="b.csv")  # re-running is safe
    assert not again.already_ingested
    with session_scope(pg_url) as session:
        claims = dict(session.execute(select(ReplacementClaim.lead_id, ReplacementClaim.status)).all())
    assert claims == {"L-00002": "filled", "L-00004": "open"}


# --- the outbox: never lost, never twice -------------------------------------------------------

@pytest.fixture
def fake_slack(monkeypatch):
    from slack_server import FakeSlack

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeSlack() as server:
        yield server


def slack_settings(url: str, server):
    from leadgov.config.settings import Settings

    return Settings(_env_file=None, database_url=url, slack_bot_token="xoxb-test", slack_webhook_url=None,
                    slack_base_url=server.api_url, slack_timeout_seconds=5)


def pending_alerts(url: str) -> list[str]:
    """A delivery with half its leads rejected (rate alerts from 2 leads): its alerts recorded."""
    from leadgov.alerts.evaluate import after_delivery
    from leadgov.config.contract import parse_contract

    terms = parse_contract(yaml.safe_dump(contract_dict(**{"alerts.min_leads_for_rate_alerts": 2}),
                                          allow_unicode=True), "contract.yaml")
    delivery_id = ingest(url, [lead(1), lead(2, email="bad")], contract=terms).delivery_id
    with session_scope(url) as session:
        keys = after_delivery(session, delivery_id, "Europe/Paris", date(2027, 3, 2))
    assert keys
    return keys


def statuses(url: str) -> dict[str, tuple[str, int]]:
    from leadgov.models import alert_store

    with session_scope(url) as session:
        return {a.key: (a.status, a.attempts) for a in alert_store.list_alerts(session)}


def test_two_senders_at_once_post_each_alert_once(pg_url, fake_slack):
    from leadgov.alerts.outbox import SendSummary, send_pending
    from leadgov.alerts.slack import SlackSender

    keys = pending_alerts(pg_url)
    fake_slack.enqueue(*[("hang", 0.3)] * len(keys))  # each post is slow: the senders overlap
    settings = slack_settings(pg_url, fake_slack)
    results: list[SendSummary] = []
    start = threading.Barrier(2)

    def worker():
        start.wait()
        results.append(send_pending(pg_url, SlackSender.from_settings(settings)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(r.sent for r in results) == len(keys) and sum(r.failed for r in results) == 0
    # each alert posted once (the incident's first message may also be refreshed: chat.update)
    assert [r["path"] for r in fake_slack.requests].count("/api/chat.postMessage") == len(keys)
    assert statuses(pg_url) == {k: ("sent", 1) for k in keys}


def test_an_alert_left_sending_by_a_killed_worker_is_sent_once_its_claim_is_stale(pg_url, fake_slack):
    from leadgov.alerts.outbox import SendSummary, send_pending
    from leadgov.alerts.slack import SlackSender
    from leadgov.models import alert_store
    from leadgov.models.alert import OutboxAlert

    keys = pending_alerts(pg_url)
    with session_scope(pg_url) as session:  # a worker claims them, then is killed before posting
        taken = [alert_store.claim(session, i) for i in alert_store.sendable_ids(session)]
        assert len([t for t in taken if t is not None]) == len(keys)
    sender = SlackSender.from_settings(slack_settings(pg_url, fake_slack))
    assert send_pending(pg_url, sender) == SendSummary()  # it may still be posting: not taken yet
    assert fake_slack.requests == [] and {s for s, _ in statuses(pg_url).values()} == {"sending"}
    with session_scope(pg_url) as session:  # later: the claim is older than STALE_CLAIM
        session.execute(update(OutboxAlert).values(
            claimed_at=OutboxAlert.claimed_at - alert_store.STALE_CLAIM - timedelta(minutes=1)))
    assert send_pending(pg_url, sender) == SendSummary(sent=len(keys))
    paths = [r["path"] for r in fake_slack.requests]
    # the killed worker may have posted them: each is looked for in Slack first, then posted once
    assert paths.count("/api/chat.postMessage") == len(keys) and "/api/conversations.history" in paths
    assert statuses(pg_url) == {k: ("sent", 1) for k in keys}
