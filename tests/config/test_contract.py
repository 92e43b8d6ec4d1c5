"""The contract file format: what loads, what is refused, and how the refusal reads."""

import hashlib
import pickle
from datetime import date
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from factories import DELETE, with_overrides

from leadgov.config.contract import (
    CONTRACTS_DIR,
    MAX_CONTRACT_BYTES,
    Contract,
    ContractError,
    ContractFile,
    load_contract,
    parse_contract,
)
from leadgov.reasons import ContestReason, RejectionReason

EXAMPLE_PATH = CONTRACTS_DIR / "acme-leads.yaml"
SHIPPED = sorted(CONTRACTS_DIR.glob("*.yaml"))


def example() -> dict[str, Any]:
    """The shipped example contract as plain data, a fresh copy each time."""
    return yaml.safe_load(EXAMPLE_PATH.read_text(encoding="utf-8"))


def parse(overrides: dict[str, Any] | None = None, base: dict[str, Any] | None = None) -> ContractFile:
    data = with_overrides(overrides or {}, base)
    return parse_contract(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source="test.yaml")


def problems_of(overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ContractError) as caught:
        parse(overrides)
    return caught.value.problems


def refused_text(text: str) -> ContractError:
    with pytest.raises(ContractError) as caught:
        parse_contract(text, source="bad.yaml")
    return caught.value


# --- shipped contracts --------------------------------------------------------------------


