"""The quarterly governance review's data: every supplier that delivered in the quarter side by side,
week-by-week figures, amounts, a recommendation with the figures that justify it, the decision log,
and the committee channel the review is announced on.

Cohorts (docs/governance-rules.md, Quarterly review): a week's leads are judged on conversion only
once they are ``MATURITY_DAYS`` old, so the last weeks of a quarter are not scored too early; the
review names the weeks that are not mature yet. ``build_review`` loads and computes everything; the
report (``leadgov.reports.review``) only renders it. Functions take the caller's session and never commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from leadgov.cohort import share
from leadgov.config.contract import Contract, parse_contract
from leadgov.governance import contract_for, supplier_kpis, supplier_kpis_of
from leadgov.kpis import Kpis
from leadgov.models import billing_store, review_store
from leadgov.models.governance_store import (
    contests_between,
    contract_versions_between,
    contracted_supplier_ids,
    suppliers_delivering,
)
from leadgov.models.pilot import decisions
from leadgov.models.supplier import Supplier, contract_version_in_force
from leadgov.periods import Period, months_in, parse_period, parse_period_of_kind, week_of
from leadgov.recommendation import Recommendation, recommend

#: Days after its last delivery day before a week's conversion (appointments, opportunities,
#: deals) is judged: about the time our team needs to call, meet and qualify.
MATURITY_DAYS = 30
#: The committee channel when no stored contract names one.
DEFAULT_COMMITTEE_CHANNEL = "#lead-governance"
#: The weekly volume band the review draws: from this share of ``weekly_target`` (below it a week
#: is a VOLUME_SHORTFALL) to ``weekly_max``.
VOLUME_BAND_LOW = 0.8


def quarter_period_of(label: str) -> Period:
    """The quarter ``label`` names (YYYY-Qn); anything else is refused (``BadPeriod``)."""
    return parse_period_of_kind(label, "quarter")


def quarter_of(day: date) -> Period:
    return parse_period(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")


def quarter_before(quarter: Period) -> Period:
    return quarter_of(quarter.dates[0] - timedelta(days=1))


def previous_quarter(day: date) -> str:
    """The quarter before ``day``'s, as YYYY-Qn (what the quarterly review covers by default)."""
    return quarter_before(quarter_of(day)).label


def quarter_weeks(quarter: Period) -> list[Period]:
    """The ISO weeks that start in the quarter (a week belongs to the quarter of its Monday)."""
    first, last = quarter.dates
    weeks, monday = [], week_of(first).dates[0]
    if monday < first:
        monday += timedelta(days=7)
    while monday <= last:
        weeks.append(week_of(monday))
        monday += timedelta(days=7)
    return weeks


def mature_weeks(weeks: list[Period], as_of: date) -> tuple[list[Period], list[Period]]:
    """(mature, not yet mature) weeks as of a day."""
    mature = [w for w in weeks if w.dates[1] + timedelta(days=MATURITY_DAYS) <= as_of]
    return mature, [w for w in weeks if w not in mature]


@dataclass(frozen=True)
class FrozenMonth:
    """A month of the quarter whose latest statement is frozen, and why."""

    month: str
    revision: int
    reasons: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """The freeze rules that held (``DUPLICATE_RATE``, ``DATA_ERROR_RATE``, ``GDPR_BREACH``): each
        reason's stable code, before its colon."""
        return tuple(reason.split(":", 1)[0].strip() for reason in self.reasons)


@dataclass(frozen=True)
class Amounts:
    """The quarter's money, from the latest revision of each month's statement."""

    billed: Decimal
    frozen: Decimal
    credited: Decimal
    frozen_months: tuple[FrozenMonth, ...]


def quarter_amounts(session: Session, supplier_id: str, quarter: Period) -> Amounts:
    """Billed (gross minus cap excess), frozen (amount due of frozen statements the committee has
    not released) and credited; the frozen months include the released ones (they were frozen)."""
    statements = billing_store.latest_statements(session, supplier_id, months_in(quarter))
    zero = Decimal("0.00")
    not_payable = [s for s in statements if s.frozen and s.released_at is None]
    return Amounts(
        billed=sum((s.gross_eur - s.cap_excess_eur for s in statements), zero),
        frozen=sum((s.amount_due_eur for s in not_payable), zero),
        credited=sum((s.credits_eur for s in statements), zero),
        frozen_months=tuple(FrozenMonth(s.month, s.revision, tuple(json.loads(s.freeze_reasons)))
                            for s in statements if s.frozen),
    )


@dataclass(frozen=True)
class ReleaseEntry:
    """The committee's release of a frozen month (for the decision log): when, which month and
    revision, who, why."""

    at: date
    month: str
    revision: int
    released_by: str
    comment: str


def quarter_releases(session: Session, supplier_id: str, quarter: Period) -> tuple[ReleaseEntry, ...]:
    """The releases of the quarter's months, by release time (the day in UTC)."""
    return tuple(ReleaseEntry(s.released_at.date(), s.month, s.revision, s.released_by or "", s.release_comment or "")
                 for s in billing_store.releases(session, supplier_id, months_in(quarter))
                 if s.released_at is not None)


