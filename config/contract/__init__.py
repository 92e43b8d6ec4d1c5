"""The contract file format and its loader; re-exports the names the rest of leadgov imports."""

# A contract is the buyer's annex, written in YAML by a purchasing manager (docs/contract-reference.md,
# docs/contract-reference.md, docs/contract-reference.md). Everything downstream (delivery
# validation, billing, pilots, alerts, reviews) trusts it, so it is validated completely on load:
# an unknown key, a wrong type, a rate outside 0..1, an inconsistent pair of values is refused
# with one readable line per problem, all problems at once, naming the file and the key path.
#
# Where to look:
#   api.py           load_contract / parse_contract / ContractFile (start here)
#   models.py        the blocks and Contract: every key a contract may hold
#   value_types.py   what each key accepts (slugs, rates, dates, reason codes...)
#   problems.py      pydantic errors -> readable problem lines; ContractError
#   yaml_loading.py  safe YAML: aliases refused, duplicate keys, size limit, reading the file
#   wording.py       how values and key paths are shown in problem lines

from leadgov.config.contract.api import CONTRACTS_DIR, ContractFile, load_contract, parse_contract
from leadgov.config.contract.models import Contract
from leadgov.config.contract.problems import ContractError
from leadgov.config.contract.value_types import CanonicalField
from leadgov.config.contract.yaml_loading import MAX_CONTRACT_BYTES

__all__ = [
    "CONTRACTS_DIR",
    "MAX_CONTRACT_BYTES",
    "CanonicalField",
    "Contract",
    "ContractError",
    "ContractFile",
    "load_contract",
    "parse_contract",
]
