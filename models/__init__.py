"""The database: typed SQLAlchemy 2 models and the session-taking functions that read and write them.

Functions in this package take a ``Session`` (or a ``Connection``) and never commit: the caller
owns the transaction, so that one delivery is stored whole or not at all.
"""

from models.alert import OutboxAlert
from models.base import Base
from models.billing import BillingLine, BillingStatement
from models.delivery import Delivery, Lead, LeadReason
from models.identity import IdentityRun
from models.outcome import OutcomeEvent
from models.pilot import PilotDecision
from models.replacement import ReplacementClaim
from models.suppression import SuppressionEntry
from models.supplier import ContractVersion, Supplier

__all__ = [
    "Base",
    "BillingLine",
    "BillingStatement",
    "ContractVersion",
    "Delivery",
    "IdentityRun",
    "Lead",
    "LeadReason",
    "OutboxAlert",
    "OutcomeEvent",
    "PilotDecision",
    "ReplacementClaim",
    "Supplier",
    "SuppressionEntry",
]
