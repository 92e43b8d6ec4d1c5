"""The frames that cross modules (leadgov.frames) hold on real data, and refuse what does not fit.

Real databases (SQLite and PostgreSQL): the ledgers the loaders build, the lead rows of a checked
delivery, the claim candidates of a delivery and of a contest. Then one negative case per model (a
wrong dtype, a status outside its enum, an extra column), so that a model that accepted anything
would fail here.
"""

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from factories import HMAC_KEY, delivery_file, ingest, lead, make_contract_file, outcomes_csv, settings_for
from pandera.errors import SchemaError, SchemaErrors
from sqlalchemy import func, select

from leadgov.claims import claim_candidates, open_claims
from leadgov.frames import (
    ClaimCandidates,
    LeadRows,
    LedgerClaims,
    LedgerEvents,
    LedgerLeads,
    LedgerReasons,
    pandas_dtypes,
)
from leadgov.identity import identity_keys, value_hmac
from leadgov.ingest import check_delivery, lead_rows, store_delivery
from leadgov.ledger import CLAIM_COLUMNS, EVENT_COLUMNS, LEAD_COLUMNS, REASON_COLUMNS, Ledger
from leadgov.models import ReplacementClaim, SuppressionEntry
from leadgov.models.claim_store import list_claims
from leadgov.models.db import session_scope
from leadgov.models.ledger_store import load_billing_ledger, load_ledger
from leadgov.models.statuses import ClaimOrigin
from leadgov.outcomes import import_outcomes
from leadgov.periods import parse_period

TZ = "Europe/Paris"
ACME = make_contract_file(**{"replacement.max_replacement_share": 1.0})
MARCH = date(2027, 3, 1)
#: What a frame that does not fit raises: pandera reports a wrong set of columns as SchemaErrors.
REFUSED = (SchemaError, SchemaErrors)
LEDGER_MODELS = {"leads": LedgerLeads, "reasons": LedgerReasons, "events": LedgerEvents, "claims": LedgerClaims}


def fresh(n: int, day: date, **overrides) -> dict:
    """A lead collected (and consented) on its delivery day, so it is not STALE on a later day."""
    stamp = f"{day.isoformat()} 08:00"
    return lead(n, collected_at=stamp, consent_at=stamp, **overrides)


def import_events(db_url, rows: list[dict]) -> None:
    with session_scope(db_url) as session:
        result = import_outcomes(session, outcomes_csv(rows), "outcomes.csv", TZ)
    assert result.refusals == [], result.refusals


def march_with_everything(db_url) -> None:
    """February and March deliveries with every kind of row a ledger holds: accepted and rejected
    leads, reasons, a replacement that fills a claim, a contest, a won deal with its amount, and an
    appointment held in March by a February lead."""
    ingest(db_url, [fresh(1, date(2027, 2, 15))], day=date(2027, 2, 15), contract=ACME, name="feb.csv")
    ingest(db_url, [lead(2), lead(3, email="bad"), lead(4, employees="1"), lead(5)], day=MARCH, contract=ACME,
           name="mar1.csv")
    ingest(db_url, [fresh(6, date(2027, 3, 5), replaces_lead_id="L-00003")], day=date(2027, 3, 5), contract=ACME,
           name="mar5.csv")
    import_events(db_url, [
        {"lead_id": "L-00001", "event": "appointment_held", "at": "2027-03-10 10:00"},
        {"lead_id": "L-00002", "event": "call_attempt", "at": "2027-03-01 11:00"},
        {"lead_id": "L-00002", "event": "won", "at": "2027-03-20 10:00", "amount_eur": "12 000,50 €"},
        {"lead_id": "L-00005", "event": "contest", "at": "2027-03-03 10:00", "contest_reason": "WRONG_NUMBER"},
    ])


# --- the ledger --------------------------------------------------------------------------------

