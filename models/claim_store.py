"""Reading and writing replacement claims, set-based (never one statement per claim)."""

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from leadgov.models.delivery import Delivery, Lead
from leadgov.models.delivery_store import bulk_insert
from leadgov.models.replacement import ReplacementClaim

CLAIM_FIELDS = ["id", "supplier_id", "lead_pk", "lead_id", "origin", "reason", "opened_on", "month", "due_on",
                "status", "filled_by_lead_pk", "filled_on", "overdue_on", "credited_on", "credited_statement_id"]


def _months_range(months: Iterable[str]) -> tuple[date, date]:
    ordered = sorted(months)
    first = date.fromisoformat(ordered[0] + "-01")
    last = pd.Period(ordered[-1], "M").end_time.date()
    return first, last


def delivered_per_month(session: Session, supplier_id: str, months: Iterable[str]) -> dict[str, int]:
    """The supplier's delivered leads in each of ``months`` ("YYYY-MM"), as stored now: the counts of
    its deliveries (every row of a delivery is a stored lead, and no lead is ever deleted), so no lead
    is read (counting a million-lead month's leads took 0.3 s)."""
    months = set(months)
    if not months:
        return {}
    first, last = _months_range(months)
    rows = session.execute(
        select(Delivery.delivered_on, func.sum(Delivery.delivered_count))
        .where(Delivery.supplier_id == supplier_id, Delivery.delivered_on.between(first, last))
        .group_by(Delivery.delivered_on)
    ).all()
    counts: dict[str, int] = {}
    for day, n in rows:
        key = day.strftime("%Y-%m")
        counts[key] = counts.get(key, 0) + n
    return {m: counts.get(m, 0) for m in months}


def owed_claims_per_month(session: Session, supplier_id: str, months: Iterable[str]) -> dict[str, int]:
    """Claims counted against each month's cap: every claim of the month except not_owed_cap."""
    months = list(set(months))
    if not months:
        return {}
    rows = session.execute(
        select(ReplacementClaim.month, func.count()).where(
            ReplacementClaim.supplier_id == supplier_id, ReplacementClaim.month.in_(months),
            ReplacementClaim.status != "not_owed_cap",
        ).group_by(ReplacementClaim.month)
    ).all()
    found = dict(rows)
    return {m: found.get(m, 0) for m in months}


def open_claims_for(session: Session, supplier_id: str, lead_ids: Iterable[str]) -> pd.DataFrame:
    """Open claims of the supplier whose lead carries one of ``lead_ids``: claim_id, lead_id, due_on."""
    ids = list(set(lead_ids))
    rows: list[Sequence[object]] = []
    for start in range(0, len(ids), 10_000):
        rows += session.execute(
            select(ReplacementClaim.id, ReplacementClaim.lead_id, ReplacementClaim.due_on).where(
                ReplacementClaim.supplier_id == supplier_id, ReplacementClaim.status == "open",
                ReplacementClaim.lead_id.in_(ids[start:start + 10_000]),
            )
        ).all()
    return pd.DataFrame(rows, columns=["claim_id", "lead_id", "due_on"])


def insert_claims(session: Session, supplier_id: str, claims: pd.DataFrame) -> None:
    """Store new claims (columns of ``leadgov.replacements.new_claims``)."""
    if claims.empty:
        return
    frame = pd.DataFrame({
        "lead_pk": claims["lead_pk"].astype("int64"),
        "supplier_id": supplier_id,
        "lead_id": claims["lead_id"].astype(object).where(claims["lead_id"].notna(), None),
        "origin": claims["origin"],
        "reason": claims["reason"].astype(object).where(claims["reason"].notna(), None),
        "opened_on": pd.to_datetime(claims["opened_on"]).dt.strftime("%Y-%m-%d"),
        "month": claims["month"],
        "due_on": pd.to_datetime(claims["due_on"]).dt.strftime("%Y-%m-%d"),
        "status": claims["status"],
    })
    bulk_insert(session, ReplacementClaim.__tablename__, frame)


def _dates(values: pd.Series) -> list[date]:
    return [d.date() for d in pd.to_datetime(values)]


def mark_filled(session: Session, fills: pd.DataFrame) -> None:
    """Claims filled (claim_id, filled_by_lead_pk, filled_on)."""
    if fills.empty:
        return
    session.execute(update(ReplacementClaim), [
        {"id": int(c), "status": "filled", "filled_by_lead_pk": int(pk), "filled_on": d}
        for c, pk, d in zip(fills["claim_id"], fills["filled_by_lead_pk"], _dates(fills["filled_on"]), strict=True)
    ])


def mark_overdue(session: Session, overdue: pd.DataFrame) -> None:
    """Claims gone overdue (claim_id, overdue_on)."""
    if overdue.empty:
        return
    session.execute(update(ReplacementClaim), [
        {"id": int(c), "status": "overdue", "overdue_on": d}
        for c, d in zip(overdue["claim_id"], _dates(overdue["overdue_on"]), strict=True)
    ])


def open_claims(session: Session, supplier_id: str | None = None) -> pd.DataFrame:
    """Every open claim: claim_id, status, due_on, supplier_id, lead_id (what the overdue check needs)."""
    query = select(ReplacementClaim.id, ReplacementClaim.status, ReplacementClaim.due_on,
                   ReplacementClaim.supplier_id, ReplacementClaim.lead_id).where(ReplacementClaim.status == "open")
    if supplier_id is not None:
        query = query.where(ReplacementClaim.supplier_id == supplier_id)
    return pd.DataFrame(session.execute(query).all(),
                        columns=["claim_id", "status", "due_on", "supplier_id", "lead_id"])


def list_claims(session: Session, *, supplier_id: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Claims with their history columns and the lead id that filled them, oldest first."""
    filler = aliased(Lead)
    query = (select(*[getattr(ReplacementClaim, f) for f in CLAIM_FIELDS], filler.lead_id.label("filled_by"))
             .outerjoin(filler, filler.id == ReplacementClaim.filled_by_lead_pk)
             .order_by(ReplacementClaim.opened_on, ReplacementClaim.id))
    if supplier_id is not None:
        query = query.where(ReplacementClaim.supplier_id == supplier_id)
    if status is not None:
        query = query.where(ReplacementClaim.status == status)
    frame = pd.DataFrame(session.execute(query).all(), columns=[*CLAIM_FIELDS, "filled_by"], dtype=object)
    return frame.where(frame.notna(), None)
