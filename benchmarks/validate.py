"""Benchmark: validate and store one large delivery against a database of earlier leads.

    .venv/bin/python benchmarks/validate.py --rows 100000 [--engine postgresql] [--db URL] [--keep]
    .venv/bin/python benchmarks/validate.py --small [--stored 1000000] [--runs 5] [--engine postgresql]

What is measured is exactly what production runs for a delivery file: ``leadgov.ingest.
ingest_delivery`` (read, normalise, per-field rules, duplicate look-ups against the database,
verdicts, bulk insert of the leads and their reasons) and the commit, in one transaction.

What is NOT measured is the setup, done in a separate process so that it does not inflate this
process's peak memory either:

1. a fresh SQLite database in a temporary folder (``--engine postgresql``: a fresh PostgreSQL database;
   or ``--db URL``) is migrated to the schema;
2. it receives ``--history`` x rows earlier leads of other deliveries (three suppliers, all within
   the 180-day window), generated in SQL; a share of the delivery's people (``--known``) is
   planted among them with their real normalised email/phone and identity keys, so that
   DUPLICATE_PREVIOUS and DUPLICATE_OTHER_SUPPLIER fire as they would in production;
3. a realistic delivery (leadgov.tools.synthetic: about 10 % defective rows, 5 % duplicates, mixed
   phone formats) is written as CSV with the contract's supplier headers.

The output ends with one JSON line (engine, rows, total_s, peak_rss_mb, stages, counts).

``--engine postgresql`` without ``--db`` creates a database of its own on ``--pg-server`` (default: the
local server), named ``leadgov_bench_<pid>_<random>``, and drops it at the end unless ``--keep``.

``--small`` measures instead the analyst's case: ``leadgov validate`` of a 2,000-lead file against
``--stored`` (default 1,000,000) earlier leads, as a whole process (the installed console script, its
interpreter start and imports included), ``--runs`` times, each on its own copy of the prepared
database (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL) so that every run stores
the delivery into the same state. The console script is an analyst's install's (``benchmarks/cli.py``:
``analyst_install``, without the development tools, made on first use); ``--dev-venv`` runs the
development .venv's instead. Before the runs, the setup stores the alerts the earlier deliveries raised
(``_history_alerts``; ``--no-history-alerts`` leaves them out). Its JSON line has ``"case": "small"``, the
median wall and CPU time, ``install`` (``analyst`` or ``dev``) and ``history_alerts``; with
``--instructions``, the instructions one more run executes, counted by valgrind's callgrind.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
for folder in (ROOT, BENCHMARKS):  # run as a script from anywhere; cli.py is a sibling module
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

CONTRACT_PATH = ROOT / "config" / "contracts" / "acme-leads.yaml"
#: The delivery date: fixed, so that every run validates the same file the same way.
DELIVERY_DAY = date(2027, 3, 10)
#: Earlier leads are grouped in deliveries of this many rows.
HISTORY_ROWS_PER_DELIVERY = 1000
#: Suppliers of the earlier deliveries: the contract's own (DUPLICATE_PREVIOUS) and two others
#: (DUPLICATE_OTHER_SUPPLIER when the earlier lead was accepted).
OTHER_SUPPLIERS = ("bench-history-b", "bench-history-c")
STAGES = ("read", "normalise", "validate", "encode", "deduplicate", "store")
#: The PostgreSQL server on which ``--engine postgresql`` creates its database (trust auth on loopback).
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: ``--small``: the analyst's weekly file, against this many stored leads by default.
SMALL_ROWS = 2000
SMALL_STORED = 1_000_000


# --------------------------------------------------------------------------------------------
# Setup (runs in a child process).
# --------------------------------------------------------------------------------------------


def _setup(url: str, rows: int, history_leads: int, known_share: float, seed: int,
           csv_path: str, report_path: str, hmac_key: str | None = None, history_alerts: bool = False) -> None:
    """Migrate, generate the delivery, plant ``history_leads`` earlier leads; write what the parent
    needs to files. ``hmac_key``: the identity key the measured code will use (default: the settings').
    ``history_alerts``: then store the alerts the earlier deliveries raised (``_history_alerts``)."""
    import numpy as np  # noqa: PLC0415

    from leadgov.config.contract import load_contract  # noqa: PLC0415
    from leadgov.config.settings import Settings  # noqa: PLC0415
    from leadgov.models.migrate import upgrade  # noqa: PLC0415
    from leadgov.tools import synthetic  # noqa: PLC0415

    timings: dict[str, float] = {}
    start = time.perf_counter()
    upgrade(url)
    timings["migrate"] = time.perf_counter() - start

    start = time.perf_counter()
    contract = load_contract(CONTRACT_PATH)
    frame = synthetic.generate_leads(rows, seed=seed, collected_before=DELIVERY_DAY)
    timings["generate"] = time.perf_counter() - start
    start = time.perf_counter()
    data = synthetic.to_delivery_csv(frame, contract.contract.delivery.columns, delimiter=";")
    Path(csv_path).write_bytes(data)
    timings["write_csv"] = time.perf_counter() - start

    # People of this delivery that earlier deliveries already held: a random share of the rows
    # whose email and phone are valid; a third keep only the email, a third only the phone.
    rng = np.random.default_rng(seed + 1)
    identities = synthetic.normalised_identities(frame)
    candidates = np.flatnonzero((identities["email"].notna() & identities["phone"].notna()).to_numpy())
    count = min(len(candidates), int(round(known_share * rows)))
    known = identities.iloc[np.sort(rng.choice(candidates, size=count, replace=False))].reset_index(drop=True)
    which = rng.integers(0, 3, size=count)
    known.loc[which == 1, "phone"] = np.nan
    known.loc[which == 2, "email"] = np.nan
    del frame, identities

    start = time.perf_counter()
    if hmac_key is None:
        hmac_key = Settings(database_url=url).hmac_key.get_secret_value()
    planted = synthetic.identity_rows(count, seed=seed + 2, hmac_key=hmac_key, known=known)
    planted["status"] = np.where(rng.random(count) < 0.85, "accepted", "rejected")
    history = _populate(url, contract, history_leads, planted)
    timings["history"] = time.perf_counter() - start
    if history_alerts:
        start = time.perf_counter()
        history["alerts"] = _history_alerts(url, contract)
        timings["history_alerts"] = time.perf_counter() - start
    if not url.startswith("sqlite"):
        start = time.perf_counter()
        _vacuum_analyze(url)
        timings["vacuum_analyze"] = time.perf_counter() - start
    Path(report_path).write_text(json.dumps({"timings": timings, "history": history,
                                             "csv_bytes": len(data)}))


def _populate(url: str, contract, total: int, planted) -> dict[str, int]:
    """Insert ``total`` earlier leads (random identity keys) plus the ``planted`` ones.

    Deliveries are written from Python (a few thousand rows); leads are generated by the
    database itself (one INSERT ... SELECT over deliveries x row numbers), which is several
    times faster than sending ten million rows through the driver. On an empty lead table the
    secondary indexes are dropped during the load and rebuilt after: sorting once beats ten
    million random B-tree inserts.
    """
    from sqlalchemy import text  # noqa: PLC0415

    from leadgov.models.db import get_engine  # noqa: PLC0415
    from leadgov.models.delivery import Lead  # noqa: PLC0415
    from leadgov.models.identity_store import rebuild_runs  # noqa: PLC0415

    engine = get_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    supplier = contract.contract.supplier
    suppliers = (supplier.id, *OTHER_SUPPLIERS)
    per = HISTORY_ROWS_PER_DELIVERY
    deliveries = max(1, math.ceil(total / per))
    with engine.begin() as conn:
        if sqlite:
            for pragma in ("synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
        versions = _history_suppliers(conn, suppliers, supplier.name)
        first = conn.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM delivery")).scalar_one()
        empty = conn.execute(text("SELECT COUNT(*) FROM (SELECT 1 FROM lead LIMIT 1) AS x")).scalar_one() == 0
        conn.execute(text(
            "INSERT INTO delivery (id, supplier_id, contract_version_id, file_name, file_sha256, "
            "delivered_on, received_at, encoding, delimiter, delivered_count, accepted_count, "
            "rejected_count, over_cap_count) VALUES (:id, :supplier_id, :version, :file_name, "
            ":sha, :day, :received, 'utf-8', ';', :n, :n, 0, 0)"
        ), [
            {"id": d, "supplier_id": suppliers[d % 3], "version": versions[suppliers[d % 3]],
             "file_name": f"history-{d}.csv", "sha": hashlib.sha256(f"bench-history-{d}".encode()).hexdigest(),
             "day": DELIVERY_DAY - timedelta(days=1 + (d * 37) % 180), "received": datetime(2027, 1, 1),
             "n": per}
            for d in range(first, first + deliveries)
        ])
        indexes = [i for i in Lead.__table__.indexes] if empty else []
        for index in indexes:
            index.drop(bind=conn)
        conn.execute(text(_bulk_leads_sql(sqlite)), {"first": first, "last": first + deliveries - 1, "per": per})
        _insert_planted(conn, planted, first, deliveries, per)
        if not sqlite:  # explicit ids do not advance PostgreSQL's sequence: the next delivery would clash
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('delivery', 'id'), (SELECT MAX(id) FROM delivery))"
            )
        for index in indexes:
            index.create(bind=conn)
        rebuild_runs(conn, range(first, first + deliveries))  # each delivery's sorted identity keys
    return {"deliveries": deliveries, "leads": deliveries * per + len(planted), "planted": len(planted)}


def _history_alerts(url: str, contract) -> list[str]:
    """Store the alerts the contract's supplier already had when the measured file arrives, as the
    production doors leave them: every stored delivery raised its alerts (``after_delivery``), and the
    last earlier one (which runs under the contract, registered as its deliveries would have) leaves the
    same open alerts for its week and month as the whole history would: the month's budget cap alert,
    once reached, is stored, and later deliveries of the month skip its draft statement. The earlier
    leads are written in SQL, without alerts: without this step every measured run would be the delivery
    that first crosses the month's budget cap (``--no-history-alerts`` measures that). The keys stored."""
    from sqlalchemy import select  # noqa: PLC0415

    from leadgov.alerts.evaluate import after_delivery  # noqa: PLC0415
    from leadgov.config.settings import Settings  # noqa: PLC0415
    from leadgov.ingest import register_contract  # noqa: PLC0415
    from leadgov.models.db import get_engine, session_scope  # noqa: PLC0415
    from leadgov.models.delivery import Delivery  # noqa: PLC0415

    supplier_id = contract.contract.supplier.id
    keys: list[str] = []
    with session_scope(url) as session:
        register_contract(session, contract)
        last = session.execute(select(Delivery.id, Delivery.delivered_on).where(Delivery.supplier_id == supplier_id)
                               .order_by(Delivery.delivered_on.desc(), Delivery.id.desc()).limit(1)).first()
        if last is not None:  # a small --stored can leave the supplier without an earlier delivery: no alert
            keys = after_delivery(session, last.id, Settings(database_url=url).timezone, last.delivered_on)
    get_engine(url).dispose()
    return keys


def _vacuum_analyze(url: str) -> None:
    """PostgreSQL: vacuum and analyze the loaded database now, as a database that received its leads over
    months would be, rather than let autovacuum scan ten million fresh rows while the delivery is timed
    (and plan the look-ups without statistics)."""
    from leadgov.models.db import get_engine  # noqa: PLC0415

    engine = get_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    engine.dispose()


def _history_suppliers(conn, suppliers: tuple[str, ...], contract_supplier_name: str) -> dict[str, int]:
    """Supplier rows (created if missing) and one history contract version each: {supplier: id}.

    The versions use their own contract ids, so the real contract registers without conflict.
    """
    from sqlalchemy import text  # noqa: PLC0415

    versions = {}
    now = datetime(2027, 1, 1)
    for supplier in suppliers:
        if conn.execute(text("SELECT 1 FROM supplier WHERE id = :id"), {"id": supplier}).first() is None:
            name = contract_supplier_name if supplier == suppliers[0] else f"Benchmark {supplier}"
            conn.execute(text("INSERT INTO supplier (id, name, state, created_at) VALUES (:id, :name, 'active', :now)"),
                         {"id": supplier, "name": name, "now": now})
        sha = hashlib.sha256(f"bench-history-contract-{supplier}".encode()).hexdigest()
        found = conn.execute(text("SELECT id FROM contract_version WHERE sha256 = :sha"), {"sha": sha}).first()
        if found is None:
            conn.execute(text(
                "INSERT INTO contract_version (supplier_id, contract_id, sha256, terms_sha256, content, "
                "source_path, loaded_at) VALUES (:supplier, :cid, :sha, :sha, '', 'benchmark', :now)"
            ), {"supplier": supplier, "cid": f"BENCH-HISTORY-{supplier}".upper(), "sha": sha, "now": now})
            found = conn.execute(text("SELECT id FROM contract_version WHERE sha256 = :sha"), {"sha": sha}).first()
        versions[supplier] = found[0]
    return versions


def _bulk_leads_sql(sqlite: bool) -> str:
    """Leads of the history deliveries [first, last], ``per`` rows each, with random keys.

    85 % accepted. Keys are the database's random 64-bit integers: they match nobody (the
    chance that one equals a key of the delivery is about rows^2 x 10 / 2^64).
    """
    columns = "delivery_id, supplier_id, row_number, delivered_on, status, email_key, phone_key"
    if sqlite:
        return (
            "WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r WHERE k < :per) "
            f"INSERT INTO lead ({columns}) "
            "SELECT d.id, d.supplier_id, r.k, d.delivered_on, "
            "CASE WHEN abs(random() % 100) < 85 THEN 'accepted' ELSE 'rejected' END, random(), random() "
            "FROM delivery AS d CROSS JOIN r WHERE d.id BETWEEN :first AND :last ORDER BY d.id, r.k"
        )
    return (
        f"INSERT INTO lead ({columns}) "
        "SELECT d.id, d.supplier_id, r.k, d.delivered_on, "
        "CASE WHEN random() < 0.85 THEN 'accepted' ELSE 'rejected' END, "
        "(random() * 1.8e19 - 9.0e18)::bigint, (random() * 1.8e19 - 9.0e18)::bigint "
        "FROM delivery AS d CROSS JOIN generate_series(1, :per) AS r(k) "
        "WHERE d.id BETWEEN :first AND :last ORDER BY d.id, r.k"
    )


def _insert_planted(conn, planted, first: int, deliveries: int, per: int) -> None:
    """The planted people, spread over the history deliveries after their random rows."""
    from sqlalchemy import text  # noqa: PLC0415

    if planted.empty:
        return
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE bench_planted (j INTEGER, status VARCHAR(10), email TEXT, phone TEXT, "
        "email_key BIGINT, phone_key BIGINT)"
    )
    rows = [
        {"j": j, "status": status, "email": _none(email), "phone": _none(phone),
         "email_key": _none(ek), "phone_key": _none(pk)}
        for j, (status, email, phone, ek, pk) in enumerate(zip(
            planted["status"], planted["email"], planted["phone"], planted["email_key"], planted["phone_key"],
            strict=True))
    ]
    conn.execute(text("INSERT INTO bench_planted VALUES (:j, :status, :email, :phone, :email_key, :phone_key)"), rows)
    conn.execute(text(
        "INSERT INTO lead (delivery_id, supplier_id, row_number, delivered_on, status, email_key, phone_key, "
        "email, phone) "
        "SELECT d.id, d.supplier_id, :per + 1 + p.j / :deliveries, d.delivered_on, p.status, p.email_key, "
        "p.phone_key, p.email, p.phone FROM bench_planted AS p JOIN delivery AS d ON d.id = :first + p.j % :deliveries"
    ), {"per": per, "deliveries": deliveries, "first": first})
    conn.exec_driver_sql("DROP TABLE bench_planted")


def _none(value):
    """None for pandas' missing values (NaN, NA), the Python value otherwise."""
    import pandas as pd  # noqa: PLC0415

    return None if pd.isna(value) else (int(value) if hasattr(value, "__index__") else value)


# --------------------------------------------------------------------------------------------
# Measurement (this process).
# --------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB, macOS in bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    try:
        import psutil  # noqa: PLC0415
    except ImportError:
        return float("nan")
    return psutil.Process().memory_info().rss / (1024 * 1024)


def _record_stage_peaks() -> dict[str, float]:
    """Have ``leadgov.ingest.timed`` also note the process's peak RSS at the end of each stage,
    so the report says which stage set the peak."""
    import contextlib  # noqa: PLC0415

    from leadgov import ingest  # noqa: PLC0415

    peaks: dict[str, float] = {}
    original = ingest.timed

    @contextlib.contextmanager
    def timed(timings, stage):
        with original(timings, stage):
            yield
        peaks[stage] = peak_rss_mb()

    ingest.timed = timed
    return peaks


def bench_contract(company_cap: int | None):
    """The shipped contract, or a variant with ``volumes.max_leads_per_company`` (COMPANY_CAP's look-up
    and in-delivery count run only when a contract sets it)."""
    import yaml  # noqa: PLC0415

    from leadgov.config.contract import load_contract, parse_contract  # noqa: PLC0415

    if company_cap is None:
        return load_contract(CONTRACT_PATH)
    data = yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))
    data["volumes"]["max_leads_per_company"] = company_cap
    return parse_contract(yaml.safe_dump(data, allow_unicode=True), f"acme-leads+company-cap-{company_cap}.yaml")


