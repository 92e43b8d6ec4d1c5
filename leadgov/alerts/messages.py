"""An alert as a Slack message (Block Kit plus a plain-text fallback), in the contract's language.

Every sentence lives in ``WORDING``, one dict per locale: the labels, then per alert type its title,
the name of its figure, a one-sentence summary, an optional details line and the next step.
Templates take ``{name}`` values that ``_values`` prepares already formatted for the locale
(rates "18,5 %" / "18.5%", dates "08/03/2027" / "8 Mar 2027") by ``leadgov.formatting``, which the
reports use too, so a figure reads the same in Slack and in a report. Only the facts a template names
are shown, so nothing else an alert carries ever reaches Slack. Values from data are escaped for
Slack mrkdwn (``&``, ``<``, ``>``); the templates themselves contain none of those characters.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter
from typing import SupportsFloat

from leadgov.alerts.types import Alert, AlertType
from leadgov.formatting import (  # noqa: F401  (re-exported: callers and tests import them from here)
    EN_MONTHS,
    FR_MONTHS,
    format_count,
    format_date,
    format_eur,
    format_month,
    format_rate,
    is_one,
)

#: How a type's figure and threshold read: a share, a count or an amount in EUR.
RATE, COUNT, EUR = "rate", "count", "eur"
UNITS: dict[AlertType, str] = {
    AlertType.REJECTION_SPIKE: RATE,
    AlertType.DUPLICATE_SURGE: RATE,
    AlertType.SLA_BREACH: RATE,
    AlertType.BILLING_FROZEN: EUR,
    AlertType.BUDGET_CAP_NEAR: EUR,
    AlertType.BUDGET_CAP_REACHED: EUR,
}
#: At most this many lead ids are listed in a message; the rest are counted.
MAX_LEAD_IDS = 20

#: locale -> part ("labels", "periods", "bounds" or an alert type, a ``str`` too) -> key -> sentence.
WORDING: dict[str, dict[str, dict[str, str]]] = {
    "fr": {
        "labels": {
            "supplier": "Fournisseur", "period": "Période", "threshold": "Seuil",
            "next": "Prochaine étape", "all_suppliers": "tous les fournisseurs", "more": "+{n} autres",
        },
        "periods": {"delivery": "livraison {id}", "week": "semaine {label}", "pilot": "pilote"},
        "incident": {
            "open": "Incident en cours : {occurrences} alertes, la dernière pour {period}{figure}.",
            "closed": "Incident clos : {period}, problème résolu.",
            "closed_title": "Résolu : {title}",
            "within": "{supplier}, {period} : {figure_name} de {figure}, dans la limite ({threshold}).",
            "within_plain": "{supplier}, {period} : de nouveau dans la limite du contrat.",
            "no_overdue": "{supplier} : aucun remplacement passé en retard depuis 7 jours.",
            "delivered": "{supplier} : une livraison est arrivée après le {period}.",
            "not_frozen": "{supplier} : plus aucun relevé gelé ({period}).",
            "no_review": "{supplier} : plus aucun lead en revue proche de son échéance.",
        },
        "bounds": {"threshold": "du seuil du contrat", "trend": "de la tendance des 4 dernières semaines"},
        AlertType.REJECTION_SPIKE: {
            "title": "Pic de rejets",
            "figure": "Taux de rejet",
            "summary": "{supplier}, {period} : taux de rejet de {figure}, au-dessus {bound} ({threshold}).",
            "details": "Principaux motifs : {top_reasons}",
            "next": "La fenêtre de contestation se ferme le {contest_window_closes} : "
                    "envoyer le rapport de retour au fournisseur.",
            "next_week": "Revoir avec le fournisseur les motifs de rejet de la semaine.",
        },
        AlertType.DUPLICATE_SURGE: {
            "title": "Hausse des doublons",
            "figure": "Taux de doublons",
            "summary": "{supplier}, {period} : taux de doublons de {figure}, "
                       "au-dessus du seuil de gel de la facturation ({threshold}).",
            "next": "Demander au fournisseur de dédoublonner avant livraison ; "
                    "au-delà de ce seuil sur le mois, le relevé est gelé.",
        },
        AlertType.GDPR_BREACH: {
            "title": "Incident RGPD",
            "figure": "Leads concernés",
            "summary": "{supplier}, {period} : {figure} leads sans consentement ou information "
                       "de la personne prouvés.",
            "summary_one": "{supplier}, {period} : {figure} lead sans consentement ou information "
                           "de la personne prouvés.",
            "next": "Ne plus appeler les leads concernés et prévenir le DPO.",
            "next_freeze": "Ne plus appeler les leads concernés et prévenir le DPO ; le relevé du mois sera gelé.",
        },
        AlertType.VOLUME_SHORTFALL: {
            "title": "Volume insuffisant",
            "figure": "Leads livrés",
            "summary": "{supplier}, {period} : {figure} leads livrés, sous le plancher de {threshold} "
                       "(80 % de l'objectif de {weekly_target}).",
            "summary_one": "{supplier}, {period} : {figure} lead livré, sous le plancher de {threshold} "
                           "(80 % de l'objectif de {weekly_target}).",
            "next": "Demander au fournisseur un plan de rattrapage pour la semaine suivante.",
        },
        AlertType.VOLUME_EXCESS: {
            "title": "Volume excédentaire",
            "figure": "Leads livrés",
            "summary": "{supplier}, {period} : {figure} leads livrés, au-dessus du maximum de {threshold}.",
            "next": "Les leads au-delà du maximum sont marqués OVER_WEEKLY_CAP et non facturés : "
                    "rappeler le plafond au fournisseur.",
        },
        AlertType.DELIVERY_MISSING: {
            "title": "Livraison manquante",
            "figure": "Livraisons",
            "summary": "{supplier} : aucune livraison le {expected_on}, jour de livraison prévu.",
            "next": "Demander au fournisseur si la livraison est en retard ou annulée.",
        },
        AlertType.REPLACEMENT_OVERDUE: {
            "title": "Remplacements en retard",
            "figure": "Réclamations",
            "summary": "{supplier} : {figure} remplacements non livrés à temps "
                       "(échéance {due_on}) : {lead_ids}.",
            "summary_one": "{supplier} : {figure} remplacement non livré à temps "
                           "(échéance {due_on}) : {lead_ids}.",
            "next": "Avoir sur le relevé de {credit_month} pour chaque lead qui avait été facturé.",
        },
        AlertType.SLA_BREACH: {
            "title": "SLA de premier contact manqué",
            "figure": "Appelés en {sla_hours} h",
            "summary": "Notre équipe, {period} : {figure} des leads acceptés (fournisseur {supplier}) "
                       "appelés en moins de {sla_hours} h (objectif {threshold}).",
            "next": "Point interne : revoir la capacité d'appel de l'équipe (pas un manquement du fournisseur).",
        },
        AlertType.BILLING_FROZEN: {
            "title": "Facturation gelée",
            "figure": "Montant dû",
            "summary": "{supplier} : le relevé de {period} (révision {revision}, {figure}) est gelé, non payable.",
            "details": "Motifs : {freeze_reasons}",
            "next": "Le comité examine les motifs et débloque le relevé avant tout paiement.",
        },
        AlertType.PILOT_VERDICT: {
            "title": "Verdict du pilote",
            "figure": "Verdict",
            "summary": "{supplier} : le pilote est terminé, verdict {verdict}.",
            "details": "Motifs : {reasons}",
            "next": "Le responsable du contrat enregistre sa décision (approuver, renégocier, résilier).",
            "report": "Rapport joint : {report_path} (HTML et PDF)",
        },
        AlertType.QUARTERLY_REVIEW: {
            "title": "Revue trimestrielle",
            "figure": "Fournisseurs",
            "summary": "Revue de gouvernance {period} publiée pour {suppliers} fournisseur(s).",
            "next": "Lire le rapport avant le comité.",
            "report": "Rapport joint : {report_path} (HTML et PDF)",
        },
        AlertType.VOLUME_CAP_NEAR: {
            "title": "Plafond hebdomadaire bientôt atteint",
            "figure": "Leads acceptés",
            "summary": "{supplier}, {period} : {figure} leads acceptés, 80 % du maximum hebdomadaire "
                       "de {weekly_max} atteints.",
            "next": "Prévenir le fournisseur : au-delà de {weekly_max} leads dans la semaine, les suivants "
                    "sont refusés (OVER_WEEKLY_CAP) et non facturés.",
        },
        AlertType.VOLUME_CAP_REACHED: {
            "title": "Plafond hebdomadaire atteint",
            "figure": "Leads acceptés",
            "summary": "{supplier}, {period} : {figure} leads acceptés, le maximum hebdomadaire "
                       "de {weekly_max} est atteint.",
            "next": "Les leads suivants de la semaine seront refusés (OVER_WEEKLY_CAP) et non facturés : "
                    "demander au fournisseur d'attendre lundi.",
        },
        AlertType.BUDGET_CAP_NEAR: {
            "title": "Budget mensuel bientôt atteint",
            "figure": "Facturable à ce jour",
            "summary": "{supplier}, {period} : {figure} facturables à ce jour, 80 % du plafond mensuel "
                       "de {budget_cap} atteints.",
            "next": "Le montant au-delà du plafond ne sera pas payé : prévenir le fournisseur "
                    "et le responsable du budget.",
        },
        AlertType.BUDGET_CAP_REACHED: {
            "title": "Budget mensuel atteint",
            "figure": "Facturable à ce jour",
            "summary": "{supplier}, {period} : {figure} facturables à ce jour, le plafond mensuel "
                       "de {budget_cap} est atteint.",
            "next": "Tout lead facturable de plus ce mois-ci dépasse le plafond et ne sera pas payé : "
                    "demander au fournisseur de suspendre les livraisons jusqu'au mois prochain.",
        },
        AlertType.CONTRACT_RENEWAL: {
            "title": "Échéance du contrat",
            "figure": "Préavis",
            "summary": "{supplier} : le contrat se termine le {period_end} ; dernier jour pour donner "
                       "le préavis de {notice_days} jours : {notice_deadline}.",
            "details": "{renewal}",
            "renews": "Sans préavis, le contrat se renouvelle de lui-même.",
            "ends": "Le contrat ne se renouvelle pas de lui-même : sans nouveau contrat, il prend fin.",
            "next": "Décider avant le {notice_deadline} : renouveler, renégocier ou donner le préavis.",
        },
        AlertType.REVIEW_WAITING: {
            "title": "Leads en attente de revue",
            "figure": "Leads en revue",
            "summary": "{supplier} : {figure} leads en revue, le plus ancien à décider "
                       "au plus tard le {oldest_due}.",
            "summary_one": "{supplier} : {figure} lead en revue, à décider au plus tard le {oldest_due}.",
            "next": "Accepter ou rejeter ces leads (leadgov review) : passé ce délai, "
                    "la vérification quotidienne les rejette.",
        },
    },
    "en": {
        "labels": {
            "supplier": "Supplier", "period": "Period", "threshold": "Threshold",
            "next": "Next step", "all_suppliers": "all suppliers", "more": "+{n} more",
        },
        "periods": {"delivery": "delivery {id}", "week": "week {label}", "pilot": "pilot"},
        "incident": {
            "open": "Ongoing incident: {occurrences} alerts, the latest for {period}{figure}.",
            "closed": "Incident closed: {period}, problem resolved.",
            "closed_title": "Resolved: {title}",
            "within": "{supplier}, {period}: {figure_name} {figure}, within the limit ({threshold}).",
            "within_plain": "{supplier}, {period}: back within the contract's limit.",
            "no_overdue": "{supplier}: no replacement has gone overdue for 7 days.",
            "delivered": "{supplier}: a delivery arrived after {period}.",
            "not_frozen": "{supplier}: no frozen statement left ({period}).",
            "no_review": "{supplier}: no lead in review close to its deadline any more.",
        },
        "bounds": {"threshold": "the contract's limit", "trend": "the trailing 4-week trend"},
        AlertType.REJECTION_SPIKE: {
            "title": "Rejection spike",
            "figure": "Reject rate",
            "summary": "{supplier}: reject rate {figure} for {period}, above {bound} ({threshold}).",
            "details": "Top reasons: {top_reasons}",
            "next": "The contest window closes on {contest_window_closes}: send the return report to the supplier.",
            "next_week": "Review the week's rejection reasons with the supplier.",
        },
        AlertType.DUPLICATE_SURGE: {
            "title": "Duplicate surge",
            "figure": "Duplicate rate",
            "summary": "{supplier}: duplicate rate {figure} for {period}, "
                       "above the billing freeze limit ({threshold}).",
            "next": "Ask the supplier to deduplicate before delivering; "
                    "above this limit over the month, the statement is frozen.",
        },
        AlertType.GDPR_BREACH: {
            "title": "GDPR breach",
            "figure": "Leads concerned",
            "summary": "{supplier}: {figure} leads without proven consent or notice to the person for {period}.",
            "summary_one": "{supplier}: {figure} lead without proven consent or notice to the person for {period}.",
            "next": "Stop calling the leads concerned and inform the DPO.",
            "next_freeze": "Stop calling the leads concerned and inform the DPO; the month's statement will be frozen.",
        },
        AlertType.VOLUME_SHORTFALL: {
            "title": "Volume shortfall",
            "figure": "Leads delivered",
            "summary": "{supplier}: {figure} leads delivered in {period}, below the floor of {threshold} "
                       "(80% of the {weekly_target} target).",
            "summary_one": "{supplier}: {figure} lead delivered in {period}, below the floor of {threshold} "
                           "(80% of the {weekly_target} target).",
            "next": "Ask the supplier for a catch-up plan for next week.",
        },
        AlertType.VOLUME_EXCESS: {
            "title": "Volume excess",
            "figure": "Leads delivered",
            "summary": "{supplier}: {figure} leads delivered in {period}, above the maximum of {threshold}.",
            "next": "Leads beyond the maximum are flagged OVER_WEEKLY_CAP and not billed: "
                    "remind the supplier of the cap.",
        },
        AlertType.DELIVERY_MISSING: {
            "title": "Missing delivery",
            "figure": "Deliveries",
            "summary": "{supplier}: no delivery on {expected_on}, an expected delivery day.",
            "next": "Ask the supplier whether the delivery is late or cancelled.",
        },
        AlertType.REPLACEMENT_OVERDUE: {
            "title": "Replacements overdue",
            "figure": "Claims",
            "summary": "{supplier}: {figure} replacements not delivered in time (due {due_on}): {lead_ids}.",
            "summary_one": "{supplier}: {figure} replacement not delivered in time (due {due_on}): {lead_ids}.",
            "next": "Credit note on the {credit_month} statement for each of these leads that was billed.",
        },
        AlertType.SLA_BREACH: {
            "title": "First-contact SLA missed",
            "figure": "Called within {sla_hours} h",
            "summary": "Our team called {figure} of {supplier}'s accepted leads within {sla_hours} h "
                       "in {period} (target {threshold}).",
            "next": "Internal: review the team's calling capacity (not a supplier failure).",
        },
        AlertType.BILLING_FROZEN: {
            "title": "Billing frozen",
            "figure": "Amount due",
            "summary": "{supplier}: the {period} statement (revision {revision}, {figure}) is frozen, not payable.",
            "details": "Reasons: {freeze_reasons}",
            "next": "The committee reviews the reasons and releases the statement before any payment.",
        },
        AlertType.PILOT_VERDICT: {
            "title": "Pilot verdict",
            "figure": "Verdict",
            "summary": "{supplier}: the pilot has ended, verdict {verdict}.",
            "details": "Reasons: {reasons}",
            "next": "The contract owner records a decision (approve, renegotiate, terminate).",
            "report": "Report attached: {report_path} (HTML and PDF)",
        },
        AlertType.QUARTERLY_REVIEW: {
            "title": "Quarterly review",
            "figure": "Suppliers",
            "summary": "Governance review {period} published for {suppliers} supplier(s).",
            "next": "Read the report before the committee.",
            "report": "Report attached: {report_path} (HTML and PDF)",
        },
        AlertType.VOLUME_CAP_NEAR: {
            "title": "Weekly cap nearly reached",
            "figure": "Accepted leads",
            "summary": "{supplier}: {figure} accepted leads in {period}, 80% of the weekly maximum "
                       "of {weekly_max}.",
            "next": "Warn the supplier: beyond {weekly_max} leads in the week, the next ones are refused "
                    "(OVER_WEEKLY_CAP) and not billed.",
        },
        AlertType.VOLUME_CAP_REACHED: {
            "title": "Weekly cap reached",
            "figure": "Accepted leads",
            "summary": "{supplier}: {figure} accepted leads in {period}, the weekly maximum of {weekly_max} "
                       "is reached.",
            "next": "The week's next leads will be refused (OVER_WEEKLY_CAP) and not billed: "
                    "ask the supplier to wait until Monday.",
        },
        AlertType.BUDGET_CAP_NEAR: {
            "title": "Monthly budget nearly reached",
            "figure": "Billable so far",
            "summary": "{supplier}: {figure} billable so far in {period}, 80% of the monthly cap "
                       "of {budget_cap}.",
            "next": "The amount above the cap will not be paid: warn the supplier and the budget owner.",
        },
        AlertType.BUDGET_CAP_REACHED: {
            "title": "Monthly budget reached",
            "figure": "Billable so far",
            "summary": "{supplier}: {figure} billable so far in {period}, the monthly cap of {budget_cap} "
                       "is reached.",
            "next": "Any further billable lead this month is above the cap and will not be paid: "
                    "ask the supplier to pause deliveries until next month.",
        },
        AlertType.CONTRACT_RENEWAL: {
            "title": "Contract end approaching",
            "figure": "Notice",
            "summary": "{supplier}: the contract ends on {period_end}; the last day to give the "
                       "{notice_days}-day notice is {notice_deadline}.",
            "details": "{renewal}",
            "renews": "Without notice, the contract renews by itself.",
            "ends": "The contract does not renew by itself: without a new contract, it ends.",
            "next": "Decide before {notice_deadline}: renew, renegotiate or give notice.",
        },
        AlertType.REVIEW_WAITING: {
            "title": "Leads waiting for review",
            "figure": "Leads in review",
            "summary": "{supplier}: {figure} leads in review, the oldest to be decided by {oldest_due}.",
            "summary_one": "{supplier}: {figure} lead in review, to be decided by {oldest_due}.",
            "next": "Accept or reject these leads (leadgov review): after that day, the daily check "
                    "rejects them.",
        },
    },
}


@dataclass(frozen=True)
class Message:
    """What to post: ``text`` is the notification and fallback, ``blocks`` the Block Kit layout."""

    text: str
    blocks: list[dict[str, object]]


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only ``&``, ``<`` and ``>`` (``&`` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- periods (numbers and dates: leadgov.formatting) -------------------------------------------

def format_period(label: str, locale: str) -> str:
    """A period label for reading: deliveries, weeks and days in words; others as they are."""
    words = WORDING[locale]["periods"]
    kind, _, rest = label.partition(":")
    try:
        if kind == "delivery" and rest:
            return words["delivery"].format(id=rest)
        if kind in ("day", "overdue", "renewal") and rest:
            return format_date(rest, locale)
        if kind == "pilot":
            return words["pilot"]
        if len(label) == 8 and label[4:6] == "-W":
            return words["week"].format(label=label)
        if len(label) == 7 and label[4] == "-" and label[5:].isdigit():
            return format_month(label, locale)
    except ValueError:
        pass
    return label


def _value(value: float, unit: str, locale: str) -> str:
    if unit == RATE:
        return format_rate(value, locale)
    if unit == EUR:
        return format_eur(value, locale)
    return format_count(value, locale)


# --- message -----------------------------------------------------------------------------------

def _number(value: object) -> SupportsFloat | None:
    """A numeric fact (the rules put numbers there; the outbox gives them back from JSON)."""
    if value is None or isinstance(value, SupportsFloat):
        return value
    raise TypeError(f"a number was expected, got {type(value).__name__}")


def _listed(value: object) -> list[object]:
    """A list fact; absent or empty reads as no item."""
    if not value:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise TypeError(f"a list was expected, got {type(value).__name__}")


def _reason_count(row: object) -> str:
    """One of a spike's top reasons: "CODE (count)"."""
    if not isinstance(row, Mapping):
        raise TypeError(f"a reason count was expected, got {type(row).__name__}")
    return f"{row['code']} ({row['count']})"


