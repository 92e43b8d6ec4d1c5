"""When alerts are evaluated: after each stored delivery, outcomes import, overdue check and
statement, from what the database holds (so a rerun finds the same alerts, already stored)."""

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgov.alerts import rules
from leadgov.alerts.outbox import record
from leadgov.alerts.rules import OverdueClaim, StatementFacts
from leadgov.alerts.types import Alert
from leadgov.cohort import share
from leadgov.config.contract import Contract
from leadgov.governance import contract_for, supplier_kpis
from leadgov.models import ledger_store
from leadgov.models.delivery import Delivery
from leadgov.models.replacement import ReplacementClaim
from leadgov.outcomes import StoredContest
from leadgov.periods import Period, finished_weeks, week_of

#: How many earlier weeks are looked at to find the four the trend rule needs.
TREND_LOOKBACK_WEEKS = 8
#: Claims gone overdue this long ago or less are (re)considered for REPLACEMENT_OVERDUE.
OVERDUE_LOOKBACK = timedelta(days=90)


def earlier_reject_rates(session: Session, supplier_id: str, week: Period) -> list[float | None]:
    """Reject rates of the ``TREND_LOOKBACK_WEEKS`` weeks before ``week``, oldest first (None for a
    week without leads): one grouped query, the same figure as each week's KPIs' ``reject_rate``."""
    start, _ = week.dates
    weeks = [week_of(start - timedelta(weeks=back)) for back in range(TREND_LOOKBACK_WEEKS, 0, -1)]
    delivered = dict.fromkeys(weeks, 0)
    rejected = dict.fromkeys(weeks, 0)
    for day, leads, refused in ledger_store.daily_reject_counts(session, supplier_id, weeks[0].dates[0],
                                                                start - timedelta(days=1)):
        delivered[week_of(day)] += leads
        rejected[week_of(day)] += refused
    return [share(rejected[w], delivered[w]) for w in weeks]


def week_alerts(session: Session, supplier_id: str, contract: Contract, week: Period, tz: str, as_of: date,
                *, finished: bool) -> list[Alert]:
    kpis = supplier_kpis(session, supplier_id, week, tz, as_of)
    return rules.week_alerts(kpis, contract, finished=finished,
                             earlier_reject_rates=earlier_reject_rates(session, supplier_id, week))


def after_delivery(session: Session, delivery_id: int, tz: str, as_of: date) -> list[str]:
    """The delivery's own alerts and its ISO week's running ones (volume and SLA wait for the
    week to finish: ``check_finished_weeks``)."""
    delivery = session.get_one(Delivery, delivery_id)
    _, contract = contract_for(session, delivery.supplier_id, delivery.delivered_on)
    kpis = supplier_kpis(session, delivery.supplier_id, Period("delivery", f"delivery:{delivery_id}",
                                                                 delivery_id=delivery_id), tz, as_of)
    alerts = rules.delivery_alerts(kpis, contract, delivery_id=delivery_id, delivered_on=delivery.delivered_on)
    alerts += week_alerts(session, delivery.supplier_id, contract, week_of(delivery.delivered_on), tz, as_of,
                          finished=False)
    return record(session, alerts) + after_overdue(session, today=as_of)  # a late replacement moves its claim overdue


def after_outcomes(session: Session, contested: Sequence[StoredContest], tz: str, as_of: date) -> list[str]:
    """After an outcomes import: a GDPR_BREACH per NO_CONSENT_ON_CALL contest, and the running
    alerts of the weeks whose reject rate the contests raised."""
    keys: list[str] = []
    by_supplier: dict[str, list[StoredContest]] = {}
    for contest in contested:
        by_supplier.setdefault(contest["supplier_id"], []).append(contest)
    for supplier_id, contests in sorted(by_supplier.items()):
        _, contract = contract_for(session, supplier_id, None)
        alerts = rules.contest_gdpr_alerts(contract, contests)
        for week in sorted({week_of(c["delivered_on"]) for c in contests}, key=lambda w: w.dates):
            alerts += week_alerts(session, supplier_id, contract, week, tz, as_of, finished=False)
        keys += record(session, alerts)
    return keys


def after_overdue(session: Session, today: date) -> list[str]:
    """REPLACEMENT_OVERDUE for the claims stored as overdue (or since credited) in the last
    ``OVERDUE_LOOKBACK``, whichever step moved them: the daily check, a statement, a late
    replacement. One alert per supplier and overdue day, so a rerun adds nothing."""
    since = today - OVERDUE_LOOKBACK
    claims = session.execute(
        select(ReplacementClaim.supplier_id, ReplacementClaim.id, ReplacementClaim.lead_id, ReplacementClaim.due_on,
               ReplacementClaim.overdue_on)
        .where(ReplacementClaim.status.in_(["overdue", "credited"]), ReplacementClaim.overdue_on >= since)
        .order_by(ReplacementClaim.supplier_id, ReplacementClaim.overdue_on, ReplacementClaim.id)
    ).all()
    by_supplier: dict[str, list[OverdueClaim]] = {}
    for supplier_id, claim_id, lead_id, due_on, overdue_on in claims:
        by_supplier.setdefault(supplier_id, []).append(
            OverdueClaim(claim_id=claim_id, lead_id=lead_id, due_on=due_on, overdue_on=overdue_on))
    keys: list[str] = []
    for supplier_id, rows in by_supplier.items():
        _, contract = contract_for(session, supplier_id, None)
        keys += record(session, rules.replacement_overdue_alerts(contract, rows))
    return keys


def after_statement(session: Session, supplier_id: str, statement: StatementFacts, today: date) -> list[str]:
    """BILLING_FROZEN, and the claims the statement's overdue check moved."""
    _, contract = contract_for(session, supplier_id, None)
    return record(session, rules.billing_frozen_alert(contract, statement)) + after_overdue(session, today=today)


def check_finished_weeks(session: Session, supplier_id: str, as_of: date, tz: str, weeks: int = 1) -> list[str]:
    """The weekly check: volume, SLA and spike rules of the last ``weeks`` finished ISO weeks, and
    expected deliveries that did not come."""
    _, contract = contract_for(session, supplier_id, None)
    alerts: list[Alert] = []
    checked = finished_weeks(as_of, weeks)
    for week in checked:
        alerts += week_alerts(session, supplier_id, contract, week, tz, as_of, finished=True)
    delivered = set(session.scalars(select(Delivery.delivered_on).where(Delivery.supplier_id == supplier_id)))
    since, _ = checked[0].dates
    alerts += rules.delivery_missing_alerts(contract, delivered_days=delivered, since=since, as_of=as_of)
    return record(session, alerts)
