"""A report's PDF, made from its own HTML: the committee gets the same report to print or archive.

Every report is first rendered as HTML (``reports.render``); this module reads that HTML and lays the
same content out with ReportLab's platypus: the header, headings, paragraphs, lists, tables (numbers
right-aligned, the header row repeated on each page), the cards and the SVG charts (through svglib,
which turns an SVG into a ReportLab drawing). So there is one template per report, never a second
layout for paper that could drift from the screen.

Why ReportLab rather than a browser engine (WeasyPrint, Chromium): both need system libraries
(Pango, or a browser) that a fresh machine with only Python does not have; ReportLab and svglib
install from wheels. The cost is that only the HTML the report templates write is understood:
``header.report``, ``h1``-``h3``, ``p``, ``ul``, ``table``, ``div.cards``, ``div.charts`` and
``footer``, with ``strong``, ``code`` and ``span.flag`` inline. Anything else is read as text.

The PDF uses the standard Helvetica fonts (no font file to ship): they cover Western European text
(French accents, the euro sign); the few characters they lack are written in ASCII ("≤" as "<=").
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import escape

from lxml import html as lxml_html
from lxml.etree import _Element
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from svglib.svglib import svg2rlg

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
LINE = colors.HexColor("#d5d9de")
HEAD = colors.HexColor("#f3f5f7")
MUTED = colors.HexColor("#5b6470")
FLAG_COLOURS = {"bad": "#a61b1b", "ok": "#1d6b35", "warn": "#8a5a00"}
#: Characters the standard fonts (WinAnsi) lack, written in ASCII.
_ASCII = str.maketrans({"≤": "<=", "≥": ">=", "→": "->", "←": "<-", "\u202f": "\u00a0", "\u2009": " ", "−": "-"})

_BASE = getSampleStyleSheet()
STYLES = {
    "h1": ParagraphStyle("h1", parent=_BASE["Title"], fontSize=18, leading=22, alignment=0, spaceAfter=2),
    "subtitle": ParagraphStyle("subtitle", parent=_BASE["Normal"], textColor=MUTED, spaceAfter=10),
    "h2": ParagraphStyle("h2", parent=_BASE["Heading2"], fontSize=13, leading=16, spaceBefore=10, spaceAfter=4,
                         keepWithNext=1),
    "h3": ParagraphStyle("h3", parent=_BASE["Heading3"], fontSize=11, leading=14, spaceBefore=6, spaceAfter=3,
                         keepWithNext=1),
    "p": ParagraphStyle("p", parent=_BASE["Normal"], fontSize=9, leading=12, spaceAfter=4),
    "cell": ParagraphStyle("cell", parent=_BASE["Normal"], fontSize=8, leading=10),
    "num": ParagraphStyle("num", parent=_BASE["Normal"], fontSize=8, leading=10, alignment=TA_RIGHT),
    "footer": ParagraphStyle("footer", parent=_BASE["Normal"], fontSize=7, textColor=MUTED, spaceBefore=12),
    "card_label": ParagraphStyle("card_label", parent=_BASE["Normal"], fontSize=7, textColor=MUTED),
    "card_value": ParagraphStyle("card_value", parent=_BASE["Normal"], fontSize=14, leading=17),
}


def html_to_pdf(report_html: str) -> bytes:
    """The PDF of a report written by ``reports.render`` (A4, the HTML's title as the document's)."""
    root = lxml_html.document_fromstring(report_html)
    main = root.find(".//main")
    body = main if main is not None else root.find("body")
    story = list(_blocks(body)) if body is not None else []
    out = io.BytesIO()
    title = _text(root.findtext(".//title") or "")
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=MARGIN, title=title, author="leadgov", creator="leadgov")
    document.build(story or [Spacer(1, 1)], onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()


def _page_number(canvas: Any, document: Any) -> None:  # a ReportLab Canvas and document (untyped)
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.setFillColor(MUTED)
    canvas.drawRightString(A4[0] - MARGIN, MARGIN / 2, str(document.page))
    canvas.restoreState()


# --- blocks ------------------------------------------------------------------------------------------

def _blocks(parent: _Element) -> Iterator[Flowable]:
    for element in parent:
        if not isinstance(element.tag, str):
            continue  # a comment
        tag, classes = element.tag, set((element.get("class") or "").split())
        if tag == "header":
            for child in element:
                yield Paragraph(_inline(child), STYLES["h1" if child.tag == "h1" else "subtitle"])
        elif tag in ("h1", "h2", "h3", "h4"):  # a sub-heading (h4) reads as an h3: kept with what follows
            yield Paragraph(_inline(element), STYLES["h3" if tag == "h4" else tag])
        elif tag == "p":
            yield Paragraph(_inline(element), STYLES["p"])
        elif tag in ("ul", "ol"):
            yield _list(element)
        elif tag == "table":
            yield _table(element)
        elif tag == "div" and "cards" in classes:
            yield _cards(element)
            yield Spacer(1, 6)
        elif tag == "div" and "charts" in classes:
            yield from _charts(element.iter("svg"))
        elif tag == "svg":
            yield from _charts([element])
        elif tag == "footer":
            yield Paragraph(_inline(element), STYLES["footer"])
        elif tag in ("div", "section", "main"):
            yield from _blocks(element)
        elif _text(element.text_content()).strip():
            yield Paragraph(_inline(element), STYLES["p"])


def _list(element: _Element) -> ListFlowable:
    items = [ListItem(Paragraph(_inline(li), STYLES["p"]), leftIndent=10) for li in element if li.tag == "li"]
    return ListFlowable(items, bulletType="bullet", start="•", leftIndent=10, bulletFontSize=7)


def _table(element: _Element) -> Table:
    rows: list[list[Paragraph]] = []
    styles: list[tuple[object, ...]] = []
    header_rows = 0
    for tr in element.iter("tr"):
        cells = [c for c in tr if c.tag in ("th", "td")]
        in_head = tr.getparent() is not None and tr.getparent().tag == "thead"
        header_rows += in_head
        row: list[Paragraph] = []
        for cell in cells:
            numeric = "num" in (cell.get("class") or "").split()
            text = _inline(cell)
            row.append(Paragraph(f"<b>{text}</b>" if cell.tag == "th" else text, STYLES["num" if numeric else "cell"]))
            span = int(cell.get("colspan") or 1)
            if span > 1:
                styles.append(("SPAN", (len(row) - 1, len(rows)), (len(row) + span - 2, len(rows))))
                row.extend(Paragraph("", STYLES["cell"]) for _ in range(span - 1))
            if cell.tag == "th":
                styles.append(("BACKGROUND", (len(row) - span, len(rows)), (len(row) - 1, len(rows)), HEAD))
        rows.append(row)
    width = max((len(r) for r in rows), default=1)
    rows = [r + [Paragraph("", STYLES["cell"])] * (width - len(r)) for r in rows]
    first = WIDTH * (0.34 if width > 2 else 0.22)
    widths = [first] + [(WIDTH - first) / (width - 1)] * (width - 1) if width > 1 else [WIDTH]
    table = Table(rows or [[Paragraph("", STYLES["cell"])]], colWidths=widths, repeatRows=header_rows)
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        *styles,
    ]))
    return table


def _cards(element: _Element) -> Table:
    cells = []
    for card in element:
        label = next((c for c in card if "label" in (c.get("class") or "")), None)
        value = next((c for c in card if "value" in (c.get("class") or "")), None)
        cells.append([Paragraph(_inline(label) if label is not None else "", STYLES["card_label"]),
                      Paragraph(_inline(value) if value is not None else "", STYLES["card_value"])])
    table = Table([cells] if cells else [[""]], colWidths=[WIDTH / max(len(cells), 1)] * max(len(cells), 1))
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, LINE), ("INNERGRID", (0, 0), (-1, -1), 0.5, LINE)]))
    return table


def _charts(svgs: Iterable[_Element]) -> Iterator[Flowable]:
    """Each SVG chart as a drawing at most the page's width (a chart is never cut across pages)."""
    for svg in svgs:
        drawing = svg2rlg(io.BytesIO(_svg_bytes(svg)))
        if drawing is None or not drawing.width:
            continue
        scale = min(1.0, WIDTH / drawing.width)
        drawing.scale(scale, scale)
        drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
        yield KeepTogether([drawing, Spacer(1, 6)])


