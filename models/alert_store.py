"""Writing alerts into the outbox exactly once, and moving them through their delivery states."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, Session

from leadgov.models.alert import OutboxAlert
from leadgov.models.base import utcnow
from leadgov.models.db import changed_rows, is_sqlite
from leadgov.models.statuses import AlertStatus

#: A worker that claimed an alert and vanished (killed mid-send) releases it after this long.
STALE_CLAIM = timedelta(minutes=15)
#: Alerts whose message goes out with the committee's report files (``committee_store``): the
#: alert outbox never posts them itself; the committee outbox marks them sent.
SENT_WITH_REPORT = ("PILOT_VERDICT", "QUARTERLY_REVIEW")


def add_alerts(session: Session, rows: list[dict[str, object]]) -> list[str]:
    """Insert alerts whose key is not stored yet (INSERT ... ON CONFLICT DO NOTHING, so two
    workers racing on the same alert store it once); return the keys that were new."""
    if not rows:
        return []
    dialect = sqlite if is_sqlite(session) else postgresql
    now = utcnow()
    statement = (dialect.insert(OutboxAlert)
                 .values([{**r, "status": "pending", "attempts": 0, "created_at": now} for r in rows])
                 .on_conflict_do_nothing(index_elements=["key"])
                 .returning(OutboxAlert.key))
    return list(session.scalars(statement).all())


def stored(session: Session, key: str) -> bool:
    """Whether the alert ``key`` is in the outbox."""
    return session.scalar(select(OutboxAlert.id).where(OutboxAlert.key == key)) is not None


def takeable(status: QueryableAttribute[Any], claimed_at: QueryableAttribute[Any],
             now: datetime) -> ColumnElement[bool]:
    """What a sender may take, in any outbox (alerts, committee packs, incident closings): waiting
    (``pending``, or ``failed`` and tried again), or ``sending`` since before ``now - STALE_CLAIM``
    (its worker vanished). ``claimed_at`` is when the row was last taken."""
    return or_(status.in_([AlertStatus.PENDING.value, AlertStatus.FAILED.value]),
               (status == AlertStatus.SENDING.value) & (claimed_at < now - STALE_CLAIM))


def _sendable(now: datetime) -> ColumnElement[bool]:
    """Takeable, and not sent with a report."""
    return OutboxAlert.type.not_in(SENT_WITH_REPORT) & takeable(OutboxAlert.status, OutboxAlert.claimed_at, now)


def count_sendable(session: Session, now: datetime | None = None) -> int:
    """How many alerts a sender would take now."""
    return session.scalar(select(func.count()).select_from(OutboxAlert).where(_sendable(now or utcnow()))) or 0


def sendable_ids(session: Session, now: datetime | None = None) -> list[int]:
    """The alerts a sender would take now, oldest first."""
    return list(session.scalars(select(OutboxAlert.id).where(_sendable(now or utcnow())).order_by(OutboxAlert.id)))


@dataclass(frozen=True)
class Outgoing:
    """An alert claimed for sending. ``retried``: an earlier attempt may have reached Slack (it failed
    or its worker vanished), so the sender looks for that post before posting again."""

    id: int
    key: str
    channel: str
    text: str
    blocks: str
    incident_id: int | None
    retried: bool


def claim(session: Session, alert_id: int, now: datetime | None = None) -> Outgoing | None:
    """Mark one alert ``sending`` if it is still sendable (None if another worker took it)."""
    now = now or utcnow()
    alert = session.get(OutboxAlert, alert_id)
    if alert is None:
        return None
    retried = alert.attempts > 0 or alert.status == "sending"
    result = session.execute(update(OutboxAlert).where(OutboxAlert.id == alert_id, _sendable(now))
                             .values(status="sending", claimed_at=now))
    if changed_rows(result) != 1:
        return None
    return Outgoing(alert.id, alert.key, alert.channel, alert.text, alert.blocks, alert.incident_id, retried)


def mark_sent(session: Session, alert_id: int, slack_ts: str | None = None) -> None:
    session.execute(update(OutboxAlert).where(OutboxAlert.id == alert_id).values(
        status="sent", sent_at=utcnow(), attempts=OutboxAlert.attempts + 1, last_error=None, slack_ts=slack_ts))


def mark_sent_by_key(session: Session, key: str) -> None:
    """An alert sent by another outbox (a committee report's message), once."""
    session.execute(update(OutboxAlert).where(OutboxAlert.key == key, OutboxAlert.status != "sent").values(
        status="sent", sent_at=utcnow(), attempts=OutboxAlert.attempts + 1, last_error=None))


def mark_failed(session: Session, alert_id: int, error: str) -> None:
    session.execute(update(OutboxAlert).where(OutboxAlert.id == alert_id).values(
        status="failed", attempts=OutboxAlert.attempts + 1, last_error=error[:1000]))


def release(session: Session, alert_id: int) -> None:
    """Back to pending without an attempt (nothing configured to send it with)."""
    session.execute(update(OutboxAlert).where(OutboxAlert.id == alert_id).values(status="pending", claimed_at=None))


@dataclass(frozen=True)
class StoredAlert:
    """An alert of the outbox as stored: its key (type|supplier|period), where it goes, how far it got,
    and the facts its message was written from (counts, rates, codes: never a lead's personal data)."""

    id: int
    key: str
    type: str
    supplier_id: str
    period: str
    figure: float | None
    threshold: float | None
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    facts: dict[str, object]


def list_alerts(session: Session, status: str | None = None) -> list[StoredAlert]:
    query = select(OutboxAlert).order_by(OutboxAlert.id)
    if status is not None:
        query = query.where(OutboxAlert.status == status)
    return [StoredAlert(
        id=a.id, key=a.key, type=a.type, supplier_id=a.supplier_id, period=a.period, figure=a.figure,
        threshold=a.threshold, channel=a.channel, status=a.status, attempts=a.attempts, last_error=a.last_error,
        created_at=a.created_at, sent_at=a.sent_at, facts=json.loads(a.facts),
    ) for a in session.scalars(query)]
