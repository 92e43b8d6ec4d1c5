"""Tasks of a delivery's validation: read, normalise, validate, deduplicate and store, write results."""

from datetime import date
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from leadgov.config.contract import ContractFile, load_contract
from leadgov.config.settings import get_settings
from leadgov import ingest
from leadgov.ingest import CheckedDelivery, DeliveryFile, IngestOutcome, NormalisedDelivery
from leadgov.reading import RawDelivery
from leadgov.results import write_result_file, write_return_file
from leadgov.models.db import session_scope
from leadgov.models.migrate import upgrade


def database_unreachable(state) -> bool:
    """Retry only when the database could not be reached, never on a refused delivery."""
    return isinstance(state.result(raise_on_failure=False), OperationalError)


@task(cache_policy=NO_CACHE)
def load_contract_file(contract_path: str) -> ContractFile:
    """Load and fully validate the contract (refused contracts fail the run with every problem)."""
    return load_contract(contract_path)


def file_unavailable(state) -> bool:
    """Retry a read that the file system failed (a flaky share), never a refused or missing file."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, OSError) and not isinstance(error, FileNotFoundError)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=lambda task, run, state: file_unavailable(state))
def receive_file(delivery_path: str, delivered_on: date) -> DeliveryFile:
    """Read the delivered bytes (retried: the file may sit on a flaky share)."""
    return DeliveryFile.from_path(Path(delivery_path), delivered_on, get_settings().max_file_bytes)


@task(cache_policy=NO_CACHE)
def read_delivery_file(file: DeliveryFile, contract: ContractFile) -> RawDelivery:
    """Stage *read*."""
    return ingest.read_file(file, contract)


@task(cache_policy=NO_CACHE)
def normalise_leads(raw: RawDelivery, file: DeliveryFile, contract: ContractFile) -> NormalisedDelivery:
    """Stage *normalise*."""
    return ingest.normalise(raw, file, contract, get_settings())


@task(cache_policy=NO_CACHE)
def validate_fields(normalised: NormalisedDelivery, file: DeliveryFile, contract: ContractFile,
                    crm_path: str | None) -> CheckedDelivery:
    """Stage *validate*: the contract's per-field rules (and the CRM export, when given)."""
    settings = get_settings()
    crm = ingest.crm_people(ingest.read_bounded(Path(crm_path), settings.max_file_bytes), settings, crm_path) if crm_path else None
    return ingest.check_fields(normalised, file, contract, crm=crm)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: database_unreachable(state))
def deduplicate_and_store(checked: CheckedDelivery, dry_run: bool) -> IngestOutcome:
    """Stages *deduplicate* and *store*, in one transaction so a delivery is stored whole or not at all.

    Retried only when the database was unreachable: a retry is safe, since a delivery that was
    committed is recognised by its hash.
    """
    settings = get_settings()
    url = settings.effective_database_url
    upgrade(url)
    with session_scope(url) as session:
        outcome = ingest.store_delivery(session, checked, settings, dry_run=dry_run)
        if dry_run:
            session.rollback()
    return outcome


@task(cache_policy=NO_CACHE)
def write_results(outcome: IngestOutcome, contract: ContractFile, out_dir: str, file_name: str) -> dict[str, str]:
    """Write the result file and the supplier's return file; return their paths."""
    stem = Path(file_name).stem
    folder = Path(out_dir)
    locale = contract.contract.locale
    verdicts = outcome.result.verdicts
    return {
        "result_file": str(write_result_file(verdicts, folder / f"{stem}.result.csv", locale)),
        "return_file": str(write_return_file(verdicts, folder / f"{stem}.returns.csv", locale)),
    }


@task(cache_policy=NO_CACHE)
def publish_summary(outcome: IngestOutcome, supplier_id: str, file_name: str, paths: dict[str, str]) -> dict:
    """Publish the run's summary and per-reason table as artifacts (keys stable per supplier);
    return the summary as plain data. Counts and codes only: never a lead's personal data."""
    summary = {
        "supplier_id": supplier_id, "file": file_name, "delivery_id": outcome.delivery_id,
        "already_ingested": outcome.already_ingested, **outcome.result.counts(),
        "reasons": outcome.result.reason_counts(), **paths,
    }
    state = "already ingested, nothing stored again" if outcome.already_ingested else "stored"
    lines = [
        f"# Delivery {file_name} ({supplier_id})",
        "",
        f"Delivery {outcome.delivery_id}: {state}.",
        "",
        "| delivered | accepted | rejected | over weekly cap |",
        "| --- | --- | --- | --- |",
        f"| {summary['delivered']} | {summary['accepted']} | {summary['rejected']} | {summary['over_cap']} |",
    ]
    create_markdown_artifact("\n".join(lines), key=f"delivery-{supplier_id}-summary",
                             description="Latest delivery validation")
    table = [{"reason": code, "leads": count} for code, count in summary["reasons"].items()]
    create_table_artifact(table or [{"reason": "(none)", "leads": 0}], key=f"delivery-{supplier_id}-reasons",
                          description="Rejections per reason of the latest delivery")
    return summary
