"""The demo's quarter, day by day, through the same services as the CLI and the flows: each day's
files dropped in the inbox and processed by the inbox service, outcome exports imported, the leads a
contract holds in review decided every Friday by a named person, the daily replacement check, the
weekly checks, the monthly close, the pilots (the demo answers each decision itself) and the
quarterly review. The runtime's clock is the demo's day, so every "today" is the
day being played; no Prefect server is needed.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from leadgov.config.contract import ContractFile, load_contract
from leadgov.config.contract.api import CONTRACTS_DIR
from leadgov.demo.leads import delivery_bytes, delivery_frame
from leadgov.demo.outcomes import due, events_for, outcome_csv
from leadgov.demo.profiles import PROFILES, Profile
from leadgov.services import lead_review as review_service
from leadgov.services.billing import CloseMonthRequest, close_month
from leadgov.services.deliveries import DeliveryResult
from leadgov.services.inbox import FileStatus, InboxRequest, process_inbox
from leadgov.services.lead_review import ReviewDecisionRequest, ReviewListRequest, list_reviews
from leadgov.services.outcomes import OutcomesImportRequest, import_outcomes
from leadgov.services.pilot import (
    Decision,
    PilotDecisionRequest,
    PilotRequest,
    StartPilotRequest,
    decide_pilot,
    judge_pilot,
    start_pilot,
)
from leadgov.services.replacements import ClaimsRequest, ReplacementCheckRequest, check_replacements, list_claims
from leadgov.services.review import ReviewRequest, quarterly_review
from leadgov.services.runtime import FixedClock, Runtime
from leadgov.services.weekly import WeeklyChecksRequest, weekly_checks
from leadgov.tools.synthetic import generate_leads

FIRST_DAY = date(2027, 1, 4)          # Monday of ISO week 2027-W01
WEEKS = 13
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The demo's contract owner answers each pilot verdict like this.
DECISION_FOR: dict[str, Decision] = {"GO": Decision.APPROVE, "RENEGOTIATE": Decision.RENEGOTIATE,
                                     "STOP": Decision.TERMINATE}
#: People of ACME's population already in the buyer's CRM (from its 300th person on): ALREADY_IN_CRM.
CRM_CONTACTS = 12
#: Who decides, every Friday, the leads a contract holds in review (``exploitability.review_reasons``):
#: a named person of the buyer, the contract's owner.
REVIEWERS = {"datapulse": "Julien Roux"}
#: The reviewer's rule: a personal address still reaches the decision maker (accepted); a role address
#: or a collection too old to be current does not (rejected: the supplier owes a replacement).
REVIEW_ACCEPTS = frozenset({"FREE_EMAIL"})
REVIEW_COMMENTS = {"accept": "adresse personnelle, mais c'est bien le décideur : lead exploitable",
                   "reject": "adresse générique ou collecte trop ancienne : lead inexploitable"}


@dataclass
class SupplierRun:
    profile: Profile
    contract: ContractFile
    next_index: int = 0
    #: The supplier's stored deliveries: (delivery id, day received).
    deliveries: list[tuple[int, date]] = field(default_factory=list)
    refused: int = 0
    pilot_verdict: str | None = None
    pilot_decision: str | None = None
    pilot_report: Path | None = None
    #: Leads of its review queue the reviewer accepted and rejected.
    review_accepted: int = 0
    review_rejected: int = 0


@dataclass
class DemoRun:
    runtime: Runtime
    clock: FixedClock
    out_dir: Path
    suppliers: list[SupplierRun]
    pending_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    statements: list[Path] = field(default_factory=list)

    @property
    def inbox(self) -> Path:
        return self.out_dir / "inbox"

    @property
    def crm_export(self) -> Path:
        return self.out_dir / "crm" / "crm-contacts.csv"


def start(runtime: Runtime, clock: FixedClock, out_dir: Path) -> DemoRun:
    runs = [SupplierRun(p, load_contract(CONTRACTS_DIR / p.contract_file)) for p in PROFILES]
    run = DemoRun(runtime, clock, out_dir, runs)
    write_crm_export(run)
    return run


def write_crm_export(run: DemoRun) -> None:
    """The buyer's CRM contacts (email, phone), checked by every contract with crm_check: a few of
    them will be delivered by ACME Leads and rejected ALREADY_IN_CRM."""
    acme = next(p for p in PROFILES if p.supplier_id == "acme-leads")
    people = generate_leads(CRM_CONTACTS, seed=7, collected_before=FIRST_DAY, start_index=acme.person_offset + 300)
    run.crm_export.parent.mkdir(parents=True, exist_ok=True)
    people[["email", "phone"]].to_csv(run.crm_export, index=False, sep=";")


def day_seed(supplier: SupplierRun, day: date) -> int:
    """The random seed of a supplier's day: its delivery is drawn from it, its outcomes from the next one."""
    return int(hashlib.sha256(f"{supplier.profile.supplier_id}{day}".encode()).hexdigest()[:8], 16)


