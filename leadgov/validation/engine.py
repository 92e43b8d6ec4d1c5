"""One verdict per delivered row: every reason that applies, primary first, and the flags."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadgov.config.contract import Contract
from leadgov.models.statuses import LeadStatus
from leadgov.reasons import REASON_ORDER, LeadFlag
from leadgov.validation.companies import company_cap_failures
from leadgov.validation.people import KnownPeople, people_failures
from leadgov.validation.prepare import PreparedLeads
from leadgov.validation.rules import NOTICE_MAX_DAYS, build_schema, facts_frame, field_failures

RESULT_COLUMNS = ("row_number", "lead_id", "status", "reasons", "primary_reason", "details", "flags")


@dataclass(frozen=True)
class ValidationResult:
    """``verdicts``: one row per delivered row, in file order, with the result-file columns.
    ``reasons``: one row per (row, code) with its detail, rows in file order and codes in
    the spec's order."""

    verdicts: pd.DataFrame
    reasons: pd.DataFrame

    def counts(self) -> dict[str, int]:
        """Delivered, accepted, rejected, in-review and over-cap counts."""
        status = self.verdicts["status"]
        return {
            "delivered": len(status),
            "accepted": int((status == LeadStatus.ACCEPTED).sum()),
            "rejected": int((status == LeadStatus.REJECTED).sum()),
            "in_review": int((status == LeadStatus.REVIEW).sum()),
            "over_cap": int(self.verdicts["flags"].eq(LeadFlag.OVER_WEEKLY_CAP).sum()),
        }

    def reason_counts(self) -> dict[str, int]:
        """Leads per reason code (each lead counted once per reason), in the spec's order."""
        counts = self.reasons["code"].value_counts()
        return {code: int(counts[code]) for code in sorted(counts.index, key=REASON_ORDER.__getitem__)}


def field_reasons(prepared: PreparedLeads, contract: Contract, delivered_on: date) -> pd.DataFrame:
    """(row, code, detail) for every per-field rule (the contract's pandera schema)."""
    facts = facts_frame(prepared.values, prepared.missing, prepared.invalid)
    failures = field_failures(facts, build_schema(contract, delivered_on))
    return describe_failures(failures, prepared.values, contract, delivered_on)


def decide(values: pd.DataFrame, contract: Contract, known: KnownPeople,
           *reason_frames: pd.DataFrame) -> ValidationResult:
    """Combine every reason into verdicts (``review`` for a lead whose reasons are all in
    ``exploitability.review_reasons``), then flag accepted leads over the weekly cap.

    COMPANY_CAP comes after every other reason (it applies only to leads no other reason rejects or
    holds in review) and before the weekly cap, which counts the leads still accepted after it. A lead
    whose only reason is COMPANY_CAP goes to review when the contract lists it there."""
    found = pd.concat(reason_frames, ignore_index=True)
    capped = company_cap_failures(values, found["row"], contract.volumes.max_leads_per_company,
                                  known.accepted_by_company, contract.exclusions.dedup_window_days)
    reasons = order_reasons(pd.concat([found, capped], ignore_index=True) if len(capped) else found)
    review = review_rows(reasons, contract.exploitability.review_reasons, values.index)
    verdicts = build_verdicts(values["lead_id"], reasons, review)
    verdicts["flags"] = over_cap_flags(verdicts["status"], contract.volumes.weekly_max,
                                       known.accepted_earlier_in_week)
    return ValidationResult(verdicts=verdicts, reasons=reasons)


def validate_leads(prepared: PreparedLeads, contract: Contract, delivered_on: date,
                   known: KnownPeople, *, email_keys: pd.Series, phone_keys: pd.Series,
                   hmac_key: str) -> ValidationResult:
    """Apply every rule of docs/deliveries.md to a prepared delivery, given what is already known."""
    fields = field_reasons(prepared, contract, delivered_on)
    people = people_failures(prepared.values, known, email_keys, phone_keys, hmac_key)
    return decide(prepared.values, contract, known, fields, people)


