"""The demo's quarter, day by day: deliveries, replacements, outcome imports, overdue checks,
alerts, pilots, monthly statements and the quarterly review, on the same domain code the CLI
and the flows run (no Prefect server needed)."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from leadgov.config.contract import ContractFile, load_contract
from leadgov.config.settings import Settings
from leadgov.alerts.evaluate import after_delivery, after_outcomes, after_overdue, after_statement, check_finished_weeks
from leadgov.alerts.outbox import evaluate_and_send, record
from leadgov.alerts.rules import pilot_verdict_alert, quarterly_review_alert
from leadgov.claims import check_overdue
from leadgov.demo.leads import delivery_bytes, delivery_frame
from leadgov.demo.outcomes import due, events_for, outcome_csv
from leadgov.demo.profiles import PROFILES, Profile
from leadgov.governance import bill_month
from leadgov.ingest import DeliveryFile, ingest_delivery
from leadgov.outcomes import import_outcomes
from leadgov.models.db import session_scope
from leadgov.models.pilot import record_decision
from leadgov.models.replacement import ReplacementClaim
from leadgov.models.supplier import SupplierTerminated
from leadgov.reports.pilot import write_pilot_report

CONTRACTS = Path(__file__).resolve().parents[2] / "config" / "contracts"
FIRST_DAY = date(2027, 1, 4)          # Monday of ISO week 2027-W01
WEEKS = 13
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The demo's contract owner answers each pilot verdict like this.
DECISION_FOR = {"GO": "approve", "RENEGOTIATE": "renegotiate", "STOP": "terminate"}


@dataclass
class SupplierRun:
    profile: Profile
    contract: ContractFile
    next_index: int = 0
    deliveries: list[int] = field(default_factory=list)
    refused: int = 0
    pilot_verdict: str | None = None
    pilot_decision: str | None = None
    pilot_report: Path | None = None


@dataclass
class DemoRun:
    url: str
    settings: Settings
    out_dir: Path
    suppliers: list[SupplierRun]
    pending_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: list[str] = field(default_factory=list)
    statements: list[Path] = field(default_factory=list)

    def alert(self, evaluate) -> None:
        run = evaluate_and_send(self.url, self.settings, evaluate)
        self.alerts += list(run.new)


def start(url: str, settings: Settings, out_dir: Path) -> DemoRun:
    runs = [SupplierRun(p, load_contract(CONTRACTS / p.contract_file)) for p in PROFILES]
    return DemoRun(url, settings, out_dir, runs)


def owed_replacements(run: DemoRun, supplier: SupplierRun, day: date) -> list[str]:
    """The open claims this supplier replaces today: on time (a share of those opened in the last
    days) and late (a share of those past their deadline), decided per claim by its id."""
    with session_scope(run.url) as session:
        claims = session.execute(select(ReplacementClaim.id, ReplacementClaim.lead_id, ReplacementClaim.opened_on,
                                        ReplacementClaim.due_on, ReplacementClaim.status)
                                 .where(ReplacementClaim.supplier_id == supplier.profile.supplier_id,
                                        ReplacementClaim.status.in_(["open", "overdue"]))).all()
    chosen = []
    for claim_id, lead_id, opened_on, due_on, status in claims:
        draw = int(hashlib.sha256(f"{claim_id}".encode()).hexdigest(), 16) % 1000 / 1000
        if status == "open" and opened_on + timedelta(days=3) <= day <= due_on and draw < supplier.profile.replace_on_time:
            chosen.append(lead_id)
        elif status == "overdue" and day >= due_on + timedelta(days=4) and \
                supplier.profile.replace_on_time <= draw < supplier.profile.replace_on_time + supplier.profile.replace_late:
            chosen.append(lead_id)
    return [c for c in chosen if c]


def deliver(run: DemoRun, supplier: SupplierRun, day: date, inbox: Path) -> None:
    """One delivery file of the supplier for the day, stored, its alerts raised, its outcomes drawn."""
    contract = supplier.contract.contract
    days = contract.volumes.delivery_weekdays
    week = day.isocalendar()[1]
    seed = int(hashlib.sha256(f"{supplier.profile.supplier_id}{day}".encode()).hexdigest()[:8], 16)
    replaces = owed_replacements(run, supplier, day)
    count = max(round(contract.volumes.weekly_target / len(days)) - len(replaces), 0)  # replacements count in the volume
    frame = delivery_frame(supplier.profile, contract, day, count, supplier.next_index, seed=seed, week=week,
                           replaces=replaces)
    supplier.next_index += len(frame)
    data = delivery_bytes(frame, contract)
    suffix = "json" if contract.delivery.format == "json" else "csv"
    path = inbox / supplier.profile.supplier_id / f"{supplier.profile.supplier_id}-{day.isoformat()}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    file = DeliveryFile(data=data, file_name=path.name, delivered_on=day, sha256=hashlib.sha256(data).hexdigest())
    try:
        with session_scope(run.url) as session:
            outcome = ingest_delivery(session, file, supplier.contract, run.settings)
    except SupplierTerminated:
        supplier.refused += 1
        return
    supplier.deliveries.append(outcome.delivery_id)
    run.alert(lambda session: after_delivery(session, outcome.delivery_id, run.settings.timezone, day))
    verdicts = outcome.result.verdicts
    accepted = verdicts.loc[verdicts["status"] == "accepted", "lead_id"].dropna().tolist()
    events = events_for(supplier.profile.supplier_id, accepted, day, supplier.profile.conversion,
                        sla_hours=contract.quality.first_contact_sla_hours,
                        contest_window_days=contract.replacement.contest_window_days, seed=seed + 1)
    run.pending_events = pd.concat([run.pending_events, events], ignore_index=True)


def import_known_outcomes(run: DemoRun, day: date) -> None:
    """The weekly CRM export: every event that happened before ``day``."""
    if run.pending_events.empty:
        return
    known, run.pending_events = due(run.pending_events, datetime(day.year, day.month, day.day))
    if known.empty:
        return
    with session_scope(run.url) as session:
        result = import_outcomes(session, outcome_csv(known), f"crm-export-{day.isoformat()}.csv", run.settings.timezone)
    run.alert(lambda session: after_outcomes(session, list(result.contested), run.settings.timezone, day))


def daily_checks(run: DemoRun, day: date) -> None:
    with session_scope(run.url) as session:
        check_overdue(session, day)
    run.alert(lambda session: after_overdue(session, today=day))


def weekly_checks(run: DemoRun, day: date) -> None:
    import_known_outcomes(run, day)
    active = [s.profile.supplier_id for s in run.suppliers if s.pilot_decision != "terminate"]
    run.alert(lambda session: [k for s in active for k in check_finished_weeks(session, s, day, run.settings.timezone)])


def monthly_billing(run: DemoRun, day: date) -> None:
    """On the 1st: the previous month's statement of every supplier."""
    month = (day - timedelta(days=1))
    for supplier in run.suppliers:
        with session_scope(run.url) as session:
            statement = bill_month(session, supplier.profile.supplier_id, month.year, month.month,
                                   run.settings.timezone, day)
            data = statement.as_dict()
        run.alert(lambda session, s=supplier.profile.supplier_id, d=data: after_statement(session, s, d, today=day))