def measure(url: str, csv_path: Path, rows: int, company_cap: int | None = None) -> dict:
    """Run the real ingestion once and return its figures."""
    from sqlalchemy import text  # noqa: PLC0415

    from leadgov.config.settings import Settings  # noqa: PLC0415
    from leadgov.ingest import DeliveryFile, ingest_delivery  # noqa: PLC0415
    from leadgov.models.db import session_scope  # noqa: PLC0415

    contract_file = bench_contract(company_cap)
    settings = Settings(database_url=url)
    data = csv_path.read_bytes()
    file = DeliveryFile(data=data, file_name="bench.csv", delivered_on=DELIVERY_DAY,
                        sha256=hashlib.sha256(data).hexdigest())
    del data
    gc.collect()
    before_mb = current_rss_mb()

    timings: dict[str, float] = {}
    peaks = _record_stage_peaks()
    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    with session_scope(url) as session:
        outcome = ingest_delivery(session, file, contract_file, settings, timings=timings)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start

    if outcome.already_ingested:
        raise SystemExit("this delivery is already stored in the database: use a fresh --db")
    with session_scope(url) as session:
        stored = session.execute(text("SELECT COUNT(*) FROM lead WHERE delivery_id = :d"),
                                 {"d": outcome.delivery_id}).scalar_one()
    return {
        "total_s": total, "cpu_s": cpu, "load": max(load_before, os.getloadavg()[0]),
        "timings": timings, "before_mb": before_mb, "peak_mb": peak_rss_mb(), "stage_peaks_mb": peaks,
        "counts": outcome.result.counts(), "reasons": outcome.result.reason_counts(), "stored": stored,
    }


