"""No personal data in logs, exceptions, alerts, Prefect artifacts or flow-run names (issue 7, part 6).

A delivery with known people (names, emails, phones, some of them invalid so that the error
paths run too) is validated, its outcomes imported with notes that name a person and a phone,
a lead contested, the month billed, every report written and the alerts posted to the fake
Slack; then every log record (every logger, at DEBUG), every line the CLI printed, every alert
(text, blocks, facts, last error), every Slack request, every report and every Prefect object of
the validate_delivery flow (flow-run and task-run names, artifacts, logs read back through the
API, persisted results) is searched for those values, in several forms: as delivered, E.164,
digits only, lower-cased, and with all whitespace removed (so that a value wrapped by the
terminal width is still found).

Lead ids are allowed everywhere (they are the supplier's references, not personal data): the
reports are checked to contain them, which also shows that the search itself works.
"""

import json
import logging
import re
import unicodedata
from pathlib import Path

import pytest
from factories import DELIVERED_ON, contract_dict, delivery_file, lead, outcomes_csv
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import select
from typer.testing import CliRunner

from leadgov.cli import app

runner = CliRunner()

# --- the known people --------------------------------------------------------------------------

PEOPLE = {
    "A": ("Zéphirine", "Quennehen", "Zephirine.Quennehen@Nexalog.fr", "06 48 27 91 35", "+33648279135"),
    "B": ("Anatole", "Berthelot", "anatole.berthelot@vasseur-conseil.fr", "+33 7 61 52 43 34", "+33761524334"),
    "C": ("Hortense", "Vaillancourt", "hortense.vaillancourt@@nexalog", "06 19 28 37 46", "+33619283746"),
    "D": ("Gaspard", "Lemerle", "gaspard.lemerle@dutour-industrie.fr", "05 57 31 9", None),
    "E": ("Ermengarde", "Talbot", "ermengarde.talbot@nexalog.fr", "06 73 84 95 16", "+33673849516"),
    "F": ("Philibert", "Quennehen", "Zephirine.Quennehen@Nexalog.fr", "06 58 13 72 49", "+33658137249"),
}
NOTE_A = "Rappeler Zéphirine Quennehen au 06 48 27 91 35 (ligne directe)"
NOTE_B = "Assistante: anatole.berthelot@vasseur-conseil.fr, +33 7 61 52 43 34"


def person(n: int, key: str, **overrides) -> dict:
    first, last, email, phone, _ = PEOPLE[key]
    stamp = {"collected_at": "2027-03-01 08:00", "consent_at": "2027-03-01 08:00"}
    return lead(n, first_name=first, last_name=last, email=email, phone=phone, **{**stamp, **overrides})


ROWS = [
    person(1, "A"),                      # accepted
    person(2, "B"),                      # accepted, later contested NO_CONSENT_ON_CALL
    person(3, "C"),                      # INVALID_EMAIL (the invalid value is known)
    person(4, "D"),                      # INVALID_PHONE
    person(5, "E", consent_proof=""),    # NO_CONSENT: a GDPR_BREACH alert
    person(6, "F"),                      # DUPLICATE_IN_DELIVERY of A's email
]
LEAD_IDS = [r["lead_id"] for r in ROWS]


def unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def forbidden() -> set[str]:
    """Every form of every known value, lower-cased (the haystacks are lower-cased too): names
    with and without accents, emails and their local part, phones as delivered, digits only,
    E.164 with and without "+", national; the notes."""
    values: set[str] = {NOTE_A, NOTE_B}
    for first, last, email, phone, e164 in PEOPLE.values():
        values |= {first, last, unaccented(first), email, email.split("@")[0], phone, re.sub(r"\D", "", phone)}
        if e164:
            values |= {e164, e164[1:], "0" + e164[3:]}
    return {v.lower() for v in values}


FORBIDDEN = forbidden()


def squash(text: str) -> str:
    """Lower-cased, without whitespace and table borders (a wrapped value is found again)."""
    return re.sub(r"[\s│┃║|]+", "", text).lower()


def leaks(haystacks: dict[str, str]) -> list[tuple[str, str]]:
    """(where, value) for every known value found in a haystack."""
    found = []
    for where, text in haystacks.items():
        lowered, squashed = text.lower(), squash(text)
        for value in FORBIDDEN:
            if value in lowered or squash(value) in squashed:
                found.append((where, value))
    return sorted(set(found))


def test_the_search_finds_every_form_of_a_known_value():
    for probe in ("Appel au +33 6 48 27 91 35", "zephirine.quennehen@nexalog.fr", "QUENNEHEN Zéphirine",
                  "tel=0648279135", "06 48 27\n│ 91 35", "33761524334", "hortense.vaillancourt@@nexalog"):
        assert leaks({"probe": probe}), probe
    assert leaks({"probe": "L-00001 L-00002 acme-leads Nexalog SAS 2027-03-01"}) == []


