"""A month's stored statement as the billing doors show it, and which suppliers a month bills.

``leadgov.governance.bill_month`` computes and stores a revision; ``read_statement`` reads a stored
revision back with its lines (one per billed unit and credit note, by lead id) as plain values:
money stays ``Decimal`` until a door renders it. It also says what became of the month's leads a pilot
held (``pilot_holds``): they are no line of the statement until the pilot's approval bills them.
Functions take the caller's session and never commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy.orm import Session

from leadgov.governance import contract_of_version
from leadgov.models import billing_store
from leadgov.models.billing import BillingStatement
from leadgov.models.governance_store import contracted_supplier_ids
from leadgov.models.pilot import held_leads, undecided_pilot
from leadgov.models.supplier import Supplier, contract_version_in_force
from leadgov.periods import Period, parse_period_of_kind


def month_period_of(label: str) -> Period:
    """The calendar month ``label`` names (YYYY-MM); anything else is refused (``BadPeriod``)."""
    return parse_period_of_kind(label, "month")


def month_numbers(label: str) -> tuple[int, int]:
    """(year, month) of the calendar month ``label`` names; anything else is refused (``BadPeriod``)."""
    month_period_of(label)
    year, month = label.split("-")
    return int(year), int(month)


def previous_month(day: date) -> str:
    """The calendar month before ``day``'s, as YYYY-MM (what the month's closing bills by default)."""
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def suppliers_to_bill(session: Session, month: Period) -> list[str]:
    """The suppliers with a stored contract in force on the month's last day, by id."""
    return [s for s in contracted_supplier_ids(session) if contract_version_in_force(session, s, month.end) is not None]


@dataclass(frozen=True)
class CreditLine:
    """A credit note: the claim the supplier did not fill in time, for a lead billed earlier."""

    claim_id: int
    lead_id: str
    amount_eur: Decimal


#: What became of leads a pilot held (PILOT_HOLD), in the order a statement lists them: approved in the
#: month (billed on this statement), approved in a later month (billed on that month's), still held by an
#: undecided pilot (billed on approval), held by a pilot decided without approval (never billed).
HELD_BILLED, HELD_LATER, HELD_WAITING, HELD_NOT_BILLED = "billed", "later", "waiting", "not_billed"
HELD_ORDER = (HELD_BILLED, HELD_LATER, HELD_WAITING, HELD_NOT_BILLED)


@dataclass(frozen=True)
class HeldLeads:
    """Leads a pilot held, delivered in the statement's month or approved in it, with what became of
    them (``state``, one of ``HELD_ORDER``) and, once approved, the approval day."""

    state: str
    lead_ids: tuple[str, ...]
    approved_on: date | None = None


def pilot_holds(held: pd.DataFrame, month: Period, undecided_since: date | None) -> tuple[HeldLeads, ...]:
    """The month's held leads (``models.pilot.held_leads``: lead_id, delivered_on, decided_on) by what
    became of them; ``undecided_since`` is the start day of the supplier's undecided pilot (None when it
    has none): a lead without a decision delivered from that day is still waiting for it, one delivered
    before it was held by a pilot decided without approval. Read when the statement is shown: a
    statement written while the pilot was undecided says "billed on approval"."""
    if held.empty:
        return ()
    first, last = (pd.Timestamp(d) for d in month.dates)
    decided = pd.to_datetime(held["decided_on"])
    delivered = pd.to_datetime(held["delivered_on"])
    since = pd.Timestamp(undecided_since) if undecided_since is not None else pd.Timestamp.max
    waiting = decided.isna() & (delivered >= since)
    frame = pd.DataFrame({
        "lead_id": held["lead_id"].fillna("").astype(str),
        "approved_on": decided.dt.date.astype(object).where(decided.notna(), None),
        "state": HELD_NOT_BILLED,
    })
    frame.loc[waiting, "state"] = HELD_WAITING
    frame.loc[decided > last, "state"] = HELD_LATER
    frame.loc[decided.between(first, last), "state"] = HELD_BILLED
    frame["order"] = frame["state"].map(HELD_ORDER.index)
    groups = frame.groupby(["order", "state", "approved_on"], dropna=False, sort=True)["lead_id"].agg(tuple)
    keys: list[tuple[int, str, date | None]] = list(groups.index)  # (order, state, approval day)
    return tuple(HeldLeads(state, ids, None if pd.isna(day) else day)
                 for (_, state, day), ids in zip(keys, groups.tolist(), strict=True))


