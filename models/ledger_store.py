"""Loading a supplier's ``Ledger`` for a period: a handful of set-based queries, never one per lead.

The cohort (which leads a period is about, docs/governance-rules.md) is a SQL condition on the
lead table, reused by every query so that reasons, events and claims are joined in the database.
"""

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Executable, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from leadgov.config.contract import Contract
from leadgov.ledger import CLAIM_COLUMNS, EVENT_COLUMNS, LEAD_COLUMNS, Ledger
from leadgov.models.db import query_frame
from leadgov.models.delivery import Lead, LeadReason, decided_between, delivered_between
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.pilot import Pilot, latest_pilot
from leadgov.models.pilot import cohort_condition as pilot_cohort
from leadgov.models.replacement import ReplacementClaim
from leadgov.models.statuses import LeadStatus
from leadgov.periods import Period, local_day_start
from leadgov.reasons import LeadFlag


def cohort_condition(
    session: Session, supplier_id: str, period: Period, contract: Contract | None = None
) -> ColumnElement[bool]:
    """The SQL condition selecting the period's leads of the supplier."""
    mine = Lead.supplier_id == supplier_id
    if period.kind == "delivery":
        return and_(mine, Lead.delivery_id == period.delivery_id)
    if period.kind == "pilot":
        return _pilot_condition(session, supplier_id, period.pilot_id)
    return delivered_between(supplier_id, period.start, period.end)


def _pilot_condition(session: Session, supplier_id: str, pilot_id: int | None) -> ColumnElement[bool]:
    """The cohort of the supplier's pilot ``pilot_id`` (default: its latest pilot); no lead when the
    supplier has no such pilot."""
    pilot = latest_pilot(session, supplier_id) if pilot_id is None else session.get(Pilot, pilot_id)
    if pilot is None or pilot.supplier_id != supplier_id:
        return false()
    return pilot_cohort(session, pilot)


def load_leads(session: Session, condition: ColumnElement[bool]) -> pd.DataFrame:
    query = select(Lead.id, Lead.lead_id, Lead.delivery_id, Lead.delivered_on, Lead.status,
                   Lead.flags.like("%OVER_WEEKLY_CAP%"), Lead.replaces_lead_id).where(condition)
    frame = query_frame(session, query, list(LEAD_COLUMNS))
    frame["over_cap"] = frame["over_cap"].fillna(False).astype(bool)
    return frame


def load_reasons(session: Session, condition: ColumnElement[bool]) -> pd.DataFrame:
    query = (select(Lead.id, LeadReason.code)
             .join(Lead, and_(Lead.delivery_id == LeadReason.delivery_id, Lead.row_number == LeadReason.row_number))
             .where(condition))
    return query_frame(session, query, ["lead_pk", "code"])


_EVENT_FIELDS = [OutcomeEvent.lead_pk, OutcomeEvent.lead_id, OutcomeEvent.event, OutcomeEvent.at,
                 OutcomeEvent.contest_reason, OutcomeEvent.amount_eur, OutcomeEvent.objection]


def load_events(session: Session, condition: ColumnElement[bool]) -> pd.DataFrame:
    query = select(*_EVENT_FIELDS).join(Lead, Lead.id == OutcomeEvent.lead_pk).where(condition)
    return _events_frame(query_frame(session, query, list(EVENT_COLUMNS)))


def _events_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame["at"] = pd.to_datetime(frame["at"]).dt.tz_localize("UTC")  # stored as naive UTC
    return frame  # amount_eur stays the database's Decimal


_CLAIM_FIELDS = [ReplacementClaim.id, ReplacementClaim.lead_pk, ReplacementClaim.lead_id, ReplacementClaim.origin,
                 ReplacementClaim.opened_on, ReplacementClaim.month, ReplacementClaim.due_on, ReplacementClaim.status,
                 ReplacementClaim.filled_by_lead_pk, ReplacementClaim.filled_on, ReplacementClaim.overdue_on]


def load_claims(
    session: Session,
    condition: ColumnElement[bool],
    *,
    on: InstrumentedAttribute[int | None] = ReplacementClaim.lead_pk,
) -> pd.DataFrame:
    """Claims whose lead (or, with ``on=filled_by_lead_pk``, whose replacement) is in the cohort."""
    query = select(*_CLAIM_FIELDS).join(Lead, Lead.id == on).where(condition)
    return query_frame(session, query, list(CLAIM_COLUMNS))


def load_ledger(session: Session, supplier_id: str, period: Period, tz: str,
                contract: Contract | None = None) -> Ledger:
    """The period's cohort with its reasons, events (as known now) and claims: what KPIs need."""
    condition = cohort_condition(session, supplier_id, period, contract)
    return Ledger.build(supplier_id, leads=load_leads(session, condition), reasons=load_reasons(session, condition),
                        events=load_events(session, condition), claims=load_claims(session, condition), tz=tz,
                        validate=False)


