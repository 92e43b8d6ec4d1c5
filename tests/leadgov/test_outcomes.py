"""Importing outcome events and contests against a real database (SQLite and PostgreSQL).

Rules: docs/governance.md (Outcomes, Replacements) and docs/governance-rules.md ("Time",
"Outcomes import", "Contests", "Replacement claims").
"""

import importlib
import io
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from factories import TZ, ingest, lead, make_contract_file, outcomes_csv
from sqlalchemy import func, select

from leadgov.models import Lead, OutcomeEvent, ReplacementClaim, claim_store
from leadgov.models.db import session_scope
from leadgov.outcomes import import_outcomes
from leadgov.reading import UnreadableFile

HEADER = "lead_id;supplier_id;event;at;contest_reason;amount_eur;objection;note"


# --- helpers -----------------------------------------------------------------------------------

def deliver(db_url, n=20, rejected=(), contract=None):
    """Leads L-00001..L-<n> delivered on 2027-03-01; those in ``rejected`` are rejected INVALID_EMAIL."""
    rows = [lead(i, email="bad") if i in rejected else lead(i) for i in range(1, n + 1)]
    return ingest(db_url, rows, contract=contract)


def lid(n: int) -> str:
    return f"L-{n:05d}"


def ev(n, event="call_attempt", at="2027-03-02 10:00", **extra) -> dict:
    """One export row for lead ``n`` (an int, or a lead id as text)."""
    return {"lead_id": lid(n) if isinstance(n, int) else n, "event": event, "at": at, **extra}


def contest(n, at="2027-03-05 10:00", reason="WRONG_NUMBER", **extra) -> dict:
    return ev(n, "contest", at, contest_reason=reason, **extra)


def run_import(db_url, data: bytes, source="outcomes.csv"):
    with session_scope(db_url) as session:
        return import_outcomes(session, data, source, TZ)


def imported(db_url, rows, **kwargs):
    return run_import(db_url, outcomes_csv(rows, **kwargs))


def refusals(result) -> list[tuple[int | None, str]]:
    return [(r.line, r.rule) for r in result.refusals]


def summary(result) -> tuple[int, int, int, int]:
    return result.rows, result.stored, result.duplicated, result.refused


def count(db_url, model) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model))


def stored_events(db_url) -> list[tuple]:
    """(lead_id, event, at as UTC text, contest_reason) of every stored event, in id order."""
    with session_scope(db_url) as session:
        rows = session.execute(select(OutcomeEvent.lead_id, OutcomeEvent.event, OutcomeEvent.at,
                                      OutcomeEvent.contest_reason).order_by(OutcomeEvent.id)).all()
    return [(lead_id, event, at.isoformat(sep=" "), reason) for lead_id, event, at, reason in rows]


def claims(db_url, **filters) -> pd.DataFrame:
    with session_scope(db_url) as session:
        return claim_store.list_claims(session, **filters)


def contest_claims(db_url) -> list[tuple]:
    """(lead_id, origin, reason, opened_on, due_on, status) of the claims opened by contests."""
    frame = claims(db_url)
    frame = frame[frame["origin"] == "contest"]
    return [(r.lead_id, r.origin, r.reason, r.opened_on, r.due_on, r.status) for r in frame.itertuples()]


# --- idempotence -------------------------------------------------------------------------------

def test_same_file_twice_stores_each_event_once(db_url):
    deliver(db_url)
    data = outcomes_csv([ev(1), ev(1, "reached", "2027-03-02 10:05"), ev(2), contest(3)])
    first = run_import(db_url, data)
    assert summary(first) == (4, 4, 0, 0) and first.contests == 1 and first.claims.opened == 1
    assert count(db_url, OutcomeEvent) == 4
    again = run_import(db_url, data, source="renamed.csv")
    assert summary(again) == (4, 0, 4, 0) and again.contests == 0 and again.claims.opened == 0
    assert count(db_url, OutcomeEvent) == 4 and len(claims(db_url)) == 1


def test_event_repeated_in_one_file_stored_once(db_url):
    deliver(db_url)
    result = imported(db_url, [ev(1), ev(2), ev(1, note="second copy"), ev(1, at="2027-03-02T10:00:00")])
    assert summary(result) == (4, 2, 2, 0)
    assert count(db_url, OutcomeEvent) == 2


def test_same_event_to_the_second_is_one_event(db_url):
    deliver(db_url)
    result = imported(db_url, [ev(1, at="2027-03-02 10:00:00.200"), ev(1, at="2027-03-02 10:00:00.900"),
                               ev(1, at="2027-03-02 10:00:01")])
    assert summary(result) == (3, 2, 1, 0)
    assert [e[2] for e in stored_events(db_url)] == ["2027-03-02 09:00:00", "2027-03-02 09:00:01"]