@dataclass(frozen=True)
class ContestCount:
    """The contests of the quarter's leads for one reason (the decision log sums them, never lists them),
    with who recorded them (sorted; empty when nobody was kept)."""

    reason: str | None
    count: int
    first: date
    last: date
    by: tuple[str, ...] = ()


def contests_by_reason(contests: list[tuple[date, str | None]] | list[tuple[date, str | None, str | None]],
                       ) -> tuple[ContestCount, ...]:
    """(day, reason[, who]) contests summed per reason: most frequent first, then by reason."""
    days: dict[str | None, list[date]] = {}
    people: dict[str | None, set[str]] = {}
    for day, reason, *who in contests:
        days.setdefault(reason, []).append(day)
        people.setdefault(reason, set()).update(w for w in who if w)
    counted = [ContestCount(reason, len(d), min(d), max(d), tuple(sorted(people[reason])))
               for reason, d in days.items()]
    return tuple(sorted(counted, key=lambda c: (-c.count, c.reason or "")))


@dataclass(frozen=True)
class RecomputationEntry:
    """A statement of the quarter computed again (for the decision log): when (the day in UTC), which
    month and revision, who, and whether the amount due changed."""

    at: date
    month: str
    revision: int
    computed_by: str
    amount_changed: bool


def quarter_recomputations(session: Session, supplier_id: str, quarter: Period) -> tuple[RecomputationEntry, ...]:
    """The recomputations of the quarter's months, each against the revision before it."""
    return tuple(RecomputationEntry(s.computed_at.date(), s.month, s.revision, s.computed_by or "",
                                    s.amount_due_eur != before.amount_due_eur)
                 for s, before in billing_store.recomputations(session, supplier_id, months_in(quarter)))


@dataclass(frozen=True)
class ContractVersionEntry:
    """A contract version stored for the supplier during the quarter (for the decision log): the day
    it takes effect (else the day it was stored), its contract id and the one it replaces."""

    at: date
    contract_id: str
    supersedes: str | None


@dataclass(frozen=True)
class DecisionEntry:
    """A pilot decision of the supplier (for the decision log), with who took it."""

    at: date
    verdict: str
    decision: str
    comment: str
    decided_by: str = ""


@dataclass(frozen=True)
class ReviewDecisionEntry:
    """Leads in review a person (or the review deadline, ``deadline``) decided on one day with one
    comment (for the decision log, summed like the contests, never listed one by one)."""

    at: date
    decision: str
    decided_by: str
    comment: str
    leads: int


def quarter_review_decisions(session: Session, supplier_id: str, quarter: Period) -> tuple[ReviewDecisionEntry, ...]:
    """The review decisions taken in the quarter, by day."""
    return tuple(ReviewDecisionEntry(*row) for row in review_store.decisions_between(session, supplier_id,
                                                                                   *quarter.dates))


@dataclass(frozen=True)
class ChartInputs:
    """The numbers behind a supplier's three charts; weeks are labelled ``W01``..``W13``."""

    reject_rates: tuple[tuple[str, float | None], ...]
    max_reject_rate: float
    delivered: tuple[tuple[str, int], ...]
    weekly_target: int
    volume_band: tuple[float, float]
    #: (stage, leads) of the mature weeks' funnel.
    funnel: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SupplierReview:
    """One supplier's column of the review, its weeks, its recommendation and its decision log."""

    supplier_id: str
    name: str
    contract: Contract
    #: The whole quarter's figures.
    kpis: Kpis
    #: The mature weeks' figures only: what conversion is judged on.
    conversion: Kpis
    weekly: tuple[Kpis, ...]
    amounts: Amounts
    recommendation: Recommendation
    #: The quarter's contests summed by reason.
    contests: tuple[ContestCount, ...]
    pilot_decisions: tuple[DecisionEntry, ...]
    charts: ChartInputs
    #: The committee's releases of the quarter's frozen months.
    releases: tuple[ReleaseEntry, ...] = ()
    #: The contract versions stored during the quarter.
    contract_versions: tuple[ContractVersionEntry, ...] = ()
    #: The quarter's statements computed again, with who did.
    recomputations: tuple[RecomputationEntry, ...] = ()
    #: The decisions on leads held in review taken in the quarter, with who, when and why.
    review_decisions: tuple[ReviewDecisionEntry, ...] = ()

    @property
    def rejections(self) -> list[tuple[str, int, float | None]]:
        """(reason code, leads, share of the rejected) of the quarter, most frequent first."""
        rows = sorted(self.kpis.reason_breakdown, key=lambda r: -int(r["count"]))
        return [(str(r["code"]), int(r["count"]), share(int(r["count"]), self.kpis.rejected)) for r in rows]

    @property
    def funnel(self) -> dict[str, int]:
        """Leads per funnel stage of the mature weeks."""
        return dict(self.charts.funnel)


