"""Outcome events: the import of an export from the CRM or the phoning tool (``leadgov outcomes
import``, the ``import_outcomes`` flow, the demo) and one contest typed by hand (``leadgov contest``).

Import steps, in this order (``import_outcomes``): read the export (refused whole when missing or
larger than ``max_file_bytes``); check and store its events in one transaction (each event stored
once, refused rows listed by line, the contests' replacement claims opened); raise the alerts of
the contests stored, after the commit. A contest is the same thing for one event: refused whole
(nothing stored) when the rules refuse it, recorded once, its claim opened or recorded over the
month's cap, then its alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from leadgov.alerts.evaluate import after_outcomes
from leadgov.alerts.outbox import AlertRun
from leadgov.errors import Refused
from leadgov.ingest import read_bounded
from leadgov.models.statuses import ClaimStatus
from leadgov.outcomes import OutcomeImport, StoredContest, contest_row, store_rows
from leadgov.outcomes import import_outcomes as import_outcome_rows
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly

#: The source recorded with a contest typed by hand.
CONTEST_SOURCE = "leadgov contest"


@dataclass(frozen=True)
class OutcomesImportRequest:
    """One outcome export (CSV with lead_id, supplier_id, event, at, ...)."""

    path: Path


@dataclass(frozen=True)
class OutcomesImportResult:
    """What the import stored, duplicated and refused (by line), and the alerts it raised."""

    path: Path
    imported: OutcomeImport
    alerts: AlertRun


@dataclass(frozen=True)
class ContestRequest:
    """A contest of an accepted lead, with one of its contract's contest reasons.

    ``at`` is when the lead was contested: a datetime, or text as in an export (ISO 8601 or
    dd/mm/yyyy HH:MM, local time unless an offset is given; unreadable text is refused);
    default: now (the runtime's clock).
    """

    lead_id: str
    supplier_id: str
    reason: str
    note: str | None = None
    at: datetime | str | None = None
    #: Who contests it (kept with the contest); default the runtime's actor.
    by: str | None = None


@dataclass(frozen=True)
class ContestResult:
    """A contest recorded (or found already recorded), the status of the claim it opened, its alerts."""

    lead_id: str
    supplier_id: str
    reason: str
    #: The same contest was already recorded: nothing was stored, no alert evaluated.
    duplicated: bool
    #: ``open``: a replacement claim is owed; ``not_owed_cap``: over the month's replacement cap;
    #: None when the contest was a duplicate.
    claim: ClaimStatus | None
    alerts: AlertRun


# --- the steps of an import --------------------------------------------------------------------


def read_export(runtime: Runtime, request: OutcomesImportRequest) -> bytes:
    """The export's bytes, refused whole when missing or larger than the settings allow."""
    return read_bounded(request.path, runtime.settings.max_file_bytes)


def store_outcomes(runtime: Runtime, data: bytes, source: str) -> OutcomeImport:
    """Check and store the export's events in one transaction, with their contests' claims. Safe to
    retry: events already stored are recognised as duplicates."""
    with runtime.sessions() as session:
        return import_outcome_rows(session, data, source, runtime.timezone, recorded_by=runtime.actor)


def raise_outcome_alerts(runtime: Runtime, contested: tuple[StoredContest, ...]) -> AlertRun:
    """GDPR breaches of the contests stored and the running alerts of their weeks, after the
    commit; then the outbox is sent."""
    today = runtime.clock.today()
    return runtime.alerts(lambda session: after_outcomes(session, list(contested), runtime.timezone, today))


# --- the jobs ----------------------------------------------------------------------------------


def import_outcomes(runtime: Runtime, request: OutcomesImportRequest, *,
                    steps: StepRunner = run_directly) -> OutcomesImportResult:
    """Read the export, store its events, raise the alerts of its contests."""
    data = steps(read_export, runtime, request)
    imported = steps(store_outcomes, runtime, data, str(request.path))
    alerts = steps(raise_outcome_alerts, runtime, imported.contested)
    return OutcomesImportResult(request.path, imported, alerts)


def contest(runtime: Runtime, request: ContestRequest) -> ContestResult:
    """Record one contest, or refuse it whole (``Refused``, nothing stored) with the rule it breaks:
    outside the contract's window, a reason the contract does not list, a rejected or unknown lead,
    a lead already contested, an unreadable time."""
    reason = request.reason.upper()
    at = request.at if request.at is not None else runtime.clock.now()
    row = contest_row(request.lead_id, request.supplier_id, reason, at, request.note, runtime.timezone)
    if row["refusal"].notna().any():
        rule, message = row["refusal"].iloc[0]
        raise Refused(f"contest refused ({rule}): {message}")
    with runtime.sessions() as session:
        stored, _ = store_rows(session, row, CONTEST_SOURCE, recorded_by=request.by or runtime.actor)
        if stored.refusals:  # raised inside the unit of work: it is rolled back, nothing stored
            refusal = stored.refusals[0]
            raise Refused(f"contest refused ({refusal.rule}): {refusal.message}")
    if stored.duplicated:
        return ContestResult(request.lead_id, request.supplier_id, reason, True, None, AlertRun())
    claim = ClaimStatus.OPEN if stored.claims.opened else ClaimStatus.NOT_OWED_CAP
    return ContestResult(request.lead_id, request.supplier_id, reason, False, claim,
                         raise_outcome_alerts(runtime, stored.contested))
