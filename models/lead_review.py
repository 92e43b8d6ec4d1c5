"""Review decisions: who accepted or rejected a lead held in review, when, and why (docs/governance.md,
The review tier). One row per decided lead; the lead's own ``status`` and ``decided_on`` say the same
for the rules that bill and count it."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.statuses import ReviewDecision, allowed


class LeadReviewDecision(Base):
    """The decision on one lead in review: ``decided_by`` a person, or ``deadline`` for the daily check."""

    __tablename__ = "lead_review_decision"
    __table_args__ = (allowed("decision", ReviewDecision),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_pk: Mapped[int] = mapped_column(ForeignKey("lead.id"), unique=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    decided_on: Mapped[date]
    decided_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
