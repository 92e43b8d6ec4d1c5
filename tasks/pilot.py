"""Tasks of a supplier's pilot: each step of ``leadgov.services.pilot`` as its Prefect task (start or
follow the pilot, is it matured, the verdict, its report, the committee's alert, the owner's
decision), and the artifacts, keyed per pilot (``pilot-<supplier>-<pilot id>-<what>``).

Reads are retried when the database could not be reached; starting a pilot and recording the
decision are not (a retry after a commit would do it twice). Artifacts carry counts, rates and ids:
never a lead's personal data.
"""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.formatting import counted
from leadgov.reports.artifacts import Table, markdown
from leadgov.services import pilot
from leadgov.services.pilot import PilotDecisionResult, PilotJudgement, PilotMaturity
from leadgov.tasks.common import artifact_key, step_task

open_pilot = step_task(pilot.open_pilot, name="open_pilot")
start_pilot = step_task(pilot.start_pilot, name="start_pilot")
check_maturity = step_task(pilot.pilot_maturity, retry="database", name="check_maturity")
compute_verdict = step_task(pilot.assess, retry="database", name="compute_verdict")
write_pilot_report = step_task(pilot.write_report, name="write_pilot_report")
send_verdict_alert = step_task(pilot.raise_verdict_alert, name="send_verdict_alert")
record_pilot_decision = step_task(pilot.decide_pilot, name="record_pilot_decision")


def pilot_key(supplier_id: str, pilot_id: int | None, what: str) -> str:
    """``pilot-<supplier>-<pilot id>-<what>``: each pilot of a supplier has its own artifacts."""
    return artifact_key("pilot", supplier_id, pilot_id, what)


def waiting_markdown(found: PilotMaturity) -> str:
    """Until when the run waits, and why."""
    return markdown(
        f"Pilot {found.pilot_id} of {found.supplier_id}: waiting",
        f"As of {found.as_of}, the contest window of the pilot's last delivery ({found.last_delivery}) is still "
        f"open until {found.contest_closes_on} included: no verdict yet, nothing recorded.",
        f"**The run waits and judges the pilot by itself from {found.matured_on}** (earlier if the cohort fills).",
        f"Cohort so far: {counted(found.cohort_leads, 'lead')}{' (full)' if found.cohort_full else ''}; "
        f"pilot window from {found.start_date} to {found.window_last_day}.",
        *(["\n".join(f"- {note}" for note in found.notes)] if found.notes else []),
    )


@task(cache_policy=NO_CACHE)
def publish_waiting(found: PilotMaturity) -> None:
    """Say until when the run waits (each time that day changes)."""
    create_markdown_artifact(waiting_markdown(found), key=pilot_key(found.supplier_id, found.pilot_id, "verdict"),
                             description=f"Pilot not matured yet: judged from {found.matured_on}")


def percent(rate: float | None) -> str:
    """``0.22`` as ``22.0 %``; no rate as ``n/a`` (as the verdict's reasons read)."""
    return "n/a" if rate is None else f"{100 * rate:.1f} %"


def interval(low: float | None, high: float | None) -> str:
    return "n/a" if low is None or high is None else f"{100 * low:.1f}–{100 * high:.1f} %"


def verdict_markdown(judgement: PilotJudgement, notes: tuple[str, ...] = ()) -> str:
    """The verdict, its checks with their 95 % intervals, the reasons and the clauses."""
    a, v = judgement.assessment, judgement.assessment.verdict
    checks = Table(("check", "measured", "threshold", "numerator / denominator", "95 % CI", "holds"), [
        (c.name, percent(c.measured), f"{'≤' if c.direction == 'max' else '≥'} {percent(c.threshold)}",
         f"{c.numerator} / {c.denominator}", interval(c.low, c.high), c.held) for c in v.checks])
    blocks: list[str | Table] = [
        f"Pilot {a.pilot_id}, started {a.start_day}. As of {a.as_of}: {counted(a.kpis.delivered, 'lead')} "
        f"delivered from {a.first} to {a.last} (pilot.size {a.size}). "
        "The verdict is a recommendation: the contract owner decides (approve, renegotiate, terminate).",
        checks,
        "## Reasons",
        "\n".join(f"- {r}" for r in v.reasons) or "- none",
        "## Clauses to renegotiate",
        ", ".join(v.clauses) or "none",
    ]
    if v.top_reasons:
        blocks += ["## Top rejection reasons", "\n".join(f"- {r['code']}: {r['count']}" for r in v.top_reasons)]
    if v.objections:
        blocks += ["## Recurring objections", "\n".join(f"- {name}: {count}" for name, count in v.objections)]
    if notes:
        blocks += ["## Notes", "\n".join(f"- {n}" for n in notes)]
    blocks.append(f"Report: `{judgement.report_path}`")
    return markdown(f"Pilot verdict of {a.supplier_name} ({a.contract_id}): **{v.verdict}**", *blocks)


@task(cache_policy=NO_CACHE)
def publish_verdict(judgement: PilotJudgement, notes: tuple[str, ...] = ()) -> str:
    """The verdict as a markdown artifact and its checks as a table artifact; returns the markdown
    (shown again above the decision form)."""
    text = verdict_markdown(judgement, notes)
    v = judgement.assessment.verdict
    create_markdown_artifact(text, key=pilot_key(judgement.supplier_id, judgement.assessment.pilot_id, "verdict"),
                             description=f"Pilot verdict {v.verdict} as of {judgement.assessment.as_of}")
    table = [{
        "check": c.name, "measured": c.measured, "threshold": c.threshold, "direction": c.direction,
        "numerator": c.numerator, "denominator": c.denominator, "ci95_low": c.low, "ci95_high": c.high,
        "holds": c.held, "clearly_missed": c.clearly_missed, "uncertain": c.uncertain,
    } for c in v.checks]
    create_table_artifact(table, key=pilot_key(judgement.supplier_id, judgement.assessment.pilot_id, "checks"),
                          description="Pilot checks with their Wilson 95 % intervals")
    return text


@task(cache_policy=NO_CACHE)
def publish_no_decision(supplier_id: str, pilot_id: int, message: str) -> None:
    """Say on the run's decision artifact that nobody decided (nothing is stored in the database)."""
    create_markdown_artifact(markdown(f"Pilot {pilot_id} of {supplier_id}: no decision taken", message),
                             key=pilot_key(supplier_id, pilot_id, "decision"), description="No decision taken")


@task(cache_policy=NO_CACHE)
def publish_decision(decided: PilotDecisionResult) -> None:
    """The decision, who took it and the supplier's new state."""
    create_markdown_artifact(
        markdown(f"Pilot {decided.pilot_id} decision of {decided.supplier_id}: **{decided.decision}**",
                 f"Verdict {decided.verdict}; decided by {decided.decided_by}; the supplier is now `{decided.state}`; "
                 f"{counted(decided.released, 'held lead')} billed on this month's statement.",
                 f"Comment: {decided.comment}"),
        key=pilot_key(decided.supplier_id, decided.pilot_id, "decision"),
        description=f"Pilot decision: {decided.decision}")