def test_overlapping_exports_store_only_new_events(db_url):
    deliver(db_url)
    imported(db_url, [ev(1), ev(2)])
    result = imported(db_url, [ev(2), ev(3)])
    assert summary(result) == (2, 1, 1, 0)
    assert [e[0] for e in stored_events(db_url)] == [lid(1), lid(2), lid(3)]


# --- unknown leads and suppliers, line numbers ---------------------------------------------------

def test_unknown_lead_and_supplier_refused_by_line_rest_stored(db_url):
    deliver(db_url)
    data = outcomes_csv([ev(1), ev("NOPE-1"), ev(2)]) + outcomes_csv([ev(3)], supplier_id="nobody").split(b"\n", 1)[1]
    result = run_import(db_url, data)
    assert refusals(result) == [(3, "UNKNOWN_LEAD"), (5, "UNKNOWN_SUPPLIER")]
    assert summary(result) == (4, 2, 0, 2)
    assert [e[0] for e in stored_events(db_url)] == [lid(1), lid(2)]


def test_lead_of_another_supplier_is_unknown(db_url):
    deliver(db_url)
    other = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})
    ingest(db_url, [lead(50, lead_id="DP-1")], contract=other, name="dp.csv")
    result = imported(db_url, [ev("DP-1"), ev(1, supplier_id="datapulse"), ev("DP-1", supplier_id="datapulse"), ev(1)])
    assert refusals(result) == [(2, "UNKNOWN_LEAD"), (3, "UNKNOWN_LEAD")]
    assert [e[0] for e in stored_events(db_url)] == ["DP-1", lid(1)]


def test_reused_lead_id_names_the_first_lead(db_url):
    deliver(db_url, n=5)
    later = ingest(db_url, [lead(9, lead_id=lid(1), collected_at="2027-03-02")], day=date(2027, 3, 3), name="b.csv")
    assert later.result.verdicts["reasons"].tolist() == ["INVALID_VALUE"]
    result = imported(db_url, [ev(1, at="2027-03-02 10:00"), contest(1, "2027-03-04 10:00")])
    assert refusals(result) == [] and result.contests == 1  # not BEFORE_DELIVERY, not CONTEST_REJECTED_LEAD
    with session_scope(db_url) as session:
        first_pk = session.scalar(select(func.min(Lead.id)).where(Lead.lead_id == lid(1)))
        assert set(session.scalars(select(OutcomeEvent.lead_pk)).all()) == {first_pk}


def test_line_numbers_are_physical_lines(db_url):
    deliver(db_url)
    text = "\n".join([
        HEADER,                                                              # line 1
        f"{lid(1)};acme-leads;call_attempt;2027-03-02 10:00;;;;",            # line 2
        "",                                                                  # line 3 (blank)
        "NOPE;acme-leads;call_attempt;2027-03-02 10:00;;;;",                 # line 4
        ";;;;;;;",                                                           # line 5 (blank row)
        f'{lid(2)};acme-leads;reached;2027-03-02 10:00;;;;"two\nlines"',     # lines 6-7
        f"{lid(3)};nobody;call_attempt;2027-03-02 10:00;;;;",                # line 8
        "",
    ])
    result = run_import(db_url, text.encode())
    assert refusals(result) == [(4, "UNKNOWN_LEAD"), (8, "UNKNOWN_SUPPLIER")]
    assert summary(result) == (4, 2, 0, 2)


# --- time: delivery day, offsets ---------------------------------------------------------------

def test_event_before_delivery_day_refused_same_day_accepted(db_url):
    deliver(db_url)
    result = imported(db_url, [
        ev(1, at="2027-02-28 23:59"),            # the day before, local: refused
        ev(2, at="2027-03-01 00:00"),            # the delivery day starts at 00:00 local
        ev(3, at="2027-02-28T23:30:00Z"),        # 2027-03-01 00:30 in Paris: the delivery day
        ev(4, at="2027-02-28T22:59:59Z"),        # 2027-02-28 23:59:59 in Paris: before
        ev(5, at="28/02/2027 23:00"),
    ])
    assert refusals(result) == [(2, "BEFORE_DELIVERY"), (5, "BEFORE_DELIVERY"), (6, "BEFORE_DELIVERY")]
    assert "2027-03-01" in result.refusals[0].message
    assert stored_events(db_url) == [(lid(2), "call_attempt", "2027-02-28 23:00:00", None),
                                     (lid(3), "call_attempt", "2027-02-28 23:30:00", None)]


