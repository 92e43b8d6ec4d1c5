"""The review tier after delivery (docs/governance.md, The review tier): leads held in ``review`` wait for
a person, who accepts or rejects them with a comment; the daily check rejects those still waiting after
their deadline, decided by ``deadline``.

A decision sets the lead's status and ``decided_on`` (the statement of that day's month bills an accepted
one) and keeps who, when and why (``lead_review_decision``). A rejection opens the lead's replacement
claim on the decision day, like a rejection at delivery (a rejected replacement of a claim still open opens
none); an accepted replacement fills the claim it names when it was delivered on time. Functions take the
caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from leadgov.claims import ClaimChanges, claim_candidates, open_claims
from leadgov.config.contract import Contract
from leadgov.models import claim_store, review_store
from leadgov.models import pilot as pilot_store
from leadgov.models.statuses import ClaimOrigin, LeadStatus, ReviewDecision
from leadgov.outcomes import contracts_by_version
from leadgov.reasons import REASON_ORDER
from leadgov.replacements import match_replacements

#: Who decides a lead still in review after its deadline (``lead_review_decision.decided_by``).
DEADLINE = "deadline"
#: The comment the daily check leaves on what it rejects.
DEADLINE_COMMENT = "review deadline passed: rejected by the daily check"


class ReviewRefusal(ValueError):
    """A decision that cannot be taken as asked (one line, lead ids only); nothing is stored."""


@dataclass(frozen=True)
class DecidedLeads:
    """What one batch of decisions did: the leads decided (lead_pk, supplier_id, lead_id, decision,
    decided_on, due_on) and the claims it opened or filled."""

    leads: pd.DataFrame
    claims: ClaimChanges


def with_due_days(session: Session, leads: pd.DataFrame) -> pd.DataFrame:
    """``leads`` (with contract_version_id and delivered_on) plus ``due_on``: the last day to decide each,
    its delivery day plus the ``review_deadline_days`` of the contract its delivery ran under."""
    if leads.empty:
        return leads.assign(due_on=pd.Series(dtype="object"))
    contracts = contracts_by_version(session, leads["contract_version_id"].dropna().unique())
    days = leads["contract_version_id"].map(
        {v: c.exploitability.review_deadline_days for v, c in contracts.items()}).astype("int64")
    due = pd.to_datetime(leads["delivered_on"]) + pd.to_timedelta(days, unit="D")
    return leads.assign(due_on=due.dt.date)


def waiting(session: Session, supplier_id: str | None, as_of: date) -> pd.DataFrame:
    """The leads still in review, oldest first, with what a person needs to judge them and nothing
    personal: ``review_store.LISTED``, the email's domain (never the address), the stored reasons (codes
    in order, and their details), ``due_on`` and ``days_left`` (0 on the last day)."""
    leads = with_due_days(session, review_store.waiting_leads(session, supplier_id, listed=True))
    email = leads.pop("email").astype("str")
    if leads.empty:
        return leads.assign(**{c: pd.Series(dtype="object") for c in ("email_domain", "reasons", "details",
                                                                         "days_left")})
    leads["email_domain"] = email.str.rpartition("@")[2].where(email.str.contains("@", regex=False, na=False))
    reasons = review_store.reasons_of(session, leads["lead_pk"])
    reasons = reasons.assign(order=reasons["code"].map(REASON_ORDER)).sort_values(["lead_pk", "order"])
    grouped = reasons.groupby("lead_pk", sort=False)
    codes = leads["lead_pk"].map(grouped["code"].agg(";".join)).fillna("")
    leads["reasons"] = codes.str.split(";").map(lambda parts: tuple(p for p in parts if p))
    leads["details"] = leads["lead_pk"].map((reasons["code"] + ": " + reasons["detail"]).groupby(
        reasons["lead_pk"], sort=False).agg(" | ".join)).fillna("")
    leads["days_left"] = (pd.to_datetime(leads["due_on"]) - pd.Timestamp(as_of)).dt.days
    return leads


def named_for_decision(session: Session, supplier_id: str, lead_ids: tuple[str, ...], decided_on: date) -> pd.DataFrame:
    """The supplier's leads ``lead_ids``, all still in review and within their deadline on ``decided_on``
    (``ReviewRefusal`` naming the first lead that is not, and why)."""
    leads = with_due_days(session, review_store.leads_named(session, supplier_id, lead_ids))
    unknown = sorted(set(lead_ids) - set(leads["lead_id"]))
    if unknown:
        raise ReviewRefusal(f"no lead {_ids(unknown)} from supplier {supplier_id}: nothing decided")
    not_waiting = leads[leads["status"] != LeadStatus.REVIEW.value]
    if not not_waiting.empty:
        decided = review_store.decisions_of(session, not_waiting["lead_pk"]).set_index("lead_pk")
        first = not_waiting.iloc[0]
        if int(first["lead_pk"]) in decided.index:
            d = decided.loc[int(first["lead_pk"])]
            why = f"it was already decided ({d['decision']}, by {d['decided_by']} on {_iso(d['decided_on'])})"
        else:
            why = f"it is {first['status']}, not in review"
        raise ReviewRefusal(f"lead {first['lead_id']} of {supplier_id} cannot be decided: {why}; nothing decided")
    late = leads[pd.to_datetime(leads["due_on"]) < pd.Timestamp(decided_on)]
    if not late.empty:
        first = late.iloc[0]
        raise ReviewRefusal(f"lead {first['lead_id']} of {supplier_id} is past its review deadline "
                            f"({_iso(first['due_on'])}): the daily check rejects it; nothing decided")
    return leads


def past_deadline(session: Session, as_of: date) -> pd.DataFrame:
    """Every lead still in review whose last day to decide is before ``as_of``, with its decision day:
    the day after its deadline, whenever the check runs (as a claim goes overdue)."""
    leads = with_due_days(session, review_store.waiting_leads(session))
    late = leads[pd.to_datetime(leads["due_on"]) < pd.Timestamp(as_of)].copy()
    late["decided_on"] = (pd.to_datetime(late["due_on"]) + pd.Timedelta(days=1)).dt.date
    return late


def decide(session: Session, leads: pd.DataFrame, decision: ReviewDecision, *, decided_by: str,
           comment: str) -> DecidedLeads:
    """Store ``decision`` on ``leads`` (from ``named_for_decision`` or ``past_deadline``; ``decided_on``
    per lead), then the claims: each rejected lead opens one on its decision day, unless it replaces a
    claim still open and was delivered on time; each accepted replacement fills the claim it names; an
    accepted lead beyond the cohort of its supplier's undecided pilot is held (PILOT_HOLD) like one
    accepted at delivery, billed on the pilot's approval."""
    leads = leads.assign(decision=decision.value, decided_by=decided_by, comment=comment)
    if review_store.store_decisions(session, leads) != len(leads):
        raise ReviewRefusal("another decision on these leads was stored meanwhile: nothing decided, list them again")
    status = LeadStatus.ACCEPTED if decision is ReviewDecision.ACCEPT else LeadStatus.REJECTED
    changes = ClaimChanges()
    contracts = contracts_by_version(session, leads["contract_version_id"].unique())
    for supplier_id, group in leads.groupby("supplier_id", sort=True):
        contract = contracts[int(group["contract_version_id"].iloc[-1])]
        changes = _add(changes, _claims(session, str(supplier_id), group.assign(status=status.value), contract))
        if status is LeadStatus.ACCEPTED:  # beyond an undecided pilot's cohort: held until its decision
            pilot_store.hold_reviewed(session, str(supplier_id), [int(pk) for pk in group["lead_pk"]])
    columns = ["lead_pk", "supplier_id", "lead_id", "decision", "decided_on", "due_on"]
    return DecidedLeads(leads[columns].reset_index(drop=True), changes)


