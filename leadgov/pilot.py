"""The pilot verdict (docs/governance.md, Pilot): GO, RENEGOTIATE or STOP, with its evidence.

Plain Python on a pilot cohort's ``Kpis``: no database, no flow. The verdict is a recommendation;
the contract owner records the decision. ``pilot_maturity`` says when a pilot can be judged: once the
contest window of its last delivery has closed.

Rules (Markdown, as in docs/governance-rules.md)
-----
Each threshold of ``pilot.thresholds`` becomes a ``ThresholdCheck``:

| check | numerator / denominator | direction | threshold |
| --- | --- | --- | --- |
| `reject_rate` | (rejected + contested) / delivered | max | `max_reject_rate` |
| `reachability` | reached / called | min | `min_reachability` |
| `appointment_rate` | appointments / (accepted - contested) | min | `min_appointment_rate` |
| `first_contact_sla_share` | first_contact_within_sla / accepted | min | `first_contact_sla_share` |

- A check holds when measured <= threshold (max) or measured >= threshold (min): equal holds.
- A check with no data (denominator 0) does **not** hold: a pilot that produced no evidence cannot be GO.
- Each check carries the Wilson score 95 % interval of its rate (``wilson_interval``), for the report:
  ``clearly_missed`` when the whole interval is on the wrong side of the threshold, ``uncertain`` when
  it contains the threshold.
- Verdict: ``STOP`` when the reject rate is above twice its threshold (equal to twice is not STOP) or
  when any GDPR incident occurred; else ``GO`` when every check holds; else ``RENEGOTIATE``.

Clauses to renegotiate, listed only for RENEGOTIATE and STOP (a GO has no reasons and no clauses),
distinct, in the order of ``CLAUSE_ORDER`` (criteria, volume, replacement_share, billing_model).
Each observation also adds a reason naming its figure and threshold:

| observation | clauses |
| --- | --- |
| `reject_rate` missed | criteria |
| data quality: `duplicate_rate` > `billing.freeze_if.duplicate_rate_above` | criteria |
| data quality: `data_error_rate` > `billing.freeze_if.data_error_rate_above` | criteria |
| `reachability` missed (phone quality) | criteria |
| `appointment_rate` missed | criteria, billing_model (pay per appointment rather than per lead) |
| volume below its minimum: `volume.status == "below"` | volume |
| the pilot cohort, which has no contracted volume: fewer leads than `pilot.size` | volume |
| `replacement_fill_rate` < 0.9 with at least one replacement owed | replacement_share |
| `first_contact_sla_share` missed: our team's commitment | none (reason ends with "(our team)") |
| a check with no data | none (reason "n/a: no data") |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from math import sqrt
from typing import Literal

from leadgov.config.contract import Contract
from leadgov.kpis import Kpis, ReasonCount

#: The two-sided 95 % normal quantile, Phi^-1(0.975).
Z_95 = 1.959963984540054

GO, RENEGOTIATE, STOP = "GO", "RENEGOTIATE", "STOP"

#: Every clause a pilot or a quarterly review may point to, in the order reports list them.
#: The pilot only uses the first four; ``leadgov.recommendation`` adds gdpr and dedup.
CLAUSE_ORDER = ("criteria", "volume", "replacement_share", "billing_model", "gdpr", "dedup")

#: Below this share of owed replacements filled on time, the replacement clause is renegotiated.
MIN_REPLACEMENT_FILL_RATE = 0.9

TOP_REASONS = 3
TOP_OBJECTIONS = 5

Direction = Literal["max", "min"]


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of the proportion ``successes / trials`` (95 % with the default z).

    With p = successes / trials and n = trials::

        centre     = (p + z² / 2n) / (1 + z² / n)
        half_width = z / (1 + z² / n) * sqrt(p (1 - p) / n + z² / 4n²)
        (low, high) = (centre - half_width, centre + half_width)

    It is the set of proportions that a two-sided score test at level z does not reject, so unlike
    the normal (Wald) interval it stays within [0, 1] and is not empty at 0 or n successes
    (0 of 10 gives (0, 0.2775)). The bound is exactly 0 at 0 successes and exactly 1 at n successes
    (the formula's value there, without the rounding noise), and clamped to [0, 1]. None when
    ``trials`` is 0: there is no proportion to bound.
    """
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return None
    n, p, z2 = trials, successes / trials, z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z / denominator * sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == trials else min(1.0, centre + half_width)
    return low, high


def percent(rate: float | None) -> str:
    """``0.22`` as ``"22.0 %"``; None as ``"n/a"``."""
    return "n/a" if rate is None else f"{100 * rate:.1f} %"


