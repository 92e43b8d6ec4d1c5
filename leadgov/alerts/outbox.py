"""Alerts go to the outbox first (in the transaction of the step that raised them), then to Slack.

A send that fails is kept as ``failed`` and retried by the next run; it never fails the
validation, import or billing that raised the alert. Without Slack settings, alerts stay
``pending`` and a log line says so (never their content: facts stay in the database).
"""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from leadgov.alerts.incidents import closing, forms_incident, incident_alert
from leadgov.alerts.messages import Message, render, render_head
from leadgov.alerts.types import Alert, AlertType, Clear, Posted
from leadgov.committee import email_body, email_subject, slack_message
from leadgov.config.contract import Contract
from leadgov.mail import Attachment, MailSender
from leadgov.models import alert_store, committee_store, incident_store
from leadgov.models.db import session_scope
from leadgov.models.statuses import AlertStatus

if TYPE_CHECKING:
    from leadgov.alerts.slack import SlackSender

log = logging.getLogger("leadgov.alerts")


def record(session: Session, alerts: list[Alert], *, today: date | None = None) -> list[str]:
    """Store the alerts not stored yet, rendered in their locale; the new keys. Each new alert that
    forms an incident joins its (type, supplier)'s open incident or opens one; ``today`` (the step's
    day, the runtime's clock) is then required: the last day covered by an alert whose period names no
    day, e.g. a contest. Notices (a review, a pilot's verdict) need none."""
    rows: list[dict[str, object]] = []
    for alert in alerts:
        message = render(alert)
        rows.append({
            "key": alert.key, "type": alert.type.value, "supplier_id": alert.supplier_id, "period": alert.period,
            "figure": alert.figure, "threshold": alert.threshold, "channel": alert.channel, "locale": alert.locale,
            "facts": json.dumps(dict(alert.facts), ensure_ascii=False, default=str),
            "text": message.text, "blocks": json.dumps(message.blocks, ensure_ascii=False),
        })
    new = alert_store.add_alerts(session, rows)
    fresh = set(new)
    for alert in alerts:
        if alert.key in fresh and forms_incident(alert.type):
            if today is None:
                raise ValueError(f"recording {alert.type.value} needs the day of the step (its incident's last day)")
            incident_store.attach(session, alert=incident_alert(alert, today))
    return new


def close_incidents(session: Session, contract: Contract, clears: list[Clear]) -> list[int]:
    """Close ``contract``'s supplier's open incidents that ``clears`` end; their ids."""
    closed = [incident_store.close(session, closing=closing(contract, clear)) for clear in clears]
    return [incident_id for incident_id in closed if incident_id is not None]


@dataclass(frozen=True)
class SendSummary:
    sent: int = 0
    failed: int = 0
    #: Waiting because Slack (or SMTP) is not configured.
    kept: int = 0
    #: Left for the next run: the command's sending time was up.
    deferred: int = 0

    def line(self) -> str:
        """What a send did, in one sentence: "sent 3, failed 1 (kept for the next run)", then only the
        parts that apply (what waits for lack of Slack or SMTP, what the time budget left)."""
        line = f"sent {self.sent}, failed {self.failed} (kept for the next run)"
        if self.kept:
            line += f", kept in the outbox {self.kept} (Slack or SMTP not configured)"
        if self.deferred:
            line += f", left for the next run {self.deferred} (sending time is up: `leadgov alerts send`)"
        return line

    def __add__(self, other: "SendSummary") -> "SendSummary":
        return SendSummary(self.sent + other.sent, self.failed + other.failed, self.kept + other.kept,
                           self.deferred + other.deferred)


class Budget:
    """A command's time for sending (``send_budget_seconds``), measured on the monotonic clock."""

    def __init__(self, seconds: float):
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return self._end - time.monotonic()

    def spent(self) -> bool:
        return self.left() <= 0


def send_pending(url: str, sender: "SlackSender | None", budget: Budget | None = None) -> SendSummary:
    """Send every pending or failed alert with ``sender`` (a ``SlackSender``, or None when Slack is
    not configured), then refresh the incidents' first messages and post their closing replies.

    An alert of an incident is posted in the thread of the incident's first message (whose ``ts``
    is stored when it is posted); until that first message is sent, the later ones wait. An alert
    an earlier attempt may have posted (its answer lost, its worker killed) is first looked for in
    Slack (``SlackSender.find``), so a retry never posts it twice. Each outcome is committed on its
    own. Sending stops when ``budget`` is spent: what is left waits for the next run. Without a
    sender nothing is claimed: the alerts waiting are only counted (one query)."""
    if sender is None:
        with session_scope(url) as session:
            kept = alert_store.count_sendable(session)
        if kept:
            log.info("%d alerts kept in the outbox: Slack is not configured", kept)
        return SendSummary(kept=kept)
    budget = budget or Budget(float("inf"))
    with session_scope(url) as session:
        candidates = alert_store.sendable_ids(session)
    sent = failed = 0
    for position, alert_id in enumerate(candidates):
        if budget.spent():
            log.info("%d alerts left in the outbox for the next run: the sending time is up",
                     len(candidates) - position)
            return SendSummary(sent, failed, deferred=len(candidates) - position)
        sender.bound_timeout(budget.left())
        outcome = _send_alert(url, sender, alert_id)
        sent += outcome == "sent"
        failed += outcome == "failed"
    if not budget.spent():
        _refresh_heads(url, sender)
        closed = _send_closings(url, sender)
        sent, failed = sent + closed.sent, failed + closed.failed
    return SendSummary(sent, failed)


