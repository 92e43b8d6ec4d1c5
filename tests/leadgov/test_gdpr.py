"""GDPR commands on SQLite and PostgreSQL: retention purge, erasure, objection, export, key rotation.

Each test runs on the ``db_url`` fixture; commands run through ``leadgov gdpr ... --db`` with the
factories' HMAC key, so deliveries stored by ``factories.ingest`` and the commands agree on keys.
"""

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from factories import HMAC_KEY, TZ, delivery_file, ingest, lead, make_contract_file, outcomes_csv
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.gdpr import BadIdentifier, person, purge, raw_emails
from leadgov.governance import bill_month, supplier_kpis
from leadgov.identity import identity_keys, value_hmac
from leadgov.models import (
    BillingLine,
    Delivery,
    IdentityRun,
    Lead,
    LeadReason,
    OutcomeEvent,
    ReplacementClaim,
    SuppressionEntry,
)
from leadgov.models.db import session_scope
from leadgov.outcomes import import_outcomes
from leadgov.periods import parse_period

runner = CliRunner()

DAY = date(2027, 3, 1)
#: A second supplier whose contract keeps personal data 30 days only.
SHORT = make_contract_file(**{"contract_id": "SHORT-2027", "supplier.id": "shortco", "supplier.name": "Short Co",
                              "gdpr.retention_days": 30})
OTHER = make_contract_file(**{"contract_id": "DP-2027", "supplier.id": "datapulse", "supplier.name": "DataPulse"})
PERSON = lead(1)
#: What erasing a lead must set to NULL (stated here, not imported: the test must be able to fail).
ERASED_COLUMNS = ["first_name", "last_name", "job_title", "email", "phone", "need", "consent_proof", "raw_record",
                  "email_key", "phone_key"]
#: The other values the supplier delivered, erased too (free text may quote the person): all but the ids.
SUPPLIED_COLUMNS = ["collected_at", "company_name", "siren", "naf_code", "employees", "legal_form", "postal_code",
                    "department", "country", "language", "budget_eur", "project_horizon_months", "source", "campaign",
                    "consent_at", "notice_sent_at"]
#: When the supplier told the person their data is passed on (GDPR Art. 14): evidence the export shows.
NOTICE_SENT_AT = "2027-02-28 09:00"


@pytest.fixture(autouse=True)
def settings_key(monkeypatch):
    """The commands' settings use the factories' key (as the stored deliveries did)."""
    from leadgov.config.settings import get_settings

    monkeypatch.setenv("LEADGOV_HMAC_KEY", HMAC_KEY)
    monkeypatch.setenv("LEADGOV_DEFAULT_PHONE_REGION", "FR")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def leadgov(db_url, *args):
    return runner.invoke(app, ["gdpr", *args, "--db", db_url])


def fresh(n: int, day: date, **overrides) -> dict:
    """lead(n) collected and consented the day before ``day`` (not STALE)."""
    stamp = f"{day - timedelta(days=1)} 10:00"
    return lead(n, collected_at=stamp, consent_at=stamp, **overrides)


def leads_table(db_url) -> pd.DataFrame:
    """Every column of every lead, by id, and its raw record (kept in blocks beside the lead table)."""
    from leadgov.models.raw_record_store import raw_records_at, supplied_values_at

    with session_scope(db_url) as session:
        rows = session.execute(select(Lead.__table__).order_by(Lead.id)).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], dtype=object)
        frame["raw_record"] = raw_records_at(session, frame) if len(frame) else pd.Series(dtype=object)
        if len(frame):  # the supplied values, kept in the blocks too
            frame = frame.join(supplied_values_at(session, frame).astype(object))
    return frame


def rows_of(db_url, model) -> list[tuple]:
    with session_scope(db_url) as session:
        columns = [c for c in model.__table__.columns if c.name not in ("imported_at",)]
        return [tuple(r) for r in session.execute(select(*columns).order_by(columns[0])).all()]


def count(db_url, model, *where) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def import_events(db_url, rows, supplier_id="acme-leads"):
    with session_scope(db_url) as session:
        return import_outcomes(session, outcomes_csv(rows, supplier_id=supplier_id), "outcomes.csv", TZ)


