"""Replacement claims: opening (with the monthly cap), filling and going overdue.

Pure rules over dataframes (docs/governance.md, Replacements; docs/governance-rules.md);
``leadgov.claims`` applies them to the database.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pandas as pd
from pandera.typing.pandas import DataFrame

from leadgov.config.contract import Contract
from leadgov.frames import ClaimCandidates, column_names
from leadgov.models.statuses import ClaimStatus, LeadStatus

CANDIDATE_COLUMNS = column_names(ClaimCandidates)


def owed_per_month(share: float, delivered: int) -> int:
    """How many claims a month owes: the k-th claim (from 0) is owed while k < share x delivered.

    Decimal, so that 0.2 x 100 is exactly 20 (the 21st claim is the first one not owed).
    """
    return int((Decimal(str(share)) * delivered).to_integral_value(rounding=ROUND_CEILING))


def month_of(days: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each day (None for a missing one). Through numpy's month unit: pandas'
    ``strftime`` takes a second per 300,000 days, and a delivery's rejected leads are that many."""
    months = pd.to_datetime(days).to_numpy(dtype="datetime64[M]")
    distinct, inverse = np.unique(months, return_inverse=True)  # a few months: each labelled once
    labels = np.array([None if np.isnat(month) else str(month) for month in distinct], dtype=object)
    return pd.Series(labels[inverse.reshape(-1)], index=days.index, dtype="object")


def new_claims(candidates: DataFrame[ClaimCandidates], contract: Contract, *, owed_so_far: Mapping[str, int],
               delivered: Mapping[str, int]) -> pd.DataFrame:
    """The claims opened by ``candidates`` (rejected or contested leads, in the order they count).

    Within each month, a claim is owed while the month's owed claims stay under the cap;
    the others are recorded ``not_owed_cap`` with no deadline.
    """
    claims = candidates[CANDIDATE_COLUMNS].reset_index(drop=True).copy()
    claims["opened_on"] = pd.to_datetime(claims["opened_on"]).astype("datetime64[ns]")
    claims["month"] = month_of(claims["opened_on"])
    share = contract.replacement.max_replacement_share
    room = {m: owed_per_month(share, delivered.get(m, 0)) - owed_so_far.get(m, 0) for m in claims["month"].unique()}
    owed = claims.groupby("month").cumcount() < claims["month"].map(room)
    claims["status"] = np.where(owed, ClaimStatus.OPEN.value, ClaimStatus.NOT_OWED_CAP.value)
    deadline = pd.Timedelta(days=contract.replacement.replacement_deadline_days)
    claims["due_on"] = (claims["opened_on"] + deadline).where(owed)
    return claims


@dataclass(frozen=True)
class Matches:
    """What a delivery's replacement leads did to the open claims they name.

    ``fills``: claim_id, filled_by_lead_pk, filled_on. ``late``: claim_id, overdue_on of claims
    whose replacement came after the deadline (they were overdue already). ``no_own_claim``:
    rejected replacements of a claim still open, which open no claim of their own.
    """

    fills: pd.DataFrame
    late: pd.DataFrame
    no_own_claim: frozenset[int]


def match_replacements(leads: pd.DataFrame, open_claims: pd.DataFrame) -> Matches:
    """Match leads (lead_pk, replaces_lead_id, status, delivered_on; in row order) to the open
    claims (claim_id, lead_id, due_on) they name. The first accepted lead on time fills a claim."""
    named = leads[leads["replaces_lead_id"].notna()].merge(
        open_claims[["claim_id", "lead_id", "due_on"]], left_on="replaces_lead_id", right_on="lead_id",
        suffixes=("", "_claim"))
    day = pd.to_datetime(named["delivered_on"])
    due = pd.to_datetime(named["due_on"])
    on_time = named[day <= due]
    late = named.loc[day > due, ["claim_id", "due_on"]].drop_duplicates("claim_id")
    fills = on_time[on_time["status"] == LeadStatus.ACCEPTED.value].drop_duplicates("claim_id")
    return Matches(
        fills=pd.DataFrame({"claim_id": fills["claim_id"], "filled_by_lead_pk": fills["lead_pk"],
                            "filled_on": pd.to_datetime(fills["delivered_on"])}).reset_index(drop=True),
        late=pd.DataFrame({"claim_id": late["claim_id"],
                           "overdue_on": pd.to_datetime(late["due_on"]) + pd.Timedelta(days=1)}).reset_index(drop=True),
        no_own_claim=frozenset(on_time.loc[on_time["status"] == LeadStatus.REJECTED.value, "lead_pk"].tolist()),
    )


def overdue_claims(claims: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Open claims (claim_id, status, due_on, ...) whose deadline is before ``as_of``, with their
    overdue_on (the day after the deadline, whenever the check runs); other columns are kept."""
    due = pd.to_datetime(claims["due_on"])
    late = claims[(claims["status"] == ClaimStatus.OPEN.value) & (due < pd.Timestamp(as_of))]
    return late.drop(columns="status").assign(overdue_on=due[late.index] + pd.Timedelta(days=1)).reset_index(drop=True)
