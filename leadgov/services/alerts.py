"""The alert outbox as it stands, and sending what waits in it: ``leadgov alerts``, ``leadgov alerts
send`` and the demo's summary."""

from dataclasses import dataclass
from datetime import datetime

from leadgov.alerts.outbox import SendSummary
from leadgov.models import alert_store
from leadgov.services.runtime import Runtime


@dataclass(frozen=True)
class OutboxEntry:
    """One stored alert: its key (type|supplier|period), where it goes and how far it got."""

    id: int
    key: str
    type: str
    supplier_id: str
    period: str
    figure: float | None
    threshold: float | None
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime | None
    sent_at: datetime | None
    #: The figures the message was written from (counts, rates, codes: never a lead's personal data).
    facts: dict[str, object]


def outbox(runtime: Runtime, status: str | None = None) -> tuple[OutboxEntry, ...]:
    """The alerts raised so far, oldest first (read only)."""
    with runtime.sessions() as session:
        rows = alert_store.list_alerts(session, status)
    return tuple(OutboxEntry(**row) for row in rows)  # the stored alert's keys are the entry's fields


def send_alerts(runtime: Runtime) -> SendSummary:
    """Send what is pending or failed through the runtime's notifier (kept when Slack is not configured)."""
    return runtime.notifier.send_pending(runtime.sessions)