def owed_replacements(run: DemoRun, supplier: SupplierRun, day: date) -> list[str]:
    """The open claims this supplier replaces today: on time (a share of those opened in the last
    days) and late (a share of those past their deadline), decided per claim by its id."""
    chosen = []
    profile = supplier.profile
    owed = [*list_claims(run.runtime, ClaimsRequest(profile.supplier_id, "open")),
            *list_claims(run.runtime, ClaimsRequest(profile.supplier_id, "overdue"))]
    for claim in sorted(owed, key=lambda c: c.id):
        draw = int(hashlib.sha256(f"{claim.id}".encode()).hexdigest(), 16) % 1000 / 1000
        if claim.due_on is None:
            continue
        if claim.status == "open" and claim.opened_on + timedelta(days=3) <= day <= claim.due_on \
                and draw < profile.replace_on_time:
            chosen.append(claim.lead_id)
        elif claim.status == "overdue" and day >= claim.due_on + timedelta(days=4) and \
                profile.replace_on_time <= draw < profile.replace_on_time + profile.replace_late:
            chosen.append(claim.lead_id)
    return [c for c in chosen if c]


def drop_delivery(run: DemoRun, supplier: SupplierRun, day: date) -> None:
    """The supplier's file of the day, written into its inbox folder."""
    contract = supplier.contract.contract
    days = contract.volumes.delivery_weekdays
    week = day.isocalendar()[1]
    seed = day_seed(supplier, day)
    replaces = owed_replacements(run, supplier, day)
    # replacements count in the volume
    count = max(round(contract.volumes.weekly_target / len(days)) - len(replaces), 0)
    frame = delivery_frame(supplier.profile, contract, day, count, supplier.next_index, seed=seed, week=week,
                           replaces=replaces)
    supplier.next_index += len(frame)
    suffix = "json" if contract.delivery.format == "json" else "csv"
    path = run.inbox / supplier.profile.supplier_id / f"{supplier.profile.supplier_id}-{day.isoformat()}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(delivery_bytes(frame, contract))


def process_deliveries(run: DemoRun, day: date) -> None:
    """The day's inbox, as the weekly flow and ``leadgov inbox run`` process it; then the outcomes
    our team will record on each accepted lead."""
    result = process_inbox(run.runtime, InboxRequest(
        inbox_dir=run.inbox, contracts_dir=CONTRACTS_DIR, out_dir=run.out_dir / "deliveries",
        crm_path=run.crm_export, delivered_on=day))
    errors = [f"{s.supplier_id}: {s.error}" for s in result.suppliers if s.error]
    errors += [f"{f.supplier_id}/{f.file}: {f.reason}" for f in result.files if f.status is FileStatus.failed]
    if errors:
        raise RuntimeError(f"the demo's inbox of {day} failed: {'; '.join(errors)}")
    by_id = {s.profile.supplier_id: s for s in run.suppliers}
    for f in result.files:
        supplier = by_id[f.supplier_id]
        if f.status is FileStatus.refused or f.delivery is None:
            supplier.refused += 1
            continue
        record_delivery(run, supplier, f.delivery, day)


def record_delivery(run: DemoRun, supplier: SupplierRun, delivery: DeliveryResult, day: date) -> None:
    if delivery.delivery_id is not None:
        supplier.deliveries.append((delivery.delivery_id, delivery.delivered_on))
    verdicts = delivery.verdicts
    accepted = verdicts.loc[verdicts["status"] == "accepted", "lead_id"].dropna().tolist()
    contract = supplier.contract.contract
    seed = day_seed(supplier, day)
    events = events_for(supplier.profile.supplier_id, accepted, day, supplier.profile.conversion,
                        sla_hours=contract.quality.first_contact_sla_hours,
                        contest_window_days=contract.replacement.contest_window_days, seed=seed + 1)
    run.pending_events = pd.concat([run.pending_events, events], ignore_index=True)


def import_known_outcomes(run: DemoRun, day: date) -> None:
    """The weekly export of the CRM and the phoning tool: every event that happened before ``day``."""
    if run.pending_events.empty:
        return
    known, run.pending_events = due(run.pending_events, datetime(day.year, day.month, day.day))
    if known.empty:
        return
    path = run.out_dir / "crm" / f"outcomes-{day.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(outcome_csv(known))
    import_outcomes(run.runtime, OutcomesImportRequest(path))


def pilot_due(supplier: SupplierRun) -> date:
    """When a pilot is judged: its duration, then the contest window of its last delivery."""
    pilot, window = supplier.contract.contract.pilot, supplier.contract.contract.replacement.contest_window_days
    return FIRST_DAY + timedelta(days=pilot.max_duration_days + window + 1)