def erased(frame: pd.DataFrame) -> pd.Series:
    """Which leads hold no personal data at all (every personal column, supplied value and key NULL), and
    say so."""
    return frame[ERASED_COLUMNS + SUPPLIED_COLUMNS].isna().all(axis=1) & frame["erased"].astype(bool)


def holds_personal(frame: pd.DataFrame) -> pd.Series:
    return frame[ERASED_COLUMNS].notna().all(axis=1)


def reasons_codes(outcome) -> list[str]:
    return outcome.result.verdicts["reasons"].tolist()


def run_keys(db_url, kind: str) -> np.ndarray:
    with session_scope(db_url) as session:
        blobs = session.scalars(select(IdentityRun.keys).where(IdentityRun.kind == kind)).all()
    return np.concatenate([np.frombuffer(b, dtype="<i8") for b in blobs]) if blobs else np.array([], dtype="<i8")


def key_of(value: str, key: str = HMAC_KEY) -> int:
    return int(identity_keys(pd.Series([value], dtype="str"), key).iloc[0])


PERSONAL_TEXTS = ("camille", "martin", "+336", "06 12", "nexalog.fr", "cert-7f3a9c")


def assert_no_personal(text: str) -> None:
    lowered = text.lower()
    for needle in PERSONAL_TEXTS:
        assert needle not in lowered, f"{needle!r} leaked"


# --- retention ---------------------------------------------------------------------------------


def seed_retention(db_url):
    """SHORT (30 days): 3 leads on DAY (one rejected), 2 on DAY + 45; ACME (1095 days): 2 on DAY;
    outcome notes on an old and a young SHORT lead; March billed for SHORT."""
    ingest(db_url, [lead(1), lead(2), lead(3, employees="1")], DAY, contract=SHORT, name="old.csv")
    later = DAY + timedelta(days=45)
    ingest(db_url, [fresh(4, later), fresh(5, later)], later, contract=SHORT, name="young.csv")
    ingest(db_url, [lead(6), lead(7)], DAY, name="acme.csv")
    import_events(db_url, [{"lead_id": "L-00001", "event": "reached", "at": "2027-03-02 10:00",
                            "note": "Camille Martin rappelle lundi"},
                           {"lead_id": "L-00004", "event": "reached", "at": "2027-04-16 10:00",
                            "note": "Camille Martin 4"}], supplier_id="shortco")
    with session_scope(db_url) as session:
        bill_month(session, "shortco", 2027, 3, TZ, DAY + timedelta(days=40))


def figures(db_url, as_of):
    with session_scope(db_url) as session:
        kpis = supplier_kpis(session, "shortco", parse_period("2027-03"), TZ, as_of).as_dict()
    return kpis


