"""The quarterly review as a service, on a real database with a pinned clock and no Slack: its figures,
its report, and the committee's alert on the right channel, once per quarter."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from factories import ingest, lead, make_contract_file, outcomes_csv, service_runtime
from sqlalchemy import select

from leadgov.models import OutboxAlert
from leadgov.models.db import session_scope
from leadgov.models.pilot import record_decision
from leadgov.outcomes import import_outcomes
from leadgov.periods import BadPeriod
from leadgov.review import DEFAULT_COMMITTEE_CHANNEL, committee_of
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.review import ReviewRequest, quarterly_review, review_report

TZ = "Europe/Paris"
BETA = {"supplier.id": "beta-leads", "supplier.name": "Beta Leads", "contract_id": "BETA-2027-01",
        "alerts.committee_channel": "#beta-committee"}
ACME = make_contract_file(**{"alerts.committee_channel": "#board", "replacement.max_replacement_share": 1.0})


def runtime(db_url, day: date, tmp_path, locale: str = "fr"):
    """A runtime on ``db_url`` whose clock says ``day``, without Slack, writing under ``tmp_path``."""
    return service_runtime(db_url, day, tmp_path, locale=locale)


def review_alerts(db_url) -> list[tuple[str, str, str]]:
    with session_scope(db_url) as session:
        return [tuple(r) for r in session.execute(select(OutboxAlert.key, OutboxAlert.channel, OutboxAlert.status)
                                                  .where(OutboxAlert.type == "QUARTERLY_REVIEW"))]


@pytest.fixture
def quarter(db_url, tmp_path):
    """ACME: 10 leads on 1 March (2 rejected), one contested, a pilot decision, March billed;
    Beta: 4 leads on 1 February."""
    ingest(db_url, [lead(i, email="bad") if i in (9, 10) else lead(i) for i in range(1, 11)], contract=ACME)
    ingest(db_url, [lead(i) for i in range(20, 24)], day=date(2027, 2, 1), contract=make_contract_file(**BETA),
           name="beta.csv")
    with session_scope(db_url) as session:
        import_outcomes(session, outcomes_csv([{"lead_id": "L-00001", "event": "contest", "at": "2027-03-04 10:00",
                                                "contest_reason": "WRONG_NUMBER"}]), "outcomes.csv", TZ)
        record_decision(session, supplier_id="acme-leads", verdict="GO", decision="approve", comment="fine",
                        decided_by="owner", decided_at=datetime(2027, 3, 31, 9))
    bill_statement(runtime(db_url, date(2027, 4, 1), tmp_path), StatementRequest("acme-leads", "2027-03"))


def test_the_review_of_the_previous_quarter_is_written_and_told_to_the_committee(db_url, quarter, tmp_path):
    result = quarterly_review(runtime(db_url, date(2027, 4, 20), tmp_path), ReviewRequest())

    assert (result.quarter, result.as_of) == ("2027-Q1", date(2027, 4, 20))  # defaults from the clock
    assert result.report_path == tmp_path / "reports" / "review-2027-Q1.html" and result.report_path.is_file()
    assert [(s.supplier_id, s.name, s.leads_delivered) for s in result.suppliers] == [
        ("acme-leads", "ACME Leads SAS", 10), ("beta-leads", "Beta Leads", 4)]
    # the committee channel of the first reviewed supplier's contract
    assert (result.alerts.new, result.alerts.error, result.alerts.sent.sent) == (
        ("QUARTERLY_REVIEW|all|2027-Q1",), None, 0)  # kept in the outbox: no Slack
    assert review_alerts(db_url) == [("QUARTERLY_REVIEW|all|2027-Q1", "#board", "pending")]

    again = quarterly_review(runtime(db_url, date(2027, 4, 21), tmp_path), ReviewRequest(quarter="2027-Q1"))
    assert again.alerts.new == () and len(review_alerts(db_url)) == 1  # once per quarter


def test_the_review_data_per_supplier(db_url, quarter, tmp_path):
    written = review_report(runtime(db_url, date(2027, 4, 20), tmp_path), ReviewRequest("2027-Q1"))

    review = written.review
    assert (review.quarter.label, review.as_of, review.maturity_days) == ("2027-Q1", date(2027, 4, 20), 30)
    # a week is judged on conversion 30 days after its Sunday: W12 (ends 28 March) is not mature on 20 April
    assert review.young_weeks == ("2027-W12", "2027-W13")
    acme, beta = review.suppliers
    assert (acme.kpis.delivered, acme.kpis.rejected, acme.kpis.contested) == (10, 2, 1)
    assert acme.kpis.reject_rate == pytest.approx(3 / 10)
    assert acme.conversion.delivered == 10  # W09 (1 March) is mature
    # March billed: 7 units (10 - 2 rejected - 1 contested) x 45.00, frozen on its data errors (2 of 10 > 10 %)
    assert (acme.amounts.billed, acme.amounts.frozen, acme.amounts.credited) == (
        Decimal("315.00"), Decimal("315.00"), Decimal("0.00"))
    assert [(m.month, m.revision) for m in acme.amounts.frozen_months] == [("2027-03", 1)]
    assert acme.amounts.frozen_months[0].reasons[0].startswith("DATA_ERROR_RATE")
    # 30 % rejected is exactly 2 x 15 % (not an exit): renegotiate; the frozen month points to the billing model
    assert acme.recommendation.action == "renegotiate"
    assert acme.recommendation.clauses == ["criteria", "volume", "replacement_share", "billing_model"]
    assert [(c.reason, c.count, c.first, c.last) for c in acme.contests] == [
        ("WRONG_NUMBER", 1, date(2027, 3, 4), date(2027, 3, 4))]
    assert [(d.at, d.decision) for d in acme.pilot_decisions] == [(date(2027, 3, 31), "approve")]
    assert len(acme.weekly) == 13 and [k.delivered for k in acme.weekly][8] == 10  # W09
    assert dict(acme.charts.delivered)["W09"] == 10 and acme.charts.reject_rates[8] == ("W09", pytest.approx(0.3))
    assert acme.charts.max_reject_rate == 0.15 and acme.funnel["delivered"] == 10
    assert (beta.kpis.delivered, beta.amounts.billed) == (4, Decimal("0.00"))
    assert review_alerts(db_url) == []  # the report alone tells nobody


def test_a_quarter_that_is_not_one_is_refused(db_url, tmp_path):
    with pytest.raises(BadPeriod, match="'2027-03' is not a quarter like 2027-Q1"):
        quarterly_review(runtime(db_url, date(2027, 4, 20), tmp_path), ReviewRequest(quarter="2027-03"))
    assert not (tmp_path / "reports").exists() and review_alerts(db_url) == []


def test_the_committee_channel_without_a_reviewed_supplier(db_url, tmp_path):
    with session_scope(db_url) as session:
        assert committee_of(session, [], date(2027, 3, 31)).channel == DEFAULT_COMMITTEE_CHANNEL
    ingest(db_url, [lead(1)], contract=make_contract_file(**BETA))

    # nobody delivered in Q2: the review is empty, told on the channel of a stored contract
    result = quarterly_review(runtime(db_url, date(2027, 7, 2), tmp_path), ReviewRequest())

    assert result.quarter == "2027-Q2" and result.suppliers == ()
    assert review_alerts(db_url) == [("QUARTERLY_REVIEW|all|2027-Q2", "#beta-committee", "pending")]


def test_the_decision_log_lists_decisions_and_sums_contests_by_reason_in_the_reports_language(
        db_url, quarter, tmp_path):
    from html import unescape

    with session_scope(db_url) as session:
        import_outcomes(session, outcomes_csv([
            {"lead_id": f"L-0000{n}", "event": "contest", "at": f"2027-03-0{n} 10:00", "contest_reason": reason}
            for n, reason in ((2, "WRONG_NUMBER"), (3, "WRONG_NUMBER"), (4, "UNREACHABLE"))]), "more.csv", TZ)
    written = review_report(runtime(db_url, date(2027, 4, 20), tmp_path), ReviewRequest("2027-Q1"))
    acme = written.review.suppliers[0]
    assert [(c.reason, c.count, c.first, c.last) for c in acme.contests] == [
        ("WRONG_NUMBER", 3, date(2027, 3, 2), date(2027, 3, 4)), ("UNREACHABLE", 1, date(2027, 3, 4), date(2027, 3, 4))]
    assert acme.contract_versions == ()  # ACME's only version was stored today, outside the quarter
    assert acme.rejections == [("INVALID_EMAIL", 2, 1.0)]  # the 2 bad e-mails: all of the rejected

    text = unescape(written.path.read_text(encoding="utf-8"))
    log = text.split("Journal des décisions")[1].split("</section>")[0]
    assert "Décision de pilote : approuver" in log and "approve" not in log
    assert "Contestations, par motif" in log and "numéro erroné" in log and "injoignable" in log
    assert "L-00002" not in log and "L-00003" not in log  # contests are summed, never listed one by one
    assert "Rejets par motif" in text and "Adresse e-mail invalide." in text


def test_a_contract_version_taking_effect_in_the_quarter_is_in_the_decision_log(db_url, quarter, tmp_path):
    amended = make_contract_file(**{"alerts.committee_channel": "#board", "replacement.max_replacement_share": 1.0,
                                    "contract_id": "ACME-2027-02", "supersedes": "ACME-2027-01",
                                    "effective_from": date(2027, 3, 15)})
    ingest(db_url, [lead(i) for i in range(40, 42)], day=date(2027, 3, 16), contract=amended, name="amended.csv")
    written = review_report(runtime(db_url, date(2027, 4, 20), tmp_path), ReviewRequest("2027-Q1"))
    acme = written.review.suppliers[0]
    assert [(v.at, v.contract_id, v.supersedes) for v in acme.contract_versions] == [
        (date(2027, 3, 15), "ACME-2027-02", "ACME-2027-01")]
    assert "Nouvelle version du contrat ACME-2027-02, remplace ACME-2027-01" in written.path.read_text(encoding="utf-8")


def test_one_load_for_a_quarter_and_its_weeks_gives_the_figures_of_one_load_each(db_url, quarter, tmp_path):
    """The review reads a quarter, its mature span and its 13 weeks from one ledger load
    (``supplier_kpis_of``): each figure must be the one a load of that period gives."""
    from datetime import timedelta

    from leadgov.governance import supplier_kpis, supplier_kpis_of
    from leadgov.periods import parse_period
    from leadgov.review import quarter_weeks

    for n, day in enumerate((date(2027, 3, 7), date(2027, 3, 31))):  # a week's last day, the quarter's last day
        ingest(db_url, [lead(60 + 3 * n + i) for i in range(3)], day=day, contract=ACME, name=f"last-day-{n}.csv")
    q1 = parse_period("2027-Q1")
    periods = [q1, parse_period("2027-03"), *quarter_weeks(q1),
               type(q1)("quarter", "2027-Q1 (mature)", q1.start, q1.start - timedelta(days=1))]  # an empty span
    with session_scope(db_url) as session:
        assert supplier_kpis(session, "acme-leads", q1, TZ, date(2027, 4, 20)).contested  # contests go with their leads
        for supplier in ("acme-leads", "beta-leads"):
            one_load = supplier_kpis_of(session, supplier, periods, TZ, date(2027, 4, 20))
            assert one_load == [supplier_kpis(session, supplier, p, TZ, date(2027, 4, 20)) for p in periods]


def test_a_deliverys_kpis_from_its_weeks_ledger_are_those_of_its_own_load(db_url, quarter):
    """After a delivery the alerts load its week once and take the delivery's part from it
    (``Ledger.of_delivery``): each delivery's figures must be the ones a load of the delivery gives."""
    from leadgov.governance import supplier_kpis
    from leadgov.models.delivery import Delivery
    from leadgov.models.ledger_store import load_ledger
    from leadgov.periods import Period, week_of

    ingest(db_url, [lead(40 + i) for i in range(3)] + [lead(50, email="bad")], day=date(2027, 3, 3), contract=ACME,
           name="wednesday.csv")  # the same week as the contested 1 March delivery, a rejected lead of its own
    as_of = date(2027, 4, 20)
    with session_scope(db_url) as session:
        week = load_ledger(session, "acme-leads", week_of(date(2027, 3, 3)), TZ)
        deliveries = session.scalars(select(Delivery.id).where(Delivery.supplier_id == "acme-leads")).all()
        assert len(deliveries) == 2 and len(week.leads) == 14 and len(week.claims) == 4 and len(week.events) == 1
        for delivery_id in deliveries:
            period = Period("delivery", f"delivery:{delivery_id}", delivery_id=delivery_id)
            part = week.of_delivery(delivery_id)
            leads = set(part.leads["lead_pk"])
            assert leads and all(set(frame["lead_pk"]) <= leads for frame in (part.reasons, part.events, part.claims))
            assert supplier_kpis(session, "acme-leads", period, TZ, as_of, ledger=part) == supplier_kpis(
                session, "acme-leads", period, TZ, as_of)
