"""Deliveries, their leads and each lead's rejection reasons."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, BigIntPK, utcnow
from leadgov.models.statuses import LeadStatus, allowed


class Delivery(Base):
    """One file received from one supplier, validated under one contract version.

    The (supplier, file hash) pair is unique: the same bytes are never stored twice, even when two
    validations race (the database refuses the second).
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("supplier_id", "file_sha256"),
        # What a lead's one foreign key points at: its delivery and that delivery's supplier.
        UniqueConstraint("id", "supplier_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"), index=True)
    contract_version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"))
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    delivered_on: Mapped[date] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str | None] = mapped_column(String(2))
    delivered_count: Mapped[int] = mapped_column(Integer)
    accepted_count: Mapped[int] = mapped_column(Integer)
    rejected_count: Mapped[int] = mapped_column(Integer)
    over_cap_count: Mapped[int] = mapped_column(Integer)


_DECIDED_SQL = "decided_on IS NOT NULL"


class Lead(Base):
    """One delivered row: its ids, the normalised values queries read (SIREN, email, phone), identity
    keys and the verdict. Its raw record and its other supplied values (company, person, target, consent)
    are kept in its delivery's blocks (``models.raw_record``), which no query needs to join.

    Every column holding a supplier's value is unbounded text: a delivery decides what is
    rejected, the database never truncates or refuses a value (PostgreSQL would, in a VARCHAR(n)).

    ``email_key``/``phone_key`` are keyed 64-bit hashes of the *valid* normalised email and phone
    (see ``leadgov.identity``); duplicate look-ups search them in the delivery's identity runs
    (``models.identity``), so they carry no index here.
    """

    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("delivery_id", "row_number"),
        # One check per stored lead, not two: its delivery exists and is its supplier's (whose supplier
        # exists: the delivery's own key). Two keys cost a million-lead delivery a second million
        # look-ups (4 s of PostgreSQL's 18 s store).
        ForeignKeyConstraint(["delivery_id", "supplier_id"], ["delivery.id", "delivery.supplier_id"]),
        Index("ix_lead_supplier_id_lead_id", "supplier_id", "lead_id"),
        # No index on the delivery day: a period's leads are found through their deliveries
        # (``delivered_between``), so storing a lead inserts into one index fewer.
        # Partial: only the few leads settled after their delivery have an entry, so storing a delivery
        # (whose leads have none) costs nothing, and a month's statement finds its cohort through two
        # index ranges instead of walking every lead of the supplier (``models.ledger_store.billing_condition``).
        Index("ix_lead_supplier_id_decided_on", "supplier_id", "decided_on",
              sqlite_where=text(_DECIDED_SQL), postgresql_where=text(_DECIDED_SQL)),
        allowed("status", LeadStatus),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    delivery_id: Mapped[int]
    supplier_id: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)
    #: Its delivery's day, copied so that queries group and filter on it without a join; a period's leads
    #: are *found* through their deliveries (``delivered_between``).
    delivered_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10))
    primary_reason: Mapped[str | None] = mapped_column(String(40))
    flags: Mapped[str | None] = mapped_column(String(100))
    email_key: Mapped[int | None] = mapped_column(BigInteger)
    phone_key: Mapped[int | None] = mapped_column(BigInteger)

    lead_id: Mapped[str | None] = mapped_column(Text)
    siren: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    replaces_lead_id: Mapped[str | None] = mapped_column(Text)
    #: Whether the lead's data was erased (an erasure, the retention purge, or stored SUPPRESSED): its
    #: values, keys, raw record and supplied values are gone; its ids and verdict stay (``models.gdpr_store``).
    erased: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The day a person settled this lead after its delivery: a review decision (or the review deadline),
    #: or the approval of the pilot that held it (PILOT_HOLD). A lead with a day is billed on that day's
    #: month's statement instead of its delivery month's (``models.ledger_store.billing_condition``).
    decided_on: Mapped[date | None]


class LeadReason(Base):
    """One rejection reason of one lead, with its human-readable detail (never personal data).

    It points at its lead by (delivery, row number) so a delivery's reasons can be bulk-inserted
    beside its leads without reading back their generated ids.
    """

    __tablename__ = "lead_reason"
    __table_args__ = (
        ForeignKeyConstraint(["delivery_id", "row_number"], ["lead.delivery_id", "lead.row_number"]),
        Index("ix_lead_reason_delivery_id_row_number", "delivery_id", "row_number"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(Integer)
    row_number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")


def deliveries_between(supplier_id: str | None, first: date | None = None,
                       last: date | None = None) -> Select[int]:
    """The ids of the supplier's deliveries (of every supplier: None) from ``first`` to ``last``
    (inclusive; an end left None is open): a few rows of the delivery table."""
    deliveries = select(Delivery.id)
    if supplier_id is not None:
        deliveries = deliveries.where(Delivery.supplier_id == supplier_id)
    if first is not None:
        deliveries = deliveries.where(Delivery.delivered_on >= first)
    if last is not None:
        deliveries = deliveries.where(Delivery.delivered_on <= last)
    return deliveries


def delivered_between(supplier_id: str | None, first: date | None = None,
                      last: date | None = None) -> ColumnElement[bool]:
    """The leads of the supplier (of every supplier: None) delivered from ``first`` to ``last``
    (inclusive; an end left None is open), found through their deliveries (``deliveries_between``),
    then each delivery's leads on the lead table's own ``(delivery_id, row_number)`` index.

    The lead table has no index on the delivery day, which every stored lead would pay for (a
    million-lead delivery spent 0.9 s of its 7.8 s lead insert on it). A query using this condition
    leaves out ``Lead.supplier_id == ...`` (the deliveries are the supplier's): SQLite, which keeps no
    statistics here, would take that equality for the cheaper path and walk the supplier's every lead
    on ``(supplier_id, lead_id)`` (tests/models/test_period_plans.py)."""
    return Lead.delivery_id.in_(deliveries_between(supplier_id, first, last))


def decided_between(supplier_id: str, first: date, last: date) -> ColumnElement[bool]:
    """The supplier's leads a person settled after their delivery from ``first`` to ``last``
    (``Lead.decided_on``, inclusive): a range of the partial index ``ix_lead_supplier_id_decided_on``,
    whose own condition (a decision day is set) is stated so that the planner can take it."""
    return and_(Lead.supplier_id == supplier_id, Lead.decided_on.is_not(None), Lead.decided_on.between(first, last))
