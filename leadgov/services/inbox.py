"""Process an inbox: every supplier's new files, each one exactly as ``leadgov validate`` would.

The inbox holds one folder per supplier id; its contract is ``<supplier id>.yaml`` in the contracts
folder. Each new file (by name order, so deduplication sees them in that order) goes through
``process_delivery`` with the day it was received (its modification date in the settings' zone,
unless the request names the day) and its result and return files written under
``<out_dir>/<supplier id>/``; then it is moved to ``<supplier>/processed/``, or to
``<supplier>/refused/`` with ``<file>.reason.txt`` beside it when it is refused whole (nothing of it
stored), or to ``<supplier>/failed/`` with its reason when an unexpected error stopped it (a bug: the
supplier's next files go on). A link, a pipe or a device dropped in a supplier's folder is refused,
never followed or opened. A supplier whose contract is missing or invalid, whose contract asks for the
CRM check with no CRM export given, or whose database or disk failed, fails as a whole: its files stay
in the inbox for the next run.
"""

from __future__ import annotations

import os
import stat
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from leadgov.config.contract import load_contract
from leadgov.config.contract.api import CONTRACTS_DIR
from leadgov.config.settings import Settings
from leadgov.errors import Refused
from leadgov.models.supplier import ContractConflict, SupplierTerminated
from leadgov.private_files import make_private, private_dir
from leadgov.reading import UnreadableFile
from leadgov.reading.errors import printable
from leadgov.services.deliveries import (
    DeliveryRequest,
    DeliveryResult,
    ResultFilesNotWritten,
    check_output_folder,
    crm_export,
    process_delivery,
)
from leadgov.services.runtime import Runtime, transient_io
from leadgov.services.steps import StepRunner, run_directly

PROCESSED = "processed"
REFUSED = "refused"
FAILED = "failed"
REASON_SUFFIX = ".reason.txt"
#: Names of files still being written by the supplier's upload (left for the next run).
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".filepart")
#: What refuses one delivery file whole: the file is filed under refused/ with the message.
FILE_REFUSALS = (UnreadableFile, SupplierTerminated, ContractConflict, Refused)


class FileStatus(StrEnum):
    processed = PROCESSED
    refused = REFUSED
    failed = FAILED


@dataclass(frozen=True)
class InboxRequest:
    """Where the suppliers drop their files, where their contracts are, the CRM export, and where
    the result and return files go."""

    inbox_dir: Path
    contracts_dir: Path
    out_dir: Path
    crm_path: Path | None = None
    #: The day the files were received; default each file's modification date.
    delivered_on: date | None = None

    @classmethod
    def with_defaults(cls, settings: Settings, *, inbox_dir: Path | None = None, contracts_dir: Path | None = None,
                      out_dir: Path | None = None, crm_path: Path | None = None,
                      delivered_on: date | None = None) -> InboxRequest:
        """The request with what is not given taken from the settings: ``<data_dir>/inbox``, the shipped
        contracts (config/contracts), ``<output_dir>/deliveries``; the CRM export stays optional here
        (``LEADGOV_CRM_EXPORT`` is read when a contract needs it)."""
        return cls(inbox_dir=inbox_dir or settings.data_dir / "inbox", contracts_dir=contracts_dir or CONTRACTS_DIR,
                   out_dir=out_dir or settings.output_dir / "deliveries", crm_path=crm_path,
                   delivered_on=delivered_on)


@dataclass(frozen=True)
class SupplierInbox:
    """One supplier's folder of an inbox, and the request it belongs to."""

    supplier_id: str
    request: InboxRequest

    @property
    def folder(self) -> Path:
        return self.request.inbox_dir / self.supplier_id

    @property
    def contract_path(self) -> Path:
        return self.request.contracts_dir / f"{self.supplier_id}.yaml"


@dataclass(frozen=True)
class FileOutcome:
    """One file of an inbox: processed (with its delivery), refused or failed (with the reason)."""

    supplier_id: str
    #: The file's name as shown (``printable``: a name holding a newline cannot forge a line).
    file: str
    delivered_on: date
    status: FileStatus
    moved_to: Path
    delivery: DeliveryResult | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SupplierInboxResult:
    supplier_id: str
    files: tuple[FileOutcome, ...] = ()
    #: Why the supplier's files could not be processed (they stay in the inbox), else None.
    error: str | None = None


