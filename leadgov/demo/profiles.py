"""The three demo suppliers: how each delivers, replaces and converts.

One behaves (ACME Leads), one has a rejection spike in week 7 and replaces late (DataPulse, on
legitimate interest: its leads carry the day the person was informed; its contract holds generic or
webmail addresses and stale leads in review, decided every Friday by its owner), one fails its pilot
on consent (Prospectia: its contract requires consent, and ``no_consent`` leaves some leads without it).
The figures are the demo's assumptions, chosen to give
realistic French B2B numbers, not measurements.
"""

from dataclasses import dataclass, field

from leadgov.tools.synthetic import Defects


@dataclass(frozen=True)
class Conversion:
    """Probabilities along the funnel, each conditional on the previous stage."""

    sla_met: float          # our team calls within the contract's SLA
    reach: float            # a called lead is reached
    appointment: float      # a reached lead books an appointment
    held: float             # a booked appointment is held
    opportunity: float      # a held appointment becomes an opportunity
    won: float              # an opportunity is won
    contest: float          # an accepted lead is contested after the call
    contest_reasons: tuple[str, ...] = ("WRONG_NUMBER", "UNREACHABLE", "WRONG_PERSON")


@dataclass(frozen=True)
class Profile:
    supplier_id: str
    contract_file: str
    person_offset: int                  # where its people start in the synthetic population
    defects: Defects
    conversion: Conversion
    replace_on_time: float              # share of claims replaced before the deadline
    replace_late: float                 # share of claims replaced after the deadline
    spike_weeks: tuple[int, ...] = ()   # ISO weeks with a burst of out-of-target leads
    spike_share: float = 0.0
    other_supplier_overlap: float = 0.0  # share of its people also delivered by ACME (DUPLICATE_OTHER_SUPPLIER)
    tags: dict = field(default_factory=dict)


LOW = Defects(invalid_phone=0.01, invalid_email=0.005, missing_field=0.01, stale=0.005, out_of_target=0.0,
              generic_or_free_email=0.005, no_consent=0.0, duplicate_in_delivery=0.02)

PROFILES: tuple[Profile, ...] = (
    Profile("acme-leads", "acme-leads.yaml", 0, LOW,
            Conversion(sla_met=0.92, reach=0.72, appointment=0.16, held=0.85, opportunity=0.55, won=0.4,
                       contest=0.02),
            replace_on_time=1.0, replace_late=0.0),
    Profile("datapulse", "datapulse.yaml", 2_000_000,
            Defects(invalid_phone=0.02, invalid_email=0.01, missing_field=0.01, stale=0.01, out_of_target=0.0,
                    generic_or_free_email=0.01, no_consent=0.0, duplicate_in_delivery=0.02),
            Conversion(sla_met=0.85, reach=0.6, appointment=0.1, held=0.8, opportunity=0.45, won=0.35,
                       contest=0.04),
            replace_on_time=0.3, replace_late=0.4, spike_weeks=(7,), spike_share=0.45,
            other_supplier_overlap=0.03),
    Profile("prospectia", "prospectia.yaml", 4_000_000,
            Defects(invalid_phone=0.03, missing_field=0.03, stale=0.03, no_consent=0.06, duplicate_in_delivery=0.03),
            Conversion(sla_met=0.8, reach=0.38, appointment=0.06, held=0.7, opportunity=0.4, won=0.3, contest=0.1,
                       contest_reasons=("WRONG_NUMBER", "FAKE_LEAD", "NO_CONSENT_ON_CALL")),
            replace_on_time=0.2, replace_late=0.2),
)
