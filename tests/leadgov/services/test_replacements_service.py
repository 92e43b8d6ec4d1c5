"""The daily replacement check as a service, on a real database with a pinned clock and no Slack."""

from datetime import date

from factories import ingest, lead, service_runtime
from sqlalchemy import select

from leadgov.models import ReplacementClaim
from leadgov.models.db import session_scope
from leadgov.services.replacements import OverdueClaim, ReplacementCheckRequest, check_replacements

OVERDUE = "REPLACEMENT_OVERDUE|acme-leads|overdue:2027-03-12"


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


def statuses(db_url) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        return [tuple(r) for r in session.execute(select(ReplacementClaim.lead_id, ReplacementClaim.status)
                                                  .order_by(ReplacementClaim.id))]


def test_claims_past_their_deadline_go_overdue_by_the_clock_with_one_alert(db_url):
    # 10 leads, 2 rejected: two claims (within the 20 % cap) due on 11 March
    ingest(db_url, [lead(i, email="bad") if i in (2, 3) else lead(i) for i in range(1, 11)])

    on_deadline = check_replacements(runtime(db_url, date(2027, 3, 11)), ReplacementCheckRequest())
    assert (on_deadline.as_of, on_deadline.claims, on_deadline.alerts.new) == (date(2027, 3, 11), (), ())
    assert statuses(db_url) == [("L-00002", "open"), ("L-00003", "open")]

    result = check_replacements(runtime(db_url, date(2027, 3, 12)), ReplacementCheckRequest())

    assert result.as_of == date(2027, 3, 12) and result.overdue == 2
    assert [(c.supplier_id, c.lead_id, c.due_on, c.overdue_on) for c in result.claims] == [
        ("acme-leads", "L-00002", date(2027, 3, 11), date(2027, 3, 12)),
        ("acme-leads", "L-00003", date(2027, 3, 11), date(2027, 3, 12))]
    assert all(isinstance(c, OverdueClaim) and isinstance(c.claim_id, int) for c in result.claims)
    assert result.by_supplier() == {"acme-leads": 2}
    assert result.alerts.new == (OVERDUE,) and result.alerts.sent.kept == 1
    assert statuses(db_url) == [("L-00002", "overdue"), ("L-00003", "overdue")]

    again = check_replacements(runtime(db_url, date(2027, 3, 13)), ReplacementCheckRequest())
    assert (again.claims, again.alerts.new) == ((), ())


def test_the_day_asked_for_wins_over_the_clock_for_the_claims_and_the_alerts(db_url):
    ingest(db_url, [lead(1), lead(2, email="bad")])
    # the clock is months later: the check of 12 March still moves the claim and alerts about it
    # (the alert's look-back counts from the day of the check, not from the clock)
    result = check_replacements(runtime(db_url, date(2027, 9, 1)), ReplacementCheckRequest(as_of=date(2027, 3, 12)))
    assert result.as_of == date(2027, 3, 12)
    assert [c.overdue_on for c in result.claims] == [date(2027, 3, 12)]
    assert result.alerts.new == (OVERDUE,)
