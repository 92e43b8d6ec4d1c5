"""The layers hold: import-linter's contracts (pyproject.toml) pass on the code as it is, and fail, naming
the broken contract, when a task opens a session or a report computes KPIs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` run from ``project`` on the ``leadgov`` package found there first."""
    env = {**os.environ, "PYTHONPATH": str(project), "NO_COLOR": "1"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_layer_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    for contract in ("Tasks are thin", "Reports render only", "Doors call services", "The domain knows no door"):
        assert contract in result.stdout  # the contracts are there, not just an empty configuration


@pytest.fixture(scope="module")
def copy_of_the_package(tmp_path_factory) -> Path:
    """The package copied with its linked folders resolved, and the project's configuration."""
    project = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "leadgov", project / "leadgov", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    return project


def add_line(path: Path, line: str) -> str:
    original = path.read_text(encoding="utf-8")
    path.write_text(f"{line}\n{original}", encoding="utf-8")
    return original


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("tasks/deliveries.py", "from leadgov.models.db import session_scope", "Tasks are thin"),
    ("tasks/billing.py", "from leadgov.kpis import compute_kpis", "Tasks are thin"),
    ("reports/review.py", "from leadgov.governance import supplier_kpis", "Reports render only"),
    ("reports/pilot.py", "from sqlalchemy.orm import Session", "Reports render only"),
    ("cli/governance.py", "from leadgov.models.db import session_scope", "Doors call services"),
    ("kpis.py", "import prefect", "The domain knows no door"),
    ("services/billing.py", "import leadgov.flows.monthly_billing", "Doors call tasks or services"),
])
def test_a_broken_layer_is_caught(copy_of_the_package, module, line, contract):
    path = copy_of_the_package / "leadgov" / module
    original = add_line(path, line)
    try:
        result = lint_imports(copy_of_the_package)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
