"""Storing statements revision by revision, and reading back what earlier statements billed."""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import ColumnElement, Subquery, func, insert, literal, select, update
from sqlalchemy.orm import Session

from leadgov.models.billing import BillingLine, BillingStatement
from leadgov.models.delivery_store import bulk_insert
from leadgov.models.replacement import ReplacementClaim

if TYPE_CHECKING:
    from leadgov.billing import StatementDraft

CENT = Decimal("0.01")


def _latest_revisions(supplier_id: str) -> Subquery:
    """Subquery: (month, revision) of the latest revision of each month of the supplier."""
    return (select(BillingStatement.month, func.max(BillingStatement.revision).label("revision"))
            .where(BillingStatement.supplier_id == supplier_id).group_by(BillingStatement.month).subquery())


def latest_statements(session: Session, supplier_id: str, months: list[str] | None = None) -> list[BillingStatement]:
    """The latest revision of each month (optionally only ``months``), oldest month first."""
    latest = _latest_revisions(supplier_id)
    query = (select(BillingStatement)
             .join(latest, (latest.c.month == BillingStatement.month)
                   & (latest.c.revision == BillingStatement.revision))
             .where(BillingStatement.supplier_id == supplier_id).order_by(BillingStatement.month))
    if months is not None:
        query = query.where(BillingStatement.month.in_(months))
    return list(session.scalars(query).all())


def billed_before(session: Session, supplier_id: str, month: str) -> frozenset[int]:
    """Lead pks billed as units by the latest revisions of the months before ``month``."""
    latest = _latest_revisions(supplier_id)
    rows = session.scalars(
        select(BillingLine.lead_pk).join(BillingStatement, BillingStatement.id == BillingLine.statement_id)
        .join(latest, (latest.c.month == BillingStatement.month) & (latest.c.revision == BillingStatement.revision))
        .where(BillingStatement.supplier_id == supplier_id, BillingStatement.month < month, BillingLine.kind == "unit")
    ).all()
    return frozenset(int(pk) for pk in rows)


def billed_units(session: Session, supplier_id: str, lead_pks_condition: ColumnElement[bool]) -> pd.DataFrame:
    """Unit lines (lead_pk, amount_eur) of latest revisions for leads matching a condition on Lead."""
    from leadgov.models.delivery import Lead

    latest = _latest_revisions(supplier_id)
    rows = session.execute(
        select(BillingLine.lead_pk, BillingLine.amount_eur)
        .join(BillingStatement, BillingStatement.id == BillingLine.statement_id)
        .join(latest, (latest.c.month == BillingStatement.month) & (latest.c.revision == BillingStatement.revision))
        .join(Lead, Lead.id == BillingLine.lead_pk)
        .where(BillingStatement.supplier_id == supplier_id, BillingLine.kind == "unit", lead_pks_condition)
    ).all()
    return pd.DataFrame(rows, columns=["lead_pk", "amount_eur"])


def store_statement(
    session: Session, draft: "StatementDraft", contract_version_id: int, computed_on: date, *,
    computed_by: str | None = None,
) -> BillingStatement:
    """Add ``draft`` as the month's next revision, computed by ``computed_by``, with its
    lines, and mark its credited claims. Earlier revisions are left as they were.

    A released month stays released only while nothing changed (``keeps_release``); otherwise the
    new revision is frozen again and needs a new release."""
    previous = latest_revision(session, draft.supplier_id, draft.month)
    revision = (previous.revision if previous is not None else 0) + 1
    statement = BillingStatement(
        supplier_id=draft.supplier_id, month=draft.month, revision=revision, contract_version_id=contract_version_id,
        model=draft.model, unit_price_eur=draft.unit_price_eur, fixed_fee_eur=draft.fixed_fee_eur,
        billable_units=draft.billable_units, gross_eur=draft.gross_eur, budget_cap_eur=draft.budget_cap_eur,
        cap_excess_eur=draft.cap_excess_eur, credits_eur=draft.credits_eur, amount_due_eur=draft.amount_due_eur,
        frozen=draft.frozen, freeze_reasons=json.dumps(list(draft.freeze_reasons), ensure_ascii=False),
        computed_by=None if computed_by is None else computed_by[:200],
    )
    if previous is not None and keeps_release(previous, statement):
        statement.released_by, statement.released_at = previous.released_by, previous.released_at
        statement.release_comment = previous.release_comment
    session.add(statement)
    session.flush()
    lines = pd.concat([
        draft.units.assign(kind="unit", claim_id=None),
        draft.credits.assign(kind="credit"),
    ], ignore_index=True)
    if not lines.empty:
        lines = lines.assign(statement_id=statement.id, amount_eur=lines["amount_eur"].map(str))
        lines["claim_id"] = lines["claim_id"].astype(object).where(lines["claim_id"].notna(), None)
        bulk_insert(session, BillingLine.__tablename__,
                    lines[["statement_id", "kind", "lead_pk", "lead_id", "claim_id", "amount_eur"]])
    if draft.credited_claim_ids:
        session.execute(update(ReplacementClaim), [
            {"id": c, "status": "credited", "credited_on": computed_on, "credited_statement_id": statement.id}
            for c in draft.credited_claim_ids
        ])
    return statement


