"""Every service step a job runs through its step runner has a Prefect task, whichever flow started the
process: a flow imports only its own task module, and the registry completes itself on a miss
(``leadgov.tasks.common.task_for``)."""

import ast
import subprocess
import sys
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "leadgov" / "services"


def steps_called() -> list[tuple[str, str]]:
    """(service module, function name) of every ``steps(<name>, ...)`` call in the services."""
    found = []
    for path in sorted(SERVICES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "steps"
                    and node.args and isinstance(node.args[0], ast.Name)):
                found.append((f"leadgov.services.{path.stem}", node.args[0].id))
    return sorted(set(found))


def test_the_services_run_steps_through_their_runner():
    assert ("leadgov.services.release", "raise_alerts") in steps_called()  # the scan sees what it must


def test_every_step_resolves_to_a_task_in_a_process_that_imported_one_flow():
    script = "\n".join([
        "import importlib",
        "import leadgov.flows.release_statement  # only the release's own task module",
        "from leadgov.tasks.common import task_for",
        f"for module, name in {steps_called()!r}:",
        "    task_for(getattr(importlib.import_module(module), name))",
        "print('ok')",
    ])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
