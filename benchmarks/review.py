"""Benchmark: the quarterly review of 20 suppliers x 13 weeks, built and written as HTML and PDF.

    .venv/bin/python benchmarks/review.py [--suppliers 20] [--per-day 10] [--db URL]

Setup (not measured): as ``benchmarks/alerts.py``: a fresh SQLite database (or ``--db URL``), the shipped
contract under ``--suppliers`` ids, and a delivery of ``--per-day`` leads on every weekday of the 13 weeks of
2027-Q1 for each supplier (about 15 % rejected), written in SQL.

Measured, once each (the review is a quarterly job), through the service the flow and the CLI call
(``leadgov.services.review``): ``build_s`` (every supplier's KPIs, weeks, amounts, recommendation and
decision log: ``build``), ``html_pdf_s`` (rendering the report and its PDF: ``write_report``), and ``total_s``,
with the size of both files. The output ends with one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from alerts import migrated, populate, stored_data_arguments  # noqa: E402 - benchmarks/ is the script's own folder

QUARTER = "2027-Q1"
#: The day the review is computed on: every week of the quarter mature.
AS_OF = date(2027, 5, 3)


def main() -> int:
    args = stored_data_arguments(__doc__).parse_args()

    from leadgov.config.settings import Settings
    from leadgov.services.review import build, write_report
    from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

    with tempfile.TemporaryDirectory() as folder:
        url = migrated(args, folder)
        stored = populate(url, args.suppliers, 13, args.per_day)
        settings = Settings(_env_file=None, database_url=url, slack_bot_token=None, slack_webhook_url=None,
                            output_dir=Path(folder) / "out")
        runtime = build_runtime(settings, clock=FixedClock(AS_OF), notifier=OutboxNotifier(None), migrate=False)
        start = time.perf_counter()
        review = build(runtime, QUARTER, AS_OF)
        built = time.perf_counter()
        html = write_report(runtime, review)
        written = time.perf_counter()
        sizes = {"html_kb": round(html.stat().st_size / 1024),
                 "pdf_kb": round(html.with_suffix(".pdf").stat().st_size / 1024)}
    print(json.dumps({"suppliers": len(review.suppliers), "weeks": 13, "leads": stored["leads"],
                      "build_s": round(built - start, 2), "html_pdf_s": round(written - built, 2),
                      "total_s": round(written - start, 2), **sizes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