@dataclass(frozen=True)
class InboxResult:
    inbox_dir: Path
    suppliers: tuple[SupplierInboxResult, ...]

    @property
    def files(self) -> list[FileOutcome]:
        return [f for s in self.suppliers for f in s.files]

    @property
    def processed(self) -> int:
        return sum(f.status is FileStatus.processed for f in self.files)

    @property
    def refused(self) -> int:
        return sum(f.status is FileStatus.refused for f in self.files)

    @property
    def failed(self) -> int:
        """Files moved to failed/ by an unexpected error."""
        return sum(f.status is FileStatus.failed for f in self.files)

    @property
    def failed_suppliers(self) -> list[str]:
        return [s.supplier_id for s in self.suppliers if s.error]


def new_files(folder: Path) -> list[Path]:
    """What waits in a supplier's folder, by name: everything but sub-folders, hidden files, reason files
    and partial uploads. A link or a special file is listed too, to be refused (``read_bounded``)."""
    return sorted((p for p in folder.iterdir()
                   if not p.name.startswith(".") and not p.name.endswith(REASON_SUFFIX)
                   and not p.name.lower().endswith(PARTIAL_SUFFIXES) and not _is_folder(p)), key=lambda p: p.name)


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder itself (a link to one is not); one gone meanwhile counts as one."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except FileNotFoundError:
        return True


def supplier_inboxes(runtime: Runtime, request: InboxRequest) -> list[SupplierInbox]:
    """The supplier folders holding new files, by supplier id."""
    root = request.inbox_dir
    if not root.is_dir():
        raise Refused(f"{root}: no such inbox folder (one sub-folder per supplier id)")
    return [SupplierInbox(p.name, request) for p in sorted(root.iterdir(), key=lambda p: p.name)
            if p.is_dir() and not p.name.startswith(".") and new_files(p)]


def file_day(path: Path, tz: str) -> date:
    """The day a file was received: its modification date in the settings' zone (a link's own)."""
    return datetime.fromtimestamp(path.lstat().st_mtime, ZoneInfo(tz)).date()


def move_to(path: Path, folder: Path) -> Path:
    """Move ``path`` (a link itself, not what it points to) into ``folder`` without overwriting anything
    there: a name taken gets ``.2``, ``.3``... before its extension. A moved regular file is 0600,
    whatever mode the supplier's upload gave it (a rename keeps it); a link is never chmod-ed (that
    would change the file it points to)."""
    filing_folder(folder)
    target = folder / path.name
    n = 1
    while os.path.lexists(target) or os.path.lexists(folder / f"{target.name}{REASON_SUFFIX}"):
        n += 1
        target = folder / f"{path.stem}.{n}{path.suffix}"
    moved = path.rename(target)
    return moved if moved.is_symlink() else make_private(moved)


def filing_folder(folder: Path) -> None:
    """Create ``processed/``, ``refused/`` or ``failed/`` if needed, and refuse one that is not a folder
    itself: through a link planted in its place, files would be moved (and reasons written) elsewhere."""
    if not os.path.lexists(folder):
        private_dir(folder)
    if not stat.S_ISDIR(folder.lstat().st_mode):
        raise Refused(f"{printable(str(folder))} is not a folder (a link?): nothing is filed through it; "
                      "remove it and run again")


def write_reason(moved: Path, text: str) -> None:
    """``<file>.reason.txt`` beside a file set aside; created, never written through a link already there."""
    with moved.with_name(moved.name + REASON_SUFFIX).open("x", encoding="utf-8") as reason:
        reason.write(text)


def delivery_request(runtime: Runtime, inbox: SupplierInbox, path: Path) -> DeliveryRequest:
    """The request ``leadgov validate`` would get for this file."""
    request = inbox.request
    day = request.delivered_on or file_day(path, runtime.timezone)
    return DeliveryRequest(contract_path=inbox.contract_path, delivery_path=path, delivered_on=day,
                           crm_path=request.crm_path, follow_links=False).with_files_in(
                               request.out_dir / inbox.supplier_id)


