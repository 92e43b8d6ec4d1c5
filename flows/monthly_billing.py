"""Flow: the month's statement of every supplier with a contract, its report and its alerts."""

from datetime import date
from typing import Annotated

from prefect import flow, unmapped
from pydantic import Field

from leadgov.tasks.governance import (bill_supplier_month, collect, local_today, previous_month, publish_billing,
                              raise_statement_alerts, suppliers_to_bill, upgrade_database, write_statement)

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class BillingFailed(RuntimeError):
    """At least one supplier's statement could not be computed (the others were)."""


@flow(name="monthly_billing", log_prints=False)
def monthly_billing(
    month: Annotated[str | None, Field(pattern=MONTH, description="Calendar month, YYYY-MM (default: the month "
                                                                  "before as_of).")] = None,
    as_of: Annotated[date | None, Field(description="Day the statements are computed on (default: today, in the "
                                                    "settings' time zone).")] = None,
) -> dict:
    """Store a new statement revision per supplier (in parallel), write its report, raise its alerts.

    Args:
        month: Calendar month, YYYY-MM (default: the month before as_of).
        as_of: Day the statements are computed on (default: today, in the settings' time zone).
    """
    day = as_of or local_today()
    label = month or previous_month(day)
    upgrade_database()
    suppliers = suppliers_to_bill(label)
    statements = bill_supplier_month.map(suppliers, unmapped(label), unmapped(day))
    reports = write_statement.map(statements)
    alerts = raise_statement_alerts.map(statements)
    rows = []
    for supplier, (statement, error), (report, report_error), (alert, alert_error) in zip(
            suppliers, collect(list(statements)), collect(list(reports)), collect(list(alerts))):
        if error is not None:
            rows.append({"supplier_id": supplier, "error": error})
        else:
            rows.append(statement | {"report": report, "report_error": report_error,
                                     "alerts": alert if alert_error is None else {"error": alert_error}})
    summary = publish_billing(label, rows)
    failed = [r["supplier_id"] for r in rows if r.get("error") or r.get("report_error")]
    if failed:
        raise BillingFailed(f"billing {label} failed for {', '.join(failed)} (the other suppliers were billed)")
    return summary
