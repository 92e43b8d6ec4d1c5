"""Billing a month and closing a month as services, on a real database with a pinned clock and no Slack."""

from datetime import date
from decimal import Decimal

import pytest
from factories import ingest, lead, make_contract_file, outcomes_csv, service_runtime
from sqlalchemy import select, update

from leadgov.models import BillingStatement, ContractVersion, ReplacementClaim
from leadgov.models.alert_store import list_alerts
from leadgov.models.db import session_scope
from leadgov.outcomes import import_outcomes
from leadgov.periods import BadPeriod
from leadgov.services.billing import (
    CloseMonthRequest,
    StatementReportRequest,
    StatementRequest,
    bill_statement,
    close_month,
    statement_report,
)

TZ = "Europe/Paris"
BETA = {"supplier.id": "beta-leads", "supplier.name": "Beta Leads", "contract_id": "BETA-2027-01"}
PER_LEAD = make_contract_file(**{"replacement.max_replacement_share": 1.0, "billing.model": "per_lead"})


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


def revisions(db_url) -> list[tuple]:
    with session_scope(db_url) as session:
        return [tuple(r) for r in session.execute(
            select(BillingStatement.supplier_id, BillingStatement.month, BillingStatement.revision,
                   BillingStatement.billable_units, BillingStatement.amount_due_eur)
            .order_by(BillingStatement.supplier_id, BillingStatement.revision))]


def test_a_statement_is_stored_with_its_figures_and_alerts(db_url):
    # 20 leads on 1 March, L-00020 rejected INVALID_EMAIL, L-00001 contested: 18 billable per qualified lead
    ingest(db_url, [lead(i, email="bad") if i == 20 else lead(i) for i in range(1, 21)])
    with session_scope(db_url) as session:
        import_outcomes(session, outcomes_csv([{"lead_id": "L-00001", "event": "contest", "at": "2027-03-05 10:00",
                                                "contest_reason": "WRONG_NUMBER"}]), "outcomes.csv", TZ)

    result = bill_statement(runtime(db_url, date(2027, 4, 5)), StatementRequest("acme-leads", "2027-03"))

    s = result.statement
    assert result.as_of == date(2027, 4, 5)  # the clock's day when the request gives none
    assert (s.supplier_id, s.month, s.revision, s.model) == ("acme-leads", "2027-03", 1, "per_qualified_lead")
    assert (s.billable_units, s.unit_price_eur, s.gross_eur, s.cap_excess_eur, s.credits_eur, s.amount_due_eur) == (
        18, Decimal("45.00"), Decimal("810.00"), Decimal("0.00"), Decimal("0.00"), Decimal("810.00"))
    assert s.billable_lead_ids == tuple(f"L-{i:05d}" for i in range(2, 20)) and s.credit_lines == ()
    assert (s.frozen, s.freeze_reasons, s.contract_id, s.supplier_name) == (False, (), "ACME-2027-01",
                                                                           "ACME Leads SAS")
    # the statement's overdue check moved both claims (due 11 and 15 March): their alerts, kept without Slack
    assert result.alerts.new == ("REPLACEMENT_OVERDUE|acme-leads|overdue:2027-03-12",
                                 "REPLACEMENT_OVERDUE|acme-leads|overdue:2027-03-16")
    assert (result.alerts.sent.kept, result.alerts.error) == (2, None)
    assert revisions(db_url) == [("acme-leads", "2027-03", 1, 18, Decimal("810.00"))]

    again = bill_statement(runtime(db_url, date(2027, 4, 6)), StatementRequest("acme-leads", "2027-03"))
    assert again.statement.revision == 2 and again.statement.statement_id != s.statement_id
    assert again.alerts.new == ()  # the same overdue days: nothing new


def test_a_frozen_statement_raises_billing_frozen_once_per_month(db_url):
    ingest(db_url, [lead(1), lead(2, consent_proof="")])  # L-00002: no consent proof, a GDPR breach

    result = bill_statement(runtime(db_url, date(2027, 4, 1)), StatementRequest("acme-leads", "2027-03"))

    assert result.statement.frozen and result.statement.freeze_reasons[-1].startswith("GDPR_BREACH: 1 lead")
    assert "BILLING_FROZEN|acme-leads|2027-03" in result.alerts.new
    with session_scope(db_url) as session:
        [frozen] = [a for a in list_alerts(session) if a.type == "BILLING_FROZEN"]
    assert frozen.facts["amount_due_eur"] == 45.0 and frozen.status == "pending"
    again = bill_statement(runtime(db_url, date(2027, 4, 2)), StatementRequest("acme-leads", "2027-03"))
    assert again.statement.revision == 2 and "BILLING_FROZEN|acme-leads|2027-03" not in again.alerts.new


def test_credits_are_dated_by_the_day_asked_for(db_url):
    # per_lead: L-00003 rejected OUT_OF_TARGET_SIZE is billed; its claim (due 11 March) goes overdue: a credit
    ingest(db_url, [lead(1), lead(2), lead(3, employees="5")], contract=PER_LEAD)

    result = bill_statement(runtime(db_url, date(2027, 9, 1)),
                            StatementRequest("acme-leads", "2027-03", as_of=date(2027, 4, 1)))

    s = result.statement
    assert result.as_of == date(2027, 4, 1)
    assert (s.gross_eur, s.credits_eur, s.amount_due_eur) == (Decimal("135.00"), Decimal("45.00"), Decimal("90.00"))
    assert [(c.lead_id, c.amount_eur) for c in s.credit_lines] == [("L-00003", Decimal("45.00"))]
    with session_scope(db_url) as session:
        claim = session.scalars(select(ReplacementClaim).where(ReplacementClaim.lead_id == "L-00003")).one()
        assert (claim.status, claim.credited_on, claim.credited_statement_id) == ("credited", date(2027, 4, 1),
                                                                                  s.statement_id)


