"""Turn a delivery's raw text columns into normalised, typed values plus missing/invalid flags."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd
import pyarrow.compute as pc

from leadgov.config.contract import Contract
from leadgov.normalise import company_ids, emails, phones, text
from leadgov.normalise import values as parsers

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
    "notice_sent_at",
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


Columns = tuple[dict[str, pd.Series], dict[str, pd.Series]]  # (values, invalid flags)


def prepare_leads(raw: pd.DataFrame, contract: Contract, delivered_on: date, tz: str) -> PreparedLeads:
    """Normalise every canonical field of ``raw`` (the reader's frame) for ``contract``.

    The field groups are independent and their heavy work runs in Arrow kernels that release
    the GIL, so they run on two threads.
    """
    jobs = [
        partial(_prepare_email, raw),
        partial(_prepare_phone, raw, contract.exploitability.phone_regions),
        partial(_prepare_siren, raw),
        partial(_prepare_numbers, raw),
        partial(_prepare_dates, raw, contract.delivery.date_format, tz, delivered_on),
        partial(_prepare_place, raw),
        partial(_prepare_text, raw),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    values = {field: raw[field] for field in PLAIN_TEXT_FIELDS}
    invalid = {field: pd.Series(False, index=raw.index) for field in raw.columns}
    for job_values, job_invalid in results:
        values.update(job_values)
        invalid.update(job_invalid)
    return PreparedLeads(
        values=pd.DataFrame(values, index=raw.index),
        missing=raw.isna(),
        invalid=pd.DataFrame(invalid, index=raw.index)[list(raw.columns)],
    )


def _flag(valid: pd.Series) -> pd.Series:
    """Invalid = present and not valid (``valid`` is NA where the value is missing)."""
    return valid.eq(False).fillna(False).astype(bool)


def _prepare_email(raw: pd.DataFrame) -> Columns:
    parsed = emails.normalise_emails(raw["email"])
    values = {"email": parsed["email"], "email_local": parsed["local"], "email_domain": parsed["domain"]}
    return values, {"email": _flag(parsed["valid"])}


def _prepare_phone(raw: pd.DataFrame, regions: Sequence[str]) -> Columns:
    parsed = phones.normalise_phones(raw["phone"], list(regions))
    return {"phone": parsed["phone"]}, {"phone": _flag(parsed["valid"])}


def _prepare_siren(raw: pd.DataFrame) -> Columns:
    parsed = company_ids.normalise_sirens(raw["siren"])
    return {"siren": parsed["siren"]}, {"siren": _flag(parsed["valid"])}


def _prepare_numbers(raw: pd.DataFrame) -> Columns:
    values, invalid = {}, {}
    for field, parse in (
        ("employees", parsers.parse_integers),
        ("project_horizon_months", parsers.parse_integers),
        ("budget_eur", parsers.parse_amounts),
    ):
        parsed = parse(raw[field])
        values[field], invalid[field] = parsed["value"], parsed["invalid"].astype(bool)
    return values, invalid


def _prepare_dates(raw: pd.DataFrame, date_format: str, tz: str, delivered_on: date) -> Columns:
    """Dates; a collection date after the delivery day is unreadable too (INVALID_VALUE).

    Derived: ``notice_days_after_collection``, the calendar days from the collection day to the
    notice day (NA unless both are read), for NO_NOTICE."""
    values, invalid = {}, {}
    for field in ("collected_at", "consent_at", "notice_sent_at"):
        parsed = parsers.parse_datetimes(raw[field], date_format, tz)
        values[field], invalid[field] = parsed["value"], parsed["invalid"].astype(bool)
    after = (values["collected_at"].dt.normalize() > pd.Timestamp(delivered_on)).fillna(False).astype(bool)
    invalid["collected_at"] = invalid["collected_at"] | after
    values["collected_at"] = values["collected_at"].mask(after)
    values["notice_days_after_collection"] = calendar_days(values["collected_at"], values["notice_sent_at"])
    return values, invalid


def calendar_days(start: pd.Series, end: pd.Series) -> pd.Series:
    """Calendar days from the day of ``start`` to the day of ``end`` (Int64, NA where either is NaT)."""
    days: pd.Series = (end.dt.normalize() - start.dt.normalize()).dt.days
    return days.astype("Int64")


def _prepare_place(raw: pd.DataFrame) -> Columns:
    """Country (absent = FR) and, for French leads, the postal code and its department."""
    country = raw["country"].str.upper().fillna("FR")
    french = country.eq("FR")
    postal = raw["postal_code"]
    bad_postal = (french & postal.notna() & ~parsers.is_french_postal_code(postal).fillna(False)).astype(bool)
    postal = postal.where(~bad_postal)
    department = parsers.department_from_postal_code(postal.where(french))
    return ({"country": country, "postal_code": postal, "department": department},
            {"postal_code": bad_postal})


def normalise_naf_codes(codes: pd.Series) -> pd.Series:
    """``62.01Z`` and ``6201z`` are the same code: upper case, no dots or spaces (codes and patterns).
    In Arrow's kernels: pandas runs this replacement in Python, a value at a time (0.8 s a million)."""
    upper = pc.utf8_upper(text.as_arrow(codes))
    return text.to_str_series(pc.replace_substring_regex(upper, f"[.{text.PYTHON_SPACES}]", ""), codes.index,
                              codes.name)


def _prepare_text(raw: pd.DataFrame) -> Columns:
    """Codes in their canonical case, and titles and legal forms reduced to their words."""
    return {
        "naf_code": normalise_naf_codes(raw["naf_code"]),
        "source": raw["source"].str.lower(),
        "language": raw["language"].str.lower(),
        "job_title": raw["job_title"],
        "job_title_words": text.words(raw["job_title"]),
        "legal_form": raw["legal_form"],
        "legal_form_words": text.words(raw["legal_form"]),
    }, {}
