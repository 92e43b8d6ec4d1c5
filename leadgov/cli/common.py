"""What every leadgov command shares: consoles, options, formats and the user-error policy."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError, IntegrityError

from leadgov.config.contract import ContractError
from leadgov.config.settings import Settings, get_settings
from leadgov.errors import NoContract, Refused
from leadgov.models.supplier import ContractConflict, SupplierTerminated
from leadgov.periods import BadPeriod
from leadgov.reading import UnreadableFile
from leadgov.services.runtime import Runtime, build_runtime


class Terminal:
    """stdout or stderr as a rich console made for each print: its width is the terminal's, or
    ``COLUMNS``, as they are when the command prints (a console made once at import would keep the
    width of that moment)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr

    def console(self) -> Console:
        return Console(stderr=self.stderr)

    def print(self, *objects: object, **kwargs: Any) -> None:
        self.console().print(*objects, **kwargs)

    def print_json(self, text: str) -> None:
        self.console().print_json(text)


out = Terminal()
err = Terminal(stderr=True)


def folding_table(*headers: str, title: str | None = None) -> Table:
    """A table that stays readable in a narrow terminal (80 columns): a column too wide for it wraps
    its cells, and its header, over several lines instead of cutting them with an ellipsis. Commands
    keep their tables to a few short columns; the full records are in ``--format json``/``csv``."""
    result = Table(title=title)
    for header in headers:
        result.add_column(header, overflow="fold")
    return result


DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: the settings').")]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one clear line and a non-zero exit code."""
    try:
        yield
    except (Refused, UnreadableFile, ContractConflict, ContractError, SupplierTerminated, BadPeriod,
            NoContract) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except DBAPIError as exc:
        message, code = database_error(exc)
        err.print(f"[red]error:[/red] {message}", highlight=False)
        raise typer.Exit(code) from None


#: The engines' codes for "another connection holds the lock": SQLite's result codes (and their
#: extended forms, e.g. SQLITE_BUSY_SNAPSHOT), PostgreSQL's lock_not_available (``lock_timeout``).
LOCKED_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED", "55P03")
#: ... for "a value larger than the database holds": SQLite's string or blob too big, PostgreSQL's
#: string_data_right_truncation (a varchar), numeric_value_out_of_range, program_limit_exceeded
#: (a field over 1 GB, an index row over 8 KB).
TOO_LARGE_CODES = ("SQLITE_TOOBIG", "22001", "22003", "54000")


def database_error(exc: DBAPIError) -> tuple[str, int]:
    """A database error as one line and an exit code, by what the engine says happened (SQLite's
    result code name, PostgreSQL's SQLSTATE), never quoting its message (it may hold a value)."""
    orig = exc.orig
    code = str(getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or "")
    name = type(orig).__name__
    if code.startswith(LOCKED_CODES):
        return ("database is locked: another process is writing to it, or holds a transaction open "
                f"({name}); nothing was stored, run the command again once it is done"), 3
    if code.startswith(TOO_LARGE_CODES):
        return (f"value too large for the database ({name}): a value of the input is longer or larger than "
                "the database stores; nothing was stored"), 2
    if isinstance(exc, IntegrityError):
        return ("the database refused the write (was the same file stored concurrently?); nothing was "
                "stored, run the command again"), 3
    return (f"database error ({name}); nothing was stored; check --db / LEADGOV_DATABASE_URL and run "
            "again"), 3


def cli_runtime(db: str | None, settings: Settings | None = None) -> Runtime:
    """The runtime of one command: the settings, ``--db`` or the settings' database (migrated),
    Slack from the settings, the wall clock in the settings' zone. Call it inside ``user_errors``."""
    return build_runtime(settings or get_settings(), database_url=db)


def parse_day(text: str, option: str) -> date:
    """A YYYY-MM-DD day given to ``option``, or a clear refusal naming it."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{option} {text!r} is not a date like 2027-03-01") from None


def parse_as_of(text: str | None) -> date | None:
    """An ``--as-of`` day, None when absent (the service takes today from its clock)."""
    return parse_day(text, "--as-of") if text else None


AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Day the figures are computed for, YYYY-MM-DD "
                                                                "(default: today).")]


def print_json(data) -> None:
    """One JSON document on stdout (dates and decimals as text), for scripts."""
    out.print_json(json.dumps(data, default=str))


def report_alerts(run) -> None:
    """One line on stderr about the alerts a step raised (stdout stays the step's own output)."""
    if run.error:
        err.print(f"warning: {run.error}", highlight=False)
        return
    if run.new or run.sent.sent or run.sent.failed or run.sent.kept or run.sent.deferred:
        err.print(f"alerts: {len(run.new)} new; {run.sent.line()}", highlight=False)
