"""Write the return report of a stored delivery: the job behind ``leadgov report returns`` (and the demo's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leadgov.reports.returns import write_returns_report
from leadgov.returns import DeliveryReturns, load_returns
from leadgov.services.runtime import Runtime


@dataclass(frozen=True)
class ReturnsReportRequest:
    """A stored delivery's id; ``out_dir`` default ``<output_dir>/reports``."""

    delivery_id: int
    out_dir: Path | None = None


@dataclass(frozen=True)
class ReturnsReport:
    returns: DeliveryReturns
    path: Path


def returns_report(runtime: Runtime, request: ReturnsReportRequest) -> ReturnsReport:
    """Load the delivery's returns (``LookupError`` when there is no such delivery) and write the
    report, in the contract's locale."""
    with runtime.sessions() as session:
        returns = load_returns(session, request.delivery_id)
    out_dir = request.out_dir or runtime.settings.output_dir / "reports"
    return ReturnsReport(returns, write_returns_report(returns, out_dir, generated_on=runtime.clock.today()))
