"""Benchmark: the alerts evaluated after a delivery, with 20 suppliers x 52 weeks stored.

    .venv/bin/python benchmarks/alerts.py [--suppliers 20] [--weeks 52] [--per-day 10] [--db URL]

Setup (not measured): a fresh SQLite database (or ``--db URL``) at the current schema; ``--suppliers``
contracts (the shipped ``acme-leads`` contract under other ids); for each supplier, a delivery of
``--per-day`` leads on every weekday of ``--weeks`` ISO weeks of 2027, about 15 % rejected, written in
SQL (a few seconds).

Measured, on the last supplier's last delivery, each five times (the median is printed):

- ``trend_query_s`` / ``trend_statements``: the earlier weeks' reject rates the trend rule needs
  (``leadgov.alerts.evaluate.earlier_reject_rates``): one grouped query however many weeks are stored
  (every week here has leads: a second one runs only when one of the four weeks before has none);
- ``after_delivery_s`` / ``after_delivery_statements``: everything evaluated after a delivery is stored
  (``evaluate.after_delivery``: the delivery's and its week's KPIs, the trend, the caps, the missing-delivery
  incident, the overdue claims), in one transaction that is rolled back so that every run does the same work.

The output ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

CONTRACT_PATH = ROOT / "config" / "contracts" / "acme-leads.yaml"
TZ = "Europe/Paris"
RUNS = 5


def contract_text(n: int) -> str:
    """The shipped contract as supplier ``n``'s: its own supplier id, name and contract id."""
    text = CONTRACT_PATH.read_text(encoding="utf-8")
    return (text.replace("id: acme-leads", f"id: bench-{n:02d}").replace("name: ACME Leads SAS", f"name: Bench {n:02d}")
            .replace("contract_id: ACME-2027-01", f"contract_id: BENCH-{n:02d}-2027"))


def populate(url: str, suppliers: int, weeks: int, per_day: int) -> dict[str, int]:
    """The contracts, deliveries and leads; the last delivery's id and the counts."""
    from sqlalchemy import insert

    from leadgov.config.contract import parse_contract
    from leadgov.ingest import register_contract
    from leadgov.models.db import session_scope
    from leadgov.models.delivery import Delivery, Lead

    days = [date.fromisocalendar(2027, w, d) for w in range(1, weeks + 1) for d in range(1, 6)]
    delivery_rows, lead_rows = [], []
    with session_scope(url) as session:
        versions = {f"bench-{n:02d}": register_contract(session, parse_contract(contract_text(n), f"bench-{n}.yaml"))
                    for n in range(suppliers)}
        next_id = 1
        for supplier_id, version in versions.items():
            for day in days:
                delivery_rows.append({
                    "id": next_id, "supplier_id": supplier_id, "contract_version_id": version,
                    "file_name": f"{supplier_id}-{day}.csv", "file_sha256": f"{supplier_id}-{day}".ljust(64, "0"),
                    "delivered_on": day, "received_at": datetime(2027, 1, 1), "encoding": "utf-8", "delimiter": ";",
                    "delivered_count": per_day, "accepted_count": per_day, "rejected_count": 0, "over_cap_count": 0})
                lead_rows += [{"delivery_id": next_id, "supplier_id": supplier_id, "row_number": k,
                               "lead_id": f"L-{next_id}-{k}", "delivered_on": day,
                               "status": "rejected" if (next_id * 7 + k) % 100 < 15 else "accepted"}
                              for k in range(1, per_day + 1)]
                next_id += 1
        session.execute(insert(Delivery), delivery_rows)
        session.execute(insert(Lead), lead_rows)
    return {"last_delivery": next_id - 1, "deliveries": len(delivery_rows), "leads": len(lead_rows)}


def measure(url: str, last_delivery: int) -> dict[str, float | int]:
    from sqlalchemy import event

    from leadgov.alerts.evaluate import after_delivery, earlier_reject_rates
    from leadgov.models.db import get_engine, session_scope
    from leadgov.models.delivery import Delivery
    from leadgov.periods import week_of

    engine = get_engine(url)
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    with session_scope(url) as session:
        delivery = session.get_one(Delivery, last_delivery)
        supplier_id, day = delivery.supplier_id, delivery.delivered_on
    figures: dict[str, list[float]] = {"trend": [], "after": []}
    counts = {}
    for _ in range(RUNS):
        with session_scope(url) as session:
            statements[0] = 0
            start = time.perf_counter()
            earlier_reject_rates(session, supplier_id, week_of(day))
            figures["trend"].append(time.perf_counter() - start)
            counts["trend"] = statements[0]
        with session_scope(url) as session:
            statements[0] = 0
            start = time.perf_counter()
            after_delivery(session, last_delivery, TZ, day + timedelta(days=1))
            figures["after"].append(time.perf_counter() - start)
            counts["after"] = statements[0]
            session.rollback()  # every run evaluates the same stored data
    event.remove(engine, "before_cursor_execute", count)
    return {"trend_query_s": round(statistics.median(figures["trend"]), 4), "trend_statements": counts["trend"],
            "after_delivery_s": round(statistics.median(figures["after"]), 3),
            "after_delivery_statements": counts["after"]}


def stored_data_arguments(doc: str) -> argparse.ArgumentParser:
    """The options of the benchmarks built on ``populate`` (this one and ``review.py``)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=10)
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    return parser


def migrated(args: argparse.Namespace, folder: str) -> str:
    """The benchmark's database at the current schema: ``--db``, else a new SQLite file in ``folder``."""
    from leadgov.models.migrate import upgrade

    url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
    upgrade(url)
    return url


def main() -> int:
    parser = stored_data_arguments(__doc__)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = migrated(args, folder)
        start = time.perf_counter()
        stored = populate(url, args.suppliers, args.weeks, args.per_day)
        setup_s = time.perf_counter() - start
        figures = measure(url, stored["last_delivery"])
    print(json.dumps({"suppliers": args.suppliers, "weeks": args.weeks, "deliveries": stored["deliveries"],
                      "leads": stored["leads"], "setup_s": round(setup_s, 1), **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