def _lead_ids(ids: list[object], locale: str) -> str:
    shown = ", ".join(str(i) for i in ids[:MAX_LEAD_IDS])
    more = len(ids) - MAX_LEAD_IDS
    return shown if more <= 0 else f"{shown} ({WORDING[locale]['labels']['more'].format(n=more)})"


def _values(alert: Alert, locale: str) -> dict[str, str]:
    """Every value a template of ``alert``'s type may name, formatted and escaped."""
    words = WORDING[locale]
    facts: Mapping[str, object] = alert.facts
    unit = UNITS.get(alert.type, COUNT)
    values = {
        "supplier": alert.supplier_name or words["labels"]["all_suppliers"],
        "period": format_period(alert.period, locale),
        "figure": "" if alert.figure is None else _value(alert.figure, unit, locale),
        "threshold": "" if alert.threshold is None else _value(alert.threshold, unit, locale),
    }
    if alert.type == AlertType.REJECTION_SPIKE:
        values["bound"] = words["bounds"][str(facts.get("rule", "threshold"))]
        values["top_reasons"] = ", ".join(_reason_count(r) for r in _listed(facts.get("top_reasons")))
        if facts.get("contest_window_closes"):
            values["contest_window_closes"] = format_date(str(facts["contest_window_closes"]), locale)
    elif alert.type == AlertType.VOLUME_SHORTFALL:
        values["weekly_target"] = format_count(_number(facts.get("weekly_target", 0)), locale)
    elif alert.type == AlertType.DELIVERY_MISSING:
        values["expected_on"] = format_date(str(facts.get("expected_on") or alert.period.partition(":")[2]), locale)
    elif alert.type == AlertType.REPLACEMENT_OVERDUE:
        values["lead_ids"] = _lead_ids(_listed(facts.get("lead_ids")), locale)
        values["due_on"] = ", ".join(format_date(str(d), locale) for d in _listed(facts.get("due_on")))
        values["credit_month"] = format_month(str(facts["credit_month"]), locale) if facts.get("credit_month") else ""
    elif alert.type == AlertType.SLA_BREACH:
        values["sla_hours"] = format_count(_number(facts.get("sla_hours", 0)), locale)
    elif alert.type == AlertType.BILLING_FROZEN:
        values["revision"] = str(facts.get("revision", ""))
        values["freeze_reasons"] = "; ".join(str(r) for r in _listed(facts.get("freeze_reasons")))
    elif alert.type == AlertType.PILOT_VERDICT:
        values["verdict"] = str(facts.get("verdict", ""))
        values["figure"] = values["verdict"]
        values["reasons"] = "; ".join(str(r) for r in _listed(facts.get("reasons")))
    elif alert.type in (AlertType.VOLUME_CAP_NEAR, AlertType.VOLUME_CAP_REACHED):
        values["weekly_max"] = format_count(_number(facts.get("weekly_max", 0)), locale)
    elif alert.type in (AlertType.BUDGET_CAP_NEAR, AlertType.BUDGET_CAP_REACHED):
        values["budget_cap"] = format_eur(_number(facts.get("budget_cap_eur", 0)), locale)
    elif alert.type == AlertType.CONTRACT_RENEWAL:
        values["period_end"] = format_date(str(facts["period_end"]), locale)
        values["notice_deadline"] = format_date(str(facts["notice_deadline"]), locale)
        values["notice_days"] = format_count(_number(facts.get("notice_days", 0)), locale)
        values["renewal"] = words[alert.type]["renews" if facts.get("auto_renew") else "ends"]
    elif alert.type == AlertType.REVIEW_WAITING:
        values["oldest_due"] = format_date(str(facts["oldest_due"]), locale)
    elif alert.type == AlertType.QUARTERLY_REVIEW:
        values["suppliers"] = format_count(_number(facts.get("suppliers", 0)), locale)
        values["figure"] = values["suppliers"]
    if facts.get("report_path"):
        values["report_path"] = str(facts["report_path"])
    return {name: escape(value) for name, value in values.items()}


