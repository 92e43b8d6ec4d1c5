"""The contract file: its format as validated pydantic models, and its loader.

A contract is the buyer's annex, written in YAML by a purchasing manager (spec/contract.md,
spec/contract.example.yaml, docs/contract-reference.md). Everything downstream (delivery
validation, billing, pilots, alerts, reviews) trusts it, so it is validated completely on load:
an unknown key, a wrong type, a rate outside 0..1, an inconsistent pair of values is refused
with one readable line per problem, all problems at once, naming the file and the key path.

Conventions used below:

- every model forbids unknown keys (a typo must never silently become a default);
- numbers and booleans are strict: ``"45"`` or ``yes``-as-text are not silently converted;
- a key written with no value (``countries:``) counts as absent, so its default applies;
- the models are frozen: a loaded contract is a versioned document, not a scratch pad
  (use ``model_copy(update=...)`` to derive a variant, e.g. in tests).
"""

from __future__ import annotations

import hashlib
import re
import typing
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from leadgov.reasons import ContestReason, RejectionReason

#: The shipped contracts (one YAML file per supplier contract).
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"

#: Larger contract files are refused unread: a contract is a page or two, not a data file.
MAX_CONTRACT_BYTES = 1024 * 1024


class CanonicalField(StrEnum):
    """The canonical lead fields of spec/leads.md, in the spec's order.

    Members are ``str``: ``CanonicalField.email == "email"``.
    """

    lead_id = "lead_id"
    collected_at = "collected_at"
    company_name = "company_name"
    siren = "siren"
    naf_code = "naf_code"
    employees = "employees"
    legal_form = "legal_form"
    postal_code = "postal_code"
    country = "country"
    first_name = "first_name"
    last_name = "last_name"
    job_title = "job_title"
    email = "email"
    phone = "phone"
    language = "language"
    budget_eur = "budget_eur"
    project_horizon_months = "project_horizon_months"
    need = "need"
    source = "source"
    campaign = "campaign"
    consent_at = "consent_at"
    consent_proof = "consent_proof"
    replaces_lead_id = "replaces_lead_id"


CANONICAL_FIELDS: tuple[str, ...] = tuple(field.value for field in CanonicalField)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = typing.get_args(Weekday)

#: ``billing.non_billable_reasons`` when the contract does not say: the example's list
#: (duplicates, already known, unreachable by construction).
DEFAULT_NON_BILLABLE_REASONS: tuple[RejectionReason, ...] = (
    RejectionReason.DUPLICATE_IN_DELIVERY,
    RejectionReason.DUPLICATE_PREVIOUS,
    RejectionReason.DUPLICATE_OTHER_SUPPLIER,
    RejectionReason.ALREADY_IN_CRM,
    RejectionReason.INVALID_PHONE,
    RejectionReason.INVALID_EMAIL,
)


# --------------------------------------------------------------------------------------------
# Value types: each carries its own check, so every field says what it accepts.
# --------------------------------------------------------------------------------------------


def _refuse(kind: str, message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose message is shown to the contract's author as is."""
    return PydanticCustomError(f"contract_{kind}", message, context)


def _as_date(value: Any) -> Any:
    """Accept a YAML date or an ISO ``YYYY-MM-DD`` string; refuse datetimes and numbers
    (pydantic would read ``20270101`` as a Unix timestamp)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _refuse("date", "must be a date written YYYY-MM-DD, got {got}", got=_show(value))


def _distinct(values: list[Any]) -> list[Any]:
    """Drop repeated entries, keeping the first: a code listed twice means the same thing."""
    return list(dict.fromkeys(values))


def _code_of(enum_cls: type[Enum], noun: str) -> Any:
    """A field accepting exactly the values of ``enum_cls``, whose error lists them all."""
    allowed = [member.value for member in enum_cls]

    def check(value: Any) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        raise _refuse(
            "code",
            "unknown {noun} {got} (allowed: {allowed})",
            noun=noun,
            got=_show(value),
            allowed=", ".join(allowed),
        )

    return Annotated[enum_cls, BeforeValidator(check)]


def _matching(pattern: str, explanation: str, *, upper: bool = False, lower: bool = False) -> Any:
    """Non-empty trimmed text matching ``pattern`` (after optional case folding)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _refuse("format", "must be {what}, got {got}", what=explanation, got=_show(value))
        return value

    constraints = StringConstraints(strip_whitespace=True, min_length=1, to_upper=upper, to_lower=lower)
    return Annotated[str, Strict(), constraints, AfterValidator(check)]


Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
LowerText = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, to_lower=True)
]
Flag = Annotated[bool, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]
Money = Annotated[float, Strict(), Field(ge=0)]
Rate = Annotated[float, Strict(), Field(ge=0, le=1)]
Day = Annotated[date, BeforeValidator(_as_date)]

