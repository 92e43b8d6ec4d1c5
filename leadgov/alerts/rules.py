"""When an alert fires (docs/governance.md, Alerts): plain functions from figures to ``Alert`` values.

No database, no Slack: the caller computes the KPIs (``leadgov.kpis``), reads the claims and the
statements, and hands the resulting alerts to whatever sends them once per ``Alert.key``. Every rule
fires on a strict inequality, so a figure exactly at its threshold never fires. ``figure`` and
``threshold`` are fractions for rates, counts for volumes and incidents, EUR for a statement;
``facts`` holds only JSON values and lead ids, never personal data.
"""

import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Required, TypedDict

from leadgov.alerts.types import COMMITTEE_ALERTS, Alert, AlertType, Clear
from leadgov.config.contract import Contract
from leadgov.config.contract.value_types import WEEKDAYS
from leadgov.kpis import Kpis
from leadgov.periods import parse_period

#: A finished week below this share of ``volumes.weekly_target`` is a shortfall.
SHORTFALL_SHARE = 0.8
#: VOLUME_CAP_NEAR / BUDGET_CAP_NEAR fire when this share of the cap is reached.
NEAR_SHARE = 0.8
#: CONTRACT_RENEWAL fires this many days before the last day to give notice.
RENEWAL_WARNING_DAYS = 14
#: REVIEW_WAITING fires on a day when the oldest lead in review is due within this many days.
REVIEW_DUE_WITHIN_DAYS = 1
#: The trend rule compares a week with this many earlier weeks that have a rate.
TREND_WEEKS = 4
#: A delivery spike names at most this many reason codes.
TOP_REASONS = 3
PILOT_VERDICTS = frozenset({"GO", "STOP", "RENEGOTIATE"})


class ReasonCount(TypedDict):
    """One of a spike's most frequent reason codes."""

    code: str
    count: int


class OverdueClaim(TypedDict):
    """A claim gone overdue, as REPLACEMENT_OVERDUE needs it (the claim's columns as stored)."""

    claim_id: int
    lead_id: str | None
    due_on: date | None
    overdue_on: date | None


class StatementFacts(TypedDict, total=False):
    """What BILLING_FROZEN needs of a stored statement."""

    month: Required[str]
    revision: int
    frozen: bool
    amount_due_eur: Decimal | None
    freeze_reasons: list[str]
    #: The month's billable amount before the budget cap (ends the budget incidents when under it).
    gross_eur: Decimal


def _alert(contract: Contract, kind: AlertType, period: str, *, figure: float | None = None,
           threshold: float | None = None, **facts: object) -> Alert:
    """An alert of ``contract``'s supplier, on the channel its type goes to."""
    channels = contract.alerts
    return Alert(
        type=kind, supplier_id=contract.supplier.id, supplier_name=contract.supplier.name, period=period,
        channel=channels.committee_channel if kind in COMMITTEE_ALERTS else channels.slack_channel,
        locale=contract.locale, figure=figure, threshold=threshold, facts=facts,
    )


def _enough_leads(count: int, contract: Contract) -> bool:
    return count >= contract.alerts.min_leads_for_rate_alerts


def _top_reasons(kpis: Kpis) -> list[ReasonCount]:
    """The most frequent reason codes, ties in the spec's order (the breakdown's order)."""
    ranked = sorted(kpis.reason_breakdown, key=lambda row: -row["count"])  # stable: keeps spec order
    return [{"code": str(row["code"]), "count": int(row["count"])} for row in ranked[:TOP_REASONS]]


def _duplicate_surge(kpis: Kpis, contract: Contract, period: str, **extra: object) -> list[Alert]:
    limit = contract.billing.freeze_if.duplicate_rate_above
    rate = kpis.duplicate_rate
    if limit is None or rate is None or not _enough_leads(kpis.delivered, contract) or not rate > limit:
        return []
    return [_alert(contract, AlertType.DUPLICATE_SURGE, period, figure=rate, threshold=limit,
                   delivered=kpis.delivered, duplicates=kpis.duplicates, **extra)]


