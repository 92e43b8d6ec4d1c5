"""Synthetic French B2B leads: seeded, vectorised, realistic enough to exercise every rule.

The benchmark, the tests and the demo all need deliveries that look like a real supplier's file:
French names with accents, SIREN/SIRET with valid checksums written several ways, phones in the
five usual French formats, dates as dd/mm/yyyy or ISO, amounts with comma decimals, and a known
share of defective rows. Generating a million of them must take seconds, so everything is built
with numpy over whole columns; strings are assembled as byte matrices (one row per lead).

Two properties make the output useful for duplicate detection:

- **a person is a function of the row's global index** (``start_index + position``), not of the
  seed: the same index is the same person (name, company, email, phone) in every call. Disjoint
  index ranges therefore never share a person; overlapping ranges share people on purpose.
  Emails and phones are unique per index for the first ``PHONE_CAPACITY`` (214 million) indices.
- every other value (job title, formats, dates, budgets, defects) depends on ``seed``.

All values are strings, as a CSV reader would give them, with "" for a missing value.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

#: pandas' default text dtype (pyarrow-backed; missing = NaN), as the delivery reader produces.
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)

# --------------------------------------------------------------------------------------------
# Vocabulary. Lists are module constants so a reader sees at a glance what a lead can look like.
# --------------------------------------------------------------------------------------------

FIRST_NAMES: tuple[str, ...] = (
    "Jean", "Marie", "Pierre", "Sophie", "Nicolas", "Isabelle", "Julien", "Nathalie", "Thomas",
    "Céline", "François", "Hélène", "Sébastien", "Aurélie", "Stéphane", "Émilie", "Jérôme",
    "Valérie", "Frédéric", "Sandrine", "Olivier", "Caroline", "Laurent", "Camille", "Philippe",
    "Chloé", "Mathieu", "Léa", "Antoine", "Manon", "Guillaume", "Julie", "Alexandre", "Pauline",
    "Maxime", "Laure", "Vincent", "Claire", "Romain", "Anaïs", "Benoît", "Élodie", "Cédric",
    "Margaux", "David", "Agnès", "Éric", "Virginie", "Christophe", "Inès", "Arnaud", "Justine",
    "Fabien", "Mélanie", "Grégoire", "Noémie", "Hugo", "Océane", "Lucas", "Charlotte", "Louis",
    "Amélie", "Paul", "Béatrice", "Yann", "Gaëlle", "Loïc", "Solène", "Bruno", "Florence",
    "Damien", "Patricia", "Sylvain", "Coralie", "Xavier", "Delphine", "Rémi", "Maëlle", "Karim",
    "Fatima", "Mehdi", "Yasmine", "Thierry", "Nadia", "Jean-Marc", "Marie-Claire", "Jean-Pierre",
    "Anne-Sophie", "Pierre-Yves", "Marie-Hélène", "Adrien", "Bérénice", "Clément", "Joséphine",
    "Théo", "Zoé", "Quentin", "Lucie", "Baptiste", "Mathilde",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément",
    "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez",
    "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger",
    "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand", "Dufour",
    "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin",
    "Fernandez", "Pierre", "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc",
    "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Leclercq",
    "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Da Silva", "Hubert", "Louis",
    "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume", "Adam", "Rey", "Moulin", "Gonzalez",
    "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Julien", "Benoît",
    "Paris", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet",
    "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons",
    "Paul", "Laine", "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barre",
    "Marty", "Cousin", "D'Almeida", "Bouvier", "Haddad", "Benali",
)  # fmt: skip

#: Company names are "<stem> <activity>": 60 x 40 = 2,400 companies, each with its own domain.
COMPANY_STEMS: tuple[str, ...] = (
    "Nexora", "Altiveo", "Brevia", "Cogniteam", "Datalys", "Eolia", "Fluxia", "Graviton",
    "Hexalis", "Infolab", "Jadeo", "Kynapse", "Lumeo", "Maïa", "Novatis", "Octalis", "Pixelis",
    "Quantis", "Rhéa", "Sylva", "Tessera", "Ubiq", "Valorys", "Wavio", "Xenia", "Yzeo", "Zéphyr",
    "Arcane", "Boréal", "Cassiopée", "Delta Ouest", "Émeraude", "Fenix", "Galaxie", "Horizon",
    "Iroise", "Jupiter", "Kairos", "Lutèce", "Mistral", "Nova Lyon", "Opale", "Pégase", "Quartz",
    "Rubis", "Saphir", "Titan", "Uranie", "Vega", "Wallis", "Azur", "Bastide", "Cévennes",
    "Dordogne", "Estérel", "Forez", "Garonne", "Hermine", "Isère", "Loire",
)  # fmt: skip
COMPANY_ACTIVITIES: tuple[str, ...] = (
    "Conseil", "Digital", "Solutions", "Informatique", "Data", "Systèmes", "Technologies",
    "Logiciels", "Services", "Cloud", "Partners", "Groupe", "Ingénierie", "Numérique", "Réseaux",
    "Analytics", "Software", "Consulting", "Innovation", "Studio", "Labs", "Sécurité", "Web",
    "Intégration", "Infogérance", "Expertise", "Développement", "Automatisation", "Connect",
    "Mobile", "Hébergement", "Stratégie", "Performance", "Agence", "Services IT", "Cyber",
    "Plateformes", "Applications", "Télécom", "Formation",
)  # fmt: skip

#: Every title matches the example contract's job_title_include keywords (and no exclude).
JOB_TITLES: tuple[str, ...] = (
    "Directeur commercial", "Directrice commerciale", "DSI", "Responsable marketing",
    "Head of Sales", "CTO", "PDG", "Gérant", "Co-gérant", "Directeur général", "Directrice générale",
    "Responsable des achats", "Directeur des systèmes d'information", "Head of Marketing",
    "VP Sales", "CEO", "DG", "Responsable informatique", "Directeur administratif et financier",
    "Responsable infrastructure", "Head of Data", "Directeur de la transformation digitale",
    "Responsable grands comptes", "Directrice marketing",
)  # fmt: skip
JOB_TITLE_WEIGHTS = (9, 5, 8, 8, 5, 6, 5, 6, 2, 6, 3, 4, 3, 3, 3, 3, 2, 4, 2, 3, 2, 2, 3, 3)

NEEDS: tuple[str, ...] = (
    "Remplacer notre CRM vieillissant avant la fin de l'année",
    "Automatiser la relance des devis envoyés",
    "Migrer notre infrastructure vers le cloud",
    "Mettre en place un outil de prospection pour 12 commerciaux",
    "Centraliser les données clients dispersées dans plusieurs outils",
    "Améliorer le suivi des tickets du support",
    "Sécuriser les accès à distance des équipes",
    "Refondre le site e-commerce B2B",
    "Former les équipes à la gestion de projet agile",
    "Déployer un tableau de bord commercial en temps réel",
    "Externaliser l'infogérance de nos serveurs",
    "Réduire le délai de traitement des factures fournisseurs",
    "Choisir un ERP adapté à une PME industrielle",
    "Auditer la conformité RGPD de nos fichiers clients",
    "Intégrer notre outil marketing avec le CRM",
    "Recruter un prestataire pour une application mobile",
)  # fmt: skip

SOURCES: tuple[str, ...] = ("web_form", "event", "outbound_call", "content_download")
SOURCE_WEIGHTS = (5, 2, 2, 1)

#: (NAF code, weight): inside the example contract's targets (62*, 63*, 70.22Z, not 62.09Z).
NAF_CODES: tuple[str, ...] = ("62.01Z", "62.02A", "62.02B", "62.03Z", "63.11Z", "63.12Z", "70.22Z")
NAF_WEIGHTS = (35, 15, 5, 5, 10, 5, 25)

LEGAL_FORMS: tuple[str, ...] = ("SAS", "SARL", "SA", "EURL", "SASU")
LEGAL_FORM_WEIGHTS = (50, 25, 12, 8, 5)

#: Postal codes of the example contract's departments: Paris region, Lyon, some Corsica.
POSTAL_CODES: tuple[str, ...] = (
    *(f"750{d:02d}" for d in range(1, 21)),
    "92100", "92000", "92400", "92130", "92300", "92200", "92800", "92190",
    "93200", "93100", "93400", "94200", "94000", "94300", "91300", "91000", "78000", "78140",
    "77420", "77100", "95000", "95100",
    *(f"6900{d}" for d in range(1, 10)), "69100", "69300",
    "20000", "20090", "20200", "20600",
)  # fmt: skip
POSTAL_WEIGHTS = (
    *([2] * 20),
    3, 3, 3, 2, 2, 2, 2, 1,
    2, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1,
    *([1.5] * 9), 2, 1,
    0.5, 0.5, 0.5, 0.5,
)  # fmt: skip

#: 3-digit prefixes of French 9-digit national significant numbers (the number without its
#: leading 0) that phonenumbers' FR metadata holds valid whatever the next 6 digits: mobiles
#: 06/07 and landlines of the Paris region (01) and Lyon (04 7x).
MOBILE_PREFIXES: tuple[int, ...] = (
    *range(600, 630), *range(640, 690), *range(730, 800),
)  # fmt: skip
LANDLINE_PREFIXES: tuple[int, ...] = (*range(140, 200), *range(472, 474), *range(478, 480))
PHONE_PREFIXES: np.ndarray = np.array(MOBILE_PREFIXES + LANDLINE_PREFIXES, dtype=np.int64)
PHONE_CAPACITY = len(PHONE_PREFIXES) * 1_000_000  # distinct numbers the scheme can give

#: How phones are written, with their share of rows ("d" = the next digit of 0 + the NSN).
PHONE_FORMATS: tuple[tuple[str, float], ...] = (
    ("dd dd dd dd dd", 0.35),  # 06 12 34 56 78
    ("+33 d dd dd dd dd", 0.2),  # +33 6 12 34 56 78 (the leading 0 is dropped)
    ("0033ddddddddd", 0.1),  # 0033612345678
    ("dd.dd.dd.dd.dd", 0.15),  # 01.23.45.67.89
    ("dddddddddd", 0.2),  # 0612345678
)

GENERIC_LOCAL_PARTS: tuple[str, ...] = ("contact", "info", "commercial", "accueil", "direction")
FREE_EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "orange.fr", "hotmail.fr", "yahoo.fr", "free.fr")

#: Required fields that a MISSING_FIELD defect may blank (the example contract's list).
BLANKABLE_FIELDS: tuple[str, ...] = (
    "lead_id", "collected_at", "company_name", "siren", "naf_code", "employees", "postal_code",
    "first_name", "last_name", "job_title", "email", "phone", "need",
)  # fmt: skip

#: The canonical columns of a generated delivery, in the order of docs/deliveries.md.
COLUMNS: tuple[str, ...] = (
    "lead_id", "collected_at", "company_name", "siren", "naf_code", "employees", "legal_form",
    "postal_code", "country", "first_name", "last_name", "job_title", "email", "phone",
    "budget_eur", "project_horizon_months", "need", "source", "consent_at", "consent_proof",
    "replaces_lead_id",
)  # fmt: skip

#: Companies are the same in every call: their table is drawn from this fixed seed.
COMPANY_SEED = 20270101
#: The affine map index -> person: a bijection of [0, PEOPLE) since gcd(multiplier, PEOPLE) = 1.
PEOPLE = len(FIRST_NAMES) * len(LAST_NAMES) * len(COMPANY_STEMS) * len(COMPANY_ACTIVITIES)
_PERSON_MULTIPLIER = 2_654_435_761  # Knuth's multiplicative-hash prime
_PERSON_OFFSET = 12_345_677


@dataclass(frozen=True)
class Defects:
    """Share of rows (0..1) receiving each defect; the rows are disjoint, so the shares add up.

    Each defect overwrites values of a clean row so that it triggers one known rule of the
    example contract (the rule is named next to each field).
    """

    invalid_phone: float = 0.02  # INVALID_PHONE: "06 12 34"
    invalid_email: float = 0.01  # INVALID_EMAIL: "jean.dupont@@x.fr"
    missing_field: float = 0.02  # MISSING_FIELD: one required field blank
    stale: float = 0.01  # STALE: collected 30 days before
    out_of_target: float = 0.02  # OUT_OF_TARGET_GEO/SECTOR/SIZE or EXCLUDED_LEGAL_FORM
    generic_or_free_email: float = 0.01  # GENERIC_EMAIL (contact@) or FREE_EMAIL (@gmail.com)
    no_consent: float = 0.01  # NO_CONSENT: proof (sometimes date) missing
    duplicate_in_delivery: float = 0.05  # DUPLICATE_IN_DELIVERY: email or phone of an earlier row

    def __post_init__(self) -> None:
        shares = [getattr(self, f.name) for f in fields(self)]
        if any(s < 0 for s in shares) or sum(shares) > 1:
            raise ValueError("defect shares must be >= 0 and add up to at most 1")


NO_DEFECTS = Defects(**{f.name: 0.0 for f in fields(Defects)})


# --------------------------------------------------------------------------------------------
# Vectorised string helpers. Columns are built as Arrow string arrays straight from numpy byte
# matrices: no Python string object per row, which is what makes a million rows take seconds.
# --------------------------------------------------------------------------------------------

STR = pa.large_string()
_ALPHABET = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def ascii_slug(text: str, sep: str = "") -> str:
    """Lower-case ASCII form for emails and domains: "Hélène" -> "helene", "D'Almeida" -> "dalmeida"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() or c == "-" else " " for c in folded.replace("'", "")).split()
    return sep.join(words)