Reason = _code_of(RejectionReason, "reason code")
ContestCode = _code_of(ContestReason, "contest reason code")
Canonical = _code_of(CanonicalField, "canonical field")
Reasons = Annotated[list[Reason], AfterValidator(_distinct)]
ContestCodes = Annotated[list[ContestCode], AfterValidator(_distinct)]
Canonicals = Annotated[list[Canonical], AfterValidator(_distinct)]

Slug = _matching(
    r"[a-z0-9][a-z0-9-]*",
    "a slug of lower-case letters, digits and hyphens, starting with a letter or digit"
    " (e.g. acme-leads)",
)
CountryCode = _matching(r"[A-Z]{2}", "an ISO 3166 two-letter country code (e.g. FR)", upper=True)
Department = _matching(
    r"0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97\d|98\d",
    "a French department code: 01..95 (Corsica: 2A, 2B; overseas: 971..989)",
    upper=True,
)
NafPattern = _matching(
    r"\d{2}(\.?\d{1,2})?\*|\d{2}\.?\d{2}[A-Z]",
    'a full NAF/APE code ("62.01Z" or "6201Z") or a prefix ending in * ("62*", "62.0*")',
    upper=True,
)
Domain = _matching(
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]",
    "a domain name without @ or www (e.g. rival.example)",
    lower=True,
)
Siren = Annotated[
    _matching(r"\d{9}", "a 9-digit SIREN (quote it in YAML)"),
    BeforeValidator(lambda value: value.replace(" ", "") if isinstance(value, str) else value),
]


def _phone_region(value: str) -> str:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise _refuse(
            "region",
            "unknown phone region {got}"
            " (an ISO 3166 code that phonenumbers knows, e.g. FR, BE, CH, LU, DE)",
            got=_show(value),
        )
    return value


PhoneRegion = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_phone_region)
]


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------


class Block(BaseModel):
    """Base of every contract block: unknown keys refused, frozen, empty values = absent.

    Every model below inherits this ``model_config``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_absent(cls, data: Any) -> Any:
        """``key:`` with nothing after it is YAML null; the author meant "not set"."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def _not_below(info: ValidationInfo, other: str, value: Any, below: str = "below") -> Any:
    """Refuse ``value`` below the already-validated sibling ``other``; skipped when ``other``
    is absent or itself invalid (that problem is reported on its own line)."""
    floor = info.data.get(other)
    if value is not None and floor is not None and value < floor:
        raise _refuse(
            "order",
            "must not be {below} {other} ({floor}), got {got}",
            below=below,
            other=other,
            floor=_show(floor),
            got=_show(value),
        )
    return value


class Supplier(Block):
    """Who delivers the leads."""

    id: Slug
    name: Text
    contact_email: Text | None = None


class Period(Block):
    """When the contract runs."""

    start: Day
    end: Day
    auto_renew: Flag = False
    notice_days: Count = 0

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: date, info: ValidationInfo) -> date:
        return _not_below(info, "start", value, "before")


class FreezeIf(Block):
    """Conditions that make a month's statement not payable; an absent rate never freezes."""

    duplicate_rate_above: Rate | None = None
    data_error_rate_above: Rate | None = None
    gdpr_breach: Flag = True


class Billing(Block):
    """How leads are paid for (spec/governance.md, Billing)."""

    model: Literal["per_lead", "per_qualified_lead", "per_appointment", "mixed"]
    unit_price_eur: Money
    fixed_fee_eur_monthly: Money = 0.0
    monthly_budget_cap_eur: Money | None = None
    non_billable_reasons: Reasons = Field(default_factory=lambda: list(DEFAULT_NON_BILLABLE_REASONS))
    freeze_if: FreezeIf = Field(default_factory=FreezeIf)

    @field_validator("fixed_fee_eur_monthly")
    @classmethod
    def _fixed_fee_only_when_mixed(cls, value: float, info: ValidationInfo) -> float:
        """A fee the model never bills would be a clause silently ignored."""
        model = info.data.get("model")
        if value and model is not None and model != "mixed":
            raise _refuse(
                "fixed_fee",
                "a fixed monthly fee is only billed under model: mixed (model is {model}), got {got}",
                model=model,
                got=_show(value),
            )
        return value