def test_local_times_stored_in_utc_across_dst(db_url):
    deliver(db_url)
    imported(db_url, [ev(1, at="2027-03-27 12:00"), ev(1, at="2027-03-29 12:00"),
                      ev(1, at="2027-03-29T12:00:00+02:00")])
    assert [e[2] for e in stored_events(db_url)] == ["2027-03-27 11:00:00", "2027-03-29 10:00:00"]


def test_local_times_at_dst_changes(db_url):
    # 02:30 on 31 October occurs twice: its first occurrence (CEST); 02:30 on 28 March does not
    # exist: moved forward to 03:00 CEST
    deliver(db_url)
    result = imported(db_url, [ev(1, at="2027-10-31 02:30"), ev(1, at="2027-10-31T00:30:00Z"),
                               ev(1, at="2027-03-28 02:30")])
    assert summary(result) == (3, 2, 1, 0)
    assert [e[2] for e in stored_events(db_url)] == ["2027-10-31 00:30:00", "2027-03-28 01:00:00"]


def test_offset_timestamp_in_autumn_dst_overlap_is_readable(db_url):
    # both are 02:30 local time on 31 October; the offset says which one
    deliver(db_url)
    result = imported(db_url, [ev(1, at="2027-10-31T00:30:00Z"), ev(1, at="2027-10-31T01:30:00Z")])
    assert refusals(result) == []
    assert [e[2] for e in stored_events(db_url)] == ["2027-10-31 00:30:00", "2027-10-31 01:30:00"]


def test_local_time_that_occurs_twice_is_its_first_occurrence(db_url):
    deliver(db_url)
    imported(db_url, [ev(1, at="2027-10-31 02:30")])  # 02:30 CEST (UTC+2) comes before 02:30 CET
    assert [e[2] for e in stored_events(db_url)] == ["2027-10-31 00:30:00"]


# --- rows unreadable on their own ----------------------------------------------------------------

def test_unreadable_rows_refused_with_their_rule(db_url):
    deliver(db_url)
    result = imported(db_url, [
        ev(1, "callback"),                         # line 2
        ev(2, at="2027-13-01 10:00"),              # line 3
        ev(3, at="tomorrow"),                      # line 4
        ev(4, "won", "2027-03-20", amount_eur="12 000,50 €"),  # line 5: fine
        ev(5, "won", "2027-03-20", amount_eur="-50"),          # line 6
        ev(6, "won", "2027-03-20", amount_eur="lots"),         # line 7
        ev(7, None),                               # line 8
        ev(8, at=None),                            # line 9
        ev(None),                                  # line 10
        ev(9, "REACHED"),                          # line 11: event names are not case sensitive
    ])
    assert refusals(result) == [(2, "UNKNOWN_EVENT"), (3, "INVALID_AT"), (4, "INVALID_AT"), (6, "INVALID_AMOUNT"),
                                (7, "INVALID_AMOUNT"), (8, "MISSING_FIELD"), (9, "MISSING_FIELD"),
                                (10, "MISSING_FIELD")]
    assert summary(result) == (10, 2, 0, 8)
    with session_scope(db_url) as session:
        stored = session.execute(select(OutcomeEvent.lead_id, OutcomeEvent.event, OutcomeEvent.amount_eur)
                                 .order_by(OutcomeEvent.id)).all()
    assert [(a, b, float(c) if c is not None else None) for a, b, c in stored] == [
        (lid(4), "won", 12000.5), (lid(9), "reached", None)]


def test_amounts_are_read_and_stored_as_decimals(db_url):
    """An amount is money: parsed to a Decimal, never a float. PostgreSQL's numeric keeps all 17
    digits (a float would store 1000000000000000.00); SQLite has no decimal type and keeps 15."""
    deliver(db_url)
    big = "999 999 999 999 999,99 €" if db_url.startswith("postgresql") else "9 999 999 999 999,99 €"
    imported(db_url, [ev(1, "won", "2027-03-20", amount_eur=big), ev(2, "won", "2027-03-20", amount_eur="5,5")])
    with session_scope(db_url) as session:
        stored = session.scalars(select(OutcomeEvent.amount_eur).order_by(OutcomeEvent.id)).all()
    exact = Decimal(big.replace(" ", "").replace("€", "").replace(",", "."))
    assert stored == [exact, Decimal("5.50")] and all(type(a) is Decimal for a in stored)


def test_missing_supplier_id_is_a_missing_field(db_url):
    deliver(db_url)
    result = imported(db_url, [ev(1, supplier_id=None), ev(2)])
    assert refusals(result) == [(2, "MISSING_FIELD")]


