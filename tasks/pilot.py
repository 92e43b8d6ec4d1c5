"""Tasks of a supplier's pilot: is it matured, its verdict and report, the committee's alert, the
artifacts, and the contract owner's decision.

Every task opens its own session from the settings (``LEADGOV_DATABASE_URL``) and passes plain data
or the loaded contract on: no session crosses a task boundary, and nothing is cached (each task
reads or writes the database, the report folder, the outbox or Prefect's artifacts).
"""

import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import func, select

from leadgov.config.contract import ContractFile
from leadgov.config.settings import get_settings
from leadgov.alerts.outbox import evaluate_and_send, record
from leadgov.alerts.rules import pilot_verdict_alert
from leadgov.periods import parse_period
from leadgov.pilot import percent
from leadgov.models import ledger_store
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.migrate import upgrade
from leadgov.models.pilot import record_decision
from leadgov.models.supplier import Supplier
from leadgov.reports.pilot import pilot_context, write_pilot_report


def artifact_key(supplier_id: str, what: str) -> str:
    """``pilot-<supplier>-<what>``: artifact keys allow only lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9-]+", "-", supplier_id.lower()).strip("-")
    return f"pilot-{slug}-{what}"


@dataclass(frozen=True)
class PilotMaturity:
    """Whether the pilot can be judged on ``as_of``: the contest window of its last delivery has closed.

    ``last_delivery`` is the cohort's last delivery day when the cohort is full (``pilot.size``
    leads: no later lead joins it), else the last day of the pilot window (a lead may still
    arrive until then). A contest is accepted up to ``contest_window_days`` after the delivery day
    inclusive (docs/governance-rules.md, Contests), so the window closes at the end of
    ``last_delivery + contest_window_days`` and the pilot is matured from the next day, ``matured_on``.
    """

    supplier_id: str
    as_of: date
    start_date: date
    first_delivery: date | None
    window_last_day: date
    cohort_leads: int
    cohort_full: bool
    last_delivery: date
    contest_closes_on: date
    matured_on: date
    matured: bool
    supplier_state: str | None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}


def maturity(session, supplier_id: str, contract_file: ContractFile, start_date: date, as_of: date,
             pilot_size: int | None = None) -> PilotMaturity:
    """The pilot's maturity from the stored deliveries (plain function: the task below wraps it)."""
    contract = contract_file.contract
    notes = []
    size, duration = contract.pilot.size, contract.pilot.max_duration_days
    window = contract.replacement.contest_window_days
    if pilot_size is not None and pilot_size != size:
        notes.append(f"pilot_size {pilot_size} requested, but the pilot cohort and its verdict use the "
                     f"contract's pilot.size {size}")
    first = session.scalar(select(func.min(Lead.delivered_on)).where(Lead.supplier_id == supplier_id))
    anchor = start_date
    if first is not None and first != start_date:
        anchor = max(first, start_date)
        notes.append(f"start_date {start_date} differs from the first stored delivery {first}: the cohort "
                     f"starts at the first delivery; maturity is counted from {anchor}")
    window_last_day = anchor + timedelta(days=duration - 1)  # the cohort takes leads delivered < first + duration
    condition = ledger_store.cohort_condition(session, supplier_id, parse_period("pilot"), contract)
    leads, last = session.execute(select(func.count(Lead.id), func.max(Lead.delivered_on)).where(condition)).one()
    full = leads >= size
    last_delivery = last if full and last is not None else window_last_day
    closes = last_delivery + timedelta(days=window)
    supplier = session.get(Supplier, supplier_id)
    if supplier is not None and supplier.state != "pilot":
        notes.append(f"the supplier is already {supplier.state!r}: a new decision would replace that state")
    return PilotMaturity(
        supplier_id=supplier_id, as_of=as_of, start_date=start_date, first_delivery=first,
        window_last_day=window_last_day, cohort_leads=int(leads), cohort_full=full, last_delivery=last_delivery,
        contest_closes_on=closes, matured_on=closes + timedelta(days=1), matured=as_of > closes,
        supplier_state=supplier.state if supplier else None, notes=tuple(notes),
    )