def _gdpr_breach(kpis: Kpis, contract: Contract, period: str, **extra: object) -> list[Alert]:
    """Not a rate alert: a single incident fires, whatever the volume."""
    if kpis.gdpr_incidents <= 0:
        return []
    return [_alert(contract, AlertType.GDPR_BREACH, period, figure=kpis.gdpr_incidents, threshold=0,
                   delivered=kpis.delivered, freezes_statement=contract.billing.freeze_if.gdpr_breach, **extra)]


def _check_kind(kpis: Kpis, kind: str, function: str) -> None:
    if kpis.kind != kind:
        raise ValueError(f"{function} needs the KPIs of one {kind}, got a {kpis.kind} ({kpis.period})")


def delivery_alerts(kpis: Kpis, contract: Contract, *, delivery_id: int, delivered_on: date) -> list[Alert]:
    """Alerts on one delivery's KPIs: REJECTION_SPIKE, DUPLICATE_SURGE, GDPR_BREACH."""
    _check_kind(kpis, "delivery", "delivery_alerts")
    period = f"delivery:{delivery_id}"
    alerts = []
    limit = contract.quality.max_reject_rate
    rate = kpis.reject_rate
    if rate is not None and _enough_leads(kpis.delivered, contract) and rate > limit:
        closes = delivered_on + timedelta(days=contract.replacement.contest_window_days)
        alerts.append(_alert(
            contract, AlertType.REJECTION_SPIKE, period, figure=rate, threshold=limit,
            rule="threshold", delivered=kpis.delivered, rejected=kpis.rejected, contested=kpis.contested,
            delivered_on=delivered_on.isoformat(), contest_window_closes=closes.isoformat(),
            top_reasons=_top_reasons(kpis),
        ))
    day = delivered_on.isoformat()
    return (alerts + _duplicate_surge(kpis, contract, period, delivered_on=day)
            + _gdpr_breach(kpis, contract, period, delivered_on=day))


def _trend(earlier_reject_rates: Iterable[float | None]) -> tuple[float, float] | None:
    """(mean, sample std dev) of the last ``TREND_WEEKS`` earlier rates that exist; None with fewer."""
    rates = [float(r) for r in earlier_reject_rates if r is not None][-TREND_WEEKS:]
    if len(rates) < TREND_WEEKS:
        return None
    return statistics.mean(rates), statistics.stdev(rates)


def _rejection_spike_week(kpis: Kpis, contract: Contract,
                          earlier_reject_rates: list[float | None]) -> list[Alert]:
    rate = kpis.reject_rate
    if rate is None or not _enough_leads(kpis.delivered, contract):
        return []
    trend = _trend(earlier_reject_rates)
    crossed = []  # (bound, rule), threshold first so that it wins a tie
    if rate > contract.quality.max_reject_rate:
        crossed.append((contract.quality.max_reject_rate, "threshold"))
    if trend is not None:
        mean, std = trend
        bound = mean + contract.alerts.reject_spike_sigma * std
        if rate > bound:
            crossed.append((bound, "trend"))
    if not crossed:
        return []
    threshold, rule = min(crossed, key=lambda pair: pair[0])
    return [_alert(
        contract, AlertType.REJECTION_SPIKE, kpis.period, figure=rate, threshold=threshold, rule=rule,
        max_reject_rate=contract.quality.max_reject_rate,
        mean=None if trend is None else trend[0], std=None if trend is None else trend[1],
        sigma=contract.alerts.reject_spike_sigma,
        delivered=kpis.delivered, rejected=kpis.rejected, contested=kpis.contested,
        top_reasons=_top_reasons(kpis),
    )]


def _within_contract(kpis: Kpis, contract: Contract) -> bool:
    """Whether the whole week lies in the contract's period: the contracted weekly volume is owed
    only for those (a week that straddles the start or the end is not judged)."""
    start, end = parse_period(kpis.period).dates
    return contract.period.start <= start and end <= contract.period.end


def _volume(kpis: Kpis, contract: Contract) -> list[Alert]:
    if not _within_contract(kpis, contract):
        return []
    volumes = contract.volumes
    facts = {"delivered": kpis.delivered, "weekly_target": volumes.weekly_target,
             "weekly_max": volumes.weekly_max, "over_cap": kpis.over_cap}
    floor = volumes.weekly_target * SHORTFALL_SHARE
    if kpis.delivered < floor:
        return [_alert(contract, AlertType.VOLUME_SHORTFALL, kpis.period, figure=kpis.delivered,
                       threshold=floor, **facts)]
    if kpis.delivered > volumes.weekly_max:
        return [_alert(contract, AlertType.VOLUME_EXCESS, kpis.period, figure=kpis.delivered,
                       threshold=volumes.weekly_max, **facts)]
    return []


