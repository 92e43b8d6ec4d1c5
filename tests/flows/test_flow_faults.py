"""The validate_delivery flow when things fail (issue 7, part 5), under Prefect's test harness.

Rules (tasks/deliveries.py): the storing task is retried only when the database could not be
reached (``database_unreachable``), so an outage or a connection lost in the middle of storing is
retried and the delivery ends stored once; a refused delivery (unreadable file, over the size
limit, a conflicting contract) fails at once, without retries. Failure messages are clear and
name neither a lead's values nor the database password.

Retry delays are set to 0 with ``Task.with_options`` (the retry counts and conditions are the
real ones), so that the tests do not sleep for the production back-off.
"""

import os

import pytest
import yaml
from factories import BASE_CONTRACT, DELIVERED_ON, contract_dict, delivery_file, lead
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogWorker
from sqlalchemy import create_engine, func, select, text

from leadgov.flows.validate_delivery import DeliveryParameters, validate_delivery
from leadgov.tasks import deliveries as delivery_tasks

pytestmark = pytest.mark.prefect
#: The server tests/conftest.py uses (the same variable and default).
POSTGRES_URL = os.environ.get("LEADGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

PASSWORD = "s3cret-pw-9f1"
UNREACHABLE = f"postgresql+psycopg://nobody:{PASSWORD}@127.0.0.1:1/x?connect_timeout=2"
ROWS = [lead(1), lead(2, employees="1"), lead(3)]
#: What must never appear in a failure message or a log line: the leads' values.
PERSONAL = [v for row in ROWS for v in (row["email"], row["phone"], row["phone"].replace(" ", ""))] + [
    "+33612340001", "Camille", "Martin"]


def no_backoff(monkeypatch, *names: str) -> None:
    """The flow's tasks ``names`` with their real retries and conditions, but no delay."""
    from leadgov.flows import validate_delivery as flow_module
    from leadgov.tasks import common

    for name in names:
        if name == "open_runtime":  # the flow's first task: the runtime, with the schema upgraded
            monkeypatch.setattr(flow_module, name, common.open_runtime.with_options(retry_delay_seconds=0))
            continue
        task = getattr(delivery_tasks, name)
        monkeypatch.setitem(common._TASKS, task.fn, task.with_options(retry_delay_seconds=0))


def use_settings(monkeypatch, **values: str) -> None:
    from leadgov.config.settings import get_settings

    for name, value in values.items():
        monkeypatch.setenv(f"LEADGOV_{name.upper()}", value)
    get_settings.cache_clear()


def request_for(folder, data: bytes, contract=BASE_CONTRACT) -> DeliveryParameters:
    path = folder / "acme-2027-03-01.csv"
    path.write_bytes(data)
    return DeliveryParameters(contract_path=str(contract), delivery_path=str(path), delivered_on=DELIVERED_ON,
                           out_dir=str(folder / "out"))


def task_runs(flow_run_id) -> dict[str, tuple[int, str]]:
    """Task name (without its suffix) -> (run count, state type) of the flow run's task runs."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {r.name.rsplit("-", 1)[0]: (r.run_count, r.state.type.value) for r in runs}


def flow_logs(flow_run_id) -> list[str]:
    """The flow run's log lines as stored by the API (after the log worker is drained)."""
    APILogWorker.drain_all(timeout=5)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs]


def assert_nothing_secret(texts: list[str]) -> None:
    for text_ in texts:
        assert PASSWORD not in text_, text_
        for value in PERSONAL:
            assert value.lower() not in text_.lower(), (value, text_)