def test_three_contracts_are_shipped():
    assert {path.name for path in SHIPPED} >= {"acme-leads.yaml", "datapulse.yaml", "prospectia.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_contract_loads(path: Path):
    loaded = load_contract(path)
    assert isinstance(loaded.contract, Contract)
    assert loaded.path == str(path)
    assert loaded.text == path.read_text(encoding="utf-8")
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.stem == loaded.contract.supplier_id


def test_shipped_contracts_are_distinct():
    contracts = [load_contract(path).contract for path in SHIPPED]
    assert len({c.contract_id for c in contracts}) == len(contracts)
    assert {c.billing.model for c in contracts} >= {"per_lead", "per_qualified_lead"}
    assert {c.locale for c in contracts} == {"fr", "en"}


def test_example_values_are_read_as_written():
    contract = load_contract(EXAMPLE_PATH).contract
    assert contract.supplier_id == "acme-leads"
    assert contract.period.start == date(2027, 1, 1)
    assert contract.billing.freeze_if.duplicate_rate_above == 0.05
    assert contract.billing.non_billable_reasons[0] is RejectionReason.DUPLICATE_IN_DELIVERY
    assert contract.replacement.contest_reasons[-1] is ContestReason.NO_CONSENT_ON_CALL
    assert contract.delivery.columns["Téléphone"] == "phone"
    assert contract.qualification.departments[-2:] == ["2A", "2B"]
    assert contract.exclusions.competitor_sirens == ["552100554"]
    assert contract.volumes.delivery_isoweekdays == frozenset({1, 2, 3, 4, 5})


def test_loaded_contract_is_frozen():
    contract = load_contract(EXAMPLE_PATH).contract
    with pytest.raises(pydantic.ValidationError):
        contract.pilot.size = 10  # type: ignore[misc]
    assert contract.model_copy(update={"locale": "en"}).locale == "en"


# --- refusals: one problem each ------------------------------------------------------------


def test_typo_key_is_refused_with_its_path_and_the_expected_keys():
    problems = problems_of({"billing.freeze_if.duplicate_rate_abve": 0.05})
    assert problems == [
        "billing.freeze_if.duplicate_rate_abve: unknown key "
        "(expected one of: duplicate_rate_above, data_error_rate_above, gdpr_breach)"
    ]


def test_misspelt_required_key_reports_both_the_missing_and_the_unknown_key():
    problems = problems_of({"quality.max_reject_rate": DELETE, "quality.max_reject_rat": 0.15})
    assert "quality.max_reject_rate: required key is missing" in problems
    assert any(p.startswith("quality.max_reject_rat: unknown key (expected one of: max_reject_rate,") for p in problems)


def test_unknown_top_level_block_is_refused():
    (problem,) = problems_of({"pilott": {"size": 10}})
    assert problem.startswith("pilott: unknown key (expected one of: contract_id, supersedes,")


@pytest.mark.parametrize(
    "dotted",
    [
        "quality.max_reject_rate",
        "quality.first_contact_sla_share",
        "replacement.max_replacement_share",
        "billing.freeze_if.duplicate_rate_above",
        "pilot.thresholds.min_appointment_rate",
    ],
)
def test_rates_must_be_between_0_and_1(dotted: str):
    assert problems_of({dotted: 1.5}) == [f"{dotted}: must be between 0 and 1, got 1.5"]


def test_negative_rate_is_refused_too():
    assert problems_of({"quality.min_reachability": -0.1}) == [
        "quality.min_reachability: must be between 0 and 1, got -0.1"
    ]


@pytest.mark.parametrize("dotted", ["billing.unit_price_eur", "billing.monthly_budget_cap_eur"])
def test_negative_money_is_refused(dotted: str):
    assert problems_of({dotted: -5}) == [f"{dotted}: must not be negative, got -5"]


def test_negative_count_is_refused():
    assert problems_of({"exclusions.dedup_window_days": -1}) == [
        "exclusions.dedup_window_days: must not be negative, got -1"
    ]


def test_weekly_max_below_weekly_target_is_refused():
    assert problems_of({"volumes.weekly_max": 40}) == [
        "volumes.weekly_max: must not be below weekly_target (50), got 40"
    ]


def test_monthly_max_below_monthly_min_is_refused():
    assert problems_of({"volumes.monthly_max": 100}) == [
        "volumes.monthly_max: must not be below monthly_min (150), got 100"
    ]


def test_max_employees_below_min_employees_is_refused():
    assert problems_of({"qualification.min_employees": 6000}) == [
        "qualification.max_employees: must not be below min_employees (6000), got 5000"
    ]


def test_unknown_rejection_reason_is_refused_listing_the_allowed_codes():
    (problem,) = problems_of({"billing.non_billable_reasons": ["DUPLICATE_PREVIOUS", "DUPLICATE"]})
    assert problem.startswith("billing.non_billable_reasons[1]: unknown reason code 'DUPLICATE' (allowed: ")
    for reason in RejectionReason:
        assert reason.value in problem


def test_unknown_contest_reason_is_refused_listing_the_allowed_codes():
    (problem,) = problems_of({"replacement.contest_reasons": ["NO_CONSENT"]})
    assert problem == (
        "replacement.contest_reasons[0]: unknown contest reason code 'NO_CONSENT' (allowed: WRONG_NUMBER, "
        "UNREACHABLE, WRONG_PERSON, OUT_OF_TARGET_ON_CALL, FAKE_LEAD, NO_CONSENT_ON_CALL)"
    )


def test_unknown_billing_model_is_refused():
    assert problems_of({"billing.model": "per_click"}) == [
        "billing.model: must be one of: per_lead, per_qualified_lead, per_appointment, mixed; got 'per_click'"
    ]


def test_end_before_start_is_refused():
    assert problems_of({"period.end": date(2026, 12, 31)}) == [
        "period.end: must not be before start (2027-01-01), got 2026-12-31"
    ]


@pytest.mark.parametrize(
    "block",
    ["supplier", "period", "billing", "volumes", "exploitability", "gdpr", "quality", "replacement"],
)
def test_missing_required_block_is_refused(block: str):
    assert problems_of({block: DELETE}) == [f"{block}: required block is missing"]


def test_missing_contract_id_is_refused():
    assert problems_of({"contract_id": DELETE}) == ["contract_id: required key is missing"]


def test_unknown_canonical_field_in_columns_is_refused():
    (problem,) = problems_of({"delivery.columns": {"Ref": "lead_id", "Mail": "e_mail"}})
    assert problem.startswith("delivery.columns.Mail: unknown canonical field 'e_mail' (allowed: lead_id,")


def test_two_headers_for_one_field_are_refused():
    (problem,) = problems_of({"delivery.columns": {"Email": "email", "Mail": "email"}})
    assert problem == "delivery.columns: headers 'Email', 'Mail' all map to email"


def test_headers_differing_only_by_case_are_refused():
    (problem,) = problems_of({"delivery.columns": {"Ref": "lead_id", " REF": "campaign"}})
    assert "are the same header" in problem


def test_header_with_spaces_is_named_in_brackets():
    (problem,) = problems_of({"delivery.columns": {"Date collecte": "collected"}})
    assert problem.startswith("delivery.columns['Date collecte']: unknown canonical field 'collected'")


def test_unknown_phone_region_is_refused():
    (problem,) = problems_of({"exploitability.phone_regions": ["FR", "XX"]})
    assert problem.startswith("exploitability.phone_regions[1]: unknown phone region 'XX'")


def test_date_format_must_be_a_strftime_pattern():
    (problem,) = problems_of({"delivery.date_format": "dd/mm/yyyy"})
    assert problem.startswith("delivery.date_format: must be auto or a strftime pattern")
    assert parse({"delivery.date_format": "%d/%m/%Y"}).contract.delivery.date_format == "%d/%m/%Y"


@pytest.mark.parametrize(
    ("dotted", "value", "expected"),
    [
        ("billing.unit_price_eur", "45", "billing.unit_price_eur: must be a number, got '45'"),
        ("quality.max_reject_rate", True, "quality.max_reject_rate: must be a number, got true"),
        ("volumes.weekly_target", 50.5, "volumes.weekly_target: must be a whole number, got 50.5"),
        ("period.auto_renew", "no", "period.auto_renew: must be true or false, got 'no'"),
        ("qualification.departments", [75], "qualification.departments[0]: must be text (put it in quotes), got 75"),
        ("period.start", "1 janvier 2027", "period.start: must be a date written YYYY-MM-DD, got '1 janvier 2027'"),
        ("gdpr", "yes", "gdpr: must be a mapping of keys, got 'yes'"),
    ],
)
def test_wrong_types_are_refused_not_converted(dotted: str, value: Any, expected: str):
    assert problems_of({dotted: value}) == [expected]


def test_supplier_id_must_be_a_slug():
    (problem,) = problems_of({"supplier.id": "ACME Leads"})
    assert problem.startswith("supplier.id: must be a slug of lower-case letters")


def test_fixed_fee_outside_mixed_model_is_refused():
    (problem,) = problems_of({"billing.fixed_fee_eur_monthly": 500})
    assert problem.startswith("billing.fixed_fee_eur_monthly: a fixed monthly fee is only billed under model: mixed")
    mixed = parse({"billing.model": "mixed", "billing.fixed_fee_eur_monthly": 500}).contract
    assert mixed.billing.fixed_fee_eur_monthly == 500


def test_supersedes_and_effective_from_go_together():
    assert problems_of({"supersedes": "ACME-2026-01"}) == [
        "effective_from: required when supersedes is set (the date this version applies from)"
    ]
    assert problems_of({"effective_from": date(2027, 1, 1)}) == [
        "effective_from: only allowed with supersedes (the contract this one replaces)"
    ]
    both = parse({"supersedes": "ACME-2026-01", "effective_from": "2027-01-01"}).contract
    assert (both.supersedes, both.effective_from) == ("ACME-2026-01", date(2027, 1, 1))


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("qualification.naf_include", ["62"]),
        ("qualification.countries", ["FRA"]),
        ("qualification.departments", ["20"]),
        ("exclusions.competitor_sirens", ["12345"]),
        ("exclusions.competitor_domains", ["@rival.example"]),
    ],
)
def test_malformed_criteria_are_refused(dotted: str, value: list[str]):
    (problem,) = problems_of({dotted: value})
    assert problem.startswith(f"{dotted}[0]: must be ")


