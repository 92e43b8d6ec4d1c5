"""Leads held in review (docs/governance.md, The review tier): the job behind ``leadgov review list``,
``leadgov review accept|reject`` and the ``review_leads`` flow.

``list_reviews``: the leads still waiting, oldest first, with what their reasons concern and never a
name, an email address or a phone number (the email's domain at most), and the days left to decide.
``decide_review``: one person's decision (accept or reject, who, a comment) on a batch of one supplier's
leads, on the runtime's day, in one transaction: every lead must be in review and within its deadline,
else the whole batch is ``Refused`` and nothing is stored. ``decide_reviews``: several such decisions (the
flow's form: the leads to accept and those to reject) in one transaction, all stored or none. A rejection
opens the lead's replacement claim on the decision day; an acceptance puts the lead on the statement of the
decision's month.
The daily check rejects the leads left past their deadline (``leadgov.services.replacements``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from leadgov import lead_review
from leadgov.claims import ClaimChanges
from leadgov.errors import Refused
from leadgov.models.db import frame_day
from leadgov.models.statuses import ReviewDecision
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly


@dataclass(frozen=True)
class ReviewListRequest:
    #: Only this supplier's leads (default: every supplier's).
    supplier_id: str | None = None


@dataclass(frozen=True)
class WaitingLead:
    """A lead in review, as a person judges it: ids, days, reasons and the fields they concern (the
    company, the role, the budget, the source, the email's domain), never a name, an email or a phone."""

    supplier_id: str
    lead_id: str | None
    delivered_on: date
    due_on: date
    days_left: int
    reasons: tuple[str, ...]
    details: str
    company_name: str | None
    siren: str | None
    naf_code: str | None
    employees: int | None
    legal_form: str | None
    department: str | None
    country: str | None
    job_title: str | None
    budget_eur: float | None
    project_horizon_months: int | None
    source: str | None
    collected_on: date | None
    email_domain: str | None


WAITING_COLUMNS = tuple(WaitingLead.__dataclass_fields__)


@dataclass(frozen=True)
class ReviewList:
    as_of: date
    leads: tuple[WaitingLead, ...]


@dataclass(frozen=True)
class ReviewDecisionRequest:
    """One person's decision on some of a supplier's leads in review."""

    supplier_id: str
    lead_ids: tuple[str, ...]
    #: ``accept`` or ``reject``.
    decision: str
    comment: str
    #: Who decides (default: the runtime's actor, the command's user or the flow run).
    by: str | None = None


@dataclass(frozen=True)
class DecidedLead:
    lead_id: str
    delivered_on: date
    due_on: date


@dataclass(frozen=True)
class ReviewDecisionResult:
    """The decision stored: on which leads, by whom, on which day, and what it did to the claims."""

    supplier_id: str
    decision: str
    decided_by: str
    decided_on: date
    comment: str
    leads: tuple[DecidedLead, ...]
    claims: ClaimChanges

    @property
    def decided(self) -> int:
        return len(self.leads)


def _plain(value: object) -> object:
    """A frame's value as a plain Python value: None for a missing one, ``int`` for a numpy integer."""
    if value is None or (not isinstance(value, tuple) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


# --- the steps ---------------------------------------------------------------------------------


def list_reviews(runtime: Runtime, request: ReviewListRequest) -> ReviewList:
    """The leads still in review, oldest delivery first (read only)."""
    as_of = runtime.clock.today()
    with runtime.sessions() as session:
        frame = lead_review.waiting(session, request.supplier_id, as_of)
    frame = frame.assign(collected_on=pd.to_datetime(frame["collected_at"]).dt.date)
    leads = []
    for row in frame.to_dict("records"):
        values = {name: _plain(row[name]) for name in WAITING_COLUMNS}
        values.update(delivered_on=frame_day(row["delivered_on"]), due_on=frame_day(row["due_on"]),
                      days_left=int(row["days_left"]), reasons=tuple(row["reasons"]))
        leads.append(WaitingLead(**values))  # type: ignore[arg-type]  # WaitingLead's own fields
    return ReviewList(as_of, tuple(leads))


def store_decisions(runtime: Runtime, requests: tuple[ReviewDecisionRequest, ...]) -> tuple[ReviewDecisionResult, ...]:
    """In one transaction, for each decision in turn: check every lead is waiting and within its deadline,
    store the decision, then the claims it opens or fills. One lead refused refuses them all."""
    decided_on = runtime.clock.today()
    results = []
    with runtime.sessions() as session:
        for request in requests:
            decided_by = (request.by or runtime.actor).strip()
            decision = ReviewDecision(request.decision)
            try:
                leads = lead_review.named_for_decision(session, request.supplier_id, request.lead_ids, decided_on)
                decided = lead_review.decide(session, leads.assign(decided_on=decided_on), decision,
                                             decided_by=decided_by, comment=request.comment.strip())
            except lead_review.ReviewRefusal as exc:
                raise Refused(str(exc)) from None
            frame = decided.leads.sort_values(["decided_on", "lead_id"])
            results.append(ReviewDecisionResult(
                supplier_id=request.supplier_id, decision=decision.value, decided_by=decided_by,
                decided_on=decided_on, comment=request.comment.strip(),
                leads=tuple(DecidedLead(str(r["lead_id"]), frame_day(r["delivered_on"]), frame_day(r["due_on"]))
                            for r in frame.merge(leads[["lead_pk", "delivered_on"]], on="lead_pk").to_dict("records")),
                claims=decided.claims))
    return tuple(results)


# --- the job -----------------------------------------------------------------------------------


def _checked(request: ReviewDecisionRequest) -> ReviewDecisionRequest:
    """The request with its lead ids trimmed and distinct; ``Refused`` when it is incomplete."""
    if request.decision not in tuple(ReviewDecision):
        raise Refused(f"unknown decision {request.decision!r}: accept or reject")
    lead_ids = tuple(dict.fromkeys(i.strip() for i in request.lead_ids if i.strip()))
    if not lead_ids:
        raise Refused("name at least one lead id to decide")
    if not request.comment.strip():
        raise Refused("a review decision needs a comment: say why the lead is accepted or rejected")
    if request.by is not None and not request.by.strip():
        raise Refused("a review decision needs who decides it (--by)")
    return ReviewDecisionRequest(request.supplier_id, lead_ids, request.decision, request.comment, request.by)


def decide_reviews(runtime: Runtime, requests: Sequence[ReviewDecisionRequest], *,
                   steps: StepRunner = run_directly) -> tuple[ReviewDecisionResult, ...]:
    """Several decisions on leads in review (say, the leads to accept and those to reject), stored in one
    transaction: ``Refused`` before anything is stored when one is incomplete, names a lead another one
    names too, or names a lead that cannot be decided."""
    checked = tuple(_checked(r) for r in requests)
    if not checked:
        raise Refused("name at least one lead id to decide")
    named = Counter((r.supplier_id, i) for r in checked for i in r.lead_ids)
    twice = sorted({i for (_, i), times in named.items() if times > 1})
    if twice:
        raise Refused(f"lead {', '.join(twice)} named in more than one decision: decide each lead once")
    results: tuple[ReviewDecisionResult, ...] = steps(store_decisions, runtime, checked)
    return results


def decide_review(runtime: Runtime, request: ReviewDecisionRequest, *,
                  steps: StepRunner = run_directly) -> ReviewDecisionResult:
    """Accept or reject leads in review, with who decided and why; ``Refused`` before anything is stored
    when the request is incomplete or a lead cannot be decided."""
    (result,) = decide_reviews(runtime, (request,), steps=steps)
    return result