@dataclass(frozen=True)
class StoredStatement:
    """One stored revision of a supplier's statement for a month, line by line."""

    supplier_id: str
    supplier_name: str
    month: str
    revision: int
    statement_id: int
    contract_id: str
    contract_version_id: int
    contract_sha256: str
    #: The contract's locale: the statement report is written in it.
    locale: str
    model: str
    unit_price_eur: Decimal
    fixed_fee_eur: Decimal
    billable_units: int
    gross_eur: Decimal
    budget_cap_eur: Decimal | None
    cap_excess_eur: Decimal
    credits_eur: Decimal
    amount_due_eur: Decimal
    frozen: bool
    freeze_reasons: tuple[str, ...]
    #: The supplier's lead ids of the billed units, by storage order.
    billable_lead_ids: tuple[str, ...]
    credit_lines: tuple[CreditLine, ...]
    #: The committee's release of a frozen statement (docs/governance-rules.md, Releasing a frozen
    #: statement): who, when (aware, UTC) and why; ``None`` when the revision was not released.
    released_by: str | None = None
    released_at: datetime | None = None
    release_comment: str | None = None
    #: The leads of the month a pilot held (PILOT_HOLD), by what became of them (``pilot_holds``).
    held: tuple[HeldLeads, ...] = ()

    @property
    def units_amount_eur(self) -> Decimal:
        """What the units alone cost: units x unit price."""
        return Decimal(self.billable_units) * self.unit_price_eur

    @property
    def released(self) -> bool:
        """The committee released this revision: payable although its freeze conditions held."""
        return self.released_at is not None

    @property
    def payable(self) -> bool:
        """Not frozen, or frozen and released by the committee."""
        return not self.frozen or self.released

    @property
    def releasable(self) -> bool:
        """Frozen and not released yet: what the committee can release."""
        return self.frozen and not self.released


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def read_statement(session: Session, stored: BillingStatement) -> StoredStatement:
    """A stored revision and its lines as plain values."""
    version, contract = contract_of_version(session, stored.contract_version_id)
    lines = billing_store.statement_lines(session, stored.id)
    units = lines[lines["kind"] == "unit"]
    credits = lines[lines["kind"] == "credit"].to_dict("records")
    supplier = session.get(Supplier, stored.supplier_id)
    month = month_period_of(stored.month)
    running = undecided_pilot(session, stored.supplier_id)
    held = pilot_holds(held_leads(session, stored.supplier_id, *month.dates), month,
                       running.start_day if running is not None else None)
    return StoredStatement(
        supplier_id=stored.supplier_id, supplier_name=supplier.name if supplier else stored.supplier_id,
        month=stored.month, revision=stored.revision, statement_id=stored.id, contract_id=version.contract_id,
        contract_version_id=version.id, contract_sha256=version.sha256, locale=contract.locale, model=stored.model,
        unit_price_eur=_money(stored.unit_price_eur), fixed_fee_eur=_money(stored.fixed_fee_eur),
        billable_units=stored.billable_units, gross_eur=_money(stored.gross_eur),
        budget_cap_eur=None if stored.budget_cap_eur is None else _money(stored.budget_cap_eur),
        cap_excess_eur=_money(stored.cap_excess_eur), credits_eur=_money(stored.credits_eur),
        amount_due_eur=_money(stored.amount_due_eur), frozen=bool(stored.frozen),
        freeze_reasons=tuple(json.loads(stored.freeze_reasons)),
        billable_lead_ids=tuple(lead_id if isinstance(lead_id, str) else "" for lead_id in units["lead_id"]),
        credit_lines=tuple(CreditLine(int(r["claim_id"]), r["lead_id"] if isinstance(r["lead_id"], str) else "",
                                      _money(r["amount_eur"])) for r in credits),
        released_by=stored.released_by,
        released_at=None if stored.released_at is None else stored.released_at.replace(tzinfo=UTC),
        release_comment=stored.release_comment, held=held,
    )


def never_billed(supplier_id: str, month: str) -> str:
    return f"no statement for {supplier_id} in {month}: run `leadgov billing statement` first"


def latest_statement(session: Session, supplier_id: str, month: str) -> StoredStatement:
    """The latest revision of the month's statement (``LookupError`` when the month was never billed)."""
    found = billing_store.latest_statements(session, supplier_id, [month])
    if not found:
        raise LookupError(never_billed(supplier_id, month))
    return read_statement(session, found[0])