def _svg_bytes(svg: _Element) -> bytes:
    """The chart as a standalone SVG document (the HTML parser drops the namespace)."""
    text = lxml_html.tostring(svg, encoding="unicode", method="xml")
    if "xmlns=" not in text.split(">", 1)[0]:
        text = text.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    return _text(text).encode("utf-8")


# --- inline text ----------------------------------------------------------------------------------

def _text(value: str) -> str:
    return value.translate(_ASCII)


def _inline(element: _Element) -> str:
    """The element's content as platypus paragraph markup: text escaped; bold, code and flags kept."""
    parts = [escape(_text(element.text or ""))]
    for child in element:
        if isinstance(child.tag, str):
            inner = _inline(child)
            classes = set((child.get("class") or "").split())
            if child.tag in ("strong", "b", "th"):
                inner = f"<b>{inner}</b>"
            elif child.tag == "code":
                inner = f'<font face="Courier">{inner}</font>'
            elif child.tag == "span" and "flag" in classes:
                colour = next((FLAG_COLOURS[c] for c in classes if c in FLAG_COLOURS), "#1b1f24")
                inner = f'<font color="{colour}"><b>{inner}</b></font>'
            elif child.tag == "br":
                inner = "<br/>"
            parts.append(inner)
        parts.append(escape(_text(child.tail or "")))
    return " ".join("".join(parts).split())
