"""Render the committee's report for one cycle and language as one self-contained HTML file.

What belongs here: reading what the report shows from the warehouse (read-only), shaping
it into plain typed rows, drawing the charts and filling ``ideal/templates/report.html.j2``.
Presentation (layout, wording, number formats) lives in the template and in
``ideal.report.i18n``; nothing here computes a score.

The HTML has no script and no external resource: CSS is inlined, charts are inline SVG,
and all submission-derived text (file names, cell values, messages) goes through Jinja's
autoescaping, because it comes from outside the secretariat and is untrusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ideal.config import METHODOLOGY_DIR
from ideal.report import charts
from ideal.report.i18n import Formatter, Lang, check_lang, translations
from ideal.scoring.methodology import Methodology
from ideal.warehouse import connect

logger = logging.getLogger(__name__)

TEMPLATE = "report.html.j2"
DEFAULT_CLASSIFICATION = "RESERVADO / RESTRICTED"
# A cycle id becomes part of a file name: keep it to a safe, portable alphabet.
_CYCLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# How the report turns the 0-100 trend component into words (50 = stable). A band rather
# than exactly 50 so that one country's "up" among many "stable" does not read as a rise.
TREND_RISING_ABOVE = 55.0
TREND_FALLING_BELOW = 45.0
# Confidence 0-1 in words; the annex states these bands.
CONFIDENCE_HIGH_FROM = 0.7
CONFIDENCE_MEDIUM_FROM = 0.4
# Long untrusted values are cut so one odd cell cannot swell the printed report.
MAX_TEXT = 80
MAX_ISSUES_SHOWN = 25

Trend = Literal["up", "stable", "down"]
Confidence = Literal["high", "medium", "low"]
CountryStatus = Literal["accepted", "accepted_with_warnings", "rejected", "unreadable", "missing"]


# --------------------------------------------------------------------------------------
# What the template receives
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CycleInfo:
    cycle_id: str
    period_year: int
    deadline: date | None
    expected_countries: tuple[str, ...]
    status: str
    previous_cycle_id: str | None


@dataclass(frozen=True)
class RunInfo:
    run_at: datetime | None
    package_version: str
    methodology_name: str
    methodology_version: str
    methodology_sha256: str
    n_inputs: int

    @property
    def short_sha(self) -> str:
        return self.methodology_sha256[:12]


@dataclass(frozen=True)
class Priority:
    rank: int
    code: str
    name: str
    priority: float
    severity: float | None
    n_affected: int | None
    n_assessed: int | None
    spread_ratio: float | None
    trend_0_100: float | None
    trend: Trend | None
    confidence_0_1: float | None
    confidence: Confidence | None
    coverage_ratio: float | None
    previous: float | None
    change: float | None


@dataclass(frozen=True)
class MatrixRow:
    iso3: str
    name: str
    scores: tuple[float | None, ...]  # in the order of the matrix's categories


@dataclass(frozen=True)
class Issue:
    severity: str
    row: int | None
    column: str | None
    value: str | None
    message: str


@dataclass(frozen=True)
class Submission:
    sha256: str
    file_name: str
    kind: str | None
    received_at: datetime | None
    is_late: bool
    status: str
    n_rows: int | None
    n_errors: int
    n_warnings: int
    issues: tuple[Issue, ...] = ()
    n_issues: int = 0


@dataclass(frozen=True)
class CountrySubmissions:
    """One expected (or unexpectedly submitting) country and the files that decide its status."""

    iso3: str | None
    name: str
    status: CountryStatus
    is_expected: bool
    n_files: int
    deciding: tuple[Submission, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReportData:
    lang: Lang
    classification: str
    generated_on: date
    cycle: CycleInfo
    run: RunInfo
    priorities: tuple[Priority, ...]
    has_previous: bool
    categories: tuple[tuple[str, str], ...]  # (code, localised name), matrix column order
    matrix: tuple[MatrixRow, ...]
    has_missing_cells: bool
    submissions: tuple[CountrySubmissions, ...]
    status_counts: dict[str, int]
    method: Methodology | None  # None when the file with the run's sha256 is not here


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def report_filename(cycle_id: str, lang: str) -> str:
    """``ideal-{cycle_id}-{lang}.html``; rejects ids that are not safe in a file name."""
    check_lang(lang)
    if not _CYCLE_ID.match(cycle_id):
        raise ValueError(f"Cycle id {cycle_id!r} cannot be used in a file name.")
    return f"ideal-{cycle_id}-{lang}.html"


def render_report(
    warehouse_path: Path,
    cycle_id: str,
    lang: str,
    out_dir: Path,
    *,
    classification: str = DEFAULT_CLASSIFICATION,
    generated_on: date | None = None,
) -> Path:
    """Write the committee's report for ``cycle_id`` in ``lang`` and return its path.

    Opens the warehouse read-only. Raises ValueError when the language is not supported or
    the cycle is unknown or has not been scored yet.
    """
    language = check_lang(lang)
    out_path = out_dir / report_filename(cycle_id, language)
    with connect(Path(warehouse_path), read_only=True) as con:
        data = load_report_data(
            con,
            cycle_id,
            language,
            classification=classification,
            generated_on=generated_on or datetime.now(UTC).date(),
        )
    html = render_html(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    logger.info("wrote %s (%d bytes)", out_path, len(html.encode("utf-8")))
    return out_path


def render_html(data: ReportData) -> str:
    """Fill the template with ``data`` (charts are drawn here)."""
    t = translations(data.lang)
    _ = t.gettext
    fmt = Formatter(data.lang)
    names = dict(data.categories)
    priority_svg = (
        charts.priority_bars(
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
        if data.priorities
        else ""
    )
    heatmap_svg = (
        charts.heatmap(
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
        if data.matrix and data.categories
        else ""
    )
    env = _environment(data.lang)
    template = env.get_template(TEMPLATE)
    return template.render(
        d=data,
        fmt=fmt,
        priority_svg=Markup(priority_svg),  # our own SVG, checked for URLs in charts._finish
        heatmap_svg=Markup(heatmap_svg),
        css_classification=Markup(css_string(data.classification)),
        css_cycle=Markup(css_string(f"IDEAL {data.cycle.cycle_id}")),
        trend_symbol={"up": "▲", "stable": "▶", "down": "▼"},
        bands={
            "trend_up": TREND_RISING_ABOVE,
            "trend_down": TREND_FALLING_BELOW,
            "conf_high": CONFIDENCE_HIGH_FROM,
            "conf_medium": CONFIDENCE_MEDIUM_FROM,
        },
        max_issues=MAX_ISSUES_SHOWN,
    )


# --------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------
def load_report_data(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    lang: Lang,
    *,
    classification: str = DEFAULT_CLASSIFICATION,
    generated_on: date,
) -> ReportData:
    """Everything the report shows, read from an open warehouse connection."""
    cycle = _cycle(con, cycle_id)
    run = _run(con, cycle_id)
    name_col = f"name_{lang}"  # lang is one of es/pt/en: safe to splice into SQL
    category_names = {
        str(r["category_code"]): str(r["name"] or r["category_code"])
        for r in _rows(
            con, f"SELECT category_code, {name_col} AS name FROM core_ref__categories", []
        )
    }
    country_names = {
        str(r["country_iso3"]): str(r["name"] or r["country_iso3"])
        for r in _rows(con, f"SELECT country_iso3, {name_col} AS name FROM core_ref__countries", [])
    }
    priorities = _priorities(con, cycle, category_names)
    if not priorities:
        raise ValueError(
            f"Cycle {cycle_id} has no scores yet: run `ideal run --cycle {cycle_id}` first."
        )
    _check_same_run(con, cycle_id, run)
    categories, matrix = _matrix(con, cycle, priorities, category_names, country_names)
    submissions = _submissions(con, cycle, lang, country_names)
    counts: dict[str, int] = {}
    for s in submissions:
        if s.is_expected:
            counts[s.status] = counts.get(s.status, 0) + 1
    return ReportData(
        lang=lang,
        classification=classification,
        generated_on=generated_on,
        cycle=cycle,
        run=run,
        priorities=tuple(priorities),
        has_previous=any(p.previous is not None for p in priorities),
        categories=tuple(categories),
        matrix=tuple(matrix),
        has_missing_cells=any(s is None for r in matrix for s in r.scores),
        submissions=tuple(submissions),
        status_counts=counts,
        method=_methodology(run),
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _cycle(con: duckdb.DuckDBPyConnection, cycle_id: str) -> CycleInfo:
    # The scoring's own definitions: the baseline for changes and trends is the cycle
    # that ideal.cycles.previous_cycle picks, so the report names the same one.
    from ideal.cycles import get_cycle, previous_cycle

    cycle = get_cycle(con, cycle_id)  # CycleError (a ValueError) names the known cycles
    prev = previous_cycle(con, cycle)
    return CycleInfo(
        cycle_id=cycle.cycle_id,
        period_year=cycle.period_year,
        deadline=cycle.deadline,
        expected_countries=tuple(cycle.expected_countries),
        status=cycle.status,
        previous_cycle_id=prev.cycle_id if prev is not None else None,
    )


def _run(con: duckdb.DuckDBPyConnection, cycle_id: str) -> RunInfo:
    rows = _rows(con, "SELECT * FROM out_run__manifests WHERE cycle_id = ?", [cycle_id])
    if not rows:
        raise ValueError(
            f"Cycle {cycle_id} has no scoring run recorded: run `ideal run --cycle {cycle_id}` "
            "first."
        )
    r = rows[0]
    return RunInfo(
        run_at=r["run_at"],
        package_version=str(r["package_version"] or "?"),
        methodology_name=str(r["methodology_name"] or "?"),
        methodology_version=str(r["methodology_version"] or "?"),
        methodology_sha256=str(r["methodology_sha256"] or ""),
        n_inputs=len(r["input_sha256s"] or ()),
    )


def _check_same_run(con: duckdb.DuckDBPyConnection, cycle_id: str, run: RunInfo) -> None:
    # Scores from two different methodology files must never be shown as one ranking.
    rows = _rows(
        con,
        "SELECT DISTINCT methodology_sha256 AS sha FROM out_threat__regional_priorities "
        "WHERE cycle_id = ? UNION SELECT DISTINCT methodology_sha256 FROM "
        "out_threat__category_scores WHERE cycle_id = ?",
        [cycle_id, cycle_id],
    )
    shas = {r["sha"] for r in rows}
    if shas != {run.methodology_sha256}:
        raise ValueError(
            f"Cycle {cycle_id}: the scores come from methodology {sorted(map(str, shas))} but "
            f"the run manifest says {run.methodology_sha256}; run `ideal run --cycle "
            f"{cycle_id}` again."
        )


def trend_word(trend_0_100: float | None) -> Trend | None:
    if trend_0_100 is None:
        return None
    if trend_0_100 > TREND_RISING_ABOVE:
        return "up"
    if trend_0_100 < TREND_FALLING_BELOW:
        return "down"
    return "stable"


def confidence_word(confidence_0_1: float | None) -> Confidence | None:
    if confidence_0_1 is None:
        return None
    if confidence_0_1 >= CONFIDENCE_HIGH_FROM:
        return "high"
    if confidence_0_1 >= CONFIDENCE_MEDIUM_FROM:
        return "medium"
    return "low"


def _priorities(
    con: duckdb.DuckDBPyConnection, cycle: CycleInfo, names: dict[str, str]
) -> list[Priority]:
    rows = _rows(
        con,
        "SELECT * FROM out_threat__regional_priorities WHERE cycle_id = ? "
        "ORDER BY priority_rank, category_code",
        [cycle.cycle_id],
    )
    # Without an earlier scored cycle the scoring sets every trend to 50 ("no change"):
    # that is an absence of data, not evidence of stability, and is shown as such.
    has_baseline = cycle.previous_cycle_id is not None
    out = []
    for r in rows:
        code = str(r["category_code"])
        out.append(
            Priority(
                rank=int(r["priority_rank"]),
                code=code,
                name=names.get(code, code),
                priority=float(r["priority_0_100"]),
                severity=r["severity_0_100"],
                n_affected=r["n_countries_affected"],
                n_assessed=r["n_countries_assessed"],
                spread_ratio=r["spread_ratio"],
                trend_0_100=r["trend_0_100"],
                trend=trend_word(r["trend_0_100"]) if has_baseline else None,
                confidence_0_1=r["confidence_0_1"],
                confidence=confidence_word(r["confidence_0_1"]),
                coverage_ratio=r["coverage_ratio"],
                previous=r["previous_score_0_100"],
                change=r["change_0_100"],
            )
        )
    return out


def sort_key(name: str) -> str:
    """Alphabetical order as a reader expects it: accents and case do not move a name."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _country_key(names: dict[str, str], iso3: str) -> str:
    return sort_key(names.get(iso3) or iso3)


