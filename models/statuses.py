"""Every status stored in the database, as a ``StrEnum`` the database itself checks.

Each enum is the one list of allowed values: the domain compares with its members, and the model's
``CheckConstraint`` (``allowed``) is built from it, so a value the code does not know cannot be
stored, whatever writes it. Adding a member needs a migration that recreates the constraint
(``models/migrations``, as 0007 does).
"""

from enum import StrEnum

from sqlalchemy import CheckConstraint


class LeadStatus(StrEnum):
    """Where a delivered lead stands: accepted or rejected by validation, or held in ``review`` (every
    reason it has is one the contract lets a person judge) until a person accepts or rejects it."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVIEW = "review"


class ReviewDecision(StrEnum):
    """A person's decision on a lead in review (or the daily check's, past the review deadline)."""

    ACCEPT = "accept"
    REJECT = "reject"


class OutcomeEventType(StrEnum):
    """What the buyer's team did with a lead, in funnel order."""

    CALL_ATTEMPT = "call_attempt"
    REACHED = "reached"
    APPOINTMENT_SET = "appointment_set"
    APPOINTMENT_HELD = "appointment_held"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    CONTEST = "contest"


class ClaimStatus(StrEnum):
    """Where a replacement claim stands."""

    OPEN = "open"
    FILLED = "filled"
    OVERDUE = "overdue"
    CREDITED = "credited"
    NOT_OWED_CAP = "not_owed_cap"


class ClaimOrigin(StrEnum):
    """What opened a replacement claim: a lead rejected at delivery, or a contest after the call."""

    REJECTION = "rejection"
    CONTEST = "contest"


class AlertStatus(StrEnum):
    """An alert in the outbox: waiting, being sent (claimed by a sender), sent, or failed (retried)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class IncidentState(StrEnum):
    """An incident (one ongoing problem of one supplier, one alert type): open until its condition clears."""

    OPEN = "open"
    CLOSED = "closed"


class DeliveryMedium(StrEnum):
    """How a committee pack reaches the committee: its Slack channel, or an e-mail."""

    SLACK = "slack"
    EMAIL = "email"


class SupplierState(StrEnum):
    """A supplier's life: in pilot, then active, renegotiating or terminated (deliveries refused)."""

    PILOT = "pilot"
    ACTIVE = "active"
    RENEGOTIATING = "renegotiating"
    TERMINATED = "terminated"


class PilotState(StrEnum):
    """A pilot's life: ``running`` (its cohort is delivered, then its contest window runs), ``judged``
    (the verdict went to the committee; the owner's decision is awaited), ``decided``. Running and
    judged pilots are undecided: they hold the supplier's leads beyond their cohort (PILOT_HOLD)."""

    RUNNING = "running"
    JUDGED = "judged"
    DECIDED = "decided"


#: The states of a pilot that waits for the owner's decision.
UNDECIDED_PILOT = (PilotState.RUNNING, PilotState.JUDGED)


class Decision(StrEnum):
    """The contract owner's decision on a pilot."""

    APPROVE = "approve"
    RENEGOTIATE = "renegotiate"
    TERMINATE = "terminate"


def allowed(column: str, values: type[StrEnum]) -> CheckConstraint:
    """``column IN (every value of the enum)``, named ``ck_<table>_<column>`` by the naming convention."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


#: (table, column, enum) of every checked status: the models and migration 0007 read this list.
CHECKED_STATUSES: tuple[tuple[str, str, type[StrEnum]], ...] = (
    ("lead", "status", LeadStatus),
    ("outcome_event", "event", OutcomeEventType),
    ("replacement_claim", "status", ClaimStatus),
    ("replacement_claim", "origin", ClaimOrigin),
    ("alert", "status", AlertStatus),
    ("supplier", "state", SupplierState),
    ("pilot_decision", "decision", Decision),
    ("pilot", "state", PilotState),
    ("committee_delivery", "medium", DeliveryMedium),
    ("committee_delivery", "status", AlertStatus),
    ("incident", "state", IncidentState),
    ("incident", "closing_status", AlertStatus),
    ("lead_review_decision", "decision", ReviewDecision),
)
