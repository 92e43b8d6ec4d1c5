"""When alerts are evaluated: after each stored delivery, outcomes import, overdue check and
statement, from what the database holds (so a rerun finds the same alerts, already stored)."""

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgov.alerts import incidents, rules
from leadgov.alerts.outbox import close_incidents, record
from leadgov.alerts.rules import OverdueClaim, StatementFacts
from leadgov.alerts.types import Alert, AlertType, Clear, alert_key
from leadgov.billing import gross_bound
from leadgov.cohort import share
from leadgov.config.contract import Contract
from leadgov.governance import contract_for, draft_statement, supplier_kpis
from leadgov.kpis import Kpis
from leadgov.lead_review import with_due_days
from leadgov.ledger import Ledger
from leadgov.models import alert_store, incident_store, ledger_store, review_store
from leadgov.models.delivery import Delivery
from leadgov.models.replacement import ReplacementClaim
from leadgov.outcomes import StoredContest
from leadgov.periods import Period, finished_weeks, month_of, week_of
from leadgov.statements import month_period_of

#: How many earlier weeks are looked at to find the ``rules.TREND_WEEKS`` the trend rule needs.
TREND_LOOKBACK_WEEKS = 8
#: Claims gone overdue this long ago or less are (re)considered for REPLACEMENT_OVERDUE.
OVERDUE_LOOKBACK = timedelta(days=90)
#: A supplier's late-replacement incident closes once no claim has gone overdue for this long.
OVERDUE_QUIET = timedelta(days=7)


def earlier_reject_rates(session: Session, supplier_id: str, week: Period) -> list[float | None]:
    """Reject rates of the weeks before ``week``, oldest first (None for a week without leads), as far
    back as the trend rule reads them (the last ``rules.TREND_WEEKS`` that have leads): the
    ``TREND_WEEKS`` weeks just before when each has leads, in one grouped query, else the
    ``TREND_LOOKBACK_WEEKS`` weeks before, in one more over the older ones. The same figure as each
    week's KPIs' ``reject_rate``. A supplier that delivers every week has its older weeks left unread
    (half the leads counted)."""
    start, _ = week.dates
    recent = _weekly_reject_rates(session, supplier_id, start, rules.TREND_WEEKS)
    if None not in recent:
        return recent
    older_start = start - timedelta(weeks=rules.TREND_WEEKS)
    return _weekly_reject_rates(session, supplier_id, older_start, TREND_LOOKBACK_WEEKS - rules.TREND_WEEKS) + recent


def _weekly_reject_rates(session: Session, supplier_id: str, before: date, weeks: int) -> list[float | None]:
    """Reject rates of the ``weeks`` ISO weeks before the Monday ``before``, oldest first, in one grouped
    query (None for a week without leads)."""
    periods = [week_of(before - timedelta(weeks=back)) for back in range(weeks, 0, -1)]
    delivered = dict.fromkeys(periods, 0)
    rejected = dict.fromkeys(periods, 0)
    for day, leads, refused in ledger_store.daily_reject_counts(session, supplier_id, periods[0].dates[0],
                                                                before - timedelta(days=1)):
        delivered[week_of(day)] += leads
        rejected[week_of(day)] += refused
    return [share(rejected[w], delivered[w]) for w in periods]


def week_alerts(session: Session, supplier_id: str, contract: Contract, week: Period, tz: str, as_of: date,
                *, finished: bool, ledger: Ledger | None = None) -> list[Alert]:
    return week_checks(session, supplier_id, contract, week, tz, as_of, finished=finished, ledger=ledger)[1]


def week_checks(session: Session, supplier_id: str, contract: Contract, week: Period, tz: str, as_of: date,
                *, finished: bool, ledger: Ledger | None = None) -> tuple[Kpis, list[Alert]]:
    """The week's KPIs and the alerts they raise (the weekly check also needs the KPIs: ``week_clears``);
    ``ledger``: the week's, when the caller loaded it already."""
    kpis = supplier_kpis(session, supplier_id, week, tz, as_of, ledger=ledger)
    return kpis, rules.week_alerts(kpis, contract, finished=finished,
                                   earlier_reject_rates=earlier_reject_rates(session, supplier_id, week))


def after_delivery(session: Session, delivery_id: int, tz: str, as_of: date) -> list[str]:
    """The delivery's own alerts, its ISO week's running ones (volume and SLA wait for the week to
    finish: ``check_finished_weeks``) and its month's budget; the delivery ends the supplier's
    missing-delivery incident."""
    delivery = session.get_one(Delivery, delivery_id)
    _, contract = contract_for(session, delivery.supplier_id, delivery.delivered_on)
    week = week_of(delivery.delivered_on)
    week_ledger = ledger_store.load_ledger(session, delivery.supplier_id, week, tz)  # the delivery's leads too
    kpis = supplier_kpis(session, delivery.supplier_id, Period("delivery", f"delivery:{delivery_id}",
                                                                 delivery_id=delivery_id), tz, as_of,
                         ledger=week_ledger.of_delivery(delivery_id))
    alerts = rules.delivery_alerts(kpis, contract, delivery_id=delivery_id, delivered_on=delivery.delivered_on)
    alerts += week_alerts(session, delivery.supplier_id, contract, week, tz, as_of, finished=False,
                          ledger=week_ledger)
    alerts += budget_alerts(session, delivery.supplier_id, contract, delivery.delivered_on, tz)
    keys = record(session, alerts, today=as_of)
    close_incidents(session, contract, [incidents.delivered(delivery.delivered_on)])
    return keys + after_overdue(session, today=as_of)  # a late replacement moves its claim overdue