def _matrix(
    con: duckdb.DuckDBPyConnection,
    cycle: CycleInfo,
    priorities: Sequence[Priority],
    category_names: dict[str, str],
    country_names: dict[str, str],
) -> tuple[list[tuple[str, str]], list[MatrixRow]]:
    rows = _rows(
        con,
        "SELECT country_iso3, category_code, score_0_100 FROM out_threat__category_scores "
        "WHERE cycle_id = ?",
        [cycle.cycle_id],
    )
    scores = {(str(r["country_iso3"]), str(r["category_code"])): r["score_0_100"] for r in rows}
    # Columns follow the priority ranking so the two sections read in the same order.
    codes = [p.code for p in priorities]
    codes += sorted({c for _iso, c in scores} - set(codes))
    # Rows: every expected country (a gap is information) and any other scored country.
    isos = set(cycle.expected_countries) | {iso for iso, _c in scores}
    ordered = sorted(isos, key=lambda iso: _country_key(country_names, iso))
    matrix = [
        MatrixRow(
            iso3=iso,
            name=country_names.get(iso, iso),
            scores=tuple(scores.get((iso, c)) for c in codes),
        )
        for iso in ordered
    ]
    return [(c, category_names.get(c, c)) for c in codes], matrix


def _clip(text: object) -> str | None:
    if text is None:
        return None
    s = str(text)
    return s if len(s) <= MAX_TEXT else s[: MAX_TEXT - 1] + "…"


