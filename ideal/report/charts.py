"""The report's charts as inline SVG, drawn offline with altair + vl-convert.

What belongs here: turning already-localised rows (labels and pre-formatted values come
from the caller) into SVG strings that are safe to inline in the report. Nothing here
queries the warehouse or translates text.

Every SVG is post-processed by ``_finish``: the XML namespace declarations go (inline SVG
in HTML does not need them, and the report must contain no URL at all), element ids get
a per-chart prefix (two inline charts would otherwise share ``gradient_0``), Vega's
English ARIA text is switched off and replaced by the caller's localised label, and an
assertion proves no external reference is left.
"""

from __future__ import annotations

import html
import json
import logging
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ideal.catalogue import Lang
from ideal.report.i18n import D3_LOCALE

logger = logging.getLogger(__name__)

FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
BAR_COLOUR = "#31688e"  # a mid viridis blue: one colour, so colour carries no meaning here
MISSING_FILL = "#e6e6e6"
# Viridis is perceptually uniform and readable with the common colour-vision deficiencies
# and in greyscale print; reversed so that darker means a higher threat, as on the map.
# The domain is fixed so the same colour means the same score in every cycle.
HEAT_SCHEME: Final = "viridis"
SCORE_DOMAIN = (0.0, 100.0)
# Reversed viridis is dark above about the middle: white text there, black text below.
DARK_FROM = 45.0
# The map's classes (0..3 of the top priorities): ColorBrewer's single-hue "Reds", which
# stays ordered for every colour-vision deficiency and in greyscale print.
MAP_COLOURS: Final = ("#fee5d9", "#fcae91", "#fb6a4a", "#a50f15", "#cb181d", "#67000d")
MAP_NO_DATA = "#bdbdbd"
MAP_CONTEXT = "#f4f4f4"
MAP_DARK_FROM = 2  # white labels on the two darkest classes
# Two series on one chart differ by shape and dash, never by colour alone.
SERIES_COLOURS: Final = ("#31688e", "#b5501b")

# altair checks each spec against the Vega-Lite schema, which costs a tenth of a second per
# chart; the specs' structure never depends on the data, so the tests check it
# (tests/test_report.py sets this to True) and a report does not pay for it again.
VALIDATE_SPECS = False

# Any URL scheme, or any href/src/url() that does not point inside the SVG itself.
_URL = re.compile(r"""(?i)\b(?:https?|ftp|file)://|\b(?:href|src)=["'](?!#)|url\((?!['"]?#)""")
_ID = re.compile(r'\bid="([^"]+)"')


@dataclass(frozen=True)
class Bar:
    """One ranked category: ``label`` already localised, ``value_label`` already formatted."""

    label: str
    value: float
    value_label: str


@dataclass(frozen=True)
class Cell:
    """One country × category cell; ``value`` None draws a grey cell with ``value_label``."""

    row: str
    column: str
    value: float | None
    value_label: str


def _config() -> dict[str, Any]:
    # aria False: Vega would otherwise write English descriptions into a Spanish report.
    return {
        "aria": False,
        "font": FONT,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelColor": "#222"},
        "legend": {"labelFontSize": 10, "titleFontSize": 11},
        "title": {"fontSize": 13, "anchor": "start"},
        "background": "white",
    }


