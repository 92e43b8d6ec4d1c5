"""What the governance jobs read besides a ledger: the suppliers a month bills and a quarter reviews,
the span of a pilot cohort, and a quarter's contests. Functions take a session and never commit."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from leadgov.models.delivery import Delivery, Lead
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.supplier import ContractVersion


def contracted_supplier_ids(session: Session) -> list[str]:
    """Every supplier with at least one stored contract version, by id."""
    return sorted(session.scalars(select(ContractVersion.supplier_id).distinct()).all())


def suppliers_delivering(session: Session, start: date, end: date) -> list[str]:
    """The suppliers that delivered at least one lead from ``start`` to ``end`` (inclusive), by id: their
    deliveries of the period that hold a lead (every row of a delivery is a stored lead, counted in
    ``delivered_count``; a header-only file is stored with none)."""
    return sorted(session.scalars(select(Delivery.supplier_id).where(Delivery.delivered_on.between(start, end),
                                                                     Delivery.delivered_count > 0)
                                  .distinct()).all())


@dataclass(frozen=True)
class CohortSpan:
    """How many leads a cohort holds and the days of its first and last delivery (None when empty)."""

    leads: int
    first: date | None
    last: date | None


def cohort_span(session: Session, condition: ColumnElement[bool]) -> CohortSpan:
    """The span of the leads matching ``condition`` (a cohort condition of ``ledger_store``)."""
    leads, first, last = session.execute(
        select(func.count(Lead.id), func.min(Lead.delivered_on), func.max(Lead.delivered_on)).where(condition)).one()
    return CohortSpan(int(leads), first, last)


def contests_between(session: Session, supplier_id: str, start: date,
                     end: date) -> list[tuple[datetime, str, str | None, str | None]]:
    """(at in UTC, lead id, reason, who recorded it) of the contests of the supplier's leads delivered
    from ``start`` to ``end``, oldest first."""
    rows = session.execute(
        select(OutcomeEvent.at, OutcomeEvent.lead_id, OutcomeEvent.contest_reason, OutcomeEvent.recorded_by)
        .join(Lead, Lead.id == OutcomeEvent.lead_pk)
        .where(OutcomeEvent.supplier_id == supplier_id, OutcomeEvent.event == "contest",
               Lead.delivered_on.between(start, end)).order_by(OutcomeEvent.at)
    ).all()
    return [(at, lead_id, reason, by) for at, lead_id, reason, by in rows]


def contract_versions_between(session: Session, supplier_id: str, start: date, end: date) -> list[ContractVersion]:
    """The supplier's contract versions that took effect (or, without an effective day, were stored)
    from ``start`` to ``end``, in that order."""
    versions = session.scalars(select(ContractVersion).where(ContractVersion.supplier_id == supplier_id)
                               .order_by(ContractVersion.id)).all()
    dated = [(v.effective_from or v.loaded_at.date(), v) for v in versions]
    return [v for day, v in sorted(dated, key=lambda pair: pair[0]) if start <= day <= end]
