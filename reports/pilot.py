"""The pilot report: the cohort's figures with 95 % confidence intervals, the verdict and its
reasons, the top rejection reasons, the recurring objections and the clauses to renegotiate."""

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadgov.governance import contract_for, supplier_kpis
from leadgov.periods import parse_period
from leadgov.pilot import PilotVerdict, pilot_verdict
from leadgov.models import ledger_store
from leadgov.models.delivery import Lead
from leadgov.models.supplier import Supplier
from leadgov.reports.render import render, write


def pilot_objections(session: Session, supplier_id: str, contract) -> dict[str, int]:
    """How often each objection was recorded on the pilot cohort's leads."""
    condition = ledger_store.cohort_condition(session, supplier_id, parse_period("pilot"), contract)
    events = ledger_store.load_events(session, condition)
    return events["objection"].dropna().value_counts().to_dict()


def pilot_context(session: Session, supplier_id: str, tz: str, as_of: date) -> tuple[dict, PilotVerdict]:
    """What the pilot report shows, and the verdict (the pilot flow records and alerts it)."""
    version, contract = contract_for(session, supplier_id, None)
    period = parse_period("pilot")
    kpis = supplier_kpis(session, supplier_id, period, tz, as_of)
    verdict = pilot_verdict(kpis, contract, objections=pilot_objections(session, supplier_id, contract))
    condition = ledger_store.cohort_condition(session, supplier_id, period, contract)
    first, last = session.execute(select(func.min(Lead.delivered_on), func.max(Lead.delivered_on)).where(condition)).one()
    context = {
        "locale": contract.locale, "supplier": session.get(Supplier, supplier_id).name, "contract": version.contract_id,
        "kpis": kpis, "verdict": verdict, "first": first, "last": last, "size": contract.pilot.size,
    }
    return context, verdict


def write_pilot_report(session: Session, supplier_id: str, tz: str, as_of: date, out_dir: Path) -> Path:
    context, _ = pilot_context(session, supplier_id, tz, as_of)
    html = render("pilot.html.j2", context.pop("locale"), **context)
    return write(html, out_dir / f"pilot-{supplier_id}.html")
