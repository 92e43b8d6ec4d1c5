"""``leadgov report``: write the HTML reports and print where."""

from pathlib import Path
from typing import Annotated

import typer

from leadgov.config.settings import get_settings
from leadgov.cli.common import AsOfOption, DbOption, Refused, database_url, out, parse_as_of, user_errors
from leadgov.models.db import session_scope

report_app = typer.Typer(help="Self-contained HTML reports (open offline, safe to e-mail).", no_args_is_help=True)

OutOption = Annotated[Path | None, typer.Option("--out", help="Folder for the report (default: <output_dir>/reports).")]


def _out(out_dir: Path | None) -> Path:
    return out_dir or get_settings().output_dir / "reports"


def _write(build) -> None:
    """Run a report builder with the user-error policy and print the path it wrote."""
    with user_errors():
        try:
            path = build()
        except (LookupError, ValueError) as exc:  # no such delivery, statement or quarter
            raise Refused(str(exc)) from None
    out.print(str(path), highlight=False, soft_wrap=True)


@report_app.command("review")
def report_review(
    quarter: Annotated[str, typer.Option(help="Quarter, e.g. 2027-Q1.")],
    out_dir: OutOption = None, as_of: AsOfOption = None, db: DbOption = None,
) -> None:
    """The quarterly governance review of every supplier, in the settings' locale."""
    from leadgov.reports.review import write_review_report

    settings = get_settings()

    def build():
        with session_scope(database_url(db, settings)) as session:
            return write_review_report(session, quarter, settings.timezone, parse_as_of(as_of), settings.locale, _out(out_dir))
    _write(build)


@report_app.command("statement")
def report_statement(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    month: Annotated[str, typer.Option(help="Month, YYYY-MM (its latest statement revision).")],
    out_dir: OutOption = None, db: DbOption = None,
) -> None:
    """The month's billing statement, line by line, in the contract's locale."""
    from leadgov.reports.statement import write_statement_report

    def build():
        with session_scope(database_url(db, get_settings())) as session:
            return write_statement_report(session, supplier, month, _out(out_dir))
    _write(build)


@report_app.command("returns")
def report_returns(
    delivery: Annotated[int, typer.Option(help="Delivery id (printed by `leadgov validate`).")],
    out_dir: OutOption = None, db: DbOption = None,
) -> None:
    """The supplier's return report of one delivery, in the contract's locale."""
    from leadgov.reports.returns import write_returns_report

    def build():
        with session_scope(database_url(db, get_settings())) as session:
            return write_returns_report(session, delivery, _out(out_dir))
    _write(build)


@report_app.command("pilot")
def report_pilot(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    out_dir: OutOption = None, as_of: AsOfOption = None, db: DbOption = None,
) -> None:
    """The supplier's pilot report: figures with 95 % intervals, verdict and reasons."""
    from leadgov.reports.pilot import write_pilot_report

    settings = get_settings()

    def build():
        with session_scope(database_url(db, settings)) as session:
            return write_pilot_report(session, supplier, settings.timezone, parse_as_of(as_of), _out(out_dir))
    _write(build)