def billing_condition(supplier_id: str, month: Period) -> ColumnElement[bool]:
    """The leads a month's statement is about: those delivered in the month and settled at delivery,
    and those a person settled in the month (``Lead.decided_on``: a review decision, or the approval
    of the pilot that held them). A lead still in review, or still held by its pilot (PILOT_HOLD
    without a decision: the pilot is undecided, or was not approved), belongs to no statement.
    Every branch is NULL-free, so ``~billing_condition`` is exactly the leads outside the cohort.
    Each branch has its index: the month's deliveries (``delivered_between``), and the supplier's
    decision days."""
    first, last = month.dates
    settled_at_delivery = and_(Lead.decided_on.is_(None), Lead.status != LeadStatus.REVIEW.value,
                               or_(Lead.flags.is_(None), Lead.flags != LeadFlag.PILOT_HOLD.value))
    return or_(and_(settled_at_delivery, delivered_between(supplier_id, first, last)),
               decided_between(supplier_id, first, last))


def billing_cohort_size(session: Session, supplier_id: str, month: Period) -> int:
    """How many leads the month's statement is about (``billing_condition``), in one count."""
    return session.scalar(select(func.count(Lead.id)).where(billing_condition(supplier_id, month))) or 0


def load_billing_ledger(session: Session, supplier_id: str, month: Period, tz: str) -> Ledger:
    """The month's billing cohort (``billing_condition``) plus what its statement also needs: claims
    filled by its leads or gone overdue in the month, and appointments held in the month by leads of
    other months (leads flagged OVER_WEEKLY_CAP or still held by a pilot are never billed, so their
    appointments are left out, as are those of leads still in review)."""
    if month.kind != "month":
        raise ValueError(f"a statement covers a calendar month, not {month.label!r}")
    condition = billing_condition(supplier_id, month)
    claims = pd.concat([
        load_claims(session, condition),
        load_claims(session, condition, on=ReplacementClaim.filled_by_lead_pk),
        query_frame(session, select(*_CLAIM_FIELDS).where(ReplacementClaim.supplier_id == supplier_id,
                                                     ReplacementClaim.overdue_on.between(month.start, month.end)),
               list(CLAIM_COLUMNS)),
    ], ignore_index=True).drop_duplicates("claim_id")
    events = pd.concat([load_events(session, condition),
                        _events_frame(query_frame(session, held_elsewhere(supplier_id, month, tz),
                                                  list(EVENT_COLUMNS)))],
                       ignore_index=True)
    return Ledger.build(supplier_id, leads=load_leads(session, condition), reasons=load_reasons(session, condition),
                        events=events, claims=claims, tz=tz, validate=False)


def held_elsewhere(supplier_id: str, month: Period, tz: str) -> Executable:
    """The appointments held in ``month`` by leads outside its billing cohort (leads of other
    months), that the month's statement still bills: not a lead in review, flagged OVER_WEEKLY_CAP,
    or still held by its pilot.

    Found from the supplier's ``appointment_held`` events (their index), each lead then fetched by
    its key: starting from the supplier's leads would read every lead it ever delivered (SQLite
    chose that, 0.1 s at 300,000 leads with no event at all)."""
    first_day, last_day = month.dates
    start, end = local_day_start(first_day, tz), local_day_start(last_day + timedelta(days=1), tz)
    return (select(*_EVENT_FIELDS).join(Lead, Lead.id == OutcomeEvent.lead_pk)
            .where(OutcomeEvent.supplier_id == supplier_id, OutcomeEvent.event == "appointment_held",
                   OutcomeEvent.at >= start, OutcomeEvent.at < end,
                   Lead.supplier_id == supplier_id, ~billing_condition(supplier_id, month),
                   Lead.status != LeadStatus.REVIEW.value,
                   or_(Lead.flags.is_(None), ~Lead.flags.like("%OVER_WEEKLY_CAP%")),
                   or_(Lead.flags.is_(None), Lead.flags != LeadFlag.PILOT_HOLD.value, Lead.decided_on.is_not(None))))


def daily_reject_counts(session: Session, supplier_id: str, first: date, last: date) -> list[tuple[date, int, int]]:
    """Per delivery day from ``first`` to ``last``: (day, leads delivered, leads rejected or
    contested), in one grouped query. The same sets as ``leadgov.cohort``: a rejected lead, or an
    accepted lead with a stored contest."""
    contested = exists().where(OutcomeEvent.lead_pk == Lead.id, OutcomeEvent.event == "contest")
    counted = or_(Lead.status == LeadStatus.REJECTED.value, and_(Lead.status == LeadStatus.ACCEPTED.value, contested))
    rows = session.execute(
        select(Lead.delivered_on, func.count(Lead.id), func.sum(case((counted, 1), else_=0)))
        .where(delivered_between(supplier_id, first, last))
        .group_by(Lead.delivered_on).order_by(Lead.delivered_on)
    ).all()
    return [(day, int(delivered), int(rejected or 0)) for day, delivered, rejected in rows]
