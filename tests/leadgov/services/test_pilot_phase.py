"""The pilot as a phase of the supplier's life (docs/governance.md, Pilot), on real databases with a
pinned clock: started from a day under a contract version; its cohort from its own start day; the
leads beyond it held (PILOT_HOLD) while it is undecided, billed in the decision's month if approved,
never otherwise; one undecided pilot at a time; a second pilot after renegotiation with its own
cohort, report and alert; and a pilot that is waited for until it matures."""

from datetime import date, timedelta

import pytest
from factories import contract_on_disk, ingest, lead, make_contract_file, service_runtime
from sqlalchemy import select

from leadgov.errors import Refused
from leadgov.models.db import session_scope
from leadgov.models.delivery import Lead
from leadgov.models.pilot import Pilot, pilots
from leadgov.models.supplier import Supplier
from leadgov.services.billing import StatementRequest, bill_statement
from leadgov.services.lead_review import ReviewDecisionRequest, decide_review
from leadgov.services.pilot import (
    MaturityRequest,
    PilotDecisionRequest,
    PilotRequest,
    StartPilotRequest,
    decide_pilot,
    judge_pilot,
    open_pilot,
    start_pilot,
    wait_for_maturity,
)
from leadgov.services.runtime import FixedClock

SUPPLIER = "acme-leads"
START = date(2027, 3, 1)
# pilot.size 3 within 30 days; contests up to 7 days after delivery
PILOT = {"replacement.max_replacement_share": 1.0, "pilot.size": 3, "pilot.max_duration_days": 30,
         "replacement.contest_window_days": 7}
CONTRACT = make_contract_file(**PILOT)
# the renegotiated contract of the second pilot: a new version (a new id) with a larger cohort
RENEGOTIATED = make_contract_file(**{**PILOT, "contract_id": "ACME-2027-02", "pilot.size": 4})


def fresh(n: int, day: date, **overrides) -> dict:
    """A lead collected (and consented) on its delivery day, so it is not STALE on a later day."""
    stamp = f"{day.isoformat()} 08:00"
    return lead(n, collected_at=stamp, consent_at=stamp, **overrides)


runtime = service_runtime  # on db_url, the clock saying day, no Slack (tests/factories.py)


def start(db_url, tmp_path, day: date = START, contract=CONTRACT):
    path = contract_on_disk(tmp_path, contract, name=f"{contract.contract.contract_id}.yaml")
    return start_pilot(runtime(db_url, day, tmp_path), StartPilotRequest(SUPPLIER, day, path, "Léa Owner"))


def flags(db_url) -> dict[str, tuple[str | None, date | None]]:
    """Each lead's (flag, decision day), by lead id."""
    with session_scope(db_url) as session:
        rows = session.execute(select(Lead.lead_id, Lead.flags, Lead.decided_on)).all()
    return {lead_id: (flag, decided) for lead_id, flag, decided in rows}


def billed(db_url, month: str, as_of: date, tmp_path) -> tuple[str, ...]:
    return bill_statement(runtime(db_url, as_of, tmp_path), StatementRequest(SUPPLIER, month)).statement \
        .billable_lead_ids


def decide(db_url, tmp_path, day: date, decision: str):
    rt = runtime(db_url, day, tmp_path)
    judged = judge_pilot(rt, PilotRequest(SUPPLIER))
    return judged, decide_pilot(rt, PilotDecisionRequest(SUPPLIER, judged.verdict, decision, "test", "Léa Owner",
                                                         judged.report_path))


# --- the pilot record ------------------------------------------------------------------------------


def test_a_started_pilot_records_its_contract_version_day_and_size(db_url, tmp_path):
    started = start(db_url, tmp_path)
    assert (started.pilot_id, started.supplier_id, started.contract_id, started.start_day, started.size,
            started.max_duration_days, started.state, started.created_by) == (
        1, SUPPLIER, "ACME-2027-01", START, 3, 30, "running", "Léa Owner")
    with session_scope(db_url) as session:
        assert session.get(Supplier, SUPPLIER).state == "pilot"


