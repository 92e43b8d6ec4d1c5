"""Replacement claims in the database: opened when a delivery or a contest is stored, filled by
replacement leads, gone overdue on the daily check. Functions take the caller's session and
never commit, so a claim is stored with the delivery or contest that opened it, or not at all."""

from dataclasses import dataclass
from datetime import date
from typing import cast

import numpy as np
import pandas as pd
from pandera.typing.pandas import DataFrame
from sqlalchemy.orm import Session

from leadgov.config.contract import Contract
from leadgov.frames import ClaimCandidates
from leadgov.models import claim_store, delivery_store
from leadgov.models.statuses import ClaimOrigin, LeadStatus
from leadgov.replacements import match_replacements, month_of, new_claims, overdue_claims


@dataclass(frozen=True)
class ClaimChanges:
    """What one step did to the claims, for summaries and alerts."""

    opened: int = 0
    not_owed_cap: int = 0
    filled: int = 0
    overdue: int = 0


def claim_candidates(leads: pd.DataFrame, origin: ClaimOrigin, *, reason: str,
                     opened_on: str) -> DataFrame[ClaimCandidates]:
    """``leads`` (lead_pk, lead_id, and the columns named by ``reason`` and ``opened_on``), in the
    order they count, as the candidates of ``origin`` that ``open_claims`` takes (it validates them)."""
    def objects(values: object) -> pd.Series:
        return pd.Series(values, dtype="object", copy=False)

    frame = pd.DataFrame({
        "lead_pk": leads["lead_pk"].to_numpy(dtype="int64"),
        "lead_id": objects(leads["lead_id"].to_numpy(dtype=object)),
        "origin": objects(np.full(len(leads), origin.value, dtype=object)),
        "reason": objects(leads[reason].to_numpy(dtype=object)),
        "opened_on": pd.to_datetime(leads[opened_on]).to_numpy(dtype="datetime64[ns]"),
    })
    return cast(DataFrame[ClaimCandidates], frame)


def open_claims(session: Session, supplier_id: str, candidates: DataFrame[ClaimCandidates],
                contract: Contract) -> ClaimChanges:
    """Open a claim for each candidate, capped per month. The candidates are validated against
    ``ClaimCandidates`` first: a frame that does not fit raises pandera's ``SchemaError`` (or
    ``SchemaErrors`` for wrong columns) before anything is stored."""
    ClaimCandidates.validate(candidates, inplace=True)
    if candidates.empty:
        return ClaimChanges()
    months = set(month_of(candidates["opened_on"]))
    claims = new_claims(candidates, contract,
                        owed_so_far=claim_store.owed_claims_per_month(session, supplier_id, months),
                        delivered=claim_store.delivered_per_month(session, supplier_id, months))
    claim_store.insert_claims(session, supplier_id, claims)
    capped = int((claims["status"] == "not_owed_cap").sum())
    return ClaimChanges(opened=len(claims) - capped, not_owed_cap=capped)


def record_delivery_claims(session: Session, delivery_id: int, contract: Contract,
                           leads: pd.DataFrame) -> ClaimChanges:
    """After a delivery is stored: its replacements fill the open claims they name, and each of
    its rejected leads opens a claim (unless it is itself the replacement of an open claim).

    ``leads``: the delivery's leads as just stored, in row order (row_number, lead_id, status,
    replaces_lead_id, reason: the primary reason, delivered_on); their database ids are looked up
    here. Passing them saves reading a million stored rows back.
    """
    supplier_id = contract.supplier.id
    # Only the leads that can open or fill a claim: the rejected ones and the replacements.
    able = leads[(leads["status"] == LeadStatus.REJECTED.value) | leads["replaces_lead_id"].notna()]
    # Plain Python values with None, as the claim store's frames hold them (merged below).
    able = able.astype(object).where(able.notna(), None).reset_index(drop=True)
    able.insert(0, "lead_pk", delivery_store.lead_pks(session, delivery_id, able["row_number"].to_numpy(dtype="int64")))
    named = able["replaces_lead_id"].dropna()
    matches = match_replacements(able, claim_store.open_claims_for(session, supplier_id, named))
    claim_store.mark_overdue(session, matches.late)
    claim_store.mark_filled(session, matches.fills)
    rejected = able[(able["status"] == LeadStatus.REJECTED.value) & ~able["lead_pk"].isin(matches.no_own_claim)]
    candidates = claim_candidates(rejected, ClaimOrigin.REJECTION, reason="reason", opened_on="delivered_on")
    opened = open_claims(session, supplier_id, candidates, contract)
    return ClaimChanges(opened.opened, opened.not_owed_cap, len(matches.fills), len(matches.late))


def check_overdue(session: Session, as_of: date, supplier_id: str | None = None) -> pd.DataFrame:
    """Mark open claims past their deadline overdue; the claims that just went overdue
    (claim_id, due_on, supplier_id, lead_id, overdue_on)."""
    overdue = overdue_claims(claim_store.open_claims(session, supplier_id), as_of)
    claim_store.mark_overdue(session, overdue)
    return overdue
