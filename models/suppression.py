"""The suppression list: people who objected to prospecting or whose data was erased."""

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from leadgov.models.base import Base, utcnow


class SuppressionEntry(Base):
    """One suppressed email or phone, kept only as hashes: never the value itself.

    ``key_hmac`` (HMAC-SHA256 of the normalised value) is the proof; ``identity_key`` is the
    64-bit keyed hash that deliveries compute for every lead, so that the check is a join.
    """

    __tablename__ = "suppression_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    identity_key: Mapped[int] = mapped_column(BigInteger, index=True)
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who asked for the latest decision on this entry (the objection, or the erasure that followed it)
    #: and when; NULL for entries listed before it was kept.
    requested_by: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime | None]
