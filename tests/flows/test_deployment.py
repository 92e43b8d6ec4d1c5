"""prefect.yaml end to end: a real Prefect server, `prefect deploy`, a process worker, one run.

Starts `prefect server start` on a free 127.0.0.1 port with its own PREFECT_HOME (and SQLite), creates
the `leadgov-process` pool, deploys `validate-delivery` and `weekly-checks` from the project's
prefect.yaml with the CLI, starts `prefect worker start` (in an unrelated folder: the deployment's pull
step must bring the run to the project folder), creates a run of a deployment through the API, and
waits (bounded) for it to end Completed: the delivery (relative paths in the parameters), or the alert of
a finished week's shortfall, in the worker's database.

Only these two are deployed: the other flows of prefect.yaml are deployed by `leadgov ui`.
All subprocesses run in their own process group and are stopped by the fixtures' finalizers.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from factories import ingest, lead
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun

from leadgov.models.migrate import upgrade
from leadgov.tools.supervisor import stop, tail  # the same process handling as `leadgov ui`

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
POOL = "leadgov-process"
SERVER_TIMEOUT_S = 90
RUN_TIMEOUT_S = 180


@pytest.fixture(scope="module", autouse=True)
def prefect_harness():
    """Overrides the autouse session fixture of tests/flows/conftest.py for this module.

    That fixture starts `prefect_test_harness`, an in-process temporary server; this module talks to
    its own `prefect server start` subprocess instead (a worker needs a real PREFECT_API_URL), so the
    harness would only cost start-up time. Every subprocess below gets an explicit environment, so
    an active harness (when other flow tests ran first) cannot leak into them either.
    """
    yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process' environment without any PREFECT_*/LEADGOV_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADGOV_"))}
    env.update(extra)
    return env


@contextmanager
def sigint_default():
    """Children inherit an ignored SIGINT (pytest started with `&` from a script): a `prefect worker`
    turns SIGTERM into SIGINT, so it would then wait for the SIGKILL. Let the children start with the default."""
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """`prefect <args>` in its own process group, output in ``log``."""
    with log.open("w") as out, sigint_default():
        return subprocess.Popen([*PREFECT, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A `prefect server start` subprocess: its URL and the environment of its clients."""
    folder = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = clean_env(
        PREFECT_HOME=str(folder / "home"),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",  # no telemetry: nothing leaves 127.0.0.1
        PREFECT_SERVER_UI_ENABLED="false",
    )
    log = folder / "server.log"
    process = start(["server", "start", "--host", "127.0.0.1", "--port", str(port)], env, folder, log)
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"prefect server exited with {process.returncode}:\n{tail(log)}")
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server not healthy after {SERVER_TIMEOUT_S} s:\n{tail(log)}")
            time.sleep(0.5)
        yield {"api_url": api_url, "env": env, "folder": folder, "log": log}
    finally:
        stop(process)


def prefect_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run([*PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"prefect {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def deployed(server):
    """The pool and the `validate-delivery` and `weekly-checks` deployments, created with the CLI from
    the project folder."""
    prefect_cli(["work-pool", "create", POOL, "--type", "process"], server["env"], ROOT)
    output = prefect_cli(["--no-prompt", "deploy", "-n", "validate-delivery", "-n", "weekly-checks"],
                         server["env"], ROOT)
    assert "validate_delivery/validate-delivery" in output and "weekly_checks/weekly-checks" in output
    return server


def run_to_the_end(client: SyncPrefectClient, deployment_id, parameters: dict, worker: dict) -> FlowRun:
    """Create a run of the deployment through the API and wait (bounded) until the worker ends it."""
    flow_run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        flow_run = client.read_flow_run(flow_run.id)
        if flow_run.state is not None and flow_run.state.is_final():
            return flow_run
        if worker["process"].poll() is not None:
            pytest.fail(f"the worker exited with {worker['process'].returncode}:\n{tail(worker['log'])}")
        if time.monotonic() > deadline:
            pytest.fail(f"run still {flow_run.state_name} after {RUN_TIMEOUT_S} s:\n{tail(worker['log'])}")
        time.sleep(1)


@pytest.fixture
def worker(deployed, tmp_path):
    """A process worker on the pool, started in tmp_path, with the flow's settings in its environment."""
    database = tmp_path / "leadgov.db"
    env = dict(deployed["env"],
               LEADGOV_DATABASE_URL=f"sqlite:///{database}",
               LEADGOV_OUTPUT_DIR=str(tmp_path / "out"),
               PREFECT_WORKER_QUERY_SECONDS="1",
               PREFECT_WORKER_PREFETCH_SECONDS="5")
    log = tmp_path / "worker.log"
    process = start(["worker", "start", "--pool", POOL, "--install-policy", "never"], env, tmp_path, log)
    try:
        yield {"database": database, "log": log, "folder": tmp_path, "process": process}
    finally:
        stop(process)


def test_validate_delivery_deployment_runs_through_a_worker(deployed, worker):
    out_dir = worker["folder"] / "results"
    request = {  # relative paths: the run must start in the project folder (the deployment's pull step)
        "contract_path": "config/contracts/acme-leads.yaml",
        "delivery_path": "examples/acme-leads-2027-03-01.csv",
        "delivered_on": "2027-03-01",
        "crm_path": "examples/crm-export.csv",  # the contract has exclusions.crm_check
        "out_dir": str(out_dir),
    }
    with SyncPrefectClient(api=deployed["api_url"]) as client:
        deployment = client.read_deployment_by_name("validate_delivery/validate-delivery")
        assert deployment.enforce_parameter_schema
        assert deployment.work_pool_name == POOL
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]

        flow_run = run_to_the_end(client, deployment.id, {"request": request}, worker)

    assert flow_run.state.is_completed(), f"{flow_run.state_name}: {flow_run.state.message}\n{tail(worker['log'])}"
    assert flow_run.name == "validate examples/acme-leads-2027-03-01.csv"

    with sqlite3.connect(worker["database"]) as connection:
        rows = connection.execute(
            "SELECT supplier_id, file_name, delivered_on, delivered_count, accepted_count + rejected_count"
            " FROM delivery").fetchall()
        leads = connection.execute("SELECT count(*) FROM lead").fetchone()[0]
    assert len(rows) == 1
    supplier, file_name, delivered_on, delivered, judged = rows[0]
    assert (supplier, file_name, delivered_on) == ("acme-leads", "acme-leads-2027-03-01.csv", "2027-03-01")
    assert delivered == judged == leads > 0
    assert (out_dir / "acme-leads-2027-03-01.result.csv").exists()

    # The same file through `leadgov validate`: the same alerts, word for word (the run has no Slack either).
    cli_database = worker["folder"] / "cli.db"
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("leadgov")), "validate", "--contract", request["contract_path"],
         "--delivery", request["delivery_path"], "--delivered-on", "2027-03-01", "--crm", request["crm_path"],
         "--out", str(worker["folder"] / "cli.result.csv"), "--db", f"sqlite:///{cli_database}"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    alerts = "SELECT key, channel, text, blocks, status FROM alert ORDER BY key"
    with sqlite3.connect(worker["database"]) as flow_db, sqlite3.connect(cli_database) as cli_db:
        from_flow, from_cli = flow_db.execute(alerts).fetchall(), cli_db.execute(alerts).fetchall()
    assert {key.split("|")[0] for key, *_ in from_flow} >= {"REJECTION_SPIKE", "GDPR_BREACH"}
    assert from_flow == from_cli


