"""What the committee receives when a report is published (docs/governance.md, "Delivery to the
committee"): the report's HTML and PDF, with a short message of its headline figures and
recommendations, posted to the contract's ``committee_channel`` and e-mailed to ``committee_emails``.

A published report is stored as a *pack* (``models.committee_store``) in the same transaction as
the alert that announces it; the committee outbox then delivers it (``alerts.outbox.send_committee``).
A report is identified by what it is about (``review:2027-Q1``, ``pilot:acme-leads``); its
fingerprint is its HTML without the footer (the day it was generated), so publishing the same
figures again delivers nothing, and changed figures make a new revision, delivered again and
marked as a revision.
"""

import hashlib
import re
from pathlib import Path

from leadgov.models.committee_store import PackContent, PackCreate, PackDelivery

_FOOTER = re.compile(r"<footer>.*?</footer>", re.S)
REVISION = {"fr": "révision {n}", "en": "revision {n}"}
EMAIL_BODY = {
    "fr": "{message}\n\nLe rapport est joint en HTML (à ouvrir dans un navigateur) et en PDF.\n-- leadgov",
    "en": "{message}\n\nThe report is attached as HTML (open it in a browser) and as PDF.\n-- leadgov",
}


def fingerprint(html: str) -> str:
    """The report's content, without the day it was generated."""
    return hashlib.sha256(_FOOTER.sub("", html).encode("utf-8")).hexdigest()


def report_pack(*, report: str, title: str, message: str, locale: str, html_path: Path, slack_channel: str | None,
                emails: tuple[str, ...], alert_key: str | None) -> PackCreate:
    """The pack of a report written as ``html_path`` and its PDF beside it (same name, ``.pdf``)."""
    html = html_path.read_bytes()
    pdf_path = html_path.with_suffix(".pdf")
    content = PackContent(locale=locale, title=title, message=message, html_name=html_path.name, html=html,
                          pdf_name=pdf_path.name, pdf=pdf_path.read_bytes())
    return PackCreate(report=report, fingerprint=fingerprint(html.decode("utf-8")), content=content,
                      slack_channel=slack_channel, emails=emails, alert_key=alert_key)


def _marked(text: str, delivery: PackDelivery) -> str:
    if delivery.revision == 1:
        return text
    return f"{text} ({REVISION.get(delivery.content.locale, REVISION['en']).format(n=delivery.revision)})"


def slack_message(delivery: PackDelivery) -> str:
    """The comment posted with the files; a revision says so on its first line."""
    first, _, rest = delivery.content.message.partition("\n")
    return _marked(first, delivery) + (f"\n{rest}" if rest else "")


def email_subject(delivery: PackDelivery) -> str:
    return _marked(delivery.content.title, delivery)


def email_body(delivery: PackDelivery) -> str:
    """Plain text: the Slack message without its mrkdwn stars."""
    body = EMAIL_BODY.get(delivery.content.locale, EMAIL_BODY["en"])
    return body.format(message=slack_message(delivery).replace("*", ""))
