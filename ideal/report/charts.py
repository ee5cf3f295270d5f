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
import logging
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ideal.report.i18n import D3_LOCALE, Lang

logger = logging.getLogger(__name__)

FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
BAR_COLOUR = "#31688e"  # a mid viridis blue: one colour, so colour carries no meaning here
MISSING_FILL = "#e6e6e6"
# Viridis is perceptually uniform and readable with the common colour-vision deficiencies
# and in greyscale print; the domain is fixed so the same colour means the same score in
# every cycle.
HEAT_SCHEME: Final = "viridis"
SCORE_DOMAIN = (0.0, 100.0)
# Viridis is dark below about the middle: white text there, black text above.
DARK_BELOW = 55.0

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
    base = alt.Chart({"values": values}).encode(
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
    spec = chart.to_dict()
    spec["config"] = _config()
    svg = _finish(_to_svg(spec, lang), chart_id, label)
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
            "is_dark": c.value is not None and c.value < DARK_BELOW,
        }
        for c in cells
    ]
    base = alt.Chart({"values": values}).encode(
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
                scale=alt.Scale(scheme=HEAT_SCHEME, domain=list(SCORE_DOMAIN)),
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
    spec = chart.to_dict()
    spec["config"] = _config()
    svg = _finish(_to_svg(spec, lang), chart_id, label)
    logger.debug("heatmap %s: %d cells, %d bytes", chart_id, len(cells), len(svg))
    return svg
