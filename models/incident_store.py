"""Incidents in the database: an alert joins its (type, supplier)'s open incident or opens one; a
clean check closes it; the sender records where Slack put the first message.

Functions take the caller's session and never commit.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadgov.models.alert import OutboxAlert
from leadgov.models.alert_store import takeable
from leadgov.models.base import utcnow
from leadgov.models.db import changed_rows, is_sqlite
from leadgov.models.incident import Incident
from leadgov.models.statuses import AlertStatus, IncidentState


@dataclass(frozen=True)
class IncidentAlert:
    """A new alert that belongs to an incident: its key, its incident's type (the alert type, or its
    NEAR/REACHED family), supplier, where it goes, and the last day its period covers.
    ``reopen_within``: an incident of the same type closed this many days or less before ``seen_on``
    is reopened rather than a new one started."""

    key: str
    type: str
    supplier_id: str
    channel: str
    locale: str
    seen_on: date
    reopen_within: timedelta


def attach(session: Session, *, alert: IncidentAlert) -> int:
    """Put ``alert`` (stored in the outbox) in its (type, supplier)'s open incident; else reopen the
    one closed within ``alert.reopen_within``; else open a new one. The incident's id. Two workers
    opening the same incident at once open it once (the partial unique index on open incidents; the
    loser joins the winner's)."""
    incident = open_incident(session, alert.type, alert.supplier_id) or _recently_closed(session, alert)
    if incident is not None:
        _join(session, incident, alert)
        return incident.id
    dialect = sqlite if is_sqlite(session) else postgresql
    opened = session.scalar(
        dialect.insert(Incident).values(
            type=alert.type, supplier_id=alert.supplier_id, channel=alert.channel, locale=alert.locale,
            state=IncidentState.OPEN, opened_key=alert.key, latest_key=alert.key, occurrences=1,
            last_seen_on=alert.seen_on, opened_at=utcnow(), head_outdated=False)
        .on_conflict_do_nothing(index_elements=["type", "supplier_id"], index_where=Incident.state == "open")
        .returning(Incident.id))
    if opened is not None:
        session.execute(update(OutboxAlert).where(OutboxAlert.key == alert.key).values(incident_id=int(opened)))
        return int(opened)
    winner = session.scalars(select(Incident).where(  # another worker opened it meanwhile
        Incident.type == alert.type, Incident.supplier_id == alert.supplier_id,
        Incident.state == IncidentState.OPEN).with_for_update()).one()
    _join(session, winner, alert)
    return winner.id


def _recently_closed(session: Session, alert: IncidentAlert) -> Incident | None:
    """The (type, supplier)'s last incident if it closed within ``reopen_within`` of the alert."""
    last = session.scalars(select(Incident).where(
        Incident.type == alert.type, Incident.supplier_id == alert.supplier_id,
        Incident.state == IncidentState.CLOSED).order_by(Incident.id.desc()).limit(1)).first()
    if last is None or last.cleared_through is None or alert.seen_on > last.cleared_through + alert.reopen_within:
        return None
    return last


def _join(session: Session, incident: Incident, alert: IncidentAlert) -> None:
    """``alert`` becomes the incident's latest (reopening it if it was closed)."""
    if incident.state == IncidentState.CLOSED:
        incident.state = IncidentState.OPEN
        incident.closed_at = None
        incident.cleared_period = None
        incident.cleared_through = None
        if incident.closing_status != AlertStatus.SENT:  # its closing reply is no longer true: never sent
            incident.closing_status = None
    incident.latest_key = alert.key
    incident.occurrences += 1
    incident.last_seen_on = max(incident.last_seen_on, alert.seen_on)
    incident.head_outdated = True
    session.flush()
    session.execute(update(OutboxAlert).where(OutboxAlert.key == alert.key).values(incident_id=incident.id))


@dataclass(frozen=True)
class IncidentClose:
    """A check found the problem gone for ``period`` (which ends on ``through``): the closing reply."""

    type: str
    supplier_id: str
    period: str
    through: date
    text: str
    blocks: str


def open_incident(session: Session, type_: str, supplier_id: str) -> Incident | None:
    return session.scalars(select(Incident).where(
        Incident.type == type_, Incident.supplier_id == supplier_id, Incident.state == IncidentState.OPEN)).first()


def close(session: Session, *, closing: IncidentClose) -> int | None:
    """Close the open incident of (type, supplier) if none of its alerts covers a day after
    ``closing.through`` (a check of an earlier period cannot clear a later problem); its id, or None."""
    incident = open_incident(session, closing.type, closing.supplier_id)
    if incident is None or incident.last_seen_on > closing.through:
        return None
    incident.state = IncidentState.CLOSED
    incident.closed_at = utcnow()
    incident.cleared_period = closing.period
    incident.cleared_through = closing.through
    incident.closing_text = closing.text
    incident.closing_blocks = closing.blocks
    incident.closing_status = AlertStatus.PENDING
    incident.head_outdated = True
    return incident.id


def open_suppliers(session: Session, type_: str) -> list[str]:
    """The suppliers with an open incident of ``type_``."""
    return list(session.scalars(select(Incident.supplier_id).where(
        Incident.type == type_, Incident.state == IncidentState.OPEN).order_by(Incident.supplier_id)))


# --- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    """Where an alert's incident stands in Slack, as the sender needs it."""

    incident_id: int
    opened_key: str
    opener_sent: bool
    slack_channel: str | None
    slack_ts: str | None


def thread_of(session: Session, incident_id: int) -> Thread:
    incident = session.get_one(Incident, incident_id)
    opener = session.scalar(select(OutboxAlert.status).where(OutboxAlert.key == incident.opened_key))
    return Thread(incident.id, incident.opened_key, opener == AlertStatus.SENT, incident.slack_channel,
                  incident.slack_ts)


def record_head(session: Session, incident_id: int, *, slack_channel: str, slack_ts: str) -> None:
    """Where Slack put the incident's first message."""
    session.execute(update(Incident).where(Incident.id == incident_id).values(
        slack_channel=slack_channel, slack_ts=slack_ts))


@dataclass(frozen=True)
class Head:
    """An incident whose first message shows older figures: what ``chat.update`` needs to refresh it."""

    incident_id: int
    type: str
    locale: str
    state: str
    occurrences: int
    cleared_period: str | None
    slack_channel: str
    slack_ts: str
    opener_text: str
    opener_blocks: str
    latest_type: str
    latest_period: str
    latest_figure: float | None
    latest_threshold: float | None


def outdated_heads(session: Session) -> list[Head]:
    """Incidents posted through the Web API whose first message is behind."""
    rows = session.execute(select(Incident).where(Incident.head_outdated.is_(True),
                                                  Incident.slack_ts.is_not(None))
                           .order_by(Incident.id)).scalars().all()
    heads = []
    for incident in rows:
        opener = session.scalars(select(OutboxAlert).where(OutboxAlert.key == incident.opened_key)).one()
        latest = session.scalars(select(OutboxAlert).where(OutboxAlert.key == incident.latest_key)).one()
        assert incident.slack_channel is not None and incident.slack_ts is not None  # the query's condition
        heads.append(Head(incident.id, incident.type, incident.locale, incident.state, incident.occurrences,
                          incident.cleared_period, incident.slack_channel, incident.slack_ts, opener.text,
                          opener.blocks, latest.type, latest.period, latest.figure, latest.threshold))
    return heads


def head_updated(session: Session, incident_id: int) -> None:
    session.execute(update(Incident).where(Incident.id == incident_id).values(head_outdated=False))


def _closing_sendable(now: datetime) -> ColumnElement[bool]:
    return takeable(Incident.closing_status, Incident.closed_at, now)  # a closing is taken by moving closed_at


@dataclass(frozen=True)
class Closing:
    """A closed incident's last reply, to post once every alert of the incident is sent."""

    incident_id: int
    key: str
    channel: str
    text: str
    blocks: str
    slack_channel: str | None
    slack_ts: str | None
    retried: bool


def claim_closings(session: Session, now: datetime | None = None) -> list[Closing]:
    """The closing replies ready to post (their incident's alerts all sent), marked ``sending``."""
    now = now or utcnow()
    unsent = select(OutboxAlert.id).where(OutboxAlert.incident_id == Incident.id,
                                          OutboxAlert.status != AlertStatus.SENT).exists()
    rows = session.scalars(select(Incident).where(_closing_sendable(now), ~unsent).order_by(Incident.id)).all()
    taken = []
    for incident in rows:
        retried = incident.closing_status != AlertStatus.PENDING
        result = session.execute(update(Incident).where(Incident.id == incident.id, _closing_sendable(now))
                                 .values(closing_status=AlertStatus.SENDING, closed_at=now))
        if changed_rows(result) == 1:
            assert incident.closing_text is not None and incident.closing_blocks is not None  # set when closed
            taken.append(Closing(incident.id, closing_key(incident),
                                 incident.channel, incident.closing_text, incident.closing_blocks,
                                 incident.slack_channel, incident.slack_ts, retried))
    return taken


def closing_key(incident: Incident) -> str:
    """A closing reply's key (Slack metadata), in the alerts' ``type|supplier|period`` shape: one per
    closing of the incident (a reopened incident closes again under another period)."""
    return f"{incident.type}|{incident.supplier_id}|closed:{incident.id}:{incident.cleared_period}"


def mark_closing(session: Session, incident_id: int, status: AlertStatus) -> None:
    session.execute(update(Incident).where(Incident.id == incident_id).values(closing_status=status))


@dataclass(frozen=True)
class StoredIncident:
    id: int
    type: str
    supplier_id: str
    state: str
    occurrences: int
    opened_key: str
    latest_key: str
    cleared_period: str | None
    closing_status: str | None
    slack_ts: str | None


def list_incidents(session: Session) -> list[StoredIncident]:
    return [StoredIncident(i.id, i.type, i.supplier_id, i.state, i.occurrences, i.opened_key, i.latest_key,
                           i.cleared_period, i.closing_status, i.slack_ts)
            for i in session.scalars(select(Incident).order_by(Incident.id))]
