"""GDPR: retention, erasure, objection, access and the rotation of the identity key (docs/gdpr.md).

- ``purge``: the personal data of leads older than their contract's ``gdpr.retention_days`` (counted
  from the delivery day, under the contract version the delivery ran under) is erased;
- ``erase``: a person's personal data is erased everywhere leadgov stores it, and the person is put
  on the suppression list so that a later delivery of them is rejected SUPPRESSED;
- ``object``: the person is put on the suppression list, their data is kept;
- ``export``: everything held on a person, as plain data (the right of access);
- ``rekey``: identity keys and suppression hashes recomputed under a new HMAC key.

Who "the person" is follows leadgov's identity rule (docs/deliveries.md): the leads whose normalised
email or phone equals one given, plus those whose raw record contains one of the emails, then one
hop further: the valid emails and phones stored on the leads matched by email or phone count as the
person's too (the duplicate rules already treat them as the same person). Results only ever hold
counts: no function here puts an email, a phone or a name in a message or an exception, except
``export``, whose purpose is to show them.
"""

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TypedDict

import pandas as pd
import phonenumbers
from sqlalchemy.orm import Session

from leadgov.config.contract import ContractError, parse_contract
from leadgov.identity import identity_keys, value_hmac
from leadgov.models import gdpr_store as store
from leadgov.models import review_store
from leadgov.normalise import phones as phone_rules
from leadgov.normalise.emails import normalise_emails
from leadgov.normalise.phones import normalise_phones

#: Suppression reasons written by these commands (``suppression_entry.reason``).
ERASED = "erased"
OBJECTED = "objected"


class BadIdentifier(ValueError):
    """An email or phone that cannot identify anyone (the message never repeats the value)."""


class RekeyRefused(ValueError):
    """The key rotation would lose something, or was asked for nothing."""


# --- who the person is -------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A person as given by the user: normalised emails (lower-cased) and phones (E.164)."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


def _phone(raw: str, region: str) -> str | None:
    """E.164 of one phone as the ingest normalises it: written internationally (``+``, ``00``),
    any region; written nationally, ``region``'s numbers only."""
    region = region.strip().upper()
    regions = [region]
    if phone_rules._INTERNATIONAL.match(raw):
        regions += sorted(phonenumbers.SUPPORTED_REGIONS - {region})
    value = normalise_phones(pd.Series([raw], dtype="str"), regions)["phone"].iloc[0]
    return None if pd.isna(value) else str(value)


def person(emails: Sequence[str] = (), phones: Sequence[str] = (), *, region: str = "FR") -> Person:
    """The person named by these emails and phones, normalised; ``BadIdentifier`` when one is not a
    valid email or phone, or none is given."""
    emails, phones = [e for e in emails if e is not None], [p for p in phones if p is not None]
    if not emails and not phones:
        raise BadIdentifier("give the person's --email or --phone (or both)")
    normalised_emails = []
    if emails:
        values = normalise_emails(pd.Series(list(emails), dtype="str"))["email"]
        for position, value in enumerate(values, start=1):
            if pd.isna(value):
                raise BadIdentifier(f"--email (#{position}) is not a valid email address")
            normalised_emails.append(str(value))
    normalised_phones = []
    for position, raw in enumerate(phones, start=1):
        value = _phone(raw, region)
        if value is None:
            raise BadIdentifier(f"--phone (#{position}) is not a valid phone number of region {region.upper()} "
                                "(write a foreign number with its country code: +CC ...)")
        normalised_phones.append(value)
    return Person(tuple(dict.fromkeys(normalised_emails)), tuple(dict.fromkeys(normalised_phones)))


_EMAIL_TOKEN = re.compile(r"[^\s,;:<>()\[\]{}\"'|]+@[^\s,;:<>()\[\]{}\"'|]+")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def raw_emails(raw_record: str | None) -> set[str]:
    """The email-like tokens of a raw record's values, lower-cased (to confirm a raw match exactly:
    ``x@a.fr`` must not match inside ``max@a.fr``)."""
    if not isinstance(raw_record, str):
        return set()
    try:
        strings = list(_strings(json.loads(raw_record)))
    except ValueError:
        strings = [raw_record]
    return {token.lower().strip(".") for text in strings for token in _EMAIL_TOKEN.findall(text)}


