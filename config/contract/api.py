"""The public entry points: load or parse a contract into a `ContractFile`, or raise `ContractError`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from leadgov.config.contract.models import Contract, capacity_problems
from leadgov.config.contract.problems import ContractError, describe_validation_error
from leadgov.config.contract.yaml_loading import MAX_CONTRACT_BYTES, _kind_of, _read_text, _read_yaml

#: The shipped contracts (one YAML file per supplier contract): config/contracts/.
CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"


def contract_supplier_ids(folder: Path = CONTRACTS_DIR) -> tuple[str, ...]:
    """The suppliers with a contract in ``folder`` (``<supplier id>.yaml``, as the inbox reads them),
    sorted; the files are not read (a form is built from this at import)."""
    try:
        return tuple(sorted(p.stem for p in folder.glob("*.yaml") if p.is_file()))
    except OSError:
        return ()


@dataclass(frozen=True)
class ContractFile:
    """A contract as loaded: its exact text (comments kept, for the stored copy), the hash that
    identifies this version, and the validated model."""

    path: str
    text: str
    sha256: str
    contract: Contract


@lru_cache(maxsize=64)
def parse_contract(text: str, source: str = "<string>") -> ContractFile:
    """Validate a contract given as YAML text; ``source`` names it in error messages.

    Raises ContractError listing every problem found. The result is cached by (text, source): the
    models are frozen, and the stored versions are read back for every KPI, alert and statement
    (parsing a contract's YAML takes about 60 ms; the demo read them 2,400 times).
    """
    if len(text.encode("utf-8")) > MAX_CONTRACT_BYTES:
        raise ContractError(source, [f"file larger than {MAX_CONTRACT_BYTES} bytes: not a contract"])
    document, problems = _read_yaml(text, source)
    if not isinstance(document, dict):
        problems.append(
            f"the file must be a mapping of contract keys (contract_id: ...), got {_kind_of(document)}"
        )
        raise ContractError(source, problems)
    try:
        contract = Contract.model_validate(document)
    except ValidationError as exc:
        raise ContractError(source, problems + describe_validation_error(exc)) from None
    problems += capacity_problems(contract)
    if problems:
        raise ContractError(source, problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ContractFile(path=source, text=text, sha256=digest, contract=contract)


def load_contract(path: str | Path) -> ContractFile:
    """Read and validate a contract file (UTF-8 YAML). Raises ContractError."""
    source = str(path)
    return parse_contract(_read_text(Path(path), source), source)
