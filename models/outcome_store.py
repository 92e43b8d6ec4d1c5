"""Reading what outcome imports need and storing outcome events, set-based."""

from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from leadgov.models.db import chunks
from leadgov.models.delivery import Delivery, Lead
from leadgov.models.delivery_store import bulk_insert
from leadgov.models.outcome import OutcomeEvent
from leadgov.models.supplier import ContractVersion, Supplier


def known_suppliers(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Supplier.id)).all())


def leads_named(session: Session, pairs: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """The leads that (supplier_id, lead_id) pairs name: lead_pk, status, delivered_on and the
    contract version their delivery ran under. A reused lead_id names its first lead."""
    pairs = sorted(set(pairs))
    rows: list[Sequence[object]] = []
    for chunk in chunks(pairs):
        rows += session.execute(
            select(Lead.supplier_id, Lead.lead_id, Lead.id, Lead.status, Lead.delivered_on,
                   Delivery.contract_version_id)
            .join(Delivery, Delivery.id == Lead.delivery_id)
            .where(tuple_(Lead.supplier_id, Lead.lead_id).in_(chunk))
        ).all()
    frame = pd.DataFrame(rows, columns=["supplier_id", "lead_id", "lead_pk", "status", "delivered_on",
                                        "contract_version_id"])
    return frame.sort_values("lead_pk").drop_duplicates(["supplier_id", "lead_id"]).reset_index(drop=True)


def stored_events(session: Session, lead_pks: Iterable[int]) -> pd.DataFrame:
    """Events already stored for these leads: lead_pk, event, at (naive UTC)."""
    rows: list[Sequence[object]] = []
    for chunk in chunks(sorted({int(pk) for pk in lead_pks})):
        rows += session.execute(
            select(OutcomeEvent.lead_pk, OutcomeEvent.event, OutcomeEvent.at).where(OutcomeEvent.lead_pk.in_(chunk))
        ).all()
    return pd.DataFrame(rows, columns=["lead_pk", "event", "at"])


def contract_texts(session: Session, version_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """version id -> (content, source path) of stored contract versions."""
    ids = sorted({int(v) for v in version_ids})
    rows = session.execute(
        select(ContractVersion.id, ContractVersion.content, ContractVersion.source_path)
        .where(ContractVersion.id.in_(ids))
    ).all() if ids else []
    return {i: (content, path) for i, content, path in rows}


def insert_events(session: Session, events: pd.DataFrame, source: str, recorded_by: str | None = None) -> None:
    """Store checked events (lead_pk, supplier_id, lead_id, event, at, contest_reason, amount_eur,
    objection, note), with their source and who recorded them."""
    if events.empty:
        return
    frame = events[["lead_pk", "supplier_id", "lead_id", "event", "at", "contest_reason", "amount_eur",
                    "objection", "note"]].copy()
    frame["at"] = frame["at"].astype("datetime64[ns]")
    # Decimal as text: exact into PostgreSQL's numeric, and SQLite's driver binds no Decimal
    frame["amount_eur"] = [None if pd.isna(amount) else str(amount) for amount in frame["amount_eur"]]
    frame["source"] = source[-500:]
    frame["recorded_by"] = None if recorded_by is None else recorded_by[:200]
    frame["imported_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    frame["imported_at"] = frame["imported_at"].astype("datetime64[ns]")
    bulk_insert(session, OutcomeEvent.__tablename__, frame)
