"""The delivery return report: for the supplier, what was rejected and why, and by when to act.

Renders a ``leadgov.returns.DeliveryReturns`` read by the returns service, in the contract's locale:
no session, no figure computed here.
"""

from datetime import date
from pathlib import Path

from leadgov.reports.render import render, write
from leadgov.returns import DeliveryReturns


def render_returns(returns: DeliveryReturns, *, generated_on: date) -> str:
    return render("returns.html.j2", returns.locale, generated_on=generated_on, r=returns,
                  supplier=returns.supplier_name, contract=returns.contract_id)


def write_returns_report(returns: DeliveryReturns, out_dir: Path, *, generated_on: date) -> Path:
    """Write ``returns-delivery-<id>.html`` in ``out_dir``; its path."""
    return write(render_returns(returns, generated_on=generated_on),
                 out_dir / f"returns-delivery-{returns.delivery_id}.html")
