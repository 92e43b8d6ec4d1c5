"""Inline SVG charts for the self-contained HTML reports, written by hand (no plotting library).

A report is one HTML file that must open offline, e-mailed or attached to Slack, so a chart makes no
request to any host: no external font (the generic ``sans-serif``), image, script or ``url()`` other
than ``url(#id)`` naming a pattern defined in the chart's own ``<defs>``. The only "http" in a chart
is its namespace, ``xmlns="http://www.w3.org/2000/svg"``: a name that is never fetched, required for
the SVG to be read as SVG when saved as a file or parsed as XML.

Committees print reports in black and white, so nothing relies on colour: the data is a solid line
with open round markers or hatched bars, thresholds and targets are dashed, a band is a light dot
pattern between dotted edges, and every line is labelled directly at its right end besides the legend.
Styling uses presentation attributes, not a ``<style>`` element, which inside inline SVG would style
the whole HTML page. Ids are derived from the chart's content: two charts on a page never clash and
the same data always gives the same SVG.

Every text is escaped with ``xml.sax.saxutils.escape``, without the bidi control characters a
supplier's text may hold (``reports.render.BIDI_CONTROLS``), and numbers go through ``leadgov.formatting``,
so a chart's "18,5 %" is the Slack alert's "18,5 %".
"""

import hashlib
import math
import re
from collections.abc import Callable
from xml.sax.saxutils import escape

from leadgov.formatting import format_number, format_rate, is_missing
from leadgov.reports.render import without_bidi_controls

WORDS = {
    "fr": {"no_data": "pas de données", "threshold": "Seuil", "target": "Objectif", "band": "Fourchette",
           "funnel": "Nombre (part de la 1re étape)"},
    "en": {"no_data": "no data", "threshold": "Threshold", "target": "Target", "band": "Range",
           "funnel": "Count (share of the first stage)"},
}
#: Room above the plot (title, legend), below it (x labels, x axis label) and left of it (y ticks, y label).
TOP, BOTTOM, LEFT = 56, 40, 64
DASHED, DOTTED = "6 4", "1.5 3"
GRID = "#c8c8c8"
FONT_SIZE = 11
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML 1.0 cannot carry


# --- small pieces ---------------------------------------------------------------------------------

def _n(x: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros, never "-0"."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _width(text: str, size: float = FONT_SIZE) -> float:
    """A text's rough width: no font metrics without a browser, 0.6 em per character is close enough."""
    return len(text) * size * 0.6


def _text(x: float, y: float, content: str, *, anchor: str = "start", cls: str | None = None,
          size: float = FONT_SIZE, bold: bool = False, rotate: bool = False, halo: bool = False) -> str:
    """A text element; ``halo`` outlines it in white so it stays legible over hatching and grid lines."""
    attrs = f'x="{_n(x)}" y="{_n(y)}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if size != FONT_SIZE:
        attrs += f' font-size="{_n(size)}"'
    if bold:
        attrs += ' font-weight="bold"'
    if rotate:
        attrs += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
    if halo:
        attrs += ' stroke="#fff" stroke-width="3" paint-order="stroke"'
    if cls:
        attrs += f' class="{cls}"'
    return f"<text {attrs}>{escape(_NOT_XML.sub('', without_bidi_controls(str(content))))}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, *, cls: str | None = None, dash: str | None = None,
          stroke: str = "#000", width: float = 1) -> str:
    extra = (f' stroke-dasharray="{dash}"' if dash else "") + (f' class="{cls}"' if cls else "")
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
            f'stroke-width="{_n(width)}"{extra}/>')


def _rect(x: float, y: float, w: float, h: float, fill: str, *, cls: str | None = None,
          stroke: str = "#000", dash: str | None = None) -> str:
    extra = (f' stroke-dasharray="{dash}"' if dash else "") + (f' class="{cls}"' if cls else "")
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}" '
            f'stroke="{stroke}"{extra}/>')


