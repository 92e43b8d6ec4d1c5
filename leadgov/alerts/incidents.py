"""Incidents, not floods (docs/governance.md, Alerts): which alerts form incidents, the last day an
alert covers, and what a check that finds the problem gone says.

An incident is one ongoing problem of one supplier for one alert type. Its first alert is a message
in the managers' channel; later alerts of the same (type, supplier) while it is open are replies in
that message's thread; a check that finds the problem gone for a period that covers the incident's
last alert closes it with a last reply. Notices (a pilot's verdict, a published review, a contract
renewal) are one-off messages, never threaded. A cap's NEAR and REACHED are one incident, and a
problem back within ``REOPEN_WITHIN`` of its incident's closing reopens that incident.
"""

import json
from datetime import date, timedelta

from leadgov.alerts.messages import render_closing
from leadgov.alerts.types import Alert, AlertType, Clear
from leadgov.config.contract import Contract
from leadgov.models.incident_store import IncidentAlert, IncidentClose
from leadgov.periods import BadPeriod, parse_period

#: One-off messages: each is its own message, never a thread.
NOTICES = frozenset({AlertType.PILOT_VERDICT, AlertType.QUARTERLY_REVIEW, AlertType.CONTRACT_RENEWAL})
#: A cap's two steps are one problem: NEAR, then REACHED as a reply in the same thread. The family
#: closes when the figure is back under the NEAR share.
FAMILIES = {
    AlertType.VOLUME_CAP_NEAR: "VOLUME_CAP", AlertType.VOLUME_CAP_REACHED: "VOLUME_CAP",
    AlertType.BUDGET_CAP_NEAR: "BUDGET_CAP", AlertType.BUDGET_CAP_REACHED: "BUDGET_CAP",
}
#: A problem that comes back this soon after its incident closed reopens it (its thread, not a new
#: message): a supplier hovering around a limit makes one thread, not one message a week.
REOPEN_WITHIN = timedelta(days=14)


def forms_incident(kind: AlertType) -> bool:
    return kind not in NOTICES


def incident_type(kind: AlertType) -> str:
    """The incident an alert type belongs to: its family for a cap's NEAR/REACHED, else itself."""
    return FAMILIES.get(kind, kind.value)


def seen_on(alert: Alert, today: date) -> date:
    """The last day ``alert``'s period covers: a delivery's day, a week's Sunday, a month's last day,
    the day of a ``day:``/``overdue:`` period; ``today`` for anything else (a contest)."""
    kind, _, rest = alert.period.partition(":")
    if kind == "delivery" and alert.facts.get("delivered_on"):
        return date.fromisoformat(str(alert.facts["delivered_on"]))
    if kind in ("day", "overdue") and rest:
        return date.fromisoformat(rest)
    try:
        period = parse_period(alert.period)
    except BadPeriod:
        return today
    return period.end or today


def incident_alert(alert: Alert, today: date) -> IncidentAlert:
    return IncidentAlert(key=alert.key, type=incident_type(alert.type), supplier_id=alert.supplier_id,
                         channel=alert.channel, locale=alert.locale, seen_on=seen_on(alert, today),
                         reopen_within=REOPEN_WITHIN)


def delivered(day: date) -> Clear:
    """A delivery came: the missing deliveries before it are over."""
    return Clear(AlertType.DELIVERY_MISSING, f"day:{day.isoformat()}", day - timedelta(days=1), "delivered")


def closing(contract: Contract, clear: Clear) -> IncidentClose:
    """The closing of ``contract``'s supplier's incident that ``clear`` ends, with its reply rendered."""
    message = render_closing(clear.type, locale=contract.locale, supplier=contract.supplier.name,
                             period=clear.period, reason=clear.reason, figure=clear.figure,
                             threshold=clear.threshold)
    return IncidentClose(type=incident_type(clear.type), supplier_id=contract.supplier.id, period=clear.period,
                         through=clear.through, text=message.text,
                         blocks=json.dumps(message.blocks, ensure_ascii=False))
