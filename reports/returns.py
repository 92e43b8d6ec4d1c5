"""The delivery return report: for the supplier, what was rejected and why, and by when to act."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from leadgov.explanations import explain
from leadgov.governance import contract_of_version
from leadgov.ingest import stored_result
from leadgov.models.delivery import Delivery
from leadgov.models.supplier import Supplier
from leadgov.reports.render import render, write


def returns_context(session: Session, delivery_id: int) -> dict:
    """Everything the return report shows, as plain values (tests check them against the database)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise LookupError(f"no delivery {delivery_id}")
    version, contract = contract_of_version(session, delivery.contract_version_id)
    result = stored_result(session, delivery_id)
    verdicts = result.verdicts
    rejected = verdicts[verdicts["status"] == "rejected"]
    locale = contract.locale
    counts = result.reason_counts()
    return {
        "locale": locale,
        "supplier": session.get(Supplier, delivery.supplier_id).name,
        "contract": version.contract_id,
        "delivery": {"id": delivery.id, "file": delivery.file_name, "delivered_on": delivery.delivered_on,
                     **result.counts()},
        "contest_window_closes": delivery.delivered_on + timedelta(days=contract.replacement.contest_window_days),
        "replacement_due": delivery.delivered_on + timedelta(days=contract.replacement.replacement_deadline_days),
        "reasons": [{"code": code, "count": n, "share": n / max(len(verdicts), 1), "explanation": explain(code, locale)}
                    for code, n in counts.items()],
        "rejected": [{"row": int(r.row_number), "lead_id": r.lead_id if isinstance(r.lead_id, str) else "",
                      "reasons": r.reasons.replace(";", ", "), "detail": r.details if isinstance(r.details, str) else ""}
                     for r in rejected.itertuples()],
    }


def write_returns_report(session: Session, delivery_id: int, out_dir: Path) -> Path:
    context = returns_context(session, delivery_id)
    html = render("returns.html.j2", context.pop("locale"), **context)
    return write(html, out_dir / f"returns-delivery-{delivery_id}.html")