def latest_revision(session: Session, supplier_id: str, month: str) -> BillingStatement | None:
    """The month's latest stored revision, if the month was ever billed."""
    return session.scalars(select(BillingStatement).where(
        BillingStatement.supplier_id == supplier_id, BillingStatement.month == month)
        .order_by(BillingStatement.revision.desc()).limit(1)).first()


#: What a recomputation must leave unchanged for a released month to stay released.
RELEASE_KEPT_IF_SAME = ("model", "unit_price_eur", "fixed_fee_eur", "billable_units", "gross_eur", "budget_cap_eur",
                        "cap_excess_eur", "credits_eur", "amount_due_eur", "frozen", "freeze_reasons")


def _same(a: object, b: object) -> bool:
    if isinstance(a, (Decimal, float)) or isinstance(b, (Decimal, float)):
        return a is not None and b is not None and Decimal(str(a)).quantize(CENT) == Decimal(str(b)).quantize(CENT)
    return a == b


def keeps_release(previous: BillingStatement, recomputed: BillingStatement) -> bool:
    """A recomputed revision keeps the previous revision's release when that one was released, the new
    one is still frozen, and its amounts and freeze reasons are the same (docs/governance-rules.md,
    Releasing a frozen statement)."""
    return (previous.released_at is not None and recomputed.frozen
            and all(_same(getattr(previous, name), getattr(recomputed, name)) for name in RELEASE_KEPT_IF_SAME))


def store_release(session: Session, latest: BillingStatement, released_by: str, released_at: datetime,
                  comment: str) -> BillingStatement:
    """Add a copy of ``latest`` (same amounts, same lines) as the month's next revision, marked
    released by ``released_by`` at ``released_at`` (naive UTC) with ``comment``. ``latest`` is left as it was."""
    statement = BillingStatement(**{
        column: getattr(latest, column) for column in (
            "supplier_id", "month", "contract_version_id", "model", "unit_price_eur", "fixed_fee_eur",
            "billable_units", "gross_eur", "budget_cap_eur", "cap_excess_eur", "credits_eur", "amount_due_eur",
            "frozen", "freeze_reasons")
    }, revision=latest.revision + 1, released_by=released_by, released_at=released_at, release_comment=comment,
        computed_by=released_by[:200])  # a release is a revision its releaser made
    session.add(statement)
    session.flush()
    session.execute(insert(BillingLine).from_select(
        ["statement_id", "kind", "lead_pk", "lead_id", "claim_id", "amount_eur"],
        select(literal(statement.id), BillingLine.kind, BillingLine.lead_pk, BillingLine.lead_id, BillingLine.claim_id,
               BillingLine.amount_eur).where(BillingLine.statement_id == latest.id).order_by(BillingLine.id)))
    return statement


def releases(session: Session, supplier_id: str, months: list[str]) -> list[BillingStatement]:
    """Each release of the supplier's ``months``: the revision it was stored as (a recomputation that
    keeps a release copies it: only its first revision is returned), by release time."""
    rows = session.scalars(select(BillingStatement).where(
        BillingStatement.supplier_id == supplier_id, BillingStatement.month.in_(months),
        BillingStatement.released_at.is_not(None)).order_by(BillingStatement.released_at, BillingStatement.revision))
    first: dict[tuple[str, object], BillingStatement] = {}
    for row in rows:
        first.setdefault((row.month, row.released_at), row)
    return list(first.values())


def recomputations(session: Session, supplier_id: str,
                   months: list[str]) -> list[tuple[BillingStatement, BillingStatement]]:
    """(revision, the revision before it) for each revision of the supplier's ``months`` that
    recomputed an earlier one (every revision after the first, except the releases), by time of
    computation."""
    released = {s.id for s in releases(session, supplier_id, months)}
    rows = list(session.scalars(select(BillingStatement).where(
        BillingStatement.supplier_id == supplier_id, BillingStatement.month.in_(months))))
    by_revision = {(row.month, row.revision): row for row in rows}
    pairs = [(row, by_revision[(row.month, row.revision - 1)]) for row in rows
             if row.revision > 1 and row.id not in released and (row.month, row.revision - 1) in by_revision]
    return sorted(pairs, key=lambda pair: (pair[0].computed_at, pair[0].id))


def statement_lines(session: Session, statement_id: int) -> pd.DataFrame:
    rows = session.execute(select(BillingLine.kind, BillingLine.lead_id, BillingLine.claim_id, BillingLine.amount_eur)
                           .where(BillingLine.statement_id == statement_id)
                           .order_by(BillingLine.kind.desc(), BillingLine.lead_pk)).all()
    return pd.DataFrame(rows, columns=["kind", "lead_id", "claim_id", "amount_eur"])
