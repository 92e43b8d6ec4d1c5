"""``leadgov demo``: a quarter of lead purchasing from three suppliers, in one command.

A fresh SQLite database (or ``--db``), three suppliers on their real contracts
(config/contracts), 13 weeks of generated deliveries with realistic defects, outcomes and
contests, replacements, overdue checks, alerts, monthly statements, the three pilots (the demo
answers each decision itself) and the quarterly review. Everything runs through the same domain
code as the CLI and the flows; alerts stay in the outbox unless Slack is configured.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from leadgov.config.settings import Settings
from leadgov.demo.timeline import DemoRun, play_quarter, publish_review, start
from leadgov.governance import supplier_kpis
from leadgov.periods import parse_period
from leadgov.models import alert_store
from leadgov.models.db import session_scope
from leadgov.models.migrate import upgrade

REVIEW_AS_OF = date(2027, 4, 20)  # three weeks after the quarter: its last weeks are not mature yet


@dataclass(frozen=True)
class DemoResult:
    url: str
    rows: list[dict]
    alerts: list[dict]
    reports: list[Path]


def run_demo(url: str, settings: Settings, out_dir: Path) -> DemoResult:
    """Play the quarter into ``url`` and write the reports under ``out_dir``."""
    upgrade(url)
    run = start(url, settings, out_dir)
    play_quarter(run)
    review = publish_review(run, REVIEW_AS_OF)
    reports = [review, *[s.pilot_report for s in run.suppliers if s.pilot_report], *write_other_reports(run)]
    return DemoResult(url, summary_rows(run), outbox(run), reports)


def write_other_reports(run: DemoRun) -> list[Path]:
    """March statements of every supplier, and the return report of DataPulse's week-7 spike."""
    from leadgov.reports.returns import write_returns_report
    from leadgov.reports.statement import write_statement_report

    paths = []
    with session_scope(run.url) as session:
        for supplier in run.suppliers:
            paths.append(write_statement_report(session, supplier.profile.supplier_id, "2027-03",
                                                run.out_dir / "reports"))
        spike = next(s for s in run.suppliers if s.profile.spike_weeks)
        week7 = [d for d in spike.deliveries if _week_of_delivery(session, d) in spike.profile.spike_weeks]
        if week7:
            paths.append(write_returns_report(session, week7[0], run.out_dir / "reports"))
    return paths


def _week_of_delivery(session, delivery_id: int) -> int:
    from leadgov.models.delivery import Delivery

    return session.get(Delivery, delivery_id).delivered_on.isocalendar()[1]


def summary_rows(run: DemoRun) -> list[dict]:
    """One row per supplier: the quarter's figures, the pilot and the alerts."""
    quarter = parse_period("2027-Q1")
    rows = []
    with session_scope(run.url) as session:
        alerts = alert_store.list_alerts(session)
        for s in run.suppliers:
            k = supplier_kpis(session, s.profile.supplier_id, quarter, run.settings.timezone, REVIEW_AS_OF)
            rows.append({
                "supplier": s.profile.supplier_id, "deliveries": len(s.deliveries), "refused_files": s.refused,
                "delivered": k.delivered, "accepted": k.accepted, "reject_rate": k.reject_rate,
                "reachability": k.reachability, "appointment_rate": k.appointment_rate,
                "replacement_fill_rate": k.replacement_fill_rate, "billed_eur": k.billed_eur,
                "pilot_verdict": s.pilot_verdict, "pilot_decision": s.pilot_decision,
                "alerts": sum(1 for a in alerts if a["supplier_id"] == s.profile.supplier_id),
            })
    return rows


def outbox(run: DemoRun) -> list[dict]:
    with session_scope(run.url) as session:
        return alert_store.list_alerts(session)
