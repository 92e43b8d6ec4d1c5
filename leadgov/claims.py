"""Replacement claims in the database: opened when a delivery or a contest is stored, filled by
replacement leads, gone overdue on the daily check. Functions take the caller's session and
never commit, so a claim is stored with the delivery or contest that opened it, or not at all."""

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from config.contract import Contract
from leadgov.reasons import LeadStatus
from leadgov.replacements import match_replacements, month_of, new_claims, overdue_claims
from models import claim_store
from models.db import query_frame
from models.delivery import Lead


@dataclass(frozen=True)
class ClaimChanges:
    """What one step did to the claims, for summaries and alerts."""

    opened: int = 0
    not_owed_cap: int = 0
    filled: int = 0
    overdue: int = 0


def open_claims(session: Session, supplier_id: str, candidates: pd.DataFrame, contract: Contract) -> ClaimChanges:
    """Open a claim for each candidate (lead_pk, lead_id, origin, reason, opened_on), capped per month."""
    if candidates.empty:
        return ClaimChanges()
    months = set(month_of(candidates["opened_on"]))
    claims = new_claims(candidates, contract,
                        owed_so_far=claim_store.owed_claims_per_month(session, supplier_id, months),
                        delivered=claim_store.delivered_per_month(session, supplier_id, months))
    claim_store.insert_claims(session, supplier_id, claims)
    capped = int((claims["status"] == "not_owed_cap").sum())
    return ClaimChanges(opened=len(claims) - capped, not_owed_cap=capped)


def record_delivery_claims(session: Session, delivery_id: int, contract: Contract) -> ClaimChanges:
    """After a delivery is stored: its replacements fill the open claims they name, and each of
    its rejected leads opens a claim (unless it is itself the replacement of an open claim)."""
    supplier_id = contract.supplier.id
    # Only the leads that can open or fill a claim: the rejected ones and the replacements.
    leads = query_frame(session, (
        select(Lead.id, Lead.lead_id, Lead.status, Lead.replaces_lead_id, Lead.delivered_on, Lead.primary_reason)
        .where(Lead.delivery_id == delivery_id,
               or_(Lead.status == LeadStatus.REJECTED.value, Lead.replaces_lead_id.is_not(None)))
        .order_by(Lead.row_number)
    ), ["lead_pk", "lead_id", "status", "replaces_lead_id", "delivered_on", "reason"])
    named = leads["replaces_lead_id"].dropna()
    matches = match_replacements(leads, claim_store.open_claims_for(session, supplier_id, named))
    claim_store.mark_overdue(session, matches.late)
    claim_store.mark_filled(session, matches.fills)
    rejected = leads[(leads["status"] == LeadStatus.REJECTED.value) & ~leads["lead_pk"].isin(matches.no_own_claim)]
    candidates = rejected.assign(origin="rejection", opened_on=rejected["delivered_on"])
    opened = open_claims(session, supplier_id, candidates, contract)
    return ClaimChanges(opened.opened, opened.not_owed_cap, len(matches.fills), len(matches.late))


def check_overdue(session: Session, as_of: date, supplier_id: str | None = None) -> pd.DataFrame:
    """Mark open claims past their deadline overdue; the claims that just went overdue
    (claim_id, due_on, supplier_id, lead_id, overdue_on)."""
    overdue = overdue_claims(claim_store.open_claims(session, supplier_id), as_of)
    claim_store.mark_overdue(session, overdue)
    return overdue