def _issue_message(row: dict[str, Any], lang: Lang) -> str:
    """The issue's message in ``lang``, phrased from its rule and parameters."""
    from ideal.messages import RULES, format_issue

    message_en = str(row["message_en"])
    rule = row["rule"]
    if lang == "en" or not rule or rule not in RULES:
        # English is stored as written; an unknown rule (from a newer version) has only that.
        return message_en
    try:
        params = json.loads(row["params_json"]) if row["params_json"] else {}
    except json.JSONDecodeError:
        logger.warning("issue with unreadable params_json %r; showing English", row["params_json"])
        return message_en
    if not isinstance(params, dict):
        return message_en
    # The offending cell and its column are stored in their own columns, not in params.
    cell = {"column": row["column_name"], "value": row["cell_value"]}
    merged = {k: v for k, v in cell.items() if v is not None} | params
    message, _hint = format_issue(str(rule), merged, lang)
    return message


def _submissions(
    con: duckdb.DuckDBPyConnection,
    cycle: CycleInfo,
    lang: Lang,
    country_names: dict[str, str],
) -> list[CountrySubmissions]:
    rows = _rows(
        con,
        "SELECT * FROM raw_intake__submissions WHERE cycle_id = ? "
        "ORDER BY received_at, submission_sha256",
        [cycle.cycle_id],
    )
    by_country: dict[str | None, list[dict[str, Any]]] = {}
    for r in rows:
        by_country.setdefault(r["country_iso3"], []).append(r)

    # A country's status is set by its current (accepted) files, else by its latest file.
    deciding_rows: dict[str | None, list[dict[str, Any]]] = {
        iso: [r for r in files if r["is_current"]] or files[-1:]
        for iso, files in by_country.items()
    }
    with_issues = [
        r["submission_sha256"]
        for files in deciding_rows.values()
        for r in files
        if r["submission_status"] != "accepted" or (r["n_warnings"] or 0) > 0
    ]
    issues = _issues(con, with_issues, lang)

    def submission(r: dict[str, Any]) -> Submission:
        found, n_issues = issues.get(r["submission_sha256"], ([], 0))
        received = r["received_at"]
        return Submission(
            sha256=str(r["submission_sha256"]),
            file_name=_clip(r["file_name"]) or "?",
            kind=r["submission_kind"],
            received_at=received,
            is_late=bool(
                cycle.deadline is not None
                and received is not None
                and received.date() > cycle.deadline
            ),
            status=str(r["submission_status"]),
            n_rows=r["n_rows"],
            n_errors=int(r["n_errors"] or 0),
            n_warnings=int(r["n_warnings"] or 0),
            issues=tuple(found),
            n_issues=n_issues,
        )

    def status_of(files: list[Submission]) -> CountryStatus:
        statuses = {f.status for f in files}
        for s in ("accepted_with_warnings", "accepted", "rejected", "unreadable"):
            if s in statuses:
                return s
        return "rejected"

    out: list[CountrySubmissions] = []
    expected = set(cycle.expected_countries)
    others = sorted(
        (iso for iso in by_country if iso is not None and iso not in expected),
        key=lambda iso: _country_key(country_names, iso),
    )
    ordered = sorted(expected, key=lambda iso: _country_key(country_names, iso)) + others
    for iso in ordered:
        decided = [submission(r) for r in deciding_rows.get(iso, [])]
        out.append(
            CountrySubmissions(
                iso3=iso,
                name=country_names.get(iso, iso),
                status=status_of(decided) if decided else "missing",
                is_expected=iso in expected,
                n_files=len(by_country.get(iso, [])),
                deciding=tuple(decided),
            )
        )
    if None in by_country:
        # Files whose country could not be read (unreadable, no country column).
        decided = [submission(r) for r in by_country[None]]
        out.append(
            CountrySubmissions(
                iso3=None,
                name="",
                status=status_of(decided),
                is_expected=False,
                n_files=len(decided),
                deciding=tuple(decided),
            )
        )
    return out


