"""A period's KPIs for one supplier, from a ``Ledger`` (docs/governance.md, KPIs).

Plain pandas on the ledger's frames: no database, no flow. Every count is of distinct leads of
the cohort (the ledger's ``leads``), taken from the sets of ``leadgov.cohort`` so that a figure
means the same thing in a report, an alert and an invoice. A rate of nothing is None, never 0.
"""

from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

import pandas as pd

from leadgov import cohort
from leadgov.cohort import share
from leadgov.config.contract import Contract
from leadgov.ledger import Ledger
from leadgov.models.statuses import LeadStatus
from leadgov.periods import Period
from leadgov.reasons import REASON_ORDER

CENT = Decimal("0.01")
FUNNEL_STAGES = ("delivered", "accepted", "reached", "appointment", "opportunity", "won")
SETTLED_CLAIM_STATUSES = ("filled", "overdue", "credited")


class ReasonCount(TypedDict):
    """The cohort's leads with one reason code, and their share of the delivered leads."""

    code: str
    count: int
    share: float | None


class FunnelStage(TypedDict):
    """How many of the cohort's leads reached one stage of the funnel."""

    stage: str
    count: int


class _Replacements(TypedDict):
    replacements_owed: int
    replacements_filled_on_time: int
    replacement_fill_rate: float | None
    replacements_open: int
    replacements_not_owed_cap: int


@dataclass(frozen=True)
class Volume:
    """Delivered vs what the contract asks for the period (None bounds: the contract sets none)."""

    delivered: int
    target: int | None
    minimum: int | None
    maximum: int | None
    status: str | None  # "below" | "within" | "above" | None


@dataclass(frozen=True)
class Kpis:
    """One supplier's figures for one period. ``as_dict()`` is what reports and the database store."""

    supplier_id: str
    period: str
    kind: str
    delivered: int
    accepted: int
    rejected: int
    over_cap: int
    contested: int
    reject_rate: float | None
    duplicates: int
    duplicate_rate: float | None
    data_errors: int
    data_error_rate: float | None
    gdpr_incidents: int
    reason_breakdown: list[ReasonCount]
    volume: Volume
    first_contact_within_sla: int
    first_contact_sla: float | None
    called: int
    reached: int
    reachability: float | None
    appointments: int
    appointment_rate: float | None
    opportunities: int
    opportunity_rate: float | None
    won: int
    win_rate: float | None
    won_amount_eur: Decimal
    funnel: list[FunnelStage]
    billed_eur: Decimal | None
    cost_per_accepted: Decimal | None
    cost_per_appointment: Decimal | None
    cost_per_opportunity: Decimal | None
    cost_per_won: Decimal | None
    replacements_owed: int
    replacements_filled_on_time: int
    replacement_fill_rate: float | None
    replacements_open: int
    replacements_not_owed_cap: int
    #: Leads still waiting in review: neither accepted nor rejected (counted in ``delivered`` only, so a
    #: rate over delivered leads has them in its denominator and not in its numerator).
    in_review: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values: money as floats to the cent, the volume as a dict."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value.quantize(CENT, ROUND_HALF_UP))
    if isinstance(value, Volume):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return value


def compute_kpis(ledger: Ledger, contract: Contract, period: Period, *,
                 billed_eur: Decimal | None = None, as_of: date) -> Kpis:
    """The KPIs of ``ledger``'s cohort; ``as_of`` decides which open claims are already owed."""
    delivered = cohort.all_leads(ledger)
    accepted = cohort.with_status(ledger, LeadStatus.ACCEPTED)
    rejected = cohort.with_status(ledger, LeadStatus.REJECTED)
    contested = cohort.contested(ledger)
    over_cap = pd.Index(ledger.leads.loc[ledger.leads["over_cap"], "lead_pk"].unique()).intersection(accepted)
    duplicates, data_errors = cohort.duplicates(ledger), cohort.data_errors(ledger)
    called = cohort.with_event(ledger, "call_attempt")
    reached = cohort.with_event(ledger, "reached").intersection(called)
    workable = accepted.difference(contested)
    appointments = cohort.with_event(ledger, "appointment_set").intersection(workable)
    opportunities = cohort.with_event(ledger, "opportunity").intersection(accepted)
    won = cohort.with_event(ledger, "won").intersection(accepted)
    within_sla = _first_contact_within_sla(ledger, accepted, contract.quality.first_contact_sla_hours)
    n = len(delivered)
    stage_counts = (n, len(accepted), len(reached), len(appointments), len(opportunities), len(won))
    return Kpis(
        supplier_id=ledger.supplier_id, period=period.label, kind=period.kind,
        delivered=n, accepted=len(accepted), rejected=len(rejected), over_cap=len(over_cap),
        contested=len(contested), reject_rate=share(len(rejected) + len(contested), n),
        duplicates=len(duplicates), duplicate_rate=share(len(duplicates), n),
        data_errors=len(data_errors), data_error_rate=share(len(data_errors), n),
        gdpr_incidents=len(cohort.gdpr_breaches(ledger)),
        reason_breakdown=_reason_breakdown(ledger, n),
        volume=_volume(n, contract, period),
        first_contact_within_sla=within_sla, first_contact_sla=share(within_sla, len(accepted)),
        called=len(called), reached=len(reached), reachability=share(len(reached), len(called)),
        appointments=len(appointments), appointment_rate=share(len(appointments), len(workable)),
        opportunities=len(opportunities), opportunity_rate=share(len(opportunities), len(accepted)),
        won=len(won), win_rate=share(len(won), len(accepted)),
        won_amount_eur=_won_amount(ledger, won),
        funnel=[{"stage": s, "count": c} for s, c in zip(FUNNEL_STAGES, stage_counts, strict=True)],
        billed_eur=billed_eur,
        cost_per_accepted=_cost_per(billed_eur, len(accepted)),
        cost_per_appointment=_cost_per(billed_eur, len(appointments)),
        cost_per_opportunity=_cost_per(billed_eur, len(opportunities)),
        cost_per_won=_cost_per(billed_eur, len(won)),
        **_replacements(ledger, delivered, as_of),
        in_review=len(cohort.with_status(ledger, LeadStatus.REVIEW)),
    )


