"""The short message that goes with a report to the committee (Slack comment, e-mail body): the
headline figures and the recommendations, in the report's language. Renders ready dataclasses only.
"""

from leadgov import formatting
from leadgov.alerts.messages import WORDING
from leadgov.alerts.types import AlertType
from leadgov.pilot_cohort import PilotAssessment
from leadgov.reports.i18n import LABELS, verdict_reason
from leadgov.review import QuarterlyReview

WORDS = {
    "fr": {
        "review": "*Revue trimestrielle {quarter}* : {count} fournisseur(s), rapport joint (HTML et PDF).",
        "review_line": "• {supplier} : *{action}* · livrés {delivered} · taux de rejet {reject} (seuil {limit}) "
                       "· facturé {billed}",
        "clauses": " · clauses à renégocier : {clauses}",
        "pilot": "*Pilote {supplier}* : verdict *{verdict}* sur {delivered} leads, rapport joint (HTML et PDF).",
        "pilot_reasons": "Motifs : {reasons}",
    },
    "en": {
        "review": "*Quarterly review {quarter}*: {count} supplier(s), report attached (HTML and PDF).",
        "review_line": "• {supplier}: *{action}* · delivered {delivered} · reject rate {reject} (threshold {limit}) "
                       "· billed {billed}",
        "clauses": " · clauses to renegotiate: {clauses}",
        "pilot": "*Pilot {supplier}*: verdict *{verdict}* on {delivered} leads, report attached (HTML and PDF).",
        "pilot_reasons": "Reasons: {reasons}",
    },
}


def review_message(review: QuarterlyReview, locale: str) -> str:
    words, labels = WORDS[locale], LABELS[locale]
    lines = [words["review"].format(quarter=review.quarter.label, count=len(review.suppliers))]
    for s in review.suppliers:
        line = words["review_line"].format(
            supplier=s.name, action=labels[s.recommendation.action].lower(),
            delivered=formatting.format_number(s.kpis.delivered, locale),
            reject=formatting.format_rate(s.kpis.reject_rate, locale),
            limit=formatting.format_rate(s.contract.quality.max_reject_rate, locale),
            billed=formatting.format_money(s.amounts.billed, locale))
        if s.recommendation.clauses:
            line += words["clauses"].format(clauses=", ".join(labels[f"clause_{c}"] for c in s.recommendation.clauses))
        lines.append(line)
    return "\n".join(lines)


def pilot_message(assessment: PilotAssessment) -> str:
    words = WORDS[assessment.locale]
    lines = [words["pilot"].format(supplier=assessment.supplier_name, verdict=assessment.verdict.verdict,
                                   delivered=formatting.format_number(assessment.kpis.delivered, assessment.locale))]
    if assessment.verdict.reasons:
        lines.append(words["pilot_reasons"].format(reasons="; ".join(
            verdict_reason(r, assessment.locale) for r in assessment.verdict.reasons)))
    lines.append(WORDING[assessment.locale][AlertType.PILOT_VERDICT]["next"])  # as the PILOT_VERDICT alert says
    return "\n".join(lines)


def review_title(review: QuarterlyReview, locale: str) -> str:
    """The report's title (the e-mail's subject)."""
    return LABELS[locale]["review_title"].format(quarter=review.quarter.label)


def pilot_title(assessment: PilotAssessment) -> str:
    return LABELS[assessment.locale]["pilot_title"].format(supplier=assessment.supplier_name)