def _send_alert(url: str, sender: "SlackSender", alert_id: int) -> str:
    """Send one alert: "sent", "failed", "waiting" (its incident's first message is not out yet) or
    "taken" (another worker has it)."""
    with session_scope(url) as session:
        outgoing = alert_store.claim(session, alert_id)
        if outgoing is None:
            return "taken"
        thread = None if outgoing.incident_id is None else incident_store.thread_of(session, outgoing.incident_id)
        opener = thread is not None and thread.opened_key == outgoing.key
        if thread is not None and not opener and thread.slack_ts is None and not thread.opener_sent:
            alert_store.release(session, alert_id)  # the thread's first message goes first
            return "waiting"
    thread_ts = None if thread is None or opener or not sender.threads else thread.slack_ts
    try:
        posted = sender.find(outgoing.channel, outgoing.key, thread_ts=thread_ts) if outgoing.retried else None
        if posted is None:
            posted = sender.post(outgoing.channel, outgoing.text, json.loads(outgoing.blocks), key=outgoing.key,
                                 thread_ts=thread_ts)
    except Exception as exc:  # noqa: BLE001 - any failure keeps the alert for the next run
        with session_scope(url) as session:
            alert_store.mark_failed(session, alert_id, f"{type(exc).__name__}: {exc}")
        log.warning("alert %s not sent (%s); kept for the next run", outgoing.key, type(exc).__name__)
        return "failed"
    with session_scope(url) as session:
        alert_store.mark_sent(session, alert_id, None if posted is None else posted.ts)
        if opener and posted is not None and thread is not None:
            incident_store.record_head(session, thread.incident_id, slack_channel=posted.channel, slack_ts=posted.ts)
    return "sent"


def _refresh_heads(url: str, sender: "SlackSender") -> None:
    """``chat.update`` the first message of each incident whose figures moved (best effort: a failure
    leaves it outdated, refreshed by the next run)."""
    if not sender.threads:
        return
    with session_scope(url) as session:
        heads = incident_store.outdated_heads(session)
    for head in heads:
        kind = AlertType(head.latest_type)
        message = render_head(Message(head.opener_text, json.loads(head.opener_blocks)), kind, locale=head.locale,
                              occurrences=head.occurrences, latest_period=head.latest_period,
                              latest_figure=head.latest_figure, cleared_period=head.cleared_period)
        try:
            sender.update(Posted(head.slack_channel, head.slack_ts), message.text, message.blocks)
        except Exception as exc:  # noqa: BLE001 - refreshed by the next run
            log.warning("incident %d's first message not updated (%s)", head.incident_id, type(exc).__name__)
            continue
        with session_scope(url) as session:
            incident_store.head_updated(session, head.incident_id)


def _send_closings(url: str, sender: "SlackSender") -> SendSummary:
    """Post the closing reply of each closed incident whose alerts are all sent."""
    with session_scope(url) as session:
        closings = incident_store.claim_closings(session)
    sent = failed = 0
    for item in closings:
        thread_ts = item.slack_ts if sender.threads else None
        try:
            posted = sender.find(item.channel, item.key, thread_ts=thread_ts) if item.retried else None
            if posted is None:
                sender.post(item.channel, item.text, json.loads(item.blocks), key=item.key, thread_ts=thread_ts)
        except Exception as exc:  # noqa: BLE001 - retried by the next run
            with session_scope(url) as session:
                incident_store.mark_closing(session, item.incident_id, AlertStatus.FAILED)
            log.warning("incident %d's closing reply not sent (%s)", item.incident_id, type(exc).__name__)
            failed += 1
            continue
        with session_scope(url) as session:
            incident_store.mark_closing(session, item.incident_id, AlertStatus.SENT)
        sent += 1
    return SendSummary(sent, failed)


def send_committee(url: str, slack: "SlackSender | None", mail: MailSender | None,
                   budget: Budget | None = None) -> SendSummary:
    """Send the committee packs' deliveries whose medium is configured: the files and message to the
    committee channel, one e-mail per recipient. Each outcome is committed on its own; a Slack
    delivery that succeeds also marks the pack's announcing alert sent (its message was that alert).
    Deliveries whose medium is not configured wait, and are counted as kept."""
    media = [m for m, sender in (("slack", slack), ("email", mail)) if sender is not None]
    with session_scope(url) as session:
        taken = committee_store.claim_for_sending(session, media) if media else []
        kept = committee_store.count_waiting(session) - len(taken)
    sent = failed = 0
    budget = budget or Budget(float("inf"))
    for position, delivery in enumerate(taken):
        if budget.spent():
            with session_scope(url) as session:
                for left in taken[position:]:
                    committee_store.release(session, left.id)
            return SendSummary(sent, failed, kept, deferred=len(taken) - position)
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
