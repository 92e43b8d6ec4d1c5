"""Benchmark: every figure of issue 15's table, each case run as a child process, in one JSON line.

    .venv/bin/python benchmarks/table.py [--quick] [--skip CASE ...] [--runs 5] [--stored N]

The cases, run one after the other by this interpreter (their own output goes to stderr as they run):

==============  ==========================================================  ==============================
case            what runs                                                   figures (target)
==============  ==========================================================  ==============================
``help``        ``cli.py``: ``leadgov --help``, a whole process             ``help_s`` (<= 0.4 s)
``small``       ``validate.py --small``: ``leadgov validate`` of 2,000      ``small_validate_s`` (<= 1.2 s)
                leads against 1,000,000 stored, a whole process
``rows_100k``   ``validate.py --rows 100000`` (SQLite)                      ``rows_100k_s`` (<= 2.5 s)
``rows_1m``     ``validate.py --rows 1000000`` (SQLite)                     ``rows_1m_s`` (<= 20 s),
                                                                            ``rows_1m_peak_rss_mb`` (<= 1536)
``pg_1m``       ``validate.py --rows 1000000 --engine postgresql``          ``pg_1m_s`` (<= 30 s)
``alerts``      ``alerts.py`` (20 suppliers x 52 weeks)                     ``alerts_after_delivery_s``
                                                                            (<= 0.2 s),
                                                                            ``alerts_trend_statements`` (1)
``review``      ``review.py`` (20 suppliers x 13 weeks, HTML + PDF)         ``review_total_s`` (<= 10 s)
==============  ==========================================================  ==============================

``--quick`` (a few minutes instead of most of an hour): ``rows_1m`` is not run (``rows_100k`` stands in),
``pg_1m`` runs at 100,000 rows (``--quick-rows``, which sets ``rows_100k``'s too) and ``small`` against
20,000 stored leads (``--stored`` to choose). A figure
measured at a reduced size is reported, under its usual key, with its size in ``sizes`` and its case in
``scaled``; its ``met`` is null, since the target is for the full size.

``help`` and ``small`` run ``leadgov`` from an analyst's install (``benchmarks/cli.py``: without the
development tools, its bytecode compiled; made on first use), or with ``--dev-venv`` from the development
.venv (``install`` in the JSON line says which).

The JSON line: every figure, ``targets`` (the issue's bounds, seconds and MB = MiB), ``met`` (figure <= its
target; null when not measured at full size), ``all_met`` (true when every figure was measured at full size
and met, false when one measured at full size missed, null otherwise), ``sizes``, ``scaled``, ``skipped``,
``errors`` (cases that failed: their exit code), ``cases_s`` (each case's duration, set-up included), the
load average before and after, and the commit measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent

CASES = ("help", "small", "rows_100k", "rows_1m", "pg_1m", "alerts", "review")
#: The issue's bound on each figure (seconds; MB are MiB, as the benchmarks' ``peak_rss_mb``).
TARGETS: dict[str, float] = {
    "help_s": 0.4,
    "small_validate_s": 1.2,
    "rows_100k_s": 2.5,
    "rows_1m_s": 20.0,
    "rows_1m_peak_rss_mb": 1536.0,
    "pg_1m_s": 30.0,
    "alerts_after_delivery_s": 0.2,
    "alerts_trend_statements": 1,
    "review_total_s": 10.0,
}
#: Which case measures each target figure.
CASE_OF = {"help_s": "help", "small_validate_s": "small", "rows_100k_s": "rows_100k", "rows_1m_s": "rows_1m",
           "rows_1m_peak_rss_mb": "rows_1m", "pg_1m_s": "pg_1m", "alerts_after_delivery_s": "alerts",
           "alerts_trend_statements": "alerts", "review_total_s": "review"}
FULL_ROWS = 1_000_000
QUICK_ROWS = 100_000
FULL_STORED = 1_000_000
QUICK_STORED = 20_000


def plan(args: argparse.Namespace) -> tuple[dict[str, list[str]], dict[str, dict[str, int]], list[str]]:
    """The command of each case to run, the sizes it runs at, and the cases run below their table size."""
    stored = args.stored if args.stored is not None else (QUICK_STORED if args.quick else FULL_STORED)
    rows_100k = args.quick_rows if args.quick else QUICK_ROWS
    pg_rows = args.quick_rows if args.quick else FULL_ROWS
    install = ["--dev-venv"] if args.dev_venv else []  # the help and small cases' leadgov (benchmarks/cli.py)
    script = {name: [sys.executable, str(BENCHMARKS / f"{name}.py")]
              for name in ("cli", "validate", "alerts", "review")}
    commands = {
        "help": [*script["cli"], "--runs", str(args.runs), *install],
        "small": [*script["validate"], "--small", "--stored", str(stored), "--runs", str(args.runs), *install],
        "rows_100k": [*script["validate"], "--rows", str(rows_100k)],
        "rows_1m": [*script["validate"], "--rows", str(FULL_ROWS)],
        "pg_1m": [*script["validate"], "--rows", str(pg_rows), "--engine", "postgresql", "--pg-server", args.pg_server],
        "alerts": script["alerts"],
        "review": script["review"],
    }
    sizes = {"small": {"rows": 2000, "stored": stored}, "rows_100k": {"rows": rows_100k},
             "rows_1m": {"rows": FULL_ROWS}, "pg_1m": {"rows": pg_rows}}
    scaled = [case for case, reduced in (("small", stored < FULL_STORED), ("rows_100k", rows_100k < QUICK_ROWS),
                                         ("pg_1m", pg_rows < FULL_ROWS)) if reduced]
    skipped = set(args.skip) | ({"rows_1m"} if args.quick else set())
    return {case: command for case, command in commands.items() if case not in skipped}, sizes, scaled


def run_case(command: list[str]) -> tuple[int, dict | None]:
    """Run one benchmark, its output echoed to stderr; its exit code and its last JSON line."""
    last = None
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its progress as it goes
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stderr.write(line)
            sys.stderr.flush()
            if line.startswith("{"):
                last = line
    try:
        figures = json.loads(last) if last else None
    except json.JSONDecodeError:
        figures = None
    return child.returncode, figures


def figures_of(case: str, out: dict) -> dict[str, object]:
    """The table's figures from a case's JSON line."""
    if case == "help":
        return {"help_s": out["help_s"], "help_cpu_s": out["help_cpu_s"]}
    if case == "small":
        return {"small_validate_s": out["validate_process_s"], "small_validate_cpu_s": out["validate_process_cpu_s"],
                "small_stored": out["stored"], "small_ok": out["ok"]}
    if case in ("rows_100k", "rows_1m", "pg_1m"):
        return {f"{case}_s": out["total_s"], f"{case}_cpu_s": out["cpu_s"], f"{case}_peak_rss_mb": out["peak_rss_mb"],
                f"{case}_ok": out["ok"]}
    if case == "alerts":
        return {"alerts_after_delivery_s": out["after_delivery_s"], "alerts_trend_statements": out["trend_statements"],
                "alerts_trend_query_s": out["trend_query_s"],
                "alerts_after_delivery_statements": out["after_delivery_statements"]}
    if case == "review":
        return {"review_total_s": out["total_s"], "review_build_s": out["build_s"],
                "review_html_pdf_s": out["html_pdf_s"]}
    raise ValueError(case)


def judged(figures: dict[str, object], scaled: list[str]) -> tuple[dict[str, bool | None], bool | None]:
    """``met`` of each target (null: not measured, or measured at a reduced size) and ``all_met``."""
    met: dict[str, bool | None] = {}
    for key, bound in TARGETS.items():
        value = figures.get(key)
        met[key] = None if value is None or CASE_OF[key] in scaled else float(value) <= bound
    if any(value is False for value in met.values()):
        return met, False
    return met, (True if all(value is True for value in met.values()) else None)


def commit() -> str | None:
    """The commit measured (``+dirty`` when the work tree differs from it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"no rows_1m, pg_1m at {QUICK_ROWS:,} rows, small against {QUICK_STORED:,} stored leads")
    parser.add_argument("--quick-rows", type=int, default=QUICK_ROWS,
                        help=f"--quick: rows of the rows_100k and pg_1m cases (default {QUICK_ROWS:,})")
    parser.add_argument("--skip", action="append", default=[], choices=CASES, metavar="CASE",
                        help=f"do not run this case (repeatable): {', '.join(CASES)}")
    parser.add_argument("--runs", type=int, default=5, help="runs of the help and small cases (default 5; median)")
    parser.add_argument("--stored", type=int, default=None,
                        help=f"stored leads of the small case (default {FULL_STORED:,}; --quick {QUICK_STORED:,})")
    parser.add_argument("--pg-server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server pg_1m creates its database on")
    parser.add_argument("--dev-venv", action="store_true",
                        help="help and small: run the development .venv's leadgov instead of an analyst's install")
    args = parser.parse_args(argv)

    commands, sizes, scaled = plan(args)
    figures: dict[str, object] = {}
    errors: dict[str, str] = {}
    durations: dict[str, float] = {}
    load_before = os.getloadavg()[0]
    for case, command in commands.items():
        print(f"== {case}: {' '.join(Path(part).name if part.startswith('/') else part for part in command)}",
              file=sys.stderr, flush=True)
        start = time.perf_counter()
        code, out = run_case(command)
        durations[case] = round(time.perf_counter() - start, 1)
        if out is None:
            errors[case] = f"exit code {code}, no JSON line"
            continue
        if code != 0:
            errors[case] = f"exit code {code}"
        try:
            figures.update(figures_of(case, out))
        except KeyError as missing:
            errors[case] = f"no {missing} in its JSON line"
    figures = {**{key: figures.get(key) for key in TARGETS}, **figures}  # the same keys first, whatever ran
    met, all_met = judged(figures, scaled)
    summary = {
        **figures, "targets": TARGETS, "met": met, "all_met": all_met, "quick": args.quick,
        "sizes": {case: size for case, size in sizes.items() if case in commands},
        "scaled": [case for case in scaled if case in commands],
        "skipped": [case for case in CASES if case not in commands], "errors": errors, "cases_s": durations,
        "load_avg_before": round(load_before, 2), "load_avg_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(), "commit": commit(), "install": "dev" if args.dev_venv else "analyst",
    }
    print(json.dumps(summary))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
