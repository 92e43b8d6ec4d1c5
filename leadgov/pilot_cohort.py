"""A supplier's pilot from the database: is it matured, and its cohort's figures and verdict.

The rules are ``leadgov.pilot``'s (pure); this module loads what they need, for one stored pilot
(``models.pilot.Pilot``: its contract version, start day and cohort size). Functions take the
caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from leadgov.config.contract import Contract
from leadgov.governance import contract_of_version, supplier_kpis
from leadgov.kpis import Kpis
from leadgov.models import ledger_store
from leadgov.models.governance_store import cohort_span
from leadgov.models.pilot import Pilot, cohort_condition
from leadgov.models.supplier import Supplier
from leadgov.periods import pilot_period
from leadgov.pilot import PilotMaturity, PilotVerdict, pilot_maturity, pilot_verdict


def pilot_contract(session: Session, pilot: Pilot) -> Contract:
    """The contract version the pilot was started under."""
    return contract_of_version(session, pilot.contract_version_id)[1]


def load_maturity(session: Session, pilot: Pilot, as_of: date) -> PilotMaturity:
    """The maturity of ``pilot`` on ``as_of``, from its cohort's stored leads."""
    contract = pilot_contract(session, pilot)
    span = cohort_span(session, cohort_condition(session, pilot))
    supplier = session.get(Supplier, pilot.supplier_id)
    return pilot_maturity(contract, start_date=pilot.start_day, first_delivery=span.first, cohort_leads=span.leads,
                          cohort_last_delivery=span.last, supplier_state=supplier.state if supplier else None,
                          as_of=as_of, pilot_id=pilot.id)


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
    #: The pilot judged, and the day it started.
    pilot_id: int
    start_day: date


def pilot_objections(session: Session, pilot: Pilot) -> dict[str, int]:
    """How often each objection was recorded on the pilot cohort's leads."""
    events = ledger_store.load_events(session, cohort_condition(session, pilot))
    return {str(k): int(v) for k, v in events["objection"].dropna().value_counts().items()}


def assess_pilot(session: Session, pilot: Pilot, tz: str, as_of: date) -> PilotAssessment:
    """The pilot cohort's KPIs and verdict under the pilot's contract version."""
    version, contract = contract_of_version(session, pilot.contract_version_id)
    kpis = supplier_kpis(session, pilot.supplier_id, pilot_period(pilot.id), tz, as_of)
    verdict = pilot_verdict(kpis, contract, objections=pilot_objections(session, pilot))
    span = cohort_span(session, cohort_condition(session, pilot))
    supplier = session.get(Supplier, pilot.supplier_id)
    return PilotAssessment(
        supplier_id=pilot.supplier_id, supplier_name=supplier.name if supplier else pilot.supplier_id,
        contract_id=version.contract_id, locale=contract.locale, owner=contract.owner, as_of=as_of, kpis=kpis,
        verdict=verdict, first=span.first, last=span.last, size=pilot.size, pilot_id=pilot.id,
        start_day=pilot.start_day,
    )
