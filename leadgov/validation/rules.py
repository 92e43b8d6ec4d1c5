"""The per-field rules of docs/deliveries.md as a pandera schema built from the contract.

Each check is named after the rejection reason it proves, so the failure cases of one lazy
validation are the (row, reason) pairs directly. Targeting checks ignore NA, which is how "an
absent field skips every check on it" and "an unreadable value skips the other checks on that
field" are enforced: ``prepare`` leaves such values NA.
"""

from collections.abc import Callable, Iterable
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa

from leadgov.config.contract import Contract
from leadgov.normalise import emails, text
from leadgov.reasons import RejectionReason as R
from leadgov.validation.prepare import normalise_naf_codes

#: A vectorised predicate over one column: True where the value passes.
Predicate = Callable[[pd.Series], pd.Series]
#: Adds a check on a column of the facts frame.
AddCheck = Callable[[str, pa.Check], None]

CONSENT_FIELDS = ("consent_at", "consent_proof")
NOTICE_FIELD = "notice_sent_at"
#: GDPR Art. 14: a person whose data was not collected from them is informed within a month.
NOTICE_MAX_DAYS = 30
STUDENT_WORDS = (
    "etudiant", "etudiante", "etudiants", "etudiantes", "stagiaire", "stagiaires",
    "alternant", "alternante", "alternants", "alternantes", "apprenti", "apprentie",
    "apprentis", "apprenties", "student", "students", "intern", "interns",
)  # fmt: skip


def flag_column(kind: str, field: str) -> str:
    """Name of a boolean fact column, e.g. ``missing__email``."""
    return f"{kind}__{field}"


def facts_frame(values: pd.DataFrame, missing: pd.DataFrame, invalid: pd.DataFrame) -> pd.DataFrame:
    """The frame the schema validates: normalised values beside their missing/invalid flags."""
    flags = pd.concat(
        [missing.add_prefix("missing__"), invalid.add_prefix("invalid__")], axis=1
    )
    return pd.concat([values, flags], axis=1)


def _never(reason: R) -> pa.Check:
    """A check on a boolean flag column that fails where the flag is set."""
    return pa.Check(lambda s: ~s.astype(bool), name=reason.value, ignore_na=False)


def _holds(reason: R, predicate: Predicate) -> pa.Check:
    """A check that fails where ``predicate`` is False; NA values are skipped."""
    return pa.Check(predicate, name=reason.value, ignore_na=True)


def build_schema(contract: Contract, delivered_on: date) -> pa.DataFrameSchema:
    """Every per-field rule of ``contract`` as named checks over the facts frame."""
    columns: dict[str, list[pa.Check]] = {}

    def add(column: str, check: pa.Check) -> None:
        columns.setdefault(column, []).append(check)

    _presence_rules(contract, add)
    _format_rules(add)
    _consent_rules(contract, delivered_on, add)
    _notice_rules(contract, delivered_on, add)
    _exclusion_rules(contract, delivered_on, add)
    _targeting_rules(contract, add)
    return pa.DataFrameSchema(
        {name: pa.Column(checks=checks, nullable=True, required=True) for name, checks in columns.items()},
        strict=False,
    )


def _presence_rules(contract: Contract, add: AddCheck) -> None:
    consent_required = contract.gdpr.consent_required
    for field in contract.exploitability.required_fields:
        if consent_required and field in CONSENT_FIELDS:
            continue  # a missing consent field is NO_CONSENT, never MISSING_FIELD
        if needs_notice(contract) and field == NOTICE_FIELD:
            continue  # a missing notice under legitimate interest is NO_NOTICE, never MISSING_FIELD
        add(flag_column("missing", field), _never(R.MISSING_FIELD))