#: The demo's own comment on the decision it takes, in the contract's language (it reaches the review).
DECISION_COMMENT = {"fr": "démo : décision prise comme le recommande le verdict ({verdict})",
                    "en": "demo: decision taken as the verdict ({verdict}) recommends"}


def open_pilot(run: DemoRun, supplier: SupplierRun, day: date) -> None:
    """The contract owner starts the supplier's pilot on the first day, under its contract."""
    start_pilot(run.runtime, StartPilotRequest(supplier.profile.supplier_id, day, Path(supplier.contract.path),
                                               started_by="leadgov demo"))


def close_pilot(run: DemoRun, supplier: SupplierRun, day: date) -> None:
    """Verdict, report and the committee's alert; then the owner's decision (the demo answers itself)."""
    import_known_outcomes(run, day)
    sid = supplier.profile.supplier_id
    judged = judge_pilot(run.runtime, PilotRequest(sid, as_of=day))
    verdict = judged.assessment.verdict.verdict
    supplier.pilot_verdict, supplier.pilot_report = verdict, judged.report_path
    decision = decide_pilot(run.runtime, PilotDecisionRequest(
        supplier_id=sid, verdict=verdict, decision=DECISION_FOR[verdict], decided_by="leadgov demo",
        comment=DECISION_COMMENT[judged.assessment.locale].format(verdict=verdict), report_path=judged.report_path))
    supplier.pilot_decision = decision.decision


def decide_reviews(run: DemoRun, supplier: SupplierRun, day: date) -> None:
    """Friday: the reviewer lists the supplier's leads waiting in review and decides them all, as
    ``leadgov review list`` and ``leadgov review accept|reject`` would: those whose every reason is in
    ``REVIEW_ACCEPTS`` accepted (billed on this month's statement), the others rejected (a claim opens)."""
    sid = supplier.profile.supplier_id
    waiting = [w for w in list_reviews(run.runtime, ReviewListRequest(sid)).leads if w.lead_id]
    accepted = [set(w.reasons) <= REVIEW_ACCEPTS for w in waiting]
    accept = tuple(str(w.lead_id) for w, ok in zip(waiting, accepted, strict=True) if ok)
    reject = tuple(str(w.lead_id) for w, ok in zip(waiting, accepted, strict=True) if not ok)
    decisions = [ReviewDecisionRequest(sid, ids, decision, REVIEW_COMMENTS[decision], by=REVIEWERS[sid])
                 for decision, ids in (("accept", accept), ("reject", reject)) if ids]
    for decided in review_service.decide_reviews(run.runtime, decisions) if decisions else ():
        if decided.decision == "accept":
            supplier.review_accepted += decided.decided
        else:
            supplier.review_rejected += decided.decided


def play_day(run: DemoRun, day: date, offset: int) -> None:
    """What happens on one day, in the order a week of governance runs."""
    run.clock.day = day
    if day.weekday() == 0 and offset:  # Monday: last week's outcomes, then the finished-week checks
        import_known_outcomes(run, day)
        weekly_checks(run.runtime, WeeklyChecksRequest(as_of=day))
    if day.day == 1:  # the 1st: last month's close (the month before as_of, by default)
        closed = close_month(run.runtime, CloseMonthRequest(as_of=day))
        failures = [f"{s.supplier_id}: {s.error or s.report_error}" for s in closed.suppliers
                    if s.error or s.report_error]
        if failures:
            raise RuntimeError(f"the demo's close of {closed.month} failed: {'; '.join(failures)}")
        run.statements += [s.report for s in closed.suppliers if s.report is not None]
    for supplier in run.suppliers:
        if day == FIRST_DAY:
            open_pilot(run, supplier, day)
        if day == pilot_due(supplier):
            close_pilot(run, supplier, day)
        if offset < WEEKS * 7 and WEEKDAYS[day.weekday()] in supplier.contract.contract.volumes.delivery_weekdays:
            drop_delivery(run, supplier, day)
    process_deliveries(run, day)
    if day.weekday() == 4:  # Friday: the week's review queues
        for supplier in run.suppliers:
            if supplier.profile.supplier_id in REVIEWERS:
                decide_reviews(run, supplier, day)
    check_replacements(run.runtime, ReplacementCheckRequest(as_of=day))


def play_quarter(run: DemoRun) -> None:
    """Thirteen weeks from 4 January 2027, then the first days of April (March's statements)."""
    for offset in range(WEEKS * 7 + 3):
        play_day(run, FIRST_DAY + timedelta(days=offset), offset)


def publish_review(run: DemoRun, as_of: date) -> Path:
    """The quarterly review as the committee receives it."""
    run.clock.day = as_of
    import_known_outcomes(run, as_of)
    return quarterly_review(run.runtime, ReviewRequest("2027-Q1", as_of=as_of)).report.path