def test_a_second_concurrent_pilot_is_refused(db_url, tmp_path):
    start(db_url, tmp_path)
    with pytest.raises(Refused, match="already has an undecided pilot \\(pilot 1, started 2027-03-01, running\\)"):
        start(db_url, tmp_path, day=date(2027, 3, 10))
    # judged but not decided: still undecided
    ingest(db_url, [fresh(n, START) for n in (1, 2, 3)], day=START, contract=CONTRACT)
    judge_pilot(runtime(db_url, date(2027, 3, 9), tmp_path), PilotRequest(SUPPLIER))
    with pytest.raises(Refused, match="pilot 1, started 2027-03-01, judged"):
        start(db_url, tmp_path, day=date(2027, 3, 10))
    # the flow's door follows the undecided pilot instead of starting another
    followed = open_pilot(runtime(db_url, date(2027, 3, 10), tmp_path), StartPilotRequest(SUPPLIER))
    assert (followed.pilot_id, followed.started) == (1, False)
    with session_scope(db_url) as session:
        assert len(pilots(session, SUPPLIER)) == 1


def test_the_database_refuses_a_second_undecided_pilot_too(db_url, tmp_path):
    from sqlalchemy.exc import IntegrityError

    start(db_url, tmp_path)
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        first = session.get_one(Pilot, 1)
        session.add(Pilot(supplier_id=SUPPLIER, contract_version_id=first.contract_version_id, start_day=START,
                          size=3, max_duration_days=30, state="running", created_by="x"))
        session.flush()


# --- PILOT_HOLD --------------------------------------------------------------------------------


def test_leads_beyond_the_cohort_are_held_not_the_cohorts_last(db_url, tmp_path):
    start(db_url, tmp_path)
    # 1 March: a rejected lead and two accepted (the cohort counts every lead: 3 is its last)
    first = ingest(db_url, [fresh(1, START), fresh(2, START, email="bad"), fresh(3, START), fresh(4, START),
                            fresh(5, START, email="bad")], day=START, contract=CONTRACT)
    later = ingest(db_url, [fresh(6, date(2027, 3, 2))], day=date(2027, 3, 2), contract=CONTRACT, name="b.csv")
    found = flags(db_url)
    assert found["L-00003"] == (None, None)                      # the cohort's last lead
    assert found["L-00004"] == ("PILOT_HOLD", None)              # the one after it
    assert found["L-00005"] == (None, None)                      # rejected: nothing to bill, nothing held
    assert found["L-00006"] == ("PILOT_HOLD", None)              # a later delivery, still undecided
    assert {k: v for k, v in found.items() if k in ("L-00001", "L-00002")} == {
        "L-00001": (None, None), "L-00002": (None, None)}
    # the result files say so too
    assert list(first.result.verdicts["flags"].fillna("")) == ["", "", "", "PILOT_HOLD", ""]
    assert list(later.result.verdicts["flags"]) == ["PILOT_HOLD"]


def test_leads_before_the_start_day_or_without_a_pilot_are_not_held(db_url, tmp_path):
    ingest(db_url, [fresh(n, date(2027, 2, 26)) for n in (1, 2, 3, 4)], day=date(2027, 2, 26), contract=CONTRACT)
    start(db_url, tmp_path)
    ingest(db_url, [fresh(n, START) for n in (5, 6, 7, 8)], day=START, contract=CONTRACT, name="b.csv")
    found = flags(db_url)
    assert [found[f"L-{n:05d}"][0] for n in range(1, 9)] == [None] * 7 + ["PILOT_HOLD"]


def test_approval_bills_the_held_leads_in_the_decisions_month(db_url, tmp_path):
    start(db_url, tmp_path)
    ingest(db_url, [fresh(n, START) for n in (1, 2, 3, 4)], day=START, contract=CONTRACT)
    ingest(db_url, [fresh(5, date(2027, 3, 20))], day=date(2027, 3, 20), contract=CONTRACT, name="b.csv")
    assert billed(db_url, "2027-03", date(2027, 4, 1), tmp_path) == ("L-00001", "L-00002", "L-00003")

    _, decided = decide(db_url, tmp_path, date(2027, 4, 2), "approve")

    assert (decided.decision, decided.state, decided.released, decided.pilot_id) == ("approve", "active", 2, 1)
    found = flags(db_url)
    assert found["L-00004"] == found["L-00005"] == ("PILOT_HOLD", date(2027, 4, 2))
    assert billed(db_url, "2027-03", date(2027, 5, 1), tmp_path) == ("L-00001", "L-00002", "L-00003")
    assert billed(db_url, "2027-04", date(2027, 5, 1), tmp_path) == ("L-00004", "L-00005")
    # once decided, nothing is held any more
    ingest(db_url, [fresh(6, date(2027, 4, 5))], day=date(2027, 4, 5), contract=CONTRACT, name="c.csv")
    assert flags(db_url)["L-00006"] == (None, None)


