"""Reading leads in review and storing review decisions, set-based (never one statement per lead)."""

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from leadgov.models.db import changed_rows, chunks, frame_day, query_frame, rows_frame
from leadgov.models.delivery import Delivery, Lead, LeadReason
from leadgov.models.lead_review import LeadReviewDecision
from leadgov.models.raw_record_store import supplied_values_at
from leadgov.models.statuses import LeadStatus, ReviewDecision

#: What a review list may show of a lead: never a name, an email address or a phone number. The email's
#: domain is derived from the stored email by the caller and the email itself dropped at once. SIREN and
#: email are columns of the lead table; the others are supplied values, read from the delivery's blocks.
LISTED = ("company_name", "siren", "naf_code", "employees", "legal_form", "department", "country", "job_title",
          "budget_eur", "project_horizon_months", "source", "collected_at")
LEAD_COLUMNS = ["lead_pk", "supplier_id", "lead_id", "delivery_id", "row_number", "contract_version_id",
                "delivered_on", "status", "decided_on", "primary_reason", "replaces_lead_id"]
_LEAD_FIELDS = (Lead.id, Lead.supplier_id, Lead.lead_id, Lead.delivery_id, Lead.row_number,
                Delivery.contract_version_id, Lead.delivered_on, Lead.status, Lead.decided_on, Lead.primary_reason,
                Lead.replaces_lead_id)


def waiting_leads(session: Session, supplier_id: str | None = None, *, listed: bool = False) -> pd.DataFrame:
    """Every lead still in review (``LEAD_COLUMNS``; with ``listed``, also the ``LISTED`` fields and
    ``email``), oldest delivery first."""
    extra = (Lead.siren, Lead.email) if listed else ()
    query = (select(*_LEAD_FIELDS, *extra).join(Delivery, Delivery.id == Lead.delivery_id)
             .where(Lead.status == LeadStatus.REVIEW.value)
             .order_by(Lead.delivered_on, Lead.supplier_id, Lead.delivery_id, Lead.row_number))
    if supplier_id is not None:
        query = query.where(Lead.supplier_id == supplier_id)
    leads = query_frame(session, query, [*LEAD_COLUMNS, *(c.key for c in extra)])
    if not listed:
        return leads
    values = supplied_values_at(session, leads, [name for name in LISTED if name != "siren"])
    return pd.concat([leads, values], axis=1).loc[:, [*LEAD_COLUMNS, *LISTED, "email"]]


def leads_named(session: Session, supplier_id: str, lead_ids: Iterable[str]) -> pd.DataFrame:
    """The supplier's leads carrying one of ``lead_ids``, whatever their status (``LEAD_COLUMNS``)."""
    frames = [query_frame(session, select(*_LEAD_FIELDS).join(Delivery, Delivery.id == Lead.delivery_id)
                          .where(Lead.supplier_id == supplier_id, Lead.lead_id.in_(chunk)), LEAD_COLUMNS)
              for chunk in chunks(sorted(set(lead_ids)))]
    return pd.concat(frames, ignore_index=True) if frames else rows_frame([], LEAD_COLUMNS)


def reasons_of(session: Session, lead_pks: Iterable[int]) -> pd.DataFrame:
    """lead_pk, code, detail of the leads' stored reasons (details never hold personal data)."""
    frames = [query_frame(session, select(Lead.id, LeadReason.code, LeadReason.detail)
                          .join(Lead, and_(Lead.delivery_id == LeadReason.delivery_id,
                                           Lead.row_number == LeadReason.row_number))
                          .where(Lead.id.in_(chunk)), ["lead_pk", "code", "detail"])
              for chunk in chunks(sorted({int(pk) for pk in lead_pks}))]
    return pd.concat(frames, ignore_index=True) if frames else rows_frame([], ["lead_pk", "code", "detail"])


def decisions_of(session: Session, lead_pks: Iterable[int]) -> pd.DataFrame:
    """lead_pk, decision, decided_on, decided_by, comment, decided_at of the leads already decided (one
    decision each at most): what a refusal names, and what a person's access export shows."""
    d = LeadReviewDecision
    columns = ["lead_pk", "decision", "decided_on", "decided_by", "comment", "decided_at"]
    frames = [query_frame(session, select(d.lead_pk, d.decision, d.decided_on, d.decided_by, d.comment, d.decided_at)
                          .where(d.lead_pk.in_(chunk)), columns)
              for chunk in chunks(sorted({int(pk) for pk in lead_pks}))]
    return pd.concat(frames, ignore_index=True) if frames else rows_frame([], columns)


def decisions_between(session: Session, supplier_id: str, first: date, last: date,
                      ) -> list[tuple[date, str, str, str, int]]:
    """The supplier's review decisions taken from ``first`` to ``last``, summed per (day, decision, who,
    comment): (decided_on, decision, decided_by, comment, leads), by day, decision, who; one grouped query."""
    d = LeadReviewDecision
    rows = session.execute(
        select(d.decided_on, d.decision, d.decided_by, d.comment, func.count(d.id))
        .where(d.supplier_id == supplier_id, d.decided_on.between(first, last))
        .group_by(d.decided_on, d.decision, d.decided_by, d.comment)
        .order_by(d.decided_on, d.decision, d.decided_by, d.comment)).all()
    return [(day, str(decision), str(by), str(comment or ""), int(n)) for day, decision, by, comment, n in rows]


def store_decisions(session: Session, leads: pd.DataFrame) -> int:
    """Decide leads still in review: ``leads`` has lead_pk, supplier_id, decision (accept | reject),
    decided_on, decided_by, comment. Each lead's status and ``decided_on`` change with one statement per
    (decision, day), guarded by ``status = 'review'``; how many leads changed (fewer than asked when a
    concurrent decision came first: the caller refuses then)."""
    if leads.empty:
        return 0
    changed = 0
    for (decision, day), group in leads.groupby(["decision", "decided_on"], sort=True):
        status = LeadStatus.ACCEPTED if decision == ReviewDecision.ACCEPT else LeadStatus.REJECTED
        for chunk in chunks([int(pk) for pk in group["lead_pk"]]):
            changed += changed_rows(session.execute(
                update(Lead).where(Lead.id.in_(chunk), Lead.status == LeadStatus.REVIEW.value)
                .values(status=status.value, decided_on=frame_day(day)).execution_options(synchronize_session=False)))
    session.execute(insert(LeadReviewDecision), [
        {"lead_pk": int(r["lead_pk"]), "supplier_id": r["supplier_id"], "decision": str(r["decision"]),
         "decided_on": frame_day(r["decided_on"]), "decided_by": r["decided_by"], "comment": r["comment"]}
        for r in leads[["lead_pk", "supplier_id", "decision", "decided_on", "decided_by", "comment"]]
        .to_dict("records")])
    session.flush()
    return changed
