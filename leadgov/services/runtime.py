"""What every service is given: settings, a session factory, a notifier and a clock.

A service never reads the environment, the clock or the Slack settings by itself: the door that
calls it (the CLI, a flow, the demo, a test) builds one ``Runtime`` and passes it in. Tests and
the demo swap the clock (``FixedClock``) and the notifier (a Slack sender on a loopback server)
instead of mocking anything.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from leadgov.alerts.outbox import AlertRun, Budget, SendSummary, evaluate_alerts, send_committee, send_pending
from leadgov.config.settings import Settings, get_settings
from leadgov.errors import Refused
from leadgov.mail import MailSender
from leadgov.models.db import session_scope
from leadgov.models.migrate import upgrade
from leadgov.private_files import private_umask

if TYPE_CHECKING:
    from leadgov.alerts.slack import SlackSender


class Clock(Protocol):
    """The one source of "today" and "now" of a service (in the settings' time zone)."""

    def today(self) -> date: ...

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SystemClock:
    """The wall clock, read in ``timezone`` (Europe/Paris by default), never the server's zone."""

    timezone: str

    def now(self) -> datetime:
        return datetime.now(ZoneInfo(self.timezone))

    def today(self) -> date:
        return self.now().date()


@dataclass
class FixedClock:
    """A clock that says what it is told: the demo moves it day by day, tests pin it."""

    day: date
    timezone: str = "Europe/Paris"
    at: time = time(9, 0)

    def now(self) -> datetime:
        return datetime.combine(self.day, self.at, ZoneInfo(self.timezone))

    def today(self) -> date:
        return self.day


@dataclass(frozen=True)
class SessionFactory:
    """Units of work on one database: ``with runtime.sessions() as session`` commits on success,
    rolls back on any error (``models.db.session_scope``)."""

    url: str

    def __call__(self) -> AbstractContextManager[Session]:
        return session_scope(self.url)


class Notifier(Protocol):
    """Sends what waits in the outboxes: alerts to Slack, the committee's reports to Slack and by e-mail."""

    def send_pending(self, sessions: SessionFactory) -> SendSummary: ...


def slack_sender(settings: Settings) -> SlackSender | None:
    """The Slack sender of the settings (``SlackSender.from_settings``), None when Slack is not set up.
    slack-sdk and its HTTP stack are imported only when a token or a webhook is set: a command run
    without Slack (an analyst's ``leadgov validate``) does not load them (docs/performance.md)."""
    if not (settings.slack_bot_token or settings.slack_webhook_url):
        return None
    from leadgov.alerts.slack import SlackSender  # noqa: PLC0415 - only when Slack is set up (docstring)

    return SlackSender.from_settings(settings)


@dataclass(frozen=True)
class OutboxNotifier:
    """The outboxes sent through slack-sdk and SMTP; a sender None (not configured) keeps what it
    would send pending."""

    sender: SlackSender | None
    mail: MailSender | None = None
    #: Seconds one call of ``send_pending`` may spend sending; what is left waits for the next run.
    budget_seconds: float = float("inf")

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxNotifier:
        return cls(slack_sender(settings), MailSender.from_settings(settings), settings.send_budget_seconds)

    def send_pending(self, sessions: SessionFactory) -> SendSummary:
        budget = Budget(self.budget_seconds)
        return send_pending(sessions.url, self.sender, budget) + send_committee(sessions.url, self.sender,
                                                                               self.mail, budget)


@dataclass(frozen=True)
class Runtime:
    """Everything a service needs from outside; built once per command, flow run or demo."""

    settings: Settings
    sessions: SessionFactory
    notifier: Notifier
    clock: Clock = field(default_factory=lambda: SystemClock("Europe/Paris"))
    #: Who is behind this run when a request names nobody: kept as the "by" of what the run records
    #: (an import's contests, a statement's revision, an erasure asked without ``--by``). The user of a
    #: command, ``flow run <name>`` for a flow, ``demo`` for the demo.
    actor: str = "leadgov"

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    @property
    def database_url(self) -> str:
        return self.sessions.url

    def alerts(self, evaluate: Callable[[Session], list[str]]) -> AlertRun:
        """Evaluate alerts in their own transaction (after the step's commit), then send the outbox.
        A failure here never undoes the step: it is reported in the ``AlertRun``."""
        new, error = evaluate_alerts(self.sessions.url, evaluate)
        if error is not None:
            return AlertRun(error=error)
        return AlertRun(new, self.notifier.send_pending(self.sessions))


def database_unreachable(error: object) -> bool:
    """Whether a step failed because the database could not be reached (worth a retry), as opposed
    to a refused request or a bug (never retried)."""
    return isinstance(error, OperationalError)


#: File errors that a retry cannot mend: a missing or forbidden file.
PERMANENT_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def file_unavailable(error: object) -> bool:
    """Whether the file system failed a read or a write (a flaky share, a full disk): worth a retry,
    unlike a missing or forbidden file."""
    return isinstance(error, OSError) and not isinstance(error, PERMANENT_FILE_ERRORS)


def transient_io(error: object) -> bool:
    """Either of the above: the machine's fault, not the request's."""
    return file_unavailable(error) or database_unreachable(error)


def local_user() -> str:
    """The operating-system user running this process: who is behind a command that names nobody."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password database
        return "unknown user"


def build_runtime(settings: Settings | None = None, *, database_url: str | None = None,
                  clock: Clock | None = None, notifier: Notifier | None = None,
                  migrate: bool = True, actor: str | None = None) -> Runtime:
    """The runtime of a door: the settings (default: the environment's), the database (default: the
    settings'), brought to the current schema here, the one place that upgrades it. From here on the
    process creates its files 0600 and its folders 0700 (``private_umask``). Refused when the
    settings hold the public development HMAC key while the database or Slack is real
    (``Settings.dev_key_refusal``). ``actor``: who is behind the run (default: the process's user)."""
    private_umask()
    settings = settings or get_settings()
    url = database_url or settings.effective_database_url
    refusal = settings.dev_key_refusal(url)
    if refusal:
        raise Refused(refusal)
    if migrate:
        upgrade(url)
    return Runtime(settings=settings, sessions=SessionFactory(url),
                   notifier=notifier or OutboxNotifier.from_settings(settings),
                   clock=clock or SystemClock(settings.timezone), actor=actor or local_user())