def report(rows: int, setup: dict, result: dict) -> dict:
    """Print the human-readable figures; return the JSON summary."""
    timings = result["timings"]
    print(f"setup (not measured): {', '.join(f'{k} {v:.1f}s' for k, v in setup['timings'].items())}; "
          f"history: {setup['history']['leads']:,} earlier leads in {setup['history']['deliveries']:,} "
          f"deliveries ({setup['history']['planted']:,} of them people of this delivery); "
          f"file {setup['csv_bytes'] / 1e6:.1f} MB")
    print(f"\nvalidate + store {rows:,} leads")
    print(f"  {'stage':<12}{'seconds':>9}{'rows/s':>13}{'share':>8}")
    total = result["total_s"]
    for stage in STAGES:
        seconds = timings.get(stage, 0.0)
        print(f"  {stage:<12}{seconds:>9.2f}{_rate(rows, seconds):>13}{seconds / total:>8.0%}")
    other = total - sum(timings.get(s, 0.0) for s in STAGES)
    print(f"  {'other':<12}{other:>9.2f}{'':>13}{other / total:>8.0%}   (contract registration, look-ups, commit)")
    print(f"  {'total':<12}{total:>9.2f}{_rate(rows, total):>13}")
    print(f"  CPU time {result['cpu_s']:.2f} s (all threads); load average {result['load']:.1f} on "
          f"{os.cpu_count()} CPUs"
          f"{' - other processes compete: wall times are inflated' if result['load'] > 1.5 else ''}")
    print(f"  memory: peak RSS {result['peak_mb']:,.0f} MB (before validating: {result['before_mb']:,.0f} MB)")
    print("  peak RSS at the end of each stage: " + ", ".join(
        f"{stage} {mb:,.0f} MB" for stage, mb in result["stage_peaks_mb"].items()))

    counts, reasons = result["counts"], result["reasons"]
    print(f"\naccepted {counts['accepted']:,}, rejected {counts['rejected']:,} "
          f"({counts['rejected'] / max(rows, 1):.1%}), over weekly cap {counts['over_cap']:,}; "
          f"stored {result['stored']:,} leads")
    for code, count in reasons.items():
        print(f"  {code:<26}{count:>10,}")
    missing = [c for c in ("DUPLICATE_IN_DELIVERY", "DUPLICATE_PREVIOUS") if not reasons.get(c)]
    problems = [f"no {c} rejection" for c in missing]
    if result["stored"] != rows:
        problems.append(f"{result['stored']} leads stored instead of {rows}")
    for problem in problems:
        print(f"SANITY CHECK FAILED: {problem}")
    return {
        "rows": rows, "total_s": round(total, 3), "peak_rss_mb": round(result["peak_mb"], 1),
        "cpu_s": round(result["cpu_s"], 3), "load_avg": round(result["load"], 2),
        "stages": {s: round(timings.get(s, 0.0), 3) for s in STAGES},
        "accepted": counts["accepted"], "rejected": counts["rejected"], "reasons": reasons,
        "ok": not problems,
    }


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