@dataclass(frozen=True)
class Found:
    """A person's leads (``gdpr_store.person_leads`` columns) and all their known emails and phones."""

    leads: pd.DataFrame
    emails: frozenset[str]
    phones: frozenset[str]


def _confirmed(candidates: pd.DataFrame, emails: set[str], phones: set[str]) -> pd.DataFrame:
    """The candidates that match on a column, or whose raw record holds one of ``emails`` exactly;
    ``by_column`` says which."""
    frame = candidates.copy()
    frame["by_column"] = (frame["email"].isin(emails) | frame["phone"].isin(phones)).astype(bool)
    in_raw = frame["raw_record"].map(lambda raw: bool(raw_emails(raw) & emails)).astype(bool)
    return frame[frame["by_column"] | in_raw]


def _search(session: Session, emails: set[str], phones: set[str]) -> pd.DataFrame:
    candidates = store.person_leads(session, emails=emails, phones=phones, raw_emails=emails)
    return _confirmed(candidates, emails, phones)


def find_person(session: Session, who: Person) -> Found:
    """The person's leads: those matching the given emails and phones, then those matching the other
    valid emails and phones stored on them (one hop, not further). The person's emails and phones:
    the given ones and every valid one stored on their leads matched by email or phone (a lead that
    only mentions an email in its raw record may be someone else's: its values are not taken)."""
    emails, phones = set(who.emails), set(who.phones)
    leads = _search(session, emails, phones)
    by_column = leads[leads["by_column"]]
    more_emails = set(by_column["email"].dropna()) - emails
    more_phones = set(by_column["phone"].dropna()) - phones
    if more_emails or more_phones:
        leads = pd.concat([leads, _search(session, emails | more_emails, phones | more_phones)], ignore_index=True)
        leads = leads.sort_values("by_column", ascending=False, kind="stable").drop_duplicates("lead_pk")
    by_column = leads[leads["by_column"]]
    emails |= set(by_column["email"].dropna())
    phones |= set(by_column["phone"].dropna())
    return Found(leads.sort_values("lead_pk").reset_index(drop=True), frozenset(emails), frozenset(phones))


class _Identity(TypedDict):
    kind: str
    value: str
    key_hmac: str
    identity_key: int


def _identities(emails: Iterable[str], phones: Iterable[str], hmac_key: str) -> list[_Identity]:
    """(kind, value, key_hmac, identity_key) of each email and phone, as the suppression list keeps them."""
    rows: list[_Identity] = []
    for kind, values in (("email", sorted(emails)), ("phone", sorted(phones))):
        if not values:
            continue
        keys = identity_keys(pd.Series(values, dtype="str"), hmac_key)
        rows += [_Identity(kind=kind, value=v, key_hmac=value_hmac(v, hmac_key), identity_key=int(k))
                 for v, k in zip(values, keys, strict=True)]
    return rows


@dataclass(frozen=True)
class Suppressed:
    """What adding a person to the suppression list did (counts only)."""

    added: int
    already_listed: int


@dataclass(frozen=True)
class Asked:
    """Who asked for an erasure or an objection, and when (naive UTC): kept on the suppression entries."""

    by: str
    at: datetime


def suppress(session: Session, found: Found, reason: str, hmac_key: str, asked: Asked | None = None) -> Suppressed:
    """Put every email and phone of the person on the suppression list (hashes only), with who asked
    and when. An entry already listed is kept; an erasure turns an ``objected`` entry into ``erased``,
    and then who asked is the erasure's."""
    identities = _identities(found.emails, found.phones, hmac_key)
    stored = store.suppression_by_hmac(session, (i["key_hmac"] for i in identities))
    by = asked.by[:200] if asked else None
    at = asked.at if asked else None
    new: list[dict[str, object]] = [
        {"kind": i["kind"], "key_hmac": i["key_hmac"], "identity_key": i["identity_key"], "reason": reason,
         "requested_by": by, "requested_at": at}
        for i in identities if i["key_hmac"] not in stored
    ]
    if reason == ERASED:
        for entry in stored.values():
            if entry.reason != ERASED:
                entry.reason, entry.requested_by, entry.requested_at = ERASED, by, at
    store.add_suppression(session, new)
    return Suppressed(added=len(new), already_listed=len(identities) - len(new))