@pytest.mark.parametrize("column", ["lead_id", "supplier_id", "event", "at"])
def test_file_missing_a_required_column_refused_whole(db_url, column):
    deliver(db_url)
    frame = pd.read_csv(io.BytesIO(outcomes_csv([ev(1), ev(2)])), sep=";", dtype=str)
    data = frame.drop(columns=[column]).to_csv(index=False, sep=";").encode()
    with pytest.raises(UnreadableFile, match=rf"missing column\(s\) {column} "):
        run_import(db_url, data)
    assert count(db_url, OutcomeEvent) == 0


def test_cp1252_comma_file_with_loose_headers(db_url):
    deliver(db_url)
    text = ("Lead_ID , Supplier_ID,EVENT, At ,Objection,Note\r\n"
            f"{lid(1)},acme-leads,reached,02/03/2027 10:00,déjà équipé,rappel à 14h — café\r\n"
            f"{lid(2)},acme-leads,lost,2027-03-03,prix,\r\n")
    result = run_import(db_url, text.encode("cp1252"))
    assert summary(result) == (2, 2, 0, 0)
    with session_scope(db_url) as session:
        stored = session.execute(select(OutcomeEvent.lead_id, OutcomeEvent.event, OutcomeEvent.at,
                                        OutcomeEvent.objection, OutcomeEvent.note).order_by(OutcomeEvent.id)).all()
    assert [tuple(r) for r in stored] == [
        (lid(1), "reached", datetime(2027, 3, 2, 9, 0), "déjà équipé", "rappel à 14h — café"),
        (lid(2), "lost", datetime(2027, 3, 2, 23, 0), "prix", None),
    ]


# --- contests ----------------------------------------------------------------------------------

def test_contest_window_last_day_included(db_url):
    deliver(db_url)
    result = imported(db_url, [contest(1, "2027-03-08 23:59"), contest(2, "2027-03-09 00:00"),
                               contest(3, "2027-03-08T22:30:00Z"), contest(4, "2027-03-08T23:30:00Z")])
    assert refusals(result) == [(3, "CONTEST_LATE"), (5, "CONTEST_LATE")]
    assert "2027-03-08" in result.refusals[0].message
    assert result.contests == 2 and [c[0] for c in contest_claims(db_url)] == [lid(1), lid(3)]


def test_contest_reason_must_be_listed(db_url):
    deliver(db_url)
    result = imported(db_url, [contest(1, reason="TOO_EXPENSIVE"), contest(2, reason=None),
                               contest(3, reason="fake_lead")])
    assert refusals(result) == [(2, "CONTEST_REASON"), (3, "CONTEST_REASON")]
    assert stored_events(db_url) == [(lid(3), "contest", "2027-03-05 09:00:00", "FAKE_LEAD")]


def test_contest_reason_of_the_leads_contract(db_url):
    narrowed = make_contract_file(**{"replacement.contest_reasons": ["WRONG_NUMBER"],
                                     "replacement.max_replacement_share": 1.0})
    deliver(db_url, contract=narrowed)
    result = imported(db_url, [contest(1, reason="UNREACHABLE"), contest(2, reason="WRONG_NUMBER")])
    assert refusals(result) == [(2, "CONTEST_REASON")]
    assert "UNREACHABLE" in result.refusals[0].message
    assert [c[0] for c in contest_claims(db_url)] == [lid(2)]


def test_contest_of_rejected_lead_refused(db_url):
    deliver(db_url, rejected={2})
    result = imported(db_url, [contest(2), ev(2, "call_attempt")])
    assert refusals(result) == [(2, "CONTEST_REJECTED_LEAD")]
    assert [e[:2] for e in stored_events(db_url)] == [(lid(2), "call_attempt")]
    assert claims(db_url)["origin"].tolist() == ["rejection"]


def test_second_contest_of_a_lead_refused_in_one_file(db_url):
    deliver(db_url)
    result = imported(db_url, [contest(1, "2027-03-04 10:00"), contest(1, "2027-03-05 10:00", reason="FAKE_LEAD"),
                               contest(2)])
    assert refusals(result) == [(3, "ALREADY_CONTESTED")]
    assert result.contests == 2 and [c[0] for c in contest_claims(db_url)] == [lid(1), lid(2)]


def test_second_contest_refused_across_imports_same_contest_is_duplicate(db_url):
    deliver(db_url)
    imported(db_url, [contest(1)])
    result = imported(db_url, [contest(1), contest(1, "2027-03-06 10:00")])
    assert summary(result) == (2, 0, 1, 1)
    assert refusals(result) == [(3, "ALREADY_CONTESTED")]
    assert count(db_url, OutcomeEvent) == 1 and len(claims(db_url)) == 1


