"""The outcomes services on a real database (SQLite and PostgreSQL), with a pinned clock and no
Slack (alerts stay in the outbox, counted as kept): ``import_outcomes`` and ``contest``."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from factories import ingest, lead, outcomes_csv, service_runtime
from sqlalchemy import func, select

from leadgov.errors import Refused
from leadgov.models import OutcomeEvent, ReplacementClaim
from leadgov.models.db import session_scope
from leadgov.models.statuses import ClaimStatus
from leadgov.reading import UnreadableFile
from leadgov.services.outcomes import ContestRequest, OutcomesImportRequest, contest, import_outcomes

SUPPLIER = "acme-leads"


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


def count(db_url, model) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model))


def export(tmp_path, rows):
    path = tmp_path / "outcomes.csv"
    path.write_bytes(outcomes_csv(rows))
    return path


# --- import_outcomes ---------------------------------------------------------------------------

def test_import_stores_each_event_once_lists_refusals_and_raises_the_contests_alerts(db_url, tmp_path):
    ingest(db_url, [lead(1), lead(2), lead(3)])
    path = export(tmp_path, [
        {"lead_id": "L-00001", "event": "call_attempt", "at": "2027-03-02 10:00"},
        {"lead_id": "L-00099", "event": "reached", "at": "2027-03-02 10:00"},
        {"lead_id": "L-00002", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "NO_CONSENT_ON_CALL"},
    ])
    rt = runtime(db_url, date(2027, 3, 5))

    result = import_outcomes(rt, OutcomesImportRequest(path))

    imported = result.imported
    assert (result.path, imported.source) == (path, str(path))
    assert (imported.rows, imported.stored, imported.duplicated, imported.refused, imported.contests) == (3, 2, 0, 1, 1)
    assert [(r.line, r.rule) for r in imported.refusals] == [(3, "UNKNOWN_LEAD")]
    assert imported.claims.opened == 1 and count(db_url, ReplacementClaim) == 1
    assert result.alerts.new == (f"GDPR_BREACH|{SUPPLIER}|contest:L-00002",)
    assert (result.alerts.sent.kept, result.alerts.error) == (1, None)  # sent through the runtime's notifier

    again = import_outcomes(rt, OutcomesImportRequest(path))
    assert (again.imported.stored, again.imported.duplicated, again.imported.refused) == (0, 2, 1)
    assert again.alerts.new == () and count(db_url, OutcomeEvent) == 2


def test_import_refuses_a_missing_or_too_large_export_whole(db_url, tmp_path):
    ingest(db_url, [lead(1)])
    with pytest.raises(UnreadableFile, match="absent.csv: no such file"):
        import_outcomes(runtime(db_url, date(2027, 3, 5)), OutcomesImportRequest(tmp_path / "absent.csv"))
    path = export(tmp_path, [{"lead_id": "L-00001", "event": "call_attempt", "at": "2027-03-02 10:00"}])
    small = runtime(db_url, date(2027, 3, 5), max_file_bytes=path.stat().st_size - 1)
    with pytest.raises(UnreadableFile, match="more than the .*-byte limit"):
        import_outcomes(small, OutcomesImportRequest(path))
    assert count(db_url, OutcomeEvent) == 0


# --- contest -----------------------------------------------------------------------------------

def test_contest_opens_a_claim_once_then_is_a_duplicate(db_url):
    ingest(db_url, [lead(i) for i in range(1, 21)])
    rt = runtime(db_url, date(2027, 3, 5))
    request = ContestRequest("L-00001", SUPPLIER, "wrong_number", "standard", "2027-03-05T10:00")

    result = contest(rt, request)

    assert (result.lead_id, result.supplier_id, result.reason, result.duplicated) == (
        "L-00001", SUPPLIER, "WRONG_NUMBER", False)
    assert result.claim is ClaimStatus.OPEN and result.alerts.error is None
    with session_scope(db_url) as session:
        event = session.scalars(select(OutcomeEvent)).one()
        assert (event.contest_reason, event.note, event.source) == ("WRONG_NUMBER", "standard", "leadgov contest")

    again = contest(rt, request)
    assert (again.duplicated, again.claim, again.alerts.new) == (True, None, ())
    assert count(db_url, OutcomeEvent) == 1 and count(db_url, ReplacementClaim) == 1


def test_contest_over_the_monthly_cap_is_recorded_not_owed(db_url):
    ingest(db_url, [lead(i) for i in range(1, 5)])  # ceil(0.2 x 4) = 1 claim owed in March
    rt = runtime(db_url, date(2027, 3, 5))
    assert contest(rt, ContestRequest("L-00001", SUPPLIER, "WRONG_NUMBER", at="2027-03-05T10:00")).claim \
        is ClaimStatus.OPEN
    assert contest(rt, ContestRequest("L-00002", SUPPLIER, "WRONG_NUMBER", at="2027-03-05T10:00")).claim \
        is ClaimStatus.NOT_OWED_CAP


def test_contest_at_defaults_to_the_clocks_now(db_url):
    ingest(db_url, [lead(1), lead(2)])
    contest(runtime(db_url, date(2027, 3, 5)), ContestRequest("L-00001", SUPPLIER, "WRONG_NUMBER"))
    with session_scope(db_url) as session:
        stored = session.scalars(select(OutcomeEvent.at)).one()
    # the clock's 09:00 in Paris, stored in UTC
    assert stored == datetime(2027, 3, 5, 9, tzinfo=ZoneInfo("Europe/Paris")).astimezone(ZoneInfo("UTC")).replace(
        tzinfo=None)
    # past the contract's window (7 days from 1 March) by the clock: refused, nothing stored
    with pytest.raises(Refused, match=r"contest refused \(CONTEST_LATE\)"):
        contest(runtime(db_url, date(2027, 3, 9)), ContestRequest("L-00002", SUPPLIER, "WRONG_NUMBER"))
    assert count(db_url, OutcomeEvent) == 1


@pytest.mark.parametrize(("lead_id", "reason", "at", "rule"), [
    ("L-00001", "TOO_EXPENSIVE", "2027-03-05T10:00", "CONTEST_REASON"),
    ("L-00099", "WRONG_NUMBER", "2027-03-05T10:00", "UNKNOWN_LEAD"),
    ("L-00001", "WRONG_NUMBER", "next tuesday", "INVALID_AT"),
])
def test_refused_contest_stores_nothing(db_url, lead_id, reason, at, rule):
    ingest(db_url, [lead(1), lead(2)])
    with pytest.raises(Refused, match=rf"contest refused \({rule}\)"):
        contest(runtime(db_url, date(2027, 3, 5)), ContestRequest(lead_id, SUPPLIER, reason, at=at))
    assert count(db_url, OutcomeEvent) == 0 and count(db_url, ReplacementClaim) == 0
