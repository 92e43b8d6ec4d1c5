"""``leadgov report``: write the HTML reports (through the services that load their data) and print where."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from leadgov.cli.common import AsOfOption, DbOption, cli_runtime, out, parse_as_of, user_errors
from leadgov.errors import Refused

report_app = typer.Typer(help="Self-contained HTML reports (open offline, safe to e-mail).", no_args_is_help=True)

OutOption = Annotated[Path | None, typer.Option("--out", help="Folder for the report (default: <output_dir>/reports).")]


def _as_of(text: str | None) -> date | None:
    """The ``--as-of`` day, or None: the service takes today from the runtime's clock."""
    return parse_as_of(text)


def _write(build: Callable[[], Path]) -> None:
    """Run a report job with the user-error policy and print the path it wrote."""
    with user_errors():
        try:
            path = build()
        except LookupError as exc:  # no such delivery, statement or contract
            raise Refused(str(exc)) from None
    out.print(str(path), highlight=False, soft_wrap=True)


@report_app.command("review")
def report_review(
    quarter: Annotated[str, typer.Option(help="Quarter, e.g. 2027-Q1.")],
    out_dir: OutOption = None, as_of: AsOfOption = None, db: DbOption = None,
) -> None:
    """The quarterly governance review of every supplier, in the settings' locale."""
    from leadgov.services.review import ReviewRequest, review_report

    _write(lambda: review_report(cli_runtime(db), ReviewRequest(quarter, _as_of(as_of), out_dir)).path)


@report_app.command("statement")
def report_statement(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    month: Annotated[str, typer.Option(help="Month, YYYY-MM (its latest statement revision).")],
    out_dir: OutOption = None, db: DbOption = None,
) -> None:
    """The month's billing statement, line by line, in the contract's locale."""
    from leadgov.services.billing import StatementReportRequest, statement_report

    _write(lambda: statement_report(cli_runtime(db), StatementReportRequest(supplier, month, out_dir)).path)


@report_app.command("returns")
def report_returns(
    delivery: Annotated[int, typer.Option(help="Delivery id (printed by `leadgov validate`).")],
    out_dir: OutOption = None, db: DbOption = None,
) -> None:
    """The supplier's return report of one delivery, in the contract's locale."""
    from leadgov.services.returns import ReturnsReportRequest, returns_report

    _write(lambda: returns_report(cli_runtime(db), ReturnsReportRequest(delivery, out_dir)).path)


@report_app.command("pilot")
def report_pilot(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    out_dir: OutOption = None, as_of: AsOfOption = None, db: DbOption = None,
) -> None:
    """The supplier's pilot report: figures with 95 % intervals, verdict and reasons."""
    from leadgov.services.pilot import PilotRequest, pilot_report

    _write(lambda: pilot_report(cli_runtime(db), PilotRequest(supplier, _as_of(as_of), out_dir)).path)
