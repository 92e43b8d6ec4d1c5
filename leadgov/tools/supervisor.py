"""The process supervisor behind ``leadgov ui``: leadgov's flows under a local Prefect server, with its UI.

Starts ``prefect server start`` on 127.0.0.1 (PREFECT_HOME: the environment's, else ``<data_dir>/prefect``,
so the server has its own SQLite database there), waits until it is healthy, creates the process work pool
``leadgov-process`` if missing, deploys every deployment of the project's ``prefect.yaml`` (``prefect
--no-prompt deploy --all`` from the project folder), starts ``prefect worker start --pool leadgov-process``
and prints the UI's address. Ctrl-C (or SIGTERM) stops the worker, then the server: only the processes this
command started, each in its own process group. docs/prefect.md has the by-hand equivalent.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from rich.console import Console

from leadgov.config.settings import get_settings

out = Console()
err = Console(stderr=True)

POOL = "leadgov-process"
HOST = "127.0.0.1"
PREFECT = [sys.executable, "-m", "prefect"]
SOURCE_ROOT = Path(__file__).resolve().parents[2]


class UiError(Exception):
    """A user-facing failure of ``leadgov ui``: one line, exit code 2."""


def run_ui(port: int = 4200, project: Path | None = None, startup_timeout: float = 180, deploy: bool = True) -> int:
    """Run the server, the deployments and a worker until Ctrl-C; the exit code (2: a one-line error)."""
    try:
        root = project_root(project)
        check_port_free(port)
        home = prefect_home(root)
    except UiError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return 2
    api_url = f"http://{HOST}:{port}/api"
    env = prefect_env(home, api_url)
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: list[tuple[str, subprocess.Popen]] = []
    # Ctrl-C and SIGTERM stop everything below; a Python handler (unlike an inherited SIG_IGN, e.g. when
    # started with `&` from a script) is reset to the default in the children, so they can be stopped too.
    previous = {sig: signal.signal(sig, _raise_keyboard_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        out.print(f"PREFECT_HOME: {home}", highlight=False)
        server = start(["server", "start", "--host", HOST, "--port", str(port)], env, home, logs / "server.log")
        started.append(("server", server))
        out.print(f"starting the Prefect server on {HOST}:{port} (log: {logs / 'server.log'}) ...", highlight=False)
        wait_healthy(api_url, server, logs / "server.log", startup_timeout)
        ensure_pool(api_url, env, root)
        if deploy:
            deploy_all(env, root, logs / "deploy.log")
        worker = start(["worker", "start", "--pool", POOL, "--install-policy", "never"], env, root,
                       logs / "worker.log")
        started.append(("worker", worker))
        out.print(f"worker started on pool {POOL} (log: {logs / 'worker.log'})", highlight=False)
        out.print(f"\n[bold]leadgov UI: http://{HOST}:{port}[/bold]   (Ctrl-C stops the worker and the server)\n"
                  f"for the prefect CLI in another shell: export PREFECT_API_URL={api_url}", highlight=False)
        while True:
            for name, process in started:
                if process.poll() is not None:
                    log = logs / f"{name}.log"
                    raise UiError(f"the Prefect {name} exited with code {process.returncode}; "
                                  f"see {log}:\n{tail(log)}")
            time.sleep(1)
    except KeyboardInterrupt:
        out.print("\nstopping ...")
    except UiError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        code = 2
    finally:
        for sig in previous:  # a second Ctrl-C must not leave the processes running
            signal.signal(sig, signal.SIG_IGN)
        for name, process in reversed(started):  # the worker first, while the server still answers it
            stop(process)
            out.print(f"Prefect {name} stopped")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def project_root(project: Path | None) -> Path:
    """The folder with prefect.yaml: the option, the current folder, or leadgov's source checkout."""
    candidates = [project] if project is not None else [Path.cwd(), SOURCE_ROOT]
    for folder in candidates:
        if (folder / "prefect.yaml").is_file():
            return folder.resolve()
    where = project if project is not None else Path.cwd()
    raise UiError(f"no prefect.yaml in {where}: run leadgov ui from the project folder (or pass --project)")


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # as the server does: closed connections (TIME_WAIT) do not hold the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise UiError(f"port {port} on {HOST} is already in use (another Prefect server or `leadgov ui`? "
                          f"open http://{HOST}:{port}, or choose another port with --port)") from None


