"""Numbers, money, rates and dates per locale: the exact strings Slack and the reports show."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from leadgov import formatting
from leadgov.alerts import messages
from leadgov.formatting import (
    Plural,
    counted,
    format_count,
    format_date,
    format_eur,
    format_money,
    format_month,
    format_number,
    format_rate,
    is_missing,
    is_one,
)

# --- money ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fr", "en"), [
    (1234.56, "1 234,56 €", "€1,234.56"),
    (-45, "-45,00 €", "-€45.00"),
    (0, "0,00 €", "€0.00"),
    (0.0, "0,00 €", "€0.00"),
    (1234567890.1, "1 234 567 890,10 €", "€1,234,567,890.10"),
    (Decimal("19.999"), "20,00 €", "€20.00"),
    (1.005, "1,01 €", "€1.01"),          # half up on the decimal, although the float is 1.00499999...
    (2.675, "2,68 €", "€2.68"),          # same: round(2.675, 2) == 2.67
    (0.125, "0,13 €", "€0.13"),
    (-0.125, "-0,13 €", "-€0.13"),       # half away from zero
    (-0.004, "0,00 €", "€0.00"),         # no "-0,00 €"
    (999.995, "1 000,00 €", "€1,000.00"),
])
def test_money(value, fr, en):
    assert format_money(value, "fr") == fr
    assert format_money(value, "en") == en


def test_money_uses_plain_spaces():
    """Documented choice: U+0020 everywhere, as the Slack messages always had."""
    text = format_money(1234.56, "fr")
    assert text == "1\u0020234,56\u0020€"
    assert "\u00a0" not in text and "\u202f" not in text
    assert "\u00a0" not in format_rate(0.5, "fr")


def test_format_eur_is_format_money():
    assert format_eur is format_money
    assert format_eur(-12.5, "en") == "-€12.50"


# --- rates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fr", "en"), [
    (0.185, "18,5 %", "18.5%"),
    (0.0, "0,0 %", "0.0%"),
    (1.0, "100,0 %", "100.0%"),
    (0.12345, "12,3 %", "12.3%"),
    (0.12350, "12,4 %", "12.4%"),        # half up at the tenth of a percent
    (0.0285, "2,9 %", "2.9%"),           # 0.0285 * 100 == 2.8499999999999996 in binary floats
    (0.00049, "0,0 %", "0.0%"),
    (0.0005, "0,1 %", "0.1%"),
    (-0.0005, "-0,1 %", "-0.1%"),
    (-0.25, "-25,0 %", "-25.0%"),
    (-0.0001, "0,0 %", "0.0%"),          # no "-0,0 %"
    (123.456, "12 345,6 %", "12,345.6%"),
    (Decimal("0.1875"), "18,8 %", "18.8%"),
])
def test_rates(value, fr, en):
    assert format_rate(value, "fr") == fr
    assert format_rate(value, "en") == en


def test_rates_with_other_precision():
    assert [format_rate(0.5, "fr", decimals=0), format_rate(0.5, "en", decimals=0)] == ["50 %", "50%"]
    assert [format_rate(0.125, "en", decimals=0), format_rate(0.12345, "fr", decimals=2)] == ["13%", "12,35 %"]


# --- numbers and counts --------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fr", "en"), [
    (12345, "12 345", "12,345"),
    (0, "0", "0"),
    (40.0, "40", "40"),
    (36.8, "36,8", "36.8"),
    (36.85, "36,9", "36.9"),
    (-1500, "-1 500", "-1,500"),
    (1234567890123, "1 234 567 890 123", "1,234,567,890,123"),
    (10**20, "100 000 000 000 000 000 000", "100,000,000,000,000,000,000"),
])
def test_numbers(value, fr, en):
    assert format_number(value, "fr") == fr
    assert format_number(value, "en") == en
    assert format_count(value, "fr") == fr


def test_numbers_with_fixed_decimals():
    assert format_number(2.5, "fr", decimals=1) == "2,5"
    assert format_number(2, "en", decimals=2) == "2.00"
    assert format_number(2.45, "en", decimals=1) == "2.5"
    assert format_number(1234.5, "fr", decimals=0) == "1 235"


# --- dates ---------------------------------------------------------------------------------------

def test_dates():
    assert format_date(date(2027, 3, 8), "fr") == "08/03/2027"
    assert format_date(date(2027, 3, 8), "en") == "8 Mar 2027"
    assert format_date("2027-12-31", "en") == "31 Dec 2027"
    assert format_date(datetime(2027, 1, 2, 23, 59), "fr") == "02/01/2027"


def test_months():
    assert [format_month("2027-03", "fr"), format_month("2027-03", "en")] == ["mars 2027", "Mar 2027"]
    assert [format_month(date(2027, 8, 31), "fr"), format_month("2027-12", "en")] == ["août 2027", "Dec 2027"]


def test_an_unknown_locale_reads_as_english():
    assert [format_rate(0.185, "de"), format_money(1234.5, "de"), format_date("2027-03-08", "de")] == [
        "18.5%", "€1,234.50", "8 Mar 2027"]


# --- missing values ------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [format_rate, format_money, format_number, format_count, format_date, format_month])
def test_none_is_not_available_not_zero(fn):
    assert fn(None, "en") == "n/a"
    assert fn(None, "fr") == "n.d."


def test_pandas_gaps_are_missing():
    pd = pytest.importorskip("pandas")
    assert [is_missing(None), is_missing(float("nan")), is_missing(pd.NA), is_missing(pd.NaT)] == [True] * 4
    assert [is_missing(0), is_missing(0.0), is_missing(""), is_missing(date(2027, 1, 1))] == [False] * 4
    assert format_rate(float("nan"), "fr") == "n.d."
    assert format_date(pd.NaT, "en") == "n/a"


# --- one implementation ---------------------------------------------------------------------------

def test_alerts_use_these_very_functions():
    for name in ("format_rate", "format_count", "format_eur", "format_date", "format_month"):
        assert getattr(messages, name) is getattr(formatting, name), name


@pytest.mark.parametrize(("count", "fr", "en"), [(0, True, False), (1, True, True), (2, False, False),
                                                 (21, False, False)])
def test_a_count_takes_the_singular_for_0_and_1_in_french_and_for_1_in_english(count, fr, en):
    assert (is_one(count, "fr"), is_one(count, "en")) == (fr, en)
    wording = Plural("{n} lead retenu", "{n} leads retenus")
    assert wording.of(count, "fr") == ("{n} lead retenu" if fr else "{n} leads retenus")


def test_counted_writes_a_count_with_its_english_noun_in_agreement():
    assert [counted(n, "lead") for n in (0, 1, 2)] == ["0 leads", "1 lead", "2 leads"]
    assert [counted(n, "delivery", "deliveries") for n in (1, 3)] == ["1 delivery", "3 deliveries"]


def test_every_plural_wording_of_the_reports_has_both_forms_in_both_languages_with_the_same_blanks():
    """A sentence that agrees with a count (``reports.i18n.PLURALS``) exists in French and English, its
    singular and plural ask for the same values, so that no count writes a form that fails, and those a
    template writes (``tn``) show the count in ``{count}``, which ``tn`` fills."""
    from string import Formatter

    from leadgov.reports.i18n import PLURALS

    def blanks(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert PLURALS["fr"].keys() == PLURALS["en"].keys()
    for key in PLURALS["fr"]:
        wanted = blanks(PLURALS["fr"][key].other)
        assert "count" in wanted or key == "vr_volume", key  # vr_volume: the pilot's verdict_reason writes it
        assert all(blanks(form) == wanted for words in PLURALS.values()
                   for form in (words[key].one, words[key].other)), key
