"""Identity runs: each delivery's email and phone keys, sorted, stored as one compact blob.

Duplicate look-ups compare a delivery's keys with every earlier delivery's keys in the window.
Keeping those keys in B-tree indexes on the lead table made every stored lead cost two random
index inserts into ever-growing trees: that was most of the storing time at scale
(docs/performance.md). A run is written once per delivery (one row per kind) and read back as
a sorted array that numpy searches, so storing stays proportional to the delivery and a
look-up to the number of stored keys in the window.
"""

from datetime import date

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base


class IdentityRun(Base):
    """The sorted keyed hashes (``keys``, little-endian int64) of one delivery's valid emails or
    phones (``kind``), with the row number of each (``rows``, little-endian int32, same order)."""

    __tablename__ = "identity_run"
    __table_args__ = (
        UniqueConstraint("delivery_id", "kind"),
        Index("ix_identity_run_kind_delivered_on", "kind", "delivered_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    supplier_id: Mapped[str] = mapped_column(String(64))
    delivered_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(5))
    size: Mapped[int] = mapped_column(Integer)
    keys: Mapped[bytes] = mapped_column(LargeBinary)
    rows: Mapped[bytes] = mapped_column(LargeBinary)