def _sla_breach(kpis: Kpis, contract: Contract) -> list[Alert]:
    """About our own team's calls, not the supplier: counted on accepted leads."""
    share, target = kpis.first_contact_sla, contract.quality.first_contact_sla_share
    if share is None or not _enough_leads(kpis.accepted, contract) or not share < target:
        return []
    return [_alert(contract, AlertType.SLA_BREACH, kpis.period, figure=share, threshold=target,
                   concerns="our_team", accepted=kpis.accepted,
                   called_within_sla=kpis.first_contact_within_sla,
                   sla_hours=contract.quality.first_contact_sla_hours)]


def week_alerts(kpis: Kpis, contract: Contract, *, earlier_reject_rates: list[float | None],
                finished: bool) -> list[Alert]:
    """Alerts on one ISO week's KPIs. ``earlier_reject_rates``: the weeks before, oldest first
    (None for a week without leads). Volumes and the SLA are judged only once the week is ``finished``.
    No GDPR_BREACH here: each breach is alerted once, by its delivery or by its contest."""
    _check_kind(kpis, "week", "week_alerts")
    alerts = _rejection_spike_week(kpis, contract, earlier_reject_rates) + _duplicate_surge(kpis, contract, kpis.period)
    alerts += _volume_cap(kpis, contract)
    if finished:
        alerts += _volume(kpis, contract) + _sla_breach(kpis, contract)
    return alerts


def _volume_cap(kpis: Kpis, contract: Contract) -> list[Alert]:
    """The week's accepted leads against ``weekly_max``: VOLUME_CAP_REACHED once they reach it (the
    week's next leads will be refused), else VOLUME_CAP_NEAR once they reach ``NEAR_SHARE`` of it.
    "Reach" is ``>=``: these two are the rules' only non-strict thresholds."""
    cap = contract.volumes.weekly_max
    facts = {"accepted": kpis.accepted, "weekly_max": cap}
    if not _within_contract(kpis, contract):
        return []
    if kpis.accepted >= cap:
        return [_alert(contract, AlertType.VOLUME_CAP_REACHED, kpis.period, figure=kpis.accepted, threshold=cap,
                       **facts)]
    if kpis.accepted >= NEAR_SHARE * cap:
        return [_alert(contract, AlertType.VOLUME_CAP_NEAR, kpis.period, figure=kpis.accepted,
                       threshold=NEAR_SHARE * cap, **facts)]
    return []


def week_clears(kpis: Kpis, contract: Contract, fired: Sequence[Alert]) -> list[Clear]:
    """A finished ISO week's checks that found their problem absent: each may close the supplier's
    open incident of that type (``leadgov.alerts.incidents``). A type is judged only where its rule
    could have fired (enough leads for a rate, a week inside the contract for volumes); a type that
    fired for the week (``fired``) is not clear."""
    _check_kind(kpis, "week", "week_clears")
    _, end = parse_period(kpis.period).dates
    fired_types = {alert.type for alert in fired}
    enough = _enough_leads(kpis.delivered, contract)
    within = _within_contract(kpis, contract)
    duplicate_limit = contract.billing.freeze_if.duplicate_rate_above
    cap = contract.volumes.weekly_max
    candidates: list[tuple[AlertType, bool, float | None, float | None]] = [
        (AlertType.REJECTION_SPIKE, kpis.reject_rate is not None and enough, kpis.reject_rate,
         contract.quality.max_reject_rate),
        (AlertType.DUPLICATE_SURGE, duplicate_limit is not None and kpis.duplicate_rate is not None and enough,
         kpis.duplicate_rate, duplicate_limit),
        (AlertType.GDPR_BREACH, kpis.delivered > 0 and kpis.gdpr_incidents == 0, kpis.gdpr_incidents, 0),
        (AlertType.VOLUME_SHORTFALL, within, kpis.delivered, contract.volumes.weekly_target * SHORTFALL_SHARE),
        (AlertType.VOLUME_EXCESS, within, kpis.delivered, cap),
        (AlertType.SLA_BREACH, kpis.first_contact_sla is not None and _enough_leads(kpis.accepted, contract),
         kpis.first_contact_sla, contract.quality.first_contact_sla_share),
        # the cap's NEAR/REACHED incident ends under the NEAR share
        (AlertType.VOLUME_CAP_NEAR, within and kpis.accepted < NEAR_SHARE * cap, kpis.accepted, NEAR_SHARE * cap),
    ]
    return [Clear(kind, kpis.period, end, "within", figure, threshold)
            for kind, judged, figure, threshold in candidates if judged and kind not in fired_types]