# --- several problems, one report ----------------------------------------------------------


def test_all_problems_are_reported_together():
    with pytest.raises(ContractError) as caught:
        parse(
            {
                "quality.max_reject_rate": 1.5,
                "billing.unit_price_eur": -1,
                "billing.model": "per_click",
                "volumes.weekly_max": 10,
                "period.end": date(2020, 1, 1),
                "gdpr": DELETE,
                "alerts.slack_chanel": "#x",
            }
        )
    error = caught.value
    assert len(error.problems) == 7
    assert error.source == "test.yaml"
    text = str(error)
    assert text.startswith("test.yaml: contract refused, 7 problem(s):\n  - ")
    assert text.count("\n  - ") == 7
    for key in ("quality.max_reject_rate", "billing.unit_price_eur", "billing.model", "volumes.weekly_max",
                "period.end", "gdpr", "alerts.slack_chanel"):
        assert f"\n  - {key}: " in text


def test_contract_error_is_a_value_error_and_survives_pickling():
    with pytest.raises(ValueError) as caught:
        parse({"billing.model": "per_click"})
    copy_ = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy_, ContractError)
    assert (copy_.source, copy_.problems, str(copy_)) == (
        caught.value.source, caught.value.problems, str(caught.value)
    )


# --- defaults ----------------------------------------------------------------------------