@dataclass(frozen=True)
class ThresholdCheck:
    """One pilot threshold against its measured rate. ``measured``, ``low`` and ``high`` are None
    when the denominator is 0; such a check does not hold."""

    name: str
    measured: float | None
    threshold: float
    direction: Direction
    numerator: int
    denominator: int
    low: float | None
    high: float | None
    held: bool

    @property
    def has_data(self) -> bool:
        return self.denominator > 0

    @property
    def clearly_missed(self) -> bool:
        """The whole 95 % interval is on the wrong side of the threshold (strictly)."""
        if not self.has_data or self.low is None or self.high is None:
            return False
        return self.low > self.threshold if self.direction == "max" else self.high < self.threshold

    @property
    def uncertain(self) -> bool:
        """The 95 % interval contains the threshold: the pilot was too small to tell, whichever way
        the measured value fell."""
        if not self.has_data or self.low is None or self.high is None:
            return False
        return self.low <= self.threshold <= self.high

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "clearly_missed": self.clearly_missed, "uncertain": self.uncertain}


class VerdictReason(str):
    """One reason of a verdict. As a ``str`` it is the English line the JSON, the CLI and the alert
    carry (``"reject_rate 22.0 % > 15.0 % (95 % CI ...)"``); its attributes are the figures a report
    renders in its own language (``leadgov.reports.i18n.verdict_reason``): ``kind`` is ``stop`` (an
    exit rule), ``missed`` (a pilot threshold not held) or ``observed`` (outside the pilot's
    thresholds); ``name`` the figure (a check's name, ``gdpr_incidents``, ``duplicate_rate``,
    ``data_error_rate``, ``volume``, ``replacement_fill_rate``); ``factor`` multiplies the threshold
    (2 for the STOP rule on the reject rate); ``low``/``high`` the 95 % interval of a check."""

    kind: str
    name: str
    measured: float | None
    threshold: float
    direction: Direction
    factor: int
    low: float | None
    high: float | None
    numerator: int | None
    denominator: int | None

    def __new__(cls, text: str, *, kind: str, name: str, measured: float | None, threshold: float,
                direction: Direction, factor: int = 1, low: float | None = None, high: float | None = None,
                numerator: int | None = None, denominator: int | None = None) -> VerdictReason:
        reason = super().__new__(cls, text)
        reason.kind, reason.name, reason.measured, reason.threshold = kind, name, measured, threshold
        reason.direction, reason.factor, reason.low, reason.high = direction, factor, low, high
        reason.numerator, reason.denominator = numerator, denominator
        return reason

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:
        """What pickle and copy rebuild it from: its text and its figures."""
        names = ("kind", "name", "measured", "threshold", "direction", "factor", "low", "high", "numerator",
                 "denominator")
        return (str(self),), {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class PilotVerdict:
    """The verdict with what justifies it; ``as_dict()`` is JSON-ready."""

    verdict: str  # GO | RENEGOTIATE | STOP
    checks: list[ThresholdCheck]
    reasons: list[VerdictReason]
    top_reasons: list[ReasonCount]
    objections: list[tuple[str, int]]
    clauses: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "checks": [c.as_dict() for c in self.checks],
            "reasons": list(self.reasons),
            "top_reasons": [dict(r) for r in self.top_reasons],
            "objections": [list(o) for o in self.objections],
            "clauses": list(self.clauses),
        }


def _check(name: str, numerator: int, denominator: int, threshold: float, direction: Direction) -> ThresholdCheck:
    interval = wilson_interval(numerator, denominator)
    if interval is None:
        return ThresholdCheck(name, None, threshold, direction, numerator, denominator, None, None, held=False)
    measured = numerator / denominator
    held = measured <= threshold if direction == "max" else measured >= threshold
    return ThresholdCheck(name, measured, threshold, direction, numerator, denominator, *interval, held=held)


def threshold_checks(kpis: Kpis, contract: Contract) -> list[ThresholdCheck]:
    """The four checks of ``pilot.thresholds``, in the contract's order."""
    t = contract.pilot.thresholds
    return [
        _check("reject_rate", kpis.rejected + kpis.contested, kpis.delivered, t.max_reject_rate, "max"),
        _check("reachability", kpis.reached, kpis.called, t.min_reachability, "min"),
        _check("appointment_rate", kpis.appointments, kpis.accepted - kpis.contested,
               t.min_appointment_rate, "min"),
        _check("first_contact_sla_share", kpis.first_contact_within_sla, kpis.accepted,
               t.first_contact_sla_share, "min"),
    ]


#: Clauses each missed check points to. The first-contact SLA is our team's commitment: no clause.
CHECK_CLAUSES = {
    "reject_rate": ("criteria",),
    "reachability": ("criteria",),
    "appointment_rate": ("billing_model", "criteria"),
    "first_contact_sla_share": (),
}
OUR_TEAM = frozenset({"first_contact_sla_share"})


