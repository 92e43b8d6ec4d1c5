"""Alerts go to the outbox first (in the transaction of the step that raised them), then to Slack.

A send that fails is kept as ``failed`` and retried by the next run; it never fails the
validation, import or billing that raised the alert. Without Slack settings, alerts stay
``pending`` and a log line says so (never their content: facts stay in the database).
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from leadgov.alerts.messages import render
from leadgov.alerts.types import Alert
from leadgov.committee import email_body, email_subject, slack_message
from leadgov.mail import Attachment, MailSender
from leadgov.models import alert_store, committee_store
from leadgov.models.db import session_scope

if TYPE_CHECKING:
    from leadgov.alerts.slack import SlackSender

log = logging.getLogger("leadgov.alerts")


def record(session: Session, alerts: list[Alert]) -> list[str]:
    """Store the alerts not stored yet, rendered in their locale; the new keys."""
    rows: list[dict[str, object]] = []
    for alert in alerts:
        message = render(alert)
        rows.append({
            "key": alert.key, "type": alert.type.value, "supplier_id": alert.supplier_id, "period": alert.period,
            "figure": alert.figure, "threshold": alert.threshold, "channel": alert.channel, "locale": alert.locale,
            "facts": json.dumps(dict(alert.facts), ensure_ascii=False, default=str),
            "text": message.text, "blocks": json.dumps(message.blocks, ensure_ascii=False),
        })
    return alert_store.add_alerts(session, rows)


@dataclass(frozen=True)
class SendSummary:
    sent: int = 0
    failed: int = 0
    kept: int = 0


def send_pending(url: str, sender: "SlackSender | None") -> SendSummary:
    """Send every pending or failed alert with ``sender`` (a ``SlackSender``, or None when Slack
    is not configured). Each alert's outcome is committed on its own, so a crash mid-run loses
    nothing and sends nothing twice. Without a sender nothing is claimed: the alerts waiting are
    only counted (one query), as every step after its commit calls this."""
    if sender is None:
        with session_scope(url) as session:
            kept = alert_store.count_sendable(session)
        if kept:
            log.info("%d alerts kept in the outbox: Slack is not configured", kept)
        return SendSummary(kept=kept)
    with session_scope(url) as session:
        taken = [(a.id, a.key, a.channel, a.text, json.loads(a.blocks)) for a in alert_store.claim_for_sending(session)]
    sent = failed = 0
    for alert_id, key, channel, text, blocks in taken:
        try:
            sender.post(channel, text, blocks)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the alert for the next run
            with session_scope(url) as session:
                alert_store.mark_failed(session, alert_id, f"{type(exc).__name__}: {exc}")
            log.warning("alert %s not sent (%s); kept for the next run", key, type(exc).__name__)
            failed += 1
            continue
        with session_scope(url) as session:
            alert_store.mark_sent(session, alert_id)
        sent += 1
    return SendSummary(sent, failed)


def send_committee(url: str, slack: "SlackSender | None", mail: MailSender | None) -> SendSummary:
    """Send the committee packs' deliveries whose medium is configured: the files and message to the
    committee channel, one e-mail per recipient. Each outcome is committed on its own; a Slack
    delivery that succeeds also marks the pack's announcing alert sent (its message was that alert).
    Deliveries whose medium is not configured wait, and are counted as kept."""
    media = [m for m, sender in (("slack", slack), ("email", mail)) if sender is not None]
    with session_scope(url) as session:
        taken = committee_store.claim_for_sending(session, media) if media else []
        kept = committee_store.count_waiting(session) - len(taken)
    sent = failed = 0
    for delivery in taken:
        content = delivery.content
        files = [(content.html_name, content.html), (content.pdf_name, content.pdf)]
        try:
            if delivery.medium == "slack":
                assert slack is not None  # claimed only when configured
                slack.upload(delivery.target, slack_message(delivery), files)
            else:
                assert mail is not None
                mail.send(delivery.target, email_subject(delivery), email_body(delivery),
                          [Attachment(content.html_name, content.html, "text/html"),
                           Attachment(content.pdf_name, content.pdf, "application/pdf")])
        except Exception as exc:  # noqa: BLE001 - any failure keeps the delivery for the next run
            with session_scope(url) as session:
                committee_store.mark_failed(session, delivery.id, f"{type(exc).__name__}: {exc}")
            log.warning("%s r%d not delivered by %s (%s); kept for the next run", delivery.report,
                        delivery.revision, delivery.medium, type(exc).__name__)
            failed += 1
            continue
        with session_scope(url) as session:
            committee_store.mark_sent(session, delivery.id)
            if delivery.medium == "slack" and delivery.alert_key:
                alert_store.mark_sent_by_key(session, delivery.alert_key)
        sent += 1
    if kept:
        log.info("%d committee deliveries kept in the outbox: Slack or SMTP is not configured", kept)
    return SendSummary(sent, failed, kept)


@dataclass(frozen=True)
class AlertRun:
    """What one evaluation did: the new alert keys, the send summary, and an error that kept
    the alerts from being evaluated (the step that raised them has already been stored)."""

    new: tuple[str, ...] = ()
    sent: SendSummary = SendSummary()
    error: str | None = None


def evaluate_alerts(url: str, evaluate: Callable[[Session], list[str]]) -> tuple[tuple[str, ...], str | None]:
    """Run ``evaluate(session) -> new keys`` in its own transaction: (new keys, None), or ((), why not).

    Called after the step's own commit: an alert problem never undoes or fails a validation, an
    import or a statement. If evaluation fails, the next run of the same step or of the weekly
    checks finds the alerts again from the stored data.
    """
    try:
        with session_scope(url) as session:
            return tuple(evaluate(session)), None
    except Exception as exc:  # noqa: BLE001 - reported, never raised into the caller's step
        log.warning("alerts not evaluated (%s); they will be on the next run", type(exc).__name__)
        return (), f"alerts not evaluated ({type(exc).__name__}); run `leadgov alerts check`"
