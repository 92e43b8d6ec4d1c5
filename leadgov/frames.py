"""The dataframes that cross modules, as pandera ``DataFrameModel``s: one definition of each frame.

A function that takes or returns one of these frames says so with ``DataFrame[Model]``
(``pandera.typing.pandas``). The models are checked at runtime only where a frame is small, so
the check costs nothing at scale:

- a ledger's four frames (``LedgerLeads``, ``LedgerReasons``, ``LedgerEvents``, ``LedgerClaims``:
  one supplier's leads of a period) are typed column by column from these models by
  ``leadgov.ledger.Ledger.build``, and validated there when built by hand (tests); the database
  loaders of ``models.ledger_store`` skip the validation (it costs ~10 ms a frame, several times
  per delivery) and the tests validate what they load from a real database; the column dicts of
  ``leadgov.ledger`` (``LEAD_COLUMNS``...) are derived from these models;
- the claim candidates (``ClaimCandidates``) are validated by ``leadgov.claims.open_claims``;
- a delivery's lead rows (``LeadRows``, up to a million rows) are never validated while a
  delivery is stored: the tests validate the rows ``leadgov.ingest.lead_rows`` builds.

Every model but ``LeadRows`` is strict (no other column) and coerces nothing: a frame of the wrong
shape is a bug of its producer, refused where it crosses, not converted silently.
"""

from decimal import ROUND_HALF_UP
from enum import StrEnum
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing.pandas import Series

from leadgov.models.delivery import Lead
from leadgov.models.statuses import ClaimOrigin, ClaimStatus, LeadStatus, OutcomeEventType

#: An amount in euros to the cent: ``decimal.Decimal`` values in an object column (18 digits, as
#: ``OutcomeEvent.amount_eur`` stores them). Never a float.
Euros = Annotated[pandas_engine.Decimal, 18, 2, ROUND_HALF_UP]
#: A timezone-aware instant in UTC, to the nanosecond.
UtcTimestamp = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]
#: A local day: ``datetime64[ns]`` at midnight.
Day = pa.DateTime


def values_of(enum: type[StrEnum]) -> list[str]:
    """The values an enum's column may hold (for an ``isin`` check)."""
    return [member.value for member in enum]


class LedgerLeads(pa.DataFrameModel):
    """A ledger's leads: the period's cohort, one row per lead (``Ledger.leads``)."""

    lead_pk: Series[int]
    lead_id: Series[object] = pa.Field(nullable=True)
    delivery_id: Series[int]
    delivered_on: Series[Day]
    status: Series[object] = pa.Field(isin=values_of(LeadStatus))
    over_cap: Series[bool] = pa.Field(description="flagged OVER_WEEKLY_CAP")
    replaces_lead_id: Series[object] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = False
        name = "ledger leads"


class LedgerReasons(pa.DataFrameModel):
    """A ledger's rejection reasons: one row per (lead, reason code) recorded at delivery."""

    lead_pk: Series[int]
    code: Series[object]

    class Config:
        strict = True
        coerce = False
        name = "ledger reasons"


class LedgerEvents(pa.DataFrameModel):
    """A ledger's outcome events (``at`` in UTC; ``Ledger.local_events`` gives local times)."""

    lead_pk: Series[int]
    lead_id: Series[object] = pa.Field(nullable=True)
    event: Series[object] = pa.Field(isin=values_of(OutcomeEventType))
    at: Series[UtcTimestamp]
    contest_reason: Series[object] = pa.Field(nullable=True)
    amount_eur: Series[Euros] = pa.Field(nullable=True)
    objection: Series[object] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = False
        name = "ledger events"


class LedgerClaims(pa.DataFrameModel):
    """A ledger's replacement claims (``due_on`` is empty for a claim never owed, not_owed_cap)."""

    claim_id: Series[int]
    lead_pk: Series[int]
    lead_id: Series[object] = pa.Field(nullable=True)
    origin: Series[object] = pa.Field(isin=values_of(ClaimOrigin))
    opened_on: Series[Day]
    month: Series[object] = pa.Field(str_matches=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM of opened_on")
    due_on: Series[Day] = pa.Field(nullable=True)
    status: Series[object] = pa.Field(isin=values_of(ClaimStatus))
    filled_by_lead_pk: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    filled_on: Series[Day] = pa.Field(nullable=True)
    overdue_on: Series[Day] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = False
        name = "ledger claims"


class ClaimCandidates(pa.DataFrameModel):
    """Leads that open a replacement claim, in the order they count against the monthly cap: the
    rejected leads of a stored delivery, or the contested leads of an outcome import
    (``leadgov.claims.claim_candidates`` builds them; ``leadgov.claims.open_claims`` takes them)."""

    lead_pk: Series[int]
    lead_id: Series[object] = pa.Field(nullable=True)
    origin: Series[object] = pa.Field(isin=values_of(ClaimOrigin))
    reason: Series[object] = pa.Field(nullable=True, description="primary rejection reason, or contest reason")
    opened_on: Series[Day]

    class Config:
        strict = True
        coerce = False
        name = "claim candidates"


#: Columns of the lead table a delivery may fill (all but the primary key).
LEAD_TABLE_COLUMNS = frozenset(column.name for column in Lead.__table__.columns) - {"id"}


class LeadRows(pa.DataFrameModel):
    """A delivery's leads as ``leadgov.ingest.lead_rows`` builds them for
    ``models.delivery_store.insert_leads``: the key columns, typed here.

    Not strict: beside them come the lead's normalised values the lead table holds (lead id, SIREN,
    email, phone, replaced lead id), typed by normalisation; the frame may hold any column of the
    lead table and no other (``lead_table_columns``: the other supplied values go to the delivery's
    blocks, ``models.raw_record``). Never validated while a delivery is stored
    (a million rows): the tests validate the rows of real deliveries.
    """

    delivery_id: Series[int]
    supplier_id: Series[str]
    row_number: Series[int] = pa.Field(ge=1, unique=True)
    delivered_on: Series[str] = pa.Field(str_matches=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="ISO day")
    status: Series[str] = pa.Field(isin=values_of(LeadStatus))
    primary_reason: Series[str] = pa.Field(nullable=True)
    flags: Series[str] = pa.Field(nullable=True)
    email_key: Series[pd.Int64Dtype] = pa.Field(nullable=True, description="keyed hash of the valid email")
    phone_key: Series[pd.Int64Dtype] = pa.Field(nullable=True, description="keyed hash of the valid phone")

    @pa.dataframe_check(name="lead_table_columns")
    @classmethod
    def lead_table_columns(cls, frame: pd.DataFrame) -> bool:
        """Every column is a column of the lead table."""
        return set(frame.columns) <= LEAD_TABLE_COLUMNS

    class Config:
        strict = False
        coerce = False
        name = "lead rows"


def pandas_dtypes(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column -> pandas dtype name of ``model``'s columns, in order (an amount in euros is ``object``)."""
    return {name: str(column.dtype.type) for name, column in model.to_schema().columns.items()}


def euro_columns(model: type[pa.DataFrameModel]) -> frozenset[str]:
    """The columns of ``model`` that hold amounts in euros as ``Decimal``."""
    return frozenset(name for name, column in model.to_schema().columns.items()
                     if isinstance(column.dtype, pandas_engine.Decimal))


def column_names(model: type[pa.DataFrameModel]) -> list[str]:
    """``model``'s columns, in order."""
    return list(model.to_schema().columns)
