"""Plain explanations of each rejection reason, for the supplier's return file (fr / en)."""

from leadgov.reasons import RejectionReason as R

EXPLANATIONS: dict[str, dict[R, str]] = {
    "fr": {
        R.NO_CONSENT: "Consentement non prouvé : date ou preuve absente, ou donnée après la livraison.",
        R.NO_NOTICE: "Information de la personne non prouvée (intérêt légitime) : date d'envoi absente, "
                     "postérieure à la livraison ou plus de 30 jours après la collecte.",
        R.MISSING_FIELD: "Champ obligatoire absent.",
        R.INVALID_EMAIL: "Adresse e-mail invalide.",
        R.INVALID_PHONE: "Numéro de téléphone invalide pour les pays du contrat.",
        R.INVALID_COMPANY_ID: "SIREN/SIRET invalide (longueur ou clé de contrôle).",
        R.INVALID_VALUE: "Valeur illisible pour son type (nombre, date, code postal, identifiant).",
        R.DUPLICATE_IN_DELIVERY: "Doublon d'une ligne précédente du même fichier.",
        R.DUPLICATE_PREVIOUS: "Doublon d'un lead déjà livré par vous dans la fenêtre de dédoublonnage.",
        R.DUPLICATE_OTHER_SUPPLIER: "Contact déjà fourni par un autre fournisseur dans la fenêtre de dédoublonnage.",
        R.ALREADY_IN_CRM: "Contact déjà présent dans notre CRM.",
        R.SUPPRESSED: "Personne ayant demandé à ne plus être démarchée.",
        R.COMPETITOR: "Société concurrente.",
        R.EXCLUDED_LEGAL_FORM: "Forme juridique exclue par le contrat.",
        R.STUDENT: "Étudiant, stagiaire ou apprenti.",
        R.STALE: "Lead collecté depuis trop longtemps avant la livraison.",
        R.GENERIC_EMAIL: "Adresse e-mail générique, non nominative.",
        R.FREE_EMAIL: "Adresse e-mail de messagerie grand public.",
        R.OUT_OF_TARGET_GEO: "Hors zone géographique du contrat.",
        R.OUT_OF_TARGET_SECTOR: "Hors secteurs d'activité (NAF) du contrat.",
        R.OUT_OF_TARGET_SIZE: "Effectif hors de la fourchette du contrat.",
        R.OUT_OF_TARGET_FUNCTION: "Fonction hors cible.",
        R.OUT_OF_TARGET_BUDGET: "Budget inférieur au minimum du contrat.",
        R.OUT_OF_TARGET_MATURITY: "Horizon du projet au-delà du maximum du contrat.",
        R.UNAUTHORIZED_SOURCE: "Canal de collecte non autorisé par le contrat.",
        R.COMPANY_CAP: "Nombre maximal de leads acceptés pour cette entreprise (même SIREN) atteint "
                       "dans la fenêtre de dédoublonnage.",
    },
    "en": {
        R.NO_CONSENT: "Consent not proven: date or proof missing, or given after delivery.",
        R.NO_NOTICE: "Notice to the person not proven (legitimate interest): date missing, after delivery, "
                     "or more than 30 days after collection.",
        R.MISSING_FIELD: "A required field is missing.",
        R.INVALID_EMAIL: "Invalid email address.",
        R.INVALID_PHONE: "Phone number not valid for the contract's countries.",
        R.INVALID_COMPANY_ID: "Invalid SIREN/SIRET (length or check digit).",
        R.INVALID_VALUE: "A value is unreadable for its type (number, date, postal code, id).",
        R.DUPLICATE_IN_DELIVERY: "Duplicate of an earlier row of the same file.",
        R.DUPLICATE_PREVIOUS: "Duplicate of a lead you already delivered within the deduplication window.",
        R.DUPLICATE_OTHER_SUPPLIER: "Contact already supplied by another supplier within the deduplication window.",
        R.ALREADY_IN_CRM: "Contact already in our CRM.",
        R.SUPPRESSED: "Person who asked not to be prospected.",
        R.COMPETITOR: "Competitor company.",
        R.EXCLUDED_LEGAL_FORM: "Legal form excluded by the contract.",
        R.STUDENT: "Student, intern or apprentice.",
        R.STALE: "Collected too long before delivery.",
        R.GENERIC_EMAIL: "Role address, not a person's.",
        R.FREE_EMAIL: "Consumer webmail address.",
        R.OUT_OF_TARGET_GEO: "Outside the contract's geography.",
        R.OUT_OF_TARGET_SECTOR: "Outside the contract's sectors (NAF).",
        R.OUT_OF_TARGET_SIZE: "Headcount outside the contract's range.",
        R.OUT_OF_TARGET_FUNCTION: "Job function outside the target.",
        R.OUT_OF_TARGET_BUDGET: "Budget below the contract's minimum.",
        R.OUT_OF_TARGET_MATURITY: "Project horizon beyond the contract's maximum.",
        R.UNAUTHORIZED_SOURCE: "Collection channel not allowed by the contract.",
        R.COMPANY_CAP: "The contract's maximum of accepted leads for this company (same SIREN) within the "
                       "deduplication window is already reached.",
    },
}


def explain(codes: str, locale: str) -> str:
    """The explanations of a ``;``-separated list of reason codes, in ``locale``."""
    texts = EXPLANATIONS[locale]
    return " ".join(texts[R(code)] for code in codes.split(";") if code)
