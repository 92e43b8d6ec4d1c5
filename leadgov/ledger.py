"""A supplier's leads, reasons, outcome events and replacement claims as plain dataframes.

The KPI and billing rules are functions of a ``Ledger``: tests build one by hand, the
database loader (``models.ledger_store``) builds one with a few set-based queries.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

#: Column -> dtype of each frame. Dates are ``datetime64[ns]`` at midnight (local days);
#: outcome times are timezone-aware in the settings' zone.
LEAD_COLUMNS = {
    "lead_pk": "int64",
    "lead_id": "object",
    "delivery_id": "int64",
    "delivered_on": "datetime64[ns]",
    "status": "object",            # "accepted" | "rejected"
    "over_cap": "bool",            # flagged OVER_WEEKLY_CAP
    "replaces_lead_id": "object",
}
REASON_COLUMNS = {"lead_pk": "int64", "code": "object"}
EVENT_COLUMNS = {
    "lead_pk": "int64",
    "lead_id": "object",
    "event": "object",             # call_attempt, reached, appointment_set, ..., contest
    "at": "datetime64[ns, UTC]",   # converted to the ledger's zone by Ledger.local_events()
    "contest_reason": "object",
    "amount_eur": "float64",
    "objection": "object",
}
CLAIM_COLUMNS = {
    "claim_id": "int64",
    "lead_pk": "int64",
    "lead_id": "object",
    "origin": "object",            # "rejection" | "contest"
    "opened_on": "datetime64[ns]",
    "month": "object",             # "YYYY-MM" of opened_on
    "due_on": "datetime64[ns]",    # NaT for not_owed_cap
    "status": "object",            # open | filled | overdue | credited | not_owed_cap
    "filled_by_lead_pk": "Int64",
    "filled_on": "datetime64[ns]",
    "overdue_on": "datetime64[ns]",
}


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


#: What a ledger's frame is built from: rows as mappings (tests), or a ready frame (loaders).
Rows = Iterable[Mapping[str, object]] | pd.DataFrame


def typed_frame(columns: dict[str, str], rows: Rows) -> pd.DataFrame:
    """A frame with exactly ``columns``, in their dtypes (missing optional columns are empty)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    out: dict[str, pd.Series] = {}
    for name, dtype in columns.items():
        values = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype="object")
        if dtype.startswith("datetime64[ns, "):
            out[name] = pd.to_datetime(values, utc=True)
        elif dtype.startswith("datetime64"):
            out[name] = pd.to_datetime(values).astype("datetime64[ns]")
        elif dtype == "bool":
            out[name] = values.fillna(False).astype(bool)
        else:
            out[name] = values.astype(dtype)  # type: ignore[call-overload]  # pandas-stubs knows dtype names as literals only
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


@dataclass(frozen=True)
class Ledger:
    """One supplier's leads of a period with everything that happened to them.

    ``leads`` are the period's cohort; ``reasons`` and ``events`` belong to those leads (events
    of any date, as known now); ``claims`` are the claims of those leads, whatever the day they
    were opened. A billing ledger adds what a statement also needs (see
    ``models.ledger_store.load_billing_ledger``). ``tz`` is the zone of local dates.
    """

    supplier_id: str
    leads: pd.DataFrame
    reasons: pd.DataFrame
    events: pd.DataFrame
    claims: pd.DataFrame
    tz: str = "Europe/Paris"

    @classmethod
    def build(cls, supplier_id: str, *, leads: Rows = (), reasons: Rows = (), events: Rows = (), claims: Rows = (),
              tz: str = "Europe/Paris") -> "Ledger":
        """A ledger from lists of dicts (or frames): what tests and loaders use."""
        return cls(supplier_id, typed_frame(LEAD_COLUMNS, leads), typed_frame(REASON_COLUMNS, reasons),
                   typed_frame(EVENT_COLUMNS, events), typed_frame(CLAIM_COLUMNS, claims), tz)

    def local_events(self) -> pd.DataFrame:
        """The events with ``at`` in local time and ``day`` its local date (midnight)."""
        events = self.events.copy()
        events["at"] = events["at"].dt.tz_convert(self.tz)
        events["day"] = events["at"].dt.tz_localize(None).dt.normalize()
        return events