# --------------------------------------------------------------------------------------------
# The benchmark's databases.
# --------------------------------------------------------------------------------------------


def engine_of(url: str) -> str:
    """``sqlite`` or ``postgresql``: the engine a database URL names."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def shown(url: str) -> str:
    """A URL fit to print (no password)."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    return make_url(url).render_as_string(hide_password=True)


class PostgresServer:
    """Create, copy and drop the benchmark's databases on one PostgreSQL server."""

    def __init__(self, server_url: str) -> None:
        from sqlalchemy import create_engine  # noqa: PLC0415
        from sqlalchemy.engine import make_url  # noqa: PLC0415
        from sqlalchemy.pool import NullPool  # noqa: PLC0415

        from leadgov.models.db import normalise_url  # noqa: PLC0415

        self.url = make_url(normalise_url(server_url))
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _quote(self, name: str) -> str:
        return self.admin.dialect.identifier_preparer.quote_identifier(name)

    def create(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template``, which nobody may be connected to): its URL."""
        sql = f"CREATE DATABASE {self._quote(name)}"
        with self.admin.connect() as conn:
            if template is not None:
                sql += f" TEMPLATE {self._quote(template)}"
                if conn.dialect.server_version_info >= (15,):
                    sql += " STRATEGY FILE_COPY"  # copy the files, not each page through the WAL
            conn.exec_driver_sql(sql)
        return self.database_url(name)

    def drop(self, name: str) -> None:
        """Drop the database, closing this process's pooled connections to it first."""
        from leadgov.models.db import get_engine  # noqa: PLC0415

        get_engine(self.database_url(name)).dispose()
        with self.admin.connect() as conn:
            force = " WITH (FORCE)" if conn.dialect.server_version_info >= (13,) else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self._quote(name)}{force}")


