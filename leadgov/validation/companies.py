"""COMPANY_CAP (docs/deliveries.md): at most ``volumes.max_leads_per_company`` accepted leads of one
company from the supplier within the dedup window.

The company is the lead's *valid* SIREN (a SIRET's first nine digits; ``prepare`` leaves an invalid or
missing one NA, so such a lead is never capped). The cap is decided last, on the leads that no other
reason rejects: those are the ones that would otherwise be accepted, so only they take a place under
the cap. The places already taken are the supplier's stored *accepted* leads of the company within the
window (``KnownPeople.accepted_by_company``), then the earlier such rows of this delivery, in file order.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from leadgov.reasons import RejectionReason as R


def company_cap_failures(values: pd.DataFrame, rejected_rows: pd.Series, cap: int | None,
                         accepted_before: Mapping[str, int], window_days: int) -> pd.DataFrame:
    """(row, code, detail) for the leads over the company cap.

    ``rejected_rows``: the rows (positions of ``values``' index) that another reason already rejects;
    ``accepted_before``: SIREN -> the supplier's accepted leads of it within the window (absent = 0).
    """
    empty = pd.DataFrame({"row": pd.Series(dtype="int64"), "code": pd.Series(dtype=str),
                          "detail": pd.Series(dtype=str)})
    if cap is None:
        return empty
    siren = values["siren"]
    candidates = siren[siren.notna().to_numpy() & ~values.index.isin(rejected_rows)]
    if candidates.empty:
        return empty
    earlier_rows = candidates.groupby(candidates, sort=False).cumcount().to_numpy()
    stored = candidates.map(dict(accepted_before)).fillna(0).to_numpy(dtype="int64") if accepted_before \
        else np.zeros(len(candidates), dtype="int64")
    over = earlier_rows + stored >= cap
    rows = candidates.index[over]
    # Over the cap, the company holds max(stored, cap) accepted leads: the cap, or more when it was
    # reached before (a contract that lowered it, leads accepted before it was set).
    accepted = np.maximum(stored[over], cap)
    detail = ("company (SIREN) at its cap: " + pd.Series(accepted, dtype="int64").astype(str)
              + f" accepted within {window_days} days (max {cap})")
    return pd.DataFrame({"row": rows.to_numpy(dtype="int64"), "code": R.COMPANY_CAP.value,
                         "detail": detail.to_numpy()})