@task(cache_policy=NO_CACHE)
def check_maturity(supplier_id: str, contract_file: ContractFile, start_date: date, as_of: date,
                   pilot_size: int | None) -> PilotMaturity:
    """Has the contest window of the pilot's last delivery closed by ``as_of``?"""
    if contract_file.contract.supplier.id != supplier_id:
        raise ValueError(f"the contract is supplier {contract_file.contract.supplier.id!r}'s, "
                         f"not {supplier_id!r}'s")
    url = get_settings().effective_database_url
    upgrade(url)
    with session_scope(url) as session:
        found = maturity(session, supplier_id, contract_file, start_date, as_of, pilot_size)
    logger = get_run_logger()
    for note in found.notes:
        logger.warning(note)
    return found


@task(cache_policy=NO_CACHE)
def publish_not_matured(found: PilotMaturity) -> None:
    """The run's answer when it is too early: when to rerun, and why."""
    lines = [
        f"# Pilot of {found.supplier_id}: not matured yet",
        "",
        f"As of {found.as_of}, the contest window of the pilot's last delivery ({found.last_delivery}) is still "
        f"open until {found.contest_closes_on} included: no verdict yet, nothing recorded.",
        "",
        f"**Rerun on or after {found.matured_on}.**",
        "",
        f"Cohort so far: {found.cohort_leads} lead(s){' (full)' if found.cohort_full else ''}; "
        f"pilot window ends {found.window_last_day}.",
    ]
    lines += ["", *[f"- {note}" for note in found.notes]] if found.notes else []
    create_markdown_artifact("\n".join(lines), key=artifact_key(found.supplier_id, "verdict"),
                             description=f"Pilot not matured yet: rerun on or after {found.matured_on}")


@task(cache_policy=NO_CACHE)
def compute_verdict(supplier_id: str, as_of: date) -> dict:
    """The verdict of the pilot cohort (``PilotVerdict.as_dict()``) and the pilot report's path."""
    settings = get_settings()
    url, tz = settings.effective_database_url, settings.timezone
    with session_scope(url) as session:
        context, verdict = pilot_context(session, supplier_id, tz, as_of)
        report = write_pilot_report(session, supplier_id, tz, as_of, settings.output_dir / "reports")
    return {**verdict.as_dict(), "supplier_name": context["supplier"], "contract_id": context["contract"],
            "cohort_first": context["first"], "cohort_last": context["last"], "pilot_size": context["size"],
            "delivered": context["kpis"].delivered, "report_path": str(report)}


@task(cache_policy=NO_CACHE)
def send_verdict_alert(contract_file: ContractFile, verdict: dict) -> dict:
    """Record the PILOT_VERDICT alert in the outbox (once per supplier: its key is the supplier's
    pilot) and send what is pending to Slack (kept pending when Slack is not configured)."""
    settings = get_settings()
    alerts = pilot_verdict_alert(contract_file.contract, verdict=verdict["verdict"], reasons=verdict["reasons"],
                                 report_path=verdict["report_path"])
    run = evaluate_and_send(settings.effective_database_url, settings, lambda session: record(session, alerts))
    if run.error:
        get_run_logger().warning(run.error)
    return {"new": list(run.new), "sent": run.sent.sent, "failed": run.sent.failed, "kept": run.sent.kept,
            "error": run.error, "channel": alerts[0].channel}


def _interval(check: dict) -> str:
    if check["low"] is None:
        return "n/a"
    return f"{100 * check['low']:.1f}–{100 * check['high']:.1f} %"