def contest_gdpr_alerts(contract: Contract, contests: Sequence[Mapping[str, object]]) -> list[Alert]:
    """GDPR_BREACH for each contest NO_CONSENT_ON_CALL (dicts with lead_id and contest_reason):
    one event per contested lead (period ``contest:<lead_id>``), whatever the volume."""
    return [_alert(contract, AlertType.GDPR_BREACH, f"contest:{c['lead_id']}", figure=1, threshold=0,
                   lead_ids=[str(c["lead_id"])], freezes_statement=contract.billing.freeze_if.gdpr_breach)
            for c in contests if c.get("contest_reason") == "NO_CONSENT_ON_CALL"]


def delivery_missing_alerts(contract: Contract, *, delivered_days: set[date], since: date,
                            as_of: date) -> list[Alert]:
    """One alert per expected delivery day from ``since`` with no delivery, once the next day is
    over (``day + 1 < as_of``). Days outside the contract's period expect nothing."""
    weekdays = contract.volumes.delivery_isoweekdays
    first = max(since, contract.period.start)
    last = min(as_of - timedelta(days=2), contract.period.end)
    alerts = []
    day = first
    while day <= last:
        if day.isoweekday() in weekdays and day not in delivered_days:
            alerts.append(_alert(contract, AlertType.DELIVERY_MISSING, f"day:{day.isoformat()}",
                                 expected_on=day.isoformat(), weekday=WEEKDAYS[day.weekday()],
                                 late_after=(day + timedelta(days=1)).isoformat()))
        day += timedelta(days=1)
    return alerts