def _pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """n indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _vocab(words: Sequence[str], indices: np.ndarray) -> pa.Array:
    """``words[indices]`` as an Arrow string array."""
    return pa.array(list(words), STR).take(pa.array(np.asarray(indices, dtype=np.int64)))


def _constant(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, STR), n)


def _digits(values: np.ndarray, width: int, base: int = 10) -> np.ndarray:
    """(n, width) digit matrix of non-negative integers, most significant first, zero-padded."""
    powers = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (np.asarray(values, dtype=np.int64)[:, None] // powers) % base


def _compose(n: int, parts: Sequence[object]) -> pa.Array:
    """n fixed-width ASCII strings assembled column-wise, as an Arrow string array.

    ``parts`` items are a literal ``str``, ``(ints, width)`` (decimal, zero-padded),
    ``(ints, width, 16)`` (hexadecimal) or an (n, k) digit matrix.
    """
    columns = []
    for part in parts:
        if isinstance(part, str):
            columns.append(np.broadcast_to(np.frombuffer(part.encode("ascii"), dtype=np.uint8), (n, len(part))))
        elif isinstance(part, tuple):
            values, width, *base = part
            columns.append(_ALPHABET[_digits(values, width, *base)])
        else:
            columns.append(_ALPHABET[np.asarray(part)])
    matrix = np.ascontiguousarray(np.concatenate(columns, axis=1), dtype=np.uint8)
    width = matrix.shape[1]
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int64) * width).tobytes())
    return pa.Array.from_buffers(STR, n, [None, offsets, pa.py_buffer(matrix.tobytes())])


def _text(values: np.ndarray) -> pa.Array:
    """Integers as decimal text ("1250")."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), STR)


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    as_arrow = [pa.scalar(p, STR) if isinstance(p, str) else p.cast(STR) for p in parts]
    return pc.binary_join_element_wise(*as_arrow, pa.scalar("", STR))