@pytest.mark.parametrize("month", ["2027-13", "2027-W09", "2027-Q1"])
def test_a_month_that_is_not_one_is_refused_before_anything_is_stored(db_url, month):
    ingest(db_url, [lead(1)])
    with pytest.raises(BadPeriod, match=f"'{month}' is not a month like 2027-03"):
        bill_statement(runtime(db_url, date(2027, 4, 1)), StatementRequest("acme-leads", month))
    with pytest.raises(BadPeriod):
        close_month(runtime(db_url, date(2027, 4, 1)), CloseMonthRequest(month=month))
    assert revisions(db_url) == []


def test_closing_a_month_bills_every_supplier_with_a_contract_in_force(db_url, tmp_path):
    ingest(db_url, [lead(1), lead(2), lead(3, employees="1")])
    ingest(db_url, [lead(10)], contract=make_contract_file(**BETA), name="beta.csv")

    result = close_month(runtime(db_url, date(2027, 4, 2), tmp_path), CloseMonthRequest())

    assert (result.month, result.as_of, result.failed_suppliers) == ("2027-03", date(2027, 4, 2), [])
    acme, beta = result.suppliers
    assert (acme.supplier_id, acme.statement.billable_units, acme.statement.amount_due_eur) == (
        "acme-leads", 2, Decimal("90.00"))
    assert (beta.supplier_id, beta.statement.billable_units, beta.statement.amount_due_eur) == (
        "beta-leads", 1, Decimal("45.00"))
    assert acme.report == tmp_path / "reports" / "statement-acme-leads-2027-03-r1.html" and acme.report.is_file()
    assert "90,00 €" in acme.report.read_text(encoding="utf-8")
    assert beta.report == tmp_path / "reports" / "statement-beta-leads-2027-03-r1.html" and beta.report.is_file()
    assert acme.alerts.error is None and beta.alerts.error is None
    assert revisions(db_url) == [("acme-leads", "2027-03", 1, 2, Decimal("90.00")),
                                 ("beta-leads", "2027-03", 1, 1, Decimal("45.00"))]

    # a supplier whose contract starts after the month is not billed for it
    february = close_month(runtime(db_url, date(2027, 5, 2), tmp_path), CloseMonthRequest(month="2027-02"))
    with session_scope(db_url) as session:
        session.execute(update(ContractVersion).where(ContractVersion.supplier_id == "beta-leads")
                        .values(effective_from=date(2027, 4, 1)))
    late = close_month(runtime(db_url, date(2027, 5, 2), tmp_path), CloseMonthRequest(month="2027-03"))
    assert [s.supplier_id for s in february.suppliers] == ["acme-leads", "beta-leads"]
    assert [s.supplier_id for s in late.suppliers] == ["acme-leads"]


def test_a_supplier_that_fails_is_reported_and_the_others_are_billed(db_url, tmp_path):
    ingest(db_url, [lead(1), lead(2)])
    ingest(db_url, [lead(10)], contract=make_contract_file(**BETA), name="beta.csv")
    with session_scope(db_url) as session:  # beta's stored contract no longer reads as a contract
        session.execute(update(ContractVersion).where(ContractVersion.supplier_id == "beta-leads")
                        .values(content="supplier: [not, a, contract"))

    result = close_month(runtime(db_url, date(2027, 4, 2), tmp_path), CloseMonthRequest())

    assert result.failed_suppliers == ["beta-leads"]
    acme, beta = result.suppliers
    assert acme.statement.billable_units == 2 and acme.report.is_file() and not acme.failed
    assert beta.statement is None and beta.report is None and beta.error.startswith("ContractError")
    assert revisions(db_url) == [("acme-leads", "2027-03", 1, 2, Decimal("90.00"))]


def test_a_report_that_cannot_be_written_keeps_the_statement(db_url, tmp_path):
    ingest(db_url, [lead(1), lead(2)])
    (tmp_path / "reports").write_text("a file where the reports folder should be", encoding="utf-8")

    result = close_month(runtime(db_url, date(2027, 4, 2), tmp_path), CloseMonthRequest())

    [acme] = result.suppliers
    assert result.failed_suppliers == ["acme-leads"]
    assert acme.statement.revision == 1 and acme.report is None and acme.report_error is not None
    assert acme.alerts is not None and acme.alerts.error is None
    assert revisions(db_url) == [("acme-leads", "2027-03", 1, 2, Decimal("90.00"))]


def test_the_statement_report_is_the_latest_revision(db_url, tmp_path):
    ingest(db_url, [lead(1), lead(2)])
    rt = runtime(db_url, date(2027, 4, 2), tmp_path)
    with pytest.raises(LookupError, match="no statement for acme-leads in 2027-03"):
        statement_report(rt, StatementReportRequest("acme-leads", "2027-03"))
    bill_statement(rt, StatementRequest("acme-leads", "2027-03"))
    bill_statement(rt, StatementRequest("acme-leads", "2027-03"))

    written = statement_report(rt, StatementReportRequest("acme-leads", "2027-03"))

    assert written.statement.revision == 2 and written.statement.amount_due_eur == Decimal("90.00")
    assert written.path == tmp_path / "reports" / "statement-acme-leads-2027-03-r2.html"
    assert "02/04/2027" in written.path.read_text(encoding="utf-8")  # dated by the runtime's clock
