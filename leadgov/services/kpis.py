"""A supplier's KPIs for a period, read as they stand: ``leadgov kpis`` and the demo's summary."""

from dataclasses import dataclass
from datetime import date

from leadgov.governance import supplier_kpis
from leadgov.kpis import Kpis
from leadgov.periods import parse_period
from leadgov.services.runtime import Runtime


@dataclass(frozen=True)
class KpisRequest:
    supplier_id: str
    #: 2027-W09, 2027-03, 2027-Q1, delivery:ID, pilot (the latest) or pilot:ID.
    period: str
    #: The day outcomes are known up to; default today (the runtime's clock).
    as_of: date | None = None


def kpis(runtime: Runtime, request: KpisRequest) -> Kpis:
    """The leads delivered in the period, with their outcomes as known on ``as_of`` (read only)."""
    span = parse_period(request.period)
    with runtime.sessions() as session:
        return supplier_kpis(session, request.supplier_id, span, runtime.timezone,
                             request.as_of or runtime.clock.today())
