"""Raw records: each delivery's rows as delivered, kept in compressed columnar blocks beside the leads.

A raw record is a delivered row as a JSON object text (original headers to original cells, extra
columns included; a JSON delivery's object as delivered): the audit trail of what the supplier sent.
It was a text column of the lead table, bound row by row and written twice by SQLite's WAL: about a
fifth of the time a large delivery took to store (docs/performance.md). A delivery's raw records are
now written as blocks of ``BLOCK_ROWS`` rows, each one Arrow IPC stream (zstd) of the row numbers and
their texts, in the delivery's own transaction. An erasure rewrites the blocks holding the lead with
its record set to NULL; the retention purge deletes an expired delivery's blocks
(``models.raw_record_store``).
"""

from sqlalchemy import ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base

#: Rows per block: an erasure rewrites one block (a few MB at most), a look-up reads only the blocks it needs.
BLOCK_ROWS = 20_000


class RawRecordBlock(Base):
    """The raw records of the rows ``first_row`` to ``last_row`` of one delivery (``records``: an Arrow
    IPC stream, zstd-compressed, of ``row_number`` int32 and ``raw_record`` text, NULL when erased)."""

    __tablename__ = "raw_record_block"
    __table_args__ = (UniqueConstraint("delivery_id", "first_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    records: Mapped[bytes] = mapped_column(LargeBinary)
