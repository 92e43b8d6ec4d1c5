"""Inline SVG charts: well-formed, self-contained, printable in black and white, formatted per locale."""

import re
import xml.etree.ElementTree as ET

import pytest

from leadgov.reports.charts import bar_chart, funnel_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"
XMLNS = 'xmlns="http://www.w3.org/2000/svg"'
# Geometry at the default 640 x 280: the plot runs from y=56 (top) to y=240 (bottom), from x=64.
TOP, BOTTOM, LEFT = 56, 240, 64

WEEKS = [("W01", 0.10), ("W02", 0.45), ("W03", None), ("W04", 0.20), ("W05", 0.30)]
VOLUMES = [("W01", 45), ("W02", 52), ("W03", None), ("W04", 0), ("W05", 61)]
STAGES = [("Livrés", 1234), ("Acceptés", 1050), ("Appelés", 617), ("Gagnés", 12)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything not well-formed
    assert root.tag == f"{NS}svg"
    return root


def all_(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if cls is None or e.get("class") == cls]


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [e.text for e in all_(root, "text", cls)]


def ticks(root: ET.Element) -> dict[str, float]:
    """Tick label -> the y of its grid line."""
    return {g.find(f"{NS}text").text: float(g.find(f"{NS}line").get("y1")) for g in all_(root, "g", "tick")}


def fr_line(**kw) -> str:
    return line_chart(WEEKS, title="Taux de rejet par semaine", y_label="Taux de rejet (%)", locale="fr",
                      threshold=0.15, **kw)


def en_bars(**kw) -> str:
    return bar_chart(VOLUMES, title="Leads delivered", y_label="Leads", locale="en", **kw)


def every_chart() -> list[str]:
    return [fr_line(), line_chart(WEEKS, title="t", y_label="y", locale="en"),
            en_bars(target=50, band=(40, 60)), funnel_chart(STAGES, title="Entonnoir", locale="fr"),
            line_chart([], title="t", y_label="y", locale="fr")]


# --- the frame ------------------------------------------------------------------------------------

@pytest.mark.parametrize("svg", every_chart())
def test_every_chart_is_one_accessible_svg(svg):
    root = parse(svg)
    assert svg.startswith("<svg ") and svg.endswith("</svg>") and svg.count("<svg") == 1
    assert root.get("role") == "img"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    title = root[0]
    assert title.tag == f"{NS}title" and root.get("aria-labelledby") == title.get("id")
    assert texts(root, "title") == [title.text]  # the same title, visible


def test_titles_and_viewbox():
    root = parse(fr_line(width=800, height=300))
    assert root.find(f"{NS}title").text == "Taux de rejet par semaine"
    assert root.get("viewBox") == "0 0 800 300"


@pytest.mark.parametrize("svg", every_chart())
def test_nothing_is_fetched_from_anywhere(svg):
    """The namespace is the only "http", and every url() names a pattern of the chart itself."""
    assert svg.count("http") == 1 and XMLNS in svg
    root = parse(svg)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert all(ref in ids for ref in re.findall(r"url\(#([^)]+)\)", svg))
    assert re.findall(r"url\((?!#)", svg) == []
    assert not any(e.tag in (f"{NS}image", f"{NS}script", f"{NS}style", f"{NS}foreignObject") for e in root.iter())
    assert not any("href" in name for e in root.iter() for name in e.attrib)
    assert "@import" not in svg and "@font-face" not in svg


def test_texts_are_escaped():
    nasty = "<script>&"
    svg = line_chart([(nasty, 0.1), ("W02", 0.2)], title=f"Fournisseur {nasty}", y_label=nasty, locale="fr",
                     threshold=0.15, threshold_label=nasty, series_label=nasty)
    assert "<script" not in svg and "&lt;script&gt;&amp;" in svg
    root = parse(svg)
    assert root.find(f"{NS}title").text == "Fournisseur <script>&"
    assert nasty in texts(root, "x-tick") and texts(root, "y-label") == [nasty]
    assert texts(root, "threshold-label") == ["<script>& 15,0 %"]
    bars = bar_chart([(nasty, 3)], title=nasty, y_label="Leads", locale="en", target=2, target_label=nasty)
    assert "<script" not in bars and texts(parse(bars), "x-tick") == [nasty]
    funnel = funnel_chart([(nasty, 3)], title=nasty, locale="en")
    assert "<script" not in funnel and texts(parse(funnel), "stage") == [nasty]


def test_control_characters_do_not_break_the_xml():
    parse(line_chart([("W\x0101", 0.1)], title="a\x00b", y_label="y", locale="en"))


def test_same_data_same_svg_and_ids_differ_between_charts():
    assert en_bars(target=50) == en_bars(target=50)
    first = parse(en_bars(target=50)).find(f"{NS}defs/{NS}pattern").get("id")
    second = parse(en_bars(target=55)).find(f"{NS}defs/{NS}pattern").get("id")
    assert first != second


# --- line chart -----------------------------------------------------------------------------------

def test_ticks_are_round_and_formatted_per_locale():
    fr = ticks(parse(fr_line()))
    assert list(fr) == ["0 %", "10 %", "20 %", "30 %", "40 %", "50 %"]  # 0.45 + headroom -> 50 %
    assert fr["0 %"] == BOTTOM and fr["50 %"] == TOP
    en = ticks(parse(line_chart(WEEKS, title="t", y_label="y", locale="en")))
    assert list(en) == ["0%", "10%", "20%", "30%", "40%", "50%"]
    counts = ticks(parse(line_chart([("a", 12000), ("b", 8000)], title="t", y_label="Leads", locale="fr",
                                    percent=False)))
    assert list(counts) == ["0", "5 000", "10 000", "15 000"]  # 12 600 / 5 intervals -> steps of 5 000
    small = ticks(parse(line_chart([("a", 0.012)], title="t", y_label="y", locale="fr")))
    assert list(small) == ["0,0 %", "0,5 %", "1,0 %", "1,5 %"]


def test_threshold_is_a_dashed_line_at_its_value():
    root = parse(fr_line())
    [line] = all_(root, "line", "threshold")
    assert line.get("stroke-dasharray") == "6 4"
    y = float(line.get("y1"))
    assert y == float(line.get("y2")) == 184.8  # 240 - 0.15 / 0.50 * (240 - 56)
    grid = ticks(root)
    assert y == pytest.approx(grid["0 %"] + (grid["50 %"] - grid["0 %"]) * 0.15 / 0.50)
    assert float(line.get("x1")) == LEFT
    assert texts(root, "threshold-label") == ["Seuil 15,0 %"]


def test_threshold_label_takes_its_value_once():
    assert texts(parse(fr_line(threshold_label="seuil {value}")), "threshold-label") == ["seuil 15,0 %"]
    assert texts(parse(fr_line(threshold_label="seuil 15,0 %")), "threshold-label") == ["seuil 15,0 %"]
    assert texts(parse(fr_line(threshold_label="Max")), "threshold-label") == ["Max 15,0 %"]


def test_a_threshold_above_the_data_stays_in_the_plot():
    root = parse(line_chart([("a", 0.05), ("b", 0.08)], title="t", y_label="y", locale="en", threshold=0.15))
    assert list(ticks(root))[-1] == "20%"
    assert float(all_(root, "line", "threshold")[0].get("y1")) == 102.0  # 240 - 0.15 / 0.20 * 184


def test_a_missing_week_breaks_the_line():
    root = parse(fr_line())
    lines = all_(root, "polyline", "series")
    assert [len(p.get("points").split()) for p in lines] == [2, 2]
    assert len(all_(root, "circle", "marker")) == 4 + 1  # 4 values, 1 in the legend
    assert texts(root, "x-tick") == ["W01", "W02", "W03", "W04", "W05"]  # the gap keeps its week
    (x1, y1), (x2, y2) = (map(float, pt.split(",")) for pt in lines[0].get("points").split())
    assert y1 == pytest.approx(240 - 0.10 / 0.5 * 184) and y2 == pytest.approx(240 - 0.45 / 0.5 * 184)


def test_the_line_is_solid_and_labelled_at_its_end():
    root = parse(fr_line())
    assert all("stroke-dasharray" not in p.attrib for p in all_(root, "polyline"))
    assert texts(root, "series-label") == ["30,0 %"]
    legend = [e for e in root.iter(f"{NS}g") if e.get("class") == "legend"][0]
    assert [t.text for t in legend.iter(f"{NS}text")] == ["Taux de rejet (%)", "Seuil"]


def test_close_end_labels_do_not_overlap():
    root = parse(line_chart([("a", 0.15)], title="t", y_label="y", locale="en", threshold=0.15))
    ys = sorted(float(t.get("y")) for t in all_(root, "text") if t.get("class") in ("series-label", "threshold-label"))
    assert ys[1] - ys[0] >= 13


def test_one_point_is_a_marker_without_a_line():
    root = parse(line_chart([("W01", 0.2)], title="t", y_label="y", locale="en"))
    assert all_(root, "polyline", "series") == []
    assert len(all_(root, "circle", "marker")) == 2  # the point and the legend


def test_all_zeros_sit_on_the_baseline_of_a_full_scale():
    root = parse(line_chart([("a", 0.0), ("b", 0.0)], title="t", y_label="y", locale="en"))
    assert list(ticks(root)) == ["0%", "20%", "40%", "60%", "80%", "100%"]
    assert all_(root, "polyline", "series")[0].get("points").endswith(",240")


@pytest.mark.parametrize(("locale", "words"), [("fr", "pas de données"), ("en", "no data")])
@pytest.mark.parametrize("data", [[], [("W01", None), ("W02", None)]])
def test_nothing_to_draw_says_so(locale, words, data):
    for svg in (line_chart(data, title="Rejets", y_label="y", locale=locale),
                bar_chart(data, title="Rejets", y_label="y", locale=locale)):
        root = parse(svg)
        assert texts(root, "no-data") == [words]
        assert root.find(f"{NS}title").text == "Rejets"
        assert all_(root, "polyline") == [] and all_(root, "rect", "bar") == []
    assert texts(parse(funnel_chart([], title="F", locale=locale)), "no-data") == [words]


# --- bar chart ------------------------------------------------------------------------------------

def test_one_hatched_bar_per_value_and_missing_ones_marked():
    root = parse(en_bars())
    bars = all_(root, "rect", "bar")
    assert len(bars) == 4  # W03 is None: no bar
    assert all(b.get("fill") == f"url(#{root.find(f'{NS}defs/{NS}pattern').get('id')})" for b in bars)
    assert texts(root, "value") == ["45", "52", "0", "61"]
    assert texts(root, "missing") == ["n/a"]
    assert list(ticks(root)) == ["0", "20", "40", "60", "80"]  # 61 + 5 % = 64.05 -> steps of 20 up to 80
    tallest = bars[3]
    assert float(tallest.get("y")) == pytest.approx(240 - 61 / 80 * 184)
    assert float(tallest.get("y")) + float(tallest.get("height")) == pytest.approx(240)
    assert float(bars[2].get("height")) == 0


def test_target_line_and_band():
    root = parse(en_bars(target=50, band=(40, 60), target_label="target", band_label="min–max"))
    [target] = all_(root, "line", "target")
    assert target.get("stroke-dasharray") == "6 4"
    assert float(target.get("y1")) == float(target.get("y2")) == 125.0  # 240 - 50 / 80 * 184
    [band] = all_(root, "rect", "band")
    assert float(band.get("y")) == 102.0  # 240 - 60 / 80 * 184
    assert float(band.get("height")) == 46.0  # (60 - 40) / 80 * 184
    assert band.get("fill").startswith("url(#") and band.get("fill").endswith("-band)")
    assert [e.get("stroke-dasharray") for e in all_(root, "line", "band-edge")] == ["1.5 3", "1.5 3"]
    assert texts(root, "target-label") == ["target 50"] and texts(root, "band-label") == ["min–max 40–60"]


def test_bars_as_rates_in_french():
    root = parse(bar_chart([("ACME", 0.185), ("Beta", None)], title="t", y_label="Taux (%)", locale="fr",
                           percent=True, target=0.15))
    assert texts(root, "value") == ["18,5 %"] and texts(root, "missing") == ["n.d."]
    assert texts(root, "target-label") == ["Objectif 15,0 %"]


def test_a_negative_bar_hangs_below_zero():
    root = parse(bar_chart([("a", -10), ("b", 30)], title="t", y_label="EUR", locale="en"))
    grid = ticks(root)
    assert list(grid)[0] == "-10" and list(grid)[-1] == "40"
    low = all_(root, "rect", "bar")[0]
    assert float(low.get("y")) == pytest.approx(grid["0"])
    assert float(low.get("y")) + float(low.get("height")) == pytest.approx(grid["-10"])


def test_all_zero_bars():
    root = parse(bar_chart([("a", 0), ("b", 0)], title="t", y_label="Leads", locale="fr"))
    assert list(ticks(root)) == ["0", "1", "2", "3", "4", "5"]
    assert [float(b.get("height")) for b in all_(root, "rect", "bar")] == [0, 0]


# --- funnel ---------------------------------------------------------------------------------------

def test_funnel_bars_shrink_and_carry_count_and_share_of_the_first():
    root = parse(funnel_chart(STAGES, title="Entonnoir", locale="fr"))
    assert texts(root, "stage") == ["Livrés", "Acceptés", "Appelés", "Gagnés"]
    assert texts(root, "value") == ["1 234 (100,0 %)", "1 050 (85,1 %)", "617 (50,0 %)", "12 (1,0 %)"]
    widths = [float(b.get("width")) for b in all_(root, "rect", "bar")]
    assert widths == sorted(widths, reverse=True)
    assert widths[2] == pytest.approx(widths[0] / 2, abs=0.01)
    en = parse(funnel_chart(STAGES, title="Funnel", locale="en"))
    assert texts(en, "value")[0] == "1,234 (100.0%)"


def test_funnel_edge_cases():
    zero = parse(funnel_chart([("Delivered", 0), ("Won", 0)], title="t", locale="en"))
    assert texts(zero, "value") == ["0 (n/a)", "0 (n/a)"]
    one = parse(funnel_chart([("Livrés", 7)], title="t", locale="fr"))
    assert texts(one, "value") == ["7 (100,0 %)"]
    assert one.get("viewBox") == "0 0 640 98"  # 56 + 30 per stage + 12