def _spec(chart: Any, datasets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The Vega-Lite spec of ``chart`` with its rows attached as named datasets.

    Charts refer to their rows by name (``_named(...)``) and the rows join the spec
    only here: altair deep-copies and schema-validates every inline value, which for the
    map's coordinates or a 33 x 10 grid costs far more than drawing them.
    """
    spec: dict[str, Any] = chart.to_dict(validate=VALIDATE_SPECS)
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    spec["config"] = _config()
    return spec


def _named(name: str) -> Any:
    """A reference to the named dataset ``name`` (attached by ``_spec``)."""
    import altair as alt

    return alt.Data(name=name)  # type: ignore[no-untyped-call]


_SKELETONS: dict[tuple[Any, ...], str] = {}


def _skeleton(key: tuple[Any, ...], build: Any) -> dict[str, Any]:
    """A chart spec built once per ``key`` (charts drawn many times differ only in rows)."""
    if key not in _SKELETONS:
        _SKELETONS[key] = json.dumps(build())
    spec: dict[str, Any] = json.loads(_SKELETONS[key])
    return spec


def _to_svg(spec: dict[str, Any], lang: Lang) -> str:
    import vl_convert

    # allowed_base_urls=[]: the charts only ever use inline data; never fetch anything.
    svg: str = vl_convert.vegalite_to_svg(spec, format_locale=D3_LOCALE[lang], allowed_base_urls=[])
    return svg


def _finish(svg: str, chart_id: str, label: str) -> str:
    """Make a vl-convert SVG safe and accessible to inline (see module docstring)."""
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    ids = set(_ID.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{chart_id}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    svg = svg.replace(
        "<svg ",
        f'<svg id="{chart_id}" role="img" aria-label="{html.escape(label, quote=True)}" ',
        1,
    )
    leftover = _URL.findall(svg)
    assert not leftover, f"external reference left in chart {chart_id}: {leftover[:3]}"
    return svg


def priority_bars(
    bars: Sequence[Bar],
    *,
    lang: Lang,
    chart_id: str,
    label: str,
    x_title: str,
) -> str:
    """Horizontal bars of the regional priority scores, in the order given (rank order)."""
    import altair as alt

    # Inline values only: nothing is ever fetched (and vl-convert is told to refuse).
    values = [
        {"label": b.label, "value": b.value, "value_label": b.value_label, "order": i}
        for i, b in enumerate(bars)
    ]
    base = alt.Chart(_named("bars")).encode(
        y=alt.Y(
            "label:N",
            sort=alt.EncodingSortField(field="order", order="ascending"),
            title=None,
            axis=alt.Axis(labelLimit=300, ticks=False, domain=False, labelPadding=6),
        ),
        x=alt.X(
            "value:Q",
            title=x_title,
            scale=alt.Scale(domain=list(SCORE_DOMAIN)),
            axis=alt.Axis(values=[0, 20, 40, 60, 80, 100], grid=True, gridColor="#e5e5e5"),
        ),
    )
    chart = alt.layer(
        base.mark_bar(color=BAR_COLOUR, height={"band": 0.7}),
        base.mark_text(align="left", dx=4, fontSize=11, color="#111").encode(text="value_label:N"),
    ).properties(width=380, height={"step": 24})
    svg = _finish(_to_svg(_spec(chart, {"bars": values}), lang), chart_id, label)
    logger.debug("priority chart %s: %d bars, %d bytes", chart_id, len(bars), len(svg))
    return svg


def heatmap(
    cells: Sequence[Cell],
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    lang: Lang,
    chart_id: str,
    label: str,
    legend_title: str,
) -> str:
    """Country × category grid coloured by score, every cell also labelled with its value."""
    import altair as alt

    # Long category names wrap onto several lines under their column (Vega mis-places
    # multi-line labels on a top axis, so the column labels sit at the bottom).
    wrapped = {c: "\n".join(textwrap.wrap(c, width=14)) or c for c in columns}
    values = [
        {
            "row": c.row,
            "column": wrapped[c.column],
            "value": c.value,
            "value_label": c.value_label,
            "is_dark": c.value is not None and c.value >= DARK_FROM,
        }
        for c in cells
    ]
    base = alt.Chart(_named("cells")).encode(
        x=alt.X(
            "column:N",
            sort=[wrapped[c] for c in columns],
            title=None,
            axis=alt.Axis(
                orient="bottom",
                labelAngle=0,
                labelExpr="split(datum.label, '\\n')",
                labelLimit=0,
                labelPadding=4,
                ticks=False,
                domain=False,
                labelFontSize=10,
            ),
        ),
        y=alt.Y(
            "row:N",
            sort=list(rows),
            title=None,
            axis=alt.Axis(ticks=False, domain=False, labelLimit=200),
        ),
    )
    background = base.mark_rect(fill=MISSING_FILL, stroke="white", strokeWidth=1.5)
    coloured = (
        base.mark_rect(stroke="white", strokeWidth=1.5)
        .encode(
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme=HEAT_SCHEME, domain=list(SCORE_DOMAIN), reverse=True),
                legend=alt.Legend(
                    title=legend_title,
                    orient="right",
                    # Never taller than the grid itself.
                    gradientLength=max(60, min(160, 22 * len(rows))),
                    values=[0, 50, 100],
                ),
            )
        )
        .transform_filter("datum.value != null")
    )
    text = base.mark_text(fontSize=10).encode(
        text="value_label:N",
        color=alt.condition("datum.is_dark", alt.value("white"), alt.value("black")),
    )
    chart = alt.layer(background, coloured, text).properties(
        width={"step": 64}, height={"step": 22}
    )
    svg = _finish(_to_svg(_spec(chart, {"cells": values}), lang), chart_id, label)
    logger.debug("heatmap %s: %d cells, %d bytes", chart_id, len(cells), len(svg))
    return svg


@dataclass(frozen=True)
class Interval:
    """One ranked category's nominal rank and its 5-95 % rank interval."""

    label: str
    rank: float
    low: float
    high: float


def rank_intervals(
    intervals: Sequence[Interval],
    *,
    lang: Lang,
    chart_id: str,
    label: str,
    x_title: str,
    n_ranks: int,
) -> str:
    """Each category's rank (dot) and the range it takes in 90 % of the simulations (line)."""
    import altair as alt

    values = [
        {"label": i.label, "rank": i.rank, "low": i.low, "high": i.high, "order": n}
        for n, i in enumerate(intervals)
    ]
    y = alt.Y(
        "label:N",
        sort=alt.EncodingSortField(field="order", order="ascending"),
        title=None,
        axis=alt.Axis(labelLimit=300, ticks=False, domain=False, labelPadding=6),
    )
    # Rank 1 on the left, as read in the ranked table; integer ticks only.
    x_scale = alt.Scale(domain=[0.5, n_ranks + 0.5], nice=False)
    ticks = list(range(1, n_ranks + 1))
    base = alt.Chart(_named("intervals"))
    chart = alt.layer(
        base.mark_rule(color=BAR_COLOUR, strokeWidth=3).encode(
            y=y,
            x=alt.X(
                "low:Q",
                title=x_title,
                scale=x_scale,
                axis=alt.Axis(values=ticks, format="d", grid=True, gridColor="#e5e5e5"),
            ),
            x2="high:Q",
        ),
        base.mark_point(filled=True, size=70, color="#111", shape="diamond").encode(
            y=y, x=alt.X("rank:Q", scale=x_scale)
        ),
    ).properties(width=380, height={"step": 22})
    svg = _finish(_to_svg(_spec(chart, {"intervals": values}), lang), chart_id, label)
    logger.debug("rank intervals %s: %d rows, %d bytes", chart_id, len(intervals), len(svg))
    return svg


@dataclass(frozen=True)
class SeriesPoint:
    """One value of a named series at one cycle; ``value_label`` already formatted."""

    series: str
    cycle: str
    value: float
    value_label: str


def trend_lines(
    points: Sequence[SeriesPoint],
    *,
    series: Sequence[str],
    cycles: Sequence[str],
    lang: Lang,
    chart_id: str,
    label: str,
) -> str:
    """Up to two series over the cycles: lines with points, told apart by shape and dash
    (the caption names them, so the chart carries no legend; the table gives the values)."""
    values = [
        {"series": p.series, "cycle": p.cycle, "value": p.value, "value_label": p.value_label}
        for p in points
    ]
    # One category's chart differs from the next only in its rows: build the spec once.
    spec = _skeleton(
        ("trend", tuple(series), tuple(cycles)),
        lambda: _trend_spec(list(series), list(cycles)),
    )
    spec["datasets"] = {"points": values}
    svg = _finish(_to_svg(spec, lang), chart_id, label)
    logger.debug("trend %s: %d points, %d bytes", chart_id, len(points), len(svg))
    return svg


def _trend_spec(series: list[str], cycles: list[str]) -> dict[str, Any]:
    import altair as alt

    shapes = ["circle", "square"][: len(series)]
    dashes = [[1, 0], [5, 3]][: len(series)]
    colours = list(SERIES_COLOURS[: len(series)])
    base = alt.Chart(_named("points")).encode(
        x=alt.X(
            "cycle:O",
            sort=cycles,
            title=None,
            axis=alt.Axis(labelAngle=0, ticks=False, domain=False, labelFontSize=11),
        ),
        # The values are in the table beside the chart (labels on the points collide when
        # the two series are close): the axis reads 0, 50 and 100 only.
        y=alt.Y(
            "value:Q",
            title=None,
            scale=alt.Scale(domain=list(SCORE_DOMAIN)),
            axis=alt.Axis(
                values=[0, 50, 100], grid=True, gridColor="#e5e5e5", ticks=False, domain=False
            ),
        ),
        color=alt.Color("series:N", scale=alt.Scale(domain=series, range=colours), legend=None),
    )
    chart = alt.layer(
        base.mark_line(strokeWidth=2).encode(
            strokeDash=alt.StrokeDash(
                "series:N", scale=alt.Scale(domain=series, range=dashes), legend=None
            )
        ),
        base.mark_point(filled=True, size=60, opacity=1).encode(
            shape=alt.Shape("series:N", scale=alt.Scale(domain=series, range=shapes), legend=None)
        ),
    ).properties(width=max(200, 120 * len(cycles)), height=140)
    return _spec(chart, {})


@dataclass(frozen=True)
class Area:
    """One map shape's class: ``value`` an integer class (None: no data, or context)."""

    shape_id: str
    value: int | None
    label: str  # the text drawn on the shape (already formatted); "" for none
    is_member: bool


def choropleth(
    areas: Sequence[Area],
    shapes: Sequence[dict[str, Any]],
    *,
    classes: Sequence[str],
    no_data: str,
    not_assessed: str,
    lang: Lang,
    chart_id: str,
    label: str,
    legend_title: str,
) -> str:
    """The member states coloured by an ordered class, each labelled with its value.

    ``shapes`` are the GeoJSON features of ``ideal.report.mapdata``; ``classes`` the legend
    labels of the values 0..n-1; ``no_data`` labels the members without a value and
    ``not_assessed`` every other shape (states outside the cycle, context). Small states
    (islands) are drawn as a marker as well: their shape is invisible on a printed page.
    """
    import altair as alt

    by_id = {a.shape_id: a for a in areas}
    n = len(classes)
    # One geoshape layer for members and context alike (the shapes are inlined once).
    context = not_assessed
    domain = [*classes, no_data, context]
    colours = [*MAP_COLOURS[:n], MAP_NO_DATA, MAP_CONTEXT]
    features = []
    markers = []
    for feature in shapes:
        props = feature["properties"]
        area = by_id.get(str(props["id"]))
        member = bool(props["member"]) and area is not None and area.is_member
        if not member:
            klass = context
        elif area is not None and area.value is not None:
            klass = classes[area.value]
        else:
            klass = no_data
        features.append({**feature, "properties": {"klass": klass}})
        if member and area is not None:
            markers.append(
                {
                    "lon": props["label_lon"],
                    "lat": props["label_lat"],
                    "klass": klass,
                    "text": area.label,
                    "small": bool(props["small"]),
                    "dark": area.value is not None and area.value >= MAP_DARK_FROM,
                }
            )
    scale = alt.Scale(domain=domain, range=colours)
    legend = alt.Legend(
        title=legend_title,
        # Inside the map, over the Pacific: the one empty corner of the region.
        orient="bottom-left",
        symbolType="square",
        symbolSize=180,
        values=domain,
        labelLimit=220,
        titleLimit=340,
        labelFontSize=12,
        titleFontSize=12,
        padding=6,
    )
    shapes_layer = (
        alt.Chart(_named("shapes"))
        .mark_geoshape(stroke="#555555", strokeWidth=0.5)
        .encode(color=alt.Color("properties.klass:N", scale=scale, legend=legend))
    )
    dots = (
        alt.Chart(_named("dots"))
        .mark_point(filled=True, size=55, shape="circle", stroke="#333", strokeWidth=0.8, opacity=1)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            color=alt.Color("klass:N", scale=scale, legend=None),
        )
    )
    texts = (
        alt.Chart(_named("labels"))
        .mark_text(fontSize=10, fontWeight="bold")
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            text="text:N",
            color=alt.condition("datum.dark", alt.value("white"), alt.value("black")),
        )
    )
    chart = (
        alt.layer(shapes_layer, dots, texts)
        .properties(width=560, height=620)
        .project(type="mercator")
    )
    spec = _spec(
        chart,
        {
            "shapes": features,
            "dots": [m for m in markers if m["small"]],
            "labels": [m for m in markers if not m["small"] and m["text"]],
        },
    )
    svg = _finish(_to_svg(spec, lang), chart_id, label)
    logger.debug("map %s: %d shapes, %d bytes", chart_id, len(features), len(svg))
    return svg