def _issues(
    con: duckdb.DuckDBPyConnection, shas: Sequence[str], lang: Lang
) -> dict[str, tuple[list[Issue], int]]:
    """Per submission: its first MAX_ISSUES_SHOWN issues (errors first) and the total."""
    if not shas:
        return {}
    # A broken million-row file can carry a million issues: only the shown ones are read.
    rows = _rows(
        con,
        "SELECT *, count(*) OVER (PARTITION BY submission_sha256) AS n_total "
        "FROM raw_intake__issues WHERE list_contains(?, submission_sha256) "
        "QUALIFY row_number() OVER (PARTITION BY submission_sha256 "
        "ORDER BY severity = 'warning', issue_no) <= ? "
        "ORDER BY submission_sha256, severity = 'warning', issue_no",
        [list(shas), MAX_ISSUES_SHOWN],
    )
    # Columns are named as the steward's template names them in the reader's language.
    from ideal.contract import column_headers

    headers = column_headers(lang)
    out: dict[str, tuple[list[Issue], int]] = {}
    for r in rows:
        found, _total = out.setdefault(str(r["submission_sha256"]), ([], int(r["n_total"])))
        found.append(
            Issue(
                severity=str(r["severity"]),
                row=r["source_row"],
                column=headers.get(r["column_name"], r["column_name"]),
                value=_clip(r["cell_value"]),
                message=_issue_message(r, lang),
            )
        )
    return out


def _methodology(run: RunInfo) -> Methodology | None:
    """The methodology file the run used, found by its sha256; None if it is not here.

    Matching on the hash (not the name) guarantees the annex never shows parameters that
    did not produce these scores, even if a file was edited in place.
    """
    for path in sorted(METHODOLOGY_DIR.glob("*.y*ml")):
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != run.methodology_sha256:
            continue
        # No catalogue cross-check here: an old file stays readable after the catalogue moves.
        return Methodology.model_validate(yaml.safe_load(raw))
    logger.warning(
        "methodology %s %s (sha256 %s) not found in %s; the annex omits its parameters",
        run.methodology_name,
        run.methodology_version,
        run.short_sha,
        METHODOLOGY_DIR,
    )
    return None


# --------------------------------------------------------------------------------------
# Template environment
# --------------------------------------------------------------------------------------
def _environment(lang: Lang) -> Environment:
    env = Environment(
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
