"""Tasks of the month's closing: each step of ``leadgov.services.billing`` as its Prefect task, and
the billing artifacts. Retries only where the database could not be reached (a retried statement is
one more revision, never a changed one)."""

from decimal import Decimal

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.reports.artifacts import Table, alerts_line, markdown
from leadgov.services import billing
from leadgov.services.billing import CloseMonthResult, SupplierMonth
from leadgov.tasks.common import artifact_key, step_task

suppliers_to_bill = step_task(billing.suppliers_to_bill, retry="database", name="suppliers_to_bill")
bill_supplier_month = step_task(billing.store_statement, retry="database", name="bill_supplier_month")
write_statement = step_task(billing.write_report, name="write_statement")
raise_statement_alerts = step_task(billing.raise_alerts, name="raise_statement_alerts")

SUMMARY_COLUMNS = ("supplier", "revision", "units", "gross €", "cap excess €", "credits €", "amount due €", "frozen",
                   "report")


def eur(amount: Decimal | None) -> str:
    """Euros to the cent, as text (an artifact carries rendered money, never a float)."""
    return "" if amount is None else f"{amount:.2f}"


def statement_row(month: str, supplier: SupplierMonth) -> dict[str, object]:
    """One supplier's figures (money as text), its report and what failed."""
    s = supplier.statement
    if s is None:
        return {"supplier_id": supplier.supplier_id, "month": month, "error": supplier.error}
    return {"supplier_id": s.supplier_id, "month": s.month, "revision": s.revision, "billable_units": s.billable_units,
            "gross_eur": eur(s.gross_eur), "cap_excess_eur": eur(s.cap_excess_eur), "credits_eur": eur(s.credits_eur),
            "amount_due_eur": eur(s.amount_due_eur), "frozen": s.frozen,
            "report": str(supplier.report) if supplier.report else "", "error": supplier.report_error or ""}


def billing_markdown(result: CloseMonthResult) -> str:
    """Per supplier: revision, units, money, freeze and report (or why it failed); then the alerts."""
    rows: list[tuple[object, ...]] = []
    for supplier in result.suppliers:
        s = supplier.statement
        if s is None:
            rows.append((supplier.supplier_id, "", "", "", "", "", "", "", f"error: {supplier.error}"))
            continue
        frozen = "FROZEN: " + "; ".join(s.freeze_reasons) if s.frozen else "no"
        rows.append((s.supplier_id, s.revision, s.billable_units, eur(s.gross_eur), eur(s.cap_excess_eur),
                     eur(s.credits_eur), eur(s.amount_due_eur), frozen,
                     str(supplier.report) if supplier.report else f"error: {supplier.report_error}"))
    alerts = [f"- {s.supplier_id}: {alerts_line(s.alerts)}" for s in result.suppliers if s.alerts is not None]
    return markdown(
        f"Monthly billing {result.month}",
        f"Statements computed as of {result.as_of.isoformat()}.",
        Table(SUMMARY_COLUMNS, rows, empty="No supplier with a contract in force on the month's last day."),
        "\n".join(alerts) if alerts else "Alerts: none evaluated.",
    )


@task(cache_policy=NO_CACHE)
def publish_billing(result: CloseMonthResult) -> None:
    """A table per supplier (``billing-<supplier>-<yyyy-mm>``), the month's table and its summary."""
    rows = [statement_row(result.month, supplier) for supplier in result.suppliers]
    for row in rows:
        if "revision" in row:
            create_table_artifact([row], key=artifact_key("billing", row["supplier_id"], result.month),
                                  description=f"Statement of {row['supplier_id']} for {result.month} (latest revision)")
    create_markdown_artifact(billing_markdown(result), key="monthly-billing-summary",
                             description=f"Latest monthly billing ({result.month})")
    create_table_artifact(rows or [{"supplier_id": "(none)", "month": result.month}], key="monthly-billing-table",
                          description="Statements of the latest monthly billing, one row per supplier")
