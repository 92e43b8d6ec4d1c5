"""Writing committee packs once per revision, and moving their deliveries through the outbox states."""

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from leadgov.models.alert_store import takeable
from leadgov.models.base import utcnow
from leadgov.models.committee import CommitteeDelivery, CommitteePack
from leadgov.models.db import changed_rows
from leadgov.models.statuses import AlertStatus, DeliveryMedium


@dataclass(frozen=True)
class PackContent:
    """What the committee receives: the report's title (an e-mail's subject), the message that goes
    with it (in ``locale``), and its two files."""

    locale: str
    title: str
    message: str
    html_name: str
    html: bytes
    pdf_name: str
    pdf: bytes


@dataclass(frozen=True)
class PackCreate:
    """A report revision to store: what it is about, its content's fingerprint, and where it goes."""

    report: str
    fingerprint: str
    content: PackContent
    slack_channel: str | None
    emails: tuple[str, ...]
    alert_key: str | None = None


@dataclass(frozen=True)
class StoredPack:
    id: int
    report: str
    revision: int
    new: bool


def add_pack(session: Session, *, pack: PackCreate) -> StoredPack:
    """Store ``pack`` as the report's next revision with one pending delivery per target, unless a
    revision with the same fingerprint is stored (then that one, ``new`` False, and nothing added).

    The unique (report, fingerprint) and (report, revision) constraints make two workers publishing
    at once store one revision: the second fails its insert and its transaction rolls back."""
    same = session.execute(select(CommitteePack.id, CommitteePack.revision).where(
        CommitteePack.report == pack.report, CommitteePack.fingerprint == pack.fingerprint)).first()
    if same is not None:
        return StoredPack(same.id, pack.report, same.revision, new=False)
    last = session.scalar(select(func.max(CommitteePack.revision)).where(CommitteePack.report == pack.report))
    row = CommitteePack(report=pack.report, revision=(last or 0) + 1, fingerprint=pack.fingerprint,
                        alert_key=pack.alert_key, **asdict(pack.content))
    session.add(row)
    session.flush()
    targets = ([(DeliveryMedium.SLACK, pack.slack_channel)] if pack.slack_channel else []) + [
        (DeliveryMedium.EMAIL, email) for email in dict.fromkeys(pack.emails)]
    session.add_all(CommitteeDelivery(pack_id=row.id, medium=medium.value, target=target,
                                      status=AlertStatus.PENDING.value, attempts=0) for medium, target in targets)
    session.flush()
    return StoredPack(row.id, row.report, row.revision, new=True)


def _sendable(now: datetime, media: list[str]) -> ColumnElement[bool]:
    return CommitteeDelivery.medium.in_(media) & takeable(CommitteeDelivery.status, CommitteeDelivery.claimed_at, now)


def count_waiting(session: Session) -> int:
    """Deliveries not sent yet (whatever their medium)."""
    return session.scalar(select(func.count()).select_from(CommitteeDelivery).where(
        CommitteeDelivery.status != AlertStatus.SENT.value)) or 0


@dataclass(frozen=True)
class PackDelivery:
    """A delivery taken for sending, with its pack's files and message."""

    id: int
    medium: str
    target: str
    report: str
    revision: int
    alert_key: str | None
    content: PackContent


def claim_for_sending(session: Session, media: list[str], now: datetime | None = None) -> list[PackDelivery]:
    """Take the deliveries of ``media`` to send and mark them ``sending``: a second worker running at
    the same time gets none of them."""
    now = now or utcnow()
    candidates = session.scalars(select(CommitteeDelivery.id).where(_sendable(now, media))
                                 .order_by(CommitteeDelivery.id)).all()
    taken = [delivery_id for delivery_id in candidates if changed_rows(session.execute(
        update(CommitteeDelivery).where(CommitteeDelivery.id == delivery_id, _sendable(now, media))
        .values(status=AlertStatus.SENDING.value, claimed_at=now))) == 1]
    rows = session.execute(
        select(CommitteeDelivery, CommitteePack).join(CommitteePack, CommitteePack.id == CommitteeDelivery.pack_id)
        .where(CommitteeDelivery.id.in_(taken)).order_by(CommitteeDelivery.id)).all()
    return [PackDelivery(d.id, d.medium, d.target, p.report, p.revision, p.alert_key,
                         PackContent(p.locale, p.title, p.message, p.html_name, p.html, p.pdf_name, p.pdf))
            for d, p in rows]


def mark_sent(session: Session, delivery_id: int) -> None:
    session.execute(update(CommitteeDelivery).where(CommitteeDelivery.id == delivery_id).values(
        status=AlertStatus.SENT.value, sent_at=utcnow(), attempts=CommitteeDelivery.attempts + 1, last_error=None))


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    session.execute(update(CommitteeDelivery).where(CommitteeDelivery.id == delivery_id).values(
        status=AlertStatus.FAILED.value, attempts=CommitteeDelivery.attempts + 1, last_error=error[:1000]))


def release(session: Session, delivery_id: int) -> None:
    """Back to pending without an attempt (the sending time was up before its turn)."""
    session.execute(update(CommitteeDelivery).where(CommitteeDelivery.id == delivery_id).values(
        status=AlertStatus.PENDING.value, claimed_at=None))


@dataclass(frozen=True)
class DeliveryState:
    """Where a delivery stands (for ``leadgov committee list`` and tests)."""

    report: str
    revision: int
    medium: str
    target: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


def list_deliveries(session: Session) -> list[DeliveryState]:
    rows = session.execute(
        select(CommitteePack.report, CommitteePack.revision, CommitteeDelivery.medium, CommitteeDelivery.target,
               CommitteeDelivery.status, CommitteeDelivery.attempts, CommitteeDelivery.last_error,
               CommitteeDelivery.sent_at)
        .join(CommitteePack, CommitteePack.id == CommitteeDelivery.pack_id)
        .order_by(CommitteePack.report, CommitteePack.revision, CommitteeDelivery.id)).all()
    return [DeliveryState(*row) for row in rows]
