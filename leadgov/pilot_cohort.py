"""A supplier's pilot from the database: is it matured, and its cohort's figures and verdict.

The rules are ``leadgov.pilot``'s (pure); this module loads what they need. Functions take the
caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from leadgov.config.contract import Contract
from leadgov.governance import contract_for, supplier_kpis
from leadgov.kpis import Kpis
from leadgov.models import ledger_store
from leadgov.models.governance_store import cohort_span, first_delivery_day
from leadgov.models.supplier import Supplier
from leadgov.periods import parse_period
from leadgov.pilot import PilotMaturity, PilotVerdict, pilot_maturity, pilot_verdict


def load_maturity(session: Session, contract: Contract, start_date: date, as_of: date) -> PilotMaturity:
    """The maturity of the pilot of ``contract``'s supplier on ``as_of``, from its stored deliveries."""
    supplier_id = contract.supplier.id
    span = cohort_span(session, ledger_store.cohort_condition(session, supplier_id, parse_period("pilot"), contract))
    supplier = session.get(Supplier, supplier_id)
    return pilot_maturity(contract, start_date=start_date, first_delivery=first_delivery_day(session, supplier_id),
                          cohort_leads=span.leads, cohort_last_delivery=span.last,
                          supplier_state=supplier.state if supplier else None, as_of=as_of)


@dataclass(frozen=True)
class PilotAssessment:
    """The pilot cohort's figures and verdict: what the pilot report shows and the committee is told."""

    supplier_id: str
    supplier_name: str
    contract_id: str
    #: The contract's locale: the pilot report is written in it.
    locale: str
    #: The contract owner: who decides, by default (None when the contract names nobody).
    owner: str | None
    as_of: date
    kpis: Kpis
    verdict: PilotVerdict
    #: Days of the cohort's first and last delivery (None when nothing was delivered).
    first: date | None
    last: date | None
    #: ``pilot.size``: the cohort's intended size.
    size: int


def pilot_objections(session: Session, supplier_id: str, contract: Contract) -> dict[str, int]:
    """How often each objection was recorded on the pilot cohort's leads."""
    condition = ledger_store.cohort_condition(session, supplier_id, parse_period("pilot"), contract)
    events = ledger_store.load_events(session, condition)
    return {str(k): int(v) for k, v in events["objection"].dropna().value_counts().items()}


def assess_pilot(session: Session, supplier_id: str, tz: str, as_of: date) -> PilotAssessment:
    """The pilot cohort's KPIs and verdict under the supplier's latest stored contract."""
    version, contract = contract_for(session, supplier_id, None)
    period = parse_period("pilot")
    kpis = supplier_kpis(session, supplier_id, period, tz, as_of)
    verdict = pilot_verdict(kpis, contract, objections=pilot_objections(session, supplier_id, contract))
    span = cohort_span(session, ledger_store.cohort_condition(session, supplier_id, period, contract))
    supplier = session.get(Supplier, supplier_id)
    return PilotAssessment(
        supplier_id=supplier_id, supplier_name=supplier.name if supplier else supplier_id,
        contract_id=version.contract_id, locale=contract.locale, owner=contract.owner, as_of=as_of, kpis=kpis,
        verdict=verdict, first=span.first, last=span.last, size=contract.pilot.size,
    )
