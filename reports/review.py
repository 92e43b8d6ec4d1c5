"""The quarterly governance review as a report: every supplier side by side, week-by-week charts,
the recommendation with the figures that justify it, and the decision log.

Renders a ``leadgov.review.QuarterlyReview`` built by the domain (KPIs, amounts, recommendation,
chart inputs): this module only turns its numbers into HTML and SVG, in the settings' locale.
"""

from datetime import date
from pathlib import Path

from leadgov.formatting import format_rate
from leadgov.reports import charts
from leadgov.reports.i18n import LABELS
from leadgov.reports.render import render, write_with_pdf
from leadgov.review import QuarterlyReview, SupplierReview


def supplier_charts(supplier: SupplierReview, locale: str) -> dict[str, str]:
    """The supplier's charts (SVG): weekly reject rate, weekly volume, the mature weeks' funnel, and the
    quarter's rejected leads by reason."""
    labels = LABELS[locale]
    inputs = supplier.charts
    return {
        "reject": charts.line_chart(
            list(inputs.reject_rates), title=labels["chart_reject"], y_label=labels["reject_rate"], locale=locale,
            percent=True, threshold=inputs.max_reject_rate,
            threshold_label=labels["threshold_line"].format(value=format_rate(inputs.max_reject_rate, locale))),
        "volume": charts.bar_chart(
            list(inputs.delivered), title=labels["chart_volume"], y_label=labels["leads_unit"], locale=locale,
            target=inputs.weekly_target, target_label=labels["target"], band=inputs.volume_band,
            band_label=labels["band"]),
        "funnel": charts.funnel_chart(
            [(labels[stage], count) for stage, count in inputs.funnel], title=labels["chart_funnel"], locale=locale),
        "reasons": charts.breakdown_chart(supplier.rejections, title=labels["chart_reasons"], locale=locale,
                                          legend=labels["leads_unit"]),
    }


def render_review(review: QuarterlyReview, locale: str, *, generated_on: date) -> str:
    return render("review.html.j2", locale, generated_on=generated_on, quarter=review.quarter, as_of=review.as_of,
                  maturity_days=review.maturity_days, young_weeks=list(review.young_weeks),
                  suppliers=review.suppliers,
                  charts={s.supplier_id: supplier_charts(s, locale) for s in review.suppliers})


def write_review_report(review: QuarterlyReview, locale: str, out_dir: Path, *, generated_on: date) -> Path:
    """Write ``review-<quarter>.html`` and its PDF in ``out_dir``; the HTML's path."""
    return write_with_pdf(render_review(review, locale, generated_on=generated_on),
                 out_dir / f"review-{review.quarter.label}.html")
