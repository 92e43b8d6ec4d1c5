"""Session-taking functions behind leadgov's GDPR commands: retention, erasure, access, rekeying.

They never commit (the caller owns the transaction, so a purge or an erasure happens whole or not
at all) and work set-based: one statement per contract version for the retention purge, one per
chunk of leads for an erasure, never one per lead.

What "erased" means for a lead (docs/gdpr.md): every value its supplier delivered is set to NULL
(``ERASED_COLUMNS`` of the lead table: email, phone, SIREN and the identity keys; its raw record and
every supplied value in its delivery's block: ``models.raw_record``), but its ids (``lead_id``,
``replaces_lead_id``), and the lead is marked ``erased``; the details of its reasons become
``ERASED_DETAIL`` (a detail may quote a value). Its verdict, reason codes, outcome events (but their
``note``), review decisions (but their ``comment``), claims and billing lines stay, so counts and
invoices are unchanged.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from leadgov.models.db import changed_rows, chunks, is_sqlite
from leadgov.models.delivery import Delivery, Lead, LeadReason, deliveries_between
from leadgov.models.delivery_store import bulk_insert
from leadgov.models.identity import IdentityRun
from leadgov.models.identity_store import rebuild_runs
from leadgov.models.lead_review import LeadReviewDecision
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.raw_record_store import (
    delete_raw_records,
    erase_raw_records,
    raw_records_at,
    search_raw_records,
    supplied_values_at,
)
from leadgov.models.supplier import ContractVersion, Supplier
from leadgov.models.suppression import SuppressionEntry

#: The lead table's columns of values a supplier delivered, and the keyed hashes of the email and phone
#: (pseudonymous personal data): an erasure sets them to NULL. The lead's other supplied values are in
#: its delivery's block, erased there (``models.raw_record.SUPPLIED_VALUES``).
ERASED_COLUMNS = ("siren", "email", "phone", "email_key", "phone_key")
#: The detail of an erased lead's reasons: the code stays, the detail quoted the lead's values.
ERASED_DETAIL = "erased with the lead's data"
_ERASED_VALUES: dict[str, object] = {**dict.fromkeys(ERASED_COLUMNS), "erased": True}
_NO_SYNC = {"synchronize_session": False}


def not_erased() -> ColumnElement[bool]:
    """SQL condition: the lead still holds its data (it was neither erased nor stored SUPPRESSED)."""
    return Lead.erased.is_(False)


def _erase_details(session: Session, reasons: ColumnElement[bool]) -> None:
    """Set the details of these reasons to ``ERASED_DETAIL``."""
    session.execute(update(LeadReason).where(reasons, LeadReason.detail != ERASED_DETAIL)
                    .values(detail=ERASED_DETAIL), execution_options=_NO_SYNC)


# --- retention ---------------------------------------------------------------------------------


def contract_versions_in_use(session: Session) -> list[ContractVersion]:
    """The contract versions that some stored delivery ran under, by id."""
    used = select(Delivery.contract_version_id).distinct()
    return list(session.scalars(select(ContractVersion).where(ContractVersion.id.in_(used))
                                .order_by(ContractVersion.id)).all())


def _expired(version_id: int, supplier_id: str, cutoff: date) -> ColumnElement[bool]:
    """SQL condition: leads of deliveries run under ``version_id`` delivered before ``cutoff``."""
    deliveries = deliveries_between(supplier_id, last=cutoff - timedelta(days=1))
    return Lead.delivery_id.in_(deliveries.where(Delivery.contract_version_id == version_id))


def _notes_of(leads_condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(OutcomeEvent.note.isnot(None),
                OutcomeEvent.lead_pk.in_(select(Lead.id).where(leads_condition)))


def count_expired(session: Session, version_id: int, supplier_id: str, cutoff: date) -> dict[str, int]:
    """What ``erase_expired`` would do: leads still holding personal data, their notes, deliveries."""
    condition = and_(_expired(version_id, supplier_id, cutoff), not_erased())
    leads, deliveries = session.execute(
        select(func.count(), func.count(Lead.delivery_id.distinct())).where(condition)).one()
    notes = session.scalar(select(func.count()).select_from(OutcomeEvent)
                           .where(_notes_of(_expired(version_id, supplier_id, cutoff))))
    runs = session.scalar(select(func.count()).select_from(IdentityRun).where(
        IdentityRun.delivery_id.in_(select(Delivery.id).where(Delivery.contract_version_id == version_id,
                                                              Delivery.delivered_on < cutoff))))
    return {"leads": int(leads or 0), "deliveries": int(deliveries or 0), "notes": int(notes or 0),
            "identity_runs": int(runs or 0)}


def erase_expired(session: Session, version_id: int, supplier_id: str, cutoff: date) -> dict[str, int]:
    """Erase the personal data of the leads of ``version_id`` delivered before ``cutoff``, the
    details of their reasons, their outcome notes, and their deliveries' identity runs (each
    delivery is erased whole: its leads share its day and its contract). Already erased leads are
    not counted again."""
    counts = count_expired(session, version_id, supplier_id, cutoff)
    expired = _expired(version_id, supplier_id, cutoff)
    deliveries = select(Delivery.id).where(Delivery.contract_version_id == version_id, Delivery.delivered_on < cutoff)
    session.execute(update(OutcomeEvent).where(_notes_of(expired)).values(note=None), execution_options=_NO_SYNC)
    _erase_review_comments(session, select(Lead.id).where(expired))
    _erase_details(session, LeadReason.delivery_id.in_(deliveries))
    session.execute(update(Lead).where(expired, not_erased()).values(**_ERASED_VALUES), execution_options=_NO_SYNC)
    session.execute(delete(IdentityRun).where(IdentityRun.delivery_id.in_(deliveries)), execution_options=_NO_SYNC)
    delete_raw_records(session, deliveries)
    return counts


# --- finding a person --------------------------------------------------------------------------


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def person_leads(session: Session, *, emails: Iterable[str] = (), phones: Iterable[str] = (),
                 raw_emails: Iterable[str] = ()) -> pd.DataFrame:
    """Leads whose normalised email is in ``emails`` or phone in ``phones``, or whose raw record
    contains one of ``raw_emails`` (lower-cased; a candidate the caller must confirm): lead_pk,
    delivery_id, row_number, supplier_id, email, phone, raw_record. One scan of the lead table (the
    personal columns have no index, on purpose) and, for ``raw_emails``, one of the raw records."""
    emails, phones, raw_emails = sorted(set(emails)), sorted(set(phones)), sorted(set(raw_emails))
    columns = ["lead_pk", "delivery_id", "row_number", "supplier_id", "email", "phone", "raw_record"]
    conditions = []
    if emails:
        conditions.append(Lead.email.in_(emails))
    if phones:
        conditions.append(Lead.phone.in_(phones))
    in_raw = search_raw_records(session, raw_emails)
    for chunk in chunks(list(in_raw[["delivery_id", "row_number"]].itertuples(index=False, name=None))):
        conditions.append(tuple_(Lead.delivery_id, Lead.row_number).in_(chunk))
    if not conditions:
        return pd.DataFrame(columns=columns)
    rows = session.execute(
        select(Lead.id, Lead.delivery_id, Lead.row_number, Lead.supplier_id, Lead.email, Lead.phone)
        .where(or_(*conditions)).order_by(Lead.id)).all()
    found = pd.DataFrame(rows, columns=columns[:-1])
    found["raw_record"] = raw_records_at(session, found)
    return found


# --- erasure -----------------------------------------------------------------------------------


def _erase_review_comments(session: Session, lead_pks: Sequence[int] | Select[int]) -> None:
    """Blank the comments of these leads' review decisions: free text that may name the person. The
    decision, who took it and when stay (they are about the buyer's staff, not the lead)."""
    session.execute(update(LeadReviewDecision)
                    .where(LeadReviewDecision.lead_pk.in_(lead_pks), LeadReviewDecision.comment != "")
                    .values(comment=""), execution_options=_NO_SYNC)


def erase_leads(session: Session, lead_pks: Iterable[int]) -> dict[str, int]:
    """Erase the personal data of these leads, the details of their reasons and their outcome notes:
    what was erased (leads that still held something, notes that were set)."""
    pks = sorted({int(pk) for pk in lead_pks})
    leads = notes = 0
    for chunk in chunks(pks):
        notes += changed_rows(session.execute(
            update(OutcomeEvent).where(OutcomeEvent.lead_pk.in_(chunk), OutcomeEvent.note.isnot(None))
            .values(note=None), execution_options=_NO_SYNC))
        _erase_review_comments(session, chunk)
        _erase_details(session, tuple_(LeadReason.delivery_id, LeadReason.row_number).in_(
            select(Lead.delivery_id, Lead.row_number).where(Lead.id.in_(chunk))))
        places = pd.DataFrame(session.execute(select(Lead.id, Lead.delivery_id, Lead.row_number,
                                                     not_erased().label("held"))
                                              .where(Lead.id.in_(chunk))).all(),
                              columns=["id", "delivery_id", "row_number", "held"])
        held = set(places.loc[places["held"].astype(bool), "id"].astype(int))
        session.execute(update(Lead).where(Lead.id.in_(held)).values(**_ERASED_VALUES), execution_options=_NO_SYNC)
        records = erase_raw_records(session, places)  # a lead that held only its raw record is erased too
        held |= set(places.merge(records, on=["delivery_id", "row_number"])["id"].astype(int))
        leads += len(held)
    return {"leads": leads, "notes": notes}


def drop_from_runs(session: Session, rows: pd.DataFrame) -> int:
    """Remove the keys of these leads (``delivery_id``, ``row_number``) from their deliveries'
    identity runs: a run is rewritten without them, or deleted when nothing is left. How many runs
    changed. One read and one write per run touched (a delivery holds a person at most a few times)."""
    changed = 0
    for delivery_id, group in rows.groupby("delivery_id"):
        drop = group["row_number"].to_numpy(dtype=np.int32)
        delivery = int(delivery_id)  # type: ignore[arg-type]  # pandas-stubs: a group key is any scalar (an id here)
        for run in session.scalars(select(IdentityRun).where(IdentityRun.delivery_id == delivery)).all():
            keys = np.frombuffer(run.keys, dtype="<i8")
            numbers = np.frombuffer(run.rows, dtype="<i4")
            keep = ~np.isin(numbers, drop)
            if keep.all():
                continue
            changed += 1
            if not keep.any():
                session.delete(run)
                continue
            run.keys, run.rows, run.size = keys[keep].tobytes(), numbers[keep].tobytes(), int(keep.sum())
    session.flush()
    return changed


# --- the suppression list ----------------------------------------------------------------------


def suppression_by_hmac(session: Session, hmacs: Iterable[str]) -> dict[str, SuppressionEntry]:
    """The stored entries among these proofs, by proof."""
    hmacs = sorted(set(hmacs))
    found: dict[str, SuppressionEntry] = {}
    for chunk in chunks(hmacs):
        for entry in session.scalars(select(SuppressionEntry).where(SuppressionEntry.key_hmac.in_(chunk))).all():
            found[entry.key_hmac] = entry
    return found


def add_suppression(session: Session, entries: list[dict[str, object]]) -> None:
    """Add entries (kind, key_hmac, identity_key, reason); the caller skipped the stored ones."""
    session.add_all(SuppressionEntry(**entry) for entry in entries)
    session.flush()


# --- access ------------------------------------------------------------------------------------

_EXPORT_LEAD_COLUMNS = ("lead_id", "row_number", "delivered_on", "status", "primary_reason", "flags", "siren", "email",
                        "phone", "replaces_lead_id", "erased")


def leads_for_export(session: Session, lead_pks: Iterable[int]) -> pd.DataFrame:
    """Everything stored on these leads, with their supplier, delivery and contract version, their
    supplied values and raw record."""
    pks = sorted({int(pk) for pk in lead_pks})
    columns = ["lead_pk", "supplier_id", "supplier_name", "delivery_id", "file_name", "contract_version_id",
               "contract_id", "contract_sha256", *_EXPORT_LEAD_COLUMNS]
    rows: list[Sequence[object]] = []
    for chunk in chunks(pks):
        rows += session.execute(
            select(Lead.id, Lead.supplier_id, Supplier.name, Lead.delivery_id, Delivery.file_name,
                   Delivery.contract_version_id, ContractVersion.contract_id, ContractVersion.sha256,
                   *(getattr(Lead, c) for c in _EXPORT_LEAD_COLUMNS))
            .join(Delivery, Delivery.id == Lead.delivery_id)
            .join(Supplier, Supplier.id == Lead.supplier_id)
            .join(ContractVersion, ContractVersion.id == Delivery.contract_version_id)
            .where(Lead.id.in_(chunk))).all()
    leads = pd.DataFrame(rows, columns=columns).sort_values("lead_pk").reset_index(drop=True)
    leads = pd.concat([leads, supplied_values_at(session, leads)], axis=1)
    leads["raw_record"] = raw_records_at(session, leads)
    return leads


def reasons_of(session: Session, leads: pd.DataFrame) -> pd.DataFrame:
    """The reasons (code, detail) of these leads (``lead_pk``, ``delivery_id``, ``row_number``)."""
    columns = ["lead_pk", "code", "detail"]
    rows: list[Sequence[object]] = []
    for chunk in chunks(leads["lead_pk"].astype(int).tolist()):
        rows += session.execute(
            select(Lead.id, LeadReason.code, LeadReason.detail)
            .join(Lead, and_(Lead.delivery_id == LeadReason.delivery_id, Lead.row_number == LeadReason.row_number))
            .where(Lead.id.in_(chunk)).order_by(LeadReason.id)).all()
    return pd.DataFrame(rows, columns=columns)


def events_of(session: Session, lead_pks: Iterable[int]) -> pd.DataFrame:
    """The outcome events of these leads, in time order."""
    columns = ["lead_pk", "event", "at", "contest_reason", "amount_eur", "objection", "note", "source", "imported_at",
               "recorded_by"]
    rows: list[Sequence[object]] = []
    for chunk in chunks(sorted({int(pk) for pk in lead_pks})):
        rows += session.execute(
            select(OutcomeEvent.lead_pk, OutcomeEvent.event, OutcomeEvent.at, OutcomeEvent.contest_reason,
                   OutcomeEvent.amount_eur, OutcomeEvent.objection, OutcomeEvent.note, OutcomeEvent.source,
                   OutcomeEvent.imported_at, OutcomeEvent.recorded_by)
            .where(OutcomeEvent.lead_pk.in_(chunk)).order_by(OutcomeEvent.at, OutcomeEvent.id)).all()
    return pd.DataFrame(rows, columns=columns)


# --- rekeying ----------------------------------------------------------------------------------


def suppression_entries(session: Session) -> pd.DataFrame:
    """The whole suppression list (hashes only): id, kind, key_hmac, identity_key."""
    rows = session.execute(select(SuppressionEntry.id, SuppressionEntry.kind, SuppressionEntry.key_hmac,
                                  SuppressionEntry.identity_key).order_by(SuppressionEntry.id)).all()
    return pd.DataFrame(rows, columns=["id", "kind", "key_hmac", "identity_key"])


def values_with_keys(session: Session, kind: str, keys: Iterable[int]) -> pd.DataFrame:
    """Distinct stored values of ``kind`` (email or phone) whose key is among ``keys``: key, value.
    One statement (a scan of the lead table joined with the keys)."""
    keys = np.unique(np.asarray(list(keys), dtype=np.int64))
    if not len(keys):
        return pd.DataFrame(columns=["key", "value"])
    if is_sqlite(session):
        source, bound = "json_each(:keys) AS k", json.dumps(keys.tolist())
    else:
        source, bound = "unnest(CAST(:keys AS bigint[])) AS k(value)", keys.tolist()
    sql = text(f"SELECT DISTINCT l.{kind}_key, l.{kind} FROM {source} JOIN lead AS l "
               f"ON l.{kind}_key = k.value WHERE l.{kind} IS NOT NULL")
    return pd.DataFrame(session.execute(sql, {"keys": bound}).all(), columns=["key", "value"])


def update_suppression_keys(session: Session, rows: list[dict[str, object]]) -> None:
    """Set new (key_hmac, identity_key) on entries by id (the list is small: one batch)."""
    if rows:
        session.execute(update(SuppressionEntry), rows)


def lead_values_after(session: Session, after_pk: int, limit: int) -> pd.DataFrame:
    """The next ``limit`` leads after ``after_pk`` that hold an email or a phone: lead_pk, email, phone."""
    rows = session.execute(
        select(Lead.id, Lead.email, Lead.phone)
        .where(Lead.id > after_pk, or_(Lead.email.isnot(None), Lead.phone.isnot(None)))
        .order_by(Lead.id).limit(limit)).all()
    return pd.DataFrame(rows, columns=["lead_pk", "email", "phone"])


_REKEY_TABLE = "gdpr_rekey"


def start_key_updates(session: Session) -> None:
    """A temporary table of new keys (id, email_key, phone_key), filled by ``stage_keys``."""
    session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_REKEY_TABLE} "
                         "(id BIGINT PRIMARY KEY, email_key BIGINT, phone_key BIGINT)"))
    session.execute(text(f"DELETE FROM {_REKEY_TABLE}"))