def verdict_markdown(verdict: dict, as_of: date, notes: tuple[str, ...] = ()) -> str:
    """The verdict, its checks with their 95 % intervals, the reasons and the clauses (counts and
    rates only: never a lead's personal data)."""
    lines = [
        f"# Pilot verdict of {verdict['supplier_name']} ({verdict['contract_id']}): **{verdict['verdict']}**",
        "",
        f"As of {as_of}: {verdict['delivered']} lead(s) delivered from {verdict['cohort_first']} to "
        f"{verdict['cohort_last']} (pilot.size {verdict['pilot_size']}).",
        "The verdict is a recommendation: the contract owner decides (approve, renegotiate, terminate).",
        "",
        "| check | measured | threshold | numerator / denominator | 95 % CI | holds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in verdict["checks"]:
        sign = "≤" if c["direction"] == "max" else "≥"
        lines.append(f"| {c['name']} | {percent(c['measured'])} | {sign} {percent(c['threshold'])} | "
                     f"{c['numerator']} / {c['denominator']} | {_interval(c)} | {'yes' if c['held'] else 'no'} |")
    lines += ["", "## Reasons", ""]
    lines += [f"- {r}" for r in verdict["reasons"]] or ["- none"]
    lines += ["", "## Clauses to renegotiate", "", ", ".join(verdict["clauses"]) or "none"]
    if verdict["top_reasons"]:
        lines += ["", "## Top rejection reasons", ""]
        lines += [f"- {r['code']}: {r['count']}" for r in verdict["top_reasons"]]
    if verdict["objections"]:
        lines += ["", "## Recurring objections", ""]
        lines += [f"- {name}: {count}" for name, count in verdict["objections"]]
    if notes:
        lines += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    lines += ["", f"Report: `{verdict['report_path']}`"]
    return "\n".join(lines)


@task(cache_policy=NO_CACHE)
def publish_verdict(supplier_id: str, verdict: dict, as_of: date, notes: tuple[str, ...] = ()) -> str:
    """The verdict as a markdown artifact and its checks as a table artifact; returns the markdown
    (shown again above the decision form)."""
    markdown = verdict_markdown(verdict, as_of, notes)
    create_markdown_artifact(markdown, key=artifact_key(supplier_id, "verdict"),
                             description=f"Pilot verdict {verdict['verdict']} as of {as_of}")
    table = [{
        "check": c["name"], "measured": c["measured"], "threshold": c["threshold"], "direction": c["direction"],
        "numerator": c["numerator"], "denominator": c["denominator"], "ci95_low": c["low"], "ci95_high": c["high"],
        "holds": c["held"], "clearly_missed": c["clearly_missed"], "uncertain": c["uncertain"],
    } for c in verdict["checks"]]
    create_table_artifact(table, key=artifact_key(supplier_id, "checks"),
                          description="Pilot checks with their Wilson 95 % intervals")
    return markdown


@task(cache_policy=NO_CACHE)
def publish_no_decision(supplier_id: str, message: str) -> None:
    """Say on the run's decision artifact that nobody decided (nothing is stored in the database)."""
    create_markdown_artifact(f"# Pilot of {supplier_id}: no decision taken\n\n{message}",
                             key=artifact_key(supplier_id, "decision"), description="No decision taken")


@task(cache_policy=NO_CACHE)
def record_pilot_decision(supplier_id: str, verdict: str, decision: str, comment: str, decided_by: str,
                          report_path: str | None) -> dict:
    """Store the owner's decision; the supplier moves to the state it implies (one transaction)."""
    with session_scope(get_settings().effective_database_url) as session:
        row = record_decision(session, supplier_id=supplier_id, verdict=verdict, decision=decision,
                              comment=comment, decided_by=decided_by, report_path=report_path)
        state = session.get(Supplier, supplier_id).state
        stored = {"decision_id": row.id, "verdict": row.verdict, "decision": row.decision, "comment": row.comment,
                  "decided_by": row.decided_by, "state": state}
    create_markdown_artifact(
        f"# Pilot decision of {supplier_id}: **{decision}**\n\nVerdict {verdict}; decided by {decided_by}; "
        f"the supplier is now `{state}`.\n\nComment: {comment}",
        key=artifact_key(supplier_id, "decision"), description=f"Pilot decision: {decision}")
    return stored