def test_purge_erases_only_leads_past_their_contracts_retention(db_url):
    seed_retention(db_url)
    as_of = DAY + timedelta(days=50)  # SHORT's March delivery is 50 days old (> 30); the rest is younger
    before = leads_table(db_url)
    kept_tables = {model: rows_of(db_url, model) for model in (BillingLine, Delivery, ReplacementClaim)}
    reasons_before = rows_of(db_url, LeadReason)
    kpis = figures(db_url, as_of)
    runs_before = count(db_url, IdentityRun)

    dry = leadgov(db_url, "purge", "--dry-run", "--as-of", as_of.isoformat(), "--format", "json")
    assert dry.exit_code == 0, dry.output
    dry_data = json.loads(dry.stdout)
    assert (dry_data["leads"], dry_data["deliveries"], dry_data["outcome_notes"]) == (3, 1, 1)
    assert dry_data["by_supplier"]["shortco"]["leads"] == 3 and dry_data["by_supplier"]["acme-leads"]["leads"] == 0
    pd.testing.assert_frame_equal(leads_table(db_url), before)  # a dry run changes nothing
    assert count(db_url, OutcomeEvent, OutcomeEvent.note.isnot(None)) == 2

    done = leadgov(db_url, "purge", "--as-of", as_of.isoformat())
    assert done.exit_code == 0, done.output
    assert "erased the personal data of 3 leads" in " ".join(done.stdout.split())
    assert_no_personal(done.output)
    for lead_id in ("L-00001", "L-00002", "L-00003"):
        assert lead_id not in done.output

    after = leads_table(db_url)
    old = (after["supplier_id"] == "shortco") & (after["delivered_on"] == DAY)
    assert old.sum() == 3
    assert erased(after[old]).all()
    assert holds_personal(after[~old]).all()  # younger leads and the other contract's leads untouched
    pd.testing.assert_frame_equal(after[~old], before[~old])
    unchanged = [c for c in before.columns if c not in [*ERASED_COLUMNS, *SUPPLIED_COLUMNS, "erased"]]
    pd.testing.assert_frame_equal(after[unchanged], before[unchanged])  # ids, delivery, verdicts, day
    assert after.loc[old, "consent_at"].isna().all() and after.loc[old, "source"].isna().all()
    for model, rows in kept_tables.items():  # billing lines, deliveries' counts, claims
        assert rows_of(db_url, model) == rows, model.__name__
    old_delivery = int(after.loc[old, "delivery_id"].iloc[0])
    reasons_after = rows_of(db_url, LeadReason)  # (id, delivery_id, row_number, code, detail)
    assert [r[:4] for r in reasons_after] == [r[:4] for r in reasons_before]  # every reason code stays
    assert [r[4] for r in reasons_after if r[1] == old_delivery] == ["erased with the lead's data"]
    assert [r for r in reasons_after if r[1] != old_delivery] == [r for r in reasons_before if r[1] != old_delivery]
    assert figures(db_url, as_of) == kpis
    with session_scope(db_url) as session:
        notes = dict(session.execute(select(OutcomeEvent.lead_id, OutcomeEvent.note)).all())
    assert notes == {"L-00001": None, "L-00004": "Camille Martin 4"}  # the event stays, the old note goes
    assert count(db_url, IdentityRun) == runs_before - 2  # the old delivery's email and phone runs

    again = leadgov(db_url, "purge", "--as-of", as_of.isoformat(), "--format", "json")
    assert json.loads(again.stdout)["leads"] == 0  # a rerun is a no-op
    pd.testing.assert_frame_equal(leads_table(db_url), after)


def test_retention_counts_from_the_delivery_day(db_url):
    ingest(db_url, [lead(1)], DAY, contract=SHORT)
    with session_scope(db_url) as session:
        assert purge(session, DAY + timedelta(days=30), dry_run=True).total("leads") == 0  # exactly 30 days: kept
        assert purge(session, DAY + timedelta(days=31), dry_run=True).total("leads") == 1
        assert purge(session, DAY + timedelta(days=30)).total("leads") == 0
    assert holds_personal(leads_table(db_url)).all()


