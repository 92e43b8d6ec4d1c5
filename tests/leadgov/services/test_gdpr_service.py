"""The GDPR jobs as services, on a real database with a pinned clock and no Slack: the purge's day
comes from the runtime's clock, the HMAC key and the phone region from its settings, and every
refusal is a ``Refused`` that never repeats the value."""

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import HMAC_KEY, ingest, lead, make_contract_file, service_runtime
from sqlalchemy import func, select

from leadgov.errors import Refused
from leadgov.models import Lead, SuppressionEntry
from leadgov.models.db import session_scope
from leadgov.services.gdpr import (
    PersonExport,
    PersonRequest,
    PurgeRequest,
    RekeyRequest,
    SuppressionStatus,
    erase_person,
    export_person,
    object_for_person,
    purge_expired,
    rekey,
)
from leadgov.services.runtime import local_user

DAY = date(2027, 3, 1)
SHORT = make_contract_file(**{"contract_id": "SHORT-2027", "supplier.id": "shortco", "supplier.name": "Short Co",
                              "gdpr.retention_days": 30})
PERSON = lead(1)


def runtime(db_url, day: date = DAY, *, key: str = HMAC_KEY, region: str = "FR"):
    """A runtime on ``db_url`` whose clock says ``day`` (09:00 in Paris), with ``key``, without Slack."""
    return service_runtime(db_url, day, hmac_key=key, default_phone_region=region)


def with_email(db_url) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(Lead).where(Lead.email.isnot(None)))


def suppression(db_url) -> set[tuple[str, str]]:
    with session_scope(db_url) as session:
        return {(e.kind, e.reason) for e in session.scalars(select(SuppressionEntry))}


def test_the_purge_computes_ages_on_the_runtimes_day_by_default(db_url):
    ingest(db_url, [lead(1), lead(2)], DAY, contract=SHORT)

    kept = purge_expired(runtime(db_url, DAY + timedelta(days=30)), PurgeRequest())  # exactly 30 days: kept
    assert (kept.as_of, kept.dry_run, kept.total("leads")) == (DAY + timedelta(days=30), False, 0)

    dry = purge_expired(runtime(db_url, DAY + timedelta(days=31)), PurgeRequest(dry_run=True))
    assert (dry.as_of, dry.total("leads"), dry.total("deliveries")) == (DAY + timedelta(days=31), 2, 1)
    assert with_email(db_url) == 2  # a dry run changes nothing

    pinned = purge_expired(runtime(db_url, DAY), PurgeRequest(as_of=DAY + timedelta(days=31)))  # the request wins
    assert (pinned.as_of, pinned.total("leads")) == (DAY + timedelta(days=31), 2)
    assert [(line.contract_id, line.retention_days, line.delivered_before) for line in pinned.lines] == [
        ("SHORT-2027", 30, (DAY + timedelta(days=1)).isoformat())]
    assert with_email(db_url) == 0
    assert purge_expired(runtime(db_url, DAY + timedelta(days=31)), PurgeRequest()).total("leads") == 0


def test_erase_and_object_name_the_person_in_the_settings_region(db_url):
    ingest(db_url, [lead(1), lead(2)], DAY)

    objected = object_for_person(runtime(db_url), PersonRequest(phones=("06 12 34 00 01",)))  # national, FR
    assert (objected.action, objected.leads_found, objected.leads_erased, objected.suppression_added) == (
        "object", 1, 0, 2)
    assert suppression(db_url) == {("email", "objected"), ("phone", "objected")}
    assert with_email(db_url) == 2  # the data is kept

    with pytest.raises(Refused, match="region GB") as refused:  # not a British number written nationally
        erase_person(runtime(db_url, region="GB"), PersonRequest(phones=("06 12 34 00 01",)))
    assert "06" not in str(refused.value) and "12 34" not in str(refused.value)

    erased = erase_person(runtime(db_url), PersonRequest(emails=(PERSON["email"].upper(),)))
    assert (erased.action, erased.leads_erased, erased.suppression_added, erased.suppression_already_listed) == (
        "erase", 1, 0, 2)
    assert suppression(db_url) == {("email", "erased"), ("phone", "erased")}
    assert with_email(db_url) == 1
    assert "camille" not in repr(erased).lower()


def test_a_person_named_by_nothing_valid_is_refused_without_the_value(db_url):
    for request in (PersonRequest(), PersonRequest(emails=("camille.secret@nowhere",)),
                    PersonRequest(phones=("06 secret",))):
        for job in (erase_person, object_for_person, export_person):
            with pytest.raises(Refused) as refused:
                job(runtime(db_url), request)
            assert "secret" not in str(refused.value) and "camille" not in str(refused.value)
    assert suppression(db_url) == set()


def test_the_export_is_typed_and_stamped_by_the_runtimes_clock(db_url):
    ingest(db_url, [lead(1), lead(2)], DAY)
    object_for_person(runtime(db_url), PersonRequest(emails=(PERSON["email"],)))

    result = export_person(runtime(db_url, date(2027, 4, 2)), PersonRequest(emails=(PERSON["email"],)))

    assert isinstance(result, PersonExport)
    assert result.generated_at == datetime.combine(date(2027, 4, 2), time(9, 0), ZoneInfo("Europe/Paris"))
    assert (result.emails, result.phones, result.suppressed) == ((PERSON["email"],), ("+33612340001",), True)
    assert result.suppression[0] == SuppressionStatus("email", PERSON["email"], True, "objected",
                                                      result.suppression[0].since, local_user(),
                                                      "2027-03-01T08:00:00")  # who ran it; the clock's 09:00 in UTC
    assert [x["lead_id"] for x in result.leads] == ["L-00001"]
    document = json.loads(json.dumps(result.as_dict()))
    assert document["generated_at"] == "2027-04-02T09:00:00+02:00" and document["suppressed"] is True
    assert document["leads"][0]["person"]["email"] == PERSON["email"]

    nobody = export_person(runtime(db_url), PersonRequest(emails=("nobody@example.org",)))
    assert nobody.leads == () and nobody.suppressed is False


def test_rekey_rotates_from_the_settings_key(db_url):
    ingest(db_url, [lead(1), lead(2)], DAY)
    erase_person(runtime(db_url), PersonRequest(emails=(lead(2)["email"],)))
    object_for_person(runtime(db_url), PersonRequest(emails=(PERSON["email"],)))

    with pytest.raises(Refused, match="differ"):
        rekey(runtime(db_url), RekeyRequest(HMAC_KEY))
    with pytest.raises(Refused, match="2 suppression entries cannot be recomputed"):
        rekey(runtime(db_url), RekeyRequest("new-key"))
    assert "new-key" not in repr(RekeyRequest("new-key"))

    dry = rekey(runtime(db_url), RekeyRequest("new-key", dry_run=True))
    assert (dry.dry_run, dry.leads, dry.suppression_rekeyed, dry.suppression_lost) == (True, 1, 2, 2)
    done = rekey(runtime(db_url), RekeyRequest("new-key", force=True))
    assert (done.dry_run, done.leads, done.deliveries, done.suppression_rekeyed) == (False, 1, 1, 2)

    # The settings now hold the new key: the objection still matches the person.
    again = object_for_person(runtime(db_url, key="new-key"), PersonRequest(emails=(PERSON["email"],)))
    assert (again.suppression_added, again.suppression_already_listed) == (0, 2)
