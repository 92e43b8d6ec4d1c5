"""The code stays lint-clean: ``ruff check .`` (configuration in pyproject.toml) passes from the project root."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes_on_the_whole_project():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", ".", "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
