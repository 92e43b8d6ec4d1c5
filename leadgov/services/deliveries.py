"""Process one delivery: the job behind ``leadgov validate``, the ``validate_delivery`` flow, every file
of an inbox and the demo's deliveries.

Steps, in this order (``process_delivery``): receive the contract and the file; look for the same
bytes already stored for the supplier (then nothing is read or stored again); read the CRM export
when the contract asks for the CRM check; read, normalise and check the fields (pure); look up the
people, decide and store in one transaction (claims included); write the result and return files;
raise the alerts after the commit. A refusal (an output folder that cannot be written, unreadable
file, contract refused, a delivery day outside the contract's period, CRM export missing, terminated
supplier) stops before anything is stored. A
result file that still cannot be written after the commit (a disk full) does not keep the alerts
from being evaluated: ``ResultFilesNotWritten`` comes after them, and running the job again writes
the files from the stored delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd

from leadgov.alerts.evaluate import after_delivery
from leadgov.alerts.outbox import AlertRun
from leadgov.config.contract import ContractFile, load_contract
from leadgov.errors import Refused
from leadgov.ingest import (
    CheckedDelivery,
    CrmPeople,
    DeliveryFile,
    IngestOutcome,
    already_ingested,
    check_delivery,
    crm_people,
    read_bounded,
    store_delivery,
)
from leadgov.models.supplier import refuse_if_terminated
from leadgov.reading.errors import printable
from leadgov.results import probe_folder, probe_writable, write_result_file, write_return_file
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly


@dataclass(frozen=True)
class DeliveryRequest:
    """One delivered file, under which contract, received on which day, and where its files go."""

    contract_path: Path
    delivery_path: Path
    delivered_on: date
    #: The CRM export; default the settings' ``crm_export``. Required when the contract has crm_check.
    crm_path: Path | None = None
    result_file: Path | None = None
    return_file: Path | None = None
    dry_run: bool = False
    #: False in an inbox: a link or any other file that is not a regular one is refused, never followed.
    follow_links: bool = True

    def with_files_in(self, folder: Path) -> DeliveryRequest:
        """The same request writing ``<file stem>.result.csv`` and ``<file stem>.returns.csv`` in ``folder``."""
        stem = self.delivery_path.stem
        return replace(self, result_file=folder / f"{stem}.result.csv", return_file=folder / f"{stem}.returns.csv")


@dataclass(frozen=True)
class ReceivedDelivery:
    """The request with its contract loaded and the file's bytes read (bounded)."""

    request: DeliveryRequest
    contract: ContractFile
    file: DeliveryFile

    @property
    def supplier_id(self) -> str:
        return self.contract.contract.supplier.id


@dataclass(frozen=True)
class DeliveryCounts:
    delivered: int
    accepted: int
    rejected: int
    #: Leads held for a person's decision (docs/validation-rules.md, Review tier).
    in_review: int
    over_cap: int


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to a delivery; the verdicts (one row per lead) for the doors that show them."""

    supplier_id: str
    file_name: str
    delivered_on: date
    delivery_id: int | None
    already_ingested: bool
    dry_run: bool
    counts: DeliveryCounts
    reasons: dict[str, int]
    crm_checked: bool
    result_file: Path | None
    return_file: Path | None
    alerts: AlertRun
    verdicts: pd.DataFrame = field(repr=False, compare=False)


class ResultFilesNotWritten(Exception):
    """The delivery went through (stored and its alerts evaluated, found stored, or a dry run) but a
    result or return file could not be written: one line naming the file, its folder and the
    system's reason, never a lead's data. ``result`` is the delivery's result (without those files)."""

    def __init__(self, result: DeliveryResult, path: Path, reason: str) -> None:
        self.result = result
        unwritten = f"{path.name} could not be written in {path.parent} ({reason})"
        name = printable(result.file_name)
        if result.delivery_id is None:
            super().__init__(f"{name}: dry run, nothing stored, but {unwritten}; run it again once "
                             "the folder can be written")
            return
        state = "already ingested" if result.already_ingested else "stored"
        super().__init__(f"{name}: {state} as delivery {result.delivery_id}, but {unwritten}; the "
                         "alerts were evaluated. Run the same command again once the folder can be written: the "
                         "stored delivery is recognised and its files are written")