# --- erasure and objection ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRequest:
    """What an erasure or an objection did: counts, never who."""

    action: str
    leads_found: int
    leads_erased: int
    suppliers: int
    outcome_notes_erased: int
    identity_runs_changed: int
    identifiers: int
    suppression_added: int
    suppression_already_listed: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def erase(session: Session, who: Person, hmac_key: str, asked: Asked | None = None) -> PersonRequest:
    """Erase the person's personal data from every lead of theirs (the values and identity keys of
    the lead table, the raw record and supplied values of its delivery's block), their outcome notes and
    their keys in the identity runs, and suppress them."""
    found = find_person(session, who)
    suppressed = suppress(session, found, ERASED, hmac_key, asked)
    erased = store.erase_leads(session, found.leads["lead_pk"])
    runs = store.drop_from_runs(session, found.leads[["delivery_id", "row_number"]])
    return PersonRequest("erase", len(found.leads), erased["leads"], found.leads["supplier_id"].nunique(),
                         erased["notes"], runs, len(found.emails) + len(found.phones), suppressed.added,
                         suppressed.already_listed)


def object_to_processing(session: Session, who: Person, hmac_key: str, asked: Asked | None = None) -> PersonRequest:
    """Suppress the person (a later delivery of them is rejected SUPPRESSED); their data is kept."""
    found = find_person(session, who)
    suppressed = suppress(session, found, OBJECTED, hmac_key, asked)
    return PersonRequest("object", len(found.leads), 0, found.leads["supplier_id"].nunique(), 0, 0,
                         len(found.emails) + len(found.phones), suppressed.added, suppressed.already_listed)


# --- access ------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """A stored value as JSON-ready data (NaN and NaT as None, dates as ISO text)."""
    if value is None:
        return None
    try:
        if pd.isna(value):  # type: ignore[call-overload]  # any stored value: a list raises, below
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _raw(raw_record: object) -> object:
    if not isinstance(raw_record, str):
        return None
    try:
        return json.loads(raw_record)
    except ValueError:
        return raw_record


PERSON_FIELDS = ("first_name", "last_name", "job_title", "email", "phone", "language", "need")
COMPANY_FIELDS = ("company_name", "siren", "naf_code", "employees", "legal_form", "postal_code", "department",
                  "country", "budget_eur", "project_horizon_months")


class SuppressionRow(TypedDict):
    """One email or phone of a person and whether the suppression list holds it: since when (ISO 8601),
    and who asked for its latest decision (the objection, or the erasure) and when."""

    kind: str
    value: str
    suppressed: bool
    reason: str | None
    since: str | None
    requested_by: str | None
    requested_at: str | None


class PersonData(TypedDict):
    """Everything held on a person, JSON-ready (``leads``: one document per lead)."""

    generated_at: str
    emails: list[str]
    phones: list[str]
    suppressed: bool
    suppression: list[SuppressionRow]
    leads: list[dict[str, object]]


