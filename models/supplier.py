"""Suppliers and the contract versions their deliveries were validated under."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from leadgov.models.base import Base, utcnow
from leadgov.models.statuses import SupplierState, allowed


class Supplier(Base):
    """A lead supplier, identified by the slug of its contract (``supplier.id``)."""

    __tablename__ = "supplier"
    __table_args__ = (allowed("state", SupplierState),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=SupplierState.PILOT.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContractVersion(Base):
    """One distinct content of a contract file (by SHA-256), kept verbatim with its comments."""

    __tablename__ = "contract_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("supplier.id"), index=True)
    contract_id: Mapped[str] = mapped_column(String(100), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    terms_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))
    supersedes: Mapped[str | None] = mapped_column(String(100))
    effective_from: Mapped[date | None]
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierTerminated(ValueError):
    """A delivery from a supplier whose contract owner terminated it after its pilot."""


def refuse_if_terminated(session: Session, supplier_id: str) -> None:
    supplier = session.get(Supplier, supplier_id)
    if supplier is not None and supplier.state == SupplierState.TERMINATED:
        raise SupplierTerminated(
            f"supplier {supplier_id} was terminated after its pilot: its deliveries are refused "
            f"(see `leadgov report pilot --supplier {supplier_id}` and the recorded decision)")


def not_terminated_supplier_ids(session: Session) -> list[str]:
    """Every supplier whose deliveries are still taken, by id."""
    return list(session.scalars(select(Supplier.id).where(Supplier.state != SupplierState.TERMINATED.value)
                                .order_by(Supplier.id)).all())


class ContractConflict(ValueError):
    """A contract reuses a stored contract_id with different terms and does not supersede it."""


def ensure_supplier(session: Session, supplier_id: str, name: str) -> Supplier:
    """The supplier row, created on first sight; its name follows the latest contract."""
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        supplier = Supplier(id=supplier_id, name=name)
        session.add(supplier)
        session.flush()
    elif supplier.name != name:
        supplier.name = name
    return supplier


def register_contract_version(
    session: Session, *, supplier_id: str, contract_id: str, sha256: str, terms_sha256: str,
    content: str, source_path: str, supersedes: str | None, effective_from: date | None,
) -> ContractVersion:
    """The stored version for this exact content, added on first use.

    Changing only comments makes a new version with the same terms. Changing the terms under
    the same contract_id is refused unless the new file says it supersedes that contract and
    from which date (docs/contract-reference.md), so past decisions always name the terms they used.
    """
    existing = session.scalar(select(ContractVersion).where(ContractVersion.sha256 == sha256))
    if existing is not None:
        return existing
    other_terms = session.scalars(
        select(ContractVersion.terms_sha256).where(ContractVersion.contract_id == contract_id)
    ).all()
    if any(t != terms_sha256 for t in other_terms) and not (supersedes == contract_id and effective_from):
        raise ContractConflict(
            f"contract {contract_id} is already stored with other terms: a new version must say "
            f"'supersedes: {contract_id}' and 'effective_from: YYYY-MM-DD'"
        )
    version = ContractVersion(
        supplier_id=supplier_id, contract_id=contract_id, sha256=sha256, terms_sha256=terms_sha256,
        content=content, source_path=source_path, supersedes=supersedes, effective_from=effective_from,
    )
    session.add(version)
    session.flush()
    return version


def contract_version_in_force(session: Session, supplier_id: str, day: date | None = None) -> ContractVersion | None:
    """The supplier's contract version that governs ``day`` (default: the latest one).

    Among the versions effective on that day (no ``effective_from``, or one not after it), the
    latest effective date wins, then the latest loaded; a comment-only change is a new version
    with the same terms, so which of those wins does not matter.
    """
    versions = session.scalars(
        select(ContractVersion).where(ContractVersion.supplier_id == supplier_id).order_by(ContractVersion.id)
    ).all()
    if day is not None:
        versions = [v for v in versions if v.effective_from is None or v.effective_from <= day]
    if not versions:
        return None
    return max(versions, key=lambda v: (v.effective_from or date.min, v.id))
