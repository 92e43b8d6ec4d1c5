"""A supplier's leads, reasons, outcome events and replacement claims as plain dataframes.

The KPI and billing rules are functions of a ``Ledger``: tests build one by hand, the
database loader (``models.ledger_store``) builds one with a few set-based queries.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import DataFrame

from leadgov.formatting import is_missing
from leadgov.frames import LedgerClaims, LedgerEvents, LedgerLeads, LedgerReasons, euro_columns, pandas_dtypes

CENT = Decimal("0.01")
Model = TypeVar("Model", bound=pa.DataFrameModel)

#: Column -> dtype of each frame, from its model (``leadgov.frames``: the one definition). Dates are
#: ``datetime64[ns]`` at midnight (local days); outcome times are UTC (``Ledger.local_events`` gives
#: the ledger's zone); amounts in euros are ``Decimal`` (an ``object`` column), never floats.
LEAD_COLUMNS = pandas_dtypes(LedgerLeads)
REASON_COLUMNS = pandas_dtypes(LedgerReasons)
EVENT_COLUMNS = pandas_dtypes(LedgerEvents)
CLAIM_COLUMNS = pandas_dtypes(LedgerClaims)


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


#: What a ledger's frame is built from: rows as mappings (tests), or a ready frame (loaders).
Rows = Iterable[Mapping[str, object]] | pd.DataFrame


def typed_frame(model: type[Model], rows: Rows, *, validate: bool = True) -> DataFrame[Model]:
    """A frame with exactly ``model``'s columns, in their dtypes (missing optional columns are
    empty), validated against it unless ``validate`` is False: a frame that does not fit raises
    ``pandera.errors.SchemaError``."""
    # Positions, not labels: a loader's frame may come with gaps in its index (drop_duplicates), and
    # the columns below are put together on a fresh RangeIndex.
    frame = rows.reset_index(drop=True) if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    euros = euro_columns(model)
    out: dict[str, pd.Series] = {}
    for name, dtype in pandas_dtypes(model).items():
        values = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype="object")
        if name in euros:
            out[name] = pd.Series([_euros(v) for v in values], index=values.index, dtype="object")
        elif dtype.startswith("datetime64[ns, "):
            out[name] = pd.to_datetime(values, utc=True).astype(dtype)  # type: ignore[call-overload]  # a dtype name
        elif dtype.startswith("datetime64"):
            out[name] = pd.to_datetime(values).astype("datetime64[ns]")
        elif dtype == "bool":
            out[name] = values.fillna(False).astype(bool)
        else:
            out[name] = values.astype(dtype)  # type: ignore[call-overload]  # pandas-stubs knows dtype names as literals only
    typed = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    return model.validate(typed, inplace=True) if validate else DataFrame[Model](typed)


def _euros(value: object) -> Decimal | None:
    """An amount as ``Decimal`` to the cent (a float by its shortest repr); None when missing."""
    if is_missing(value):
        return None
    amount = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))
    return amount.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Ledger:
    """One supplier's leads of a period with everything that happened to them.

    ``leads`` are the period's cohort; ``reasons`` and ``events`` belong to those leads (events
    of any date, as known now); ``claims`` are the claims of those leads, whatever the day they
    were opened. A billing ledger adds what a statement also needs (see
    ``models.ledger_store.load_billing_ledger``). ``tz`` is the zone of local dates.
    """

    supplier_id: str
    leads: DataFrame[LedgerLeads]
    reasons: DataFrame[LedgerReasons]
    events: DataFrame[LedgerEvents]
    claims: DataFrame[LedgerClaims]
    tz: str = "Europe/Paris"

    @classmethod
    def build(cls, supplier_id: str, *, leads: Rows = (), reasons: Rows = (), events: Rows = (), claims: Rows = (),
              tz: str = "Europe/Paris", validate: bool = True) -> "Ledger":
        """A ledger from lists of dicts (or frames): what tests and loaders use. Each frame is
        typed as its model says, then validated against it, unless ``validate`` is False: the
        database loaders (``models.ledger_store``) skip the check, which costs ~10 ms a frame and
        runs several times per delivery; the tests validate the ledgers those loaders build from
        a real database (tests/leadgov/test_frames.py)."""
        return cls(supplier_id, typed_frame(LedgerLeads, leads, validate=validate),
                   typed_frame(LedgerReasons, reasons, validate=validate),
                   typed_frame(LedgerEvents, events, validate=validate),
                   typed_frame(LedgerClaims, claims, validate=validate), tz)

    def delivered_between(self, first: date, last: date) -> "Ledger":
        """The part of this ledger whose leads were delivered from ``first`` to ``last`` (local days,
        inclusive), with their reasons, events and claims: what loading that period gives, so that one
        load of a quarter serves its weeks (``governance.supplier_kpis_of``)."""
        days = self.leads["delivered_on"]
        return self._of_leads((days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last)))

    def of_delivery(self, delivery_id: int) -> "Ledger":
        """The part of this ledger that is one delivery's leads, with their reasons, events and claims:
        what loading the delivery gives when this ledger holds its whole span (its week's ledger, so
        that the alerts after a delivery load the week once: ``alerts.evaluate.after_delivery``)."""
        return self._of_leads(self.leads["delivery_id"] == delivery_id)

    def _of_leads(self, chosen: "pd.Series[bool]") -> "Ledger":
        """The ledger of the leads ``chosen`` marks, with their reasons, events and claims."""
        leads = self.leads.loc[chosen]
        pks = leads["lead_pk"]

        def of_leads(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.loc[frame["lead_pk"].isin(pks)].reset_index(drop=True)

        return Ledger(self.supplier_id, leads.reset_index(drop=True), of_leads(self.reasons),  # type: ignore[arg-type]
                      of_leads(self.events), of_leads(self.claims), self.tz)  # type: ignore[arg-type]

    def local_events(self) -> pd.DataFrame:
        """The events with ``at`` in local time and ``day`` its local date (midnight)."""
        events = self.events.copy()
        events["at"] = events["at"].dt.tz_convert(self.tz)
        events["day"] = events["at"].dt.tz_localize(None).dt.normalize()
        return events