def over_cap_flags(status: pd.Series, weekly_max: int, accepted_before: int) -> pd.Series:
    """OVER_WEEKLY_CAP on accepted leads beyond the week's maximum, counted in delivery order."""
    accepted = status.eq(LeadStatus.ACCEPTED)
    rank = accepted.cumsum() + accepted_before
    over = accepted & (rank > weekly_max)
    return pd.Series(pd.NA, index=status.index, dtype="str").mask(over, LeadFlag.OVER_WEEKLY_CAP.value)


def order_reasons(long: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, code), details of the same code joined, in file then spec order."""
    if long.empty:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "code": pd.Series(dtype=str),
                             "detail": pd.Series(dtype=str)})
    long = long.assign(order=long["code"].map(REASON_ORDER))
    repeated = long.duplicated(["row", "code"], keep=False)
    if repeated.any():  # e.g. INVALID_VALUE on two fields: one reason, both details
        joined = long[repeated].groupby(["row", "order", "code"], sort=False)["detail"].agg("; ".join)
        long = pd.concat([long[~repeated], joined.reset_index()], ignore_index=True)
    long = long.sort_values(["row", "order"], kind="stable")
    return long[["row", "code", "detail"]].reset_index(drop=True)


def review_rows(reasons: pd.DataFrame, review_reasons: Sequence[str], index: pd.Index) -> pd.Series:
    """True on the rows (of ``index``) that have reasons, all of them in ``review_reasons``: those
    leads wait in ``review`` for a person. A review reason beside any other reason rejects the lead."""
    codes = reasons["code"].isin(set(review_reasons))
    reviewable = pd.Index(reasons.loc[codes, "row"].unique()).difference(pd.Index(reasons.loc[~codes, "row"].unique()))
    return pd.Series(index.isin(reviewable), index=index, dtype=bool)


def _runs(rows: np.ndarray) -> np.ndarray:
    """The offsets of the runs of equal values in ``rows`` (sorted), the end included."""
    if not len(rows):
        return np.zeros(1, dtype=np.int64)
    return np.flatnonzero(np.r_[True, rows[1:] != rows[:-1], True])


def _join_runs(strings: pd.Series, offsets: np.ndarray, sep: str) -> list[str]:
    """Each run's strings (``offsets``: ``_runs``) joined with ``sep``, in Arrow: no Python loop."""
    texts = pa.array(strings.to_numpy(dtype=object), pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), texts)
    joined: list[str] = pc.binary_join(lists, pa.scalar(sep, pa.large_string())).to_pylist()
    return joined


def _on_rows(texts: Sequence[str], rows: np.ndarray, index: pd.Index) -> pd.Series:
    """``texts`` of ``rows`` (only the rows with reasons) on every row of ``index``, missing elsewhere."""
    return pd.Series(list(texts), index=rows, dtype="str").reindex(index)


def build_verdicts(lead_ids: pd.Series, reasons: pd.DataFrame, review: pd.Series | None = None) -> pd.DataFrame:
    """The result-file columns but flags, from the lead ids (index = row) and ordered reasons: a
    row with reasons is rejected, or in ``review`` where ``review`` (bool, by row) holds."""
    index = lead_ids.index
    rows = reasons["row"].to_numpy(dtype="int64")
    if (np.diff(rows) < 0).any():
        raise ValueError("reasons must be ordered by row (order_reasons)")
    offsets = _runs(rows)
    starts = offsets[:-1]
    codes = reasons["code"]
    joined = _on_rows(_join_runs(codes, offsets, ";"), rows[starts], index)
    details = _on_rows(_join_runs(codes + ": " + reasons["detail"], offsets, " | "), rows[starts], index)
    verdicts = pd.DataFrame({
        "row_number": index.to_numpy() + 1,
        "lead_id": lead_ids,
        "status": LeadStatus.ACCEPTED.value,
        "reasons": joined.fillna(""),
        "primary_reason": _on_rows(codes.to_numpy(dtype=object)[starts].tolist(), rows[starts], index),
        "details": details.fillna(""),
    }, index=index)
    verdicts.loc[joined.notna(), "status"] = LeadStatus.REJECTED.value
    if review is not None:
        verdicts.loc[review.reindex(index, fill_value=False).to_numpy() & joined.notna().to_numpy(),
                     "status"] = LeadStatus.REVIEW.value
    return verdicts