def test_the_ledger_column_dicts_are_the_models():
    """One definition: the ledger's dicts come from the models, with the dtypes the KPIs rely on."""
    assert (LEAD_COLUMNS, REASON_COLUMNS, EVENT_COLUMNS, CLAIM_COLUMNS) == tuple(
        pandas_dtypes(m) for m in LEDGER_MODELS.values())
    assert LEAD_COLUMNS == {"lead_pk": "int64", "lead_id": "object", "delivery_id": "int64",
                            "delivered_on": "datetime64[ns]", "status": "object", "over_cap": "bool",
                            "replaces_lead_id": "object"}
    assert EVENT_COLUMNS["at"] == "datetime64[ns, UTC]" and EVENT_COLUMNS["amount_eur"] == "object"  # Decimal
    assert CLAIM_COLUMNS["filled_by_lead_pk"] == "Int64" and CLAIM_COLUMNS["due_on"] == "datetime64[ns]"
    for model in (*LEDGER_MODELS.values(), ClaimCandidates):
        schema = model.to_schema()
        assert schema.strict is True and schema.coerce is False, model.__name__


@pytest.mark.parametrize("loader", ["load_ledger", "load_billing_ledger"])
def test_loaded_ledgers_fit_their_models(db_url, loader):
    march_with_everything(db_url)
    load = {"load_ledger": load_ledger, "load_billing_ledger": load_billing_ledger}[loader]
    with session_scope(db_url) as session:
        ledger = load(session, "acme-leads", parse_period("2027-03"), TZ)
    for name, model in LEDGER_MODELS.items():
        frame = getattr(ledger, name)
        assert len(frame) > 0, name  # an empty frame would prove little
        model.validate(frame, lazy=True)
    claims = ledger.claims.set_index("lead_id")
    assert claims.loc["L-00003", "status"] == "filled" and claims.loc["L-00003", "filled_by_lead_pk"] > 0
    assert claims.loc["L-00005", "origin"] == "contest" and pd.isna(claims.loc["L-00005", "filled_by_lead_pk"])
    won = ledger.events.loc[ledger.events["event"] == "won", "amount_eur"].tolist()
    assert won == [Decimal("12000.50")] and type(won[0]) is Decimal  # money stays Decimal
    held_elsewhere = "L-00001" in set(ledger.events["lead_id"])
    assert held_elsewhere == (loader == "load_billing_ledger")  # February's lead held its appointment in March


def test_a_ledger_refuses_a_status_outside_its_enum():
    with pytest.raises(SchemaError, match="isin"):
        Ledger.build("acme-leads", leads=[{"lead_pk": 1, "lead_id": "L-1", "delivery_id": 1,
                                           "delivered_on": "2027-03-01", "status": "maybe"}])


def test_a_ledger_holds_amounts_as_decimals_to_the_cent():
    ledger = Ledger.build("acme-leads", events=[
        {"lead_pk": 1, "lead_id": "L-1", "event": "won", "at": "2027-03-01T10:00Z", "amount_eur": 1200.5},
        {"lead_pk": 2, "lead_id": "L-2", "event": "won", "at": "2027-03-01T10:00Z", "amount_eur": None},
        {"lead_pk": 3, "lead_id": "L-3", "event": "won", "at": "2027-03-01T10:00Z",
         "amount_eur": Decimal("999999999999999.99")},
    ])
    assert ledger.events["amount_eur"].tolist() == [Decimal("1200.50"), None, Decimal("999999999999999.99")]


# --- the lead rows of a delivery ---------------------------------------------------------------

def test_the_lead_rows_of_a_real_delivery_fit_lead_rows(db_url):
    """What ``lead_rows`` builds for a checked delivery, as ``store_delivery`` stores it: accepted and
    rejected leads, a duplicate of an earlier delivery, a missing email (no email key) and a
    suppressed person (stored erased)."""
    ingest(db_url, [lead(1)], day=MARCH, contract=ACME, name="first.csv")
    suppressed = lead(4)["email"]
    with session_scope(db_url) as session:
        session.add(SuppressionEntry(kind="email", key_hmac=value_hmac(suppressed, HMAC_KEY), reason="objected",
                                     identity_key=int(identity_keys(pd.Series([suppressed], dtype="str"),
                                                                    HMAC_KEY).iloc[0])))
    day = date(2027, 3, 2)
    rows = [lead(1, lead_id="again"), lead(2), lead(3, email=None), lead(4), lead(5, employees="1")]
    checked = check_delivery(delivery_file(rows, day, contract=ACME.contract, name="second.csv"), ACME,
                             settings_for(db_url))
    with session_scope(db_url) as session:
        outcome = store_delivery(session, checked, settings_for(db_url))
    frame = lead_rows(checked, outcome.result, outcome.delivery_id)
    LeadRows.validate(frame, lazy=True)
    assert set(frame["status"]) == {"accepted", "rejected"}
    assert frame["email_key"].isna().sum() == 2  # no email, and the suppressed person's erased key
    assert "DUPLICATE_PREVIOUS" in set(frame["primary_reason"].dropna())
    assert (frame["delivered_on"] == "2027-03-02").all() and (frame["delivery_id"] == outcome.delivery_id).all()