def _thousands(values: np.ndarray) -> pa.Array:
    """Integers below a million with a space between thousands and units ("12 500", "800")."""
    values = np.asarray(values, dtype=np.int64)
    high, low = np.divmod(values, 1000)
    grouped = _join(_text(high), _compose(len(values), [" ", (low, 3)]))
    return pc.if_else(pa.array(values >= 1000), grouped, _text(values))


def _by_format(n: int, choice: np.ndarray, renderers: Sequence) -> pa.Array:
    """Row i rendered by ``renderers[choice[i]](rows)``, each renderer called once on its rows."""
    parts, positions = [], []
    for k, render in enumerate(renderers):
        rows = np.flatnonzero(choice == k)
        if len(rows):
            parts.append(render(rows).cast(STR))
            positions.append(rows)
    if not parts:
        return pa.array([], STR)
    order = np.argsort(np.concatenate(positions), kind="stable")
    return pa.concat_arrays(parts).take(pa.array(order))


def _replace(column: pa.Array, rows: np.ndarray, values: pa.Array | str) -> pa.Array:
    """``column`` with ``rows`` (ascending) set to ``values`` (one per row, or one for all)."""
    if len(rows) == 0:
        return column
    if isinstance(values, str):
        values = _constant(values, len(rows))
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(column, pa.array(mask), values.cast(STR))