def _marker(x: float, y: float) -> str:
    """An open circle: visible on the line and in print, whatever the colour."""
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="#fff" stroke="#000" stroke-width="1.5" class="marker"/>'


def _words(locale: str) -> dict[str, str]:
    return WORDS["fr" if locale == "fr" else "en"]


def _uid(*content: object) -> str:
    return "c" + hashlib.sha1(repr(content).encode()).hexdigest()[:8]


def _formatter(locale: str, percent: bool) -> Callable[[float | None], str]:
    """How a value reads in labels: a rate with one decimal, or a number (whole, else one decimal)."""
    return (lambda v: format_rate(v, locale)) if percent else (lambda v: format_number(v, locale))


def _with_value(label: str, value: str) -> str:
    """A line's label with its value: in place of ``{value}``, else appended unless already there."""
    if "{value}" in label:
        return label.replace("{value}", value)
    return label if value in label else f"{label} {value}"


def _name(label: str) -> str:
    """A line's label for the legend, without its ``{value}``."""
    return label.replace("{value}", "").strip()


def _svg(width: int, height: int, title: str, uid: str, body: list[str], defs: str = "") -> str:
    """The chart: ``<title>`` first (what screen readers announce), then the same title visible."""
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{uid}-title" font-family="sans-serif" '
        f'font-size="{FONT_SIZE}" fill="#000">',
        f'<title id="{uid}-title">{escape(_NOT_XML.sub("", without_bidi_controls(title)))}</title>',
        f"<defs>{defs}</defs>" if defs else "",
        f'<rect width="{width}" height="{height}" fill="#fff" stroke="none"/>',
        _text(12, 20, title, size=14, bold=True, cls="title"),
        *body,
        "</svg>",
    ])


def _no_data(title: str, locale: str, width: int, height: int) -> str:
    """An empty chart says so, rather than drawing axes around nothing (or a misleading zero)."""
    uid = _uid("empty", title, width, height)
    return _svg(width, height, title, uid, [_text(width / 2, height / 2, _words(locale)["no_data"],
                                                  anchor="middle", cls="no-data")])


def _patterns(uid: str) -> str:
    """Diagonal hatching for bars, sparse dots for a band: both read as shades of grey in print."""
    return (f'<pattern id="{uid}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="1.5"/></pattern>'
            f'<pattern id="{uid}-band" patternUnits="userSpaceOnUse" width="6" height="6">'
            f'<rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="0.9" fill="#777"/></pattern>')


def _legend(items: list[tuple[str, str]], uid: str, x: float = 12, y: float = 40) -> list[str]:
    """One row under the title, each swatch drawn like the thing it names."""
    out = ['<g class="legend">']
    for kind, label in items:
        if kind == "line":
            out += [_line(x, y, x + 24, y, width=2), _marker(x + 12, y)]
        elif kind == "dashed":
            out.append(_line(x, y, x + 24, y, dash=DASHED, width=1.5))
        elif kind == "band":
            out.append(_rect(x, y - 6, 24, 12, f"url(#{uid}-band)", dash=DOTTED))
        else:  # bar
            out.append(_rect(x, y - 6, 24, 12, f"url(#{uid}-hatch)"))
        out.append(_text(x + 30, y + 4, label))
        x += 30 + _width(label) + 18
    return out + ["</g>"]


# --- scale and axes -------------------------------------------------------------------------------

def _nice_step(span: float, intervals: int = 5) -> float:
    """The round step (1, 2 or 5 x 10^k) giving about ``intervals`` ticks: values read at a glance."""
    raw = span / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * (1 + 1e-9))


def _decimals(step: float) -> int:
    """How many decimals tick labels need so that every tick of ``step`` reads differently."""
    return next(d for d in range(7) if abs(step * 10**d - round(step * 10**d)) < 1e-6 or d == 6)


