"""The alert outbox as it stands, and sending what waits in it: ``leadgov alerts``, ``leadgov alerts
send`` and the demo's summary."""


from leadgov.alerts.outbox import SendSummary
from leadgov.models import alert_store
from leadgov.models.alert_store import StoredAlert as StoredAlert  # the outbox's rows, for the doors
from leadgov.services.runtime import Runtime


def outbox(runtime: Runtime, status: str | None = None) -> tuple[StoredAlert, ...]:
    """The alerts raised so far, oldest first (read only)."""
    with runtime.sessions() as session:
        return tuple(alert_store.list_alerts(session, status))


def send_alerts(runtime: Runtime) -> SendSummary:
    """Send what is pending or failed through the runtime's notifier (kept when Slack is not configured)."""
    return runtime.notifier.send_pending(runtime.sessions)