def _luhn_check_digit(payload: np.ndarray) -> np.ndarray:
    """The digit to append to each row of ``payload`` (digit matrix) so that it passes Luhn."""
    width = payload.shape[1]
    doubled = (width - 1 - np.arange(width)) % 2 == 0  # the payload's last digit is doubled
    values = np.where(doubled, payload * 2 - 9 * (payload >= 5), payload)
    return (10 - values.sum(axis=1) % 10) % 10


# --------------------------------------------------------------------------------------------
# Companies and people: functions of an index, identical in every call.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Companies:
    name: pa.Array
    domain: pa.Array
    siren: np.ndarray  # (C, 9) digit matrix
    naf: np.ndarray  # index into NAF_CODES
    employees: np.ndarray
    legal_form: np.ndarray  # index into LEGAL_FORMS
    postal_code: np.ndarray  # index into POSTAL_CODES


@lru_cache(maxsize=1)
def _companies() -> _Companies:
    """The 2,400 companies, drawn once from a fixed seed so that a company never changes."""
    rng = np.random.default_rng(COMPANY_SEED)
    names = [f"{stem} {activity}" for stem in COMPANY_STEMS for activity in COMPANY_ACTIVITIES]
    domains = [ascii_slug(name, "-") + ".fr" for name in names]
    if len(set(domains)) != len(domains):
        raise AssertionError("two companies share a domain: emails would not be unique")
    count = len(names)
    payload = rng.integers(0, 10, size=(count, 8))
    payload[:, 0] = rng.integers(3, 10, size=count)  # real SIRENs mostly start with 3..9
    siren = np.concatenate([payload, _luhn_check_digit(payload)[:, None]], axis=1)
    employees = np.exp(rng.uniform(np.log(10), np.log(5000), size=count)).astype(np.int64)
    return _Companies(
        name=pa.array(names, STR), domain=pa.array(domains, STR), siren=siren,
        naf=_pick(rng, count, NAF_WEIGHTS), employees=employees,
        legal_form=_pick(rng, count, LEGAL_FORM_WEIGHTS), postal_code=_pick(rng, count, POSTAL_WEIGHTS),
    )


_FIRST_SLUGS = tuple(ascii_slug(name, "-") for name in FIRST_NAMES)
_LAST_SLUGS = tuple(ascii_slug(name, "-") for name in LAST_NAMES)
# Emails are unique only if the slugs are: a list edit must not break that silently.
assert len(set(_FIRST_SLUGS)) == len(FIRST_NAMES) and len(set(_LAST_SLUGS)) == len(LAST_NAMES)


def _people(index: np.ndarray) -> dict[str, np.ndarray]:
    """First name, last name, company, cycle and phone number (9-digit NSN) of each global index.

    ``person = (a * index + b) mod PEOPLE`` spreads consecutive indices over names and
    companies; indices beyond PEOPLE start a new "cycle" whose number is added to the email.
    """
    cycle, within = np.divmod(index, PEOPLE)
    person = (within * _PERSON_MULTIPLIER + _PERSON_OFFSET) % PEOPLE
    first, rest = np.divmod(person, len(LAST_NAMES) * len(COMPANY_STEMS) * len(COMPANY_ACTIVITIES))
    last, company = np.divmod(rest, len(COMPANY_STEMS) * len(COMPANY_ACTIVITIES))
    # Phone: (block, suffix) -> (prefix, suffix) with prefix = (block + 31 * suffix) mod K is a
    # bijection while block < K, so numbers are unique while the person number < PHONE_CAPACITY.
    block, suffix = np.divmod(person + cycle * PEOPLE, 1_000_000)
    prefix = PHONE_PREFIXES[(block + 31 * suffix) % len(PHONE_PREFIXES)]
    return {"first": first, "last": last, "company": company, "cycle": cycle,
            "nsn": prefix * 1_000_000 + suffix}


