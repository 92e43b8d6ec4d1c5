"""E-mail to the committee through SMTP (the standard library's ``smtplib``): one message per
recipient, with the report's HTML and PDF attached.

``MailSender.send`` either hands the message to the server or raises ``MailDeliveryError``, which
names the recipient and what failed (connection, refusal code, timeout), never the message, the
password or the attachments. The committee outbox keeps a failed e-mail for the next run.

Settings: ``LEADGOV_SMTP_HOST`` (none: e-mails wait in the outbox), ``LEADGOV_SMTP_PORT``,
``LEADGOV_SMTP_FROM``, and when the server asks for them ``LEADGOV_SMTP_USER`` /
``LEADGOV_SMTP_PASSWORD`` and ``LEADGOV_SMTP_STARTTLS``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadgov.config.settings import Settings


class MailDeliveryError(Exception):
    """An e-mail could not be handed to the SMTP server."""

    def __init__(self, recipient: str, reason: str):
        self.recipient = recipient
        self.reason = reason
        super().__init__(f"e-mail to {recipient} not delivered: {reason}")


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mime_type: str  # "text/html", "application/pdf"


@dataclass(frozen=True)
class MailSender:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSender | None:
        """A sender for the configured SMTP server; None without ``smtp_host`` (e-mails wait)."""
        if not settings.smtp_host:
            return None
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user, password,
                   settings.smtp_starttls, settings.smtp_timeout_seconds)

    def send(self, recipient: str, subject: str, body: str, attachments: list[Attachment]) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid(domain="leadgov")
        message.set_content(body)
        for attachment in attachments:
            main, sub = attachment.mime_type.split("/", 1)
            message.add_attachment(attachment.content, maintype=main, subtype=sub, filename=attachment.name)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise MailDeliveryError(recipient, f"recipient refused (SMTP {', '.join(map(str, codes))})") from None
        except smtplib.SMTPResponseException as exc:
            raise MailDeliveryError(recipient, f"refused by the server (SMTP {exc.smtp_code})") from None
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            reason = f"no answer from {self.host}:{self.port} ({type(exc).__name__})"
            raise MailDeliveryError(recipient, reason) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailDeliveryError(recipient, f"connection error ({type(exc).__name__})") from None
