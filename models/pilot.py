"""Pilot decisions: the contract owner's answer to a pilot verdict, and the supplier's new state."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.statuses import Decision, SupplierState, allowed
from leadgov.models.supplier import Supplier

#: The supplier's state after each decision (a supplier starts in ``pilot``).
STATE_AFTER: dict[Decision, SupplierState] = {Decision.APPROVE: SupplierState.ACTIVE,
                                              Decision.RENEGOTIATE: SupplierState.RENEGOTIATING,
                                              Decision.TERMINATE: SupplierState.TERMINATED}


class PilotDecision(Base):
    """One decision on a pilot: the verdict leadgov recommended and what the owner decided, why."""

    __tablename__ = "pilot_decision"
    __table_args__ = (allowed("decision", Decision),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_path: Mapped[str | None] = mapped_column(String(500))


def record_decision(session: Session, *, supplier_id: str, verdict: str, decision: Decision, comment: str,
                    decided_by: str, report_path: str | None = None,
                    decided_at: datetime | None = None) -> PilotDecision:
    """Store the decision and move the supplier to the state it implies (never commits).
    ``decided_at`` defaults to now (a replay, like the demo, gives its own day)."""
    if decision not in STATE_AFTER:
        raise ValueError(f"unknown decision {decision!r}: approve, renegotiate or terminate")
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise LookupError(f"unknown supplier {supplier_id!r}")
    row = PilotDecision(supplier_id=supplier_id, verdict=verdict, decision=decision, comment=comment,
                        decided_by=decided_by, report_path=report_path, decided_at=decided_at or utcnow())
    session.add(row)
    supplier.state = STATE_AFTER[Decision(decision)]
    session.flush()
    return row


def decisions(session: Session, supplier_id: str) -> list[PilotDecision]:
    return list(session.scalars(select(PilotDecision).where(PilotDecision.supplier_id == supplier_id)
                                .order_by(PilotDecision.decided_at, PilotDecision.id)))