class _Scale:
    """Values to y pixels, from 0 (or the lowest negative value) to a round top above the highest.

    The top gets 5 % headroom so the highest marker never sits on the frame; all zeros get 0 to
    ``empty_top`` (100 % for rates, 5 for counts, which have no fractional ticks).
    """

    def __init__(self, values: list[float], top: float, bottom: float, empty_top: float = 1.0):
        lo, hi = min(0.0, *values), max(0.0, *values)
        if hi == lo:
            hi = lo + empty_top
        elif hi > 0:
            hi += (hi - lo) * 0.05
        self.step = _nice_step(hi - lo)
        first, last = math.floor(lo / self.step + 1e-9), math.ceil(hi / self.step - 1e-9)
        self.ticks = [round(i * self.step, 12) for i in range(first, last + 1)]
        self.lo, self.hi, self.top, self.bottom = self.ticks[0], self.ticks[-1], top, bottom

    def y(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)


def _y_axis(scale: _Scale, left: float, right: float, y_label: str, locale: str, percent: bool) -> list[str]:
    """Light grid lines with their tick labels, the zero line in black, the rotated axis label."""
    if percent:
        decimals = _decimals(scale.step * 100)
        tick = lambda v: format_rate(v, locale, decimals=decimals)  # noqa: E731
    else:
        decimals = _decimals(scale.step)
        tick = lambda v: format_number(v, locale, decimals=decimals)  # noqa: E731
    out = []
    for value in scale.ticks:
        y = scale.y(value)
        out.append(f'<g class="tick">{_line(left, y, right, y, stroke=GRID, width=0.75, cls="grid")}'
                   f'{_text(left - 6, y + 4, tick(value), anchor="end")}</g>')
    zero = scale.y(0)
    out += [_line(left, zero, right, zero, cls="axis"), _line(left, scale.top, left, scale.bottom, cls="axis"),
            _text(14, (scale.top + scale.bottom) / 2, y_label, anchor="middle", rotate=True, cls="y-label")]
    return out


def _x_axis(labels: list[str], xs: list[float], left: float, right: float, bottom: float,
            x_label: str | None) -> list[str]:
    """Category labels under the plot, every k-th one when they would not fit side by side."""
    room = max((_width(label) for label in labels), default=0) + 8
    every = max(1, math.ceil(len(labels) * room / (right - left)))
    out = [_text(x, bottom + 16, label, anchor="middle", cls="x-tick")
           for i, (label, x) in enumerate(zip(labels, xs, strict=True)) if i % every == 0]
    if x_label:
        out.append(_text((left + right) / 2, bottom + 32, x_label, anchor="middle", cls="x-label"))
    return out


def _end_labels(labels: list[tuple[float, str, str]], x: float) -> list[str]:
    """Direct labels in the right margin, at their line's height, pushed apart so that none overlap."""
    out, last = [], -math.inf
    for y, content, cls in sorted(labels):
        y = max(y, last + 13)
        out.append(_text(x, y + 4, content, cls=cls))
        last = y
    return out


def _right_margin(labels: list[str], width: int) -> float:
    """Room for the direct labels at the lines' ends, at most a third of the chart."""
    return min(width / 3, max([40.0] + [_width(label) + 14 for label in labels]))


# --- charts ---------------------------------------------------------------------------------------

