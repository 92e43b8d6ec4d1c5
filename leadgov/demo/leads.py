"""Demo deliveries: synthetic French B2B leads fitted to each supplier's contract, written in the
supplier's own file format (headers, encoding, delimiter, date format, CSV or JSON)."""

import json
from datetime import date

import numpy as np
import pandas as pd

from leadgov.config.contract import Contract
from leadgov.demo.profiles import Profile
from leadgov.normalise.values import parse_datetimes
from leadgov.tools.synthetic import Defects, generate_leads, to_delivery_csv

TZ = "Europe/Paris"
POOL = 400


def naf_from_pattern(pattern: str) -> str:
    """A concrete NAF code matching a contract pattern ("46*" -> "46.11Z", "63.1*" -> "63.11Z")."""
    digits = pattern.rstrip("*").replace(".", "")
    digits = (digits + "1111")[:4] if pattern.endswith("*") else digits[:4]
    letter = pattern.rstrip("*")[-1] if not pattern.endswith("*") and pattern[-1].isalpha() else "Z"
    return f"{digits[:2]}.{digits[2:]}{letter}"


def _postal_codes(rng: np.random.Generator, departments: list[str], n: int) -> np.ndarray:
    corsica = {"2A": "20", "2B": "202"}
    picks = rng.choice(departments, size=n)
    return np.array([corsica.get(d, d) + f"{rng.integers(0, 1000):03d}"[len(corsica.get(d, d)) - 2:]
                     if d in corsica else f"{d}{rng.integers(0, 1000):03d}" for d in picks])


def fit_to_contract(frame: pd.DataFrame, contract: Contract, rng: np.random.Generator) -> pd.DataFrame:
    """Put the generated leads in the contract's target (geography, sector, size, function,
    budget, horizon, source), keeping the generator's data defects (emails, phones, consent,
    staleness, duplicates) untouched."""
    q = contract.qualification
    n = len(frame)
    out = frame.copy()
    if q.departments:
        out["postal_code"] = _postal_codes(rng, list(q.departments), n)
    if q.naf_include:
        out["naf_code"] = rng.choice([naf_from_pattern(p) for p in q.naf_include], size=n)
    low, high = q.min_employees or 10, q.max_employees or max(200, (q.min_employees or 10) * 20)
    out["employees"] = rng.integers(low, min(high, low * 20) + 1, size=n).astype(str)
    if q.job_title_include:
        titles = [t.upper() if len(t) <= 3 else t.capitalize() for t in q.job_title_include]
        out["job_title"] = rng.choice(titles, size=n)
    if q.min_budget_eur:
        out["budget_eur"] = (rng.integers(1, 6, size=n) * q.min_budget_eur).astype(int).astype(str)
    if q.max_project_horizon_months:
        out["project_horizon_months"] = rng.integers(1, q.max_project_horizon_months + 1, size=n).astype(str)
    if q.allowed_sources:
        out["source"] = rng.choice(list(q.allowed_sources), size=n)
    out["country"] = "FR"
    if contract.gdpr.legal_basis == "legitimate_interest":
        out["notice_sent_at"] = notices(out)
    return out


def notices(frame: pd.DataFrame) -> pd.Series:
    """Under legitimate interest the supplier informs the person when it collects the lead: the
    notice is the collection time (the consent time where a defect blanked it), never missing."""
    collected = frame["collected_at"].fillna("")
    return collected.where(collected != "", frame["consent_at"])


def out_of_target(frame: pd.DataFrame, contract: Contract, rng: np.random.Generator, share: float) -> pd.DataFrame:
    """A burst of companies too small for the contract (OUT_OF_TARGET_SIZE): the week-7 spike."""
    rows = rng.random(len(frame)) < share
    frame.loc[rows, "employees"] = str(max((contract.qualification.min_employees or 10) // 4, 1))
    return frame


def reformat_dates(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Dates in the supplier's declared format (auto: ISO 8601)."""
    pattern = contract.delivery.date_format
    for column in [c for c in ("collected_at", "consent_at", "notice_sent_at") if c in frame.columns]:
        values = parse_datetimes(frame[column].astype("str"), "auto", TZ)["value"]
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S" if pattern == "auto" else pattern)
        frame[column] = text.where(values.notna(), frame[column].fillna(""))
    return frame


def delivery_frame(profile: Profile, contract: Contract, day: date, count: int, start: int, *, seed: int,
                   week: int, replaces: list[str]) -> pd.DataFrame:
    """``count`` new leads plus one replacement per lead id in ``replaces``."""
    rng = np.random.default_rng(seed)
    total = count + len(replaces)
    # The generator gives each defect an exact share of the rows it makes: a small delivery would
    # get none. Drawing a larger batch and keeping its first rows gives each defect its odds.
    frame = generate_leads(max(total, POOL), seed=seed, collected_before=day, defects=profile.defects,
                           id_prefix=profile.supplier_id[:2].upper() + "-",
                           start_index=profile.person_offset + start).iloc[:total].reset_index(drop=True)
    frame = fit_to_contract(frame, contract, rng)
    if week in profile.spike_weeks:
        frame = out_of_target(frame, contract, rng, profile.spike_share)
    if replaces:
        frame.loc[frame.index[count:], "replaces_lead_id"] = replaces
    return reformat_dates(frame, contract)


def delivery_bytes(frame: pd.DataFrame, contract: Contract) -> bytes:
    """The file the supplier sends: its headers, encoding and delimiter; or JSON objects."""
    d = contract.delivery
    if d.format == "json":
        records = [{k: v for k, v in row.items() if isinstance(v, str) and v != ""}
                   for row in frame.to_dict("records")]
        return json.dumps(records, ensure_ascii=False, indent=0).encode("utf-8")
    delimiter = ";" if d.delimiter == "auto" else d.delimiter
    encoding = "utf-8" if d.encoding == "auto" else d.encoding
    return to_delivery_csv(frame, d.columns, delimiter=delimiter, encoding=encoding)


__all__ = ["Defects", "delivery_bytes", "delivery_frame", "fit_to_contract", "naf_from_pattern"]
