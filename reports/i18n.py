"""Every sentence and label of the reports, per locale, in one place."""

from leadgov.formatting import Plural

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "generated_by": "Généré par leadgov le {day}. Les chiffres viennent de la base leadgov ; les règles sont "
                        "dans docs/governance-rules.md.",
        # returns
        "returns_title": "Rapport de retour : {supplier}, livraison du {day}",
        "returns_subtitle": "Fichier {file} · contrat {contract} · livraison n° {delivery}",
        "delivered": "Livrés", "accepted": "Acceptés", "rejected": "Rejetés", "over_cap": "Au-delà du plafond hebdo",
        "deadlines": "Échéances",
        "contest_window_closes": "Fin de la fenêtre de contestation : {day}",
        "replacement_due": "Remplacements dus au plus tard le {day} (leads rejetés : {count})",
        "rejections_by_reason": "Rejets par motif",
        "reason": "Motif", "leads": "Leads", "share": "Part", "explanation": "Explication",
        "rejected_leads": "Leads rejetés",
        "returns_in_review": "En revue",
        "review_leads": "Leads en revue : l'acheteur les accepte ou les rejette au plus tard le {day}",
        "row": "Ligne", "lead_id": "Réf. lead", "reasons": "Motifs", "detail": "Détail",
        "no_rejection": "Aucun lead rejeté dans cette livraison.",
        # statement
        "statement_title": "Relevé de facturation : {supplier}, {month}",
        "statement_subtitle": "Révision {revision} · modèle {model} · contrat {contract}",
        "line": "Ligne", "amount": "Montant",
        "units_line": "{units} unités × {price}", "fixed_fee": "Forfait mensuel", "gross": "Brut",
        "cap_excess": "Au-delà du plafond budgétaire ({cap}) : non facturé", "credits": "Avoirs ({count})",
        "amount_due": "Montant dû", "frozen": "GELÉ : non payable tant que le comité ne l'a pas libéré",
        "payable": "Payable", "released_statement": "Libéré par {by} le {day} (payable) : {comment}",
        "billed_units": "Unités facturées", "credit_lines": "Avoirs (remplacements en retard)",
        "claim": "Réclamation", "none": "Aucun.",
        "pilot_holds": "Leads retenus par le pilote (PILOT_HOLD)",
        # pilot
        "pilot_title": "Rapport de pilote : {supplier}",
        "verdict": "Verdict", "threshold": "Seuil", "measured": "Mesuré", "ci": "IC 95 %", "held": "Tenu",
        "yes": "oui", "no": "non", "missed_thresholds": "Seuils manqués", "top_reasons": "Principaux motifs de rejet",
        "objections": "Objections récurrentes", "clauses": "Clauses à renégocier",
        "verdict_note": "Le verdict est une recommandation ; la décision appartient au responsable du contrat.",
        "decision": "Décision enregistrée", "no_decision": "Aucune décision enregistrée.",
        # review
        "review_title": "Revue trimestrielle des fournisseurs de leads : {quarter}",
        "side_by_side": "Vue d'ensemble", "supplier": "Fournisseur", "volume_vs_contract": "Volume vs contrat",
        "reject_rate": "Taux de rejet", "duplicate_rate": "Doublons", "gdpr_incidents": "Incidents RGPD",
        "replacement_fill_rate": "Remplacements à temps", "first_contact_sla": "SLA premier appel",
        "reachability": "Joignabilité", "funnel": "Entonnoir",
        "reached": "Joints", "appointment": "RDV", "opportunity": "Opportunités", "won": "Gagnés",
        "billed": "Facturé", "frozen_amount": "Gelé", "credited": "Avoirs",
        "cost_per_accepted": "Coût / lead accepté", "cost_per_appointment": "Coût / RDV",
        "cost_per_opportunity": "Coût / opportunité", "cost_per_won": "Coût / affaire gagnée",
        "recommendation": "Recommandation", "renew": "Renouveler", "renegotiate": "Renégocier",
        "progressive_exit": "Sortie progressive", "because": "Parce que",
        "weekly_trends": "Tendances hebdomadaires", "maturity": "Maturité des cohortes",
        "maturity_note": "La conversion d'une semaine n'est jugée qu'une fois ses leads livrés depuis {days} jours : "
                         "les semaines non mûres ({weeks}) sont exclues des taux de conversion.",
        "all_mature": "Toutes les semaines du trimestre sont mûres.",
        "decision_log": "Journal des décisions", "date": "Date", "event": "Événement",
        "chart_reject": "Taux de rejet par semaine", "chart_volume": "Volume livré par semaine",
        "chart_funnel": "Entonnoir de conversion", "threshold_line": "seuil {value}", "target": "objectif",
        "band": "mini–maxi", "week": "Semaine", "leads_unit": "leads",
        "frozen_statement": "Relevé {month} gelé", "contest": "Contestation {reason} ({lead})",
        "pilot_decision": "Décision de pilote : {decision}",
        "statement_released": "Relevé {month} libéré par {who} (révision {revision})",
        "statement_recomputed": "Relevé {month} recalculé par {who} (révision {revision})",
        "amount_changed": "montant dû modifié", "amount_unchanged": "montant dû inchangé",
        "by_whom": "par {who}", "recorded_by": "Par", "unknown_who": "inconnu",
        "previous_reject_rate": "Taux de rejet du trimestre précédent", "volume": "Volume livré",
        "frozen_months": "Mois gelés", "threshold_short": "seuil",
        "outcome_ok": "tenu", "outcome_n/a": "sans donnée", "outcome_renegotiate": "à renégocier",
        "outcome_progressive_exit": "motif de sortie",
        "clause_criteria": "critères de qualification", "clause_volume": "volumes",
        "clause_replacement_share": "part de remplacement", "clause_billing_model": "modèle de facturation",
        "clause_gdpr": "conformité RGPD", "clause_dedup": "dédoublonnage",
        "appointment_rate": "Taux de RDV", "first_contact_sla_share": "SLA premier appel (notre équipe)",
        "data_error_rate": "Erreurs de données", "reasons_by_code": "Rejets par motif",
        "chart_reasons": "Leads rejetés par motif", "no_rejection_quarter": "Aucun lead rejeté ce trimestre.",
        "decisions": "Décisions", "contests_by_reason": "Contestations, par motif", "count": "Nombre",
        "first_last": "Du … au", "frozen_months_title": "Mois gelés",
        "termination": "Résiliation du contrat (décision de pilote)",
        "contract_version": "Nouvelle version du contrat {contract}{supersedes}",
        "supersedes": ", remplace {previous}",
        "freeze_DUPLICATE_RATE": "taux de doublons au-dessus du seuil de gel",
        "freeze_DATA_ERROR_RATE": "taux d'erreurs de données au-dessus du seuil de gel",
        "freeze_GDPR_BREACH": "incident RGPD (lead sans consentement ou information prouvés)",
        "decision_approve": "approuver", "decision_renegotiate": "renégocier", "decision_terminate": "résilier",
        "no_reason": "sans motif", "colon": " : ", "list_sep": " ; ",
        "contest_WRONG_NUMBER": "numéro erroné", "contest_UNREACHABLE": "injoignable",
        "contest_WRONG_PERSON": "mauvais interlocuteur", "contest_OUT_OF_TARGET_ON_CALL": "hors cible à l'appel",
        "contest_FAKE_LEAD": "faux lead", "contest_NO_CONSENT_ON_CALL": "consentement démenti à l'appel",
        # pilot verdict reasons, in words
        "vr_stop_reject_rate": "{name} de {measured}, au-dessus de deux fois le seuil de {threshold} ({limit}) : arrêt",
        "vr_stop_gdpr_incidents": "{measured} incident(s) RGPD, aucun n'est admis : arrêt",
        "vr_max": "{name} de {measured}, au-dessus du seuil de {threshold}",
        "vr_min": "{name} de {measured}, sous le seuil de {threshold}",
        "vr_ci": " (intervalle de confiance à 95 % : {low} à {high})",
        "vr_no_data": "{name} : aucune donnée (0 sur 0), seuil {threshold}",
        "vr_counts": " ({numerator} sur {denominator} dus, remplacés à temps)",
    },
    "en": {
        "generated_by": "Generated by leadgov on {day}. Figures come from the leadgov database; the rules are in "
                        "docs/governance-rules.md.",
        "returns_title": "Return report: {supplier}, delivery of {day}",
        "returns_subtitle": "File {file} · contract {contract} · delivery #{delivery}",
        "delivered": "Delivered", "accepted": "Accepted", "rejected": "Rejected", "over_cap": "Over weekly cap",
        "deadlines": "Deadlines",
        "contest_window_closes": "Contest window closes on {day}",
        "replacement_due": "Replacements due by {day} (rejected leads: {count})",
        "rejections_by_reason": "Rejections by reason",
        "reason": "Reason", "leads": "Leads", "share": "Share", "explanation": "Explanation",
        "rejected_leads": "Rejected leads",
        "returns_in_review": "In review",
        "review_leads": "Leads in review: the buyer accepts or rejects them by {day}",
        "row": "Row", "lead_id": "Lead id", "reasons": "Reasons", "detail": "Detail",
        "no_rejection": "No lead was rejected in this delivery.",
        "statement_title": "Billing statement: {supplier}, {month}",
        "statement_subtitle": "Revision {revision} · model {model} · contract {contract}",
        "line": "Line", "amount": "Amount",
        "units_line": "{units} units × {price}", "fixed_fee": "Monthly fixed fee", "gross": "Gross",
        "cap_excess": "Above the budget cap ({cap}): not billed", "credits": "Credit notes ({count})",
        "amount_due": "Amount due", "frozen": "FROZEN: not payable until the committee releases it",
        "payable": "Payable", "released_statement": "Released by {by} on {day} (payable): {comment}",
        "billed_units": "Billed units", "credit_lines": "Credit notes (late replacements)",
        "claim": "Claim", "none": "None.",
        "pilot_holds": "Leads held by the pilot (PILOT_HOLD)",
        "pilot_title": "Pilot report: {supplier}",
        "verdict": "Verdict", "threshold": "Threshold", "measured": "Measured", "ci": "95% CI", "held": "Held",
        "yes": "yes", "no": "no", "missed_thresholds": "Missed thresholds", "top_reasons": "Top rejection reasons",
        "objections": "Recurring objections", "clauses": "Clauses to renegotiate",
        "verdict_note": "The verdict is a recommendation; the decision belongs to the contract owner.",
        "decision": "Recorded decision", "no_decision": "No decision recorded yet.",
        "review_title": "Quarterly lead supplier review: {quarter}",
        "side_by_side": "Side by side", "supplier": "Supplier", "volume_vs_contract": "Volume vs contract",
        "reject_rate": "Reject rate", "duplicate_rate": "Duplicates", "gdpr_incidents": "GDPR incidents",
        "replacement_fill_rate": "Replacements on time", "first_contact_sla": "First-contact SLA",
        "reachability": "Reachability", "funnel": "Funnel",
        "reached": "Reached", "appointment": "Appointments", "opportunity": "Opportunities", "won": "Won",
        "billed": "Billed", "frozen_amount": "Frozen", "credited": "Credited",
        "cost_per_accepted": "Cost / accepted lead", "cost_per_appointment": "Cost / appointment",
        "cost_per_opportunity": "Cost / opportunity", "cost_per_won": "Cost / won deal",
        "recommendation": "Recommendation", "renew": "Renew", "renegotiate": "Renegotiate",
        "progressive_exit": "Progressive exit", "because": "Because",
        "weekly_trends": "Weekly trends", "maturity": "Cohort maturity",
        "maturity_note": "A week's conversion is judged only once its leads are {days} days old: weeks not mature "
                         "yet ({weeks}) are left out of the conversion rates.",
        "all_mature": "Every week of the quarter is mature.",
        "decision_log": "Decision log", "date": "Date", "event": "Event",
        "chart_reject": "Reject rate per week", "chart_volume": "Leads delivered per week",
        "chart_funnel": "Conversion funnel", "threshold_line": "threshold {value}", "target": "target",
        "band": "min–max", "week": "Week", "leads_unit": "leads",
        "frozen_statement": "Statement {month} frozen", "contest": "Contest {reason} ({lead})",
        "pilot_decision": "Pilot decision: {decision}",
        "statement_released": "Statement {month} released by {who} (revision {revision})",
        "statement_recomputed": "Statement {month} recomputed by {who} (revision {revision})",
        "amount_changed": "amount due changed", "amount_unchanged": "amount due unchanged",
        "by_whom": "by {who}", "recorded_by": "By", "unknown_who": "unknown",
        "previous_reject_rate": "Previous quarter's reject rate", "volume": "Volume delivered",
        "frozen_months": "Frozen months", "threshold_short": "threshold",
        "outcome_ok": "held", "outcome_n/a": "no data", "outcome_renegotiate": "to renegotiate",
        "outcome_progressive_exit": "exit ground",
        "clause_criteria": "qualification criteria", "clause_volume": "volumes",
        "clause_replacement_share": "replacement share", "clause_billing_model": "billing model",
        "clause_gdpr": "GDPR compliance", "clause_dedup": "deduplication",
        "appointment_rate": "Appointment rate", "first_contact_sla_share": "First-contact SLA (our team)",
        "data_error_rate": "Data errors", "reasons_by_code": "Rejections by reason",
        "chart_reasons": "Rejected leads by reason", "no_rejection_quarter": "No lead was rejected this quarter.",
        "decisions": "Decisions", "contests_by_reason": "Contests, by reason", "count": "Count",
        "first_last": "From … to", "frozen_months_title": "Frozen months",
        "termination": "Contract terminated (pilot decision)",
        "contract_version": "New version of contract {contract}{supersedes}",
        "supersedes": ", replacing {previous}",
        "freeze_DUPLICATE_RATE": "duplicate rate above the billing freeze limit",
        "freeze_DATA_ERROR_RATE": "data error rate above the billing freeze limit",
        "freeze_GDPR_BREACH": "GDPR breach (a lead without proven consent or notice)",
        "decision_approve": "approve", "decision_renegotiate": "renegotiate", "decision_terminate": "terminate",
        "no_reason": "no reason given", "colon": ": ", "list_sep": "; ",
        "contest_WRONG_NUMBER": "wrong number", "contest_UNREACHABLE": "unreachable",
        "contest_WRONG_PERSON": "wrong person", "contest_OUT_OF_TARGET_ON_CALL": "out of target on the call",
        "contest_FAKE_LEAD": "fake lead", "contest_NO_CONSENT_ON_CALL": "consent denied on the call",
        "vr_stop_reject_rate": "{name} {measured}, above twice the {threshold} limit ({limit}): stop",
        "vr_stop_gdpr_incidents": "{measured} GDPR incident(s), none is allowed: stop",
        "vr_max": "{name} {measured}, above the {threshold} limit",
        "vr_min": "{name} {measured}, below the {threshold} limit",
        "vr_ci": " (95% confidence interval {low} to {high})",
        "vr_no_data": "{name}: no data (0 of 0), limit {threshold}",
        "vr_counts": " ({numerator} of {denominator} owed, replaced on time)",
    },
}