def line_chart(points: list[tuple[str, float | None]], *, title: str, y_label: str, locale: str,
               percent: bool = True, threshold: float | None = None, threshold_label: str | None = None,
               series_label: str | None = None, x_label: str | None = None,
               width: int = 640, height: int = 280) -> str:
    """A weekly series (e.g. reject rate by ISO week) with its contract threshold.

    A missing week (None) breaks the line rather than being drawn as 0 or bridged: a gap is visible.
    The last value and the threshold are labelled at the right end; ``threshold_label`` may hold
    ``{value}``, otherwise the threshold's value is appended to it. ``y_label`` should name the unit.
    """
    values = [v for _, v in points if v is not None and not is_missing(v)]
    if not values:
        return _no_data(title, locale, width, height)
    words, fmt = _words(locale), _formatter(locale, percent)
    uid = _uid("line", points, title, y_label, locale, percent, threshold, threshold_label, width, height)
    last_value = next(v for _, v in reversed(points) if v is not None and not is_missing(v))
    ends = [fmt(last_value)]
    if threshold is not None:
        ends.append(_with_value(threshold_label or words["threshold"], fmt(threshold)))
    left, right, top, bottom = LEFT, width - _right_margin(ends, width), TOP, height - BOTTOM
    scale = _Scale(values + ([threshold] if threshold is not None else []), top, bottom, 1.0 if percent else 5.0)
    slot = (right - left) / len(points)
    xs = [left + (i + 0.5) * slot for i in range(len(points))]

    body = _y_axis(scale, left, right, y_label, locale, percent)
    body += _x_axis([label for label, _ in points], xs, left, right, bottom, x_label)
    legend = [("line", series_label or y_label)]
    labels = [(scale.y(last_value), ends[0], "series-label")]
    if threshold is not None:
        y = scale.y(threshold)
        body.append(_line(left, y, right, y, dash=DASHED, width=1.5, cls="threshold"))
        labels.append((y, ends[1], "threshold-label"))
        legend.append(("dashed", _name(threshold_label or words["threshold"])))
    runs: list[list[tuple[float, float]]] = [[]]
    for x, (_, value) in zip(xs, points, strict=True):
        if value is None or is_missing(value):
            runs.append([])
        else:
            runs[-1].append((x, scale.y(value)))
    for run in runs:
        if len(run) >= 2:
            coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
            body.append(f'<polyline points="{coords}" fill="none" stroke="#000" stroke-width="2" '
                        f'stroke-linejoin="round" class="series"/>')
    body += [_marker(x, y) for run in runs for x, y in run]
    body += _end_labels(labels, right + 6)
    return _svg(width, height, title, uid, body + _legend(legend, uid))


def bar_chart(bars: list[tuple[str, float | None]], *, title: str, y_label: str, locale: str,
              target: float | None = None, band: tuple[float, float] | None = None,
              target_label: str | None = None, band_label: str | None = None, percent: bool = False,
              series_label: str | None = None, x_label: str | None = None,
              width: int = 640, height: int = 280) -> str:
    """Hatched bars (e.g. leads delivered by week), with the contract's target and its min..max band.

    A missing bar (None) is marked "n/a" / "n.d." on the baseline, not drawn as an empty zero bar.
    Each bar carries its value; the target and the band are labelled at the right end.
    """
    values = [v for _, v in bars if v is not None and not is_missing(v)]
    if not values:
        return _no_data(title, locale, width, height)
    words, fmt = _words(locale), _formatter(locale, percent)
    uid = _uid("bar", bars, title, y_label, locale, target, band, target_label, band_label, percent, width, height)
    ends = []
    if target is not None:
        ends.append(_with_value(target_label or words["target"], fmt(target)))
    if band is not None:
        ends.append(_with_value(band_label or words["band"], f"{fmt(band[0])}–{fmt(band[1])}"))
    left, right, top, bottom = LEFT, width - _right_margin(ends, width), TOP, height - BOTTOM
    extra = ([target] if target is not None else []) + (list(band) if band is not None else [])
    scale = _Scale(values + extra, top, bottom, 1.0 if percent else 5.0)
    slot = (right - left) / len(bars)
    xs = [left + (i + 0.5) * slot for i in range(len(bars))]
    zero = scale.y(0)

    body = _y_axis(scale, left, right, y_label, locale, percent)
    body += _x_axis([label for label, _ in bars], xs, left, right, bottom, x_label)
    legend, labels = [("bar", series_label or y_label)], []
    if band is not None:
        y_hi, y_lo = scale.y(max(band)), scale.y(min(band))
        body += [_rect(left, y_hi, right - left, y_lo - y_hi, f"url(#{uid}-band)", stroke="none", cls="band"),
                 _line(left, y_hi, right, y_hi, dash=DOTTED, cls="band-edge"),
                 _line(left, y_lo, right, y_lo, dash=DOTTED, cls="band-edge")]
        labels.append(((y_hi + y_lo) / 2, ends[-1], "band-label"))
        legend.append(("band", _name(band_label or words["band"])))
    bar_width = min(slot * 0.6, 48)
    for x, (_, value) in zip(xs, bars, strict=True):
        if value is None or is_missing(value):
            body.append(_text(x, zero - 4, fmt(None), anchor="middle", cls="missing", halo=True))
            continue
        y = scale.y(value)
        body.append(_rect(x - bar_width / 2, min(y, zero), bar_width, abs(zero - y), f"url(#{uid}-hatch)", cls="bar"))
        body.append(_text(x, y - 4 if value >= 0 else y + 13, fmt(value), anchor="middle", cls="value",
                          halo=True))
    if target is not None:
        y = scale.y(target)
        body.append(_line(left, y, right, y, dash=DASHED, width=1.5, cls="target"))
        labels.append((y, ends[0], "target-label"))
        legend.append(("dashed", _name(target_label or words["target"])))
    body += _end_labels(labels, right + 6)
    return _svg(width, height, title, uid, body + _legend(legend, uid), _patterns(uid))


