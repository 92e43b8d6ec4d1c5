"""Release a frozen statement: the committee's decision behind ``leadgov billing release`` and the
``release_statement`` flow (docs/governance-rules.md, Releasing a frozen statement).

``release_statement``: the latest revision of the supplier's month must exist, be frozen and not be
released yet, and the decision needs who took it and a comment; then a new revision is stored, a
copy of the latest one (same amounts, same lines) marked released and payable, with who, when (the
runtime's clock) and the comment. Earlier revisions are kept; a release cannot be undone. Anything
else is ``Refused`` with one line, before anything is stored.

``latest_statement``: the revision the committee decides on (the flow shows it before pausing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC

from leadgov import statements
from leadgov.alerts.outbox import AlertRun
from leadgov.errors import Refused
from leadgov.models import billing_store
from leadgov.periods import BadPeriod
from leadgov.services.billing import raise_alerts
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly
from leadgov.statements import StoredStatement, month_period_of, read_statement


@dataclass(frozen=True)
class ReleaseRequest:
    """The committee's release of a supplier's frozen month (YYYY-MM): who decided, and why."""

    supplier_id: str
    month: str
    released_by: str
    comment: str


@dataclass(frozen=True)
class ReleaseResult:
    """The released revision just stored (payable), and the frozen revision it releases."""

    statement: StoredStatement
    released_revision: int
    #: What releasing changed in the alerts (the frozen-billing incident closed), after the commit.
    alerts: AlertRun = AlertRun()


def _month(month: str) -> str:
    try:
        month_period_of(month)
    except BadPeriod as exc:
        raise Refused(str(exc)) from None
    return month


# --- the steps ---------------------------------------------------------------------------------


def latest_statement(runtime: Runtime, supplier_id: str, month: str) -> StoredStatement:
    """The latest revision of the month, line by line (``Refused`` when the month was never billed)."""
    with runtime.sessions() as session:
        try:
            return statements.latest_statement(session, supplier_id, _month(month))
        except LookupError as exc:
            raise Refused(str(exc)) from None


def store_release(runtime: Runtime, request: ReleaseRequest) -> ReleaseResult:
    """In one transaction: check the latest revision is frozen and not released, then store its
    released copy as the next revision."""
    released_at = runtime.clock.now().astimezone(UTC).replace(tzinfo=None)
    with runtime.sessions() as session:
        latest = billing_store.latest_revision(session, request.supplier_id, request.month)
        if latest is None:
            raise Refused(statements.never_billed(request.supplier_id, request.month))
        where = f"{request.supplier_id} {request.month} revision {latest.revision}"
        if latest.released_at is not None:
            raise Refused(f"{where} is already released (by {latest.released_by} on "
                          f"{latest.released_at.date().isoformat()}): nothing stored")
        if not latest.frozen:
            raise Refused(f"{where} is not frozen: it is payable, there is nothing to release")
        stored = billing_store.store_release(session, latest, request.released_by.strip(), released_at,
                                             request.comment.strip())
        return ReleaseResult(read_statement(session, stored), latest.revision)


# --- the job -----------------------------------------------------------------------------------


def release_statement(runtime: Runtime, request: ReleaseRequest, *,
                      steps: StepRunner = run_directly) -> ReleaseResult:
    """Release the latest revision of a frozen month: a new revision, payable, with who, when and why."""
    _month(request.month)
    if not request.comment.strip():
        raise Refused("a release needs a comment: say why the committee releases the statement")
    if not request.released_by.strip():
        raise Refused("a release needs who decides it (--by)")
    result: ReleaseResult = steps(store_release, runtime, request)
    # the released revision is payable: it ends the month's frozen-billing incident (after the commit)
    alerts = steps(raise_alerts, runtime, result.statement, runtime.clock.today())
    return replace(result, alerts=alerts)
