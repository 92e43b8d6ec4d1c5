"""Tasks of the weekly inbox validation: each supplier's new files validated, stored and filed.

The inbox holds one folder per supplier id; files dropped there are *new*. Each one is validated
and stored by the domain (``ingest_delivery``, one transaction per file), then moved to
``<supplier>/processed/``, or to ``<supplier>/refused/`` with ``<file>.reason.txt`` beside it
when the domain refuses it whole (unreadable file, terminated supplier). A refused file is a
result, not a failure; anything else unexpected fails that supplier's task only.
"""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.config.contract import load_contract
from leadgov.config.contract.api import CONTRACTS_DIR
from leadgov.config.settings import Settings, get_settings
from leadgov.alerts.evaluate import after_delivery
from leadgov.alerts.outbox import evaluate_and_send
from leadgov.ingest import DeliveryFile, ingest_delivery
from leadgov.reading import UnreadableFile
from leadgov.models.db import session_scope
from leadgov.models.supplier import SupplierTerminated
from leadgov.tasks.governance import alert_summary, local_today, transient_io

PROCESSED = "processed"
REFUSED = "refused"
REASON_SUFFIX = ".reason.txt"
#: Names of files still being written by the supplier's upload (left for the next run).
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".filepart")
#: What the domain refuses a delivery file with: the file is filed under refused/ with the message.
REFUSALS = (UnreadableFile, SupplierTerminated)


def resolve_inbox_dir(inbox_dir: str | None) -> str:
    """The inbox folder: the one given, or ``<data_dir>/inbox``."""
    return str(Path(inbox_dir) if inbox_dir else get_settings().data_dir / "inbox")


def resolve_contracts_dir(contracts_dir: str | None) -> str:
    """The contracts folder: the one given, or the shipped ``config/contracts``."""
    return str(Path(contracts_dir) if contracts_dir else CONTRACTS_DIR)


def new_files(folder: Path) -> list[Path]:
    """The files waiting in a supplier's folder, by name (sub-folders, hidden files, reason files and
    partial uploads are not deliveries)."""
    return sorted((p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and not p.name.endswith(REASON_SUFFIX)
                   and not p.name.lower().endswith(PARTIAL_SUFFIXES)), key=lambda p: p.name)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=lambda task, run, state: transient_io(state))
