"""The daily replacement check: the job behind ``leadgov replacements check``, the
``check_replacements`` flow and the demo's days.

Steps, in this order (``check_replacements``): reject the leads still in review after their deadline
(docs/governance.md, The review tier), decided by ``deadline`` on the day after their deadline, which
opens their claims (one transaction); move the open claims whose deadline is before the
day of the check to overdue (one transaction; each claim's overdue day is the day after its
deadline, whenever the check runs); then, after the commits, raise REPLACEMENT_OVERDUE for every
claim stored as overdue lately (whichever step moved it), once per supplier and overdue day, and
REVIEW_WAITING for every supplier whose oldest lead still in review is due within a day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pandas as pd

from leadgov.alerts.evaluate import after_overdue, after_review_check
from leadgov.alerts.outbox import AlertRun
from leadgov.claims import check_overdue
from leadgov.lead_review import DEADLINE, DEADLINE_COMMENT, decide, past_deadline
from leadgov.models.db import frame_day
from leadgov.models.statuses import ReviewDecision
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly


@dataclass(frozen=True)
class ReplacementCheckRequest:
    #: The day of the check; default today (the runtime's clock, in the settings' time zone).
    as_of: date | None = None


@dataclass(frozen=True)
class OverdueClaim:
    """A claim the check moved to overdue (ids and days only)."""

    claim_id: int
    supplier_id: str
    lead_id: str
    due_on: date
    overdue_on: date


@dataclass(frozen=True)
class DeadlineRejection:
    """A lead the check rejected because nobody decided it in time (ids and days only)."""

    supplier_id: str
    lead_id: str
    due_on: date
    decided_on: date


@dataclass(frozen=True)
class ReplacementCheckResult:
    as_of: date
    #: The claims that went overdue, by supplier, overdue day and claim.
    claims: tuple[OverdueClaim, ...]
    alerts: AlertRun
    #: The leads in review rejected past their deadline, by supplier, decision day and lead id.
    reviews_rejected: tuple[DeadlineRejection, ...] = ()

    @property
    def overdue(self) -> int:
        return len(self.claims)

    def by_supplier(self) -> dict[str, int]:
        """How many claims went overdue per supplier, by supplier id."""
        return dict(sorted(Counter(c.supplier_id for c in self.claims).items()))


# --- the steps ---------------------------------------------------------------------------------


def reject_past_deadline(runtime: Runtime, as_of: date) -> tuple[DeadlineRejection, ...]:
    """Reject, in one transaction, every lead still in review after its deadline (decided by
    ``deadline`` the day after it), opening their claims; the leads rejected. Safe to retry: a lead
    decided is no longer in review."""
    with runtime.sessions() as session:
        late = past_deadline(session, as_of)
        if late.empty:
            return ()
        decided = decide(session, late, ReviewDecision.REJECT, decided_by=DEADLINE, comment=DEADLINE_COMMENT).leads
    rows = zip(decided["supplier_id"], decided["lead_id"], decided["due_on"], decided["decided_on"], strict=True)
    leads = (DeadlineRejection(supplier_id, str(lead_id), frame_day(due_on), frame_day(decided_on))
             for supplier_id, lead_id, due_on, decided_on in rows)
    return tuple(sorted(leads, key=lambda r: (r.supplier_id, r.decided_on, r.lead_id)))


def mark_overdue(runtime: Runtime, as_of: date) -> tuple[OverdueClaim, ...]:
    """Move the open claims past their deadline to overdue, in one transaction; the claims moved.
    Safe to retry: a claim moved is no longer open."""
    with runtime.sessions() as session:
        overdue = check_overdue(session, as_of)
    columns = (overdue[name] for name in ("claim_id", "supplier_id", "lead_id", "due_on", "overdue_on"))
    claims = (OverdueClaim(int(claim_id), supplier_id, lead_id, frame_day(due_on), frame_day(overdue_on))
              for claim_id, supplier_id, lead_id, due_on, overdue_on in zip(*columns, strict=True))
    return tuple(sorted(claims, key=lambda c: (c.supplier_id, c.overdue_on, c.claim_id)))


def raise_daily_alerts(runtime: Runtime, as_of: date) -> AlertRun:
    """After the check's commits: REPLACEMENT_OVERDUE of the claims stored as overdue, and
    REVIEW_WAITING of the suppliers whose oldest lead still in review is due within a day; then the
    outbox is sent."""
    return runtime.alerts(lambda session: after_overdue(session, today=as_of)
                          + after_review_check(session, today=as_of))


# --- the job -----------------------------------------------------------------------------------


def check_replacements(runtime: Runtime, request: ReplacementCheckRequest, *,
                       steps: StepRunner = run_directly) -> ReplacementCheckResult:
    """Reject the leads left in review past their deadline, mark overdue the open claims past their
    deadline, then raise REPLACEMENT_OVERDUE and REVIEW_WAITING."""
    as_of = request.as_of or runtime.clock.today()
    reviews = steps(reject_past_deadline, runtime, as_of)
    claims = steps(mark_overdue, runtime, as_of)
    alerts = steps(raise_daily_alerts, runtime, as_of)
    return ReplacementCheckResult(as_of, claims, alerts, reviews)


# --- the claims as they stand (``leadgov replacements``, the demo's suppliers) --------------------


@dataclass(frozen=True)
class ClaimsRequest:
    supplier_id: str | None = None
    #: Only claims in this status (open, overdue, filled, credited, not_owed_cap).
    status: str | None = None


@dataclass(frozen=True)
class Claim:
    """A replacement claim with its history (ids, days and the lead that filled it)."""

    id: int
    supplier_id: str
    lead_id: str | None
    origin: str
    reason: str | None
    opened_on: date
    due_on: date | None
    status: str
    filled_by: str | None
    filled_on: date | None
    overdue_on: date | None
    credited_on: date | None
    credited_statement_id: int | None


CLAIM_COLUMNS = tuple(Claim.__dataclass_fields__)


def list_claims(runtime: Runtime, request: ClaimsRequest) -> tuple[Claim, ...]:
    """The claims, oldest first (read only)."""
    from leadgov.models import claim_store

    with runtime.sessions() as session:
        frame = claim_store.list_claims(session, supplier_id=request.supplier_id, status=request.status)
    rows = frame[list(CLAIM_COLUMNS)].astype(object).where(frame[list(CLAIM_COLUMNS)].notna(), None)
    return tuple(Claim(**{str(k): _plain(v) for k, v in row.items()})  # type: ignore[arg-type]  # Claim's own fields
                 for row in rows.to_dict("records"))


def _plain(value: object) -> object:
    """Dates as ``date`` and numbers as ``int`` (the frame may hold timestamps and numpy scalars)."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value