def test_an_unreachable_database_retries_the_first_database_task_then_fails_clearly(leadgov_env, monkeypatch):
    """The first task that needs the database (``open_runtime``: the schema is brought up to date
    there) is retried, then the run fails naming the cause; nothing after it runs."""
    from leadgov.tasks.common import open_runtime

    use_settings(monkeypatch, database_url=UNREACHABLE)
    no_backoff(monkeypatch, "open_runtime")
    state = validate_delivery(request_for(leadgov_env, delivery_file(ROWS).take()), return_state=True)

    assert state.is_failed()
    flow_run_id = state.state_details.flow_run_id
    runs = task_runs(flow_run_id)
    retries = open_runtime.retries
    assert retries >= 1
    assert runs["open_runtime"] == (1 + retries, "FAILED")  # every attempt, then failed
    assert set(runs) == {"open_runtime"}
    assert "OperationalError" in state.message and "127.0.0.1" in state.message
    assert "Connection refused" in state.message  # says why, not just that it failed
    assert_nothing_secret([state.message, *flow_logs(flow_run_id)])


@pytest.mark.postgres
def test_a_connection_lost_in_the_middle_of_storing_is_retried_and_stored_once(leadgov_env, monkeypatch, pg_url):
    """The server drops the session's connection just before the leads are copied: the attempt
    fails, the retry stores the whole delivery, once."""
    from leadgov.models import Delivery, Lead, delivery_store
    from leadgov.models.db import session_scope

    use_settings(monkeypatch, database_url=pg_url)
    no_backoff(monkeypatch, "deduplicate_and_store")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    real, cut = delivery_store.insert_leads, []

    def connection_lost(session, leads):
        if not cut:
            cut.append(True)
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return real(session, leads)

    monkeypatch.setattr(delivery_store, "insert_leads", connection_lost)
    try:
        state = validate_delivery(request_for(leadgov_env, delivery_file(ROWS).take()), return_state=True)
    finally:
        admin.dispose()

    assert state.is_completed(), state.message
    summary = state.result()
    assert not summary["already_ingested"] and summary["delivered"] == len(ROWS)
    assert task_runs(state.state_details.flow_run_id)["deduplicate_and_store"] == (2, "COMPLETED")
    with session_scope(pg_url) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        assert session.scalar(select(func.count()).select_from(Lead)) == len(ROWS)
    assert_nothing_secret(flow_logs(state.state_details.flow_run_id))


def test_an_unreadable_file_fails_fast_without_retries(leadgov_env, monkeypatch):
    no_backoff(monkeypatch, "receive_file", "deduplicate_and_store")
    state = validate_delivery(request_for(leadgov_env, bytes(range(256)) * 20), return_state=True)

    assert state.is_failed()
    runs = task_runs(state.state_details.flow_run_id)
    assert runs["check_fields"] == (1, "FAILED")  # read, normalise, per-field rules: one step
    assert all(count == 1 for count, _ in runs.values()), runs
    assert "deduplicate_and_store" not in runs
    assert "UnreadableFile" in state.message and "acme-2027-03-01.csv" in state.message


def test_a_contract_conflict_at_storing_fails_without_retries(leadgov_env, monkeypatch):
    """Refused by the database's content (same contract_id, other terms, no supersedes): not an
    outage, so the storing task runs once."""
    no_backoff(monkeypatch, "deduplicate_and_store")
    assert validate_delivery(request_for(leadgov_env, delivery_file(ROWS).take())).get("delivery_id") == 1
    changed = leadgov_env / "changed.yaml"
    changed.write_text(yaml.safe_dump(contract_dict(**{"billing.unit_price_eur": 50.0}), allow_unicode=True),
                       encoding="utf-8")
    state = validate_delivery(request_for(leadgov_env, delivery_file([lead(4)]).take(), changed), return_state=True)

    assert state.is_failed()
    assert task_runs(state.state_details.flow_run_id)["deduplicate_and_store"] == (1, "FAILED")
    assert "ContractConflict" in state.message and "supersedes" in state.message


def test_a_file_over_the_size_limit_is_refused_without_retries(leadgov_env, monkeypatch):
    use_settings(monkeypatch, max_file_bytes="100")
    no_backoff(monkeypatch, "receive_file")
    state = validate_delivery(request_for(leadgov_env, delivery_file(ROWS).take()), return_state=True)

    assert state.is_failed() and "100-byte limit" in state.message
    assert task_runs(state.state_details.flow_run_id)["receive_file"] == (1, "FAILED")