def _next_step(alert: Alert, wording: dict[str, str], values: dict[str, str]) -> str:
    """The type's next step, in the variant its facts call for, plus the report when there is one."""
    key = "next"
    if alert.type == AlertType.REJECTION_SPIKE and "contest_window_closes" not in values:
        key = "next_week"
    elif alert.type == AlertType.GDPR_BREACH and alert.facts.get("freezes_statement"):
        key = "next_freeze"
    step = wording[key].format_map(values)
    if "report" in wording and "report_path" in values:
        step = f"{step} {wording['report'].format_map(values)}"
    return step


def _names(template: str) -> list[str]:
    """The ``{names}`` a template uses."""
    return [name for _, name, _, _ in Formatter().parse(template) if name]


def _summary(alert: Alert, wording: dict[str, str], locale: str) -> str:
    """The alert's summary; its singular form (``summary_one``, for an alert whose figure counts leads or
    claims) when the figure takes the singular (``formatting.is_one``: 0 and 1 in French, 1 in English)."""
    if "summary_one" in wording and alert.figure is not None and is_one(round(alert.figure), locale):
        return wording["summary_one"]
    return wording["summary"]


def render(alert: Alert) -> Message:
    """The Slack message of ``alert`` in ``alert.locale``."""
    locale = alert.locale if alert.locale in WORDING else "en"
    words = WORDING[locale]
    labels, wording = words["labels"], words[alert.type]
    values = _values(alert, locale)
    summary = _summary(alert, wording, locale).format_map(values)
    next_step = _next_step(alert, wording, values)
    fields = [(labels["supplier"], values["supplier"]), (labels["period"], values["period"])]
    if values["figure"]:
        fields.append((wording["figure"].format_map(values), values["figure"]))
    if values["threshold"]:
        fields.append((labels["threshold"], values["threshold"]))
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": wording["title"], "emoji": False}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
    ]
    if "details" in wording and all(values.get(name) for name in _names(wording["details"])):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": wording["details"].format_map(values)}})
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{labels['next']}* : {next_step}"
                                     if locale == "fr" else f"*{labels['next']}:* {next_step}"}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"`{alert.type.value}` · `{escape(alert.key)}`"}]},
    ]
    return Message(text=f"{summary} {next_step}", blocks=blocks)


