"""KPIs and monthly statements from the database: load a ledger, apply the pure rules, store.

Functions take the caller's session and never commit (``leadgov billing statement`` and the
flows own the transaction).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from leadgov.billing import StatementDraft, compute_statement
from leadgov.claims import check_overdue
from leadgov.config.contract import Contract, parse_contract
from leadgov.errors import NoContract
from leadgov.kpis import Kpis, compute_kpis
from leadgov.ledger import Ledger
from leadgov.models import billing_store, ledger_store
from leadgov.models.billing import BillingStatement
from leadgov.models.pilot import Pilot, latest_pilot
from leadgov.models.supplier import ContractVersion, contract_version_in_force
from leadgov.periods import Period, month_period, months_in


def contract_for(session: Session, supplier_id: str, day: date | None) -> tuple[ContractVersion, Contract]:
    """The stored contract version in force on ``day`` (default: the latest), parsed."""
    version = contract_version_in_force(session, supplier_id, day)
    if version is None:
        raise NoContract(f"no contract stored for supplier {supplier_id!r}: validate one of its deliveries first")
    return version, parse_contract(version.content, version.source_path).contract


def contract_of_version(session: Session, version_id: int) -> tuple[ContractVersion, Contract]:
    """A stored contract version (the one a delivery or a statement ran under), parsed."""
    version = session.get_one(ContractVersion, version_id)
    return version, parse_contract(version.content, version.source_path).contract


def billed_amount(session: Session, supplier_id: str, period: Period, condition: ColumnElement[bool]) -> Decimal | None:
    """What the buyer was billed for the period (docs/governance-rules.md, KPIs): for months and
    quarters, the latest statements' gross minus the cap excess; for a week, a delivery or the
    pilot, the unit lines of the cohort's leads. None when no statement covers it yet."""
    if period.kind in ("month", "quarter"):
        statements = billing_store.latest_statements(session, supplier_id, months_in(period))
        if not statements:
            return None
        return sum((s.gross_eur - s.cap_excess_eur for s in statements), Decimal("0.00"))
    if not billing_store.latest_statements(session, supplier_id):
        return None
    units = billing_store.billed_units(session, supplier_id, condition)
    return sum((Decimal(str(a)) for a in units["amount_eur"]), Decimal("0.00"))


def period_contract(session: Session, supplier_id: str, period: Period) -> tuple[ContractVersion, Contract]:
    """The contract a period is judged under: a pilot's own contract version; for the others the
    version in force at the period's end (a delivery: the latest)."""
    if period.kind == "pilot":
        pilot = latest_pilot(session, supplier_id) if period.pilot_id is None else session.get(Pilot, period.pilot_id)
        if pilot is not None and pilot.supplier_id == supplier_id:
            return contract_of_version(session, pilot.contract_version_id)
    return contract_for(session, supplier_id, period.end)


def supplier_kpis(session: Session, supplier_id: str, period: Period, tz: str, as_of: date, *,
                  ledger: Ledger | None = None) -> Kpis:
    """The supplier's KPIs for a period, under the contract in force at its end (a pilot: its own).
    ``ledger``: the period's ledger when the caller holds it already (a part of a larger one it loaded,
    ``Ledger.of_delivery``, ``Ledger.delivered_between``); else it is loaded here."""
    _, contract = period_contract(session, supplier_id, period)
    condition = ledger_store.cohort_condition(session, supplier_id, period, contract)
    if ledger is None:
        ledger = ledger_store.load_ledger(session, supplier_id, period, tz, contract)
    return compute_kpis(ledger, contract, period, as_of=as_of,
                        billed_eur=billed_amount(session, supplier_id, period, condition))


def supplier_kpis_of(session: Session, supplier_id: str, periods: list[Period], tz: str, as_of: date) -> list[Kpis]:
    """The supplier's KPIs for several spans of days (weeks, months, quarters), each the same as
    ``supplier_kpis`` gives, from one ledger load covering them all (the review needs a quarter and
    its thirteen weeks: one load instead of fourteen)."""
    if any(p.start is None or p.end is None for p in periods):
        raise ValueError("supplier_kpis_of takes spans of days (weeks, months, quarters), not deliveries or pilots")
    if not periods:
        return []
    first = min(p.dates[0] for p in periods)
    last = max(p.dates[1] for p in periods)
    ledger = ledger_store.load_ledger(session, supplier_id, Period("quarter", "span", first, last), tz)
    kpis = []
    for period in periods:
        _, contract = contract_for(session, supplier_id, period.end)
        condition = ledger_store.cohort_condition(session, supplier_id, period, contract)
        kpis.append(compute_kpis(ledger.delivered_between(*period.dates), contract, period, as_of=as_of,
                                 billed_eur=billed_amount(session, supplier_id, period, condition)))
    return kpis


@dataclass(frozen=True)
class Statement:
    """A stored statement revision with the draft it was made from."""

    stored: BillingStatement
    draft: StatementDraft
    contract_version: ContractVersion

    def as_dict(self) -> dict[str, object]:
        return {**self.draft.as_dict(), "revision": self.stored.revision, "statement_id": self.stored.id,
                "contract_version": {"id": self.contract_version.id, "contract_id": self.contract_version.contract_id,
                                     "sha256": self.contract_version.sha256}}


def draft_statement(session: Session, supplier_id: str, month: Period, contract: Contract, tz: str) -> StatementDraft:
    """The statement ``month`` would get now under ``contract``, not stored."""
    ledger = ledger_store.load_billing_ledger(session, supplier_id, month, tz)
    return compute_statement(ledger, contract, month,
                             billed_before=billing_store.billed_before(session, supplier_id, month.label))


def bill_month(session: Session, supplier_id: str, year: int, month: int, tz: str, as_of: date, *,
               by: str | None = None) -> Statement:
    """Compute and store the next revision of a month's statement.

    Claims are first checked for overdue as of the day after the month (or ``as_of`` if
    earlier), so the credits of the month are known; the contract is the one in force on the
    month's last day. ``by``: who computes it (kept with the revision).
    """
    period = month_period(year, month)
    _, last_day = period.dates
    check_overdue(session, min(as_of, last_day + timedelta(days=1)), supplier_id)
    version, contract = contract_for(session, supplier_id, period.end)
    draft = draft_statement(session, supplier_id, period, contract, tz)
    stored = billing_store.store_statement(session, draft, version.id, as_of, computed_by=by)
    return Statement(stored, draft, version)
