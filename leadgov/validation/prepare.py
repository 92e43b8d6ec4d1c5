"""Turn a delivery's raw text columns into normalised, typed values plus missing/invalid flags."""

from dataclasses import dataclass
from datetime import date

import pandas as pd

from config.contract import Contract
from leadgov.normalise import company_ids, emails, phones, text, values

#: Text fields that are only trimmed (the reader already turned empty cells into NA).
PLAIN_TEXT_FIELDS = (
    "lead_id",
    "company_name",
    "first_name",
    "last_name",
    "need",
    "consent_proof",
    "campaign",
    "replaces_lead_id",
    "postal_code",
)

#: Fields whose present-but-unreadable value is INVALID_VALUE (spec: "Normalisation").
VALUE_FIELDS = (
    "collected_at",
    "consent_at",
    "employees",
    "budget_eur",
    "project_horizon_months",
    "postal_code",
)


@dataclass(frozen=True)
class PreparedLeads:
    """A delivery ready for the rules.

    ``values``: one column per canonical field, normalised and typed (NA when missing *or*
    unreadable), plus derived columns (``department``, ``email_local``, ``email_domain``,
    ``job_title_words``, ``legal_form_words``). ``missing``/``invalid``: one boolean column per
    canonical field.
    """

    values: pd.DataFrame
    missing: pd.DataFrame
    invalid: pd.DataFrame


def prepare_leads(raw: pd.DataFrame, contract: Contract, delivered_on: date, tz: str) -> PreparedLeads:
    """Normalise every canonical field of ``raw`` (the reader's frame) for ``contract``."""
    out = pd.DataFrame(index=raw.index)
    invalid = pd.DataFrame(False, index=raw.index, columns=raw.columns)
    missing = raw.isna()

    for field in PLAIN_TEXT_FIELDS:
        out[field] = raw[field]

    _prepare_email(raw, out, invalid)
    _prepare_phone(raw, out, invalid, contract.exploitability.phone_regions)
    _prepare_siren(raw, out, invalid)
    _prepare_numbers(raw, out, invalid)
    _prepare_dates(raw, out, invalid, contract.delivery.date_format, tz, delivered_on)
    _prepare_place(raw, out, invalid)

    out["naf_code"] = raw["naf_code"].str.upper().str.replace(r"[.\s]", "", regex=True)
    out["source"] = raw["source"].str.lower()
    out["language"] = raw["language"].str.lower()
    out["job_title"] = raw["job_title"]
    out["job_title_words"] = text.words(raw["job_title"])
    out["legal_form"] = raw["legal_form"]
    out["legal_form_words"] = text.words(raw["legal_form"])
    return PreparedLeads(values=out, missing=missing, invalid=invalid)


def _prepare_email(raw: pd.DataFrame, out: pd.DataFrame, invalid: pd.DataFrame) -> None:
    parsed = emails.normalise_emails(raw["email"])
    out["email"] = parsed["email"]
    out["email_local"] = parsed["local"]
    out["email_domain"] = parsed["domain"]
    invalid["email"] = parsed["valid"].eq(False).fillna(False).astype(bool)


def _prepare_phone(raw, out, invalid, regions) -> None:
    parsed = phones.normalise_phones(raw["phone"], list(regions))
    out["phone"] = parsed["phone"]
    invalid["phone"] = parsed["valid"].eq(False).fillna(False).astype(bool)


def _prepare_siren(raw, out, invalid) -> None:
    parsed = company_ids.normalise_sirens(raw["siren"])
    out["siren"] = parsed["siren"]
    invalid["siren"] = parsed["valid"].eq(False).fillna(False).astype(bool)


def _prepare_numbers(raw, out, invalid) -> None:
    for field, parse in (
        ("employees", values.parse_integers),
        ("project_horizon_months", values.parse_integers),
        ("budget_eur", values.parse_amounts),
    ):
        parsed = parse(raw[field])
        out[field] = parsed["value"]
        invalid[field] = parsed["invalid"].astype(bool)


def _prepare_dates(raw, out, invalid, date_format: str, tz: str, delivered_on: date) -> None:
    """Dates; a collection date after the delivery day is unreadable too (INVALID_VALUE)."""
    for field in ("collected_at", "consent_at"):
        parsed = values.parse_datetimes(raw[field], date_format, tz)
        out[field] = parsed["value"]
        invalid[field] = parsed["invalid"].astype(bool)
    after_delivery = out["collected_at"].dt.normalize() > pd.Timestamp(delivered_on)
    after_delivery = after_delivery.fillna(False).astype(bool)
    invalid["collected_at"] |= after_delivery
    out.loc[after_delivery, "collected_at"] = pd.NaT


def _prepare_place(raw, out, invalid) -> None:
    """Country (absent = FR) and, for French leads, the postal code and its department."""
    out["country"] = raw["country"].str.upper().fillna("FR")
    french = out["country"].eq("FR")
    postal = raw["postal_code"]
    bad_postal = french & postal.notna() & ~values.is_french_postal_code(postal).fillna(False)
    invalid["postal_code"] = bad_postal.astype(bool)
    out["postal_code"] = postal.where(~bad_postal)
    out["department"] = values.department_from_postal_code(out["postal_code"].where(french))