# --- incidents ---------------------------------------------------------------------------------

def _figure(kind: AlertType, value: float | None, locale: str) -> str:
    return "" if value is None else _value(value, UNITS.get(kind, COUNT), locale)


def render_head(opener: Message, kind: AlertType, *, locale: str, occurrences: int, latest_period: str,
                latest_figure: float | None, cleared_period: str | None) -> Message:
    """An incident's first message refreshed: the opening alert as posted, plus a line saying how
    the incident stands (its alerts so far and the latest figure, or that it is closed)."""
    locale = locale if locale in WORDING else "en"
    words = WORDING[locale]["incident"]
    if cleared_period is not None:
        status = words["closed"].format(period=escape(format_period(cleared_period, locale)))
    else:
        figure = _figure(kind, latest_figure, locale)
        status = words["open"].format(occurrences=occurrences,
                                      period=escape(format_period(latest_period, locale)),
                                      figure=f" ({escape(figure)})" if figure else "")
    blocks: list[dict[str, object]] = [*opener.blocks,
                                       {"type": "context", "elements": [{"type": "mrkdwn", "text": status}]}]
    return Message(text=f"{status} {opener.text}", blocks=blocks)


def render_closing(kind: AlertType, *, locale: str, supplier: str, period: str, reason: str,
                   figure: float | None, threshold: float | None) -> Message:
    """The last reply of an incident: what check found the problem gone, with its figure."""
    locale = locale if locale in WORDING else "en"
    words, wording = WORDING[locale]["incident"], WORDING[locale][kind]
    values = {"supplier": escape(supplier), "period": escape(format_period(period, locale)),
              "figure": escape(_figure(kind, figure, locale)), "threshold": escape(_figure(kind, threshold, locale)),
              "figure_name": wording["figure"].lower()}
    if reason == "within" and (not values["figure"] or not values["threshold"] or "{" in values["figure_name"]):
        reason = "within_plain"
    summary = words[reason].format_map(values)
    title = words["closed_title"].format(title=wording["title"])
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"`{kind.value}` · {values['period']}"}]},
    ]
    return Message(text=f"{title}. {summary}", blocks=blocks)