def _emails(people: dict[str, np.ndarray]) -> pa.Array:
    """prenom.nom@societe.fr; from the second cycle on, the cycle number ends the local part."""
    local = _join(_vocab(_FIRST_SLUGS, people["first"]), ".", _vocab(_LAST_SLUGS, people["last"]))
    cycle = people["cycle"]
    if cycle.any():
        local = pc.if_else(pa.array(cycle > 0), _join(local, _text(cycle)), local)
    return _join(local, "@", _companies().domain.take(pa.array(people["company"])))


def _render_phones(nsn: np.ndarray, choice: np.ndarray) -> pa.Array:
    """Phones written in the format ``PHONE_FORMATS[choice]`` ("d" = next digit of 0 + NSN;
    the international formats drop the 0)."""
    national = np.concatenate([np.zeros((len(nsn), 1), dtype=np.int64), _digits(nsn, 9)], axis=1)

    def renderer(template: str):
        def render(rows: np.ndarray) -> pa.Array:
            digits = national[rows] if template.count("d") == 10 else national[rows][:, 1:]
            parts, at = [], 0
            for chunk in template.replace("d", "\0d\0").split("\0"):
                if chunk == "d":
                    parts.append(digits[:, at : at + 1])
                    at += 1
                elif chunk:
                    parts.append(chunk)
            return _compose(len(rows), parts)

        return render

    return _by_format(len(nsn), choice, [renderer(template) for template, _ in PHONE_FORMATS])


def _phone_choice(rng: np.random.Generator, n: int) -> np.ndarray:
    return _pick(rng, n, [share for _, share in PHONE_FORMATS])


# --------------------------------------------------------------------------------------------
# Per-row values that depend on the seed.
# --------------------------------------------------------------------------------------------


def _datetimes(moments: np.ndarray, choice: np.ndarray) -> pa.Array:
    """datetime64[s] values written ``dd/mm/yyyy HH:MM`` (choice 0) or ISO (choice 1)."""
    days = moments.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    seconds = (moments - days).astype(np.int64)
    hour, minute, second = seconds // 3600, seconds % 3600 // 60, seconds % 60

    def french(r):
        return _compose(len(r), [(day[r], 2), "/", (month[r], 2), "/", (year[r], 4), " ",
                                 (hour[r], 2), ":", (minute[r], 2)])

    def iso(r):
        return _compose(len(r), [(year[r], 4), "-", (month[r], 2), "-", (day[r], 2), "T",
                                 (hour[r], 2), ":", (minute[r], 2), ":", (second[r], 2)])

    return _by_format(len(moments), choice, [french, iso])


def _timestamps(collected_before: date, seconds_before: np.ndarray) -> np.ndarray:
    """datetime64[s] moments ``seconds_before`` seconds before midnight of ``collected_before``."""
    midnight = np.datetime64(datetime.combine(collected_before, time()), "s")
    return midnight - np.asarray(seconds_before, dtype=np.int64).astype("timedelta64[s]")


def _sirens(rng: np.random.Generator, siren: np.ndarray) -> pa.Array:
    """The company's SIREN written plainly, with spaces, or as a 14-digit SIRET (valid Luhn)."""
    n = len(siren)
    nic = _digits(rng.integers(1, 100, size=n), 4)  # establishment number 0001..0099
    payload = np.concatenate([siren, nic], axis=1)
    siret = np.concatenate([payload, _luhn_check_digit(payload)[:, None]], axis=1)
    return _by_format(n, _pick(rng, n, (70, 15, 10, 5)), [
        lambda r: _compose(len(r), [siren[r]]),
        lambda r: _compose(len(r), [siren[r][:, :3], " ", siren[r][:, 3:6], " ", siren[r][:, 6:]]),
        lambda r: _compose(len(r), [siret[r]]),
        lambda r: _compose(len(r), [siret[r][:, :3], " ", siret[r][:, 3:6], " ", siret[r][:, 6:9],
                                    " ", siret[r][:, 9:]]),
    ])  # fmt: skip


def _naf_codes(rng: np.random.Generator, naf: np.ndarray) -> pa.Array:
    """NAF codes written "62.01Z" or "6201Z" (the same code)."""
    spellings = [spelling for code in NAF_CODES for spelling in (code, code.replace(".", ""))]
    return _vocab(spellings, 2 * naf + (rng.random(len(naf)) < 0.5))


def _employees(rng: np.random.Generator, employees: np.ndarray) -> pa.Array:
    """Headcounts, a third of those above 999 written with a thousands space ("1 250")."""
    grouped = rng.random(len(employees)) < 0.3
    return pc.if_else(pa.array(grouped), _thousands(employees), _text(employees))