# --- the steps ---------------------------------------------------------------------------------


def check_output(path: Path | None) -> None:
    """Refuse a result or return file that cannot be written, before anything is stored."""
    if path is None:
        return
    try:
        probe_writable(path)
    except OSError as exc:
        raise Refused(f"cannot write {path.name} in {path.parent} ({exc.strerror or type(exc).__name__}); "
                      "nothing was stored: give a file in a folder that can be written") from None


def check_output_folder(folder: Path) -> None:
    """Refuse a folder where result files cannot be written, before anything is stored."""
    try:
        probe_folder(folder)
    except OSError as exc:
        raise Refused(f"cannot write the result files in {folder} ({exc.strerror or type(exc).__name__}); "
                      "nothing was stored: give a folder that can be written") from None


def refuse_outside_period(contract: ContractFile, request: DeliveryRequest) -> None:
    """Refuse a delivery whose day falls outside its contract: before ``period.start`` (or, for a
    version that supersedes another, before its ``effective_from``) or after ``period.end``. Every
    door gets it (``leadgov validate``, the flows, the inbox), before the file is read."""
    c = contract.contract
    day = request.delivered_on
    if c.applies_on(day):
        return
    period = f"{c.period.start} to {c.period.end}"
    if day <= c.period.end and c.first_day != c.period.start:
        problem = (f"before {c.first_day}, from which contract {c.contract_id} of {c.supplier.id} (period {period}) "
                   f"supersedes {c.supersedes} (effective_from): validate it under {c.supersedes}")
    else:
        side = "before" if day < c.first_day else "after"
        problem = f"{side} the period of contract {c.contract_id} of {c.supplier.id}, {period}"
    raise Refused(f"{printable(request.delivery_path.name)}: delivered on {day}, {problem}; nothing was stored")


def receive(runtime: Runtime, request: DeliveryRequest) -> ReceivedDelivery:
    """Check that the result and return files can be written, load the contract (refused with every
    problem), refuse a delivery day outside the contract's period and read the file (refused when
    missing or too large)."""
    check_output(request.result_file)
    check_output(request.return_file)
    contract = load_contract(request.contract_path)
    refuse_outside_period(contract, request)
    file = DeliveryFile.from_path(request.delivery_path, request.delivered_on, runtime.settings.max_file_bytes,
                                  follow_links=request.follow_links)
    return ReceivedDelivery(request, contract, file)


def find_stored(runtime: Runtime, received: ReceivedDelivery) -> IngestOutcome | None:
    """The stored outcome of these bytes if the supplier already delivered them (nothing is read
    again), else None; a terminated supplier's delivery is refused here."""
    with runtime.sessions() as session:
        refuse_if_terminated(session, received.supplier_id)
        return already_ingested(session, received.supplier_id, received.file.sha256, None)


def crm_export(runtime: Runtime, contract: ContractFile, given: Path | None) -> Path | None:
    """The CRM export a delivery under ``contract`` is checked against: ``given`` (``--crm``, the
    flow's ``crm_path``), else ``LEADGOV_CRM_EXPORT``; None when the contract asks for no CRM check.
    A contract asking for it with no export is refused, in every door (``leadgov validate``, the
    inbox, the flows) and before anything is stored."""
    if not contract.contract.exclusions.crm_check:
        return None
    path = given or runtime.settings.crm_export
    if path is None:
        raise Refused(f"{contract.path}: the contract of {contract.contract.supplier.id} asks for the CRM check "
                      "(exclusions.crm_check: true) but no CRM export was given: pass --crm FILE (the flow's "
                      "crm_path) or set LEADGOV_CRM_EXPORT")
    return path


