"""Numbers, money, rates and dates as people read them, per locale ("fr" or "en").

The one place every figure shown to a person is formatted: Slack alerts (``leadgov.alerts.messages``)
and the HTML reports and their charts (``reports``) call the same functions, so "18,5 %" in a Slack
message is "18,5 %" in the report the committee prints.

- Any locale other than "fr" reads as English, the alerts' fallback.
- Spaces: in French the thousands separator and the space before "%" and "€" are plain spaces
  (U+0020), not no-break spaces (U+00A0 / U+202F). Slack messages have always used plain spaces and
  their tests fix them; a report that must not wrap "1 234,56 €" puts it in a ``white-space: nowrap``
  cell, and SVG text never wraps.
- Rounding is half up, away from zero for negatives (-0.125 -> "-0,13 €"), in decimal arithmetic on
  the float's shortest repr: 0.0285 reads "2,9 %", not the "2,8 %" that ``0.0285 * 100`` in binary
  floating point would give. A value that rounds to zero loses its sign ("0,0 %", never "-0,0 %").
- A missing value (None, or NaN / NaT / NA as pandas fills gaps) reads "n.d." (fr) or "n/a" (en),
  never 0: a rate of nothing is not 0 %.
- A count agrees with its noun ("1 lead", "2 leads"): ``counted`` in English, ``Plural`` wordings in
  both languages. French takes the singular for 0 and 1 ("0 lead retenu"), English for 1 only.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import SupportsFloat

EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
#: What a missing value reads, per locale ("non disponible" / "not available").
NOT_AVAILABLE = {"fr": "n.d.", "en": "n/a"}


def is_missing(value: object) -> bool:
    """None, or a gap as pandas fills it: NaN and NaT are the only values not equal to themselves."""
    try:
        return value is None or bool(value != value)
    except TypeError:  # pd.NA refuses to be a bool
        return True


def not_available(locale: str) -> str:
    return NOT_AVAILABLE["fr" if locale == "fr" else "en"]


def _exact(value: SupportsFloat) -> Decimal:
    """The decimal a person means by ``value``: ints and Decimals as they are, floats by their repr."""
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    return Decimal(repr(float(value)))


def _rounded(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def _grouped(value: Decimal, locale: str) -> str:
    """``1234.5`` as "1 234,5" (fr) or "1,234.5" (en); minus sign only when not zero."""
    text = f"{abs(value):,f}"
    if locale == "fr":
        text = text.replace(",", " ").replace(".", ",")
    return ("-" if value < 0 else "") + text


def format_number(value: SupportsFloat | None, locale: str, decimals: int | None = None) -> str:
    """12345 as "12 345" (fr) or "12,345" (en).

    With ``decimals`` None, a whole number reads as is and a fractional one (e.g. 0.8 x a target)
    with one decimal; otherwise exactly ``decimals`` decimals (chart ticks such as "2,5").
    """
    if value is None or is_missing(value):
        return not_available(locale)
    exact = _exact(value)
    if decimals is None:
        decimals = 0 if exact == exact.to_integral_value() else 1
    return _grouped(_rounded(exact, decimals), locale)


def format_count(value: SupportsFloat | None, locale: str) -> str:
    """A count: whole as is, fractional with one decimal (the name the alerts use)."""
    return format_number(value, locale)


def format_rate(value: SupportsFloat | None, locale: str, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.185 -> "18,5 %" (fr), "18.5%" (en); ``decimals=0`` for "50 %"."""
    if value is None or is_missing(value):
        return not_available(locale)
    text = _grouped(_rounded(_exact(value) * 100, decimals), locale)
    return f"{text} %" if locale == "fr" else f"{text}%"


def format_money(value: SupportsFloat | None, locale: str) -> str:
    """An amount in EUR to the cent: "1 234,56 €" / "-45,00 €" (fr), "€1,234.56" / "-€45.00" (en)."""
    if value is None or is_missing(value):
        return not_available(locale)
    text = _grouped(_rounded(_exact(value), 2), locale)
    if locale == "fr":
        return f"{text} €"
    return f"-€{text[1:]}" if text.startswith("-") else f"€{text}"


#: Every amount is in EUR; the alerts call it by that name.
format_eur = format_money


def format_date(value: date | str | None, locale: str) -> str:
    """A day: "08/03/2027" (fr), "8 Mar 2027" (en); a string must be ISO ("2027-03-08")."""
    if is_missing(value):
        return not_available(locale)
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    if locale == "fr":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def format_month(value: date | str | None, locale: str) -> str:
    """A month, "2027-03" (or any day in it) as "mars 2027" (fr) or "Mar 2027" (en)."""
    if is_missing(value):
        return not_available(locale)
    if isinstance(value, date):
        year, month = value.year, value.month
    else:
        year, month = int(str(value)[:4]), int(str(value)[5:7])
    return f"{(FR_MONTHS if locale == 'fr' else EN_MONTHS)[month - 1]} {year}"


def is_one(count: int, locale: str) -> bool:
    """Whether ``count`` takes the singular in ``locale`` (CLDR's "one"): 0 and 1 in French, 1 in English."""
    return count in (0, 1) if locale == "fr" else count == 1


@dataclass(frozen=True)
class Plural:
    """A wording whose words agree with a count: ``one`` for a count that takes the singular
    (``is_one``), ``other`` for the rest ("{count} lead retenu" / "{count} leads retenus")."""

    one: str
    other: str

    def of(self, count: int, locale: str) -> str:
        return self.one if is_one(count, locale) else self.other


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and its English noun in agreement: "1 lead", "0 leads", "3 deliveries" (``nouns``, when
    the plural is not ``noun`` + "s"). For the command line and the flows' artifacts, which are English."""
    return f"{count} {noun if is_one(count, 'en') else (nouns or noun + 's')}"
