"""Small builders of valid contracts and leads, so each test states only what it varies."""

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from leadgov.config.contract import Contract, ContractFile, parse_contract
from leadgov.identity import identity_keys
from leadgov.reading import CANONICAL_FIELDS
from leadgov.validation.engine import ValidationResult, validate_leads
from leadgov.validation.people import KnownPeople
from leadgov.validation.prepare import prepare_leads

ROOT = Path(__file__).resolve().parents[1]
BASE_CONTRACT = ROOT / "config" / "contracts" / "acme-leads.yaml"
DELIVERED_ON = date(2027, 3, 1)
HMAC_KEY = "test-key"
TZ = "Europe/Paris"


DELETE = object()  # an override value meaning "remove this key"


def with_overrides(overrides: dict[str, Any], base: dict | None = None) -> dict:
    """``base`` (default: the example contract) with ``{"billing.freeze_if.gdpr_breach": False}``-style
    overrides applied (``__`` may stand for ``.``); a value of ``DELETE`` removes the key."""
    data = copy.deepcopy(base if base is not None else yaml.safe_load(BASE_CONTRACT.read_text(encoding="utf-8")))
    for dotted, value in overrides.items():
        *parents, leaf = dotted.replace("__", ".").split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return data


def contract_dict(**overrides: Any) -> dict:
    """The example contract as a dict, with dotted-path ``overrides``."""
    return with_overrides(overrides)


def make_contract_file(**overrides: Any) -> ContractFile:
    """A loaded, validated contract built from the example plus ``overrides``."""
    return parse_contract(yaml.safe_dump(contract_dict(**overrides), allow_unicode=True), "test-contract.yaml")


def make_contract(**overrides: Any) -> Contract:
    return make_contract_file(**overrides).contract


def lead(n: int = 1, **overrides: Any) -> dict[str, str | None]:
    """A lead accepted by the example contract on DELIVERED_ON; ``n`` makes its person unique."""
    row = {
        "lead_id": f"L-{n:05d}",
        "collected_at": "2027-02-27 10:00",
        "company_name": "Nexalog SAS",
        "siren": "732829320",
        "naf_code": "62.01Z",
        "employees": "120",
        "legal_form": "SAS",
        "postal_code": "75011",
        "country": "FR",
        "first_name": "Camille",
        "last_name": "Martin",
        "job_title": "Directrice des systèmes d'information",
        "email": f"camille.martin{n}@nexalog.fr",
        "phone": f"06 12 34 {n // 100 % 100:02d} {n % 100:02d}",
        "budget_eur": "25000",
        "project_horizon_months": "6",
        "need": "Remplacer notre CRM avant l'été",
        "source": "web_form",
        "consent_at": "2027-02-27 10:00",
        "consent_proof": "cert-7f3a9c",
    }
    row.update(overrides)
    return row


def raw_frame(rows: list[dict[str, str | None]]) -> pd.DataFrame:
    """The reader's frame for these rows: every canonical field, trimmed text, NA when empty."""
    frame = pd.DataFrame(rows, columns=list(CANONICAL_FIELDS), dtype="str")
    frame = frame.apply(lambda s: s.str.strip())
    return frame.mask(frame.eq(""))


def validate_rows(rows: list[dict], contract: Contract | None = None, *,
                  delivered_on: date = DELIVERED_ON, known: KnownPeople | None = None) -> ValidationResult:
    """Validate rows without a database: what the database would know comes as ``known``."""
    contract = contract or make_contract()
    prepared = prepare_leads(raw_frame(rows), contract, delivered_on, TZ)
    return validate_leads(
        prepared, contract, delivered_on, known or KnownPeople(),
        email_keys=identity_keys(prepared.values["email"], HMAC_KEY),
        phone_keys=identity_keys(prepared.values["phone"], HMAC_KEY),
        hmac_key=HMAC_KEY,
    )


