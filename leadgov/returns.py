"""A stored delivery's returns, for its supplier: what was rejected and why, and by when to act.

Read back from the database as plain values (the return report renders them). The function takes
the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadgov.explanations import explain
from leadgov.governance import contract_of_version
from leadgov.ingest import stored_result
from leadgov.models.delivery import Delivery
from leadgov.models.supplier import Supplier


@dataclass(frozen=True)
class ReasonShare:
    """Leads rejected for one reason, their share of the delivery, and what the reason means."""

    code: str
    count: int
    share: float
    explanation: str


@dataclass(frozen=True)
class RejectedLead:
    """One rejected row: its row number in the file, the supplier's lead id, reasons and details."""

    row: int
    lead_id: str
    reasons: str
    detail: str


@dataclass(frozen=True)
class DeliveryReturns:
    """Everything the return report of one delivery shows."""

    delivery_id: int
    supplier_id: str
    supplier_name: str
    contract_id: str
    #: The contract's locale: the return report is written in it.
    locale: str
    file_name: str
    delivered_on: date
    delivered: int
    accepted: int
    rejected: int
    over_cap: int
    contest_window_closes: date
    replacement_due: date
    reasons: tuple[ReasonShare, ...]
    rejected_leads: tuple[RejectedLead, ...]
    #: Leads held for the buyer's review at delivery (docs/validation-rules.md, Review tier), and the
    #: day the daily check rejects those still undecided.
    in_review: int = 0
    review_leads: tuple[RejectedLead, ...] = ()
    review_due: date | None = None


def load_returns(session: Session, delivery_id: int) -> DeliveryReturns:
    """The returns of a stored delivery (``LookupError`` when there is no such delivery)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise LookupError(f"no delivery {delivery_id}")
    version, contract = contract_of_version(session, delivery.contract_version_id)
    result = stored_result(session, delivery_id)
    verdicts = result.verdicts
    rejected = verdicts[verdicts["status"] == "rejected"].to_dict("records")
    waiting = verdicts[verdicts["status"] == "review"].to_dict("records")
    locale = contract.locale
    counts = result.counts()
    total = max(len(verdicts), 1)
    supplier = session.get(Supplier, delivery.supplier_id)
    return DeliveryReturns(
        delivery_id=delivery.id, supplier_id=delivery.supplier_id,
        supplier_name=supplier.name if supplier else delivery.supplier_id, contract_id=version.contract_id,
        locale=locale, file_name=delivery.file_name, delivered_on=delivery.delivered_on,
        delivered=counts["delivered"], accepted=counts["accepted"], rejected=counts["rejected"],
        over_cap=counts["over_cap"],
        contest_window_closes=delivery.delivered_on + timedelta(days=contract.replacement.contest_window_days),
        replacement_due=delivery.delivered_on + timedelta(days=contract.replacement.replacement_deadline_days),
        reasons=tuple(ReasonShare(code, n, n / total, explain(code, locale))
                      for code, n in result.reason_counts().items()),
        rejected_leads=tuple(_listed(r) for r in rejected),
        in_review=counts["in_review"],
        review_leads=tuple(_listed(r) for r in waiting),
        review_due=delivery.delivered_on + timedelta(days=contract.exploitability.review_deadline_days),
    )


def _listed(r: dict[Hashable, Any]) -> RejectedLead:
    """A verdict row as the report lists it."""
    return RejectedLead(int(str(r["row_number"])), r["lead_id"] if isinstance(r["lead_id"], str) else "",
                        str(r["reasons"]).replace(";", ", "), r["details"] if isinstance(r["details"], str) else "")