# --- capturing ---------------------------------------------------------------------------------

def engine_row(record: logging.LogRecord) -> bool:
    """SQLAlchemy's DEBUG record of one fetched row (see test_sqlalchemy_debug_rows_hold_no_personal_data)."""
    return record.name.startswith("sqlalchemy.engine") and str(record.msg).startswith("Row")


def records_text(caplog, *, rows: bool = False) -> dict[str, str]:
    """Every captured record: its message, arguments, exception and stack text (SQLAlchemy's
    fetched rows only with ``rows``)."""
    texts = {}
    for i, record in enumerate(caplog.records):
        if engine_row(record) and not rows:
            continue
        parts = [record.getMessage(), repr(record.args), record.exc_text or "", record.stack_info or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
        texts[f"log {i} {record.name} {record.levelname}"] = "\n".join(parts)
    return texts


@pytest.fixture
def all_logs(caplog):
    """caplog at DEBUG for the root logger and for every logger that has a level of its own."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        if logger.level not in (logging.NOTSET, logging.DEBUG):
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def fake_slack(monkeypatch):
    from slack_server import FakeSlack

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeSlack() as server:
        yield server


@pytest.fixture
def env(tmp_path, monkeypatch, fake_slack):
    """Settings for the CLI: a SQLite database, rate alerts from 2 leads, Slack at the fake server."""
    import yaml

    from leadgov.config.settings import get_settings

    contract = tmp_path / "acme.yaml"
    contract.write_text(yaml.safe_dump(contract_dict(**{"alerts.min_leads_for_rate_alerts": 2}),
                                       allow_unicode=True), encoding="utf-8")
    for name, value in {"DATABASE_URL": f"sqlite:///{tmp_path / 'leadgov.db'}", "HMAC_KEY": "test-key",
                        "OUTPUT_DIR": str(tmp_path / "out"), "SLACK_BOT_TOKEN": "xoxb-test",
                        "SLACK_BASE_URL": fake_slack.api_url, "SLACK_TIMEOUT_SECONDS": "2"}.items():
        monkeypatch.setenv(f"LEADGOV_{name}", value)
    monkeypatch.delenv("LEADGOV_SLACK_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path, contract
    get_settings.cache_clear()


def cli(outputs: dict[str, str], *argv: str, code: int = 0):
    """Run ``leadgov argv`` in-process; keep what it printed (stdout and stderr) in ``outputs``."""
    result = runner.invoke(app, list(argv))
    outputs[f"{len(outputs)} {' '.join(argv[:3])}"] = f"{result.stdout}\n{result.stderr}"
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def outbox_text(tmp_path: Path) -> dict[str, str]:
    from leadgov.models.alert import OutboxAlert
    from leadgov.models.db import session_scope

    with session_scope(f"sqlite:///{tmp_path / 'leadgov.db'}") as session:
        rows = session.execute(select(OutboxAlert.key, OutboxAlert.text, OutboxAlert.blocks, OutboxAlert.facts,
                                      OutboxAlert.last_error)).all()
    return {f"alert {key}": "\n".join(str(v) for v in rest) for key, *rest in rows}


def slack_text(server) -> dict[str, str]:
    return {f"slack request {i}": json.dumps(r, ensure_ascii=False) for i, r in enumerate(server.requests)}


def validate(outputs, tmp_path: Path, contract: Path, *extra: str):
    path = tmp_path / "acme-2027-03-01.csv"
    path.write_bytes(delivery_file(ROWS, name=path.name).take())
    return cli(outputs, "validate", "--contract", str(contract), "--delivery", str(path), "--delivered-on",
               DELIVERED_ON.isoformat(), "--out", str(tmp_path / "result.csv"),
               "--returns", str(tmp_path / "returns.csv"), *extra)


OUTCOMES = [
    {"lead_id": "L-00001", "event": "call_attempt", "at": "2027-03-02 09:00", "note": NOTE_A},
    {"lead_id": "L-00001", "event": "appointment", "at": "2027-03-03 10:00", "objection": "price", "note": NOTE_B},
    {"lead_id": "L-00002", "event": "contest", "at": "2027-03-04 10:00", "contest_reason": "NO_CONSENT_ON_CALL",
     "note": NOTE_B},
    {"lead_id": "L-99999", "event": "call_attempt", "at": "2027-03-02 09:00", "note": NOTE_A},  # UNKNOWN_LEAD
    {"lead_id": "L-00003", "event": "contest", "at": "2027-03-04 10:00", "contest_reason": "WRONG_NUMBER",
     "note": NOTE_A},  # CONTEST_REJECTED_LEAD
    {"lead_id": "L-00001", "event": "call_attempt", "at": "le 2 mars", "note": NOTE_A},  # INVALID_AT
]


# --- validation, outcomes, contests, billing, alerts -------------------------------------------

def test_validation_outcomes_billing_and_alerts_hold_no_personal_data(env, all_logs, fake_slack):
    tmp_path, contract = env
    outputs: dict[str, str] = {}
    fake_slack.enqueue("error500", "error500", "error500")  # the first alert fails: its last_error is kept
    validate(outputs, tmp_path, contract)
    while_down = {f"{k} (Slack down)": v for k, v in outbox_text(tmp_path).items()}
    assert any("HTTP 500" in text for text in while_down.values())  # kept, with its last error
    validate(outputs, tmp_path, contract, "--format", "json")  # the same file again: stored results
    later = tmp_path / "acme-2027-03-02.csv"  # A and B again: DUPLICATE_PREVIOUS (an identity look-up)
    later.write_bytes(delivery_file([person(7, "A"), person(8, "B")], name=later.name).take())
    again = cli(outputs, "validate", "--contract", str(contract), "--delivery", str(later), "--delivered-on",
                "2027-03-02", "--out", str(tmp_path / "later.csv"))
    assert "DUPLICATE_PREVIOUS" in again.output
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_bytes(outcomes_csv(OUTCOMES))
    cli(outputs, "outcomes", "import", str(outcomes))
    cli(outputs, "outcomes", "import", str(outcomes), "--format", "json")
    cli(outputs, "contest", "L-00006", "--supplier", "acme-leads", "--reason", "WRONG_NUMBER",
        "--note", NOTE_A, "--at", "2027-03-04T11:00", code=2)  # a rejected lead: refused, with its note
    cli(outputs, "contest", "L-00001", "--supplier", "acme-leads", "--reason", "WRONG_PERSON",
        "--note", NOTE_A, "--at", "2027-03-05T11:00")
    cli(outputs, "replacements", "--format", "json")
    cli(outputs, "kpis", "--supplier", "acme-leads", "--period", "2027-03", "--as-of", "2027-04-02")
    cli(outputs, "billing", "statement", "--supplier", "acme-leads", "--month", "2027-03", "--as-of", "2027-04-02")
    cli(outputs, "billing", "statement", "--supplier", "acme-leads", "--month", "2027-03", "--as-of", "2027-04-02",
        "--format", "csv")
    cli(outputs, "alerts", "send")
    cli(outputs, "alerts", "--format", "json")

    alerts = outbox_text(tmp_path)
    assert any(k.startswith("alert GDPR_BREACH") for k in alerts), alerts.keys()
    assert len(fake_slack.requests) >= len(alerts) + 2  # every alert posted, the failed one retried
    alerts.update(while_down)
    assert "L-00002" in "".join(alerts.values())  # lead ids are named, by design
    assert leaks({**outputs, **records_text(all_logs), **alerts, **slack_text(fake_slack)}) == []


def test_sqlalchemy_debug_rows_hold_no_personal_data(env, all_logs):
    tmp_path, contract = env
    validate({}, tmp_path, contract)
    all_logs.clear()
    later = tmp_path / "acme-2027-03-02.csv"  # A again: the identity look-up reads A's stored email
    later.write_bytes(delivery_file([person(7, "A")], name=later.name).take())
    cli({}, "validate", "--contract", str(contract), "--delivery", str(later), "--delivered-on", "2027-03-02",
        "--out", str(tmp_path / "later.csv"))
    rows = {k: v for k, v in records_text(all_logs, rows=True).items() if k.split()[2].startswith("sqlalchemy")}
    assert rows  # the engine did log at DEBUG
    assert leaks(rows) == []


def test_result_and_return_files_name_lead_ids_not_people(env, all_logs):
    tmp_path, contract = env
    validate({}, tmp_path, contract)
    files = {name: (tmp_path / name).read_text(encoding="utf-8-sig") for name in ("result.csv", "returns.csv")}
    assert all(lead_id in files["result.csv"] for lead_id in LEAD_IDS)
    assert "L-00003" in files["returns.csv"] and "L-00001" not in files["returns.csv"]
    assert leaks(files) == []


def test_a_refused_file_names_its_line_not_its_values(env, all_logs):
    tmp_path, contract = env
    data = delivery_file(ROWS).take().decode("utf-8").splitlines()
    data[3] = data[3] + ';"unterminated ' + PEOPLE["A"][2]  # a broken line holding a known email
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(data) + "\n", encoding="utf-8")
    outputs: dict[str, str] = {}
    cli(outputs, "validate", "--contract", str(contract), "--delivery", str(path), "--delivered-on",
        DELIVERED_ON.isoformat(), "--out", str(tmp_path / "result.csv"), code=2)
    [printed] = outputs.values()
    assert "error:" in printed and "line" in printed  # where the problem is, not what the line holds
    assert leaks({**outputs, **records_text(all_logs)}) == []


# --- reports -----------------------------------------------------------------------------------

def test_reports_name_lead_ids_not_people(env, all_logs):
    tmp_path, contract = env
    outputs: dict[str, str] = {}
    validate(outputs, tmp_path, contract)
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_bytes(outcomes_csv(OUTCOMES[:3]))
    cli(outputs, "outcomes", "import", str(outcomes))
    cli(outputs, "billing", "statement", "--supplier", "acme-leads", "--month", "2027-03", "--as-of", "2027-04-02")
    folder = tmp_path / "reports"
    cli(outputs, "report", "returns", "--delivery", "1", "--out", str(folder))
    cli(outputs, "report", "statement", "--supplier", "acme-leads", "--month", "2027-03", "--out", str(folder))
    cli(outputs, "report", "review", "--quarter", "2027-Q1", "--as-of", "2027-04-02", "--out", str(folder))
    cli(outputs, "pilot", "start", "--supplier", "acme-leads", "--start-date", "2027-03-01", "--contract",
        str(contract))
    cli(outputs, "report", "pilot", "--supplier", "acme-leads", "--as-of", "2027-04-02", "--out", str(folder))

    reports = {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.html"))}
    assert len(reports) == 4, reports.keys()
    returns = reports["returns-delivery-1.html"]
    assert all(lead_id in returns for lead_id in ("L-00003", "L-00004", "L-00005", "L-00006"))
    assert leaks({**reports, **outputs, **records_text(all_logs)}) == []


# --- the validate_delivery flow under Prefect ----------------------------------------------------

def _harness_database() -> str | None:
    """The database of the Prefect test harness in use, if one is (its file is prefect-test.db)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL

    database = PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or ""
    if PREFECT_API_URL.value() and database.endswith("/prefect-test.db"):
        return database.split(":///", 1)[1]
    return None


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """Prefect's test harness (a temporary server), with PREFECT_HOME in a temp dir:
    (PREFECT_HOME, the server's SQLite database file). The harness of tests/flows is reused when
    it is already running (two harnesses cannot be nested)."""
    from prefect.settings import PREFECT_HOME, PREFECT_SERVER_DATABASE_CONNECTION_URL

    running = _harness_database()
    if running is not None:
        yield Path(PREFECT_HOME.value()), Path(running)
        return
    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(home))
        with prefect_test_harness(server_startup_timeout=120):
            database = PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1]
            yield home, Path(database)


