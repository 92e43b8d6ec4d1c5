"""Benchmark: the wall time of the ``leadgov`` command itself, as an analyst runs it.

    .venv/bin/python benchmarks/cli.py [--runs 5] [--rows 120] [--leadgov PATH | --dev-venv]

Two cases, each the wall time of a whole process (interpreter start, imports, work, exit), median of
``--runs`` runs:

- ``leadgov --help``;
- ``leadgov validate`` of a small weekly file (``--rows`` leads from ``leadgov.tools.synthetic``,
  about 10 % defective, for the contract ``config/contracts/acme-leads.yaml`` with the example CRM
  export), stored into a SQLite database already at the current schema: each run gets its own copy
  of a database migrated once during the setup, so every run stores the delivery anew.

``leadgov`` is the console script of an analyst's install of this checkout (``analyst_install``: a venv
of its own under ``benchmarks/.work``, without the development tools, its bytecode compiled), made on
the first run; ``--dev-venv`` runs the development .venv's instead.

The setup (file, migrated database, the analyst's install) is not timed. The children run in a temporary folder (no
``.env`` of the current folder is read) without the caller's ``LEADGOV_*`` variables (no Slack: alerts
stay in the outbox, nothing leaves the machine). The output ends with one JSON line:

    {"help_s": ..., "validate_s": ..., "help_cpu_s": ..., "validate_cpu_s": ..., "runs": 5, "rows": 120,
     "help_runs_s": [...], "validate_runs_s": [...], "load_avg": ...}

``*_s`` are wall times, ``*_cpu_s`` the CPU time (user + system) of the same processes: compare those when
other processes compete for the CPUs (``load_avg``, the one-minute load average at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

CONTRACT_PATH = ROOT / "config" / "contracts" / "acme-leads.yaml"
CRM_EXPORT = ROOT / "examples" / "crm-export.csv"
#: The delivery date: fixed, so that every run validates the same file the same way.
DELIVERY_DAY = date(2027, 3, 10)


#: Where the process benchmarks install leadgov as an analyst has it (``analyst_install``); not committed.
ANALYST_VENV = ROOT / "benchmarks" / ".work" / "analyst-venv"


def analyst_install() -> Path:
    """The ``leadgov`` console script of an analyst's install of this checkout: leadgov and its runtime
    dependencies in a venv of their own, without the development tools ``./run test`` adds to .venv
    (pandera imports hypothesis, a test tool, whenever it finds it installed: 0.07 s of a weekly file).
    Installed on first use (editable, so it runs this checkout's code) and again when pyproject.toml
    changes. Its modules are compiled to bytecode as an install's are (pip compiles what it installs);
    leadgov's own are compiled here, each time, as the checkout changes: a run would otherwise compile
    them all from source when PYTHONDONTWRITEBYTECODE is set, as it is on the machines measured here
    (0.09 s)."""
    run = runpy.run_path(str(ROOT / "run"), run_name="leadgov_run")  # the README's install, no test tools
    with contextlib.redirect_stdout(sys.stderr):  # its progress lines: stdout ends with the JSON line
        bin_dir = run["install"](ANALYST_VENV, extras="")
    python = ANALYST_VENV / run["PYTHON"].relative_to(run["VENV"])
    subprocess.run([str(python), "-m", "compileall", "-q", str(ROOT / "leadgov")], check=True)
    return bin_dir / "leadgov"


def leadgov_command(explicit: str | None, *, dev_venv: bool = False) -> list[str]:
    """The ``leadgov`` a process benchmark runs: ``explicit`` if given, else an analyst's install
    (``analyst_install``), or with ``dev_venv`` the console script next to this interpreter (the
    development .venv, its test tools included)."""
    if explicit:
        return [explicit]
    if not dev_venv:
        return [str(analyst_install())]
    script = Path(sys.executable).with_name("leadgov")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from leadgov.cli import main; main()"]


def child_environment(work: Path) -> dict[str, str]:
    """The caller's environment without its leadgov settings; data and output under ``work``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGOV_")}
    env["LEADGOV_DATA_DIR"] = str(work / "data")
    env["LEADGOV_OUTPUT_DIR"] = str(work / "out")
    return env


def write_delivery(path: Path, rows: int, seed: int) -> None:
    """A weekly file as the contract's supplier sends it (its headers, ``;``)."""
    from leadgov.config.contract import load_contract  # noqa: PLC0415
    from leadgov.tools import synthetic  # noqa: PLC0415

    contract = load_contract(CONTRACT_PATH)
    frame = synthetic.generate_leads(rows, seed=seed, collected_before=DELIVERY_DAY)
    path.write_bytes(synthetic.to_delivery_csv(frame, contract.contract.delivery.columns, delimiter=";"))


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """The wall time and the CPU time (user + system) of one process; its failure stops the benchmark
    with its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median(runs: list[tuple[float, float]], which: int) -> float:
    return round(statistics.median(run[which] for run in runs), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each case (default 5; the median is kept)")
    parser.add_argument("--rows", type=int, default=120, help="leads in the weekly file (default 120)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--leadgov", help="the leadgov executable (default: an analyst's install, see --dev-venv)")
    parser.add_argument("--dev-venv", action="store_true",
                        help="run the leadgov next to this Python (the development .venv, test tools included) "
                             f"instead of an analyst's install ({ANALYST_VENV.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    leadgov = leadgov_command(args.leadgov, dev_venv=args.dev_venv)
    work = Path(tempfile.mkdtemp(prefix="leadgov-bench-cli-"))
    env = child_environment(work)
    try:
        delivery, template = work / "delivery.csv", work / "template.db"
        write_delivery(delivery, args.rows, args.seed)
        timed([*leadgov, "db", "upgrade", "--db", f"sqlite:///{template}"], work, env)

        help_runs = [timed([*leadgov, "--help"], work, env) for _ in range(args.runs)]
        validate_runs = []
        for run in range(args.runs):
            db = work / f"run-{run}.db"
            shutil.copyfile(template, db)
            validate_runs.append(timed([
                *leadgov, "validate", "--contract", str(CONTRACT_PATH), "--delivery", str(delivery),
                "--delivered-on", DELIVERY_DAY.isoformat(), "--crm", str(CRM_EXPORT),
                "--out", str(work / f"result-{run}.csv"), "--db", f"sqlite:///{db}",
            ], work, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        "help_s": _median(help_runs, 0), "validate_s": _median(validate_runs, 0),
        "help_cpu_s": _median(help_runs, 1), "validate_cpu_s": _median(validate_runs, 1),
        "runs": args.runs, "rows": args.rows,
        "help_runs_s": [round(wall, 3) for wall, _ in help_runs],
        "validate_runs_s": [round(wall, 3) for wall, _ in validate_runs],
        "load_avg": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
