"""``leadgov demo``: a quarter of lead purchasing from three suppliers, in one command.

A fresh SQLite database (or ``--db``), three suppliers on their real contracts
(config/contracts), 13 weeks of generated deliveries with realistic defects, outcomes and
contests, replacements, overdue checks, alerts, DataPulse's review queue decided every Friday,
monthly statements, the three pilots (the demo answers each decision itself) and the quarterly
review. Everything runs through the same domain
code as the CLI and the flows; alerts stay in the outbox unless Slack is configured.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from leadgov.config.settings import Settings
from leadgov.demo.timeline import FIRST_DAY, DemoRun, play_quarter, publish_review, start
from leadgov.services.alerts import StoredAlert, outbox
from leadgov.services.kpis import KpisRequest, kpis
from leadgov.services.returns import ReturnsReportRequest, returns_report
from leadgov.services.runtime import FixedClock, build_runtime

REVIEW_AS_OF = date(2027, 4, 20)  # three weeks after the quarter: its last weeks are not mature yet


@dataclass(frozen=True)
class DemoResult:
    url: str
    rows: list[dict[str, object]]
    alerts: tuple[StoredAlert, ...]
    reports: list[Path]


def run_demo(url: str, settings: Settings, out_dir: Path) -> DemoResult:
    """Play the quarter into ``url``, its files and reports under ``out_dir``: a runtime whose clock is
    the demo's day, Slack as the settings say (alerts wait in the outbox without it)."""
    clock = FixedClock(FIRST_DAY, settings.timezone)
    runtime = build_runtime(settings.model_copy(update={"output_dir": out_dir}), database_url=url, clock=clock,
                            actor="demo")
    run = start(runtime, clock, out_dir)
    play_quarter(run)
    review = publish_review(run, REVIEW_AS_OF)
    # February's statements show the leads each pilot held: billed on ACME's approval, never on Prospectia's stop
    decided = [p for p in run.statements if p.name in {"statement-acme-leads-2027-02-r1.html",
                                                       "statement-prospectia-2027-02-r1.html"}]
    march = [p for p in run.statements if "-2027-03-" in p.name]
    reports = [review, *[s.pilot_report for s in run.suppliers if s.pilot_report], *decided, *march,
               *spike_returns(run)]
    return DemoResult(url, summary_rows(run), outbox(runtime), reports)


def spike_returns(run: DemoRun) -> list[Path]:
    """The return report of DataPulse's first delivery in its spike week."""
    spike = next(s for s in run.suppliers if s.profile.spike_weeks)
    for delivery_id, day in spike.deliveries:
        if day.isocalendar()[1] in spike.profile.spike_weeks:
            return [returns_report(run.runtime, ReturnsReportRequest(delivery_id)).path]
    return []


def summary_rows(run: DemoRun) -> list[dict[str, object]]:
    """One row per supplier: the quarter's figures, its review queue's decisions, the pilot and the alerts."""
    alerts = outbox(run.runtime)
    rows: list[dict[str, object]] = []
    for s in run.suppliers:
        k = kpis(run.runtime, KpisRequest(s.profile.supplier_id, "2027-Q1", as_of=REVIEW_AS_OF))
        rows.append({
            "supplier": s.profile.supplier_id, "deliveries": len(s.deliveries), "refused_files": s.refused,
            "delivered": k.delivered, "accepted": k.accepted, "reject_rate": k.reject_rate,
            "reachability": k.reachability, "appointment_rate": k.appointment_rate,
            "replacement_fill_rate": k.replacement_fill_rate, "billed_eur": k.billed_eur,
            "review_accepted": s.review_accepted, "review_rejected": s.review_rejected,
            "pilot_verdict": s.pilot_verdict, "pilot_decision": s.pilot_decision,
            "alerts": sum(1 for a in alerts if a.supplier_id == s.profile.supplier_id),
        })
    return rows
