"""The monthly billing statement as a report: every euro line by line, by lead id, in the contract's locale.

Renders a ``leadgov.statements.StoredStatement`` read by the billing service: no session, no figure
computed here.
"""

from datetime import date
from pathlib import Path

from leadgov.reports.render import render, write
from leadgov.statements import StoredStatement


def statement_file(statement: StoredStatement) -> str:
    """``statement-<supplier>-<month>-r<revision>.html``: each revision keeps its own report."""
    return f"statement-{statement.supplier_id}-{statement.month}-r{statement.revision}.html"


def render_statement(statement: StoredStatement, *, generated_on: date) -> str:
    return render("statement.html.j2", statement.locale, generated_on=generated_on, s=statement,
                  supplier=statement.supplier_name, contract=statement.contract_id)


def write_statement_report(statement: StoredStatement, out_dir: Path, *, generated_on: date) -> Path:
    """Write the statement's report in ``out_dir``; its path."""
    return write(render_statement(statement, generated_on=generated_on), out_dir / statement_file(statement))