def _reason_breakdown(ledger: Ledger, delivered: int) -> list[ReasonCount]:
    """Leads per reason code, in the spec's table order: a lead counts once per code, even if the
    code was recorded twice for it, and once under each of its codes."""
    reasons = ledger.reasons.loc[ledger.reasons["lead_pk"].isin(cohort.all_leads(ledger))]
    counts = reasons.drop_duplicates(["lead_pk", "code"])["code"].value_counts()
    order = sorted(counts.index, key=lambda code: (REASON_ORDER.get(code, len(REASON_ORDER)), code))
    return [{"code": code, "count": int(counts[code]), "share": share(int(counts[code]), delivered)}
            for code in order]


def _volume(delivered: int, contract: Contract, period: Period) -> Volume:
    """Bounds per period kind; a delivery or the pilot has no contracted volume."""
    v = contract.volumes
    target, minimum, maximum = {
        "week": (v.weekly_target, v.weekly_target, v.weekly_max),
        "month": (None, v.monthly_min, v.monthly_max),
        "quarter": (None, 3 * v.monthly_min, 3 * v.monthly_max),
    }.get(period.kind, (None, None, None))
    if minimum is None:
        status = None
    elif delivered < minimum:
        status = "below"
    elif maximum is not None and delivered > maximum:
        status = "above"
    else:
        status = "within"
    return Volume(delivered, target, minimum, maximum, status)


def _first_contact_within_sla(ledger: Ledger, accepted: pd.Index, sla_hours: float) -> int:
    """Accepted leads whose earliest call_attempt is at most ``sla_hours`` after 00:00 local time
    on their delivery day (docs/governance-rules.md, Time). The hours are elapsed hours: the
    midnight is localised first, so a DST change shortens or lengthens the local clock, not the SLA."""
    leads = ledger.leads.drop_duplicates("lead_pk").set_index("lead_pk")
    start = leads["delivered_on"].dt.tz_localize(ledger.tz, nonexistent="shift_forward")
    deadline = (start + pd.Timedelta(hours=sla_hours)).reindex(accepted)
    calls = ledger.events.loc[ledger.events["event"] == "call_attempt"]
    first_call = calls.groupby("lead_pk")["at"].min().reindex(accepted)
    return int((first_call <= deadline).sum())


def _won_amount(ledger: Ledger, won: pd.Index) -> Decimal:
    """Sum of the won events' amounts of the won leads (a missing amount counts as 0), in
    ``Decimal`` as the ledger holds them: a float sum would lose cents on large amounts."""
    events = ledger.events
    amounts = events.loc[(events["event"] == "won") & events["lead_pk"].isin(won), "amount_eur"]
    return sum((a for a in amounts if a is not None), Decimal("0")).quantize(CENT, ROUND_HALF_UP)


def _cost_per(billed_eur: Decimal | None, count: int) -> Decimal | None:
    if billed_eur is None or count == 0:
        return None
    return (Decimal(billed_eur) / count).quantize(CENT, ROUND_HALF_UP)


def _replacements(ledger: Ledger, delivered: pd.Index, as_of: date) -> _Replacements:
    """Claims of the cohort's leads. A claim is owed once settled (filled, overdue, credited) or
    past due while still open; an open claim not yet due may still be filled, so it is not
    counted against the supplier yet. Claims beyond the monthly cap were never owed."""
    claims = ledger.claims.loc[ledger.claims["lead_pk"].isin(delivered)].drop_duplicates("claim_id")
    status = claims["status"]
    is_open = status == "open"
    past_due = claims["due_on"] < pd.Timestamp(as_of)
    owed = int((status.isin(SETTLED_CLAIM_STATUSES) | (is_open & past_due)).sum())
    filled = int((status == "filled").sum())
    return {
        "replacements_owed": owed,
        "replacements_filled_on_time": filled,
        "replacement_fill_rate": share(filled, owed),
        "replacements_open": int((is_open & ~past_due).sum()),
        "replacements_not_owed_cap": int((status == "not_owed_cap").sum()),
    }