def reasons_of(rows: list[dict], contract: Contract | None = None, **kwargs) -> list[list[str]]:
    """Each row's reason codes, primary first."""
    verdicts = validate_rows(rows, contract, **kwargs).verdicts
    return [r.split(";") if r else [] for r in verdicts["reasons"]]


def to_csv(rows: list[dict], headers: dict[str, str] | None = None, delimiter: str = ";") -> str:
    """Rows as CSV text, with canonical fields renamed to supplier headers (header -> field)."""
    frame = pd.DataFrame(rows)
    if headers:
        frame = frame.rename(columns={field: header for header, field in headers.items()})
    return frame.to_csv(index=False, sep=delimiter)


def delivery_file(rows: list[dict], delivered_on: date = DELIVERED_ON, *, contract: Contract | None = None,
                  name: str = "delivery.csv", encoding: str = "utf-8"):
    """A DeliveryFile holding ``rows`` as the supplier of ``contract`` would write them."""
    import hashlib

    from leadgov.ingest import DeliveryFile

    contract = contract or make_contract()
    data = to_csv(rows, dict(contract.delivery.columns)).encode(encoding)
    return DeliveryFile(data=data, file_name=name, delivered_on=delivered_on,
                        sha256=hashlib.sha256(data).hexdigest())


def settings_for(db_url: str):
    from leadgov.config.settings import Settings

    return Settings(database_url=db_url, hmac_key=HMAC_KEY)


def ingest(db_url: str, rows: list[dict], day: date = DELIVERED_ON, contract: ContractFile | None = None,
           name: str = "d.csv", **kwargs):
    """Validate and store ``rows`` as one delivery of ``contract``'s supplier, in its own transaction."""
    from leadgov.ingest import ingest_delivery
    from leadgov.models.db import session_scope

    contract = contract or make_contract_file()
    file = delivery_file(rows, day, contract=contract.contract, name=name)
    with session_scope(db_url) as session:
        return ingest_delivery(session, file, contract, settings_for(db_url), **kwargs)


def outcomes_csv(rows: list[dict], supplier_id: str = "acme-leads") -> bytes:
    """An outcome export: each row a dict with lead_id, event, at and optional columns."""
    columns = ["lead_id", "supplier_id", "event", "at", "contest_reason", "amount_eur", "objection", "note"]
    frame = pd.DataFrame([{"supplier_id": supplier_id, **r} for r in rows], columns=columns)
    return frame.to_csv(index=False, sep=";").encode("utf-8")


def contract_on_disk(folder: Path, contract: ContractFile | None = None, name: str = "contract.yaml") -> Path:
    """``contract`` (default: the one ``ingest`` uses) written to ``folder`` with its exact text, so a
    door that loads the file stores the same contract version as the deliveries."""
    contract = contract or make_contract_file()
    path = folder / name
    path.write_text(contract.text, encoding="utf-8")
    return path


def service_runtime(db_url: str, day: date, tmp_path: Path | None = None, *, actor: str | None = None,
                    clock: Any = None, **settings: Any):
    """The runtime a door builds (``leadgov.services.runtime.build_runtime``), for a test: on ``db_url``, its
    clock saying ``day`` (09:00 in Paris; ``clock`` replaces it), no ``.env`` read, no Slack (alerts stay in
    the outbox), files written under ``tmp_path`` when given, ``actor`` as the user behind the run
    (default: the process's). ``settings`` override any other setting (``locale``, ``hmac_key``...)."""
    from leadgov.config.settings import Settings
    from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

    values: dict[str, Any] = {"database_url": db_url, "hmac_key": HMAC_KEY, "slack_bot_token": None,
                              "slack_webhook_url": None}
    if tmp_path is not None:
        values["output_dir"] = tmp_path
    return build_runtime(Settings(_env_file=None, **{**values, **settings}), clock=clock or FixedClock(day),
                         notifier=OutboxNotifier(None), actor=actor)
