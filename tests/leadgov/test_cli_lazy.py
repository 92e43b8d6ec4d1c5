"""The command line imports a command's module only when that command runs (issue 15).

``leadgov --help`` must not import pandas, pandera, SQLAlchemy, Prefect, numpy... (checked on module
names in a fresh interpreter, not on seconds); every command stays reachable and every help text,
the root's included, is the one Typer gives for the eager tree of the same commands.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from leadgov.cli import COMMANDS, app
from leadgov.cli.lazy import COMMAND_GC_THRESHOLD

runner = CliRunner()

#: The libraries a command needs only when it runs.
HEAVY = ("pandas", "pandera", "sqlalchemy", "prefect", "numpy", "pyarrow", "alembic", "jinja2", "slack_sdk",
         "reportlab", "svglib", "lxml", "phonenumbers", "email_validator", "pydantic", "yaml", "psycopg")
#: The commands of ``leadgov`` (as they were when every module was imported up front).
TOP_LEVEL = ("validate", "demo", "contest", "kpis", "ui", "db", "contract", "inbox", "outcomes", "replacements",
             "billing", "pilot", "alerts", "report", "gdpr", "review")

#: Runs the console entry point with argv[1:] and prints, as JSON, the modules then imported.
CHILD = """
import json, sys
from leadgov.cli import main
sys.argv = ["leadgov", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stdout.write("\\n" + json.dumps(sorted(sys.modules)))
"""


def imported_by(*argv: str, settings: dict[str, str] | None = None) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGOV_")} | (settings or {})
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=env, check=True)
    return set(json.loads(done.stdout.rsplit("\n", 1)[1]))


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_help_imports_no_command_module_nor_data_library():
    for argv in ((), ("--help",)):
        modules = imported_by(*argv)
        assert heavy_among(modules) == [], argv
        assert sorted(m for m in modules if m.startswith("leadgov")) == ["leadgov", "leadgov.cli", "leadgov.cli.lazy"]


def test_importing_the_cli_imports_no_data_library():
    code = "import json, sys, leadgov.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert heavy_among(set(json.loads(done.stdout))) == []


def test_a_command_imports_its_module_only():
    modules = imported_by("contract", "--help")
    assert "leadgov.cli.deliveries" in modules
    others = ("alerts", "demo", "gdpr", "governance", "inbox", "reports", "ui")
    assert [m for m in (f"leadgov.cli.{name}" for name in others) if m in modules] == []


def test_validate_without_slack_set_up_does_not_load_slack_sdk(tmp_path):
    """A command that sends nothing to Slack (none set up: its alerts wait in the outbox) does not import
    slack-sdk and its HTTP stack (``services.runtime.slack_sender``); with a webhook set, it does."""
    root = Path(__file__).resolve().parents[2]
    argv = ("validate", "--contract", str(root / "config" / "contracts" / "acme-leads.yaml"),
            "--delivery", str(root / "examples" / "acme-leads-2027-03-01.csv"), "--delivered-on", "2027-03-01",
            "--crm", str(root / "examples" / "crm-export.csv"), "--out", str(tmp_path / "result.csv"))

    def settings(name: str) -> dict[str, str]:
        return {"LEADGOV_DATABASE_URL": f"sqlite:///{tmp_path / name}", "LEADGOV_DATA_DIR": str(tmp_path / "data"),
                "LEADGOV_OUTPUT_DIR": str(tmp_path / "out"), "LEADGOV_ALLOW_DEV_KEY": "1"}

    without = imported_by(*argv, settings=settings("without.db"))
    assert "leadgov.services.deliveries" in without and (tmp_path / "result.csv").exists()
    assert heavy_among(without) and not [m for m in without if m.split(".")[0] == "slack_sdk"]
    webhook = settings("with.db") | {"LEADGOV_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
    assert "slack_sdk" in imported_by(*argv, "--dry-run", settings=webhook)  # a dry run sends nothing


def eager_app() -> typer.Typer:
    """The same commands registered up front, as leadgov.cli did before it loaded them lazily."""
    eager = typer.Typer(help=app.info.help, no_args_is_help=True)
    for command in COMMANDS:
        module, _, attribute = command.target.partition(":")
        target = getattr(__import__(module, fromlist=[attribute]), attribute)
        if isinstance(target, typer.Typer):
            eager.add_typer(target, name=command.name)
        else:
            eager.command(command.name)(target)
    return eager


def command_paths(group, prefix=()):
    """Every path of the tree: () for the root, ("db",), ("db", "upgrade"), ..."""
    yield prefix
    for name, command in getattr(group, "commands", {}).items():
        yield from command_paths(command, (*prefix, name))


EAGER = eager_app()
PATHS = list(command_paths(get_command(EAGER)))


def test_the_commands_are_those_of_the_eager_tree():
    assert tuple(c.name for c in COMMANDS) == TOP_LEVEL
    assert tuple(get_command(EAGER).commands) == TOP_LEVEL  # Typer's own order: commands, then groups
    assert len(PATHS) > 30


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "leadgov")
def test_every_help_is_the_eager_trees(path):
    lazy = runner.invoke(app, [*path, "--help"], prog_name="leadgov", env={"COLUMNS": "100"})
    eager = runner.invoke(EAGER, [*path, "--help"], prog_name="leadgov", env={"COLUMNS": "100"})
    assert lazy.exit_code == eager.exit_code == 0, lazy.output
    assert lazy.output == eager.output
    assert "--help" in lazy.output


def test_no_arguments_show_the_help():
    result = runner.invoke(app, [], prog_name="leadgov")
    assert result.output == runner.invoke(EAGER, [], prog_name="leadgov").output
    assert all(name in result.output for name in TOP_LEVEL)


def test_a_misspelt_command_is_refused_with_a_suggestion():
    result = runner.invoke(app, ["valdate"], prog_name="leadgov")
    assert result.exit_code == 2
    assert "No such command 'valdate'. Did you mean 'validate'?" in result.output


def test_shell_completion_lists_the_commands_without_importing_them():
    code = CHILD.replace('sys.argv = ["leadgov", *sys.argv[1:]]', 'sys.argv = ["leadgov"]')
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LEADGOV_")},
           "_LEADGOV_COMPLETE": "complete_bash", "COMP_WORDS": "leadgov re", "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    listed, modules = done.stdout.rsplit("\n", 1)
    assert listed.split() == ["replacements", "report", "review"]
    imported = set(json.loads(modules))
    assert sorted(m for m in imported if m.startswith("leadgov")) == ["leadgov", "leadgov.cli", "leadgov.cli.lazy"]
    # Typer's completion converts its own parameters with pydantic (typer._adapters): not leadgov's doing.
    assert [m for m in heavy_among(imported) if not m.startswith("pydantic")] == []


#: Runs ``leadgov contract --help`` through the console script's entry point or through a CliRunner,
#: then prints how many objects the cyclic collector skips (frozen), whether it is on and its youngest
#: generation's threshold before and after.
COLLECTOR = """
import gc, sys
initial = gc.get_threshold()[0]
from leadgov.cli import app, main
if sys.argv[1] == "main":
    sys.argv = ["leadgov", "contract", "--help"]
    try:
        main()
    except SystemExit:
        pass
else:
    from typer.testing import CliRunner
    CliRunner().invoke(app, ["contract", "--help"])
sys.stdout.write("\\n%d %s %d %d" % (gc.get_freeze_count(), gc.isenabled(), initial, gc.get_threshold()[0]))
"""


def collector_after(door: str) -> tuple[int, bool, bool]:
    """(frozen objects, collector on, young threshold changed) after ``door`` ran ``leadgov contract --help``;
    a changed threshold must be ``COMMAND_GC_THRESHOLD``."""
    done = subprocess.run([sys.executable, "-c", COLLECTOR, door], capture_output=True, text=True, check=True)
    frozen, enabled, initial, threshold = done.stdout.rsplit("\n", 1)[1].split()
    assert threshold in (initial, str(COMMAND_GC_THRESHOLD))
    return int(frozen), enabled == "True", threshold != initial


def test_the_console_script_keeps_a_commands_imports_out_of_the_collector():
    frozen, enabled, raised = collector_after("main")
    assert frozen > 50_000  # the objects the deliveries module's imports created (SQLAlchemy, pandas...)
    assert enabled
    assert raised  # the young generation collected less often


def test_a_process_calling_into_the_cli_keeps_its_collector_untouched():
    assert collector_after("runner") == (0, True, False)