def test_a_lead_accepted_from_review_beyond_the_cohort_is_held_until_the_pilots_approval(db_url, tmp_path):
    """In review at delivery, so not held then; accepted by a person while the pilot is undecided: held
    like a lead accepted at delivery (no decision day of its own), billed in the month of the approval.
    One inside the cohort is billed on its review decision's month."""
    reviewed = make_contract_file(**{**PILOT, "exploitability.review_reasons": ["OUT_OF_TARGET_SIZE"],
                                     "exploitability.review_deadline_days": 10})
    start(db_url, tmp_path, contract=reviewed)
    small = {"employees": "1"}
    ingest(db_url, [fresh(1, START), fresh(2, START, **small), fresh(3, START), fresh(4, START, **small)],
           day=START, contract=reviewed)
    decide_review(runtime(db_url, date(2027, 3, 5), tmp_path),
                  ReviewDecisionRequest(SUPPLIER, ("L-00002", "L-00004"), "accept", "sized by phone", "Léa Owner"))
    found = flags(db_url)
    assert found["L-00002"] == (None, date(2027, 3, 5))         # in the cohort (its 2nd lead): billed now
    assert found["L-00004"] == ("PILOT_HOLD", None)             # beyond it: held
    assert billed(db_url, "2027-03", date(2027, 4, 1), tmp_path) == ("L-00001", "L-00002", "L-00003")

    decide(db_url, tmp_path, date(2027, 4, 2), "approve")
    assert flags(db_url)["L-00004"] == ("PILOT_HOLD", date(2027, 4, 2))
    assert billed(db_url, "2027-04", date(2027, 5, 1), tmp_path) == ("L-00004",)


@pytest.mark.parametrize("decision", ["terminate", "renegotiate"])
def test_held_leads_of_a_pilot_not_approved_are_never_billed(db_url, tmp_path, decision):
    start(db_url, tmp_path)
    ingest(db_url, [fresh(n, START) for n in (1, 2, 3, 4)], day=START, contract=CONTRACT)

    _, decided = decide(db_url, tmp_path, date(2027, 4, 2), decision)

    assert decided.released == 0
    assert flags(db_url)["L-00004"] == ("PILOT_HOLD", None)
    assert billed(db_url, "2027-03", date(2027, 4, 3), tmp_path) == ("L-00001", "L-00002", "L-00003")
    assert billed(db_url, "2027-04", date(2027, 5, 1), tmp_path) == ()


# --- a second pilot --------------------------------------------------------------------------------


def test_a_second_pilot_after_renegotiation_is_judged_on_its_own_cohort(db_url, tmp_path):
    start(db_url, tmp_path)
    # the first pilot: three leads, one rejected (a third of them: reject rate above twice 15 %)
    ingest(db_url, [fresh(1, START), fresh(2, START, email="bad"), fresh(3, START)], day=START, contract=CONTRACT)
    first, decided = decide(db_url, tmp_path, date(2027, 3, 9), "renegotiate")
    assert (first.assessment.kpis.delivered, first.assessment.kpis.rejected) == (3, 1)
    assert decided.state == "renegotiating"
    # a second pilot may not start before the first one's decision
    with pytest.raises(Refused, match="before its last pilot decision \\(2027-03-09\\)"):
        start(db_url, tmp_path, day=date(2027, 3, 8), contract=RENEGOTIATED)

    second = start(db_url, tmp_path, day=date(2027, 3, 10), contract=RENEGOTIATED)
    assert (second.pilot_id, second.contract_id, second.size) == (2, "ACME-2027-02", 4)
    day = date(2027, 3, 10)
    ingest(db_url, [fresh(n, day) for n in (4, 5, 6, 7, 8)], day=day, contract=RENEGOTIATED, name="b.csv")

    rt = runtime(db_url, date(2027, 3, 18), tmp_path)
    judged = judge_pilot(rt, PilotRequest(SUPPLIER))
    a = judged.assessment
    assert (a.pilot_id, a.start_day, a.contract_id, a.size) == (2, day, "ACME-2027-02", 4)
    assert (a.kpis.delivered, a.kpis.rejected, a.first, a.last) == (4, 0, day, day)  # L4-L7: its own start day
    assert judged.report_path.name == "pilot-acme-leads-2.html" and first.report_path.name == "pilot-acme-leads-1.html"
    assert first.report_path.is_file() and judged.report_path.is_file()
    assert judged.alerts.new == ("PILOT_VERDICT|acme-leads|pilot:2",)  # its own alert, the first one's kept
    assert first.alerts.new == ("PILOT_VERDICT|acme-leads|pilot:1",)
    assert flags(db_url)["L-00008"] == ("PILOT_HOLD", None)  # held by the second pilot
    with session_scope(db_url) as session:
        assert session.get(Supplier, SUPPLIER).state == "pilot"
    # the first pilot can still be reported on, on its own cohort
    again = judge_pilot(rt, PilotRequest(SUPPLIER, pilot_id=1))
    assert (again.assessment.kpis.delivered, again.alerts.new) == (3, ())


