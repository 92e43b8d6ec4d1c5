"""The database: typed SQLAlchemy 2 models and the session-taking functions that read and write them.

Functions in this package take a ``Session`` (or a ``Connection``) and never commit: the caller
owns the transaction, so that one delivery is stored whole or not at all.
"""

from leadgov.models.alert import OutboxAlert
from leadgov.models.base import Base
from leadgov.models.billing import BillingLine, BillingStatement
from leadgov.models.committee import CommitteeDelivery, CommitteePack
from leadgov.models.delivery import Delivery, Lead, LeadReason
from leadgov.models.identity import IdentityRun
from leadgov.models.incident import Incident
from leadgov.models.lead_review import LeadReviewDecision
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.pilot import Pilot, PilotDecision
from leadgov.models.raw_record import RawRecordBlock
from leadgov.models.replacement import ReplacementClaim
from leadgov.models.supplier import ContractVersion, Supplier
from leadgov.models.suppression import SuppressionEntry

__all__ = [
    "Base",
    "BillingLine",
    "BillingStatement",
    "CommitteeDelivery",
    "CommitteePack",
    "ContractVersion",
    "Delivery",
    "IdentityRun",
    "Incident",
    "Lead",
    "LeadReason",
    "LeadReviewDecision",
    "OutboxAlert",
    "OutcomeEvent",
    "Pilot",
    "PilotDecision",
    "RawRecordBlock",
    "ReplacementClaim",
    "Supplier",
    "SuppressionEntry",
]
