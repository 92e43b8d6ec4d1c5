"""Validate one delivery file and store it: the code that the CLI and the flow share.

The work is split in two halves so the flow can show them as tasks:
``check_delivery`` is pure (read, normalise, per-field rules) and needs no database;
``store_delivery`` runs in the caller's transaction: it looks up what is known about the
delivery's people, decides, and stores the delivery, its leads and reasons all at once.
"""

import hashlib
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import InitVar, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from pandera.typing.pandas import DataFrame
from sqlalchemy.orm import Session

from leadgov.claims import record_delivery_claims
from leadgov.config.contract import ContractFile
from leadgov.config.settings import Settings
from leadgov.frames import LeadRows
from leadgov.identity import identity_keys
from leadgov.models import delivery_store as store
from leadgov.models import identity_store, raw_record_store
from leadgov.models import pilot as pilot_store
from leadgov.models.gdpr_store import ERASED_COLUMNS, ERASED_DETAIL
from leadgov.models.raw_record_store import EncodedBlock
from leadgov.models.statuses import LeadStatus
from leadgov.models.supplier import ensure_supplier, refuse_if_terminated, register_contract_version
from leadgov.normalise import emails, phones
from leadgov.reading import RawDelivery, ReadOptions, UnreadableFile, read_crm_export, read_delivery
from leadgov.reasons import LeadFlag, RejectionReason
from leadgov.validation.engine import ValidationResult, build_verdicts, decide, field_reasons, order_reasons
from leadgov.validation.lead_ids import refuse_personal_ids
from leadgov.validation.people import KnownPeople, people_failures, text_in
from leadgov.validation.prepare import PreparedLeads, prepare_leads

Timings = dict[str, float]
#: The valid normalised emails and phones of a CRM export.
CrmPeople = tuple[frozenset[str], frozenset[str]]


@contextmanager
def timed(timings: Timings | None, stage: str) -> Iterator[None]:
    """Add the wall time of the block to ``timings[stage]`` (benchmarks print them)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def read_bounded(path: Path, max_bytes: int, *, follow_links: bool = True) -> bytes:
    """A received file's bytes (delivery, CRM or outcome export), refused whole when missing or larger
    than ``LEADGOV_MAX_FILE_BYTES``; the size is checked before reading, so the limit bounds memory.
    With ``follow_links=False`` (an inbox, where whoever drops a file can drop a link) anything but a
    regular file is refused: a symbolic link is never followed, a pipe or a device never opened."""
    if not follow_links:
        return _read_regular_file(path, max_bytes)
    if not path.is_file():
        raise UnreadableFile(path.name, "no such file")
    _check_size(path.name, path.stat().st_size, max_bytes)
    return path.read_bytes()


#: Why a link or a special file in an inbox is refused (the file is never followed or opened).
LINK_REFUSED = "a symbolic link, not a delivered file: refused without following it"
SPECIAL_REFUSED = "not a regular file (a pipe, a socket or a device): refused without opening it"


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise UnreadableFile(name, f"{size} bytes is more than the {max_bytes}-byte limit (LEADGOV_MAX_FILE_BYTES)")


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path`` when it is itself a regular file. It is opened without following a link
    and checked to be the file first seen, so that one swapped for a link in between is refused too."""
    try:
        seen = path.lstat()
    except FileNotFoundError:
        raise UnreadableFile(path.name, "no such file") from None
    if stat.S_ISLNK(seen.st_mode):
        raise UnreadableFile(path.name, LINK_REFUSED)
    if not stat.S_ISREG(seen.st_mode):
        raise UnreadableFile(path.name, SPECIAL_REFUSED)
    _check_size(path.name, seen.st_size, max_bytes)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        if path.is_symlink():
            raise UnreadableFile(path.name, LINK_REFUSED) from None
        raise
    with os.fdopen(descriptor, "rb") as file:
        opened = os.fstat(file.fileno())
        if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
            raise UnreadableFile(path.name, "replaced by another file while being read: refused, deliver it again")
        data = file.read(max_bytes + 1)
    _check_size(path.name, len(data), max_bytes)
    return data


@dataclass(frozen=True)
class DeliveryReceipt:
    """What is kept of a delivered file once its bytes are read: its name, the day it was received
    and the hash its bytes are recognised by."""

    file_name: str
    delivered_on: date
    sha256: str


