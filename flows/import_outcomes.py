"""Flow: import one outcome export from the CRM or the phoning tool, exactly as ``leadgov outcomes
import`` does (the same service), each step shown as its task: read, store, alerts."""

from pathlib import Path
from typing import Annotated

from prefect import flow
from pydantic import Field

from leadgov.services.outcomes import OutcomesImportRequest, OutcomesImportResult
from leadgov.services.outcomes import import_outcomes as import_outcomes_job
from leadgov.tasks.common import as_tasks, open_runtime
from leadgov.tasks.outcomes import publish_outcomes_import


@flow(name="import_outcomes", flow_run_name="import outcomes {path}", log_prints=False)
def import_outcomes(
    path: Annotated[str, Field(min_length=1, description="The outcome export (CSV with lead_id, supplier_id, "
                                                         "event, at, ...).")],
) -> OutcomesImportResult:
    """Import outcome events (each stored once; refused rows listed by line), then their alerts.

    Args:
        path: The outcome export (CSV with lead_id, supplier_id, event, at, ...).
    """
    result = import_outcomes_job(open_runtime(), OutcomesImportRequest(Path(path)), steps=as_tasks)
    publish_outcomes_import(result)
    return result