def budget_alerts(session: Session, supplier_id: str, contract: Contract, day: date, tz: str) -> list[Alert]:
    """BUDGET_CAP_NEAR / REACHED on the month's billable amount so far (the statement the month
    would get now, before its cap): computed only for a contract with a monthly budget cap."""
    cap = contract.billing.monthly_budget_cap_eur
    if cap is None:
        return []
    month = month_of(day)
    if alert_store.stored(session, alert_key(AlertType.BUDGET_CAP_REACHED, supplier_id, month.label)):
        return []  # nothing left to tell this month
    bound = gross_bound(contract.billing, ledger_store.billing_cohort_size(session, supplier_id, month))
    if bound is not None and bound < Decimal(str(cap)) * Decimal(str(rules.NEAR_SHARE)):
        return []  # even billing every lead of the month stays under the NEAR share: no statement to compute
    draft = draft_statement(session, supplier_id, month, contract, tz)
    return rules.budget_cap_alerts(contract, month=month.label, billable_eur=draft.gross_eur)


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
        keys += record(session, alerts, today=as_of)
    return keys


def after_overdue(session: Session, today: date) -> list[str]:
    """REPLACEMENT_OVERDUE for the claims stored as overdue (or since credited) in the last
    ``OVERDUE_LOOKBACK``, whichever step moved them: the daily check, a statement, a late
    replacement. One alert per supplier and overdue day, so a rerun adds nothing. A supplier whose
    last claim went overdue ``OVERDUE_QUIET`` ago or more has its late-replacement incident closed."""
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
        keys += record(session, rules.replacement_overdue_alerts(contract, rows), today=today)
    quiet_since = today - OVERDUE_QUIET
    for supplier_id in incident_store.open_suppliers(session, AlertType.REPLACEMENT_OVERDUE.value):
        _, contract = contract_for(session, supplier_id, None)
        close_incidents(session, contract, [Clear(AlertType.REPLACEMENT_OVERDUE, f"day:{today.isoformat()}",
                                                  quiet_since, "no_overdue")])
    return keys


def after_review_check(session: Session, today: date) -> list[str]:
    """REVIEW_WAITING for each supplier with leads still in review whose oldest is due within
    ``rules.REVIEW_DUE_WITHIN_DAYS`` (after the daily check rejected those past their deadline): one
    per supplier and day, so a rerun adds nothing. One query for every supplier's waiting leads."""
    waiting = with_due_days(session, review_store.waiting_leads(session))
    if waiting.empty:
        return []
    keys: list[str] = []
    for supplier_id, leads in waiting.groupby("supplier_id", sort=True):
        _, contract = contract_for(session, str(supplier_id), None)
        keys += record(session, rules.review_waiting_alert(contract, today=today, waiting=len(leads),
                                                           oldest_due=min(leads["due_on"])), today=today)
    return keys


def after_statement(session: Session, supplier_id: str, statement: StatementFacts, today: date) -> list[str]:
    """BILLING_FROZEN, and the claims the statement's overdue check moved. A statement that is not
    frozen (a recomputed or released revision) ends the frozen-billing incident of its month and
    earlier ones; a month billed under the budget cap ends the budget incidents."""
    _, contract = contract_for(session, supplier_id, None)
    keys = record(session, rules.billing_frozen_alert(contract, statement), today=today)
    _, month_end = month_period_of(statement["month"]).dates
    clears = []
    if not statement.get("frozen"):
        clears.append(Clear(AlertType.BILLING_FROZEN, statement["month"], month_end, "not_frozen"))
    if statement.get("gross_eur") is not None:
        clears += rules.budget_cap_clears(contract, month=statement["month"], through=month_end,
                                          billable_eur=Decimal(statement["gross_eur"]))
    close_incidents(session, contract, clears)
    return keys + after_overdue(session, today=today)


def check_finished_weeks(session: Session, supplier_id: str, as_of: date, tz: str, weeks: int = 1) -> list[str]:
    """The weekly check: volume, SLA and spike rules of the last ``weeks`` finished ISO weeks, and
    expected deliveries that did not come."""
    _, contract = contract_for(session, supplier_id, None)
    alerts: list[Alert] = []
    clears: list[Clear] = []
    checked = finished_weeks(as_of, weeks)
    for week in checked:
        kpis, fired = week_checks(session, supplier_id, contract, week, tz, as_of, finished=True)
        alerts += fired
        clears += rules.week_clears(kpis, contract, fired)
    delivered = set(session.scalars(select(Delivery.delivered_on).where(Delivery.supplier_id == supplier_id)))
    since, _ = checked[0].dates
    alerts += rules.delivery_missing_alerts(contract, delivered_days=delivered, since=since, as_of=as_of)
    alerts += rules.contract_renewal_alert(contract, today=as_of)
    keys = record(session, alerts, today=as_of)
    close_incidents(session, contract, clears)
    return keys