def _claims(session: Session, supplier_id: str, leads: pd.DataFrame, contract: Contract) -> ClaimChanges:
    """A delivery's claim rules applied to decided leads, on their decision day."""
    able = leads.astype(object).where(leads.notna(), None).reset_index(drop=True)
    named = able["replaces_lead_id"].dropna()
    matches = match_replacements(able, claim_store.open_claims_for(session, supplier_id, named))
    claim_store.mark_overdue(session, matches.late)
    claim_store.mark_filled(session, matches.fills)
    rejected = able[(able["status"] == LeadStatus.REJECTED.value) & ~able["lead_pk"].isin(matches.no_own_claim)]
    rejected = rejected.sort_values(["decided_on", "delivered_on", "lead_pk"], kind="stable")
    opened = open_claims(session, supplier_id, claim_candidates(rejected, ClaimOrigin.REJECTION,
                                                                reason="primary_reason", opened_on="decided_on"),
                         contract)
    return ClaimChanges(opened.opened, opened.not_owed_cap, len(matches.fills), len(matches.late))


def _add(a: ClaimChanges, b: ClaimChanges) -> ClaimChanges:
    return ClaimChanges(a.opened + b.opened, a.not_owed_cap + b.not_owed_cap, a.filled + b.filled,
                        a.overdue + b.overdue)


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:5])
    return shown + (f" (and {len(ids) - 5} more)" if len(ids) > 5 else "")


def _iso(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]  # pandas-stubs: a date or a Timestamp