def prefect_home(root: Path) -> Path:
    """PREFECT_HOME from the environment, else ``<data_dir>/prefect`` (a relative data_dir: in the project)."""
    if os.environ.get("PREFECT_HOME"):
        home = Path(os.environ["PREFECT_HOME"]).expanduser()
    else:
        data_dir = get_settings().data_dir
        home = (data_dir if data_dir.is_absolute() else root / data_dir) / "prefect"
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """The environment of every prefect subprocess: this one, pointed at the server started here.

    The worker passes it on to the flow runs, so LEADGOV_* settings (database URL, Slack ...) apply to them.
    """
    env = dict(os.environ)
    env.update(PREFECT_HOME=str(home), PREFECT_API_URL=api_url,
               PREFECT_SERVER_ANALYTICS_ENABLED="false")  # no telemetry: nothing leaves this machine
    return env


def start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """``prefect <args>`` in its own process group (Ctrl-C in the terminal reaches only leadgov ui)."""
    creationflags = 0  # POSIX: a new session instead
    if sys.platform == "win32":
        creationflags = subprocess.CREATE_NEW_PROCESS_GROUP
    with log.open("w") as sink:
        return subprocess.Popen([*PREFECT, *args], env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, creationflags=creationflags,
                                start_new_session=sys.platform != "win32")


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a process started by :func:`start` and its children: SIGTERM, then SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    if sys.platform == "win32":  # pragma: no cover - Windows
        steps = ((lambda: process.send_signal(signal.CTRL_BREAK_EVENT), timeout), (process.kill, 5))
    else:
        steps = ((lambda: os.killpg(process.pid, signal.SIGTERM), timeout),
                 (lambda: os.killpg(process.pid, signal.SIGKILL), 5))
    for send, wait in steps:
        try:
            send()
        except (ProcessLookupError, OSError):
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def wait_healthy(api_url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise UiError(f"the Prefect server exited with code {server.returncode}; see {log}:\n{tail(log)}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise UiError(f"the Prefect server was not healthy after {timeout:.0f} s; see {log}")
        time.sleep(0.5)


def prefect(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def ensure_pool(api_url: str, env: dict[str, str], root: Path) -> None:
    """Create the process work pool unless the server already has it (its settings are kept)."""
    if httpx.get(f"{api_url}/work_pools/{POOL}", timeout=10).status_code == 200:
        out.print(f"work pool {POOL} exists")
        return
    result = prefect(["work-pool", "create", POOL, "--type", "process"], env, root)
    if result.returncode != 0 and "already exists" not in result.stdout + result.stderr:
        raise UiError(f"could not create the work pool {POOL}:\n{result.stdout}{result.stderr}")
    out.print(f"work pool {POOL} created (type process)")


def deploy_all(env: dict[str, str], root: Path, log: Path) -> None:
    """``prefect --no-prompt deploy --all``; if it fails (it stops at the first broken deployment),
    deploy each deployment on its own so that one broken flow does not hide the others."""
    out.print("deploying prefect.yaml ...")
    result = prefect(["--no-prompt", "deploy", "--all"], env, root)
    log.write_text(result.stdout + result.stderr)
    names = deployment_names(root)
    if result.returncode == 0:
        out.print(f"deployed: {', '.join(names)}", highlight=False)
        return
    failed: list[str] = []
    with log.open("a") as sink:
        for name in names:
            one = prefect(["--no-prompt", "deploy", "-n", name], env, root)
            sink.write(f"\n--- prefect deploy -n {name} ---\n{one.stdout}{one.stderr}")
            if one.returncode != 0:
                failed.append(name)
                err.print(f"[yellow]warning:[/yellow] deployment {name} failed: {last_line(one)}",
                          highlight=False, soft_wrap=True)
    deployed = [name for name in names if name not in failed]
    out.print(f"deployed: {', '.join(deployed) or 'nothing'} (details: {log})", highlight=False)
    if not deployed:
        raise UiError(f"no deployment could be deployed; see {log}")


def deployment_names(root: Path) -> list[str]:
    content = yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8")) or {}
    return [d["name"] for d in content.get("deployments") or [] if d.get("name")]


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {result.returncode}"
