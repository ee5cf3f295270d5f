"""Render the committee's report for one cycle and language as one self-contained HTML file.

What belongs here: opening the warehouse (read-only), drawing the charts from the rows of
``ideal.report.data`` and filling ``ideal/templates/report.html.j2``. Presentation
(layout, wording, number formats) lives in the template, in ``ideal.report.narrative``
and in ``ideal.report.i18n``; nothing here computes a score.

The HTML has no script and no external resource: CSS is inlined, charts are inline SVG,
and all submission-derived text (file names, cell values, notes, sources) goes through
Jinja's autoescaping, because it comes from outside the secretariat and is untrusted.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket, BytecodeCache
from markupsafe import Markup

from ideal.catalogue import Lang
from ideal.config import METHODOLOGY_DIR
from ideal.report import charts, narrative
from ideal.report.data import (
    CONFIDENCE_HIGH_FROM,
    CONFIDENCE_MEDIUM_FROM,
    DEFAULT_CLASSIFICATION,
    MAX_ISSUES_SHOWN,
    SEVERITY_HIGH_FROM,
    SEVERITY_MODERATE_FROM,
    TOP_N,
    TREND_FALLING_BELOW,
    TREND_RISING_ABOVE,
    ReportData,
    confidence_word,
    load_report_data,
    sort_key,
    trend_word,
)
from ideal.report.i18n import Formatter, check_lang, translations
from ideal.warehouse import connect

__all__ = [
    "DEFAULT_CLASSIFICATION",
    "METHODOLOGY_DIR",
    "TEMPLATE",
    "confidence_word",
    "css_string",
    "load_report_data",
    "render_html",
    "render_report",
    "report_filename",
    "sort_key",
    "trend_word",
]

logger = logging.getLogger(__name__)

TEMPLATE = "report.html.j2"
# Set to print another marking (e.g. "SECRETO / SECRET") on every page without code changes.
CLASSIFICATION_ENV = "IDEAL_CLASSIFICATION"
# A cycle id becomes part of a file name: keep it to a safe, portable alphabet.
_CYCLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def report_filename(cycle_id: str, lang: str) -> str:
    """``ideal-{cycle_id}-{lang}.html``; rejects ids that are not safe in a file name."""
    check_lang(lang)
    if not _CYCLE_ID.match(cycle_id):
        raise ValueError(f"Cycle id {cycle_id!r} cannot be used in a file name.")
    return f"ideal-{cycle_id}-{lang}.html"


def default_classification() -> str:
    """The marking printed on every page: ``$IDEAL_CLASSIFICATION`` or the default."""
    return os.environ.get(CLASSIFICATION_ENV, "").strip() or DEFAULT_CLASSIFICATION


def render_report(
    warehouse_path: Path,
    cycle_id: str,
    lang: str,
    out_dir: Path,
    *,
    classification: str | None = None,
    generated_on: date | None = None,
) -> Path:
    """Write the committee's report for ``cycle_id`` in ``lang`` and return its path.

    Opens the warehouse read-only. Raises ValueError when the language is not supported or
    the cycle is unknown or has not been scored yet.
    """
    language = check_lang(lang)
    out_path = out_dir / report_filename(cycle_id, language)
    start = time.perf_counter()
    with connect(Path(warehouse_path), read_only=True) as con:
        data = load_report_data(
            con,
            cycle_id,
            language,
            classification=classification or default_classification(),
            generated_on=generated_on or datetime.now(UTC).date(),
        )
    html = render_html(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    logger.info(
        "wrote %s (%d bytes, %.2f s)",
        out_path,
        len(html.encode("utf-8")),
        time.perf_counter() - start,
    )
    return out_path


def render_html(data: ReportData) -> str:
    """Fill the template with ``data`` (charts are drawn here)."""
    t = translations(data.lang)
    fmt = Formatter(data.lang)
    env = _environment(data.lang)
    template = env.get_template(TEMPLATE)
    svgs = _charts(data, fmt)
    return template.render(
        d=data,
        fmt=fmt,
        svg={k: Markup(v) for k, v in svgs.items()},  # our own SVG, URL-checked in charts
        css_classification=Markup(css_string(data.classification)),
        css_cycle=Markup(css_string(f"IDEAL {data.cycle.cycle_id}")),
        trend_symbol={"up": "▲", "stable": "▶", "down": "▼"},
        rationale={p.code: narrative.rationale(p, data, t, fmt) for p in data.priorities},
        headlines=narrative.headlines(data, t, fmt),
        moves=narrative.moves(data),
        rank_range={p.code: narrative.rank_range(p, fmt) for p in data.priorities},
        element_name={s.element: narrative.element_name(s.element, t) for s in data.sensitivity},
        method_rows=list(_flatten(data.method.model_dump(), "", fmt, t)) if data.method else [],
        bands={
            "trend_up": TREND_RISING_ABOVE,
            "trend_down": TREND_FALLING_BELOW,
            "conf_high": CONFIDENCE_HIGH_FROM,
            "conf_medium": CONFIDENCE_MEDIUM_FROM,
            "sev_high": SEVERITY_HIGH_FROM,
            "sev_moderate": SEVERITY_MODERATE_FROM,
        },
        top_n=TOP_N,
        max_issues=MAX_ISSUES_SHOWN,
    )


# --------------------------------------------------------------------------------------
# Charts (numbers and labels are formatted here, so the SVG reads like the tables)
# --------------------------------------------------------------------------------------
def _charts(data: ReportData, fmt: Formatter) -> dict[str, str]:
    _ = translations(data.lang).gettext
    out: dict[str, str] = {}
    started = time.perf_counter()
    out["priorities"] = charts.priority_bars(
        [
            charts.Bar(f"{p.rank}. {p.name}", p.priority, fmt.number(p.priority))
            for p in data.priorities
        ],
        lang=data.lang,
        chart_id="chart-priorities",
        label=_(
            "Bar chart of the regional priority scores, highest first. "
            "The table below gives the same figures."
        ),
        x_title=_("Regional priority score (0–100)"),
    )
    intervals = [
        charts.Interval(f"{p.rank}. {p.name}", float(p.rank), p.q05_rank, p.q95_rank)
        for p in data.priorities
        if p.q05_rank is not None and p.q95_rank is not None
    ]
    if intervals:
        out["intervals"] = charts.rank_intervals(
            intervals,
            lang=data.lang,
            chart_id="chart-intervals",
            label=_(
                "Chart of each category's rank and the range of ranks it takes in the "
                "simulations (5th to 95th percentile). The ranked table gives the same figures."
            ),
            x_title=_("Rank (1 = highest priority)"),
            n_ranks=len(data.priorities),
        )
    if data.map_rows:
        from ideal.report.mapdata import load_shapes

        classes = [fmt.integer(n) for n in range(TOP_N + 1)]
        out["map"] = charts.choropleth(
            [
                charts.Area(
                    shape_id=m.iso_numeric,
                    value=m.n_top_affected,
                    label=fmt.integer(m.n_top_affected) if m.n_top_affected is not None else "–",
                    is_member=True,
                )
                for m in data.map_rows
                if m.iso_numeric
            ],
            load_shapes(),
            classes=classes,
            no_data=_("no score"),
            not_assessed=_("not in this assessment"),
            lang=data.lang,
            chart_id="chart-map",
            label=_(
                "Map of the member countries shaded by how many of the three highest "
                "regional priorities reach them. The table beside it gives every country."
            ),
            legend_title=_("Of the top 3, how many reach it"),
        )
    if data.matrix and data.categories:
        names = dict(data.categories)
        out["matrix"] = charts.heatmap(
            [
                charts.Cell(row.name, names[code], score, fmt.number(score))
                for row in data.matrix
                for (code, _name), score in zip(data.categories, row.scores, strict=True)
            ],
            rows=[r.name for r in data.matrix],
            columns=[n for _c, n in data.categories],
            lang=data.lang,
            chart_id="chart-matrix",
            label=_(
                "Heat map of the threat scores by country and category. "
                "The table below gives every value."
            ),
            legend_title=_("Score (0–100)"),
        )
    series = (_("Regional priority score"), _("Median score of the countries"))
    for detail in data.details:
        points = [
            charts.SeriesPoint(name, tp.cycle_id, value, fmt.number(value))
            for tp in detail.trend
            for name, value in zip(series, (tp.priority, tp.median_score), strict=True)
            if value is not None
        ]
        # One cycle is a point, not a trend: the section says so in words instead.
        if len({p.cycle for p in points}) < 2:
            continue
        out[f"trend-{detail.code}"] = charts.trend_lines(
            points,
            series=series,
            cycles=[tp.cycle_id for tp in detail.trend],
            lang=data.lang,
            chart_id=f"chart-trend-{detail.code}",
            label=_(
                "Line chart of %(category)s across the assessment cycles. "
                "The table beside it gives the same figures."
            )
            % {"category": detail.name},
        )
    logger.debug("%d charts in %.2f s", len(out), time.perf_counter() - started)
    return out


# --------------------------------------------------------------------------------------
# Methodology file → rows of the annex (every key, every value, as in the file)
# --------------------------------------------------------------------------------------
def _flatten(value: Any, path: str, fmt: Formatter, t: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if not value and path:
            yield path, "–"
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key), fmt, t)
    elif isinstance(value, bool):
        yield path, t.gettext("yes") if value else t.gettext("no")
    elif isinstance(value, int | float):
        # All significant digits: the annex must show the file's number, not a rounding.
        yield path, fmt.decimal(value)
    elif isinstance(value, list | tuple):
        if not value:
            yield path, "–"
        elif all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            yield path, ", ".join(v if isinstance(v, str) else fmt.decimal(v) for v in value)
        else:
            for i, item in enumerate(value):
                yield from _flatten(item, f"{path}[{i}]", fmt, t)
    elif value is None:
        yield path, "–"
    elif path != "description":
        yield path, str(value)


# --------------------------------------------------------------------------------------
# Template environment
# --------------------------------------------------------------------------------------
@cache
def _environment(lang: Lang) -> Environment:
    """The template environment of ``lang``, built (and the template compiled) once."""
    return _new_environment(lang)


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept in memory and shared by the three languages' environments.

    The compiled code does not depend on the language (gettext is looked up when the
    template runs), so the template is compiled once per process, not once per language.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._store:
            bucket.bytecode_from_string(self._store[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def _new_environment(lang: Lang) -> Environment:
    env = Environment(
        bytecode_cache=_BYTECODE,
        loader=PackageLoader("ideal", "templates"),
        # html.j2 is listed explicitly: select_autoescape matches the name's ending.
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2", "xml"), default_for_string=True
        ),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # newstyle: placeholders are filled (and escaped) by Jinja, not by "%" on raw strings.
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that is safe inside <style> (for @page content)."""
    out = []
    for ch in text:
        if (ch.isascii() and ch.isalnum()) or ch == " ":
            out.append(ch)
        else:
            # CSS swallows one whitespace after any hex escape, so always write one: the
            # character after it (a real space, say) is then kept.
            out.append(f"\\{ord(ch):06x} ")
    return '"' + "".join(out) + '"'
