"""The alert outbox: every alert stored once under its key, then sent (or kept) from here."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.statuses import AlertStatus, allowed


class OutboxAlert(Base):
    """One alert event (docs/governance.md, Alerts) and its delivery state.

    ``key`` = type|supplier|period is unique: a rerun, a retry or a second worker that raises
    the same alert finds it stored and adds nothing, so it is sent once. ``status``: pending
    (not sent yet, or Slack not configured), sending (a worker holds it since ``claimed_at``),
    sent, failed (kept and retried by the next run; ``last_error`` says why).
    """

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_status", "status"), allowed("status", AlertStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    supplier_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(40))
    figure: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(2))
    facts: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    #: The incident the alert belongs to (``models.incident``); None for notices (a pilot verdict, a
    #: review, a renewal), which are never threaded.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    #: Slack's id (``ts``) of the message that carried the alert, once sent through the Web API.
    slack_ts: Mapped[str | None] = mapped_column(String(40))