class Volumes(Block):
    """What arrives, and when."""

    weekly_target: Count
    weekly_max: Count
    monthly_min: Count
    monthly_max: Count
    delivery_weekdays: Annotated[list[Weekday], AfterValidator(_distinct)] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )

    @field_validator("weekly_max")
    @classmethod
    def _weekly_max(cls, value: int, info: ValidationInfo) -> int:
        return _not_below(info, "weekly_target", value)

    @field_validator("monthly_max")
    @classmethod
    def _monthly_max(cls, value: int, info: ValidationInfo) -> int:
        return _not_below(info, "monthly_min", value)

    @property
    def delivery_isoweekdays(self) -> frozenset[int]:
        """The delivery days as ISO weekday numbers (Monday = 1), as ``date.isoweekday()``."""
        return frozenset(WEEKDAYS.index(day) + 1 for day in self.delivery_weekdays)


def fold_header(header: str) -> str:
    """A header as compared with a file's header: case, surrounding spaces and BOM ignored."""
    return header.replace("\ufeff", "").strip().casefold()


class Delivery(Block):
    """How to read the supplier's files (spec/leads.md, A delivery)."""

    format: Literal["csv", "json"] = "csv"
    encoding: Literal["auto", "utf-8", "cp1252", "latin-1"] = "auto"
    delimiter: Literal["auto", ";", ",", "\t"] = "auto"
    date_format: Text = "auto"
    columns: dict[str, Canonical] = Field(default_factory=dict)

    @field_validator("date_format")
    @classmethod
    def _strftime_pattern(cls, value: str) -> str:
        if value != "auto" and not re.search(r"%[a-zA-Z]", value):
            raise _refuse(
                "date_format",
                'must be auto or a strftime pattern such as "%d/%m/%Y", got {got}',
                got=_show(value),
            )
        return value

    @field_validator("columns")
    @classmethod
    def _one_header_per_field(cls, value: dict[str, CanonicalField]) -> dict[str, CanonicalField]:
        """Two headers feeding one field (or one header written twice) is ambiguous."""
        problems = []
        by_field: dict[str, list[str]] = {}
        by_folded: dict[str, list[str]] = {}
        for header, field in value.items():
            if not fold_header(header):
                problems.append("a header must not be empty")
            by_field.setdefault(field, []).append(header)
            by_folded.setdefault(fold_header(header), []).append(header)
        for field, headers in by_field.items():
            if len(headers) > 1:
                problems.append(f"headers {_quote_all(headers)} all map to {field}")
        for headers in by_folded.values():
            if len(headers) > 1:
                problems.append(
                    f"headers {_quote_all(headers)} are the same header (case and spaces are ignored)"
                )
        if problems:
            raise _refuse("columns", "{problems}", problems="; ".join(problems))
        return value

    def canonical_name(self, header: str) -> str | None:
        """The canonical field a file header maps to: by ``columns`` first, else the header
        itself when it is a canonical name; ``None`` for an extra column."""
        folded = fold_header(header)
        for mapped, field in self.columns.items():
            if fold_header(mapped) == folded:
                return field.value
        return folded if folded in CANONICAL_FIELDS else None