def check_reason(check: ThresholdCheck) -> VerdictReason:
    """``"reject_rate 22.0 % > 15.0 % (95 % CI 17.1–27.8 %)"``; a no-data check names its empty
    denominator; our team's commitments end with ``"(our team)"``."""
    if not check.has_data or check.low is None or check.high is None:
        text = f"{check.name} n/a: no data (0 of 0) vs {percent(check.threshold)}"
    else:
        sign = ">" if check.direction == "max" else "<"
        text = (f"{check.name} {percent(check.measured)} {sign} {percent(check.threshold)} "
                f"(95 % CI {100 * check.low:.1f}–{100 * check.high:.1f} %)")
    return VerdictReason(f"{text} (our team)" if check.name in OUR_TEAM else text, kind="missed", name=check.name,
                         measured=check.measured, threshold=check.threshold, direction=check.direction,
                         low=check.low, high=check.high, numerator=check.numerator, denominator=check.denominator)


def _above(rate: float | None, threshold: float | None) -> bool:
    """Strictly above; an unknown rate or an unset threshold never is."""
    return rate is not None and threshold is not None and rate > threshold


def pilot_size_missed(kpis: Kpis, contract: Contract) -> bool:
    """Volume below its minimum: the period's contracted minimum when it has one, else (the pilot
    cohort has no contracted volume) fewer leads delivered than ``pilot.size``."""
    if kpis.volume.status is not None:
        return kpis.volume.status == "below"
    return kpis.kind == "pilot" and kpis.delivered < contract.pilot.size


def _secondary(kpis: Kpis, contract: Contract) -> list[tuple[VerdictReason, tuple[str, ...]]]:
    """Observations outside ``pilot.thresholds`` that point to a clause: (reason, clauses)."""
    found: list[tuple[VerdictReason, tuple[str, ...]]] = []
    freeze = contract.billing.freeze_if
    for name, rate, limit in (("duplicate_rate", kpis.duplicate_rate, freeze.duplicate_rate_above),
                              ("data_error_rate", kpis.data_error_rate, freeze.data_error_rate_above)):
        if _above(rate, limit):
            assert limit is not None  # _above
            found.append((VerdictReason(f"{name} {percent(rate)} > {percent(limit)}", kind="observed", name=name,
                                        measured=rate, threshold=limit, direction="max"), ("criteria",)))
    if pilot_size_missed(kpis, contract):
        minimum = kpis.volume.minimum if kpis.volume.minimum is not None else contract.pilot.size
        found.append((VerdictReason(f"volume {kpis.delivered} < {minimum}", kind="observed", name="volume",
                                    measured=kpis.delivered, threshold=minimum, direction="min"), ("volume",)))
    if (kpis.replacements_owed > 0 and kpis.replacement_fill_rate is not None
            and kpis.replacement_fill_rate < MIN_REPLACEMENT_FILL_RATE):
        found.append((VerdictReason(
            f"replacement_fill_rate {percent(kpis.replacement_fill_rate)} < {percent(MIN_REPLACEMENT_FILL_RATE)} "
            f"({kpis.replacements_filled_on_time} of {kpis.replacements_owed} owed filled on time)",
            kind="observed", name="replacement_fill_rate", measured=kpis.replacement_fill_rate,
            threshold=MIN_REPLACEMENT_FILL_RATE, direction="min", numerator=kpis.replacements_filled_on_time,
            denominator=kpis.replacements_owed), ("replacement_share",)))
    return found


def ordered_clauses(clauses: Iterable[str]) -> list[str]:
    """Distinct clauses in ``CLAUSE_ORDER``."""
    wanted = set(clauses)
    unknown = wanted.difference(CLAUSE_ORDER)
    if unknown:
        raise ValueError(f"unknown clauses {sorted(unknown)}")
    return [c for c in CLAUSE_ORDER if c in wanted]


def top_reasons(kpis: Kpis, limit: int = TOP_REASONS) -> list[ReasonCount]:
    """The ``limit`` most frequent reason codes; ties keep the breakdown's (spec table) order."""
    ranked = sorted(kpis.reason_breakdown, key=lambda r: -r["count"])
    return [{"code": r["code"], "count": r["count"], "share": r["share"]} for r in ranked[:limit]]


