"""The types hold: mypy (configured in pyproject.toml) passes on the code as it is, strict for the services and
the domain, and the strict modules are really checked strictly (an unannotated function fails there, not in a door)."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

#: One worker under xdist: the probes are checked once, in one mypy run, for every test below.
pytestmark = pytest.mark.xdist_group("types")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
#: The doors and the reports: only the default checks.
NOT_STRICT = ("leadgov.cli", "leadgov.demo", "leadgov.tasks", "leadgov.flows", "leadgov.reports")
#: What must stay strict: the services and the domain (docs/architecture.md, "The gates").
MUST_BE_STRICT = (
    "leadgov.services.*", "leadgov.alerts.*", "leadgov.normalise.*", "leadgov.reading.*", "leadgov.validation.*",
    "leadgov.billing", "leadgov.claims", "leadgov.cohort", "leadgov.csv_out", "leadgov.explanations", "leadgov.fields",
    "leadgov.formatting", "leadgov.gdpr", "leadgov.governance", "leadgov.identity", "leadgov.ingest", "leadgov.kpis",
    "leadgov.ledger", "leadgov.outcomes", "leadgov.periods", "leadgov.pilot", "leadgov.pilot_cohort",
    "leadgov.reasons", "leadgov.recommendation", "leadgov.replacements", "leadgov.results", "leadgov.returns",
    "leadgov.review", "leadgov.statements", "leadgov.errors", "leadgov.config.*", "leadgov.models.*",
)


def mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


def test_mypy_passes():
    result = mypy(cwd=ROOT)
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"
    assert "Success: no issues found" in result.stdout, result.stdout


#: The flags of ``mypy --strict`` that can be set per module (warn_redundant_casts and warn_unused_configs are
#: global). ``strict = true`` itself cannot be used in an override: mypy applies it to every module.
STRICT_FLAGS = {
    "disallow_any_generics": True, "disallow_subclassing_any": True, "disallow_untyped_calls": True,
    "disallow_untyped_defs": True, "disallow_incomplete_defs": True, "check_untyped_defs": True,
    "disallow_untyped_decorators": True, "warn_unused_ignores": True, "warn_return_any": True,
    "implicit_reexport": False, "strict_equality": True, "extra_checks": True,
}


def mypy_config() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["mypy"]


def strict_modules() -> set[str]:
    return {module for block in mypy_config()["overrides"]
            if STRICT_FLAGS.items() <= block.items() for module in block["module"]}


def test_the_services_and_the_domain_are_configured_strict():
    config = mypy_config()
    assert "strict" not in config and not any("strict" in block for block in config["overrides"])
    assert config["warn_redundant_casts"] and config["warn_unused_configs"]
    assert set(MUST_BE_STRICT) <= strict_modules()
    assert not any(module.startswith(NOT_STRICT) for module in strict_modules())


def probe_path(module: str) -> Path:
    """Where a probe module matching ``module`` (a name, or ``package.*``) goes, relative to the project."""
    parts = module.removesuffix(".*").split(".")
    return Path(*parts, "probe.py") if module.endswith(".*") else Path(*parts).with_suffix(".py")


@pytest.fixture(scope="module")
def probes(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """An unannotated function in one module of each strict pattern and of each door, checked in one run
    with the project's configuration."""
    project = tmp_path_factory.mktemp("types")
    modules = [*MUST_BE_STRICT, *(f"{door}.*" for door in NOT_STRICT)]
    for module in modules:
        path = project / probe_path(module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("def untyped(value):\n    return value\n", encoding="utf-8")
        for package in path.relative_to(project).parents:
            if package != Path("."):
                (project / package / "__init__.py").touch()
    files = [str(probe_path(module)) for module in modules]
    return project, mypy("--config-file", str(CONFIG), "--cache-dir", str(project / ".cache"), *files, cwd=project)


@pytest.mark.parametrize("module", MUST_BE_STRICT)
def test_an_unannotated_function_fails_in_a_strict_module(probes, module):
    _, result = probes
    path = probe_path(module).as_posix()
    assert f"{path}:1: error: Function is missing a type annotation  [no-untyped-def]" in result.stdout, result.stdout


@pytest.mark.parametrize("door", NOT_STRICT)
def test_a_door_keeps_the_default_checks(probes, door):
    _, result = probes
    assert probe_path(f"{door}.*").as_posix() not in result.stdout, result.stdout
