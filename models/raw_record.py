"""Raw records and supplied values: each delivery's rows as delivered, kept in compressed columnar
blocks beside the leads.

A raw record is a delivered row as a JSON object text (original headers to original cells, extra
columns included; a JSON delivery's object as delivered): the audit trail of what the supplier sent.
A lead's *supplied values* are the normalised values its supplier delivered that no query filters,
joins or sums on: company, person, target and consent fields (``SUPPLIED_VALUES``). Both were columns
of the lead table, bound row by row and written twice by SQLite's WAL: about half the time a large
delivery took to store (docs/performance.md). The lead table keeps what queries read: ids, identity
keys, verdicts, days, SIREN, email and phone.

A delivery's rows are written as blocks of ``BLOCK_ROWS`` rows, in the delivery's own transaction;
each block holds two Arrow IPC streams (zstd): ``records`` (row numbers and raw records) and
``supplied_values`` (row numbers and the ``SUPPLIED_VALUES`` columns). An erasure rewrites the blocks
holding the lead with its record and values set to NULL; the retention purge deletes an expired
delivery's blocks (``models.raw_record_store``).
"""

import pyarrow as pa
from sqlalchemy import ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base

#: Rows per block: an erasure rewrites one block (a few MB at most), a look-up reads only the blocks it needs.
BLOCK_ROWS = 20_000

#: A lead's supplied values kept in its delivery's blocks, with their Arrow types: every value a
#: supplier delivers but the lead id, SIREN, email, phone and replaced lead id (columns of ``lead``,
#: which queries read). Free text is unbounded; days and times are naive UTC, to the microsecond.
SUPPLIED_VALUES = pa.schema([
    ("collected_at", pa.timestamp("us")), ("company_name", pa.large_string()), ("naf_code", pa.large_string()),
    ("employees", pa.int64()), ("legal_form", pa.large_string()), ("postal_code", pa.large_string()),
    ("department", pa.large_string()), ("country", pa.large_string()), ("first_name", pa.large_string()),
    ("last_name", pa.large_string()), ("job_title", pa.large_string()), ("language", pa.large_string()),
    ("budget_eur", pa.float64()), ("project_horizon_months", pa.int64()), ("need", pa.large_string()),
    ("source", pa.large_string()), ("campaign", pa.large_string()), ("consent_at", pa.timestamp("us")),
    ("consent_proof", pa.large_string()), ("notice_sent_at", pa.timestamp("us")),
])


class RawRecordBlock(Base):
    """The raw records and supplied values of the rows ``first_row`` to ``last_row`` of one delivery:
    ``records`` is an Arrow IPC stream (zstd) of ``row_number`` int32 and ``raw_record`` text,
    ``supplied_values`` one of ``row_number`` and the ``SUPPLIED_VALUES`` columns; a row's record and
    values are NULL once erased."""

    __tablename__ = "raw_record_block"
    __table_args__ = (UniqueConstraint("delivery_id", "first_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    records: Mapped[bytes] = mapped_column(LargeBinary)
    supplied_values: Mapped[bytes] = mapped_column(LargeBinary)