def _budgets(rng: np.random.Generator, n: int) -> pa.Array:
    """Budgets of 5,000..250,000 EUR: "48400", "48 400", "48 400,50", "48400.50"; 15 % missing."""
    euros = rng.integers(50, 2500, size=n) * 100
    cents = np.where(rng.random(n) < 0.2, rng.integers(1, 100, size=n), 0)
    return _by_format(n, _pick(rng, n, (40, 20, 15, 10, 15)), [
        lambda r: _text(euros[r]),
        lambda r: _thousands(euros[r]),
        lambda r: _join(_thousands(euros[r]), _compose(len(r), [",", (cents[r], 2)])),
        lambda r: _join(_text(euros[r]), _compose(len(r), [".", (cents[r], 2)])),
        lambda r: _constant("", len(r)),
    ])  # fmt: skip


def _horizons(rng: np.random.Generator, n: int) -> pa.Array:
    """Project horizons of 1..12 months; 10 % missing."""
    months = _text(rng.integers(1, 13, size=n))
    return pc.if_else(pa.array(rng.random(n) < 0.1), pa.scalar("", STR), months)


def _consent_proofs(rng: np.random.Generator, n: int) -> pa.Array:
    """Form certificates ("cert-<hex>") or call recording URLs."""
    token = rng.integers(0, 2**48, size=n)
    return _by_format(n, (rng.random(n) < 0.2).astype(np.int64), [
        lambda r: _compose(len(r), ["cert-", (token[r], 12, 16)]),
        lambda r: _compose(len(r), ["https://preuves.example/enregistrement/", (token[r], 12, 16)]),
    ])  # fmt: skip


# --------------------------------------------------------------------------------------------
# Defects.
# --------------------------------------------------------------------------------------------


def _defect_rows(rng: np.random.Generator, n: int, defects: Defects) -> dict[str, np.ndarray]:
    """Disjoint random row sets (ascending), one per defect, of the requested shares.

    Row 0 is drawn last: a duplicate needs an earlier row to copy.
    """
    order = np.concatenate([1 + rng.permutation(n - 1), [0]]) if n else np.arange(0)
    rows, start = {}, 0
    for f in fields(Defects):
        count = int(round(getattr(defects, f.name) * n))
        rows[f.name] = np.sort(order[start : start + count])
        start += count
    return rows


def _duplicates(rng, cols, nsn, phone_choice, rows) -> None:
    """Each duplicate row takes the email (some upper-cased) or the phone number (usually written
    another way) of a random clean earlier row, so the normalisers must see through it."""
    dup = rows["duplicate_in_delivery"]
    dirty = np.zeros(len(nsn), dtype=bool)
    for picked in rows.values():
        dirty[picked] = True
    clean = np.flatnonzero(~dirty)
    before = np.searchsorted(clean, dup)  # how many clean rows precede each duplicate
    dup, before = dup[before > 0], before[before > 0]
    source = clean[(rng.random(len(dup)) * before).astype(np.int64)]
    by_email = rng.random(len(dup)) < 0.5
    copied = cols["email"].take(pa.array(source[by_email]))
    shout = pa.array(rng.random(len(copied)) < 0.3)
    cols["email"] = _replace(cols["email"], dup[by_email], pc.if_else(shout, pc.utf8_upper(copied), copied))
    nsn[dup[~by_email]] = nsn[source[~by_email]]
    phone_choice[dup[~by_email]] = _phone_choice(rng, int((~by_email).sum()))