@pytest.mark.prefect
def test_validate_delivery_flow_holds_no_personal_data(prefect_server, env, all_logs):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    from leadgov.flows.validate_delivery import DeliveryParameters, validate_delivery

    tmp_path, contract = env
    path = tmp_path / "acme-2027-03-01.csv"
    path.write_bytes(delivery_file(ROWS, name=path.name).take())
    request = DeliveryParameters(contract_path=str(contract), delivery_path=str(path), delivered_on=DELIVERED_ON,
                              out_dir=str(tmp_path / "out"))
    state = validate_delivery(request, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary["rejected"] == 4

    flow_run_id = state.state_details.flow_run_id
    APILogWorker.drain_all(timeout=5)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        states = client.read_flow_run_states(flow_run_id)

    assert len(task_runs) >= 7 and len(artifacts) >= 2 and logs
    haystacks = {
        "flow run": f"{flow_run.name}\n{flow_run.state.message}\n{json.dumps(flow_run.parameters, default=str)}",
        "flow run states": "\n".join(f"{s.name} {s.message}" for s in states),
        "summary": json.dumps(summary, default=str),
        **{f"task run {r.name}": f"{r.name}\n{r.state.message}\n{r.task_inputs}" for r in task_runs},
        **{f"artifact {a.key}": f"{a.description}\n{json.dumps(a.data, default=str)}" for a in artifacts},
        **{f"api log {i}": log.message for i, log in enumerate(logs)},
        **records_text(all_logs),
    }
    # Everything Prefect wrote: results it persisted under PREFECT_HOME (none expected: every task
    # is NO_CACHE) and the server's own database (states, parameters, logs, artifacts), as raw bytes.
    home, database = prefect_server
    files = [f for f in Path(home).rglob("*") if f.is_file()]
    files += [f for f in database.parent.glob(database.name + "*") if f.is_file()]
    assert database in files
    for stored in files:
        haystacks[f"prefect file {stored}"] = stored.read_bytes().decode("utf-8", "replace")
    assert "delivery-acme-leads-summary" in "".join(v for k, v in haystacks.items() if k.startswith("prefect file"))
    assert leaks(haystacks) == []
