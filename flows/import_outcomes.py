"""Flow: import one outcome export from the CRM or the phoning tool, then raise its alerts."""

from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.tasks.governance import publish_outcomes_import, raise_outcome_alerts, read_export, store_outcomes, upgrade_database


@flow(name="import_outcomes", flow_run_name="import outcomes {path}", log_prints=False)
def import_outcomes(
    path: Annotated[str, Field(min_length=1, description="The outcome export (CSV with lead_id, supplier_id, "
                                                         "event, at, ...).")],
) -> dict:
    """Import outcome events (each stored once; refused rows listed by line), then their alerts.

    Args:
        path: The outcome export (CSV with lead_id, supplier_id, event, at, ...).
    """
    upgrade_database()
    data = read_export(path)
    summary = store_outcomes(data, path)
    alerts = raise_outcome_alerts(summary["contested"])
    return publish_outcomes_import(summary, alerts)