def pilot_due(supplier: SupplierRun) -> date:
    """When a pilot is judged: its duration, then the contest window of its last delivery."""
    pilot, window = supplier.contract.contract.pilot, supplier.contract.contract.replacement.contest_window_days
    return FIRST_DAY + timedelta(days=pilot.max_duration_days + window + 1)


def close_pilot(run: DemoRun, supplier: SupplierRun, day: date) -> None:
    """Report, verdict, alert to the committee, and the owner's decision (the demo answers itself)."""
    from leadgov.reports.pilot import pilot_context

    import_known_outcomes(run, day)
    sid = supplier.profile.supplier_id
    with session_scope(run.url) as session:
        supplier.pilot_report = write_pilot_report(session, sid, run.settings.timezone, day, run.out_dir / "reports")
        _, verdict = pilot_context(session, sid, run.settings.timezone, day)
        supplier.pilot_verdict = verdict.verdict
        supplier.pilot_decision = DECISION_FOR[verdict.verdict]
        record_decision(session, supplier_id=sid, verdict=verdict.verdict, decision=supplier.pilot_decision,
                        comment="decided by the demo from the verdict", decided_by="leadgov demo",
                        report_path=str(supplier.pilot_report),
                        decided_at=datetime(day.year, day.month, day.day, 9))
    run.alert(lambda session: record(session, pilot_verdict_alert(
        supplier.contract.contract, verdict=verdict.verdict, reasons=verdict.reasons,
        report_path=str(supplier.pilot_report))))


def play_quarter(run: DemoRun) -> None:
    """Thirteen weeks from 4 January 2027, then the first days of April (March's statement)."""
    inbox = run.out_dir / "inbox"
    for offset in range(WEEKS * 7 + 3):
        day = FIRST_DAY + timedelta(days=offset)
        if day.weekday() == 0 and offset:
            weekly_checks(run, day)
        if day.day == 1:
            monthly_billing(run, day)
        for supplier in run.suppliers:
            if day == pilot_due(supplier):
                close_pilot(run, supplier, day)
            if offset < WEEKS * 7 and WEEKDAYS[day.weekday()] in supplier.contract.contract.volumes.delivery_weekdays:
                deliver(run, supplier, day, inbox)
        daily_checks(run, day)


def publish_review(run: DemoRun, as_of: date) -> Path:
    from leadgov.reports.review import write_review_report

    import_known_outcomes(run, as_of)
    with session_scope(run.url) as session:
        path = write_review_report(session, "2027-Q1", run.settings.timezone, as_of, run.settings.locale,
                                   run.out_dir / "reports")
    run.alert(lambda session: record(session, quarterly_review_alert(
        quarter="2027-Q1", channel=run.suppliers[0].contract.contract.alerts.committee_channel,
        locale=run.settings.locale, report_path=str(path), suppliers=len(run.suppliers))))
    return path
