"""Replacement claims: what a supplier owes back for each rejected or contested lead."""

from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, BigIntPK
from leadgov.models.statuses import ClaimOrigin, ClaimStatus, allowed

_FILLED_SQL = "filled_by_lead_pk IS NOT NULL"


class ReplacementClaim(Base):
    """One claim per rejected or contested lead (docs/governance.md, Replacements).

    Each transition happens at most once, so the claim's history is its dated columns:
    opened (``opened_on``, ``origin``), filled (``filled_on`` by ``filled_by_lead_pk``),
    overdue (``overdue_on``), credited (``credited_on`` on ``credited_statement_id``).
    Replacements that came too late or were themselves rejected are the leads whose
    ``replaces_lead_id`` names the claim's lead.
    """

    __tablename__ = "replacement_claim"
    __table_args__ = (
        Index("ix_replacement_claim_supplier_id_status", "supplier_id", "status"),
        Index("ix_replacement_claim_supplier_id_lead_id", "supplier_id", "lead_id"),
        Index("ix_replacement_claim_filled_by_lead_pk", "filled_by_lead_pk",
              sqlite_where=text(_FILLED_SQL), postgresql_where=text(_FILLED_SQL)),
        allowed("status", ClaimStatus),
        allowed("origin", ClaimOrigin),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    lead_pk: Mapped[int] = mapped_column(ForeignKey("lead.id"), unique=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"))
    lead_id: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
    opened_on: Mapped[date]
    month: Mapped[str] = mapped_column(String(7))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(15))
    #: Indexed (``ix_replacement_claim_filled_by_lead_pk``, partial: a claim is opened unfilled, so
    #: opening claims writes nothing to it): a statement joins the claims its cohort's leads filled.
    filled_by_lead_pk: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    filled_on: Mapped[date | None]
    overdue_on: Mapped[date | None]
    credited_on: Mapped[date | None]
    credited_statement_id: Mapped[int | None] = mapped_column(ForeignKey("billing_statement.id"))
