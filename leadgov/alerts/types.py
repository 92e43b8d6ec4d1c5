"""The vocabulary of alerts (docs/governance.md, Alerts): what fired, for whom, about which period."""

from collections.abc import Mapping
from dataclasses import dataclass, field
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
        return f"{self.type.value}|{self.supplier_id}|{self.period}"