class Qualification(Block):
    """The "lead qualifié": who we want. Every criterion is optional; absent or empty filters nothing."""

    countries: list[CountryCode] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)
    naf_include: list[NafPattern] = Field(default_factory=list)
    naf_exclude: list[NafPattern] = Field(default_factory=list)
    min_employees: Count | None = None
    max_employees: Count | None = None
    job_title_include: list[Text] = Field(default_factory=list)
    job_title_exclude: list[Text] = Field(default_factory=list)
    min_budget_eur: Money | None = None
    max_project_horizon_months: Count | None = None
    allowed_sources: list[LowerText] = Field(default_factory=list)

    @field_validator("max_employees")
    @classmethod
    def _max_employees(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _not_below(info, "min_employees", value)


class Exploitability(Block):
    """The "lead exploitable": what our team can work without rework."""

    required_fields: Canonicals
    phone_regions: Annotated[list[PhoneRegion], AfterValidator(_distinct)] = Field(
        default_factory=lambda: ["FR"], min_length=1
    )
    email_nominative: Flag = True
    reject_free_email_domains: Flag = True
    max_age_days: Count


class Exclusions(Block):
    """Leads we never want, whatever their qualification. Every criterion is optional."""

    competitor_domains: list[Domain] = Field(default_factory=list)
    competitor_sirens: list[Siren] = Field(default_factory=list)
    excluded_legal_forms: list[Text] = Field(default_factory=list)
    exclude_students: Flag = False
    dedup_window_days: Count = 180
    crm_check: Flag = False


class Gdpr(Block):
    """Consent and retention terms."""

    consent_required: Flag = True
    legal_basis: Literal["consent", "legitimate_interest"]
    retention_days: Annotated[int, Strict(), Field(gt=0)]


class Quality(Block):
    """The supplier's quality commitments, and our own first-contact commitment."""

    max_reject_rate: Rate
    min_reachability: Rate
    first_contact_sla_hours: Annotated[float, Strict(), Field(gt=0)]
    first_contact_sla_share: Rate


class Replacement(Block):
    """Contest and replacement terms (spec/governance.md, Replacements)."""

    contest_window_days: Count
    replacement_deadline_days: Count
    max_replacement_share: Rate
    contest_reasons: ContestCodes = Field(default_factory=lambda: list(ContestReason))


class Exclusivity(Block):
    """Whether the supplier may sell the same leads to others, and for how long."""

    exclusive: Flag = False
    days: Count = 0


class PilotThresholds(Block):
    """All must hold for a GO verdict."""

    max_reject_rate: Rate = 0.15
    min_reachability: Rate = 0.50
    min_appointment_rate: Rate = 0.05
    first_contact_sla_share: Rate = 0.80


class Pilot(Block):
    """The test batch a new supplier delivers before the contract runs in earnest."""

    size: Annotated[int, Strict(), Field(ge=1, le=100_000)] = 100
    max_duration_days: Annotated[int, Strict(), Field(ge=1)] = 30
    thresholds: PilotThresholds = Field(default_factory=PilotThresholds)


class Alerts(Block):
    """Where and when Slack alerts go."""

    slack_channel: Text = "#lead-ops"
    committee_channel: Text = "#lead-governance"
    reject_spike_sigma: Annotated[float, Strict(), Field(gt=0)] = 2.0
    min_leads_for_rate_alerts: Count = 20


class Contract(Block):
    """One supplier contract, as signed. Field names are the YAML keys."""

    contract_id: Text
    supersedes: Text | None = None
    effective_from: Day | None = Field(default=None, validate_default=True)
    supplier: Supplier
    owner: Text | None = None
    period: Period
    locale: Literal["fr", "en"] = "fr"
    billing: Billing
    volumes: Volumes
    delivery: Delivery = Field(default_factory=Delivery)
    qualification: Qualification = Field(default_factory=Qualification)
    exploitability: Exploitability
    exclusions: Exclusions = Field(default_factory=Exclusions)
    gdpr: Gdpr
    quality: Quality
    replacement: Replacement
    exclusivity: Exclusivity = Field(default_factory=Exclusivity)
    pilot: Pilot = Field(default_factory=Pilot)
    alerts: Alerts = Field(default_factory=Alerts)

    @field_validator("effective_from")
    @classmethod
    def _supersession_is_complete(cls, value: date | None, info: ValidationInfo) -> date | None:
        """A replacement contract must say from when it applies, and only a replacement may."""
        if "supersedes" not in info.data:  # supersedes itself is invalid: reported on its own
            return value
        supersedes = info.data["supersedes"]
        if supersedes and value is None:
            raise _refuse(
                "supersession", "required when supersedes is set (the date this version applies from)"
            )
        if value is not None and not supersedes:
            raise _refuse(
                "supersession", "only allowed with supersedes (the contract this one replaces)"
            )
        return value

    @property
    def supplier_id(self) -> str:
        """The supplier's slug: the key of files, alerts and database rows."""
        return self.supplier.id


# --------------------------------------------------------------------------------------------
# Errors: pydantic's findings as lines a purchasing manager can act on
# --------------------------------------------------------------------------------------------


class ContractError(ValueError):
    """A contract file refused; ``problems`` lists every problem found, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = "".join(f"\n  - {problem}" for problem in self.problems)
        return f"{self.source}: contract refused, {len(self.problems)} problem(s):{lines}"

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep the error intact across processes (Prefect task runners pickle exceptions)."""
        return (type(self), (self.source, self.problems))


def _show(value: Any) -> str:
    """A value as the author wrote it in YAML, shortened."""
    if value is None:
        shown = "null (empty)"
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, Enum):
        shown = repr(value.value)
    elif isinstance(value, float) and value.is_integer():
        shown = str(int(value))
    elif isinstance(value, (dict, list)):
        shown = ("a mapping " if isinstance(value, dict) else "a list ") + repr(value)
    else:
        shown = repr(value) if isinstance(value, str) else str(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _quote_all(values: list[str]) -> str:
    return ", ".join(repr(value) for value in values)


def _key_path(loc: tuple[Any, ...]) -> str:
    """``('billing', 'freeze_if', 'x')`` -> ``billing.freeze_if.x``; list indices as ``[i]``;
    keys that are not plain names (headers with spaces) as ``['Date collecte']``."""
    path = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for "the key itself" in a mapping
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            path += f".{part}" if path else str(part)
        else:
            path += f"[{str(part)!r}]"
    return path or "(contract)"


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The block model found at a key path, or None when the path leads elsewhere."""
    model: type[BaseModel] | None = Contract
    for part in path:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _block_type(model.model_fields[part].annotation)
    return model


def _block_type(annotation: Any) -> type[BaseModel] | None:
    """The block model inside ``X`` or ``X | None``."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _bounds(loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """The (lower, upper) limits declared on the field at ``loc``, None where unbounded."""
    model = _model_at(loc[:-1])
    info = model.model_fields.get(loc[-1]) if model and isinstance(loc[-1], str) else None
    lower = upper = None
    for item in _constraints(info.annotation, info.metadata) if info else ():
        lower = _first_attr(item, ("ge", "gt"), lower)
        upper = _first_attr(item, ("le", "lt"), upper)
    return lower, upper


def _first_attr(item: Any, names: tuple[str, ...], default: Any) -> Any:
    return next((getattr(item, name) for name in names if getattr(item, name, None) is not None), default)


def _constraints(annotation: Any, metadata: list[Any]) -> list[Any]:
    """A field's constraint objects, including those inside ``Rate | None``."""
    found = []
    for item in metadata:  # Field(ge=...) inside Annotated arrives as a FieldInfo
        found += item.metadata if isinstance(item, FieldInfo) else [item]
    for arg in typing.get_args(annotation):
        found += _constraints(arg, list(getattr(arg, "__metadata__", ())))
    return found


def _range_message(error: dict[str, Any]) -> str:
    lower, upper = _bounds(error["loc"])
    got = _show(error["input"])
    if lower is not None and upper is not None:
        return f"must be between {lower} and {upper}, got {got}"
    ctx = error.get("ctx", {})
    if "gt" in ctx:
        return f"must be greater than {_show(ctx['gt'])}, got {got}"
    if "ge" in ctx:
        floor = _show(ctx["ge"])
        if floor == "0":
            return f"must not be negative, got {got}"
        return f"must be at least {floor}, got {got}"
    limit = ctx.get("le", ctx.get("lt"))
    return f"must be at most {_show(limit)}, got {got}"


def _expected_literals(error: dict[str, Any]) -> str:
    return ", ".join(re.findall(r"'((?:[^'\\]|\\.)*)'", error.get("ctx", {}).get("expected", "")))


_TYPE_MESSAGES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be text (put it in quotes)",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
}