# --- claim candidates --------------------------------------------------------------------------

def stored_claims(db_url) -> dict[str, dict]:
    with session_scope(db_url) as session:
        return {c["lead_id"]: c for c in list_claims(session).to_dict("records")}


def test_both_producers_of_claim_candidates_open_their_claims(db_url):
    """``open_claims`` validates what it is given (see the next test): a delivery's rejected leads
    and an import's contests open their claims, so both producers built ClaimCandidates."""
    ingest(db_url, [lead(1), lead(2, email="bad"), lead(3, employees="1")], day=MARCH, contract=ACME)
    import_events(db_url, [{"lead_id": "L-00001", "event": "contest", "at": "2027-03-02 10:00",
                            "contest_reason": "WRONG_NUMBER"}])
    claims = stored_claims(db_url)
    assert {k: (c["origin"], c["reason"], c["opened_on"]) for k, c in claims.items()} == {
        "L-00001": ("contest", "WRONG_NUMBER", date(2027, 3, 2)),
        "L-00002": ("rejection", "INVALID_EMAIL", MARCH),
        "L-00003": ("rejection", "OUT_OF_TARGET_SIZE", MARCH),
    }


def test_open_claims_refuses_what_is_not_claim_candidates(db_url):
    ingest(db_url, [lead(1)], day=MARCH, contract=ACME)
    rejected = pd.DataFrame({"lead_pk": [1], "lead_id": ["L-00001"], "status": ["rejected"], "reason": ["FAKE_LEAD"],
                             "delivered_on": [MARCH]})
    untyped = rejected.assign(origin="rejection", opened_on=rejected["delivered_on"])  # extra columns, untyped
    with session_scope(db_url) as session, pytest.raises(REFUSED):
        open_claims(session, "acme-leads", untyped, ACME.contract)
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(ReplacementClaim)) == 0
    typed = claim_candidates(rejected, ClaimOrigin.REJECTION, reason="reason", opened_on="delivered_on")
    with session_scope(db_url) as session:
        assert open_claims(session, "acme-leads", typed, ACME.contract).opened == 1


# --- every model refuses a wrong dtype, a status outside its enum, an extra column -------------

def ledger_frame(name: str) -> pd.DataFrame:
    rows = {
        "leads": {"lead_pk": 1, "lead_id": "L-1", "delivery_id": 1, "delivered_on": "2027-03-01",
                  "status": "accepted", "over_cap": False},
        "reasons": {"lead_pk": 1, "code": "MISSING_FIELD"},
        "events": {"lead_pk": 1, "lead_id": "L-1", "event": "won", "at": "2027-03-01T10:00Z", "amount_eur": 10},
        "claims": {"claim_id": 1, "lead_pk": 1, "lead_id": "L-1", "origin": "rejection", "opened_on": "2027-03-01",
                   "month": "2027-03", "due_on": "2027-03-11", "status": "open"},
    }
    return getattr(Ledger.build("acme-leads", **{name: [rows[name]]}), name).copy()


def candidates_frame() -> pd.DataFrame:
    leads = pd.DataFrame({"lead_pk": [1], "lead_id": ["L-1"], "reason": ["MISSING_FIELD"], "day": [MARCH]})
    return claim_candidates(leads, ClaimOrigin.REJECTION, reason="reason", opened_on="day").copy()