def read_crm(runtime: Runtime, received: ReceivedDelivery) -> CrmPeople | None:
    """The CRM export's people when the contract asks for the CRM check; a missing export is refused."""
    path = crm_export(runtime, received.contract, received.request.crm_path)
    if path is None:
        return None
    data = read_bounded(path, runtime.settings.max_file_bytes)
    return crm_people(data, runtime.settings, path.name)


def check(runtime: Runtime, received: ReceivedDelivery, crm: CrmPeople | None) -> CheckedDelivery:
    """Read, normalise and apply the per-field rules (pure: no database)."""
    return check_delivery(received.file, received.contract, runtime.settings, crm=crm)


def store(runtime: Runtime, checked: CheckedDelivery, dry_run: bool) -> IngestOutcome:
    """Identity rules, verdicts, the delivery, its leads, reasons and claims: one transaction
    (a dry run rolls it back). Safe to retry: committed bytes are recognised by their hash."""
    with runtime.sessions() as session:
        outcome = store_delivery(session, checked, runtime.settings, dry_run=dry_run)
        if dry_run:
            session.rollback()
    return outcome


def _write(write: Callable[[pd.DataFrame, Path, str], Path], verdicts: pd.DataFrame, path: Path | None,
           locale: str) -> Path | None:
    """``write`` the file at ``path`` (none asked: None); an ``OSError`` names the file."""
    if path is None:
        return None
    try:
        return write(verdicts, path, locale)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or type(exc).__name__, str(path)) from exc


def write_files(runtime: Runtime, received: ReceivedDelivery,
                outcome: IngestOutcome) -> tuple[Path | None, Path | None]:
    """The result file and the supplier's return file, where the request asks for them. An
    ``OSError`` names the file that could not be written."""
    locale = received.contract.contract.locale
    verdicts = outcome.result.verdicts
    request = received.request
    return (_write(write_result_file, verdicts, request.result_file, locale),
            _write(write_return_file, verdicts, request.return_file, locale))


def raise_alerts(runtime: Runtime, delivery_id: int) -> AlertRun:
    """The delivery's alerts and its week's running ones, after the commit; then the outbox is sent."""
    today = runtime.clock.today()
    return runtime.alerts(lambda session: after_delivery(session, delivery_id, runtime.timezone, today))


# --- the job -----------------------------------------------------------------------------------


def process_delivery(runtime: Runtime, request: DeliveryRequest, *,
                     steps: StepRunner = run_directly) -> DeliveryResult:
    """Receive, check, store, write the files and raise the alerts of one delivery. The alerts are
    raised even when the files cannot be written; ``ResultFilesNotWritten`` then follows them."""
    received = steps(receive, runtime, request)
    outcome = steps(find_stored, runtime, received)
    crm_checked = False
    if outcome is None:
        crm = steps(read_crm, runtime, received)
        crm_checked = crm is not None
        checked = steps(check, runtime, received, crm)
        outcome = steps(store, runtime, checked, request.dry_run)
    unwritten: OSError | None = None
    try:
        result_file, return_file = steps(write_files, runtime, received, outcome)
    except OSError as exc:  # after the commit: the alerts are still due
        result_file = return_file = None
        unwritten = exc
    alerts = steps(raise_alerts, runtime, outcome.delivery_id) if outcome.delivery_id is not None else AlertRun()
    counts = outcome.result.counts()
    result = DeliveryResult(
        supplier_id=received.supplier_id, file_name=received.file.file_name, delivered_on=request.delivered_on,
        delivery_id=outcome.delivery_id, already_ingested=outcome.already_ingested, dry_run=request.dry_run,
        counts=DeliveryCounts(**counts), reasons=dict(outcome.result.reason_counts()), crm_checked=crm_checked,
        result_file=result_file, return_file=return_file, alerts=alerts, verdicts=outcome.result.verdicts,
    )
    if unwritten is not None:  # _write always names the file it could not write
        raise ResultFilesNotWritten(result, Path(unwritten.filename),
                                    unwritten.strerror or type(unwritten).__name__) from unwritten
    return result