#: The sentences whose words agree with a count (``leadgov.formatting.Plural``: French takes the
#: singular for 0 and 1, English for 1). A template writes one with ``tn(key, count, ...)``, which puts
#: the count, formatted, in its ``{count}`` (the pilot's ``vr_volume`` is written by ``verdict_reason``).
PLURALS: dict[str, dict[str, Plural]] = {
    "fr": {
        "held_billed": Plural(
            "{count} lead retenu par le pilote, facturé à son approbation (le {day}) : sur ce relevé",
            "{count} leads retenus par le pilote, facturés à son approbation (le {day}) : sur ce relevé"),
        "held_later": Plural(
            "{count} lead retenu par le pilote, approuvé le {day} : facturé sur le relevé de ce mois-là",
            "{count} leads retenus par le pilote, approuvé le {day} : facturés sur le relevé de ce mois-là"),
        "held_waiting": Plural(
            "{count} lead retenu par le pilote, facturé à son approbation : pilote pas encore décidé",
            "{count} leads retenus par le pilote, facturés à son approbation : pilote pas encore décidé"),
        "held_not_billed": Plural(
            "{count} lead retenu par le pilote : non facturé (pilote non approuvé)",
            "{count} leads retenus par le pilote : non facturés (pilote non approuvé)"),
        "pilot_subtitle": Plural(
            "Cohorte de {count} lead · livré du {first} au {last} · contrat {contract}",
            "Cohorte de {count} leads · livrés du {first} au {last} · contrat {contract}"),
        "review_subtitle": Plural("{count} fournisseur · du {start} au {end}",
                                  "{count} fournisseurs · du {start} au {end}"),
        "review_decided_accept": Plural("{count} lead en revue accepté ({by})",
                                        "{count} leads en revue acceptés ({by})"),
        "review_decided_reject": Plural("{count} lead en revue rejeté ({by})",
                                        "{count} leads en revue rejetés ({by})"),
        "vr_volume": Plural("{measured} lead livré, sous le minimum de {threshold}",
                            "{measured} leads livrés, sous le minimum de {threshold}"),
    },
    "en": {
        "held_billed": Plural(
            "{count} lead held by the pilot, billed on approval (on {day}): on this statement",
            "{count} leads held by the pilot, billed on approval (on {day}): on this statement"),
        "held_later": Plural(
            "{count} lead held by the pilot, approved on {day}: billed on that month's statement",
            "{count} leads held by the pilot, approved on {day}: billed on that month's statement"),
        "held_waiting": Plural(
            "{count} lead held by the pilot, billed on approval: the pilot is not decided yet",
            "{count} leads held by the pilot, billed on approval: the pilot is not decided yet"),
        "held_not_billed": Plural(
            "{count} lead held by the pilot: not billed (the pilot was not approved)",
            "{count} leads held by the pilot: not billed (the pilot was not approved)"),
        "pilot_subtitle": Plural("Cohort of {count} lead · delivered {first} to {last} · contract {contract}",
                                 "Cohort of {count} leads · delivered {first} to {last} · contract {contract}"),
        "review_subtitle": Plural("{count} supplier · {start} to {end}", "{count} suppliers · {start} to {end}"),
        "review_decided_accept": Plural("{count} lead in review accepted ({by})",
                                        "{count} leads in review accepted ({by})"),
        "review_decided_reject": Plural("{count} lead in review rejected ({by})",
                                        "{count} leads in review rejected ({by})"),
        "vr_volume": Plural("{measured} lead delivered, below the minimum of {threshold}",
                            "{measured} leads delivered, below the minimum of {threshold}"),
    },
}


