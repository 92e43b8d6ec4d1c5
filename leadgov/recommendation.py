"""The quarterly recommendation per supplier (docs/governance.md, Quarterly governance review).

Plain Python on a quarter's ``Kpis``: renew, renegotiate (which clauses) or progressive exit, with
the figures that justify it. The committee decides; this is the recommendation it starts from.

Rules (Markdown, as in docs/governance-rules.md)
-----
Thresholds come from the contract: ``quality.max_reject_rate`` (written *max* below),
``quality.min_reachability``, ``billing.freeze_if.duplicate_rate_above``, the quarter's volume
minimum (3 x ``volumes.monthly_min``). Every rate comparison is strict (a rate equal to its
threshold is not a breach). A rate that is None (no data) never triggers a rule; its evidence
reads "n/a".

| action | rule (any one is enough) | clause |
| --- | --- | --- |
| progressive_exit | `reject_rate` > 2 x max | criteria |
| progressive_exit | `reject_rate` > max two quarters in a row (this one and the previous one, when given) | criteria |
| progressive_exit | `gdpr_incidents` >= 2 | gdpr |
| progressive_exit | `replacement_fill_rate` < 0.5 with at least 5 replacements owed | replacement_share |
| renegotiate | `reject_rate` > max | criteria |
| renegotiate | `reachability` < `quality.min_reachability` | criteria |
| renegotiate | `duplicate_rate` > `billing.freeze_if.duplicate_rate_above` (no rule when none is set) | dedup |
| renegotiate | `volume.status == "below"` (delivered < the quarter's minimum) | volume |
| renegotiate | `replacement_fill_rate` < 0.9 with at least 1 replacement owed | replacement_share |
| renegotiate | `frozen_months` >= 1 (a monthly statement of the quarter was frozen) | billing_model |
| renegotiate | `gdpr_incidents` == 1 | gdpr |
| renew | no rule above fired | none |

- Precedence: progressive_exit beats renegotiate, which beats renew.
- ``clauses`` are those of every rule that fired, exit rules included (what the committee would
  renegotiate if it chose not to exit), distinct, in the order criteria, volume, replacement_share,
  billing_model, gdpr, dedup. A renew has none.
- ``evidence`` always lists the same figures, in this order, each with its threshold, an outcome
  (ok, n/a, renegotiate, progressive_exit) and a note: reject_rate, previous_reject_rate (only when
  a previous quarter is given), reachability, duplicate_rate, volume, replacement_fill_rate,
  gdpr_incidents, frozen_months. A renew therefore shows the key figures that held.
- The two-quarters rule compares the previous quarter with this quarter's contract threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from leadgov.config.contract import Contract
from leadgov.kpis import Kpis
from leadgov.pilot import MIN_REPLACEMENT_FILL_RATE, ordered_clauses, percent

RENEW, RENEGOTIATE, PROGRESSIVE_EXIT = "renew", "renegotiate", "progressive_exit"
OK, NA = "ok", "n/a"

#: Exit when fewer than this share of owed replacements were filled on time...
EXIT_REPLACEMENT_FILL_RATE = 0.5
#: ...and at least this many were owed.
EXIT_MIN_REPLACEMENTS_OWED = 5
#: Exit from this many GDPR incidents in the quarter; a single one is renegotiated.
EXIT_GDPR_INCIDENTS = 2

_RANK = {RENEW: 0, RENEGOTIATE: 1, PROGRESSIVE_EXIT: 2}


@dataclass(frozen=True)
class Evidence:
    """One figure behind a recommendation. ``outcome`` is ok, n/a, renegotiate or
    progressive_exit (the action this figure alone calls for); ``note`` says why, with figures."""

    name: str
    measured: float | int | None
    threshold: float | int | None
    note: str
    outcome: str = OK


@dataclass(frozen=True)
class Recommendation:
    action: str  # renew | renegotiate | progressive_exit
    clauses: list[str]
    evidence: list[Evidence]

    def as_dict(self) -> dict[str, object]:
        return {"action": self.action, "clauses": list(self.clauses),
                "evidence": [asdict(e) for e in self.evidence]}


def _reject_rate(kpis: Kpis, max_reject: float) -> tuple[Evidence, tuple[str, ...]]:
    rate, stop_at = kpis.reject_rate, 2 * max_reject  # doubling a float is exact
    if rate is None:
        return Evidence("reject_rate", None, max_reject, "n/a: no lead delivered", NA), ()
    if rate > stop_at:
        return Evidence("reject_rate", rate, max_reject,
                        f"{percent(rate)} > 2 x {percent(max_reject)} = {percent(stop_at)}",
                        PROGRESSIVE_EXIT), ("criteria",)
    if rate > max_reject:
        return Evidence("reject_rate", rate, max_reject, f"{percent(rate)} > {percent(max_reject)}",
                        RENEGOTIATE), ("criteria",)
    return Evidence("reject_rate", rate, max_reject, f"{percent(rate)} <= {percent(max_reject)}"), ()


def _previous_reject_rate(kpis: Kpis, previous: Kpis, max_reject: float) -> tuple[Evidence, tuple[str, ...]]:
    before, now = previous.reject_rate, kpis.reject_rate
    if before is None:
        return Evidence("previous_reject_rate", None, max_reject,
                        f"n/a: no lead delivered in {previous.period}", NA), ()
    if before > max_reject and now is not None and now > max_reject:
        return Evidence("previous_reject_rate", before, max_reject,
                        f"two quarters in a row above {percent(max_reject)}: {previous.period} {percent(before)}, "
                        f"{kpis.period} {percent(now)}", PROGRESSIVE_EXIT), ("criteria",)
    sign = ">" if before > max_reject else "<="
    return Evidence("previous_reject_rate", before, max_reject,
                    f"{previous.period} {percent(before)} {sign} {percent(max_reject)}; "
                    f"not two quarters in a row above it"), ()


def _reachability(kpis: Kpis, minimum: float) -> tuple[Evidence, tuple[str, ...]]:
    rate = kpis.reachability
    if rate is None:
        return Evidence("reachability", None, minimum, "n/a: no lead called", NA), ()
    if rate < minimum:
        return Evidence("reachability", rate, minimum, f"{percent(rate)} < {percent(minimum)}",
                        RENEGOTIATE), ("criteria",)
    return Evidence("reachability", rate, minimum, f"{percent(rate)} >= {percent(minimum)}"), ()


def _duplicate_rate(kpis: Kpis, above: float | None) -> tuple[Evidence, tuple[str, ...]]:
    rate = kpis.duplicate_rate
    if rate is None:
        return Evidence("duplicate_rate", None, above, "n/a: no lead delivered", NA), ()
    if above is None:
        return Evidence("duplicate_rate", rate, None, f"{percent(rate)}; the contract sets no threshold"), ()
    if rate > above:
        return Evidence("duplicate_rate", rate, above, f"{percent(rate)} > {percent(above)}",
                        RENEGOTIATE), ("dedup",)
    return Evidence("duplicate_rate", rate, above, f"{percent(rate)} <= {percent(above)}"), ()


def _volume(kpis: Kpis) -> tuple[Evidence, tuple[str, ...]]:
    v = kpis.volume
    if v.status is None:
        return Evidence("volume", v.delivered, None, "n/a: no contracted volume for this period", NA), ()
    if v.status == "below":
        return Evidence("volume", v.delivered, v.minimum, f"{v.delivered} < {v.minimum} (minimum)",
                        RENEGOTIATE), ("volume",)
    if v.status == "above":
        return Evidence("volume", v.delivered, v.minimum,
                        f"{v.delivered} > {v.maximum} (maximum; leads over the cap are not billed)"), ()
    return Evidence("volume", v.delivered, v.minimum, f"{v.delivered} within {v.minimum}..{v.maximum}"), ()


def _replacements(kpis: Kpis) -> tuple[Evidence, tuple[str, ...]]:
    rate, owed, filled = kpis.replacement_fill_rate, kpis.replacements_owed, kpis.replacements_filled_on_time
    if rate is None or owed == 0:
        return Evidence("replacement_fill_rate", None, MIN_REPLACEMENT_FILL_RATE,
                        "n/a: no replacement owed", NA), ()
    counts = f"{filled} of {owed} owed filled on time"
    if rate < EXIT_REPLACEMENT_FILL_RATE and owed >= EXIT_MIN_REPLACEMENTS_OWED:
        return Evidence("replacement_fill_rate", rate, MIN_REPLACEMENT_FILL_RATE,
                        f"{percent(rate)} < {percent(EXIT_REPLACEMENT_FILL_RATE)} with "
                        f"{owed} >= {EXIT_MIN_REPLACEMENTS_OWED} owed ({counts})",
                        PROGRESSIVE_EXIT), ("replacement_share",)
    if rate < MIN_REPLACEMENT_FILL_RATE:
        return Evidence("replacement_fill_rate", rate, MIN_REPLACEMENT_FILL_RATE,
                        f"{percent(rate)} < {percent(MIN_REPLACEMENT_FILL_RATE)} ({counts})",
                        RENEGOTIATE), ("replacement_share",)
    return Evidence("replacement_fill_rate", rate, MIN_REPLACEMENT_FILL_RATE,
                    f"{percent(rate)} >= {percent(MIN_REPLACEMENT_FILL_RATE)} ({counts})"), ()


def _gdpr(kpis: Kpis) -> tuple[Evidence, tuple[str, ...]]:
    n = kpis.gdpr_incidents
    if n >= EXIT_GDPR_INCIDENTS:
        return Evidence("gdpr_incidents", n, 0, f"{n} incidents >= {EXIT_GDPR_INCIDENTS}",
                        PROGRESSIVE_EXIT), ("gdpr",)
    if n == 1:
        return Evidence("gdpr_incidents", n, 0, "1 incident > 0", RENEGOTIATE), ("gdpr",)
    return Evidence("gdpr_incidents", n, 0, "no incident"), ()


def _frozen(frozen_months: int) -> tuple[Evidence, tuple[str, ...]]:
    if frozen_months >= 1:
        return Evidence("frozen_months", frozen_months, 0, f"{frozen_months} month(s) frozen > 0",
                        RENEGOTIATE), ("billing_model",)
    return Evidence("frozen_months", 0, 0, "no month frozen"), ()


def recommend(kpis: Kpis, contract: Contract, *, frozen_months: int = 0,
              previous: Kpis | None = None) -> Recommendation:
    """The recommendation for a quarter's ``kpis``; ``frozen_months`` counts the quarter's frozen
    monthly statements, ``previous`` is the supplier's previous quarter (for the two-in-a-row rule)."""
    if frozen_months < 0:
        raise ValueError(f"frozen_months must be >= 0, got {frozen_months}")
    max_reject = contract.quality.max_reject_rate
    found = [_reject_rate(kpis, max_reject)]
    if previous is not None:
        found.append(_previous_reject_rate(kpis, previous, max_reject))
    found += [
        _reachability(kpis, contract.quality.min_reachability),
        _duplicate_rate(kpis, contract.billing.freeze_if.duplicate_rate_above),
        _volume(kpis),
        _replacements(kpis),
        _gdpr(kpis),
        _frozen(frozen_months),
    ]
    action = max((e.outcome for e, _ in found if e.outcome in _RANK), key=_RANK.__getitem__, default=RENEW)
    clauses = ordered_clauses(c for _, pointed in found for c in pointed)
    return Recommendation(action=action, clauses=clauses, evidence=[e for e, _ in found])
