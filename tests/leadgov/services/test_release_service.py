"""Releasing a frozen statement as a service, on a real database with a pinned clock and no Slack:
a new revision, payable, with who, when and why; the refusals; what a recomputation does to a release."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from factories import HMAC_KEY, ingest, lead, service_runtime
from sqlalchemy import select

from leadgov.config.settings import Settings
from leadgov.errors import Refused
from leadgov.models import BillingLine, BillingStatement
from leadgov.models.db import session_scope
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.release import ReleaseRequest, latest_statement, release_statement
from leadgov.services.review import ReviewRequest, review_report
from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

MONTH = "2027-03"


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


def bill(db_url, day: date):
    return bill_statement(runtime(db_url, day), StatementRequest("acme-leads", MONTH)).statement


def release(db_url, day: date = date(2027, 4, 10), comment: str = "consent proofs received on 9 April",
            by: str = "Claire Martin"):
    return release_statement(runtime(db_url, day), ReleaseRequest("acme-leads", MONTH, by, comment))


def stored(db_url) -> list[tuple]:
    """(revision, frozen, released_by, released_at, release_comment, lines) of every revision, in order."""
    with session_scope(db_url) as session:
        rows = session.scalars(select(BillingStatement).order_by(BillingStatement.revision)).all()
        return [(s.revision, s.frozen, s.released_by, s.released_at, s.release_comment,
                 len(session.scalars(select(BillingLine.id).where(BillingLine.statement_id == s.id)).all()))
                for s in rows]


def frozen_month(db_url):
    """Two leads on 1 March, L-00002 without a consent proof: a GDPR breach freezes March."""
    ingest(db_url, [lead(1), lead(2, consent_proof="")])
    statement = bill(db_url, date(2027, 4, 1))
    assert statement.frozen and not statement.payable and not statement.released
    return statement


def test_a_released_statement_is_a_new_payable_revision_with_the_same_amounts(db_url):
    frozen = frozen_month(db_url)

    result = release(db_url)

    s = result.statement
    assert (result.released_revision, s.revision) == (1, 2)
    assert s.released and s.payable and s.frozen  # the freeze held; the committee released it
    assert s.freeze_reasons == frozen.freeze_reasons
    assert (s.released_by, s.release_comment) == ("Claire Martin", "consent proofs received on 9 April")
    assert s.released_at == datetime(2027, 4, 10, 7, 0, tzinfo=UTC)  # the clock's 09:00 in Paris
    assert (s.billable_units, s.gross_eur, s.credits_eur, s.amount_due_eur) == (
        frozen.billable_units, frozen.gross_eur, frozen.credits_eur, frozen.amount_due_eur)
    assert s.billable_lead_ids == frozen.billable_lead_ids and s.credit_lines == frozen.credit_lines
    # the frozen revision is kept as it was
    assert stored(db_url) == [(1, True, None, None, None, 1),
                              (2, True, "Claire Martin", datetime(2027, 4, 10, 7, 0),
                               "consent proofs received on 9 April", 1)]
    assert latest_statement(runtime(db_url, date(2027, 4, 10)), "acme-leads", MONTH).revision == 2


@pytest.mark.parametrize("comment", ["", "   "])
def test_a_release_without_a_comment_is_refused(db_url, comment):
    frozen_month(db_url)
    with pytest.raises(Refused, match="a release needs a comment"):
        release(db_url, comment=comment)
    with pytest.raises(Refused, match=r"needs who decides it \(--by\)"):
        release(db_url, by=" ")
    assert [r[0] for r in stored(db_url)] == [1]


def test_a_statement_that_is_not_frozen_or_never_billed_is_refused(db_url):
    ingest(db_url, [lead(1)])
    with pytest.raises(Refused, match="no statement for acme-leads in 2027-03: run `leadgov billing statement`"):
        release(db_url)
    bill(db_url, date(2027, 4, 1))
    with pytest.raises(Refused, match="acme-leads 2027-03 revision 1 is not frozen: it is payable"):
        release(db_url)
    with pytest.raises(Refused, match="'2027-13' is not a month like 2027-03"):
        release_statement(runtime(db_url, date(2027, 4, 10)), ReleaseRequest("acme-leads", "2027-13", "C", "ok"))
    assert [r[0] for r in stored(db_url)] == [1]


def test_a_release_is_not_stored_twice(db_url):
    frozen_month(db_url)
    release(db_url)
    with pytest.raises(Refused, match=r"revision 2 is already released \(by Claire Martin on 2027-04-10\): "
                                      "nothing stored"):
        release(db_url, date(2027, 4, 11), comment="again")
    assert [r[0] for r in stored(db_url)] == [1, 2]


def test_a_recomputation_keeps_the_release_only_while_nothing_changed(db_url):
    frozen_month(db_url)
    release(db_url)

    # recomputed with the same amounts and the same freeze reasons: still released, payable, no new alert
    same = bill_statement(runtime(db_url, date(2027, 4, 12)), StatementRequest("acme-leads", MONTH))
    assert same.statement.revision == 3 and same.statement.released and same.statement.payable
    assert (same.statement.released_by, same.statement.release_comment) == (
        "Claire Martin", "consent proofs received on 9 April")
    assert not any(key.startswith("BILLING_FROZEN") for key in same.alerts.new)

    # a late lead of March changes the amounts: frozen again, it needs a new release
    ingest(db_url, [lead(3, collected_at="2027-03-19 10:00")], day=date(2027, 3, 20), name="late.csv")
    changed = bill(db_url, date(2027, 4, 13))
    assert changed.revision == 4 and changed.frozen and not changed.released and not changed.payable
    assert changed.amount_due_eur != same.statement.amount_due_eur
    again = release(db_url, date(2027, 4, 14), comment="checked the late lead too")
    assert again.statement.revision == 5 and again.statement.payable
    assert again.statement.amount_due_eur == changed.amount_due_eur == Decimal("90.00")


@pytest.mark.parametrize(("locale", "label"), [("en", "Statement Mar 2027 released by Claire Martin (revision 2): "),
                                                ("fr", "Relevé mars 2027 libéré par Claire Martin (révision 2) : ")])
def test_the_quarterly_review_logs_the_release_and_no_longer_counts_the_month_frozen(db_url, tmp_path, locale,
                                                                                     label):
    frozen_month(db_url)
    day = date(2027, 4, 10)
    before = review_report(runtime(db_url, day), ReviewRequest("2027-Q1", out_dir=tmp_path)).review.suppliers[0]
    assert [f.month for f in before.amounts.frozen_months] == [MONTH] and before.releases == ()
    release(db_url)
    bill(db_url, date(2027, 4, 12))  # recomputed unchanged: the same release, logged once

    settings = Settings(_env_file=None, database_url=db_url, hmac_key=HMAC_KEY, slack_bot_token=None,
                        slack_webhook_url=None, locale=locale)
    rt = build_runtime(settings, clock=FixedClock(day), notifier=OutboxNotifier(None))
    report = review_report(rt, ReviewRequest("2027-Q1", out_dir=tmp_path))

    supplier = report.review.suppliers[0]
    assert [(r.at, r.month, r.revision, r.released_by, r.comment) for r in supplier.releases] == [
        (date(2027, 4, 10), MONTH, 2, "Claire Martin", "consent proofs received on 9 April")]
    # not payable any more, but the month was frozen (the recommendation's frozen_months rule still counts it)
    assert supplier.amounts.frozen == Decimal("0.00") and [f.month for f in supplier.amounts.frozen_months] == [MONTH]
    html = report.path.read_text(encoding="utf-8")
    assert f"{label}consent proofs received on 9 April" in html


def test_the_statement_report_of_a_released_revision_says_who_released_it(db_url, tmp_path):
    from leadgov.services.billing import StatementReportRequest, statement_report

    frozen_month(db_url)
    frozen = statement_report(runtime(db_url, date(2027, 4, 2)), StatementReportRequest("acme-leads", MONTH, tmp_path))
    assert "GELÉ" in frozen.path.read_text(encoding="utf-8")
    release(db_url)
    report = statement_report(runtime(db_url, date(2027, 4, 11)), StatementReportRequest("acme-leads", MONTH, tmp_path))
    html = report.path.read_text(encoding="utf-8")
    assert "Libéré par Claire Martin le" in html and "consent proofs received on 9 April" in html
    assert "GELÉ" not in html
