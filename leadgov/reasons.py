"""The vocabulary of a lead's fate: rejection reasons, contest reasons, flags (the stored statuses are
``leadgov.models.statuses``).

The names are the spec's (docs/deliveries.md, docs/governance.md) and are used unchanged in the
database, the result files, the reports and the alerts.
"""

from enum import StrEnum


class RejectionReason(StrEnum):
    """Why a delivered lead is rejected. Declaration order is the spec's table order:
    the first reason that applies to a lead is its *primary* reason."""

    NO_CONSENT = "NO_CONSENT"
    NO_NOTICE = "NO_NOTICE"
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_COMPANY_ID = "INVALID_COMPANY_ID"
    INVALID_VALUE = "INVALID_VALUE"
    DUPLICATE_IN_DELIVERY = "DUPLICATE_IN_DELIVERY"
    DUPLICATE_PREVIOUS = "DUPLICATE_PREVIOUS"
    DUPLICATE_OTHER_SUPPLIER = "DUPLICATE_OTHER_SUPPLIER"
    ALREADY_IN_CRM = "ALREADY_IN_CRM"
    SUPPRESSED = "SUPPRESSED"
    COMPETITOR = "COMPETITOR"
    EXCLUDED_LEGAL_FORM = "EXCLUDED_LEGAL_FORM"
    STUDENT = "STUDENT"
    STALE = "STALE"
    GENERIC_EMAIL = "GENERIC_EMAIL"
    FREE_EMAIL = "FREE_EMAIL"
    OUT_OF_TARGET_GEO = "OUT_OF_TARGET_GEO"
    OUT_OF_TARGET_SECTOR = "OUT_OF_TARGET_SECTOR"
    OUT_OF_TARGET_SIZE = "OUT_OF_TARGET_SIZE"
    OUT_OF_TARGET_FUNCTION = "OUT_OF_TARGET_FUNCTION"
    OUT_OF_TARGET_BUDGET = "OUT_OF_TARGET_BUDGET"
    OUT_OF_TARGET_MATURITY = "OUT_OF_TARGET_MATURITY"
    UNAUTHORIZED_SOURCE = "UNAUTHORIZED_SOURCE"
    COMPANY_CAP = "COMPANY_CAP"


#: Position of each reason in the spec's table, for ordering a lead's reasons.
REASON_ORDER: dict[str, int] = {reason.value: i for i, reason in enumerate(RejectionReason)}

DUPLICATE_REASONS = frozenset(
    {
        RejectionReason.DUPLICATE_IN_DELIVERY,
        RejectionReason.DUPLICATE_PREVIOUS,
        RejectionReason.DUPLICATE_OTHER_SUPPLIER,
        RejectionReason.ALREADY_IN_CRM,
    }
)
DATA_ERROR_REASONS = frozenset(
    {
        RejectionReason.MISSING_FIELD,
        RejectionReason.INVALID_EMAIL,
        RejectionReason.INVALID_PHONE,
        RejectionReason.INVALID_COMPANY_ID,
        RejectionReason.INVALID_VALUE,
    }
)

#: The reasons ``exploitability.review_reasons`` may list (docs/validation-rules.md, Review tier): the
#: targeting reasons, the weak-contact reasons and the freshness and source rules, which a person can
#: judge from the lead itself, and COMPANY_CAP (one company's share of the supplier's leads). Any other
#: code in the list is a contract error.
REVIEWABLE_REASONS: tuple[str, ...] = (
    RejectionReason.STALE.value,
    RejectionReason.GENERIC_EMAIL.value,
    RejectionReason.FREE_EMAIL.value,
    RejectionReason.OUT_OF_TARGET_GEO.value,
    RejectionReason.OUT_OF_TARGET_SECTOR.value,
    RejectionReason.OUT_OF_TARGET_SIZE.value,
    RejectionReason.OUT_OF_TARGET_FUNCTION.value,
    RejectionReason.OUT_OF_TARGET_BUDGET.value,
    RejectionReason.OUT_OF_TARGET_MATURITY.value,
    RejectionReason.UNAUTHORIZED_SOURCE.value,
    RejectionReason.COMPANY_CAP.value,
)

#: The rejections that are GDPR breaches: no proven consent, or no proven notice to the person.
GDPR_REASONS = frozenset({RejectionReason.NO_CONSENT, RejectionReason.NO_NOTICE})


class ContestReason(StrEnum):
    """Why the buyer's team contests an accepted lead after calling it."""

    WRONG_NUMBER = "WRONG_NUMBER"
    UNREACHABLE = "UNREACHABLE"
    WRONG_PERSON = "WRONG_PERSON"
    OUT_OF_TARGET_ON_CALL = "OUT_OF_TARGET_ON_CALL"
    FAKE_LEAD = "FAKE_LEAD"
    NO_CONSENT_ON_CALL = "NO_CONSENT_ON_CALL"


class LeadFlag(StrEnum):
    """Marks on an accepted lead that are not rejections; a lead carries at most one.

    OVER_WEEKLY_CAP: beyond the ISO week's maximum, never billed. PILOT_HOLD: delivered beyond the
    cohort of an undecided pilot, billed only if the pilot is approved, on the statement of the
    decision's month. A lead over the weekly cap is never billed, so it is never also held.
    """

    OVER_WEEKLY_CAP = "OVER_WEEKLY_CAP"
    PILOT_HOLD = "PILOT_HOLD"