def test_absent_optional_blocks_take_their_documented_defaults():
    optional = ["delivery", "qualification", "exclusions", "exclusivity", "pilot", "alerts", "locale", "owner"]
    contract = parse({name: DELETE for name in optional}).contract
    assert contract.locale == "fr"
    assert contract.owner is None
    assert contract.delivery.model_dump() == {
        "format": "csv", "encoding": "auto", "delimiter": "auto", "date_format": "auto", "columns": {}
    }
    assert contract.qualification.countries == []
    assert contract.qualification.min_employees is None
    assert contract.exclusions.dedup_window_days == 180
    assert contract.exclusions.exclude_students is False
    assert contract.exclusions.crm_check is False
    assert (contract.exclusivity.exclusive, contract.exclusivity.days) == (False, 0)
    assert (contract.pilot.size, contract.pilot.max_duration_days) == (100, 30)
    assert contract.pilot.thresholds.min_reachability == 0.50
    assert contract.alerts.slack_channel == "#lead-ops"
    assert contract.alerts.committee_channel == "#lead-governance"
    assert contract.alerts.reject_spike_sigma == 2.0
    assert contract.alerts.min_leads_for_rate_alerts == 20


def test_absent_optional_keys_take_their_documented_defaults():
    contract = parse(
        {
            "period.auto_renew": DELETE,
            "period.notice_days": DELETE,
            "billing.fixed_fee_eur_monthly": DELETE,
            "billing.monthly_budget_cap_eur": DELETE,
            "billing.non_billable_reasons": DELETE,
            "billing.freeze_if": DELETE,
            "volumes.delivery_weekdays": DELETE,
            "exploitability.phone_regions": DELETE,
            "exploitability.email_nominative": DELETE,
            "gdpr.consent_required": DELETE,
            "replacement.contest_reasons": DELETE,
        }
    ).contract
    assert (contract.period.auto_renew, contract.period.notice_days) == (False, 0)
    assert contract.billing.fixed_fee_eur_monthly == 0
    assert contract.billing.monthly_budget_cap_eur is None
    assert RejectionReason.DUPLICATE_PREVIOUS in contract.billing.non_billable_reasons
    assert contract.billing.freeze_if.duplicate_rate_above is None
    assert contract.billing.freeze_if.gdpr_breach is True
    assert contract.volumes.delivery_weekdays == ["mon", "tue", "wed", "thu", "fri"]
    assert contract.exploitability.phone_regions == ["FR"]
    assert contract.exploitability.email_nominative is True
    assert contract.gdpr.consent_required is True
    assert contract.replacement.contest_reasons == list(ContestReason)


def test_a_key_with_no_value_counts_as_absent():
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    text = text.replace("  countries: [FR]\n", "  countries:\n")
    text = text.replace("  monthly_budget_cap_eur: 9000 ", "  monthly_budget_cap_eur: ")
    contract = parse_contract(text).contract
    assert contract.qualification.countries == []
    assert contract.billing.monthly_budget_cap_eur is None


def test_normalisation_of_criteria():
    contract = parse(
        {
            "qualification.countries": ["fr", " be "],
            "qualification.departments": ["2a", "75"],
            "qualification.allowed_sources": ["Web_Form"],
            "exclusions.competitor_domains": ["Rival.Example"],
            "exclusions.competitor_sirens": ["552 100 554"],
            "exploitability.phone_regions": ["fr", "be"],
        }
    ).contract
    assert contract.qualification.countries == ["FR", "BE"]
    assert contract.qualification.departments == ["2A", "75"]
    assert contract.qualification.allowed_sources == ["web_form"]
    assert contract.exclusions.competitor_domains == ["rival.example"]
    assert contract.exclusions.competitor_sirens == ["552100554"]
    assert contract.exploitability.phone_regions == ["FR", "BE"]


def test_iso_date_strings_are_accepted():
    contract = parse({"period.start": "2027-01-01", "period.end": "2027-06-30"}).contract
    assert (contract.period.start, contract.period.end) == (date(2027, 1, 1), date(2027, 6, 30))


def test_canonical_headers_need_no_columns_block():
    delivery = parse({"delivery.columns": DELETE}).contract.delivery
    assert delivery.columns == {}
    assert delivery.canonical_name(" Email ") == "email"
    assert delivery.canonical_name("Notes") is None


# --- the YAML itself ------------------------------------------------------------------------