def _apply_defects(rng: np.random.Generator, cols: dict[str, pa.Array], nsn: np.ndarray,
                   phone_choice: np.ndarray, rows: dict[str, np.ndarray], collected_before: date) -> None:
    """Overwrite values of the chosen rows in place (see ``Defects``); renders the phones."""
    _duplicates(rng, cols, nsn, phone_choice, rows)
    cols["phone"] = _render_phones(nsn, phone_choice)

    bad = rows["invalid_phone"]  # "06 12 34": the first 6 digits only
    head = _digits(nsn[bad] // 10_000, 5)
    cols["phone"] = _replace(cols["phone"], bad,
                             _compose(len(bad), ["0", head[:, :1], " ", head[:, 1:3], " ", head[:, 3:]]))

    bad = rows["invalid_email"]  # "jean.dupont@@x.fr", "jean.dupont.x.fr", "jean dupont@x.fr"
    emails = cols["email"].take(pa.array(bad))
    cols["email"] = _replace(cols["email"], bad, _by_format(len(bad), rng.integers(0, 3, size=len(bad)), [
        lambda r: pc.replace_substring(emails.take(pa.array(r)), "@", "@@"),
        lambda r: pc.replace_substring(emails.take(pa.array(r)), "@", "."),
        lambda r: pc.replace_substring(emails.take(pa.array(r)), ".", " ", max_replacements=1),
    ]))  # fmt: skip

    bad = rows["missing_field"]
    blanked = rng.integers(0, len(BLANKABLE_FIELDS), size=len(bad))
    for k, name in enumerate(BLANKABLE_FIELDS):
        cols[name] = _replace(cols[name], bad[blanked == k], "")

    bad = rows["stale"]  # collected (and consented) 30 days before
    old = _timestamps(collected_before, 30 * 86400 - rng.integers(0, 86400, size=len(bad)))
    cols["collected_at"] = _replace(cols["collected_at"], bad, _datetimes(old, rng.integers(0, 2, size=len(bad))))
    cols["consent_at"] = _replace(cols["consent_at"], bad,
                                  _datetimes(old - np.timedelta64(5, "m"), np.zeros(len(bad), dtype=np.int64)))

    bad = rows["out_of_target"]  # Marseille, a supermarket, 3 employees, or a micro-entreprise
    kind = rng.integers(0, 4, size=len(bad))
    marseille = bad[kind == 0]
    cols["postal_code"] = _replace(cols["postal_code"], marseille,
                                   _compose(len(marseille), ["130", (rng.integers(1, 17, size=len(marseille)), 2)]))
    cols["naf_code"] = _replace(cols["naf_code"], bad[kind == 1], "47.11D")
    cols["employees"] = _replace(cols["employees"], bad[kind == 2], "3")
    cols["legal_form"] = _replace(cols["legal_form"], bad[kind == 3], "Micro-entreprise")

    bad = rows["generic_or_free_email"]  # contact@societe.fr or prenom.nom@gmail.com
    parts = pc.extract_regex(cols["email"].take(pa.array(bad)), r"^(?P<local>[^@]*)@(?P<domain>.*)$")
    local, domain = pc.struct_field(parts, "local"), pc.struct_field(parts, "domain")
    generic = _join(_vocab(GENERIC_LOCAL_PARTS, rng.integers(0, len(GENERIC_LOCAL_PARTS), size=len(bad))), "@", domain)
    free = _join(local, "@", _vocab(FREE_EMAIL_DOMAINS, rng.integers(0, len(FREE_EMAIL_DOMAINS), size=len(bad))))
    cols["email"] = _replace(cols["email"], bad, pc.if_else(pa.array(rng.random(len(bad)) < 0.5), generic, free))

    bad = rows["no_consent"]  # no proof; sometimes no consent date either
    cols["consent_proof"] = _replace(cols["consent_proof"], bad, "")
    cols["consent_at"] = _replace(cols["consent_at"], bad[rng.random(len(bad)) < 0.3], "")


# --------------------------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------------------------


def generate_leads(n: int, *, seed: int, collected_before: date, defects: Defects = Defects(),
                   id_prefix: str = "L", start_index: int = 0) -> pd.DataFrame:
    """``n`` leads as a supplier would deliver them: canonical columns, all text, "" = missing.

    Clean rows are accepted by the example contract (config/contracts/acme-leads.yaml) when
    delivered on ``collected_before``: collected 1..6 days before it, in target, with consent.
    ``defects`` gives the share of rows made to fail one known rule each. Row ``i`` is the
    person of global index ``start_index + i`` (see the module docstring); ``lead_id`` is
    ``id_prefix`` + that index (at least 7 digits).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = np.random.default_rng(seed)
    index = np.arange(start_index, start_index + n, dtype=np.int64)
    people = _people(index)
    companies = _companies()
    company = people["company"]

    collected = _timestamps(collected_before, rng.integers(60, 6 * 86400, size=n))
    consent = collected - rng.integers(0, 3600, size=n).astype("timedelta64[s]")
    date_style = rng.integers(0, 2, size=n)
    cols: dict[str, pa.Array] = {
        "lead_id": _join(id_prefix, pc.utf8_lpad(_text(index), 7, "0")),
        "collected_at": _datetimes(collected, date_style),
        "company_name": companies.name.take(pa.array(company)),
        "siren": _sirens(rng, companies.siren[company]),
        "naf_code": _naf_codes(rng, companies.naf[company]),
        "employees": _employees(rng, companies.employees[company]),
        "legal_form": _vocab(LEGAL_FORMS, companies.legal_form[company]),
        "postal_code": _vocab(POSTAL_CODES, companies.postal_code[company]),
        "country": _vocab(("", "FR", "fr"), _pick(rng, n, (60, 35, 5))),
        "first_name": _vocab(FIRST_NAMES, people["first"]),
        "last_name": _vocab(LAST_NAMES, people["last"]),
        "job_title": _vocab(JOB_TITLES, _pick(rng, n, JOB_TITLE_WEIGHTS)),
        "email": _emails(people),
        "budget_eur": _budgets(rng, n),
        "project_horizon_months": _horizons(rng, n),
        "need": _vocab(NEEDS, rng.integers(0, len(NEEDS), size=n)),
        "source": _vocab(SOURCES, _pick(rng, n, SOURCE_WEIGHTS)),
        "consent_at": _datetimes(consent, date_style),
        "consent_proof": _consent_proofs(rng, n),
        "replaces_lead_id": _constant("", n),
    }
    rows = _defect_rows(rng, n, defects)
    _apply_defects(rng, cols, people["nsn"].copy(), _phone_choice(rng, n), rows, collected_before)
    return pd.DataFrame({name: pd.Series(pd.array(cols[name], dtype=TEXT_DTYPE)) for name in COLUMNS})


def to_delivery_csv(frame: pd.DataFrame, columns: Mapping[str, str], *, delimiter: str = ";",
                    encoding: str = "utf-8") -> bytes:
    """The frame as a supplier's CSV file: canonical columns renamed to the supplier's headers.

    ``columns`` is a contract's ``delivery.columns`` (supplier header -> canonical field); a
    canonical column it does not map keeps its canonical name, as the reader expects. Cells are
    quoted only when they must be (a delimiter, quote or line break inside), like a spreadsheet's
    export. Arrow writes the usual case in a fraction of pandas' time; pandas writes the others.
    """
    headers = {str(canonical): header for header, canonical in columns.items()}
    renamed = frame.rename(columns=headers)
    table = pa.Table.from_pandas(renamed.astype(TEXT_DTYPE), preserve_index=False)
    needs_quotes = any(_holds_any(text, (delimiter, '"', "\r", "\n")) for text in
                       ["\0".join(map(str, table.column_names)).encode(), *map(_text_bytes, table.columns)])
    if needs_quotes:
        text = renamed.to_csv(sep=delimiter, index=False, lineterminator="\n")
        return text.encode(encoding)
    buffer = io.BytesIO()
    buffer.write((delimiter.join(map(str, table.column_names)) + "\n").encode())  # Arrow would quote it
    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none")
    pacsv.write_csv(table, buffer, options)
    data = buffer.getvalue()
    return data if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else data.decode("utf-8").encode(encoding)


def _text_bytes(column: pa.ChunkedArray) -> bytes:
    """The character data of a string column (a superset for sliced arrays: only used to search)."""
    return b"".join(bytes(chunk.buffers()[2] or b"") for chunk in column.chunks)


def _holds_any(data: bytes, needles: Sequence[str]) -> bool:
    return any(needle.encode() in data for needle in needles)


def normalised_identities(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``email`` (trimmed, lower-cased) and ``phone`` (E.164) that leadgov derives from the
    generator's valid formats; NA where the value is not one of them (defects, blanks).

    Used to plant earlier leads of the same people in a database: duplicate detection compares
    these normalised values.
    """
    email = frame["email"].str.strip().str.lower()
    email = email.where(email.str.fullmatch(r"[a-z0-9.\-]+@[a-z0-9.\-]+\.[a-z]{2,}", na=False))
    digits = frame["phone"].str.replace(r"[ .]", "", regex=True)
    nsn = digits.str.extract(r"^(?:\+33|0033|0)([1-9][0-9]{8})$", expand=False)
    return pd.DataFrame({"email": email, "phone": "+33" + nsn}, index=frame.index)


def identity_rows(n: int, *, seed: int, hmac_key: str, known: pd.DataFrame | None = None) -> pd.DataFrame:
    """Identity columns of ``n`` earlier leads, to pre-populate a lead table fast.

    Columns ``email_key``/``phone_key`` (Int64: random signed 64-bit keys that match nobody)
    and ``email``/``phone`` (missing). When ``known`` (normalised ``email``/``phone`` values, e.g.
    from ``normalised_identities``) is given, its rows are planted at random positions with their
    values and keys (``leadgov.identity.identity_keys``), so that a delivery holding those people
    finds them among the earlier leads. Returns the positions of the planted rows in ``attrs["known_at"]``.
    """
    from leadgov.identity import identity_keys  # noqa: PLC0415 (keep this module import-light)

    rng = np.random.default_rng(seed)
    info = np.iinfo(np.int64)
    keys = {column: rng.integers(info.min, info.max, size=n, dtype=np.int64) for column in ("email", "phone")}
    missing = {column: np.zeros(n, dtype=bool) for column in ("email", "phone")}
    values = {column: pd.Series(np.nan, index=range(n), dtype=TEXT_DTYPE) for column in ("email", "phone")}
    at = np.zeros(0, dtype=np.int64)
    if known is not None and len(known):
        if len(known) > n:
            raise ValueError("more known people than rows")
        at = np.sort(rng.choice(n, size=len(known), replace=False))
        for column in ("email", "phone"):
            planted = known[column].reset_index(drop=True).astype(TEXT_DTYPE)
            planted_keys = identity_keys(planted, hmac_key)
            # Exact int64 (a float detour would round the keys and break the look-ups).
            keys[column][at] = planted_keys.to_numpy(dtype=np.int64, na_value=0)
            missing[column][at] = planted_keys.isna().to_numpy()
            values[column].iloc[at] = planted.to_numpy()  # type: ignore[call-overload]  # pandas-stubs: any array fits
    frame = pd.DataFrame({
        "email_key": pd.arrays.IntegerArray(keys["email"], missing["email"]),
        "phone_key": pd.arrays.IntegerArray(keys["phone"], missing["phone"]),
        "email": values["email"],
        "phone": values["phone"],
    })
    frame.attrs["known_at"] = at
    return frame