def describe_failures(failures: pd.DataFrame, values: pd.DataFrame, contract: Contract,
                      delivered_on: date) -> pd.DataFrame:
    """Human-readable details (never a lead's personal data) for pandera's failure cases."""
    frames = []
    for (code, column), group in failures.groupby(["code", "column"], sort=False):
        rows = pd.Index(group["row"].to_numpy())
        detail = _detail(str(code), str(column), rows, values, contract, delivered_on)
        if not isinstance(detail, pd.Series):
            detail = pd.Series(detail, index=rows)
        frames.append(pd.DataFrame({"row": rows.to_numpy(dtype="int64"), "code": code,
                                    "detail": detail.astype(str).to_numpy()}))
    if not frames:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "code": pd.Series(dtype=str),
                             "detail": pd.Series(dtype=str)})
    return pd.concat(frames, ignore_index=True)


def _detail(code: str, column: str, rows: pd.Index, values: pd.DataFrame, contract: Contract,
            delivered_on: date) -> str | pd.Series:
    kind, _, field = column.partition("__")
    q = contract.qualification
    if kind == "missing":
        return f"{field} missing"
    if kind == "invalid":
        return {
            "email": "email is not a valid address",
            "phone": "phone is not a valid number of " + "/".join(contract.exploitability.phone_regions),
            "siren": "siren has a wrong length or fails its checksum",
            "collected_at": "collected_at unreadable or after the delivery date",
            "lead_id": "lead_id already used by this supplier",
        }.get(field, f"{field} unreadable")

    def at(col: str) -> pd.Series:
        """One column at the failing rows (not every column: most details are fixed texts)."""
        return values[col].loc[rows]

    def text(col: str) -> pd.Series:
        return at(col).astype(str)

    match code, column:
        case "NO_CONSENT", _:
            return "consent given after the delivery date"
        case "NO_NOTICE", "notice_days_after_collection":
            return ("notice sent " + text("notice_days_after_collection")
                    + f" days after collection (max {NOTICE_MAX_DAYS})")
        case "NO_NOTICE", _:
            return "notice sent after the delivery date"
        case "COMPETITOR", "email_domain":
            return "email domain " + text("email_domain") + " is a competitor's"
        case "COMPETITOR", _:
            return "SIREN is a competitor's"
        case "EXCLUDED_LEGAL_FORM", _:
            return "legal form '" + text("legal_form_words") + "' is excluded"
        case "STUDENT", "email_domain":
            return "academic email domain " + text("email_domain")
        case "STUDENT", _:
            return "job title names a student, intern or apprentice"
        case "STALE", _:
            age: pd.Series = (pd.Timestamp(delivered_on) - at("collected_at").dt.normalize()).dt.days
            return ("collected " + age.astype(str)
                    + f" days before delivery (max {contract.exploitability.max_age_days})")
        case "GENERIC_EMAIL", _:
            return "role address " + text("email_local") + "@"
        case "FREE_EMAIL", _:
            return "webmail domain " + text("email_domain")
        case "OUT_OF_TARGET_GEO", "country":
            return "country " + text("country") + " not targeted"
        case "OUT_OF_TARGET_GEO", _:
            return "department " + text("department") + " not targeted"
        case "OUT_OF_TARGET_SECTOR", _:
            return "NAF " + text("naf_code") + " outside the target sectors"
        case "OUT_OF_TARGET_SIZE", _:
            return "employees " + text("employees") + f" outside {q.min_employees or 0}..{q.max_employees or '∞'}"
        case "OUT_OF_TARGET_FUNCTION", _:
            return "job title outside the target functions"
        case "OUT_OF_TARGET_BUDGET", _:
            return "budget " + text("budget_eur") + f" EUR below {q.min_budget_eur}"
        case "OUT_OF_TARGET_MATURITY", _:
            return "project horizon " + text("project_horizon_months") + f" months above {q.max_project_horizon_months}"
        case "UNAUTHORIZED_SOURCE", _:
            return "source " + text("source") + " not allowed"
    return code