def _format_rules(add: AddCheck) -> None:
    add(flag_column("invalid", "email"), _never(R.INVALID_EMAIL))
    add(flag_column("invalid", "phone"), _never(R.INVALID_PHONE))
    add(flag_column("invalid", "siren"), _never(R.INVALID_COMPANY_ID))
    for field in ("collected_at", "consent_at", "notice_sent_at", "employees", "budget_eur",
                  "project_horizon_months", "postal_code"):  # fmt: skip
        add(flag_column("invalid", field), _never(R.INVALID_VALUE))


def _consent_rules(contract: Contract, delivered_on: date, add: AddCheck) -> None:
    if not contract.gdpr.consent_required:
        return
    for field in CONSENT_FIELDS:
        add(flag_column("missing", field), _never(R.NO_CONSENT))
    end_of_day = pd.Timestamp(delivered_on) + pd.Timedelta(days=1)
    add("consent_at", _holds(R.NO_CONSENT, lambda s: s < end_of_day))


def needs_notice(contract: Contract) -> bool:
    """Whether each lead must prove the person was informed (the legal basis is legitimate interest)."""
    return contract.gdpr.legal_basis == "legitimate_interest"


def _notice_rules(contract: Contract, delivered_on: date, add: AddCheck) -> None:
    """NO_NOTICE: missing, sent after the delivery day, or more than ``NOTICE_MAX_DAYS`` calendar
    days after the collection day (exactly 30 is in time)."""
    if not needs_notice(contract):
        return
    add(flag_column("missing", NOTICE_FIELD), _never(R.NO_NOTICE))
    end_of_day = pd.Timestamp(delivered_on) + pd.Timedelta(days=1)
    add(NOTICE_FIELD, _holds(R.NO_NOTICE, lambda s: s < end_of_day))
    add("notice_days_after_collection", _holds(R.NO_NOTICE, lambda s: s <= NOTICE_MAX_DAYS))


def _exclusion_rules(contract: Contract, delivered_on: date, add: AddCheck) -> None:
    ex = contract.exclusions
    if ex.competitor_domains:
        domains = list(ex.competitor_domains)
        add("email_domain", _holds(R.COMPETITOR, lambda s: ~emails.domain_matches(s, domains)))
    if ex.competitor_sirens:
        sirens = set(ex.competitor_sirens)  # the contract already holds them as 9 digits
        add("siren", _holds(R.COMPETITOR, lambda s: ~s.isin(sirens)))
    if ex.excluded_legal_forms:
        forms = set(text.words(pd.Series(list(ex.excluded_legal_forms), dtype="str")))
        add("legal_form_words", _holds(R.EXCLUDED_LEGAL_FORM, lambda s: ~s.isin(forms)))
    if ex.exclude_students:
        add("job_title_words", _holds(R.STUDENT, lambda s: ~text.contains_keyword(s, STUDENT_WORDS)))
        add("email_domain", _holds(R.STUDENT, lambda s: ~emails.is_academic_domain(s)))
    oldest = pd.Timestamp(delivered_on) - pd.Timedelta(days=contract.exploitability.max_age_days)
    add("collected_at", _holds(R.STALE, lambda s: s.dt.normalize() >= oldest))
    if contract.exploitability.email_nominative:
        generic = emails.GENERIC_LOCAL_PARTS
        add("email_local", _holds(R.GENERIC_EMAIL, lambda s: ~s.isin(generic)))
    if contract.exploitability.reject_free_email_domains:
        free = emails.FREE_EMAIL_DOMAINS
        add("email_domain", _holds(R.FREE_EMAIL, lambda s: ~s.isin(free)))


