"""Who decided, and when, for every human decision (docs/governance.md, "Audit trail"): contests, erasures and
objections, statement computations, releases and pilot decisions; shown in the person's access export and
in the quarterly review's decision log. SQLite and PostgreSQL (the ``db_url`` fixture)."""

from datetime import date, datetime
from html import unescape

from factories import ingest, lead, make_contract_file, outcomes_csv, service_runtime
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.models.db import session_scope
from leadgov.models.pilot import record_decision
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.gdpr import PersonRequest, erase_person, export_person, object_for_person
from leadgov.services.outcomes import ContestRequest, OutcomesImportRequest, contest, import_outcomes
from leadgov.services.release import ReleaseRequest, release_statement
from leadgov.services.review import ReviewRequest, review_report

CONTRACT = make_contract_file(**{"replacement.max_replacement_share": 1.0, "billing.model": "per_lead"})
EMAIL = "camille.martin2@nexalog.fr"  # lead(2)'s email, as the factory writes it


def runtime(db_url, day: date, tmp_path=None, actor: str = "jdupont"):
    """A runtime on ``db_url`` whose clock says ``day`` and whose user is ``actor``, without Slack."""
    return service_runtime(db_url, day, tmp_path, actor=actor)


def exported_events(db_url, day: date) -> list[dict]:
    export = export_person(runtime(db_url, day), PersonRequest(emails=(EMAIL,)))
    return [event for found in export.leads for event in found["outcome_events"]]


def test_a_contest_keeps_who_recorded_it_and_the_access_export_shows_it(db_url, tmp_path):
    ingest(db_url, [lead(1), lead(2), lead(3)], contract=CONTRACT)
    assert lead(2)["email"] == EMAIL
    contest(runtime(db_url, date(2027, 3, 5)), ContestRequest("L-00002", "acme-leads", "WRONG_NUMBER",
                                                              at="2027-03-05T10:00", by="Claire Martin"))
    export = tmp_path / "outcomes.csv"
    export.write_bytes(outcomes_csv([{"lead_id": "L-00002", "event": "call_attempt", "at": "2027-03-04 09:00"}]))
    import_outcomes(runtime(db_url, date(2027, 3, 6), actor="flow run brave-otter"), OutcomesImportRequest(export))

    events = exported_events(db_url, date(2027, 3, 6))
    assert [(e["event"], e["recorded_by"]) for e in events] == [("call_attempt", "flow run brave-otter"),
                                                                ("contest", "Claire Martin")]
    # a contest typed without --by is the command's user's
    contest(runtime(db_url, date(2027, 3, 5)), ContestRequest("L-00003", "acme-leads", "UNREACHABLE",
                                                              at="2027-03-05T11:00"))
    with session_scope(db_url) as session:
        from sqlalchemy import select

        from leadgov.models import OutcomeEvent

        assert session.scalar(select(OutcomeEvent.recorded_by).where(OutcomeEvent.lead_id == "L-00003")) == "jdupont"


def test_an_objection_then_an_erasure_keep_who_asked_last_and_when(db_url):
    ingest(db_url, [lead(2)], contract=CONTRACT)
    object_for_person(runtime(db_url, date(2027, 3, 10)), PersonRequest(emails=(EMAIL,), by="DPO Lefèvre"))
    status = export_person(runtime(db_url, date(2027, 3, 11)), PersonRequest(emails=(EMAIL,))).suppression
    assert [(s.reason, s.requested_by, s.requested_at[:10]) for s in status if s.kind == "email"] == [
        ("objected", "DPO Lefèvre", "2027-03-10")]  # the clock's day, kept in UTC

    erase_person(runtime(db_url, date(2027, 3, 20), actor="asmith"), PersonRequest(emails=(EMAIL,)))
    status = export_person(runtime(db_url, date(2027, 3, 21)), PersonRequest(emails=(EMAIL,))).suppression
    assert [(s.reason, s.requested_by, s.requested_at[:10]) for s in status if s.kind == "email"] == [
        ("erased", "asmith", "2027-03-20")]


def test_the_gdpr_and_contest_commands_take_who_decides(db_url):
    ingest(db_url, [lead(1), lead(2)], contract=CONTRACT)
    runner = CliRunner()
    contested = runner.invoke(app, ["contest", "L-00001", "--supplier", "acme-leads", "--reason", "WRONG_NUMBER",
                                    "--at", "2027-03-05T10:00", "--by", "Claire Martin", "--db", db_url])
    assert contested.exit_code == 0, contested.output
    objected = runner.invoke(app, ["gdpr", "object", "--email", EMAIL, "--by", "DPO Lefèvre", "--db", db_url])
    assert objected.exit_code == 0, objected.output
    with session_scope(db_url) as session:
        from sqlalchemy import select

        from leadgov.models import OutcomeEvent, SuppressionEntry

        assert session.scalar(select(OutcomeEvent.recorded_by)) == "Claire Martin"
        assert session.scalars(select(SuppressionEntry.requested_by)).all() == ["DPO Lefèvre"] * 2  # email, phone


def test_the_decision_log_names_who_recomputed_released_and_decided(db_url, tmp_path):
    """A month computed, recomputed (amount changed) by another person, frozen and released, a pilot
    decision: the review's decision log names each one's author; the release is not a recomputation."""
    ingest(db_url, [lead(1), lead(2, consent_at=None)], contract=CONTRACT)  # NO_CONSENT: the month is frozen
    bill_statement(runtime(db_url, date(2027, 4, 1), tmp_path, actor="compta"), StatementRequest("acme-leads",
                                                                                                "2027-03"))
    ingest(db_url, [lead(3, collected_at="2027-03-19 10:00", consent_at="2027-03-19 10:00")], day=date(2027, 3, 20),
           contract=CONTRACT, name="late.csv")
    bill_statement(runtime(db_url, date(2027, 4, 2), tmp_path, actor="flow run calm-heron"),
                   StatementRequest("acme-leads", "2027-03"))
    release_statement(runtime(db_url, date(2027, 4, 3), tmp_path),
                      ReleaseRequest("acme-leads", "2027-03", released_by="Comité achats", comment="consent proven"))
    with session_scope(db_url) as session:
        record_decision(session, supplier_id="acme-leads", verdict="GO", decision="approve", comment="fine",
                        decided_by="Léa Owner", decided_at=datetime(2027, 3, 31, 9))

    written = review_report(runtime(db_url, date(2027, 4, 20), tmp_path), ReviewRequest("2027-Q1"))
    acme = written.review.suppliers[0]
    assert [(r.month, r.revision, r.computed_by, r.amount_changed) for r in acme.recomputations] == [
        ("2027-03", 2, "flow run calm-heron", True)]
    assert [d.decided_by for d in acme.pilot_decisions] == ["Léa Owner"]
    log = unescape(written.path.read_text(encoding="utf-8")).split("Journal des décisions")[1]
    assert "Relevé mars 2027 recalculé par flow run calm-heron (révision 2) (montant dû modifié)" in log
    assert "libéré par Comité achats (révision 3)" in log
    assert "par Léa Owner" in log