@dataclass(frozen=True, eq=False)
class DeliveryFile:
    """A delivery as received: its bytes, its name and the day it was received.

    The bytes are handed over once (``take``), to the read: the file then forgets them, so that they
    are freed as soon as they are parsed, whoever still holds the file (the service until its last
    step; a flow keeps each task's result until its run ends). That is 272 MB at a million leads, all
    the way through the normalisation, the stage that sets the peak. After the read, only the
    ``receipt`` is needed."""

    data: InitVar[bytes]
    file_name: str
    delivered_on: date
    sha256: str
    _unread: list[bytes] = field(init=False, repr=False)

    def __post_init__(self, data: bytes) -> None:
        object.__setattr__(self, "_unread", [data])

    def take(self) -> bytes:
        """The bytes, handed over to the one read of the file; a second read is a bug (ValueError)."""
        if not self._unread:
            raise ValueError(f"{self.file_name}: the delivery's bytes were already read (a file is read once)")
        return self._unread.pop()

    @property
    def receipt(self) -> DeliveryReceipt:
        return DeliveryReceipt(self.file_name, self.delivered_on, self.sha256)

    @classmethod
    def from_path(cls, path: Path, delivered_on: date, max_bytes: int, *, follow_links: bool = True) -> "DeliveryFile":
        """Read a file, refusing it whole when it is larger than the settings allow (or, without
        ``follow_links``, when it is not a regular file: ``read_bounded``)."""
        data = read_bounded(path, max_bytes, follow_links=follow_links)
        return cls(data=data, file_name=path.name, delivered_on=delivered_on,
                   sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class CheckedDelivery:
    """A delivery after the pure half: per-field reasons, what the store reads of its normalised values,
    and its blocks. Neither its bytes, its raw cells nor the values only the blocks hold: a million
    leads' raw cells and supplied values are about 600 MB, their blocks 150 MB."""

    receipt: DeliveryReceipt
    contract: ContractFile
    #: The normalised values the lead table holds (``delivery_store.LEAD_COLUMNS``: lead id, SIREN, email,
    #: phone, replaced lead id), which the identity rules, the company cap and the claims read too; the
    #: other supplied values are in ``blocks`` only.
    values: pd.DataFrame
    field_reasons: pd.DataFrame
    email_keys: pd.Series
    phone_keys: pd.Series
    #: The rows as delivered and their supplied values, compressed (``raw_record_store.encode_blocks``).
    blocks: tuple[EncodedBlock, ...]
    encoding: str
    delimiter: str | None
    crm: CrmPeople | None = None


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to a delivery: its id (None on a dry run), whether it was already stored,
    and the verdicts (recomputed, or read back from the database for a repeated file)."""

    delivery_id: int | None
    already_ingested: bool
    result: ValidationResult
    timings: Timings = field(default_factory=dict)


def read_options(contract: ContractFile) -> ReadOptions:
    """How to read this contract's delivery files."""
    d = contract.contract.delivery
    return ReadOptions(
        format=d.format, encoding=d.encoding, delimiter=d.delimiter, columns=dict(d.columns),
        required_fields=tuple(contract.contract.exploitability.required_fields),
    )


def crm_people(data: bytes, settings: Settings, source: str) -> CrmPeople:
    """The valid normalised emails and phones of a CRM export."""
    crm = read_crm_export(data, source=source)
    crm_emails = emails.normalise_emails(crm["email"])["email"].dropna()
    crm_phones = phones.normalise_phones(crm["phone"], [settings.default_phone_region])["phone"].dropna()
    return frozenset(crm_emails), frozenset(crm_phones)


@dataclass(frozen=True)
class NormalisedDelivery:
    """A read delivery with its normalised values and identity keys."""

    raw: RawDelivery
    prepared: PreparedLeads
    email_keys: pd.Series
    phone_keys: pd.Series


def read_file(file: DeliveryFile, contract: ContractFile) -> RawDelivery:
    """Stage *read*: bytes to raw canonical text columns (or the whole file refused)."""
    return read_delivery(file.take(), read_options(contract), source=file.file_name)


def normalise(raw: RawDelivery, file: DeliveryFile, contract: ContractFile, settings: Settings) -> NormalisedDelivery:
    """Stage *normalise*: typed, normalised values and the identity keys."""
    prepared = prepare_leads(raw.frame, contract.contract, file.delivered_on, settings.timezone)
    key = settings.hmac_key.get_secret_value()
    return NormalisedDelivery(raw, prepared, identity_keys(prepared.values["email"], key),
                              identity_keys(prepared.values["phone"], key))


def check_fields(normalised: NormalisedDelivery, file: DeliveryFile, contract: ContractFile) -> pd.DataFrame:
    """Stage *validate*: the per-field rules of the contract's schema, as (row, code, detail) (a file
    whose lead ids are emails or phones is refused whole first)."""
    refuse_personal_ids(normalised.prepared.values, contract.contract, file.file_name)
    return field_reasons(normalised.prepared, contract.contract, file.delivered_on)


def encode(normalised: NormalisedDelivery) -> tuple[EncodedBlock, ...]:
    """Stage *encode*: the rows as delivered and their supplied values compressed into the delivery's
    blocks now, before the store, so that the raw cells and the values only the blocks keep are let
    go of with the check (a lead's row number is its position in the file, from 1)."""
    values = normalised.prepared.values
    return raw_record_store.encode_blocks(values.index.to_numpy() + 1, normalised.raw.raw_records.texts, values)


def check_delivery(file: DeliveryFile, contract: ContractFile, settings: Settings, *,
                   crm: CrmPeople | None = None,
                   timings: Timings | None = None) -> CheckedDelivery:
    """The pure half: read, normalise, apply the per-field rules and encode the blocks; no database
    needed."""
    with timed(timings, "read"):
        raw = read_file(file, contract)
    with timed(timings, "normalise"):
        normalised = normalise(raw, file, contract, settings)
    with timed(timings, "validate"):
        reasons = check_fields(normalised, file, contract)
    with timed(timings, "encode"):
        blocks = encode(normalised)
    values = normalised.prepared.values
    return CheckedDelivery(
        receipt=file.receipt, contract=contract, values=values.loc[:, [c for c in store.LEAD_COLUMNS if c in values]],
        field_reasons=reasons, email_keys=normalised.email_keys, phone_keys=normalised.phone_keys, blocks=blocks,
        encoding=raw.encoding, delimiter=raw.delimiter, crm=crm,
    )


def known_people(session: Session, checked: CheckedDelivery) -> KnownPeople:
    """Everything the database knows that the identity rules need, in a few set-based queries."""
    c = checked.contract.contract
    supplier_id = c.supplier.id
    day = checked.receipt.delivered_on
    since = day - timedelta(days=c.exclusions.dedup_window_days)
    values = checked.values
    found: dict[str, set[str]] = {}
    for column, keys in (("email", checked.email_keys), ("phone", checked.phone_keys)):
        matches = identity_store.identity_matches(session, kind=column, keys=keys.dropna().unique(),
                                                  since=since, until=day)
        # A key match is confirmed on the value: only the few stored values are compared.
        confirmed = values[column][text_in(values[column], matches["value"].dropna().unique())]
        matches = matches[text_in(matches["value"], confirmed.unique())]
        same = matches["supplier_id"] == supplier_id
        found[f"previous_{column}s"] = set(matches.loc[same, "value"])
        found[f"other_{column}s"] = set(matches.loc[~same & (matches["status"] == "accepted"), "value"])
    all_keys = pd.concat([checked.email_keys, checked.phone_keys]).dropna().unique()
    suppressed_keys, proofs = store.suppression_candidates(session, all_keys)
    crm_emails, crm_phones = checked.crm if checked.crm is not None else (None, None)
    by_company = (store.accepted_by_company(session, supplier_id, values["siren"], since, day)
                  if c.volumes.max_leads_per_company is not None else {})  # no cap, nothing to read
    return KnownPeople(
        previous_emails=frozenset(found["previous_emails"]),
        previous_phones=frozenset(found["previous_phones"]),
        other_supplier_emails=frozenset(found["other_emails"]),
        other_supplier_phones=frozenset(found["other_phones"]),
        crm_emails=crm_emails if c.exclusions.crm_check else None,
        crm_phones=crm_phones if c.exclusions.crm_check else None,
        suppressed_keys=suppressed_keys,
        suppressed_proofs=proofs,
        used_lead_ids=store.used_lead_ids(session, supplier_id, values["lead_id"].dropna()),
        accepted_earlier_in_week=store.accepted_in_iso_week(session, supplier_id, day),
        accepted_by_company=by_company,
    )


def register_contract(session: Session, contract: ContractFile) -> int:
    """Ensure the supplier and this exact contract version exist; return the version id."""
    c = contract.contract
    ensure_supplier(session, c.supplier.id, c.supplier.name)
    version = register_contract_version(
        session, supplier_id=c.supplier.id, contract_id=c.contract_id, sha256=contract.sha256,
        terms_sha256=hashlib.sha256(c.model_dump_json().encode()).hexdigest(), content=contract.text,
        source_path=contract.path,
        supersedes=c.supersedes, effective_from=c.effective_from,
    )
    return version.id


def stored_result(session: Session, delivery_id: int) -> ValidationResult:
    """The verdicts of a stored delivery, exactly as they were written the first time: a lead a
    person has decided since (``decided_on`` with reasons: it was in review) shows ``review`` again."""
    leads = store.stored_leads(session, delivery_id)
    reasons = store.stored_reasons(session, delivery_id)
    index = pd.RangeIndex(len(leads))
    reasons = order_reasons(pd.DataFrame({
        "row": reasons["row_number"].astype("int64") - 1, "code": reasons["code"], "detail": reasons["detail"],
    }))
    waited = (leads["status"] == LeadStatus.REVIEW.value) | leads["decided_on"].notna()
    review = pd.Series(waited.to_numpy(dtype=bool), index=index)
    verdicts = build_verdicts(pd.Series(leads["lead_id"].to_numpy(), index=index, dtype="str"), reasons, review)
    verdicts["flags"] = pd.Series(leads["flags"].to_numpy(), index=index, dtype="str")
    return ValidationResult(verdicts=verdicts, reasons=reasons)


def already_ingested(session: Session, supplier_id: str, sha256: str,
                     timings: Timings | None) -> IngestOutcome | None:
    """The outcome of these bytes if this supplier already delivered them, else None."""
    existing = store.find_delivery(session, supplier_id, sha256)
    if existing is None:
        return None
    return IngestOutcome(existing.id, True, stored_result(session, existing.id), timings or {})


def store_delivery(session: Session, checked: CheckedDelivery, settings: Settings, *,
                   dry_run: bool = False, timings: Timings | None = None) -> IngestOutcome:
    """Decide and store a checked delivery in the caller's transaction (never commits).

    A file already stored for this supplier (same bytes) is not stored again: its stored
    verdicts are returned unchanged.
    """
    c = checked.contract.contract
    # Everything below runs under the lock: a new supplier or contract version is registered
    # once, and the same bytes validated twice at once are stored once (the second validation
    # finds the first one's delivery instead of failing on a constraint).
    store.lock_deliveries(session, c.supplier.id)
    refuse_if_terminated(session, c.supplier.id)
    version_id = register_contract(session, checked.contract)
    already = already_ingested(session, c.supplier.id, checked.receipt.sha256, timings)
    if already is not None:
        return already
    with timed(timings, "deduplicate"):
        known = known_people(session, checked)
        people = people_failures(checked.values, known, checked.email_keys,
                                 checked.phone_keys, settings.hmac_key.get_secret_value())
        result = erase_suppressed_details(decide(checked.values, c, known, checked.field_reasons, people))
    if dry_run:
        return IngestOutcome(None, False, result, timings or {})
    with timed(timings, "store"):
        delivery_id = _store(session, checked, result, version_id)
        hold_for_pilot(session, c.supplier.id, delivery_id, result)
    with timed(timings, "claims"):
        record_delivery_claims(session, delivery_id, c, claim_leads(checked, result))
    return IngestOutcome(delivery_id, False, result, timings or {})


def hold_for_pilot(session: Session, supplier_id: str, delivery_id: int, result: ValidationResult) -> int:
    """While the supplier's pilot is undecided, its accepted leads beyond the pilot's cohort are
    flagged PILOT_HOLD (one UPDATE; docs/governance.md, Pilot), and so are their verdicts (the result
    file says so); how many."""
    if not pilot_store.hold_beyond_cohort(session, supplier_id, delivery_id):
        return 0
    held = pilot_store.held_rows(session, delivery_id)
    verdicts = result.verdicts
    verdicts["flags"] = verdicts["flags"].mask(verdicts["row_number"].isin(held), LeadFlag.PILOT_HOLD.value)
    return len(held)


def claim_leads(checked: CheckedDelivery, result: ValidationResult) -> pd.DataFrame:
    """What the claims need of a stored delivery's leads, from memory (references, no copy)."""
    verdicts = result.verdicts
    return pd.DataFrame({
        "row_number": verdicts["row_number"], "lead_id": verdicts["lead_id"], "status": verdicts["status"],
        "replaces_lead_id": checked.values["replaces_lead_id"], "reason": verdicts["primary_reason"],
        "delivered_on": checked.receipt.delivered_on,
    }, index=verdicts.index)


def _store(session: Session, checked: CheckedDelivery, result: ValidationResult, version_id: int) -> int:
    counts = result.counts()
    delivery = store.insert_delivery(
        session, supplier_id=checked.contract.contract.supplier.id, contract_version_id=version_id,
        file_name=checked.receipt.file_name, file_sha256=checked.receipt.sha256,
        delivered_on=checked.receipt.delivered_on, encoding=checked.encoding,
        delimiter=checked.delimiter, delivered_count=counts["delivered"],
        accepted_count=counts["accepted"], rejected_count=counts["rejected"],
        over_cap_count=counts["over_cap"],
    )
    rows = lead_rows(checked, result, delivery.id)
    store.insert_leads(session, rows)
    suppressed = rows["row_number"].to_numpy()[suppressed_rows(result.verdicts["reasons"])]
    store.mark_erased(session, delivery.id, suppressed)
    raw_record_store.insert_blocks(session, delivery_id=delivery.id, blocks=checked.blocks, erased=suppressed)
    identity_store.insert_runs(session, delivery_id=delivery.id, supplier_id=delivery.supplier_id,
                               delivered_on=delivery.delivered_on, row_numbers=result.verdicts["row_number"].to_numpy(),
                               keys={"email": rows["email_key"], "phone": rows["phone_key"]})
    reasons = result.reasons
    store.insert_reasons(session, pd.DataFrame({
        "delivery_id": delivery.id, "row_number": reasons["row"] + 1,
        "code": reasons["code"], "detail": reasons["detail"],
    }))
    return delivery.id


def lead_rows(checked: CheckedDelivery, result: ValidationResult, delivery_id: int) -> DataFrame[LeadRows]:
    """The lead table's columns for every row of the delivery (``LeadRows``: validated by the
    tests, never here, at a million rows)."""
    v = checked.values
    verdicts = result.verdicts
    columns: dict[str, object] = {c: v[c] for c in store.LEAD_COLUMNS if c in v.columns}  # references, no copy
    columns.update(
        delivery_id=delivery_id,
        supplier_id=checked.contract.contract.supplier.id,
        row_number=verdicts["row_number"],
        delivered_on=checked.receipt.delivered_on.isoformat(),
        status=verdicts["status"],
        primary_reason=verdicts["primary_reason"],
        flags=verdicts["flags"],
        email_key=checked.email_keys,
        phone_key=checked.phone_keys,
    )
    rows = erase_suppressed(pd.DataFrame(columns, index=v.index, copy=False), verdicts["reasons"])
    return cast(DataFrame[LeadRows], rows)


def suppressed_rows(reasons: pd.Series) -> np.ndarray:
    """Which leads are rejected SUPPRESSED (``reasons``: the verdicts' reason codes)."""
    return reasons.str.contains(RejectionReason.SUPPRESSED.value, regex=False, na=False).to_numpy(dtype=bool)


def erase_suppressed(rows: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """Leads rejected SUPPRESSED are stored already erased (docs/gdpr.md): the person objected
    or was erased, so only the verdict is kept, not their data again (nor their raw record and supplied
    values, and the lead is marked erased: ``_store``)."""
    suppressed = suppressed_rows(reasons)
    if not suppressed.any():
        return rows
    for column in ERASED_COLUMNS:
        if column in rows.columns:
            rows[column] = rows[column].mask(suppressed)
    return rows


def erase_suppressed_details(result: ValidationResult) -> ValidationResult:
    """The reasons of leads rejected SUPPRESSED keep their codes but not their details, which may
    quote the person's values: ``ERASED_DETAIL``, as an erasure leaves them (the result files and
    the stored reasons alike)."""
    reasons = result.reasons
    suppressed = reasons["row"].isin(reasons.loc[reasons["code"] == RejectionReason.SUPPRESSED.value, "row"])
    if not suppressed.any():
        return result
    reasons = reasons.assign(detail=reasons["detail"].mask(suppressed, ERASED_DETAIL))
    verdicts = build_verdicts(result.verdicts["lead_id"], reasons, result.verdicts["status"] == LeadStatus.REVIEW)
    verdicts["flags"] = result.verdicts["flags"]
    return ValidationResult(verdicts=verdicts, reasons=reasons)


def ingest_delivery(session: Session, file: DeliveryFile, contract: ContractFile, settings: Settings,
                    *, crm_data: bytes | None = None, dry_run: bool = False,
                    timings: Timings | None = None) -> IngestOutcome:
    """Both halves in one transaction (the caller's session), for tests and the benchmark: no door
    calls it. The doors run ``leadgov.services.deliveries.process_delivery``, whose steps are the
    same (terminated supplier and stored bytes first, then check, then store) plus the CRM export,
    the result files and the alerts.

    A file already stored for the supplier is recognised by its hash before it is even read.
    """
    refuse_if_terminated(session, contract.contract.supplier.id)
    already = already_ingested(session, contract.contract.supplier.id, file.sha256, timings)
    if already is not None:
        return already
    crm = crm_people(crm_data, settings, "CRM export") if crm_data is not None else None
    checked = check_delivery(file, contract, settings, crm=crm, timings=timings)
    return store_delivery(session, checked, settings, dry_run=dry_run, timings=timings)