def test_yaml_alias_is_refused():
    text = EXAMPLE_PATH.read_text(encoding="utf-8").replace(
        "  countries: [FR]\n", "  countries: &countries [FR]\n  departments: *countries\n"
    ).replace('  departments: ["75"', '  ignored_departments: ["75"')
    error = refused_text(text)
    assert len(error.problems) == 1
    assert "aliases (*countries) are not allowed" in error.problems[0]
    assert error.problems[0].startswith("line ")


def test_billion_laughs_is_refused_without_expanding():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20)
    )
    error = refused_text(bomb)
    assert "aliases (*a) are not allowed" in error.problems[0]


def test_python_tags_are_refused():
    error = refused_text("contract_id: !!python/object/apply:os.system ['echo hi']\n")
    assert error.problems[0].startswith("line 1, column 14: not allowed in a contract:")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("- a\n- b\n", "a list"),
        ("just words\n", "a single value ('just words')"),
        ("# only a comment\n", "an empty document"),
    ],
)
def test_document_that_is_not_a_mapping_is_refused(text: str, kind: str):
    error = refused_text(text)
    assert error.problems == [f"the file must be a mapping of contract keys (contract_id: ...), got {kind}"]


def test_yaml_syntax_error_names_the_line():
    text = EXAMPLE_PATH.read_text(encoding="utf-8").replace("  weekly_target: 50", "  weekly_target: [50")
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "weekly_target" in row)
    error = refused_text(text)
    assert len(error.problems) == 1
    assert "YAML syntax error" in error.problems[0]
    assert error.problems[0].startswith(f"line {line + 1}, column ")


def test_duplicate_key_is_refused_naming_both_lines():
    text = EXAMPLE_PATH.read_text(encoding="utf-8").replace(
        "  weekly_max: 60 ", "  weekly_max: 60\n  weekly_max: 600 "
    )
    first = next(i for i, row in enumerate(text.splitlines(), start=1) if "weekly_max" in row)
    error = refused_text(text)
    assert error.problems == [f"volumes.weekly_max: written twice (lines {first} and {first + 1}); keep one value"]


def test_impossible_date_is_reported_under_its_key():
    text = EXAMPLE_PATH.read_text(encoding="utf-8").replace("  start: 2027-01-01", "  start: 2027-13-01")
    assert refused_text(text).problems == ["period.start: must be a date written YYYY-MM-DD, got '2027-13-01'"]


def test_oversized_text_is_refused_unparsed():
    text = "contract_id: x\n" + "#" * MAX_CONTRACT_BYTES
    assert "larger than" in refused_text(text).problems[0]


# --- files and versions ------------------------------------------------------------------


def test_text_keeps_comments_and_sha256_follows_them(tmp_path: Path):
    original = EXAMPLE_PATH.read_text(encoding="utf-8")
    path = tmp_path / "acme.yaml"
    path.write_text(original, encoding="utf-8")
    first = load_contract(path)
    path.write_text(original.replace("# stable slug", "# stable identifier"), encoding="utf-8")
    second = load_contract(path)

    assert "# stable slug" in first.text
    assert "# stable identifier" in second.text
    assert first.contract == second.contract
    assert first.sha256 != second.sha256
    assert second.sha256 == hashlib.sha256(second.text.encode("utf-8")).hexdigest()


def test_parse_contract_defaults_its_source_name():
    loaded = parse_contract(EXAMPLE_PATH.read_text(encoding="utf-8"))
    assert loaded.path == "<string>"
    with pytest.raises(ContractError, match=r"^<string>: contract refused"):
        parse_contract("[]")


def test_missing_file_is_refused(tmp_path: Path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert caught.value.source == str(path)
    assert caught.value.problems == ["file not found"]


def test_directory_is_refused(tmp_path: Path):
    with pytest.raises(ContractError, match="is a directory"):
        load_contract(tmp_path)


def test_non_utf8_file_is_refused(tmp_path: Path):
    path = tmp_path / "cp1252.yaml"
    path.write_bytes(EXAMPLE_PATH.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert caught.value.problems[0].startswith("not UTF-8 text")


def test_oversized_file_is_refused(tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_CONTRACT_BYTES + 1))
    with pytest.raises(ContractError, match="larger than"):
        load_contract(path)


def test_bom_and_windows_line_endings_are_accepted_and_kept():
    text = "\ufeff" + EXAMPLE_PATH.read_text(encoding="utf-8").replace("\n", "\r\n")
    loaded = parse_contract(text)
    assert loaded.contract == load_contract(EXAMPLE_PATH).contract
    assert loaded.text == text