def test_weekly_checks_deployment_alerts_a_finished_weeks_shortfall(deployed, worker):
    url = f"sqlite:///{worker['database']}"
    upgrade(url)
    ingest(url, [lead(i) for i in range(1, 21)])  # Monday 1 March only: 20 leads, target 50 (floor 40)

    with SyncPrefectClient(api=deployed["api_url"]) as client:
        deployment = client.read_deployment_by_name("weekly_checks/weekly-checks")
        assert deployment.enforce_parameter_schema and deployment.work_pool_name == POOL
        assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
            ("0 8 * * 1", "Europe/Paris")]
        flow_run = run_to_the_end(client, deployment.id, {"as_of": "2027-03-08"}, worker)  # 2027-W09 is over

    assert flow_run.state.is_completed(), f"{flow_run.state_name}: {flow_run.state.message}\n{tail(worker['log'])}"
    with sqlite3.connect(worker["database"]) as connection:
        alerts = connection.execute("SELECT key, figure, threshold, status FROM alert"
                                    " WHERE type = 'VOLUME_SHORTFALL'").fetchall()
    assert alerts == [("VOLUME_SHORTFALL|acme-leads|2027-W09", 20, 40, "pending")]  # no Slack on this worker


def test_prefect_yaml_matches_the_flows():
    """Every deployment's entrypoint loads and its parameters validate against the flow's signature."""
    import yaml
    from prefect.flows import load_flow_from_entrypoint

    content = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in content["deployments"]}
    flow_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "flows").glob("*.py") if p.name != "__init__.py"}
    assert {d["entrypoint"].split(":")[0] for d in deployments.values()} == flow_files  # one per flow
    for name, deployment in deployments.items():
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        assert deployment["work_pool"]["name"] == POOL and deployment["enforce_parameter_schema"], name
        if name == "import-outcomes":  # `path` is asked for in the UI
            assert deployment["parameters"] == {} and "path" in flow.parameters.required
        else:
            flow.validate_parameters(deployment["parameters"])
    schedules = {name: [(s["cron"], s["timezone"]) for s in d.get("schedules") or []]
                 for name, d in deployments.items()}
    assert schedules == {
        "validate-delivery": [], "import-outcomes": [], "supplier-pilot": [], "release-statement": [],
        "review-leads": [],
        "weekly-delivery-validation": [("0 9 * * 1", "Europe/Paris")],
        "check-replacements": [("0 7 * * *", "Europe/Paris")],
        "weekly-checks": [("0 8 * * 1", "Europe/Paris")],
        "monthly-billing": [("0 6 1 * *", "Europe/Paris")],
        "quarterly-review": [("0 8 1 1,4,7,10 *", "Europe/Paris")],
        "gdpr-retention": [("0 3 * * 0", "Europe/Paris")],
    }


def test_ui_refuses_a_port_in_use():
    from typer.testing import CliRunner

    from leadgov.cli import app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["ui", "--port", str(port), "--project", str(ROOT)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
