"""The vocabulary of alerts (docs/governance.md, Alerts): what fired, for whom, about which period."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal


class AlertType(StrEnum):
    """Every alert of the spec's table; the name is used unchanged in the database and in Slack."""

    REJECTION_SPIKE = "REJECTION_SPIKE"
    DUPLICATE_SURGE = "DUPLICATE_SURGE"
    GDPR_BREACH = "GDPR_BREACH"
    VOLUME_SHORTFALL = "VOLUME_SHORTFALL"
    VOLUME_EXCESS = "VOLUME_EXCESS"
    DELIVERY_MISSING = "DELIVERY_MISSING"
    REPLACEMENT_OVERDUE = "REPLACEMENT_OVERDUE"
    SLA_BREACH = "SLA_BREACH"
    BILLING_FROZEN = "BILLING_FROZEN"
    PILOT_VERDICT = "PILOT_VERDICT"
    QUARTERLY_REVIEW = "QUARTERLY_REVIEW"
    VOLUME_CAP_NEAR = "VOLUME_CAP_NEAR"
    VOLUME_CAP_REACHED = "VOLUME_CAP_REACHED"
    BUDGET_CAP_NEAR = "BUDGET_CAP_NEAR"
    BUDGET_CAP_REACHED = "BUDGET_CAP_REACHED"
    CONTRACT_RENEWAL = "CONTRACT_RENEWAL"
    REVIEW_WAITING = "REVIEW_WAITING"


#: Alerts for the committee channel; every other alert goes to the contract's ops channel.
COMMITTEE_ALERTS = frozenset({AlertType.PILOT_VERDICT, AlertType.QUARTERLY_REVIEW})


@dataclass(frozen=True)
class Alert:
    """One alert to send once: the same (type, supplier, period) is one event however often the
    rules run. ``figure``/``threshold`` are the measured value and the contract's limit (rates as
    fractions); ``facts`` carries what the message needs beyond them (counts, dates, lead ids,
    next-step dates), never personal data of leads."""

    type: AlertType
    supplier_id: str
    supplier_name: str
    period: str
    channel: str
    locale: Literal["fr", "en"]
    figure: float | None = None
    threshold: float | None = None
    facts: Mapping[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return alert_key(self.type, self.supplier_id, self.period)


def alert_key(kind: AlertType, supplier_id: str, period: str) -> str:
    """An alert's identity in the outbox: the same (type, supplier, period) is one event."""
    return f"{kind.value}|{supplier_id}|{period}"


@dataclass(frozen=True)
class Posted:
    """Where Slack put a message: the channel's id and the message's ``ts``."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Clear:
    """A check found ``type``'s problem absent for ``period`` (which ends on ``through``): it closes the
    supplier's open incident of that type unless an alert of the incident covers a later day.
    ``reason`` names the closing sentence (``within``: the figure is back within its limit,
    ``no_overdue``, ``delivered``, ``not_frozen``); ``figure``/``threshold`` as in the alert."""

    type: AlertType
    period: str
    through: date
    reason: str
    figure: float | None = None
    threshold: float | None = None
