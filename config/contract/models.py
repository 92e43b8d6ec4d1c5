"""The contract's blocks as frozen pydantic models, and `Contract`, the whole file."""

# Conventions used below:
#
# - every model forbids unknown keys (a typo must never silently become a default);
# - numbers and booleans are strict: ``"45"`` or ``yes``-as-text are not silently converted;
# - a key written with no value (``countries:``) counts as absent, so its default applies;
# - the models are frozen: a loaded contract is a versioned document, not a scratch pad
#   (use ``model_copy(update=...)`` to derive a variant, e.g. in tests).

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadgov.config.contract.value_types import (
    CANONICAL_FIELDS,
    MAX_DAYS,
    MAX_SIGMA,
    MAX_STORED_EUR,
    WEEKDAYS,
    Canonical,
    CanonicalField,
    Canonicals,
    ContestCodes,
    CountryCode,
    Day,
    Days,
    Department,
    Domain,
    Employees,
    Flag,
    Hours,
    IdText,
    LeadCap,
    Leads,
    LowerText,
    Money,
    Months,
    NafPattern,
    NameText,
    PhoneRegion,
    Rate,
    Reasons,
    ReviewCodes,
    Siren,
    Slug,
    Text,
    UnitPrice,
    Weekday,
    _distinct,
    _refuse,
)
from leadgov.config.contract.wording import _quote_all, _show
from leadgov.fields import fold_header
from leadgov.reasons import ContestReason, RejectionReason

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


#: What a bound checked against a sibling key can be.
_Bound = TypeVar("_Bound", int, int | None, date)


def _not_below(info: ValidationInfo, other: str, value: _Bound, below: str = "below") -> _Bound:
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
    name: NameText
    contact_email: Text | None = None


class Period(Block):
    """When the contract runs."""

    start: Day
    end: Day
    auto_renew: Flag = False
    notice_days: Days = 0

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
    """How leads are paid for (docs/governance.md, Billing)."""

    model: Literal["per_lead", "per_qualified_lead", "per_appointment", "mixed"]
    unit_price_eur: UnitPrice
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


def _workdays() -> list[Weekday]:
    """The default delivery days: Monday to Friday."""
    return ["mon", "tue", "wed", "thu", "fri"]


class Volumes(Block):
    """What arrives, and when."""

    weekly_target: Leads
    weekly_max: Leads
    monthly_min: Leads
    monthly_max: Leads
    delivery_weekdays: Annotated[list[Weekday], AfterValidator(_distinct)] = Field(
        default_factory=_workdays
    )
    #: COMPANY_CAP: at most this many accepted leads of one company (one valid SIREN) from the supplier
    #: within ``exclusions.dedup_window_days``; absent = no cap.
    max_leads_per_company: LeadCap | None = None

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


class Delivery(Block):
    """How to read the supplier's files (docs/deliveries.md, A delivery)."""

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
        by_field: dict[CanonicalField, list[str]] = {}
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
    min_employees: Employees | None = None
    max_employees: Employees | None = None
    job_title_include: list[Text] = Field(default_factory=list)
    job_title_exclude: list[Text] = Field(default_factory=list)
    min_budget_eur: Money | None = None
    max_project_horizon_months: Months | None = None
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
    max_age_days: Days
    #: The review tier: a lead whose reasons are all in this list waits in ``review`` for a person
    #: instead of being rejected (``leadgov.reasons.REVIEWABLE_REASONS`` are the codes it may hold).
    review_reasons: ReviewCodes = Field(default_factory=list)
    #: A lead still in review this many days after its delivery is rejected by the daily check.
    review_deadline_days: Days = 5


class Exclusions(Block):
    """Leads we never want, whatever their qualification. Every criterion is optional."""

    competitor_domains: list[Domain] = Field(default_factory=list)
    competitor_sirens: list[Siren] = Field(default_factory=list)
    excluded_legal_forms: list[Text] = Field(default_factory=list)
    exclude_students: Flag = False
    dedup_window_days: Days = 180
    crm_check: Flag = False


