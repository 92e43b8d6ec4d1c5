"""Which leads of a ledger did what: the sets every KPI, freeze rule and report counts from.

Each function returns the lead_pks (a pandas Index) of the ledger's leads that match, so a
figure is a ``len()`` and two figures can share a numerator exactly.
"""

from collections.abc import Iterable

import pandas as pd

from leadgov.ledger import Ledger
from leadgov.models.statuses import LeadStatus
from leadgov.reasons import DATA_ERROR_REASONS, DUPLICATE_REASONS, GDPR_REASONS


def all_leads(ledger: Ledger) -> pd.Index:
    lead_pks: pd.Index = pd.Index(ledger.leads["lead_pk"].unique())
    return lead_pks


def with_status(ledger: Ledger, status: LeadStatus) -> pd.Index:
    leads = ledger.leads
    lead_pks: pd.Index = pd.Index(leads.loc[leads["status"] == status.value, "lead_pk"].unique())
    return lead_pks


def with_reason(ledger: Ledger, codes: Iterable[str]) -> pd.Index:
    """Leads with at least one of ``codes`` among their reasons."""
    reasons = ledger.reasons
    found = reasons.loc[reasons["code"].isin({str(c) for c in codes}), "lead_pk"]
    lead_pks: pd.Index = pd.Index(found.unique())
    return lead_pks.intersection(all_leads(ledger))


def with_event(ledger: Ledger, event: str) -> pd.Index:
    """Leads with at least one ``event`` (any date: outcomes as known now)."""
    events = ledger.events
    found = events.loc[events["event"] == event, "lead_pk"]
    lead_pks: pd.Index = pd.Index(found.unique())
    return lead_pks.intersection(all_leads(ledger))


def contested(ledger: Ledger) -> pd.Index:
    """Accepted leads with a stored contest (the importer stores only contests it accepted)."""
    return with_event(ledger, "contest").intersection(with_status(ledger, LeadStatus.ACCEPTED))


def duplicates(ledger: Ledger) -> pd.Index:
    return with_reason(ledger, DUPLICATE_REASONS)


def data_errors(ledger: Ledger) -> pd.Index:
    return with_reason(ledger, DATA_ERROR_REASONS)


def gdpr_breaches(ledger: Ledger) -> pd.Index:
    """Leads rejected NO_CONSENT or NO_NOTICE (``GDPR_REASONS``), or contested NO_CONSENT_ON_CALL."""
    events = ledger.events
    on_call = events.loc[(events["event"] == "contest") & (events["contest_reason"] == "NO_CONSENT_ON_CALL"),
                         "lead_pk"]
    return with_reason(ledger, GDPR_REASONS).union(pd.Index(on_call.unique()).intersection(all_leads(ledger)))


def share(count: int, total: int) -> float | None:
    """A rate, None when its denominator is 0 (a rate of nothing is not 0 %)."""
    return None if total == 0 else count / total