def stage_and_apply_keys(session: Session, keys: pd.DataFrame) -> int:
    """Write one chunk of new keys (``id``, ``email_key``, ``phone_key``) to the leads, through the
    temporary table: one bulk insert and one UPDATE ... FROM per chunk. How many leads changed."""
    if keys.empty:
        return 0
    session.execute(text(f"DELETE FROM {_REKEY_TABLE}"))
    frame = pd.DataFrame({
        "id": keys["id"].astype("int64"),
        "email_key": keys["email_key"].astype(object).where(keys["email_key"].notna(), None),
        "phone_key": keys["phone_key"].astype(object).where(keys["phone_key"].notna(), None),
    })
    bulk_insert(session, _REKEY_TABLE, frame)
    result = session.execute(text(
        f"UPDATE lead SET email_key = t.email_key, phone_key = t.phone_key FROM {_REKEY_TABLE} AS t "
        "WHERE lead.id = t.id"))
    return changed_rows(result)


def end_key_updates(session: Session) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {_REKEY_TABLE}"))


def delivery_sizes(session: Session) -> pd.DataFrame:
    """Every delivery's id and number of leads, by id (to rebuild identity runs in bounded chunks)."""
    rows = session.execute(select(Delivery.id, Delivery.delivered_count).order_by(Delivery.id)).all()
    return pd.DataFrame(rows, columns=["delivery_id", "leads"])


def rebuild_identity_runs(session: Session, delivery_ids: list[int]) -> int:
    """Rewrite these deliveries' identity runs from their leads' (new) keys."""
    return rebuild_runs(session.connection(), delivery_ids)



def count_leads_with_identity(session: Session) -> int:
    """Leads that hold an email or a phone (what a key rotation recomputes)."""
    return session.scalar(select(func.count()).select_from(Lead).where(
        or_(Lead.email.isnot(None), Lead.phone.isnot(None)))) or 0
