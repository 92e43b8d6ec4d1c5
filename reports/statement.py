"""The monthly billing statement as a report: every euro line by line, by lead id."""

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from leadgov.governance import contract_of_version
from leadgov.models import billing_store
from leadgov.models.supplier import Supplier
from leadgov.reports.render import render, write


def statement_context(session: Session, supplier_id: str, month: str) -> dict:
    """The latest revision of the month's statement and its lines (LookupError when none)."""
    [statement] = billing_store.latest_statements(session, supplier_id, [month]) or [None]
    if statement is None:
        raise LookupError(f"no statement for {supplier_id} in {month}: run `leadgov billing statement` first")
    version, contract = contract_of_version(session, statement.contract_version_id)
    lines = billing_store.statement_lines(session, statement.id)
    units = lines[lines["kind"] == "unit"]
    credits = lines[lines["kind"] == "credit"]
    return {
        "locale": contract.locale,
        "supplier": session.get(Supplier, supplier_id).name,
        "contract": version.contract_id,
        "s": statement,
        "units_amount": Decimal(statement.billable_units) * Decimal(statement.unit_price_eur),
        "freeze_reasons": json.loads(statement.freeze_reasons),
        "units": units["lead_id"].fillna("").tolist(),
        "credits": [{"lead_id": r.lead_id or "", "claim_id": int(r.claim_id), "amount": Decimal(str(r.amount_eur))}
                    for r in credits.itertuples()],
    }


def write_statement_report(session: Session, supplier_id: str, month: str, out_dir: Path) -> Path:
    context = statement_context(session, supplier_id, month)
    html = render("statement.html.j2", context.pop("locale"), **context)
    return write(html, out_dir / f"statement-{supplier_id}-{month}-r{context['s'].revision}.html")