def funnel_chart(stages: list[tuple[str, int]], *, title: str, locale: str, width: int = 640,
                 height: int | None = None) -> str:
    """A conversion funnel: one hatched bar per stage, labelled with its count and share of the first.

    Bars are scaled to the largest stage (normally the first), so a stage larger than the first
    (a data error) still fits. With a first stage of 0 the shares read "n/a", not 0 %.
    """
    if not stages:
        return _no_data(title, locale, width, height or 160)
    first = stages[0][1]
    shares = [count / first if first > 0 else None for _, count in stages]
    return _horizontal_bars(stages, shares, "funnel", title=title, locale=locale,
                            legend=_words(locale)["funnel"], width=width, height=height)


def breakdown_chart(rows: list[tuple[str, int, float | None]], *, title: str, locale: str, legend: str,
                    width: int = 640, height: int | None = None) -> str:
    """A breakdown (e.g. rejected leads by reason code): one hatched bar per row, labelled with its
    count and its share (given: of the rejected leads, say)."""
    if not rows:
        return _no_data(title, locale, width, height or 160)
    return _horizontal_bars([(label, count) for label, count, _ in rows], [s for _, _, s in rows], "breakdown",
                            title=title, locale=locale, legend=legend, width=width, height=height)


def _horizontal_bars(stages: list[tuple[str, int]], shares: list[float | None], kind: str, *, title: str,
                     locale: str, legend: str, width: int, height: int | None) -> str:
    row = 30
    height = height or int(TOP + row * len(stages) + 12)
    uid = _uid(kind, stages, shares, title, locale, width, height)
    texts = [f"{format_number(count, locale)} ({format_rate(share, locale)})"
             for (_, count), share in zip(stages, shares, strict=True)]
    left = min(width / 3, max(_width(label) for label, _ in stages) + 20)
    plot = width - left - max(_width(text) for text in texts) - 20
    biggest = max(max(count for _, count in stages), 1)
    body = []
    for i, ((label, count), text) in enumerate(zip(stages, texts, strict=True)):
        y, w = TOP + i * row, max(count, 0) / biggest * plot
        body += [_text(left - 8, y + 13, label, anchor="end", cls="stage"),
                 _rect(left, y, w, 18, f"url(#{uid}-hatch)", cls="bar"),
                 _text(left + w + 6, y + 13, text, cls="value")]
    return _svg(width, height, title, uid, body + _legend([("bar", legend)], uid), _patterns(uid))