def export_person(session: Session, who: Person, hmac_key: str, *, generated_at: datetime) -> PersonData:
    """Everything leadgov holds on the person, as JSON-ready data: their leads (supplier, delivery,
    verdict, reasons, personal and company fields, consent evidence, raw record, outcome events, and
    the review decision of a lead held in review: who decided, when, what and why)
    and the suppression status of each of their emails and phones. Nothing found: no leads."""
    found = find_person(session, who)
    leads = store.leads_for_export(session, found.leads["lead_pk"])
    reasons = store.reasons_of(session, leads) if len(leads) else pd.DataFrame(columns=["lead_pk", "code", "detail"])
    events = store.events_of(session, leads["lead_pk"]) if len(leads) else pd.DataFrame(columns=["lead_pk"])
    reviewed = (review_store.decisions_of(session, leads["lead_pk"]) if len(leads)
                else pd.DataFrame(columns=["lead_pk"])).set_index("lead_pk")
    identities = _identities(found.emails, found.phones, hmac_key)
    stored = store.suppression_by_hmac(session, (i["key_hmac"] for i in identities))
    suppression: list[SuppressionRow] = []
    for identity in identities:
        entry = stored.get(identity["key_hmac"])
        suppression.append({"kind": identity["kind"], "value": identity["value"], "suppressed": entry is not None,
                            "reason": entry.reason if entry else None,
                            "since": entry.created_at.isoformat() if entry else None,
                            "requested_by": entry.requested_by if entry else None,
                            "requested_at": entry.requested_at.isoformat() if entry and entry.requested_at else None})
    exported: list[dict[str, object]] = []
    for row in leads.to_dict("records"):
        pk = row["lead_pk"]
        exported.append({
            "supplier": {"id": row["supplier_id"], "name": row["supplier_name"]},
            "delivery": {"id": _plain(row["delivery_id"]), "file_name": row["file_name"],
                         "delivered_on": _plain(row["delivered_on"])},
            "lead_id": row["lead_id"],
            "row_number": _plain(row["row_number"]),
            "status": row["status"],
            "primary_reason": row["primary_reason"],
            "flags": row["flags"],
            "reasons": [{"code": r["code"], "detail": r["detail"]}
                        for r in reasons[reasons["lead_pk"] == pk].to_dict("records")],
            "person": {name: _plain(row[name]) for name in PERSON_FIELDS},
            "company": {name: _plain(row[name]) for name in COMPANY_FIELDS},
            "consent": {"consent_at": _plain(row["consent_at"]), "consent_proof": row["consent_proof"],
                        "notice_sent_at": _plain(row["notice_sent_at"]),
                        "source": row["source"], "campaign": row["campaign"],
                        "collected_at": _plain(row["collected_at"]), "supplier_id": row["supplier_id"],
                        "contract_id": row["contract_id"], "contract_version_id": _plain(row["contract_version_id"]),
                        "contract_sha256": row["contract_sha256"]},
            "replaces_lead_id": row["replaces_lead_id"],
            "erased": bool(row["erased"]),
            "raw_record": _raw(row["raw_record"]),
            "outcome_events": [{key: _plain(value) for key, value in e.items() if key != "lead_pk"}
                               for e in events[events["lead_pk"] == pk].to_dict("records")],
            "review_decision": ({key: _plain(value) for key, value in reviewed.loc[pk].items()}
                                if pk in reviewed.index else None),
        })
    return {
        "generated_at": generated_at.replace(microsecond=0).isoformat(),
        "emails": sorted(found.emails),
        "phones": sorted(found.phones),
        "suppressed": any(s["suppressed"] for s in suppression),
        "suppression": suppression,
        "leads": exported,
    }


# --- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionLine:
    """One contract version's part of a purge: its retention, its cut-off day and what it erased."""

    supplier_id: str
    contract_id: str
    contract_version_id: int
    retention_days: int
    delivered_before: str
    leads: int
    deliveries: int
    outcome_notes: int
    identity_runs: int


@dataclass(frozen=True)
class RetentionResult:
    """A purge (or its dry run): counts per contract version, and the versions that could not be read."""

    as_of: date
    dry_run: bool
    lines: tuple[RetentionLine, ...] = ()
    errors: tuple[str, ...] = ()

    def total(self, name: str) -> int:
        return sum(getattr(line, name) for line in self.lines)

    def by_supplier(self) -> dict[str, dict[str, int]]:
        suppliers: dict[str, dict[str, int]] = {}
        for line in self.lines:
            figures = suppliers.setdefault(line.supplier_id, {"leads": 0, "deliveries": 0, "outcome_notes": 0})
            for name in figures:
                figures[name] += getattr(line, name)
        return suppliers

    def as_dict(self) -> dict[str, object]:
        return {"as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "leads": self.total("leads"), "deliveries": self.total("deliveries"),
                "outcome_notes": self.total("outcome_notes"), "identity_runs": self.total("identity_runs"),
                "by_supplier": self.by_supplier(), "contracts": [asdict(line) for line in self.lines],
                "errors": list(self.errors)}


def purge(session: Session, as_of: date, *, dry_run: bool = False) -> RetentionResult:
    """Erase the personal data of every lead delivered more than its contract's ``retention_days``
    before ``as_of`` (a lead delivered exactly that many days ago is kept until the next day).

    The contract is the version its delivery ran under. A dry run counts the same leads and
    changes nothing; a second run finds nothing left to erase. A stored version that no longer
    parses is reported in ``errors`` and its leads are left as they are."""
    lines, errors = [], []
    for version in store.contract_versions_in_use(session):
        try:
            contract = parse_contract(version.content, version.source_path).contract
        except ContractError:
            errors.append(f"contract version {version.id} ({version.contract_id}) of {version.supplier_id} "
                          "cannot be read any more: its leads were not purged")
            continue
        days = contract.gdpr.retention_days
        cutoff = as_of - timedelta(days=days)
        count = store.count_expired if dry_run else store.erase_expired
        counts = count(session, version.id, version.supplier_id, cutoff)
        lines.append(RetentionLine(version.supplier_id, version.contract_id, version.id, days, cutoff.isoformat(),
                                   counts["leads"], counts["deliveries"], counts["notes"], counts["identity_runs"]))
    return RetentionResult(as_of, dry_run, tuple(lines), tuple(errors))


