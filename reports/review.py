"""The quarterly governance review: every supplier side by side, week-by-week trends, a
recommendation with the figures that justify it, and the decision log.

Cohorts (docs/governance-rules.md, Reports): a week's leads are judged on conversion only once
they are ``MATURITY_DAYS`` old, so the last weeks of a quarter are not scored too early; the
report names the weeks that are not mature yet.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgov.formatting import format_rate
from leadgov.governance import contract_for, supplier_kpis
from leadgov.kpis import Kpis
from leadgov.periods import Period, months_in, parse_period, week_of
from leadgov.recommendation import recommend
from leadgov.models import billing_store
from leadgov.models.delivery import Lead
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.pilot import decisions
from leadgov.models.supplier import Supplier
from leadgov.reports import charts
from leadgov.reports.i18n import LABELS
from leadgov.reports.render import render, write

#: Days after its last delivery day before a week's conversion (appointments, opportunities,
#: deals) is judged: about the time our team needs to call, meet and qualify.
MATURITY_DAYS = 30


def quarter_weeks(quarter: Period) -> list[Period]:
    """The ISO weeks that start in the quarter (a week belongs to the quarter of its Monday)."""
    weeks, monday = [], week_of(quarter.start).start
    if monday < quarter.start:
        monday += timedelta(days=7)
    while monday <= quarter.end:
        weeks.append(week_of(monday))
        monday += timedelta(days=7)
    return weeks


def mature_weeks(weeks: list[Period], as_of: date) -> tuple[list[Period], list[Period]]:
    """(mature, not yet mature) weeks as of a day."""
    mature = [w for w in weeks if w.end + timedelta(days=MATURITY_DAYS) <= as_of]
    return mature, [w for w in weeks if w not in mature]


@dataclass(frozen=True)
class Amounts:
    billed: Decimal
    frozen: Decimal
    credited: Decimal
    frozen_months: list[dict]


def quarter_amounts(session: Session, supplier_id: str, quarter: Period) -> Amounts:
    """Billed (gross minus cap excess), frozen (amount due of frozen statements) and credited,
    from the latest revision of each month's statement."""
    statements = billing_store.latest_statements(session, supplier_id, months_in(quarter))
    zero = Decimal("0.00")
    return Amounts(
        billed=sum((s.gross_eur - s.cap_excess_eur for s in statements), zero),
        frozen=sum((s.amount_due_eur for s in statements if s.frozen), zero),
        credited=sum((s.credits_eur for s in statements), zero),
        frozen_months=[{"month": s.month, "revision": s.revision, "reasons": json.loads(s.freeze_reasons)}
                       for s in statements if s.frozen],
    )


def contests_of(session: Session, supplier_id: str, quarter: Period) -> list[dict]:
    """Contests of the quarter's leads, for the decision log."""
    rows = session.execute(
        select(OutcomeEvent.at, OutcomeEvent.lead_id, OutcomeEvent.contest_reason).join(Lead, Lead.id == OutcomeEvent.lead_pk)
        .where(OutcomeEvent.supplier_id == supplier_id, OutcomeEvent.event == "contest",
               Lead.delivered_on.between(quarter.start, quarter.end)).order_by(OutcomeEvent.at)
    ).all()
    return [{"at": at.date(), "lead_id": lead_id, "reason": reason} for at, lead_id, reason in rows]