def unique_database_name() -> str:
    return f"leadgov_bench_{os.getpid()}_{secrets.token_hex(4)}"


@contextlib.contextmanager
def bench_database(engine: str, db: str | None, server: str, work: Path, keep: bool) -> Iterator[str]:
    """The URL of the database to set up: ``db``; else a SQLite file in ``work`` (removed with it); else a
    new PostgreSQL database on ``server``, dropped on the way out unless ``keep``."""
    if db:
        yield db
        return
    if engine == "sqlite":
        yield f"sqlite:///{(work / 'bench.db').as_posix()}"
        return
    postgres = PostgresServer(server)
    name = unique_database_name()
    url = postgres.create(name)
    try:
        yield url
    finally:
        if keep:
            print(f"kept the database {shown(url)}")
        else:
            postgres.drop(name)


def checkpointed_sqlite(url: str) -> Path:
    """The SQLite file of ``url`` with every page in it (its WAL checkpointed and emptied), so that copying
    that one file copies the whole database."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    path = Path(str(make_url(url).database))
    with contextlib.closing(sqlite3.connect(path)) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    wal = path.with_name(path.name + "-wal")
    if busy or (wal.exists() and wal.stat().st_size):
        raise SystemExit(f"{path} kept pages in its WAL: a copy of the file would lose them")
    return path


def database_copier(url: str, server: str, work: Path) -> Callable[[int], tuple[str, Callable[[], None]]]:
    """A function giving, for run ``n``, the URL of a fresh copy of the prepared database at ``url`` and the
    function that removes that copy."""
    if engine_of(url) == "sqlite":
        template = checkpointed_sqlite(url)

        def sqlite_copy(n: int) -> tuple[str, Callable[[], None]]:
            path = work / f"run-{n}.db"
            files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
            for file in files:  # a stale WAL next to the copy would be replayed into it
                file.unlink(missing_ok=True)
            shutil.copyfile(template, path)

            def remove() -> None:
                for file in files:
                    file.unlink(missing_ok=True)

            return f"sqlite:///{path.as_posix()}", remove

        return sqlite_copy
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    from leadgov.models.db import get_engine  # noqa: PLC0415

    get_engine(url).dispose()  # CREATE DATABASE ... TEMPLATE wants nobody connected to the template
    postgres = PostgresServer(server)
    template_name = str(make_url(url).database)

    def postgres_copy(n: int) -> tuple[str, Callable[[], None]]:
        name = f"{template_name}_r{n}"
        postgres.drop(name)
        return postgres.create(name, template=template_name), lambda: postgres.drop(name)

    return postgres_copy


# --------------------------------------------------------------------------------------------
# --small: a whole ``leadgov validate`` process.
# --------------------------------------------------------------------------------------------


def run_process(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall time, CPU time (user + system) and peak RSS in MB of one process, and its standard output; its
    failure stops the benchmark with its output."""
    out_path, err_path = cwd / "child.out", cwd / "child.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}:\n{stdout}\n"
                         f"{err_path.read_text(errors='replace')}")
    rss = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return elapsed, usage.ru_utime + usage.ru_stime, rss, stdout


