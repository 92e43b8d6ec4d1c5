"""The pilot report: the cohort's figures with 95 % confidence intervals, the verdict and its
reasons, the top rejection reasons, the recurring objections and the clauses to renegotiate.

Renders a ``leadgov.pilot_cohort.PilotAssessment`` (figures and verdict computed by the domain) in
the contract's locale: no session, no verdict decided here.
"""

from datetime import date
from pathlib import Path

from leadgov.pilot_cohort import PilotAssessment
from leadgov.reports.render import render, write_with_pdf


def render_pilot(assessment: PilotAssessment, *, generated_on: date) -> str:
    return render("pilot.html.j2", assessment.locale, generated_on=generated_on,
                  supplier=assessment.supplier_name, contract=assessment.contract_id, kpis=assessment.kpis,
                  verdict=assessment.verdict, first=assessment.first, last=assessment.last)


def write_pilot_report(assessment: PilotAssessment, out_dir: Path, *, generated_on: date) -> Path:
    """Write ``pilot-<supplier>-<pilot id>.html`` and its PDF in ``out_dir`` (each pilot of a supplier
    has its own report); the HTML's path."""
    return write_with_pdf(render_pilot(assessment, generated_on=generated_on),
                          out_dir / report_name(assessment.supplier_id, assessment.pilot_id))


def report_name(supplier_id: str, pilot_id: int) -> str:
    """The file name of a pilot's report."""
    return f"pilot-{supplier_id}-{pilot_id}.html"