def check_supplier(runtime: Runtime, inbox: SupplierInbox) -> None:
    """Refuse the supplier as a whole (its files wait) when its contract is missing, is another
    supplier's, or asks for the CRM check with no CRM export given, or when its result files could
    not be written."""
    path = inbox.contract_path
    if not path.is_file():
        raise Refused(f"no contract for supplier folder {inbox.supplier_id!r}: expected {path}")
    contract = load_contract(path)
    if contract.contract.supplier.id != inbox.supplier_id:
        raise Refused(f"{path} is the contract of {contract.contract.supplier.id!r}, "
                      f"not of the folder {inbox.supplier_id!r}")
    crm_export(runtime, contract, inbox.request.crm_path)
    check_output_folder(inbox.request.out_dir / inbox.supplier_id)


def process_file(runtime: Runtime, inbox: SupplierInbox, path: Path) -> FileOutcome:
    """One file through ``process_delivery``, then filed under processed/, refused/ (refused whole) or
    failed/ (an unexpected error). A failure of the database or of the disk is raised instead, and so
    is a delivery stored whose result files could not be written: the supplier fails and its files wait
    for the next run (which finds the delivery stored and writes its files)."""
    request = delivery_request(runtime, inbox, path)
    try:
        delivery = process_delivery(runtime, request)
    except FILE_REFUSALS as exc:
        return refuse_file(inbox, path, request.delivered_on, exc)
    except ResultFilesNotWritten:
        raise
    except Exception as exc:
        if transient_io(exc):
            raise
        return fail_file(inbox, path, request.delivered_on, exc)
    moved = move_to(path, path.parent / PROCESSED)
    return FileOutcome(inbox.supplier_id, printable(path.name), request.delivered_on, FileStatus.processed, moved,
                       delivery=delivery)


def refuse_file(inbox: SupplierInbox, path: Path, day: date, exc: Exception) -> FileOutcome:
    """A file refused whole: to refused/, with the refusal (one line, no personal data) as its reason."""
    moved = move_to(path, path.parent / REFUSED)
    reason = str(exc)
    write_reason(moved, f"{printable(path.name)} was refused whole, nothing of it was stored:\n{reason}\n")
    return FileOutcome(inbox.supplier_id, printable(path.name), day, FileStatus.refused, moved, reason=reason)


def fail_file(inbox: SupplierInbox, path: Path, day: date, exc: Exception) -> FileOutcome:
    """A file an unexpected error stopped (a bug, or a file no rule foresaw): to failed/, so that the
    supplier's next files are processed. The reason file, beside the delivery, holds the error and its
    traceback (which may quote the file's values); the outcome shown by the doors names only its type."""
    moved = move_to(path, path.parent / FAILED)
    write_reason(moved, f"{printable(path.name)} could not be processed: an unexpected error, not a refusal "
                        "(please report it). Once it is mended, move the file back to the supplier's folder: "
                        "if it was stored, it is recognised and only filed.\n\n"
                        + "".join(traceback.format_exception(exc)))
    return FileOutcome(inbox.supplier_id, printable(path.name), day, FileStatus.failed, moved,
                       reason=f"unexpected error ({type(exc).__name__}): set aside in {FAILED}/, see "
                              f"{printable(moved.name)}{REASON_SUFFIX}")


def process_supplier_inbox(runtime: Runtime, inbox: SupplierInbox) -> SupplierInboxResult:
    """Every new file of one supplier, in name order. Safe to rerun: a file stored before a failure
    is recognised by its hash and only filed."""
    check_supplier(runtime, inbox)
    return SupplierInboxResult(inbox.supplier_id,
                               tuple(process_file(runtime, inbox, path) for path in new_files(inbox.folder)))


def process_inbox(runtime: Runtime, request: InboxRequest, *, steps: StepRunner = run_directly) -> InboxResult:
    """Every supplier with new files, one after the other in id order (never in parallel: the
    cross-supplier duplicate rule needs one order, the same in every door). A supplier that fails, for
    any reason, is reported (its files not yet filed stay in the inbox) and the others are processed."""
    results = []
    for inbox in steps(supplier_inboxes, runtime, request):
        try:
            results.append(steps(process_supplier_inbox, runtime, inbox))
        except Exception as exc:  # noqa: BLE001 - one supplier's failure is reported, the others go on
            results.append(SupplierInboxResult(inbox.supplier_id, error=f"{type(exc).__name__}: {exc}"))
    return InboxResult(request.inbox_dir, tuple(results))