def supplier_section(session: Session, supplier: Supplier, quarter: Period, tz: str, as_of: date,
                     locale: str) -> dict:
    """One supplier's column of the review, its charts and its recommendation."""
    _, contract = contract_for(session, supplier.id, quarter.end)
    kpis = supplier_kpis(session, supplier.id, quarter, tz, as_of)
    weeks = quarter_weeks(quarter)
    weekly = [supplier_kpis(session, supplier.id, w, tz, as_of) for w in weeks]
    mature, young = mature_weeks(weeks, as_of)
    conversion = _conversion(session, supplier.id, quarter, mature, tz, as_of)
    previous = _previous_quarter(session, supplier.id, quarter, tz, as_of)
    amounts = quarter_amounts(session, supplier.id, quarter)
    labels = LABELS[locale]
    return {
        "id": supplier.id, "name": supplier.name, "contract": contract, "kpis": kpis, "conversion": conversion,
        "weekly": weekly, "young_weeks": [w.label for w in young], "amounts": amounts,
        "funnel": {row["stage"]: row["count"] for row in conversion.funnel},
        "recommendation": recommend(kpis, contract, frozen_months=len(amounts.frozen_months), previous=previous),
        "contests": contests_of(session, supplier.id, quarter),
        "pilot_decisions": [{"at": d.decided_at.date(), "verdict": d.verdict, "decision": d.decision,
                             "comment": d.comment} for d in decisions(session, supplier.id)],
        "charts": {
            "reject": charts.line_chart(
                [(w.label[-3:], k.reject_rate) for w, k in zip(weeks, weekly)], title=labels["chart_reject"],
                y_label=labels["reject_rate"], locale=locale, percent=True, threshold=contract.quality.max_reject_rate,
                threshold_label=labels["threshold_line"].format(value=format_rate(contract.quality.max_reject_rate, locale))),
            "volume": charts.bar_chart(
                [(w.label[-3:], k.delivered) for w, k in zip(weeks, weekly)], title=labels["chart_volume"],
                y_label=labels["leads_unit"], locale=locale, target=contract.volumes.weekly_target,
                target_label=labels["target"], band=(contract.volumes.weekly_target * 0.8, contract.volumes.weekly_max),
                band_label=labels["band"]),
            "funnel": charts.funnel_chart(
                [(labels[s["stage"]], s["count"]) for s in conversion.funnel], title=labels["chart_funnel"],
                locale=locale),
        },
    }


def _conversion(session: Session, supplier_id: str, quarter: Period, mature: list[Period], tz: str,
                as_of: date) -> Kpis:
    """KPIs of the mature weeks' leads only: what conversion rates are judged on."""
    end = mature[-1].end if mature else quarter.start - timedelta(days=1)
    span = Period("quarter", f"{quarter.label} (mature)", quarter.start, min(end, quarter.end))
    return supplier_kpis(session, supplier_id, span, tz, as_of)


def _previous_quarter(session: Session, supplier_id: str, quarter: Period, tz: str, as_of: date) -> Kpis | None:
    day = quarter.start - timedelta(days=1)
    previous = parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    kpis = supplier_kpis(session, supplier_id, previous, tz, as_of)
    return kpis if kpis.delivered else None


def review_context(session: Session, quarter_label: str, tz: str, as_of: date, locale: str) -> dict:
    """Every supplier that delivered in the quarter, side by side."""
    quarter = parse_period(quarter_label)
    if quarter.kind != "quarter":
        raise ValueError(f"{quarter_label!r} is not a quarter like 2027-Q1")
    ids = session.scalars(select(Lead.supplier_id).where(Lead.delivered_on.between(quarter.start, quarter.end))
                          .distinct()).all()
    suppliers = [session.get(Supplier, i) for i in sorted(ids)]
    weeks = quarter_weeks(quarter)
    _, young = mature_weeks(weeks, as_of)
    return {
        "quarter": quarter, "as_of": as_of, "maturity_days": MATURITY_DAYS, "young_weeks": [w.label for w in young],
        "suppliers": [supplier_section(session, s, quarter, tz, as_of, locale) for s in suppliers],
    }


def write_review_report(session: Session, quarter_label: str, tz: str, as_of: date, locale: str, out_dir: Path) -> Path:
    context = review_context(session, quarter_label, tz, as_of, locale)
    html = render("review.html.j2", locale, **context)
    return write(html, out_dir / f"review-{quarter_label}.html")