def _message(error: dict[str, Any]) -> str:
    """One pydantic error as the part of a problem line after the key path."""
    kind, loc = error["type"], error["loc"]
    if kind.startswith("contract_"):
        return error["msg"]
    if kind == "missing":
        return "required block is missing" if _model_at(loc) else "required key is missing"
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        expected = ", ".join(parent.model_fields) if parent else "?"
        return f"unknown key (expected one of: {expected})"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        return _range_message(error)
    if kind == "literal_error":
        return f"must be one of: {_expected_literals(error)}; got {_show(error['input'])}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"must list at least {error['ctx']['min_length']} item(s)"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {_show(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]}, got {_show(error['input'])}"


def describe_validation_error(error: ValidationError) -> list[str]:
    """Every pydantic error as ``key.path: what is wrong``, in file order."""
    return [f"{_key_path(item['loc'])}: {_message(item)}" for item in error.errors()]


# --------------------------------------------------------------------------------------------
# YAML: safe, alias-free, duplicate keys reported
# --------------------------------------------------------------------------------------------


class _AliasRefused(yaml.composer.ComposerError):
    """An alias (``*name``) met in a contract."""


class _ContractLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no Python tags) that also refuses aliases: ``*name`` is what a
    "billion laughs" document expands, and a contract never needs one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasRefused(
                None, None, f"aliases (*{event.anchor}) are not allowed in a contract", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """An impossible date (2027-13-01) stays text, so the model reports it under its key."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return node.value


_ContractLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _ContractLoader.construct_lenient_timestamp
)


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...] = ()) -> list[str]:
    """Keys written twice in one mapping. PyYAML silently keeps the last value: a contract
    clause must not vanish unnoticed."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key in first_line:
                problems.append(
                    f"{_key_path((*path, key))}: written twice (lines {first_line[key]} and {line});"
                    " keep one value"
                )
            elif key is not None:
                first_line[key] = line
            problems += _duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*path, index))
    return problems