def top_objections(objections: Mapping[str, int], limit: int = TOP_OBJECTIONS) -> list[tuple[str, int]]:
    """The ``limit`` most frequent objections, by count descending then name; zero counts dropped."""
    ranked = sorted(((str(name), int(count)) for name, count in objections.items() if count > 0),
                    key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def pilot_verdict(kpis: Kpis, contract: Contract, *, objections: Mapping[str, int] = {}) -> PilotVerdict:
    """The pilot's verdict from its cohort's KPIs; ``objections`` counts the prospects' objections
    recorded on the pilot's leads (objection -> count)."""
    checks = threshold_checks(kpis, contract)
    reject = checks[0]
    stop_reasons: list[VerdictReason] = []
    stop_at = 2 * contract.pilot.thresholds.max_reject_rate  # doubling a float is exact
    if reject.has_data and reject.measured is not None and reject.measured > stop_at:
        stop_reasons.append(VerdictReason(
            f"STOP: reject_rate {percent(reject.measured)} > 2 x {percent(reject.threshold)} = {percent(stop_at)}",
            kind="stop", name="reject_rate", measured=reject.measured, threshold=reject.threshold,
            direction="max", factor=2))
    if kpis.gdpr_incidents > 0:
        stop_reasons.append(VerdictReason(f"STOP: gdpr_incidents {kpis.gdpr_incidents} > 0", kind="stop",
                                          name="gdpr_incidents", measured=kpis.gdpr_incidents, threshold=0,
                                          direction="max"))
    if stop_reasons:
        verdict = STOP
    elif all(c.held for c in checks):
        verdict = GO
    else:
        verdict = RENEGOTIATE

    reasons: list[VerdictReason] = list(stop_reasons)
    clauses: list[str] = []
    if verdict != GO:
        for check in checks:
            if not check.held:
                reasons.append(check_reason(check))
                if check.has_data:
                    clauses.extend(CHECK_CLAUSES[check.name])
        for reason, pointed in _secondary(kpis, contract):
            reasons.append(reason)
            clauses.extend(pointed)
    return PilotVerdict(
        verdict=verdict, checks=checks, reasons=reasons, top_reasons=top_reasons(kpis),
        objections=top_objections(objections), clauses=ordered_clauses(clauses),
    )


@dataclass(frozen=True)
class PilotMaturity:
    """Whether the pilot can be judged on ``as_of``: the contest window of its last delivery has closed.

    The pilot window is ``pilot.max_duration_days`` from the pilot's start day (its last day is
    ``window_last_day``). ``last_delivery`` is the cohort's last delivery day when the cohort is full
    (``pilot.size`` leads: no later lead joins it), else the last day of the pilot window (a lead may
    still arrive until then). A contest is accepted up to ``contest_window_days`` after the delivery
    day inclusive (docs/governance-rules.md, Contests), so the window closes at the end of
    ``last_delivery + contest_window_days`` and the pilot is matured from the next day, ``matured_on``.
    ``notes`` say what the caller should know (a supplier already decided on).
    """

    supplier_id: str
    as_of: date
    start_date: date
    first_delivery: date | None
    window_last_day: date
    cohort_leads: int
    cohort_full: bool
    last_delivery: date
    contest_closes_on: date
    matured_on: date
    matured: bool
    supplier_state: str | None
    notes: tuple[str, ...] = ()
    #: The pilot this is about (None for a maturity computed without a stored pilot).
    pilot_id: int | None = None


def pilot_maturity(contract: Contract, *, start_date: date, first_delivery: date | None, cohort_leads: int,
                   cohort_last_delivery: date | None, supplier_state: str | None, as_of: date,
                   pilot_id: int | None = None) -> PilotMaturity:
    """The pilot's maturity on ``as_of`` from what was delivered: the cohort's first delivery day,
    its leads and its last delivery day so far, under the pilot's contract (``pilot.size``,
    ``pilot.max_duration_days``, ``replacement.contest_window_days``).

    The pilot window counts ``pilot.max_duration_days`` from ``start_date`` (the day included),
    whenever the first lead came; the cohort is full at ``pilot.size`` leads.
    """
    notes = []
    size, duration = contract.pilot.size, contract.pilot.max_duration_days
    window_last_day = start_date + timedelta(days=duration - 1)  # the cohort takes leads delivered < start + duration
    full = cohort_leads >= size
    last_delivery = cohort_last_delivery if full and cohort_last_delivery is not None else window_last_day
    closes = last_delivery + timedelta(days=contract.replacement.contest_window_days)
    if supplier_state is not None and supplier_state != "pilot":
        notes.append(f"the supplier is already {supplier_state!r}: a new decision would replace that state")
    return PilotMaturity(
        supplier_id=contract.supplier.id, as_of=as_of, start_date=start_date, first_delivery=first_delivery,
        window_last_day=window_last_day, cohort_leads=cohort_leads, cohort_full=full, last_delivery=last_delivery,
        contest_closes_on=closes, matured_on=closes + timedelta(days=1), matured=as_of > closes,
        supplier_state=supplier_state, notes=tuple(notes), pilot_id=pilot_id,
    )
