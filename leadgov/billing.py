"""A supplier's monthly statement: billed units, credit notes, budget cap and freeze.

Pure functions of a ``Ledger`` (docs/governance-rules.md, "Billing" and "Replacement claims"):
the storage layer loads the ledger, calls ``compute_statement`` and stores the draft as a new
revision. Nothing here touches a database, so every rule is testable by hand.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from leadgov import cohort
from leadgov.config.contract.models import Billing, Contract
from leadgov.ledger import Ledger
from leadgov.models.statuses import LeadStatus
from leadgov.periods import Period

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
QUALIFIED_MODELS = frozenset({"per_qualified_lead", "mixed"})
CREDITABLE_STATUSES = frozenset({"overdue", "credited"})


def money(value: float | Decimal | int) -> Decimal:
    """Euros to the cent, rounded half up (via ``str`` so 0.1 stays 0.1, not its binary neighbour)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, eq=False)  # eq=False: frames have no single truth value
class StatementDraft:
    """One computed statement, before the storage layer gives it a revision and a contract version."""

    supplier_id: str
    month: str
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
    units: pd.DataFrame     # lead_pk, lead_id, amount_eur; sorted by lead_pk
    credits: pd.DataFrame   # claim_id, lead_pk, lead_id, amount_eur; sorted by lead_pk

    @property
    def billable_lead_ids(self) -> list[str]:
        return self.units["lead_id"].tolist()

    @property
    def credited_claim_ids(self) -> list[int]:
        return [int(c) for c in self.credits["claim_id"]]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values (money as floats to the cent) for reports and result files."""
        def eur(value: Decimal | None) -> float | None:
            return None if value is None else round(float(value), 2)

        return {
            "supplier_id": self.supplier_id,
            "month": self.month,
            "model": self.model,
            "billable_units": self.billable_units,
            "unit_price_eur": eur(self.unit_price_eur),
            "fixed_fee_eur": eur(self.fixed_fee_eur),
            "gross_eur": eur(self.gross_eur),
            "budget_cap_eur": eur(self.budget_cap_eur),
            "cap_excess_eur": eur(self.cap_excess_eur),
            "credits_eur": eur(self.credits_eur),
            "amount_due_eur": eur(self.amount_due_eur),
            "frozen": self.frozen,
            "freeze_reasons": list(self.freeze_reasons),
            "billable_lead_ids": self.billable_lead_ids,
            "credit_lines": [
                {"claim_id": int(claim_id), "lead_id": lead_id, "amount_eur": eur(amount)}
                for claim_id, lead_id, amount in zip(
                    self.credits["claim_id"], self.credits["lead_id"], self.credits["amount_eur"], strict=True
                )
            ],
        }


def gross_bound(billing: Billing, leads_of_month: int) -> Decimal | None:
    """The most a month's statement can bill before its cap, from the number of leads it is about
    (delivered in the month and settled at delivery, or settled by a person in the month): every one
    of them billed (per lead, plus the fixed fee when mixed). None for ``per_appointment``, which
    bills appointments of any month's leads."""
    if billing.model == "per_appointment":
        return None
    fixed_fee = money(billing.fixed_fee_eur_monthly) if billing.model == "mixed" else ZERO
    return money(leads_of_month * money(billing.unit_price_eur) + fixed_fee)


def compute_statement(ledger: Ledger, contract: Contract, month: Period, *,
                      billed_before: frozenset[int]) -> StatementDraft:
    """The month's statement of one supplier.

    ``ledger``: the leads delivered in the month (the cohort) with their reasons and events, plus
    the ``appointment_held`` events of other leads; the claims of the cohort, those filled by a
    cohort lead and those that became overdue in the month. ``billed_before``: lead_pks billed by
    the latest revisions of earlier months' statements, which decide free replacements,
    per_appointment re-billing and credit notes.
    """
    if month.kind != "month":
        raise ValueError(f"a statement covers a calendar month, not {month.label!r}")
    billing = contract.billing
    unit_price = money(billing.unit_price_eur)
    fixed_fee = money(billing.fixed_fee_eur_monthly) if billing.model == "mixed" else ZERO
    cap = None if billing.monthly_budget_cap_eur is None else money(billing.monthly_budget_cap_eur)

    units = _units(ledger, billing, month, billed_before)
    billed = set(billed_before) | set(units["lead_pk"].tolist())
    credits = _credits(ledger.claims, month, billed)
    units["amount_eur"] = [unit_price] * len(units)  # type: ignore[assignment]  # pandas-stubs: a column of Decimals
    credits["amount_eur"] = [unit_price] * len(credits)  # type: ignore[assignment]  # pandas-stubs: a column of Decimals

    gross = money(len(units) * unit_price + fixed_fee)
    cap_excess = ZERO if cap is None else max(ZERO, gross - cap)
    credits_total = money(len(credits) * unit_price)
    reasons = freeze_reasons(ledger, billing)
    return StatementDraft(
        supplier_id=ledger.supplier_id, month=month.label, model=billing.model,
        unit_price_eur=unit_price, fixed_fee_eur=fixed_fee, billable_units=len(units),
        gross_eur=gross, budget_cap_eur=cap, cap_excess_eur=cap_excess, credits_eur=credits_total,
        amount_due_eur=gross - cap_excess - credits_total,
        frozen=bool(reasons), freeze_reasons=reasons, units=units, credits=credits,
    )


# --- units -------------------------------------------------------------------------------------

