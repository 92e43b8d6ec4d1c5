"""The committee outbox: each published report revision (HTML and PDF) and its deliveries.

A ``CommitteePack`` is one revision of a report for the committee (the quarterly review, a pilot
report): its files and the short message that goes with them. Its ``fingerprint`` is the report's
content (without the day it was generated), so publishing the same figures again stores nothing,
and a report whose figures changed becomes the next ``revision``. Each ``CommitteeDelivery`` is
one way the pack reaches the committee: the committee's Slack channel, or one e-mail recipient.
Deliveries move through the outbox states of alerts (pending, sending, sent, failed), so a
delivery that failed is retried by the next run and one that was sent is never sent again.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.statuses import AlertStatus, DeliveryMedium, allowed


class CommitteePack(Base):
    __tablename__ = "committee_pack"
    __table_args__ = (UniqueConstraint("report", "revision"), UniqueConstraint("report", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the report is about: ``review:2027-Q1``, ``pilot:acme-leads``.
    report: Mapped[str] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: The alert that announces the report (its Slack message is this pack's message).
    alert_key: Mapped[str | None] = mapped_column(String(300))
    locale: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    html_name: Mapped[str] = mapped_column(String(200))
    html: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_name: Mapped[str] = mapped_column(String(200))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommitteeDelivery(Base):
    __tablename__ = "committee_delivery"
    __table_args__ = (
        UniqueConstraint("pack_id", "medium", "target"),
        Index("ix_committee_delivery_status", "status"),
        allowed("medium", DeliveryMedium),
        allowed("status", AlertStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("committee_pack.id"))
    medium: Mapped[str] = mapped_column(String(10))
    #: The Slack channel (``#name`` or an id), or the e-mail address.
    target: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