# --- waiting for maturity --------------------------------------------------------------------------


def test_the_wait_checks_daily_and_ends_once_the_contest_window_closed(db_url, tmp_path):
    start(db_url, tmp_path)
    ingest(db_url, [fresh(n, START) for n in (1, 2, 3)], day=START, contract=CONTRACT)  # full on 1 March
    clock = FixedClock(date(2027, 3, 2))
    rt = runtime(db_url, clock.day, tmp_path, clock=clock)
    slept, told = [], []

    def sleep(seconds: float) -> None:  # a day passes between two checks
        slept.append(seconds)
        clock.day += timedelta(days=1)

    found = wait_for_maturity(rt, MaturityRequest(SUPPLIER), poll_seconds=86400, sleep=sleep,
                              on_wait=lambda m: told.append(m.matured_on))
    # contests of 1 March are accepted until 8 March: matured on 9 March, after seven waits
    assert (found.matured, found.as_of, found.pilot_id) == (True, date(2027, 3, 9), 1)
    assert slept == [86400] * 7 and told == [date(2027, 3, 9)]


# --- held leads on the statements ------------------------------------------------------------------


def held(db_url, month: str, as_of: date, tmp_path):
    return bill_statement(runtime(db_url, as_of, tmp_path), StatementRequest(SUPPLIER, month)).statement


def test_the_statement_shows_the_held_leads_billed_on_approval(db_url, tmp_path):
    """Held while the pilot is undecided: listed as waiting for its approval, on no statement; approved on
    2 April: on April's statement as billed on approval, and March's says they went to a later month."""
    from leadgov.reports.statement import render_statement

    start(db_url, tmp_path)
    ingest(db_url, [fresh(n, START) for n in (1, 2, 3, 4)], day=START, contract=CONTRACT)
    ingest(db_url, [fresh(5, date(2027, 3, 20))], day=date(2027, 3, 20), contract=CONTRACT, name="b.csv")
    march = held(db_url, "2027-03", date(2027, 4, 1), tmp_path)
    assert [(h.state, h.lead_ids, h.approved_on) for h in march.held] == [
        ("waiting", ("L-00004", "L-00005"), None)]
    assert "2 leads retenus par le pilote, facturés à son approbation" in " ".join(
        render_statement(march, generated_on=date(2027, 4, 1)).split())

    decide(db_url, tmp_path, date(2027, 4, 2), "approve")

    april = held(db_url, "2027-04", date(2027, 5, 1), tmp_path)
    assert [(h.state, h.lead_ids, h.approved_on) for h in april.held] == [
        ("billed", ("L-00004", "L-00005"), date(2027, 4, 2))]
    assert set(april.billable_lead_ids) == {"L-00004", "L-00005"}
    again = held(db_url, "2027-03", date(2027, 5, 1), tmp_path)
    assert [(h.state, h.approved_on) for h in again.held] == [("later", date(2027, 4, 2))]
    assert held(db_url, "2027-02", date(2027, 5, 1), tmp_path).held == ()  # nothing held in February


@pytest.mark.parametrize("decision", ["terminate", "renegotiate"])
def test_the_statement_shows_held_leads_of_a_pilot_not_approved_as_not_billed(db_url, tmp_path, decision):
    from leadgov.reports.statement import render_statement

    start(db_url, tmp_path)
    ingest(db_url, [fresh(n, START) for n in (1, 2, 3, 4)], day=START, contract=CONTRACT)

    decide(db_url, tmp_path, date(2027, 4, 2), decision)

    march = held(db_url, "2027-03", date(2027, 4, 3), tmp_path)
    assert [(h.state, h.lead_ids) for h in march.held] == [("not_billed", ("L-00004",))]
    assert "L-00004" not in march.billable_lead_ids
    html = " ".join(render_statement(march, generated_on=date(2027, 4, 3)).split())
    assert "1 lead retenu par le pilote : non facturé (pilote non approuvé)" in html  # ACME's contract: French