def counted_instructions(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """The instructions one run of ``command`` executes, counted by valgrind's callgrind: the same count
    whatever else the machine is doing, where wall and CPU times move with it (a run takes about 50 times
    its usual time)."""
    profile = cwd / "callgrind.out"
    done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}", *command],
                          cwd=cwd, env=env, capture_output=True, text=True)
    profile.unlink(missing_ok=True)
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or collected is None:
        raise SystemExit(f"valgrind {' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return int(collected.group(1))


def measure_small(url: str, csv_path: Path, rows: int, runs: int, server: str, work: Path, *,
                  dev_venv: bool = False, instructions: bool = False) -> dict:
    """``leadgov validate`` of the delivery as a whole process, ``runs`` times, each on its own copy of
    the prepared database; the figures of each run. ``instructions``: then one more run, on a copy of its
    own, under callgrind (``counted_instructions``)."""
    from cli import CRM_EXPORT, child_environment, leadgov_command  # noqa: PLC0415 - benchmarks/cli.py

    leadgov = leadgov_command(None, dev_venv=dev_venv)
    env = child_environment(work)
    env["LEADGOV_ALLOW_DEV_KEY"] = "1"  # the development key on a PostgreSQL database of synthetic leads
    copy = database_copier(url, server, work)
    figures: dict = {"wall": [], "cpu": [], "rss": [], "summary": [], "load": os.getloadavg()[0],
                     "instructions": None}

    def command(run: int) -> list[str]:
        return [*leadgov, "validate", "--contract", str(CONTRACT_PATH), "--delivery", str(csv_path),
                "--delivered-on", DELIVERY_DAY.isoformat(), "--crm", str(CRM_EXPORT),
                "--out", str(work / f"result-{run}.csv"), "--format", "json"]

    for run in range(runs):
        run_url, remove = copy(run)
        try:
            if hasattr(os, "sync"):
                os.sync()  # the copy's pages must reach the disk now, not while the process is timed
            env["LEADGOV_DATABASE_URL"] = run_url
            wall, cpu, rss, stdout = run_process(command(run), work, env)
        finally:
            remove()
        figures["load"] = max(figures["load"], os.getloadavg()[0])
        figures["wall"].append(wall)
        figures["cpu"].append(cpu)
        figures["rss"].append(rss)
        figures["summary"].append(json.loads(stdout))
        print(f"  run {run + 1}: {wall:.3f} s wall, {cpu:.3f} s CPU, peak RSS {rss:,.0f} MB", flush=True)
    if instructions:
        run_url, remove = copy(runs)
        try:
            env["LEADGOV_DATABASE_URL"] = run_url
            figures["instructions"] = counted_instructions(command(runs), work, env)
        finally:
            remove()
        print(f"  one more run under callgrind: {figures['instructions']:,} instructions", flush=True)
    return figures


def report_small(engine: str, rows: int, setup: dict, figures: dict) -> dict:
    """Check each run stored the delivery; the JSON summary."""
    problems = []
    for n, summary in enumerate(figures["summary"], 1):
        if summary.get("already_ingested") or summary.get("dry_run") or summary.get("delivery_id") is None:
            problems.append(f"run {n} did not store the delivery")
        elif summary.get("delivered") != rows:
            problems.append(f"run {n} delivered {summary.get('delivered')} leads instead of {rows}")
        missing = [c for c in ("DUPLICATE_IN_DELIVERY", "DUPLICATE_PREVIOUS") if not summary.get("reasons", {}).get(c)]
        problems += [f"run {n}: no {c} rejection" for c in missing]
    for problem in problems:
        print(f"SANITY CHECK FAILED: {problem}")
    last = figures["summary"][-1]
    wall = statistics.median(figures["wall"])
    print(f"leadgov validate of {rows:,} leads against {setup['history']['leads']:,} stored ({engine}): median "
          f"{wall:.3f} s wall, {statistics.median(figures['cpu']):.3f} s CPU over {len(figures['wall'])} runs; "
          f"load average {figures['load']:.1f} on {os.cpu_count()} CPUs"
          f"{' - other processes compete: wall times are inflated' if figures['load'] > 1.5 else ''}")
    return {
        "case": "small", "engine": engine, "rows": rows, "stored": setup["history"]["leads"],
        "validate_process_s": round(wall, 3),
        "validate_process_cpu_s": round(statistics.median(figures["cpu"]), 3),
        "validate_process_peak_rss_mb": round(max(figures["rss"]), 1),
        "runs": len(figures["wall"]), "runs_s": [round(w, 3) for w in figures["wall"]],
        "cpu_runs_s": [round(c, 3) for c in figures["cpu"]],
        "setup_s": round(sum(setup["timings"].values()), 1), "load_avg": round(figures["load"], 2),
        "accepted": last.get("accepted"), "rejected": last.get("rejected"), "reasons": last.get("reasons", {}),
        "instructions": figures["instructions"], "ok": not problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help=f"leads in the delivery (required; --small: {SMALL_ROWS})")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"),
                        help="sqlite (default: a fresh file in a temporary folder) or postgresql (a fresh database "
                             "on --pg-server, dropped at the end unless --keep); implied by --db")
    parser.add_argument("--db", help="database URL to set up and measure in (default: a fresh one, see --engine)")
    parser.add_argument("--pg-server", default=PG_SERVER,
                        help=f"the PostgreSQL server --engine postgresql creates its database on (default {PG_SERVER})")
    parser.add_argument("--history", type=int, default=None, help="earlier leads per delivered lead (default 10)")
    parser.add_argument("--known", type=float, default=0.05,
                        help="share of the delivery's people already among the earlier leads (default 0.05)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--company-cap", type=int, default=None,
                        help="validate under the contract with volumes.max_leads_per_company set to this (default: "
                             "the shipped contract, which sets none)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (database, CSV) and the PostgreSQL database")
    parser.add_argument("--setup-only", action="store_true",
                        help="build the database and the file, keep them, measure nothing (to profile by hand: "
                             "copy bench.db and call measure() on the copy)")
    small = parser.add_argument_group("--small: a whole `leadgov validate` process of a weekly file")
    small.add_argument("--small", action="store_true",
                       help=f"time the installed `leadgov validate` of a {SMALL_ROWS:,}-lead file against --stored "
                            "earlier leads, as a whole process, on a copy of the database per run")
    small.add_argument("--stored", type=int, default=None,
                       help=f"--small: earlier leads in the database (default {SMALL_STORED:,})")
    small.add_argument("--runs", type=int, default=None, help="--small: runs (default 5; the median is kept)")
    small.add_argument("--no-history-alerts", dest="history_alerts", action="store_false",
                       help="--small: leave the earlier deliveries without their alerts (the default stores them: "
                            "see _history_alerts), so that every run is the delivery that first reaches the month's "
                            "budget cap")
    small.add_argument("--instructions", action="store_true",
                       help="--small: also count the instructions of one more run with valgrind's callgrind (the "
                            "same count however busy the machine is; about a minute)")
    small.add_argument("--dev-venv", action="store_true",
                       help="--small: run the development .venv's leadgov (test tools included) instead of an "
                            "analyst's install")
    args = parser.parse_args(argv)

    if args.db and args.engine and engine_of(args.db) != args.engine:
        parser.error(f"--engine {args.engine} but --db is a {engine_of(args.db)} URL")
    engine = engine_of(args.db) if args.db else (args.engine or "sqlite")
    if args.small:
        if args.history is not None:
            parser.error("--small takes --stored (earlier leads), not --history")
        if args.company_cap is not None:
            parser.error("--small validates under the shipped contract: no --company-cap")
        rows = args.rows or SMALL_ROWS
        history_leads = SMALL_STORED if args.stored is None else args.stored
        runs = 5 if args.runs is None else args.runs
        if runs < 1:
            parser.error("--runs must be at least 1")
        if args.instructions and shutil.which("valgrind") is None:  # refused before the setup, not after it
            parser.error("--instructions counts with valgrind, which is not installed (Debian: apt install valgrind)")
    else:
        if args.rows is None:
            parser.error("--rows is required (unless --small)")
        if args.stored is not None or args.runs is not None or args.dev_venv or not args.history_alerts \
                or args.instructions:
            parser.error("--stored, --runs, --no-history-alerts, --instructions and --dev-venv go with --small")
        rows = args.rows
        history_leads = (10 if args.history is None else args.history) * rows
        runs = 0
    hmac_key = None
    if args.small:  # the child runs with leadgov's defaults (no LEADGOV_* of the caller): the development key
        from leadgov.config.settings import DEV_HMAC_KEY  # noqa: PLC0415

        hmac_key = DEV_HMAC_KEY

    work = Path(tempfile.mkdtemp(prefix="leadgov-bench-"))
    csv_path, report_path = work / "delivery.csv", work / "setup.json"
    try:
        with bench_database(engine, args.db, args.pg_server, work, args.keep or args.setup_only) as url:
            print(f"setting up {rows:,} leads and {history_leads:,} earlier leads in {shown(url)} ...", flush=True)
            child = multiprocessing.get_context("spawn").Process(
                target=_setup,
                args=(url, rows, history_leads, args.known, args.seed, str(csv_path), str(report_path), hmac_key,
                      args.small and args.history_alerts))
            child.start()
            child.join()
            if child.exitcode != 0:
                print(f"setup failed (exit code {child.exitcode})", file=sys.stderr)
                return 2
            setup = json.loads(report_path.read_text())
            if engine == "sqlite":
                # The set-up's writes sit in the WAL (1.5 GB at 1M): left there, the measured delivery's
                # commit would copy them into the database file with its own (1.5 s of "other" at 1M).
                # A database that received its leads over months was checkpointed long ago.
                start = time.perf_counter()
                checkpointed_sqlite(url)
                setup["timings"]["checkpoint"] = time.perf_counter() - start
            if args.setup_only:
                args.keep = True
                return 0
            if hasattr(os, "sync"):
                os.sync()  # the setup's gigabytes must reach the disk now, not while the delivery is timed
            if args.small:
                print(f"setup (not measured): {', '.join(f'{k} {v:.1f}s' for k, v in setup['timings'].items())}",
                      flush=True)
                figures = measure_small(url, csv_path, rows, runs, args.pg_server, work, dev_venv=args.dev_venv,
                                        instructions=args.instructions)
                summary = {**report_small(engine, rows, setup, figures),
                           "install": "dev" if args.dev_venv else "analyst",
                           "history_alerts": len(setup["history"]["alerts"]) if args.history_alerts else None}
            else:
                result = measure(url, csv_path, rows, args.company_cap)
                summary = {"engine": engine, **report(rows, setup, result)}
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