# --- key rotation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RekeyResult:
    """What a key rotation did (or would do): counts only."""

    dry_run: bool
    leads: int
    deliveries: int
    suppression_rekeyed: int
    suppression_lost: int
    lost_ids: tuple[int, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _rekeyed_suppression(
    session: Session, old_key: str, new_key: str
) -> tuple[list[dict[str, object]], list[int]]:
    """New (key_hmac, identity_key) of each entry whose value some lead still holds; ids of the others."""
    entries = store.suppression_entries(session)
    rows: list[dict[str, object]] = []
    lost: list[int] = []
    for kind in ("email", "phone"):
        listed = entries[entries["kind"] == kind]
        if listed.empty:
            continue
        values = store.values_with_keys(session, kind, listed["identity_key"])
        proofs = {value_hmac(v, old_key): v for v in values["value"].unique()}
        for entry_id, key_hmac in zip(listed["id"], listed["key_hmac"], strict=True):
            value = proofs.get(key_hmac)
            if value is None:
                lost.append(int(entry_id))
                continue
            key = identity_keys(pd.Series([value], dtype="str"), new_key).iloc[0]
            rows.append({"id": int(entry_id), "key_hmac": value_hmac(value, new_key), "identity_key": int(key)})
    lost += [int(i) for i in entries.loc[~entries["kind"].isin(["email", "phone"]), "id"]]
    return rows, sorted(lost)


def rekey(session: Session, old_key: str, new_key: str, *, force: bool = False, dry_run: bool = False,
          chunk_leads: int = 50_000) -> RekeyResult:
    """Recompute every identity key and suppression hash under ``new_key`` in the caller's transaction.

    Leads' keys are recomputed from their stored normalised email and phone (erased leads have
    none), then the identity runs are rebuilt from them. A suppression entry is recomputed from
    the value of a lead that still holds it (its old HMAC confirms the value); an entry of a
    person whose data was erased cannot be (leadgov keeps only its hashes): without ``force`` the
    rotation is refused when there are any, with it they are kept unchanged and stop matching."""
    if not new_key or new_key == old_key:
        raise RekeyRefused("the new key must be set and differ from the current one")
    suppression, lost = _rekeyed_suppression(session, old_key, new_key)
    if lost and not force and not dry_run:
        raise RekeyRefused(f"{len(lost)} suppression entries cannot be recomputed (their person's data was erased, "
                           "only their hashes are kept): with the new key they would no longer reject anyone. "
                           "Use --force to rotate anyway (docs/gdpr.md, Rotating the key)")
    sizes = store.delivery_sizes(session)
    if dry_run:
        leads = int(store.count_leads_with_identity(session))
        return RekeyResult(True, leads, len(sizes), len(suppression), len(lost), tuple(lost))
    store.update_suppression_keys(session, suppression)
    store.start_key_updates(session)
    leads, last = 0, 0
    while True:
        batch = store.lead_values_after(session, last, chunk_leads)
        if batch.empty:
            break
        keys = pd.DataFrame({"id": batch["lead_pk"],
                             "email_key": identity_keys(batch["email"], new_key),
                             "phone_key": identity_keys(batch["phone"], new_key)})
        leads += store.stage_and_apply_keys(session, keys)
        last = int(batch["lead_pk"].iloc[-1])
    store.end_key_updates(session)
    deliveries, group, size = 0, [], 0
    for delivery_id, leads_count in zip(sizes["delivery_id"], sizes["leads"], strict=True):
        group.append(int(delivery_id))
        size += int(leads_count)
        if size >= chunk_leads:
            deliveries += store.rebuild_identity_runs(session, group)
            group, size = [], 0
    if group:
        deliveries += store.rebuild_identity_runs(session, group)
    return RekeyResult(False, leads, deliveries, len(suppression), len(lost), tuple(lost))
