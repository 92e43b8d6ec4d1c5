"""Pilots and their decisions: a pilot is a phase of a supplier's life, under one contract version,
from a start day; its cohort; the leads it holds (PILOT_HOLD) until the contract owner's decision;
and the supplier's new state after that decision.

Functions take a session and never commit; every write on leads is one set-based statement.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, and_, or_, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.db import changed_rows, chunks, query_frame
from leadgov.models.delivery import Lead, decided_between, delivered_between
from leadgov.models.statuses import UNDECIDED_PILOT, Decision, LeadStatus, PilotState, SupplierState, allowed
from leadgov.models.supplier import Supplier
from leadgov.reasons import LeadFlag

#: The supplier's state after each decision (a supplier starts in ``pilot``).
STATE_AFTER: dict[Decision, SupplierState] = {Decision.APPROVE: SupplierState.ACTIVE,
                                              Decision.RENEGOTIATE: SupplierState.RENEGOTIATING,
                                              Decision.TERMINATE: SupplierState.TERMINATED}

_UNDECIDED_SQL = "state != 'decided'"


class Pilot(Base):
    """One pilot of one supplier: under which contract version, from which day, how large its cohort
    is (``pilot.size`` leads, delivered within ``pilot.max_duration_days`` of the start day), where it
    stands. At most one undecided pilot per supplier (a partial unique index says so too)."""

    __tablename__ = "pilot"
    __table_args__ = (
        allowed("state", PilotState),
        Index("uq_pilot_supplier_id_undecided", "supplier_id", unique=True,
              sqlite_where=text(_UNDECIDED_SQL), postgresql_where=text(_UNDECIDED_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"), index=True)
    contract_version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"))
    start_day: Mapped[date]
    size: Mapped[int]
    max_duration_days: Mapped[int]
    state: Mapped[str] = mapped_column(String(12), default=PilotState.RUNNING.value)
    #: The last verdict sent to the committee (None before it was judged).
    verdict: Mapped[str | None] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def undecided(self) -> bool:
        return self.state in UNDECIDED_PILOT

    @property
    def window_end(self) -> date:
        """The first day after the pilot's window: a lead delivered on it or later is not in the cohort."""
        return self.start_day + timedelta(days=self.max_duration_days)


