"""Rendering reports: one Jinja2 environment, autoescaped and strict, shared by every report.

Reports are self-contained HTML files (CSS and SVG charts inline, no request to any other host),
so they open offline and survive being e-mailed or attached to Slack. Numbers, money and dates
go through ``leadgov.formatting``: a figure reads the same in a report, an alert and the CLI.

No text a report shows carries a Unicode bidi control character (``BIDI_CONTROLS``: the
embeddings, overrides and isolates U+202A..U+202E and U+2066..U+2069, the marks U+200E, U+200F and
U+061C): a supplier's lead id or file name holding U+202E would otherwise read backwards and make a
report show something else than what it holds. They are removed from every value a template writes
(the environment's ``finalize``) and from every text of a chart.
"""

import re
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from leadgov import formatting
from leadgov.explanations import explain
from leadgov.reports.i18n import LABELS, PLURALS, verdict_reason

#: Unicode's Bidi_Control characters.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """``text`` without its bidi control characters (Markup stays Markup)."""
    cleaned = BIDI_CONTROLS.sub("", text)
    return Markup(cleaned) if isinstance(text, Markup) else cleaned


def _finalize(value: object) -> object:
    """What a template writes of a value: text without bidi controls; anything else as is."""
    return without_bidi_controls(value) if isinstance(value, str) else value


_ENV = Environment(
    loader=PackageLoader("leadgov.reports", "templates"),
    autoescape=True,  # every template is HTML, whatever its file name
    undefined=StrictUndefined,  # a missing figure fails loudly instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_finalize,
)


def _plural(key: str, count: int, locale: str, values: dict[str, object]) -> str:
    """The wording ``key`` of ``PLURALS`` in the form ``count`` takes, the count formatted in its ``{count}``."""
    return PLURALS[locale][key].of(count, locale).format(count=formatting.format_number(count, locale), **values)


def render(template: str, locale: str, *, generated_on: date, **context: object) -> str:
    """The HTML of ``template`` in ``locale`` ("fr" or "en"), its footer dated ``generated_on``
    (the caller's clock: a report never reads the wall clock)."""
    labels = LABELS[locale]
    tools = {
        "t": lambda key, **values: labels[key].format(**values) if values else labels[key],
        "tn": lambda key, count, **values: _plural(key, count, locale, values),
        "money": lambda v: formatting.format_money(v, locale),
        "rate": lambda v: formatting.format_rate(v, locale),
        "number": lambda v: formatting.format_number(v, locale),
        "day": lambda v: formatting.format_date(v, locale),
        "verdict_reason": lambda r: verdict_reason(r, locale),
        "explain": lambda code: explain(code, locale),
        "month": lambda v: formatting.format_month(v, locale),
        "svg": Markup,  # charts are built by reports.charts, which escapes every text it writes
        "locale": locale,
        "generated_on": generated_on,
    }
    return _ENV.get_template(template).render(**tools, **context)


def write(html: str, path: Path) -> Path:
    """Write a report (UTF-8) and return its path; folders are created as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def write_with_pdf(html: str, path: Path) -> Path:
    """Write a committee report as HTML and, beside it, the same report as PDF (``reports.pdf``);
    the HTML's path."""
    from leadgov.reports.pdf import html_to_pdf  # ReportLab is loaded only by the reports that need it

    write(html, path)
    path.with_suffix(".pdf").write_bytes(html_to_pdf(html))
    return path