def _read_yaml(text: str, source: str) -> tuple[Any, list[str]]:
    """The YAML document and the duplicate-key problems; unreadable YAML raises ContractError."""
    loader = _ContractLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        return loader.construct_document(node), _duplicate_keys(node)
    except yaml.MarkedYAMLError as exc:
        raise ContractError(source, [_yaml_problem(exc)]) from None
    except yaml.YAMLError as exc:
        raise ContractError(source, [f"YAML error: {exc}"]) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """``line L, column C: YAML syntax error: what the parser expected``."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    if isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)):
        kind = "YAML syntax error: "
    elif isinstance(exc, yaml.constructor.ConstructorError):
        kind = "not allowed in a contract: "
    else:
        kind = "" if isinstance(exc, _AliasRefused) else "YAML error: "
    detail = "; ".join(part for part in (exc.context, exc.problem) if part)
    return f"{where}{kind}{detail}"


def _kind_of(document: Any) -> str:
    if document is None:
        return "an empty document"
    if isinstance(document, list):
        return "a list"
    return f"a single value ({_show(document)})"


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFile:
    """A contract as loaded: its exact text (comments kept, for the stored copy), the hash that
    identifies this version, and the validated model."""

    path: str
    text: str
    sha256: str
    contract: Contract


def parse_contract(text: str, source: str = "<string>") -> ContractFile:
    """Validate a contract given as YAML text; ``source`` names it in error messages.

    Raises ContractError listing every problem found.
    """
    if len(text.encode("utf-8")) > MAX_CONTRACT_BYTES:
        raise ContractError(source, [f"file larger than {MAX_CONTRACT_BYTES} bytes: not a contract"])
    document, problems = _read_yaml(text, source)
    if not isinstance(document, dict):
        problems.append(
            f"the file must be a mapping of contract keys (contract_id: ...), got {_kind_of(document)}"
        )
        raise ContractError(source, problems)
    try:
        contract = Contract.model_validate(document)
    except ValidationError as exc:
        raise ContractError(source, problems + describe_validation_error(exc)) from None
    if problems:
        raise ContractError(source, problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ContractFile(path=source, text=text, sha256=digest, contract=contract)


def load_contract(path: str | Path) -> ContractFile:
    """Read and validate a contract file (UTF-8 YAML). Raises ContractError."""
    source = str(path)
    return parse_contract(_read_text(Path(path), source), source)


def _read_text(path: Path, source: str) -> str:
    """The file's exact text; every way of failing becomes a ContractError."""
    try:
        if path.stat().st_size > MAX_CONTRACT_BYTES:
            raise ContractError(source, [f"file larger than {MAX_CONTRACT_BYTES} bytes: not a contract"])
        data = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(source, ["file not found"]) from None
    except IsADirectoryError:
        raise ContractError(source, ["is a directory, not a contract file"]) from None
    except OSError as exc:
        raise ContractError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): save the file as UTF-8"
        raise ContractError(source, [problem]) from None