def _units(ledger: Ledger, billing: Billing, month: Period, billed_before: frozenset[int]) -> pd.DataFrame:
    """The billed units (lead_pk, lead_id), sorted by lead_pk."""
    if billing.model == "per_appointment":
        return _appointment_units(ledger, month, billed_before)
    eligible = _eligible_leads(ledger, billing)
    billed = _without_free_replacements(eligible, ledger.claims, billed_before)
    leads = ledger.leads.drop_duplicates("lead_pk")
    return _sorted(leads.loc[leads["lead_pk"].isin(billed), ["lead_pk", "lead_id"]])


def _eligible_leads(ledger: Ledger, billing: Billing) -> pd.Index:
    """Cohort leads billable under a per-lead model, before free replacements are taken out."""
    if billing.model in QUALIFIED_MODELS:
        eligible = cohort.with_status(ledger, LeadStatus.ACCEPTED).difference(cohort.contested(ledger))
    else:  # per_lead: any reason listed as non-billable makes the lead free, other rejections are paid
        eligible = cohort.all_leads(ledger).difference(cohort.with_reason(ledger, billing.non_billable_reasons))
    over_cap = ledger.leads.loc[ledger.leads["over_cap"], "lead_pk"]
    return eligible.difference(pd.Index(over_cap.unique()))


def _without_free_replacements(eligible: pd.Index, claims: pd.DataFrame,
                               billed_before: frozenset[int]) -> pd.Index:
    """``eligible`` minus the leads that filled a claim of a billed lead (compensation, not a sale).

    Whether a replacement is free depends on whether its original was billed, which for an
    original of this month depends on whether *it* was a free replacement: resolved in lead_pk
    order (an original always precedes its replacement). Only replacements are looped over.
    """
    fills = claims.drop_duplicates("claim_id")
    fills = fills.loc[(fills["status"] == "filled") & fills["filled_by_lead_pk"].isin(eligible)]
    originals = fills.groupby(fills["filled_by_lead_pk"].astype("int64"))["lead_pk"].agg(set)
    billed = set(billed_before) | set(eligible.difference(originals.index))
    for replacement, replaced in originals.sort_index().items():
        if not replaced & billed:
            billed.add(replacement)
    return eligible.intersection(pd.Index(sorted(billed), dtype="int64"))


def _appointment_units(ledger: Ledger, month: Period, billed_before: frozenset[int]) -> pd.DataFrame:
    """Leads whose *first* appointment_held falls in the month, whatever their delivery month,
    and which no earlier statement billed (a lead is billed at most once). Leads flagged
    OVER_WEEKLY_CAP are never billed: the cohort's are dropped here, the loader leaves out the others'."""
    events = ledger.local_events()
    held = events.loc[events["event"] == "appointment_held"]
    first = held.sort_values(["at", "lead_pk"], kind="stable").drop_duplicates("lead_pk")
    start, end = month.dates
    in_month = first["day"].between(pd.Timestamp(start), pd.Timestamp(end))
    over_cap = ledger.leads.loc[ledger.leads["over_cap"], "lead_pk"]  # never billed, whatever the model
    keep = in_month & ~first["lead_pk"].isin(billed_before) & ~first["lead_pk"].isin(over_cap)
    return _sorted(first.loc[keep, ["lead_pk", "lead_id"]])


# --- credits -----------------------------------------------------------------------------------

def _credits(claims: pd.DataFrame, month: Period, billed: set[int]) -> pd.DataFrame:
    """One credit per overdue (or already credited) claim that became overdue in the month and
    whose lead was paid for: a never-billed lead owes the buyer nothing back."""
    claims = claims.drop_duplicates("claim_id")
    start, end = month.dates
    due = (claims["status"].isin(CREDITABLE_STATUSES)
           & claims["overdue_on"].between(pd.Timestamp(start), pd.Timestamp(end))
           & claims["lead_pk"].isin(billed))
    return _sorted(claims.loc[due, ["claim_id", "lead_pk", "lead_id"]])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["lead_pk"] + (["claim_id"] if "claim_id" in frame else []),
                             kind="stable").reset_index(drop=True)


# --- freeze ------------------------------------------------------------------------------------

def freeze_reasons(ledger: Ledger, billing: Billing) -> tuple[str, ...]:
    """Why the month's statement is not payable, one readable line per rule that holds
    (stable code first, then figure and threshold). No personal data: lead ids only."""
    rules = billing.freeze_if
    delivered = len(cohort.all_leads(ledger))
    reasons = []
    for code, leads, threshold in (("DUPLICATE_RATE", cohort.duplicates(ledger), rules.duplicate_rate_above),
                                   ("DATA_ERROR_RATE", cohort.data_errors(ledger), rules.data_error_rate_above)):
        rate = cohort.share(len(leads), delivered)
        if threshold is not None and rate is not None and rate > threshold:
            reasons.append(f"{code}: {rate:.2%} > {threshold:.2%} ({len(leads)} of {delivered} leads)"
                           .replace("%", " %"))
    breaches = cohort.gdpr_breaches(ledger)
    if rules.gdpr_breach and len(breaches):
        ids = ledger.leads.loc[ledger.leads["lead_pk"].isin(breaches)].sort_values("lead_pk")["lead_id"]
        noun = "lead" if len(breaches) == 1 else "leads"
        reasons.append(f"GDPR_BREACH: {len(breaches)} {noun} rejected NO_CONSENT or NO_NOTICE, or contested "
                       f"NO_CONSENT_ON_CALL ({', '.join(ids.astype(str).unique())})")
    return tuple(reasons)
