"""Hostile operations (issue 16, items 6, 10 and 11): what passed a check and failed later, what
failed with an unclear message, and what leadgov left open to other users of the machine.

- Contracts: every number and date a contract holds is bounded to what the calendar and the
  database can hold, so a contract that passes ``leadgov contract check`` never crashes a later
  command (an infinite price, a window of millions of days, a month's total above NUMERIC(14, 2)).
"""

import math

import pytest
import yaml
from factories import contract_dict
from typer.testing import CliRunner

from leadgov.cli import app

runner = CliRunner()


def contract_check(tmp_path, **overrides) -> tuple[int, str]:
    """``leadgov contract check`` on the example contract with ``overrides``: (exit code, output)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(contract_dict(**overrides), allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["contract", "check", str(path)])
    return result.exit_code, result.output


# --- contracts: bounded numbers, dates and texts (item 6) -------------------------------------------

HOSTILE_CONTRACT_VALUES = [
    ("billing.unit_price_eur", math.inf),
    ("billing.unit_price_eur", math.nan),
    ("billing.unit_price_eur", 1e12),  # one lead's price overflows NUMERIC(14, 2) on PostgreSQL
    ("billing.monthly_budget_cap_eur", math.inf),
    ("billing.monthly_budget_cap_eur", 1e15),
    ("qualification.min_budget_eur", math.inf),
    ("qualification.min_employees", 10**30),
    ("qualification.max_project_horizon_months", 10**9),
    ("volumes.weekly_max", 10**30),
    ("volumes.monthly_max", 10**30),
    ("period.notice_days", 10**9),
    ("period.start", "0001-01-01"),
    ("period.end", "9999-12-31"),
    ("exploitability.max_age_days", 10_000_000),
    ("exclusions.dedup_window_days", 10_000_000),  # OverflowError: date value out of range
    ("gdpr.retention_days", 10_000_000),
    ("quality.first_contact_sla_hours", math.inf),
    ("replacement.contest_window_days", 10_000_000),
    ("replacement.replacement_deadline_days", 10_000_000),
    ("exclusivity.days", 10_000_000),
    ("pilot.max_duration_days", 10_000_000),
    ("alerts.reject_spike_sigma", math.inf),
    ("alerts.min_leads_for_rate_alerts", 10**30),
    # texts stored in bounded columns (a longer one fails on PostgreSQL, not on SQLite)
    ("contract_id", "ACME-" + "9" * 100),
    ("supplier.id", "acme-" + "a" * 64),
    ("supplier.name", "ACME " * 50),
    ("owner", "claire.martin" * 20 + "@buyer.example"),
    ("alerts.slack_channel", "#" + "x" * 100),
]


@pytest.mark.parametrize(("key", "value"), HOSTILE_CONTRACT_VALUES,
                         ids=[f"{key}={value!r:.12}" for key, value in HOSTILE_CONTRACT_VALUES])
def test_contract_check_refuses_a_value_beyond_what_leadgov_can_hold(tmp_path, key, value):
    code, output = contract_check(tmp_path, **{key: value})
    assert code == 2, output
    assert f"- {key}: must be" in output, output
    assert "Traceback" not in output


def test_contract_check_refuses_a_price_whose_contracted_month_overflows_the_money_columns(tmp_path):
    """Each key within its bounds, but their product above NUMERIC(14, 2): the price is named."""
    code, output = contract_check(tmp_path, **{"billing.unit_price_eur": 100_000.0,
                                               "volumes.monthly_max": 10_000_000})
    assert code == 2, output
    assert "- billing.unit_price_eur: 100000 EUR for each of volumes.monthly_max (10000000) leads" in output
    assert "more than leadgov can store (999999999999.99 EUR)" in " ".join(output.split())


def test_contract_check_bounds_are_inclusive_and_a_careful_buyers_extremes_pass(tmp_path):
    at_bounds = {
        "billing.unit_price_eur": 99_999.99, "volumes.weekly_max": 10_000_000, "volumes.monthly_max": 10_000_000,
        "billing.monthly_budget_cap_eur": 1_000_000_000.0, "exclusions.dedup_window_days": 3650,
        "gdpr.retention_days": 3650, "period.start": "2000-01-01", "period.end": "2199-12-31",
        "contract_id": "A" * 100, "supplier.name": "N" * 200}
    code, output = contract_check(tmp_path, **at_bounds)
    assert code == 0, output
    code, output = contract_check(tmp_path, **{**at_bounds, "exclusions.dedup_window_days": 3651})
    assert code == 2 and "- exclusions.dedup_window_days: must be at most 3650, got 3651" in output, output