class Gdpr(Block):
    """Consent and retention terms."""

    consent_required: Flag = True
    legal_basis: Literal["consent", "legitimate_interest"]
    retention_days: Annotated[int, Strict(), Field(gt=0, le=MAX_DAYS)]


class Quality(Block):
    """The supplier's quality commitments, and our own first-contact commitment."""

    max_reject_rate: Rate
    min_reachability: Rate
    first_contact_sla_hours: Hours
    first_contact_sla_share: Rate


class Replacement(Block):
    """Contest and replacement terms (docs/governance.md, Replacements)."""

    contest_window_days: Days
    replacement_deadline_days: Days
    max_replacement_share: Rate
    contest_reasons: ContestCodes = Field(default_factory=lambda: list(ContestReason))


class Exclusivity(Block):
    """Whether the supplier may sell the same leads to others, and for how long."""

    exclusive: Flag = False
    days: Days = 0


class PilotThresholds(Block):
    """All must hold for a GO verdict."""

    max_reject_rate: Rate = 0.15
    min_reachability: Rate = 0.50
    min_appointment_rate: Rate = 0.05
    first_contact_sla_share: Rate = 0.80


class Pilot(Block):
    """The test batch a new supplier delivers before the contract runs in earnest."""

    size: Annotated[int, Strict(), Field(ge=1, le=100_000)] = 100
    max_duration_days: Annotated[int, Strict(), Field(ge=1, le=MAX_DAYS)] = 30
    thresholds: PilotThresholds = Field(default_factory=PilotThresholds)


class Alerts(Block):
    """Where and when Slack alerts go."""

    slack_channel: IdText = "#lead-ops"
    committee_channel: IdText = "#lead-governance"
    #: Where the review and pilot reports are also e-mailed (HTML and PDF attached).
    committee_emails: Annotated[list[EmailStr], Field(max_length=50)] = Field(default_factory=list)
    reject_spike_sigma: Annotated[float, Strict(), Field(gt=0, le=MAX_SIGMA, allow_inf_nan=False)] = 2.0
    min_leads_for_rate_alerts: Leads = 20


class Contract(Block):
    """One supplier contract, as signed. Field names are the YAML keys."""

    contract_id: IdText
    supersedes: IdText | None = None
    effective_from: Day | None = Field(default=None, validate_default=True)
    supplier: Supplier
    owner: NameText | None = None
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

    @property
    def first_day(self) -> date:
        """The first day a delivery may be judged under this contract: ``period.start``, or, for a
        version that supersedes another, its ``effective_from`` when later (before it, the superseded
        contract still applies)."""
        if self.effective_from is not None and self.effective_from > self.period.start:
            return self.effective_from
        return self.period.start

    def applies_on(self, day: date) -> bool:
        """Whether a delivery of ``day`` falls within this contract: ``first_day`` to ``period.end``,
        both included."""
        return self.first_day <= day <= self.period.end


def capacity_problems(contract: Contract) -> list[str]:
    """What a contract states that the database could not store, as problem lines: a month billed at
    the contracted maximum (``volumes.monthly_max`` units at ``billing.unit_price_eur``, plus the
    monthly fee) must fit the money columns (``MAX_STORED_EUR``). Each key alone is bounded by its
    type; this is their product."""
    billing = contract.billing
    units = contract.volumes.monthly_max
    most = units * Decimal(str(billing.unit_price_eur)) + Decimal(str(billing.fixed_fee_eur_monthly))
    if most <= MAX_STORED_EUR:
        return []
    return [
        f"billing.unit_price_eur: {_show(billing.unit_price_eur)} EUR for each of volumes.monthly_max"
        f" ({units}) leads makes {most:.2f} EUR a month (fee included), more than leadgov can store"
        f" ({MAX_STORED_EUR} EUR): lower the price or the monthly maximum"
    ]
