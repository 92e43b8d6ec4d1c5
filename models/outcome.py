"""What the buyer's team did with the leads: one row per imported outcome event."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, BigIntPK, utcnow
from leadgov.models.statuses import OutcomeEventType, allowed


class OutcomeEvent(Base):
    """One event of the CRM or phoning tool's export (docs/governance.md, Outcomes).

    ``at`` is stored in UTC (naive). The triple (lead, event, at) is unique: importing the same
    export twice, or two exports that overlap, stores each event once.
    """

    __tablename__ = "outcome_event"
    __table_args__ = (
        UniqueConstraint("lead_pk", "event", "at"),
        Index("ix_outcome_event_supplier_id_event", "supplier_id", "event"),
        allowed("event", OutcomeEventType),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    lead_pk: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"))
    lead_id: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    contest_reason: Mapped[str | None] = mapped_column(Text)
    amount_eur: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # parse_amounts: up to 15 digits
    objection: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))
    #: Who recorded the event: the person who typed a contest (``leadgov contest --by``), or who ran the
    #: import (the command's user, the flow run); NULL for events imported before it was kept.
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
