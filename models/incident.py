"""Incidents: one ongoing problem of one supplier, for one alert type (docs/governance.md, Alerts).

The first alert of an incident is posted as a message in the managers' channel; the later ones,
while the incident is open, are posted as replies in its thread and refresh the first message's
figures (``head_outdated``); when the condition clears, a closing reply is posted
(``closing_status``) and the incident is closed. A partial unique index keeps at most one open
incident per (type, supplier), whichever worker opens it.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.statuses import AlertStatus, IncidentState, allowed

_OPEN = text("state = 'open'")


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        Index("uq_incident_open_type_supplier", "type", "supplier_id", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        allowed("state", IncidentState),
        allowed("closing_status", AlertStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The alert type, or the family of a NEAR/REACHED pair (``VOLUME_CAP``, ``BUDGET_CAP``).
    type: Mapped[str] = mapped_column(String(30))
    supplier_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10), default=IncidentState.OPEN)
    #: The alert that opened the incident (its message heads the thread) and the latest one.
    opened_key: Mapped[str] = mapped_column(String(300))
    latest_key: Mapped[str] = mapped_column(String(300))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    #: The last day the incident's alerts cover: a check of a period ending before it cannot clear it.
    last_seen_on: Mapped[date]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    #: The period whose check found the problem gone (and its last day), and the closing reply.
    cleared_period: Mapped[str | None] = mapped_column(String(40))
    cleared_through: Mapped[date | None]
    closing_text: Mapped[str | None] = mapped_column(Text)
    closing_blocks: Mapped[str | None] = mapped_column(Text)
    closing_status: Mapped[str | None] = mapped_column(String(10))
    #: Where Slack put the first message: the channel's id and the message's ``ts`` (for replies and
    #: ``chat.update``); None until it is posted through the Web API.
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    #: The first message shows older figures than the incident's: ``chat.update`` it on the next send.
    head_outdated: Mapped[bool] = mapped_column(Boolean, default=False)