def verdict_reason(reason: str, locale: str) -> str:
    """A pilot verdict's reason in words, in ``locale`` (a ``leadgov.pilot.VerdictReason``); a plain
    string (read back from JSON) as it is."""
    from leadgov.formatting import format_count, format_rate
    from leadgov.pilot import VerdictReason

    if not isinstance(reason, VerdictReason):
        return reason
    words = LABELS[locale]
    rate = reason.name not in ("volume", "gdpr_incidents")

    def figure(value: float | None) -> str:
        return format_rate(value, locale) if rate else format_count(value, locale)

    values = {"name": words.get(reason.name, reason.name), "measured": figure(reason.measured),
              "threshold": figure(reason.threshold), "limit": figure(reason.factor * reason.threshold)}
    if reason.kind == "stop":
        text = words[f"vr_stop_{reason.name}"].format_map(values)
    elif reason.name == "volume":
        text = PLURALS[locale]["vr_volume"].of(round(reason.measured or 0), locale).format_map(values)
    elif reason.measured is None:
        text = words["vr_no_data"].format_map(values)
    else:
        text = words[f"vr_{reason.direction}"].format_map(values)
        if reason.low is not None and reason.high is not None:
            text += words["vr_ci"].format(low=format_rate(reason.low, locale), high=format_rate(reason.high, locale))
        elif reason.name == "replacement_fill_rate":
            text += words["vr_counts"].format(numerator=reason.numerator, denominator=reason.denominator)
    return text[0].upper() + text[1:]