def _targeting_rules(contract: Contract, add: AddCheck) -> None:
    q = contract.qualification
    if q.countries:
        countries = set(q.countries)
        add("country", _holds(R.OUT_OF_TARGET_GEO, lambda s: s.isin(countries)))
    if q.departments:
        departments = set(q.departments)
        add("department", _holds(R.OUT_OF_TARGET_GEO, lambda s: s.isin(departments)))
    if q.naf_include or q.naf_exclude:
        add("naf_code", _holds(R.OUT_OF_TARGET_SECTOR, naf_predicate(q.naf_include, q.naf_exclude)))
    if q.min_employees is not None:
        fewest = q.min_employees
        add("employees", _holds(R.OUT_OF_TARGET_SIZE, lambda s: s >= fewest))
    if q.max_employees is not None:
        most = q.max_employees
        add("employees", _holds(R.OUT_OF_TARGET_SIZE, lambda s: s <= most))
    if q.job_title_include:
        include = list(q.job_title_include)
        add("job_title_words", _holds(R.OUT_OF_TARGET_FUNCTION, lambda s: text.contains_keyword(s, include)))
    if q.job_title_exclude:
        exclude = list(q.job_title_exclude)
        add("job_title_words", _holds(R.OUT_OF_TARGET_FUNCTION, lambda s: ~text.contains_keyword(s, exclude)))
    if q.min_budget_eur is not None:
        least = q.min_budget_eur
        add("budget_eur", _holds(R.OUT_OF_TARGET_BUDGET, lambda s: s >= least))
    if q.max_project_horizon_months is not None:
        limit = q.max_project_horizon_months
        add("project_horizon_months", _holds(R.OUT_OF_TARGET_MATURITY, lambda s: s <= limit))
    if q.allowed_sources:
        sources = set(q.allowed_sources)
        add("source", _holds(R.UNAUTHORIZED_SOURCE, lambda s: s.isin(sources)))


def naf_predicate(include: Iterable[str] | None, exclude: Iterable[str] | None) -> Predicate:
    """True where the NAF code matches an include pattern (if any) and no exclude pattern.

    A pattern ending in ``*`` is a prefix; any other pattern is a whole code.
    """

    def split(patterns: Iterable[str]) -> tuple[tuple[str, ...], set[str]]:
        normalised = normalise_naf_codes(pd.Series(list(patterns), dtype="str")).tolist()
        prefixes = tuple(p[:-1] for p in normalised if p.endswith("*"))
        exact = {p for p in normalised if not p.endswith("*")}
        return prefixes, exact

    def matches(s: pd.Series, prefixes: tuple[str, ...], exact: set[str]) -> pd.Series:
        hit = s.isin(exact)
        if prefixes:
            hit |= s.str.startswith(prefixes)
        return hit.fillna(False).astype(bool)

    inc, exc = split(include or []), split(exclude or [])

    def predicate(s: pd.Series) -> pd.Series:
        ok = matches(s, *inc) if include else pd.Series(True, index=s.index)
        if exclude:
            ok &= ~matches(s, *exc)
        return ok

    return predicate


def field_failures(facts: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """The (row, code, column) triples where a per-field rule fails, column by column and check by
    check in the schema's order, rows ascending.

    Each check is run as pandera runs it (``Check.__call__``: NA values skipped where the check says
    so), on its column; a lazy ``schema.validate`` gives the same triples (compared in
    tests/leadgov/validation/test_field_failures.py) but builds a report of every failing
    check's cases first, about 6 ms per failing check whatever the delivery's size: most of a weekly
    file's validation."""
    missing = [name for name in schema.columns if name not in facts.columns]
    if missing:
        raise RuntimeError(f"validation rules could not run: no column {', '.join(missing)}")
    found: list[pd.DataFrame] = []
    broken: list[str] = []
    for name, column in schema.columns.items():
        for check in column.checks:
            try:
                passed = check(facts[name]).check_output
            except Exception:  # noqa: BLE001 - a rule that cannot run is reported with its code below
                broken.append(str(check.name))
                continue
            rows = passed.index[~passed.to_numpy(dtype=bool)]
            if len(rows):
                found.append(pd.DataFrame({"row": np.sort(rows.to_numpy(dtype="int64")), "code": str(check.name),
                                           "column": name}))
    if broken:
        raise RuntimeError(f"validation rules could not run: {', '.join(sorted(set(broken)))}")
    if not found:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "code": pd.Series(dtype=str),
                             "column": pd.Series(dtype=str)})
    return pd.concat(found, ignore_index=True)