class PilotDecision(Base):
    """One decision on a pilot: the verdict leadgov recommended and what the owner decided, why.
    ``pilot_id`` is None only for decisions stored before pilots were (revision 0019)."""

    __tablename__ = "pilot_decision"
    __table_args__ = (allowed("decision", Decision),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"), index=True)
    pilot_id: Mapped[int | None] = mapped_column(ForeignKey("pilot.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_path: Mapped[str | None] = mapped_column(String(500))


# --- pilots ------------------------------------------------------------------------------------


def undecided_pilot(session: Session, supplier_id: str) -> Pilot | None:
    """The supplier's pilot waiting for a decision (running or judged), if any."""
    return session.scalar(select(Pilot).where(Pilot.supplier_id == supplier_id,
                                              Pilot.state.in_([s.value for s in UNDECIDED_PILOT])))


def latest_pilot(session: Session, supplier_id: str) -> Pilot | None:
    """The supplier's most recently started pilot, decided or not."""
    return session.scalar(select(Pilot).where(Pilot.supplier_id == supplier_id)
                          .order_by(Pilot.start_day.desc(), Pilot.id.desc()).limit(1))


def pilots(session: Session, supplier_id: str) -> list[Pilot]:
    """The supplier's pilots, oldest first."""
    return list(session.scalars(select(Pilot).where(Pilot.supplier_id == supplier_id)
                                .order_by(Pilot.start_day, Pilot.id)))


def last_decision_day(session: Session, supplier_id: str) -> datetime | None:
    """When the supplier's latest pilot decision was taken (UTC), None before any."""
    return session.scalar(select(PilotDecision.decided_at).where(PilotDecision.supplier_id == supplier_id)
                          .order_by(PilotDecision.decided_at.desc()).limit(1))


def create_pilot(session: Session, *, supplier_id: str, contract_version_id: int, start_day: date, size: int,
                 max_duration_days: int, created_by: str, created_at: datetime | None = None) -> Pilot:
    """Add a running pilot (the caller refuses a second undecided one; the unique index would too)."""
    row = Pilot(supplier_id=supplier_id, contract_version_id=contract_version_id, start_day=start_day, size=size,
                max_duration_days=max_duration_days, state=PilotState.RUNNING.value, created_by=created_by,
                created_at=created_at or utcnow())
    session.add(row)
    session.flush()
    return row


def cohort_condition(session: Session, pilot: Pilot) -> ColumnElement[bool]:
    """The pilot's cohort: the supplier's first ``size`` leads (by delivery day, then storage order)
    among those delivered from the start day and before ``window_end``. One query finds the cohort's
    last lead; the condition is then the window's deliveries and a range of (day, storage order)."""
    window = delivered_between(pilot.supplier_id, pilot.start_day, pilot.window_end - timedelta(days=1))
    last = session.execute(select(Lead.delivered_on, Lead.id).where(window).order_by(Lead.delivered_on, Lead.id)
                           .offset(pilot.size - 1).limit(1)).first()
    if last is None:
        return window
    day, pk = last
    return and_(window, or_(Lead.delivered_on < day, and_(Lead.delivered_on == day, Lead.id <= pk)))


def hold_beyond_cohort(session: Session, supplier_id: str, delivery_id: int) -> int:
    """Flag PILOT_HOLD the delivery's accepted, unflagged leads delivered from the start day of the
    supplier's undecided pilot that are not in its cohort (one UPDATE); how many. A lead over the
    weekly cap is never billed, so it keeps that flag and is not held."""
    return _hold(session, supplier_id, [Lead.delivery_id == delivery_id])


def hold_reviewed(session: Session, supplier_id: str, lead_pks: Sequence[int]) -> int:
    """The same hold for leads just accepted by a review decision (they were in review at delivery,
    so not held then): those beyond the cohort of the supplier's undecided pilot are flagged PILOT_HOLD
    and lose the review's day, so they are billed on the pilot's approval, like the leads held at
    delivery (their decision day stays in ``lead_review_decision``); how many."""
    return _hold(session, supplier_id, [Lead.id.in_(chunk) for chunk in chunks(lead_pks)], decided_on=None)


def _hold(session: Session, supplier_id: str, batches: Sequence[ColumnElement[bool]], **also: object) -> int:
    """Flag PILOT_HOLD the leads of each batch beyond the undecided pilot's cohort (the pilot and its
    cohort looked up once; one UPDATE per batch)."""
    pilot = undecided_pilot(session, supplier_id)
    if pilot is None:
        return 0
    beyond = and_(Lead.supplier_id == supplier_id, Lead.status == LeadStatus.ACCEPTED.value, Lead.flags.is_(None),
                  Lead.delivered_on >= pilot.start_day, ~cohort_condition(session, pilot))
    return sum(changed_rows(session.execute(
        update(Lead).where(batch, beyond).values(flags=LeadFlag.PILOT_HOLD.value, **also)
        .execution_options(synchronize_session=False))) for batch in batches)


def held_rows(session: Session, delivery_id: int) -> list[int]:
    """The row numbers of the delivery's leads held by a pilot."""
    return list(session.scalars(select(Lead.row_number).where(Lead.delivery_id == delivery_id,
                                                              Lead.flags == LeadFlag.PILOT_HOLD.value)))


def held_leads(session: Session, supplier_id: str, first: date, last: date) -> pd.DataFrame:
    """The supplier's leads a pilot held (PILOT_HOLD) that were delivered from ``first`` to ``last`` or
    approved in it (their ``decided_on``): lead_id, delivered_on, decided_on (None while held), in one
    query, by delivery day and storage order."""
    in_span = or_(delivered_between(supplier_id, first, last), decided_between(supplier_id, first, last))
    return query_frame(session, select(Lead.lead_id, Lead.delivered_on, Lead.decided_on)
                       .where(Lead.flags == LeadFlag.PILOT_HOLD.value, in_span)
                       .order_by(Lead.delivered_on, Lead.id), ["lead_id", "delivered_on", "decided_on"])


def settle_holds(session: Session, pilot: Pilot, decision: Decision, day: date) -> int:
    """On approval, the leads the pilot held get ``decided_on = day``: billed on that month's
    statement (one UPDATE); how many. Renegotiate or terminate: they keep the flag and no day,
    never billed. The pilot's held leads are the supplier's PILOT_HOLD leads without a day delivered
    from its start day (an earlier pilot's were delivered before its decision, so before this start)."""
    if decision != Decision.APPROVE:
        return 0
    result = session.execute(
        update(Lead).where(delivered_between(pilot.supplier_id, pilot.start_day),
                           Lead.flags == LeadFlag.PILOT_HOLD.value, Lead.decided_on.is_(None))
        .values(decided_on=day).execution_options(synchronize_session=False))
    return changed_rows(result)


def mark_judged(session: Session, pilot_id: int, verdict: str) -> None:
    """The pilot's verdict went to the committee: it waits for the owner's decision."""
    pilot = session.get_one(Pilot, pilot_id)
    if pilot.undecided:
        pilot.state, pilot.verdict = PilotState.JUDGED.value, verdict
        session.flush()


# --- decisions ---------------------------------------------------------------------------------


def record_decision(session: Session, *, supplier_id: str, verdict: str, decision: Decision, comment: str,
                    decided_by: str, report_path: str | None = None, decided_at: datetime | None = None,
                    pilot_id: int | None = None) -> PilotDecision:
    """Store the decision and move the supplier to the state it implies (never commits).
    ``decided_at`` defaults to now (a replay, like the demo, gives its own day). With ``pilot_id``
    that pilot is decided (its held leads are the caller's: ``settle_holds``)."""
    if decision not in STATE_AFTER:
        raise ValueError(f"unknown decision {decision!r}: approve, renegotiate or terminate")
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise LookupError(f"unknown supplier {supplier_id!r}")
    at = decided_at or utcnow()
    row = PilotDecision(supplier_id=supplier_id, pilot_id=pilot_id, verdict=verdict, decision=decision,
                        comment=comment, decided_by=decided_by, report_path=report_path, decided_at=at)
    session.add(row)
    supplier.state = STATE_AFTER[Decision(decision)]
    if pilot_id is not None:
        pilot = session.get_one(Pilot, pilot_id)
        if pilot.supplier_id != supplier_id or not pilot.undecided:
            raise ValueError(f"pilot {pilot_id} is not an undecided pilot of {supplier_id!r}")
        pilot.state = PilotState.DECIDED.value
    session.flush()
    return row


def decisions(session: Session, supplier_id: str) -> list[PilotDecision]:
    return list(session.scalars(select(PilotDecision).where(PilotDecision.supplier_id == supplier_id)
                                .order_by(PilotDecision.decided_at, PilotDecision.id)))