def lead_rows_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "delivery_id": [1], "supplier_id": pd.Series(["acme-leads"], dtype="str"), "row_number": [1],
        "delivered_on": pd.Series(["2027-03-01"], dtype="str"), "status": pd.Series(["accepted"], dtype="str"),
        "primary_reason": pd.Series([None], dtype="str"), "flags": pd.Series([None], dtype="str"),
        "email_key": pd.array([12345], dtype="Int64"), "phone_key": pd.array([None], dtype="Int64"),
        "email": pd.Series(["x@y.fr"], dtype="str"),
    })


#: model, a valid frame, a column whose dtype to break (and how), its status column (None: it has none).
CASES = {
    "LedgerLeads": (LedgerLeads, lambda: ledger_frame("leads"), ("lead_pk", "float64"), "status"),
    "LedgerReasons": (LedgerReasons, lambda: ledger_frame("reasons"), ("lead_pk", "float64"), None),
    "LedgerEvents": (LedgerEvents, lambda: ledger_frame("events"), ("amount_eur", "float64"), "event"),
    "LedgerClaims": (LedgerClaims, lambda: ledger_frame("claims"), ("filled_by_lead_pk", "float64"), "status"),
    "ClaimCandidates": (ClaimCandidates, candidates_frame, ("opened_on", "str"), "origin"),
    "LeadRows": (LeadRows, lead_rows_frame, ("email_key", "float64"), "status"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_model_refuses_a_frame_that_does_not_fit(case):
    model, valid, (column, dtype), status = CASES[case]
    model.validate(valid())  # the base frame fits: each failure below is the one change made to it
    wrong_dtype = valid()
    wrong_dtype[column] = wrong_dtype[column].astype(dtype)
    with pytest.raises(SchemaError, match=column):
        model.validate(wrong_dtype)
    if status is not None:
        unknown = valid()
        unknown[status] = pd.Series(["maybe"], dtype=unknown[status].dtype)
        with pytest.raises(SchemaError, match="isin"):
            model.validate(unknown)
    extra = valid().assign(not_a_column=1)
    with pytest.raises(REFUSED, match="not_a_column|lead_table_columns"):
        model.validate(extra)


def test_the_euro_column_refuses_a_float_hidden_in_objects():
    events = ledger_frame("events")
    events["amount_eur"] = pd.Series([10.5], dtype="object")
    with pytest.raises(SchemaError, match="amount_eur"):
        LedgerEvents.validate(events)


def test_lead_rows_allow_the_lead_tables_personal_columns_only():
    """Not strict, so that the supplier's normalised fields the lead table holds pass; but only columns of
    the lead table: the other supplied values go to the delivery's blocks."""
    assert LeadRows.to_schema().strict is False
    with_person = lead_rows_frame().assign(email="camille.martin@nexalog.fr", phone="+33612345678", siren="732829320")
    LeadRows.validate(with_person)
    with pytest.raises(SchemaError, match="lead_table_columns"):
        LeadRows.validate(lead_rows_frame().assign(first_name="Camille"))


def test_a_frame_with_gaps_in_its_index_keeps_its_values():
    """The billing ledger's claims come out of drop_duplicates with gaps in their index: their values
    are taken by position (they used to be realigned on a fresh index, into missing claim ids)."""
    from leadgov.frames import LedgerClaims
    from leadgov.ledger import typed_frame

    claims = pd.DataFrame({
        "claim_id": [1, 2, 2, 3], "lead_pk": [10, 20, 20, 30], "lead_id": ["L-1", "L-2", "L-2", "L-3"],
        "origin": ["rejection"] * 4, "opened_on": [date(2027, 2, 1)] * 4, "month": ["2027-02"] * 4,
        "due_on": [date(2027, 2, 11)] * 4, "status": ["open", "filled", "filled", "overdue"],
        "filled_by_lead_pk": [None, 40, 40, None], "filled_on": [None, date(2027, 2, 5), date(2027, 2, 5), None],
        "overdue_on": [None, None, None, date(2027, 2, 12)],
    }).drop_duplicates("claim_id")
    assert list(claims.index) == [0, 1, 3]
    typed = typed_frame(LedgerClaims, claims)
    assert typed["claim_id"].tolist() == [1, 2, 3] and typed["lead_id"].tolist() == ["L-1", "L-2", "L-3"]