def test_purge_on_an_empty_database(db_url):
    result = leadgov(db_url, "purge", "--as-of", "2027-03-01", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["leads"] == 0


# --- erasure -----------------------------------------------------------------------------------


def seed_person(db_url):
    """The person (lead 1's email and phone) at two suppliers; the same phone with another email; their
    email inside another lead's free text; a look-alike email that must not match."""
    phone_only = lead(3, email="c.martin.perso@nexalog-group.fr", phone=PERSON["phone"])
    mention = lead(4, need=f"Contacter aussi {PERSON['email'].upper()} pour le projet")
    lookalike = lead(5, email="x" + PERSON["email"])
    ingest(db_url, [lead(1, notice_sent_at=NOTICE_SENT_AT), lead(2), phone_only, mention, lookalike], DAY,
           name="acme.csv")
    ingest(db_url, [lead(1, lead_id="DP-1")], DAY, contract=OTHER, name="dp.csv")
    import_events(db_url, [{"lead_id": "L-00001", "event": "reached", "at": "2027-03-02 10:00",
                            "note": "Camille préfère le matin"},
                           {"lead_id": "L-00002", "event": "reached", "at": "2027-03-02 11:00", "note": "ok"}])


def by_lead_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(frame["supplier_id"] + "/" + frame["lead_id"])


def test_erase_removes_the_person_everywhere_and_suppresses_them(db_url):
    seed_person(db_url)
    before = by_lead_id(leads_table(db_url))
    assert str(before.loc["acme-leads/L-00001", "notice_sent_at"]) == "2027-02-28 09:00:00"  # erased below
    email_key, phone_key = key_of(PERSON["email"]), key_of("+33612340001")
    assert email_key in run_keys(db_url, "email") and phone_key in run_keys(db_url, "phone")

    result = leadgov(db_url, "erase", "--email", PERSON["email"].upper(), "--format", "json")
    assert result.exit_code == 0, result.output
    assert_no_personal(result.output)
    data = json.loads(result.stdout)
    assert (data["leads_erased"], data["suppliers"], data["outcome_notes_erased"]) == (4, 2, 1)

    after = by_lead_id(leads_table(db_url))
    mine = ["acme-leads/L-00001", "datapulse/DP-1", "acme-leads/L-00003", "acme-leads/L-00004"]
    others = ["acme-leads/L-00002", "acme-leads/L-00005"]
    assert erased(after.loc[mine]).all()
    pd.testing.assert_frame_equal(after.loc[others], before.loc[others])
    assert (after.loc[mine, "status"] == before.loc[mine, "status"]).all()
    with session_scope(db_url) as session:
        notes = dict(session.execute(select(OutcomeEvent.lead_id, OutcomeEvent.note)).all())
        entries = {(e.kind, e.key_hmac, e.identity_key, e.reason) for e in session.scalars(select(SuppressionEntry))}
    assert notes == {"L-00001": None, "L-00002": "ok"}
    assert ("email", value_hmac(PERSON["email"], HMAC_KEY), email_key, "erased") in entries
    assert ("phone", value_hmac("+33612340001", HMAC_KEY), phone_key, "erased") in entries
    assert ("email", value_hmac("c.martin.perso@nexalog-group.fr", HMAC_KEY),
            key_of("c.martin.perso@nexalog-group.fr"), "erased") in entries  # found on the phone's lead
    assert email_key not in run_keys(db_url, "email") and phone_key not in run_keys(db_url, "phone")
    assert key_of(lead(2)["email"]) in run_keys(db_url, "email")  # the others' keys stay

    again = json.loads(leadgov(db_url, "erase", "--email", PERSON["email"], "--format", "json").stdout)
    assert (again["leads_erased"], again["suppression_added"], again["suppression_already_listed"]) == (0, 0, 1)
    assert leads_table(db_url).equals(after.reset_index(drop=True))

    later = DAY + timedelta(days=7)
    outcome = ingest(db_url, [fresh(1, later, lead_id="L-09001"), fresh(8, later)], later, name="later.csv")
    codes = reasons_codes(outcome)
    assert "SUPPRESSED" in codes[0].split(";") and codes[1] == ""
    by_phone = ingest(db_url, [fresh(9, later, phone=PERSON["phone"])], later, contract=OTHER, name="dp2.csv")
    assert "SUPPRESSED" in reasons_codes(by_phone)[0].split(";")
    # A lead rejected SUPPRESSED is stored already erased: nothing of the person comes back.
    third = json.loads(leadgov(db_url, "erase", "--email", PERSON["email"], "--format", "json").stdout)
    assert third["leads_erased"] == 0


def test_erase_by_phone_written_nationally(db_url):
    seed_person(db_url)
    result = leadgov(db_url, "erase", "--phone", "06.12.34.00.01")
    assert result.exit_code == 0, result.output
    assert_no_personal(result.output)
    assert "erased the personal data of 4 leads" in " ".join(result.stdout.split())


def test_refusals_never_repeat_the_value(db_url):
    for args in (["--email", "camille.martin-secret@nexalog"], ["--phone", "06 12 secret 99 99 99"], []):
        result = leadgov(db_url, "erase", *args)
        assert result.exit_code == 2, result.output
        assert "secret" not in result.output and "camille" not in result.output
    with pytest.raises(BadIdentifier) as info:
        person(["camille@nowhere"])
    assert "camille" not in str(info.value)


def test_person_normalisation():
    who = person([" Camille.Martin1@Nexalog.FR "], ["06 12 34 00 01", "+44 20 7946 0958", "0033 6 12 34 00 01"])
    assert who.emails == ("camille.martin1@nexalog.fr",)
    assert who.phones == ("+33612340001", "+442079460958")
    with pytest.raises(BadIdentifier):
        person(phones=["020 7946 0958"], region="FR")  # a British number written nationally
    assert person(phones=["020 7946 0958"], region="GB").phones == ("+442079460958",)


def test_raw_emails_match_whole_addresses_only():
    raw = json.dumps({"Besoin": "écrire à <Camille.Martin1@nexalog.fr>, ou xcamille@a.fr."})
    assert raw_emails(raw) == {"camille.martin1@nexalog.fr", "xcamille@a.fr"}
    assert raw_emails(None) == set() and raw_emails("not json a@b.fr") == {"a@b.fr"}


# --- objection ---------------------------------------------------------------------------------


def test_object_suppresses_and_keeps_the_data(db_url):
    seed_person(db_url)
    before = leads_table(db_url)
    result = leadgov(db_url, "object", "--phone", PERSON["phone"])
    assert result.exit_code == 0, result.output
    assert_no_personal(result.output)
    pd.testing.assert_frame_equal(leads_table(db_url), before)
    with session_scope(db_url) as session:
        reasons = {e.kind: e.reason for e in session.scalars(select(SuppressionEntry))}
    assert reasons == {"email": "objected", "phone": "objected"}
    later = DAY + timedelta(days=7)
    outcome = ingest(db_url, [fresh(1, later, lead_id="L-09001", phone="07 00 00 00 01")], later, name="l.csv")
    assert "SUPPRESSED" in reasons_codes(outcome)[0].split(";")  # by email: found on the phone's leads

    erase = leadgov(db_url, "erase", "--phone", PERSON["phone"], "--format", "json")
    assert json.loads(erase.stdout)["suppression_added"] == 0  # the same emails and phones: already listed
    with session_scope(db_url) as session:
        assert set(session.scalars(select(SuppressionEntry.reason))) == {"erased"}


# --- export ------------------------------------------------------------------------------------


def test_export_lists_everything_held_on_the_person(db_url):
    seed_person(db_url)
    leadgov(db_url, "object", "--email", PERSON["email"])
    result = leadgov(db_url, "export", "--email", PERSON["email"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["suppressed"] is True
    assert {(s["kind"], s["value"], s["reason"]) for s in data["suppression"]} >= {
        ("email", PERSON["email"], "objected"), ("phone", "+33612340001", "objected")}
    leads = {(x["supplier"]["id"], x["lead_id"]): x for x in data["leads"]}
    assert set(leads) == {("acme-leads", "L-00001"), ("datapulse", "DP-1"), ("acme-leads", "L-00003"),
                          ("acme-leads", "L-00004")}
    mine = leads[("acme-leads", "L-00001")]
    assert mine["person"]["email"] == PERSON["email"] and mine["person"]["first_name"] == "Camille"
    assert mine["delivery"]["delivered_on"] == DAY.isoformat() and mine["status"] == "accepted"
    with session_scope(db_url) as session:
        version_id = session.scalar(select(Delivery.contract_version_id).where(Delivery.file_name == "acme.csv"))
    assert mine["consent"] == {
        "consent_at": "2027-02-27T10:00:00", "consent_proof": "cert-7f3a9c", "notice_sent_at": "2027-02-28T09:00:00",
        "source": "web_form", "campaign": None,
        "collected_at": "2027-02-27T10:00:00", "supplier_id": "acme-leads", "contract_id": "ACME-2027-01",
        "contract_version_id": version_id, "contract_sha256": make_contract_file().sha256}
    assert [e["event"] for e in mine["outcome_events"]] == ["reached"]
    assert mine["outcome_events"][0]["note"] == "Camille préfère le matin"
    assert mine["raw_record"]["Email"] == PERSON["email"] and mine["erased"] is False
    other = leads[("datapulse", "DP-1")]
    assert other["supplier"]["name"] == "DataPulse" and other["reasons"][0]["code"] == "DUPLICATE_OTHER_SUPPLIER"


def test_export_of_an_unknown_person_is_empty(db_url):
    ingest(db_url, [lead(2)], DAY)
    result = leadgov(db_url, "export", "--email", "nobody@example.org")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["leads"] == [] and data["suppressed"] is False
    assert data["suppression"] == [{"kind": "email", "value": "nobody@example.org", "suppressed": False,
                                    "requested_by": None, "requested_at": None,
                                    "reason": None, "since": None}]


def test_export_after_erasure_shows_only_the_suppression(db_url):
    seed_person(db_url)
    leadgov(db_url, "erase", "--email", PERSON["email"])
    data = json.loads(leadgov(db_url, "export", "--email", PERSON["email"]).stdout)
    assert data["leads"] == [] and data["suppression"][0]["reason"] == "erased"


def test_the_export_of_an_erased_lead_says_erased_and_holds_none_of_its_values(db_url):
    """What the export reads of a lead erased by the retention purge (which no search finds any more): the
    lead's own flag, and nothing of its values or raw record; a lead kept says so too."""
    from leadgov.models import gdpr_store

    ingest(db_url, [lead(1), lead(2)], DAY)
    with session_scope(db_url) as session:
        first, second = session.scalars(select(Lead.id).order_by(Lead.row_number)).all()
        gdpr_store.erase_leads(session, [first])
        leads = gdpr_store.leads_for_export(session, [first, second]).set_index("lead_id")
    assert leads.loc["L-00001", "erased"] and not leads.loc["L-00002", "erased"]
    held = leads.drop(columns=["lead_pk", "supplier_id", "supplier_name", "delivery_id", "file_name",
                               "contract_version_id", "contract_id", "contract_sha256", "row_number",
                               "delivered_on", "status", "primary_reason", "flags", "replaces_lead_id", "erased"])
    assert held.loc["L-00001"].isna().all()
    assert held.loc["L-00002", ["email", "company_name", "raw_record"]].notna().all()


# --- key rotation ------------------------------------------------------------------------------

NEW_KEY = "the-new-key"


def ingest_with_key(db_url, rows, day, key, name, contract=None):
    from leadgov.config.settings import Settings
    from leadgov.ingest import ingest_delivery

    contract = contract or make_contract_file()
    with session_scope(db_url) as session:
        return ingest_delivery(session, delivery_file(rows, day, contract=contract.contract, name=name), contract,
                               Settings(database_url=db_url, hmac_key=key))


def test_rekey_recomputes_keys_runs_and_suppression(db_url, monkeypatch):
    ingest(db_url, [lead(1), lead(2), lead(3)], DAY)
    assert leadgov(db_url, "object", "--email", lead(1)["email"]).exit_code == 0
    assert leadgov(db_url, "erase", "--email", lead(3)["email"]).exit_code == 0
    monkeypatch.setenv("LEADGOV_NEW_HMAC_KEY", NEW_KEY)

    refused = leadgov(db_url, "rekey")
    assert refused.exit_code == 2 and "2 suppression entries cannot be recomputed" in " ".join(refused.output.split())
    dry = json.loads(leadgov(db_url, "rekey", "--dry-run", "--format", "json").stdout)
    assert (dry["leads"], dry["suppression_rekeyed"], dry["suppression_lost"]) == (2, 2, 2)
    assert key_of(lead(2)["email"]) in run_keys(db_url, "email")  # nothing changed

    done = leadgov(db_url, "rekey", "--force", "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["leads"] == 2
    table = leads_table(db_url).set_index("lead_id")
    assert int(table.loc["L-00002", "email_key"]) == key_of(lead(2)["email"], NEW_KEY)
    assert int(table.loc["L-00002", "phone_key"]) == key_of("+33612340002", NEW_KEY)
    assert pd.isna(table.loc["L-00003", "email_key"])
    assert set(run_keys(db_url, "email")) == {key_of(lead(1)["email"], NEW_KEY), key_of(lead(2)["email"], NEW_KEY)}

    later = DAY + timedelta(days=7)
    outcome = ingest_with_key(db_url, [fresh(1, later, lead_id="N-1"), fresh(2, later, lead_id="N-2")], later,
                              NEW_KEY, "new.csv")
    codes = [c.split(";") for c in reasons_codes(outcome)]
    assert "SUPPRESSED" in codes[0]  # the objection was carried over to the new key
    assert "DUPLICATE_PREVIOUS" in codes[1]  # the identity runs were rebuilt with the new key


def test_rekey_needs_a_new_key(db_url, monkeypatch):
    monkeypatch.delenv("LEADGOV_NEW_HMAC_KEY", raising=False)
    assert leadgov(db_url, "rekey").exit_code == 2
    monkeypatch.setenv("LEADGOV_NEW_HMAC_KEY", HMAC_KEY)
    result = leadgov(db_url, "rekey")
    assert result.exit_code == 2 and "differ" in result.output