@dataclass(frozen=True)
class QuarterlyReview:
    """Every supplier that delivered in the quarter, as of a day."""

    quarter: Period
    as_of: date
    maturity_days: int
    young_weeks: tuple[str, ...]
    suppliers: tuple[SupplierReview, ...]

    @property
    def supplier_ids(self) -> list[str]:
        return [s.supplier_id for s in self.suppliers]


def _mature_span(quarter: Period, mature: list[Period]) -> Period:
    """The quarter's days up to the end of its last mature week (none: an empty span), whose leads
    conversion is judged on."""
    first, last = quarter.dates
    end = mature[-1].dates[1] if mature else first - timedelta(days=1)
    return Period("quarter", f"{quarter.label} (mature)", first, min(end, last))


def _previous(session: Session, supplier_id: str, quarter: Period, tz: str, as_of: date) -> Kpis | None:
    """The previous quarter's KPIs when the supplier delivered in it (the two-in-a-row rule)."""
    kpis = supplier_kpis(session, supplier_id, quarter_before(quarter), tz, as_of)
    return kpis if kpis.delivered else None


def supplier_review(session: Session, supplier: Supplier, quarter: Period, tz: str, as_of: date) -> SupplierReview:
    """One supplier's column of the review, with its recommendation."""
    _, contract = contract_for(session, supplier.id, quarter.end)
    weeks = quarter_weeks(quarter)
    mature, _ = mature_weeks(weeks, as_of)
    # the quarter, its weeks and its mature weeks from one ledger load
    kpis, conversion, *weekly = supplier_kpis_of(
        session, supplier.id, [quarter, _mature_span(quarter, mature), *weeks], tz, as_of)
    amounts = quarter_amounts(session, supplier.id, quarter)
    volumes = contract.volumes
    return SupplierReview(
        supplier_id=supplier.id, name=supplier.name, contract=contract, kpis=kpis, conversion=conversion,
        weekly=tuple(weekly), amounts=amounts,
        recommendation=recommend(kpis, contract, frozen_months=len(amounts.frozen_months),
                                 previous=_previous(session, supplier.id, quarter, tz, as_of)),
        contests=contests_by_reason([(at.date(), reason, by)
                                     for at, _, reason, by in contests_between(session, supplier.id, *quarter.dates)]),
        pilot_decisions=tuple(DecisionEntry(d.decided_at.date(), d.verdict, d.decision, d.comment, d.decided_by)
                              for d in decisions(session, supplier.id)),
        charts=ChartInputs(
            reject_rates=tuple((w.label[-3:], k.reject_rate) for w, k in zip(weeks, weekly, strict=True)),
            max_reject_rate=contract.quality.max_reject_rate,
            delivered=tuple((w.label[-3:], k.delivered) for w, k in zip(weeks, weekly, strict=True)),
            weekly_target=volumes.weekly_target,
            volume_band=(volumes.weekly_target * VOLUME_BAND_LOW, volumes.weekly_max),
            funnel=tuple((row["stage"], row["count"]) for row in conversion.funnel),
        ),
        releases=quarter_releases(session, supplier.id, quarter),
        recomputations=quarter_recomputations(session, supplier.id, quarter),
        review_decisions=quarter_review_decisions(session, supplier.id, quarter),
        contract_versions=tuple(ContractVersionEntry(v.effective_from or v.loaded_at.date(), v.contract_id,
                                                     v.supersedes)
                                for v in contract_versions_between(session, supplier.id, *quarter.dates)),
    )


def build_review(session: Session, quarter: Period, tz: str, as_of: date) -> QuarterlyReview:
    """The review of every supplier that delivered in the quarter, by supplier id."""
    suppliers = [s for i in suppliers_delivering(session, *quarter.dates)
                 if (s := session.get(Supplier, i)) is not None]
    _, young = mature_weeks(quarter_weeks(quarter), as_of)
    return QuarterlyReview(
        quarter=quarter, as_of=as_of, maturity_days=MATURITY_DAYS, young_weeks=tuple(w.label for w in young),
        suppliers=tuple(supplier_review(session, s, quarter, tz, as_of) for s in suppliers),
    )


@dataclass(frozen=True)
class Committee:
    """Where the committee is reached: its Slack channel and its e-mail addresses."""

    channel: str
    emails: tuple[str, ...] = ()


def committee_of(session: Session, supplier_ids: list[str], day: date) -> Committee:
    """The committee of the first stored contract found: the reviewed suppliers' first (their
    contract in force on ``day``, else their latest), then any other supplier's, else the default
    channel and no e-mail."""
    for supplier_id in [*supplier_ids, *contracted_supplier_ids(session)]:
        version = (contract_version_in_force(session, supplier_id, day)
                   or contract_version_in_force(session, supplier_id))
        if version is not None:
            alerts = parse_contract(version.content, version.source_path).contract.alerts
            return Committee(alerts.committee_channel, tuple(alerts.committee_emails))
    return Committee(DEFAULT_COMMITTEE_CHANNEL)