def _day(value: object) -> date:
    """A date from a date, a datetime (pandas Timestamps included) or an ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def replacement_overdue_alerts(contract: Contract, claims: Sequence[OverdueClaim]) -> list[Alert]:
    """One alert per day on which claims became overdue (claims: claim_id, lead_id, due_on,
    overdue_on). A billed lead's overdue claim is credited on the statement of that day's month."""
    by_day: dict[date, list[OverdueClaim]] = {}
    for claim in claims:
        by_day.setdefault(_day(claim["overdue_on"]), []).append(claim)
    alerts = []
    for day in sorted(by_day):
        group = by_day[day]
        alerts.append(_alert(
            contract, AlertType.REPLACEMENT_OVERDUE, f"overdue:{day.isoformat()}", figure=len(group),
            claim_ids=sorted(int(c["claim_id"]) for c in group),
            lead_ids=sorted(str(c["lead_id"]) for c in group),
            due_on=sorted({_day(c["due_on"]).isoformat() for c in group}),
            overdue_on=day.isoformat(), credit_month=f"{day.year:04d}-{day.month:02d}",
        ))
    return alerts


def billing_frozen_alert(contract: Contract, statement: StatementFacts) -> list[Alert]:
    """A frozen statement, once per month: a later revision frozen again is the same event.

    The amount due comes as ``Decimal``; the alert stores it as a number to the cent (its figure
    and a JSON fact), which the message renders through ``leadgov.formatting``."""
    if not statement.get("frozen"):
        return []
    amount = statement.get("amount_due_eur")
    due = None if amount is None else float(Decimal(amount).quantize(Decimal("0.01"), ROUND_HALF_UP))
    return [_alert(contract, AlertType.BILLING_FROZEN, str(statement["month"]), figure=due,
                   revision=statement.get("revision"), amount_due_eur=due,
                   freeze_reasons=[str(r) for r in statement.get("freeze_reasons") or []])]


def pilot_verdict_alert(contract: Contract, *, pilot_id: int, verdict: str, reasons: Sequence[str],
                        report_path: str | None) -> list[Alert]:
    """The end of one pilot of the supplier, for the committee: its period is ``pilot:<id>``, so each
    pilot (a second one after a renegotiation too) is told once."""
    if verdict not in PILOT_VERDICTS:
        raise ValueError(f"unknown pilot verdict {verdict!r}: use one of {', '.join(sorted(PILOT_VERDICTS))}")
    return [_alert(contract, AlertType.PILOT_VERDICT, f"pilot:{pilot_id}", verdict=verdict,
                   reasons=[str(r) for r in reasons], report_path=report_path)]


def quarterly_review_alert(*, quarter: str, channel: str, locale: str, report_path: str | None,
                           suppliers: int) -> list[Alert]:
    """A published cross-supplier review: supplier "all", on the channel the caller names."""
    language: Literal["fr", "en"]
    if locale == "fr":
        language = "fr"
    elif locale == "en":
        language = "en"
    else:
        raise ValueError(f"unknown locale {locale!r}: use fr or en")
    return [Alert(type=AlertType.QUARTERLY_REVIEW, supplier_id="all", supplier_name="", period=quarter,
                  channel=channel, locale=language, figure=None, threshold=None,
                  facts={"suppliers": suppliers, "report_path": report_path})]


def budget_cap_alerts(contract: Contract, *, month: str, billable_eur: Decimal) -> list[Alert]:
    """The month's billable amount so far against ``billing.monthly_budget_cap_eur``: BUDGET_CAP_REACHED
    once it reaches the cap, else BUDGET_CAP_NEAR once it reaches ``NEAR_SHARE`` of it (``>=``)."""
    if contract.billing.monthly_budget_cap_eur is None:
        return []
    cap = Decimal(str(contract.billing.monthly_budget_cap_eur))
    amount = float(billable_eur)
    facts = {"billable_eur": amount, "budget_cap_eur": float(cap)}
    if billable_eur >= cap:
        return [_alert(contract, AlertType.BUDGET_CAP_REACHED, month, figure=amount, threshold=float(cap), **facts)]
    if billable_eur >= cap * Decimal(str(NEAR_SHARE)):
        return [_alert(contract, AlertType.BUDGET_CAP_NEAR, month, figure=amount,
                       threshold=float(cap) * NEAR_SHARE, **facts)]
    return []


def budget_cap_clears(contract: Contract, *, month: str, through: date, billable_eur: Decimal) -> list[Clear]:
    """A month billed under ``NEAR_SHARE`` of the cap ends the budget's NEAR/REACHED incident."""
    if contract.billing.monthly_budget_cap_eur is None:
        return []
    near = Decimal(str(contract.billing.monthly_budget_cap_eur)) * Decimal(str(NEAR_SHARE))
    if billable_eur >= near:
        return []
    return [Clear(AlertType.BUDGET_CAP_NEAR, month, through, "within", float(billable_eur), float(near))]


def contract_renewal_alert(contract: Contract, *, today: date) -> list[Alert]:
    """From ``notice_days`` + ``RENEWAL_WARNING_DAYS`` days before the contract's end until the last
    day to give notice: once per contract period (its end names it)."""
    end = contract.period.end
    deadline = end - timedelta(days=contract.period.notice_days)
    if not deadline - timedelta(days=RENEWAL_WARNING_DAYS) <= today <= deadline:
        return []
    return [_alert(contract, AlertType.CONTRACT_RENEWAL, f"renewal:{end.isoformat()}",
                   period_end=end.isoformat(), notice_deadline=deadline.isoformat(),
                   notice_days=contract.period.notice_days, auto_renew=contract.period.auto_renew)]


def review_waiting_alert(contract: Contract, *, today: date, waiting: int, oldest_due: date | None) -> list[Alert]:
    """Leads in review on a day when the oldest is due within ``REVIEW_DUE_WITHIN_DAYS``: one per
    supplier and day."""
    if waiting <= 0 or oldest_due is None or oldest_due > today + timedelta(days=REVIEW_DUE_WITHIN_DAYS):
        return []
    return [_alert(contract, AlertType.REVIEW_WAITING, f"day:{today.isoformat()}", figure=waiting,
                   waiting=waiting, oldest_due=oldest_due.isoformat())]