def find_supplier_inboxes(inbox_dir: str) -> list[str]:
    """The supplier folders holding new files, by supplier id."""
    root = Path(inbox_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{inbox_dir}: no such inbox folder (one sub-folder per supplier id)")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and new_files(p))


def file_day(path: Path, tz: str) -> date:
    """The day a file was received: its modification date in the settings' zone."""
    return datetime.fromtimestamp(path.stat().st_mtime, ZoneInfo(tz)).date()


def move_to(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` (created if needed) without overwriting a file already there:
    a name taken gets ``.2``, ``.3``... before its extension."""
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists() or (folder / f"{target.name}{REASON_SUFFIX}").exists():
        n += 1
        target = folder / f"{path.stem}.{n}{path.suffix}"
    return path.rename(target)


def validate_file(path: Path, contract, delivered_on: date | None, settings: Settings) -> dict:
    """Validate and store one file in its own transaction, file it, then raise its alerts."""
    url = settings.effective_database_url
    day = delivered_on or file_day(path, settings.timezone)
    row = {"file": path.name, "delivered_on": day.isoformat()}
    try:
        file = DeliveryFile.from_path(path, day, settings.max_file_bytes)
        with session_scope(url) as session:
            outcome = ingest_delivery(session, file, contract, settings)
    except REFUSALS as exc:
        moved = move_to(path, path.parent / REFUSED)
        reason = str(exc)
        moved.with_name(moved.name + REASON_SUFFIX).write_text(
            f"{path.name} was refused whole, nothing of it was stored:\n{reason}\n", encoding="utf-8")
        return row | {"status": REFUSED, "moved_to": str(moved), "reason": reason}
    moved = move_to(path, path.parent / PROCESSED)
    alerts = evaluate_and_send(url, settings, lambda session: after_delivery(
        session, outcome.delivery_id, settings.timezone, local_today()))
    return row | {"status": PROCESSED, "moved_to": str(moved), "delivery_id": outcome.delivery_id,
                  "already_ingested": outcome.already_ingested, **outcome.result.counts(),
                  "alerts": alert_summary(alerts)}


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: transient_io(state),
      task_run_name="inbox of {supplier_id}")
def validate_supplier_inbox(supplier_id: str, inbox_dir: str, contracts_dir: str,
                            delivered_on: date | None = None) -> dict:
    """Every new file of one supplier, in name order (so deduplication sees them in that order).

    Safe to retry: a file stored before the failure is recognised by its hash and only filed.
    A missing or invalid contract fails the supplier, leaving its files in the inbox.
    """
    logger = get_run_logger()
    settings = get_settings()
    folder = Path(inbox_dir) / supplier_id
    contract_path = Path(contracts_dir) / f"{supplier_id}.yaml"
    if not contract_path.is_file():
        raise FileNotFoundError(f"no contract for supplier folder {supplier_id!r}: expected {contract_path}")
    contract = load_contract(contract_path)
    if contract.contract.supplier.id != supplier_id:
        raise ValueError(f"{contract_path} is the contract of {contract.contract.supplier.id!r}, "
                         f"not of the folder {supplier_id!r}")
    files = []
    for path in new_files(folder):
        result = validate_file(path, contract, delivered_on, settings)
        logger.info("%s/%s: %s", supplier_id, path.name, result["status"]
                    + (f" as delivery {result['delivery_id']}" if "delivery_id" in result else ""))
        files.append(result)
    return {"supplier_id": supplier_id, "error": None, "files": files}


FILE_COLUMNS = ("supplier_id", "file", "status", "delivered_on", "delivery_id", "already_ingested", "delivered",
                "accepted", "rejected", "over_cap", "reason")


@task(cache_policy=NO_CACHE)
def publish_inbox_summary(inbox_dir: str, results: list[dict]) -> dict:
    """Markdown summary per supplier and one table row per file (counts and reasons of refusal:
    never a lead's personal data)."""
    rows, lines = [], [f"# Inbox validation of `{inbox_dir}`", ""]
    totals = {PROCESSED: 0, REFUSED: 0, "errors": 0}
    if results:
        lines += ["| supplier | processed | refused | accepted | rejected | error |", "| --- | --- | --- | --- | --- | --- |"]
    for result in results:
        supplier = result["supplier_id"]
        files = result.get("files") or []
        processed = [f for f in files if f["status"] == PROCESSED]
        refused = [f for f in files if f["status"] == REFUSED]
        totals[PROCESSED] += len(processed)
        totals[REFUSED] += len(refused)
        totals["errors"] += bool(result.get("error"))
        lines.append(f"| {supplier} | {len(processed)} | {len(refused)} | {sum(f['accepted'] for f in processed)} "
                     f"| {sum(f['rejected'] for f in processed)} | {result.get('error') or ''} |")
        rows += [{column: ({"supplier_id": supplier} | f).get(column) for column in FILE_COLUMNS} for f in files]
        if result.get("error"):
            rows.append({column: None for column in FILE_COLUMNS}
                        | {"supplier_id": supplier, "status": "error", "reason": result["error"]})
    lines += ["", f"{totals[PROCESSED]} files processed, {totals[REFUSED]} refused, "
                  f"{totals['errors']} suppliers in error."]
    if not results:
        lines.append("No new file in the inbox.")
    create_markdown_artifact("\n".join(lines), key="inbox-validation-summary",
                             description="Latest weekly inbox validation")
    create_table_artifact(rows or [{column: None for column in FILE_COLUMNS} | {"status": "(no new file)"}],
                          key="inbox-validation-table", description="Files of the latest inbox validation")
    return {"inbox_dir": inbox_dir, **totals, "suppliers": results}
