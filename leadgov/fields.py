"""The canonical lead fields of docs/deliveries.md and how a supplier's header is compared with them.

One definition, used by the contract's column mapping and by the file readers alike.
"""

import unicodedata
from enum import StrEnum


class CanonicalField(StrEnum):
    """The canonical lead fields of docs/deliveries.md, in the spec's order.

    Members are ``str``: ``CanonicalField.email == "email"``.
    """

    lead_id = "lead_id"
    collected_at = "collected_at"
    company_name = "company_name"
    siren = "siren"
    naf_code = "naf_code"
    employees = "employees"
    legal_form = "legal_form"
    postal_code = "postal_code"
    country = "country"
    first_name = "first_name"
    last_name = "last_name"
    job_title = "job_title"
    email = "email"
    phone = "phone"
    language = "language"
    budget_eur = "budget_eur"
    project_horizon_months = "project_horizon_months"
    need = "need"
    source = "source"
    campaign = "campaign"
    consent_at = "consent_at"
    consent_proof = "consent_proof"
    replaces_lead_id = "replaces_lead_id"
    notice_sent_at = "notice_sent_at"


CANONICAL_FIELDS: tuple[str, ...] = tuple(field.value for field in CanonicalField)


def fold_header(header: str) -> str:
    """A header's comparison key: without BOM, NFC (macOS writes accents decomposed), trimmed,
    case-folded."""
    return unicodedata.normalize("NFC", header.replace("\ufeff", "")).strip().casefold()