def test_repeated_refused_contest_is_refused_on_each_line(db_url):
    deliver(db_url)
    late = contest(1, "2027-03-20 10:00")
    result = imported(db_url, [late, late, ev("NOPE"), ev("NOPE")])
    assert refusals(result) == [(2, "CONTEST_LATE"), (3, "CONTEST_LATE"), (4, "UNKNOWN_LEAD"), (5, "UNKNOWN_LEAD")]
    assert summary(result) == (4, 0, 0, 4)


def test_accepted_contest_opens_claim(db_url):
    deliver(db_url)
    result = imported(db_url, [contest(1, "2027-03-04T23:30:00Z", reason="unreachable")])  # 5 March in Paris
    assert result.claims.opened == 1 and result.claims.not_owed_cap == 0
    assert contest_claims(db_url) == [(lid(1), "contest", "UNREACHABLE", date(2027, 3, 5), date(2027, 3, 15), "open")]
    assert claims(db_url)["month"].tolist() == ["2027-03"]


def test_contest_over_monthly_cap_is_not_owed(db_url):
    deliver(db_url, n=4)  # ceil(0.2 x 4) = 1 claim owed in March
    result = imported(db_url, [contest(2, "2027-03-04 10:00"), contest(1, "2027-03-03 10:00")])
    assert (result.claims.opened, result.claims.not_owed_cap) == (1, 1)
    found = {c[0]: c for c in contest_claims(db_url)}
    assert found[lid(1)][3:] == (date(2027, 3, 3), date(2027, 3, 13), "open")  # the earlier contest counts first
    assert found[lid(2)][3] == date(2027, 3, 4) and pd.isna(found[lid(2)][4]) and found[lid(2)][5] == "not_owed_cap"


def test_rejection_claims_count_against_contest_cap(db_url):
    deliver(db_url, n=5, rejected={5})  # ceil(0.2 x 5) = 1: the rejection takes it
    result = imported(db_url, [contest(1)])
    assert (result.claims.opened, result.claims.not_owed_cap) == (0, 1)
    assert contest_claims(db_url)[0][5] == "not_owed_cap"


# --- personal data -----------------------------------------------------------------------------

def test_refusal_messages_carry_no_personal_data(db_url):
    deliver(db_url, n=6, rejected={6})
    people = [lead(i) for i in range(1, 7)]
    secrets = {p[f] for p in people for f in ("email", "phone", "first_name", "last_name")}
    secrets |= {"+33612340001", "0612340001"}
    note = f"{people[0]['first_name']} {people[0]['last_name']} {people[0]['email']} {people[0]['phone']}"
    result = imported(db_url, [
        ev(1, at="2027-02-20", note=note, objection=people[1]["email"]),
        ev(2, "nope", note=note), ev(3, at="?", note=note), ev(4, "won", amount_eur="x", note=note),
        contest(5, reason="PRICE", note=note), contest(5, "2027-03-30", note=note),
        contest(6, note=note), ev("NOPE", note=note), ev(1, supplier_id="nobody", note=note),
    ])
    assert {r.rule for r in result.refusals} == {"BEFORE_DELIVERY", "UNKNOWN_EVENT", "INVALID_AT", "INVALID_AMOUNT",
                                                 "CONTEST_REASON", "CONTEST_LATE", "CONTEST_REJECTED_LEAD",
                                                 "UNKNOWN_LEAD", "UNKNOWN_SUPPLIER"}
    for refusal in result.refusals:
        for secret in secrets:
            assert secret.lower() not in refusal.message.lower(), (refusal.rule, secret)


# --- one transaction ---------------------------------------------------------------------------

def _after(real):
    def broken(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("connection lost")
    return broken


@pytest.mark.parametrize("target", ["leadgov.models.outcome_store.insert_events", "leadgov.outcomes.open_claims"])
def test_failure_while_storing_leaves_nothing(db_url, monkeypatch, target):
    deliver(db_url, rejected={20})
    module, name = target.rsplit(".", 1)
    module = importlib.import_module(module)
    monkeypatch.setattr(module, name, _after(getattr(module, name)))
    with pytest.raises(RuntimeError, match="connection lost"):
        imported(db_url, [ev(1), contest(2), contest(3)])
    assert count(db_url, OutcomeEvent) == 0
    assert claims(db_url)["origin"].tolist() == ["rejection"]
    monkeypatch.undo()
    result = imported(db_url, [ev(1), contest(2), contest(3)])  # re-running is safe
    assert summary(result) == (3, 3, 0, 0) and result.claims.opened == 2
    assert count(db_url, ReplacementClaim) == 3
