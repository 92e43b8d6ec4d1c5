"""Monthly billing statements and their lines, kept revision by revision."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, BigIntPK, utcnow

Money = Numeric(14, 2)


class BillingStatement(Base):
    """One revision of a supplier's statement for a calendar month (docs/governance.md, Billing).

    Recomputing a month adds a revision; earlier revisions stay, so what was sent can always be
    shown again. ``freeze_reasons`` is a JSON list of readable reasons.
    """

    __tablename__ = "billing_statement"
    __table_args__ = (UniqueConstraint("supplier_id", "month", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"))
    month: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer)
    contract_version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"))
    model: Mapped[str] = mapped_column(String(20))
    unit_price_eur: Mapped[Decimal] = mapped_column(Money)
    fixed_fee_eur: Mapped[Decimal] = mapped_column(Money)
    billable_units: Mapped[int] = mapped_column(Integer)
    gross_eur: Mapped[Decimal] = mapped_column(Money)
    budget_cap_eur: Mapped[Decimal | None] = mapped_column(Money)
    cap_excess_eur: Mapped[Decimal] = mapped_column(Money)
    credits_eur: Mapped[Decimal] = mapped_column(Money)
    amount_due_eur: Mapped[Decimal] = mapped_column(Money)
    frozen: Mapped[bool] = mapped_column(Boolean)
    freeze_reasons: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who computed this revision: the command's user, the flow run, the demo (NULL before it was kept).
    computed_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(200))
    release_comment: Mapped[str | None] = mapped_column(Text)


class BillingLine(Base):
    """A billed unit or a credit note of a statement, by lead id, so an invoice can be checked line by line."""

    __tablename__ = "billing_line"
    __table_args__ = (Index("ix_billing_line_statement_id_kind", "statement_id", "kind"),
                      Index("ix_billing_line_lead_pk", "lead_pk"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("billing_statement.id"))
    kind: Mapped[str] = mapped_column(String(10))
    lead_pk: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    lead_id: Mapped[str | None] = mapped_column(Text)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("replacement_claim.id"))
    amount_eur: Mapped[Decimal] = mapped_column(Money)
