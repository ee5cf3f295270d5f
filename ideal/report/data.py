"""What the committee's report shows, read from the warehouse into plain typed rows.

What belongs here: the read-only queries behind every section of the report and the
shaping of their results into frozen dataclasses (``ReportData`` and its parts). Nothing
here formats, translates or draws; nothing computes a score: every number is read from an
``out_`` table or counted from the intake ledger. The only derived figures are
descriptive (a regional median, a count, a rank when the scoring left it empty), and each
is named for what it is.

Untrusted text (file names, cell values, notes, sources) is carried as plain ``str``: the
template's autoescaping is what makes it safe, so nothing here may wrap it in Markup.
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import duckdb
import yaml
from pydantic import ValidationError

from ideal.catalogue import Lang
from ideal.scoring.methodology import Methodology

logger = logging.getLogger(__name__)

DEFAULT_CLASSIFICATION = "RESERVADO / RESTRICTED"
# How the report turns the 0-100 trend component into words (50 = stable). A band rather
# than exactly 50 so that one country's "up" among many "stable" does not read as a rise.
TREND_RISING_ABOVE = 55.0
TREND_FALLING_BELOW = 45.0
# Confidence 0-1 in words; the annex states these bands.
CONFIDENCE_HIGH_FROM = 0.7
CONFIDENCE_MEDIUM_FROM = 0.4
# Severity 0-100 in words (the rationale line of the summary); the annex states them.
SEVERITY_HIGH_FROM = 70.0
SEVERITY_MODERATE_FROM = 40.0
# How many priorities the executive summary and the map treat as "the top".
TOP_N = 3
# Long untrusted values are cut so one odd cell cannot swell the printed report.
MAX_TEXT = 80
MAX_NOTE = 220
MAX_ISSUES_SHOWN = 25
MAX_SOURCES = 6

Trend = Literal["up", "stable", "down"]
Confidence = Literal["high", "medium", "low"]
Severity = Literal["high", "moderate", "low"]
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
    input_sha256s: tuple[str, ...] = ()
    flow_run_id: str | None = None

    @property
    def short_sha(self) -> str:
        return self.methodology_sha256[:12]

    @property
    def n_inputs(self) -> int:
        return len(self.input_sha256s)


@dataclass(frozen=True)
class Uncertainty:
    """The Monte Carlo run behind the rank intervals, if it was computed for the cycle."""

    n_replicates: int | None
    seeds: tuple[int, ...]


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
    previous_rank: int | None = None
    # From out_threat__priority_uncertainty; None when not computed.
    median_rank: float | None = None
    q05_rank: float | None = None
    q95_rank: float | None = None
    p_top3: float | None = None

    @property
    def severity_word(self) -> Severity | None:
        return severity_word(self.severity)


@dataclass(frozen=True)
class Sensitivity:
    """One uncertain choice of the method: how far it moves the ranks when removed."""

    element: str
    mean_shift: float
    max_shift: float
    max_category: str


@dataclass(frozen=True)
class Driver:
    rank: int
    indicator_code: str
    indicator_name: str
    contribution: float | None
    relative_change: float | None


@dataclass(frozen=True)
class MatrixRow:
    iso3: str
    name: str
    scores: tuple[float | None, ...]  # in the order of the matrix's categories


@dataclass(frozen=True)
class CountryScore:
    """One country's score in one category (a row of the category section)."""

    rank: int | None
    iso3: str
    name: str
    score: float | None
    quantitative: float | None
    expert: float | None  # rescaled 0-100
    expert_rating: float | None  # as the national experts gave it (1-10)
    expert_trend: str | None  # up | stable | down, as reported
    change: float | None
    confidence: float | None
    coverage: float | None
    is_affected: bool


@dataclass(frozen=True)
class IndicatorSummary:
    code: str
    name: str
    kind: str
    unit: str  # localised unit, with "per 100,000 inhabitants" where a rate
    weight: float | None
    n_reported: int
    median_rate: float | None
    mean_normalised: float | None


@dataclass(frozen=True)
class TrendPoint:
    cycle_id: str
    priority: float | None
    median_score: float | None


@dataclass(frozen=True)
class ExpertNote:
    country: str
    rating: float | None
    trend: str | None
    note: str


@dataclass(frozen=True)
class CategoryDetail:
    code: str
    name: str
    priority: Priority
    countries: tuple[CountryScore, ...]
    indicators: tuple[IndicatorSummary, ...]
    drivers: tuple[Driver, ...]
    trend: tuple[TrendPoint, ...]
    notes: tuple[ExpertNote, ...]
    median: float | None


@dataclass(frozen=True)
class ProfileRow:
    code: str
    name: str
    score: float | None
    median: float | None
    rank: int | None
    n_ranked: int
    change: float | None
    is_affected: bool
    is_top: bool  # one of the TOP_N regional priorities

    @property
    def difference(self) -> float | None:
        if self.score is None or self.median is None:
            return None
        return self.score - self.median


@dataclass(frozen=True)
class CountryProfile:
    iso3: str
    name: str
    status: CountryStatus
    is_expected: bool
    n_files: int
    is_late: bool
    n_errors: int
    n_warnings: int
    coverage: float | None  # share of the catalogue's indicators with a value
    confidence: float | None  # mean over the country's category scores
    rows: tuple[ProfileRow, ...]
    sources: tuple[str, ...]
    n_top_affected: int | None  # None: no score at all


@dataclass(frozen=True)
class MapRow:
    iso3: str
    name: str
    iso_numeric: str | None
    n_top_affected: int | None  # None: no score (did not submit usable data)
    top_affected: tuple[str, ...]  # names of the top priorities that reach the country
    highest_name: str | None
    highest_score: float | None


@dataclass(frozen=True)
class QualityRow:
    """Data quality of one country in one cycle (annex)."""

    cycle_id: str
    iso3: str
    name: str
    is_expected: bool
    status: CountryStatus
    n_files: int
    n_accepted: int
    n_rejected: int
    coverage: float | None
    n_warnings: int
    n_errors: int
    is_late: bool


@dataclass(frozen=True)
class ReconciliationRow:
    """One indicator a country both reported and sent events for (annex B)."""

    iso3: str
    name: str  # the country's, localised
    indicator: str  # the indicator's name, localised
    unit: str  # localised unit label
    reported: float
    aggregated: float
    n_events: int
    difference: float  # aggregated - reported
    allowed: float  # largest |difference| the aggregation rules accept
    is_mismatch: bool


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
class ManifestInput:
    sha256: str
    file_name: str | None
    country: str | None
    status: str | None
    received_at: datetime | None


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
    uncertainty: Uncertainty | None = None
    sensitivity: tuple[Sensitivity, ...] = ()
    details: tuple[CategoryDetail, ...] = ()
    profiles: tuple[CountryProfile, ...] = ()
    map_rows: tuple[MapRow, ...] = ()
    quality: tuple[QualityRow, ...] = ()
    inputs: tuple[ManifestInput, ...] = ()
    cycles_to_date: tuple[str, ...] = ()
    n_indicators: int = 0
    has_drivers: bool = False
    denominators: tuple[tuple[str, float], ...] = ()  # (localised name, per) for the annex
    reconciliation: tuple[ReconciliationRow, ...] = ()

    @property
    def top(self) -> tuple[Priority, ...]:
        return self.priorities[:TOP_N]

    @property
    def n_scored_countries(self) -> int:
        return sum(1 for r in self.matrix if any(s is not None for s in r.scores))


# --------------------------------------------------------------------------------------
# Words for numbers (bands stated in the annex)
# --------------------------------------------------------------------------------------
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


def severity_word(severity_0_100: float | None) -> Severity | None:
    if severity_0_100 is None:
        return None
    if severity_0_100 >= SEVERITY_HIGH_FROM:
        return "high"
    if severity_0_100 >= SEVERITY_MODERATE_FROM:
        return "moderate"
    return "low"


def sort_key(name: str) -> str:
    """Alphabetical order as a reader expects it: accents and case do not move a name."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def clip(text: object, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _num(value: Any) -> float | None:
    """A float, or None for SQL NULL / NaN (DuckDB returns NaN for some empty aggregates)."""
    if value is None:
        return None
    f = float(value)
    return None if f != f else f


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


# --------------------------------------------------------------------------------------
# Loading
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
    category_names = _names(con, "core_ref__categories", "category_code", name_col)
    country_names = _names(con, "core_ref__countries", "country_iso3", name_col)
    indicator_names = _names(con, "core_ref__indicators", "indicator_code", name_col)
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
    uncertainty = _uncertainty(con, cycle_id)
    cycles_to_date = _cycles_to_date(con, cycle)
    scores = _category_scores(con, cycle_id)
    method = _methodology(run)
    threshold = _spread_threshold(method)
    details, n_drivers = _details(
        con,
        cycle,
        lang,
        priorities,
        scores,
        country_names,
        indicator_names,
        cycles_to_date,
        threshold,
    )
    n_indicators = _scalar_int(con, "SELECT count(*) FROM core_ref__indicators")
    coverage = _coverage(con, [cycle_id], n_indicators)
    profiles = _profiles(
        cycle, priorities, scores, submissions, coverage, country_names, con, threshold
    )
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
        method=method,
        uncertainty=uncertainty,
        sensitivity=tuple(_sensitivity(con, cycle_id, category_names)),
        details=tuple(details),
        profiles=tuple(profiles),
        map_rows=tuple(_map_rows(con, profiles)),
        quality=tuple(
            _quality(con, cycle, cycles_to_date, country_names, n_indicators, submissions)
        ),
        inputs=tuple(_inputs(con, run, country_names)),
        cycles_to_date=tuple(cycles_to_date),
        n_indicators=n_indicators,
        has_drivers=n_drivers > 0,
        denominators=tuple(_denominators(lang)),
        reconciliation=tuple(_reconciliation(con, cycle_id, lang, country_names, indicator_names)),
    )


def _reconciliation(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    lang: Lang,
    country_names: dict[str, str],
    indicator_names: dict[str, str],
) -> list[ReconciliationRow]:
    """Reported values against the same indicators aggregated from the events sent."""
    unit = _unit_labels(lang)
    rows = _rows(
        con,
        "SELECT r.*, i.unit FROM core_threat__reconciliation r "
        "JOIN core_ref__indicators i USING (indicator_code) WHERE r.cycle_id = ?",
        [cycle_id],
    )
    out = [
        ReconciliationRow(
            iso3=str(r["country_iso3"]),
            name=country_names.get(str(r["country_iso3"]), str(r["country_iso3"])),
            indicator=indicator_names.get(str(r["indicator_code"]), str(r["indicator_code"])),
            unit=unit(r["unit"], None),
            reported=float(r["reported_value"]),
            aggregated=float(r["aggregated_value"]),
            n_events=int(r["n_events"]),
            difference=float(r["difference"]),
            allowed=float(r["allowed_difference"]),
            is_mismatch=bool(r["is_mismatch"]),
        )
        for r in rows
    ]
    # disagreements first, then by country and indicator as the reader looks them up
    return sorted(out, key=lambda r: (not r.is_mismatch, sort_key(r.name), sort_key(r.indicator)))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _scalar_int(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _names(con: duckdb.DuckDBPyConnection, table: str, key: str, name_col: str) -> dict[str, str]:
    return {
        str(r["k"]): str(r["name"] or r["k"])
        for r in _rows(con, f"SELECT {key} AS k, {name_col} AS name FROM {table}", [])
    }


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


def _cycles_to_date(con: duckdb.DuckDBPyConnection, cycle: CycleInfo) -> list[str]:
    """Scored cycles up to and including this one, oldest first (the trend charts' axis).

    "Scored" as ``ideal.cycles.previous_cycle`` defines it: the cycle has category scores.
    """
    rows = _rows(
        con,
        "SELECT c.cycle_id FROM core_cycle__cycles c WHERE c.period_year <= ? AND "
        "(c.cycle_id = ? OR EXISTS (SELECT 1 FROM out_threat__category_scores s "
        "WHERE s.cycle_id = c.cycle_id)) ORDER BY c.period_year, c.cycle_id",
        [cycle.period_year, cycle.cycle_id],
    )
    return [str(r["cycle_id"]) for r in rows]


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
        input_sha256s=tuple(str(s) for s in r["input_sha256s"] or ()),
        flow_run_id=r["flow_run_id"],
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


def _uncertainty_rows(
    con: duckdb.DuckDBPyConnection, cycle_id: str, table: str
) -> list[dict[str, Any]]:
    # Only rows of the run the report shows: an older analysis (another methodology)
    # would give intervals for a ranking that no longer exists.
    return _rows(
        con,
        f"SELECT u.* FROM {table} u JOIN out_run__manifests m USING (cycle_id) "
        "WHERE u.cycle_id = ? AND u.methodology_sha256 = m.methodology_sha256",
        [cycle_id],
    )


def _uncertainty(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Uncertainty | None:
    rows = _uncertainty_rows(con, cycle_id, "out_threat__priority_uncertainty")
    if not rows:
        return None
    replicates = {int(r["n_replicates"]) for r in rows if r["n_replicates"] is not None}
    seeds = sorted({int(r["seed"]) for r in rows if r["seed"] is not None})
    return Uncertainty(n_replicates=max(replicates) if replicates else None, seeds=tuple(seeds))


def _priorities(
    con: duckdb.DuckDBPyConnection, cycle: CycleInfo, names: dict[str, str]
) -> list[Priority]:
    rows = _rows(
        con,
        "SELECT * FROM out_threat__regional_priorities WHERE cycle_id = ? "
        "ORDER BY priority_rank, category_code",
        [cycle.cycle_id],
    )
    unc = {
        str(r["category_code"]): r
        for r in _uncertainty_rows(con, cycle.cycle_id, "out_threat__priority_uncertainty")
    }
    previous_rank: dict[str, int] = {}
    if cycle.previous_cycle_id is not None:
        previous_rank = {
            str(r["category_code"]): int(r["priority_rank"])
            for r in _rows(
                con,
                "SELECT category_code, priority_rank FROM out_threat__regional_priorities "
                "WHERE cycle_id = ?",
                [cycle.previous_cycle_id],
            )
        }
    # Without an earlier scored cycle the scoring sets every trend to 50 ("no change"):
    # that is an absence of data, not evidence of stability, and is shown as such.
    has_baseline = cycle.previous_cycle_id is not None
    out = []
    for r in rows:
        code = str(r["category_code"])
        u = unc.get(code, {})
        out.append(
            Priority(
                rank=int(r["priority_rank"]),
                code=code,
                name=names.get(code, code),
                priority=float(r["priority_0_100"]),
                severity=_num(r["severity_0_100"]),
                n_affected=_int(r["n_countries_affected"]),
                n_assessed=_int(r["n_countries_assessed"]),
                spread_ratio=_num(r["spread_ratio"]),
                trend_0_100=_num(r["trend_0_100"]),
                trend=trend_word(_num(r["trend_0_100"])) if has_baseline else None,
                confidence_0_1=_num(r["confidence_0_1"]),
                confidence=confidence_word(_num(r["confidence_0_1"])),
                coverage_ratio=_num(r["coverage_ratio"]),
                previous=_num(r["previous_score_0_100"]),
                change=_num(r["change_0_100"]),
                previous_rank=previous_rank.get(code),
                median_rank=_num(u.get("median_rank")),
                q05_rank=_num(u.get("q05_rank")),
                q95_rank=_num(u.get("q95_rank")),
                p_top3=_num(u.get("p_top3")),
            )
        )
    return out


def _sensitivity(
    con: duckdb.DuckDBPyConnection, cycle_id: str, names: dict[str, str]
) -> list[Sensitivity]:
    rows = _uncertainty_rows(con, cycle_id, "out_threat__priority_sensitivity")
    by_element: dict[str, list[tuple[float, str]]] = {}
    for r in rows:
        shift = _num(r["mean_abs_rank_shift"])
        if shift is not None:
            code = str(r["category_code"])
            by_element.setdefault(str(r["uncertain_element"]), []).append(
                (shift, names.get(code, code))
            )
    out = []
    for element, shifts in by_element.items():
        worst = max(shifts, key=lambda s: (s[0], sort_key(s[1])))
        out.append(
            Sensitivity(
                element=element,
                mean_shift=statistics.fmean(s for s, _ in shifts),
                max_shift=worst[0],
                max_category=worst[1],
            )
        )
    return sorted(out, key=lambda s: (-s.mean_shift, s.element))


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
    scores = {
        (str(r["country_iso3"]), str(r["category_code"])): _num(r["score_0_100"]) for r in rows
    }
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


def _category_scores(
    con: duckdb.DuckDBPyConnection, cycle_id: str
) -> dict[str, list[dict[str, Any]]]:
    """The cycle's category scores, grouped by category."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in _rows(
        con,
        "SELECT * FROM out_threat__category_scores WHERE cycle_id = ? ORDER BY country_iso3",
        [cycle_id],
    ):
        out.setdefault(str(r["category_code"]), []).append(r)
    return out


def _ranks(scores: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Descending ranks, ties sharing the lowest ("min"), as the scoring ranks."""
    ordered = sorted(scores, key=lambda s: -s[1])
    ranks: dict[str, int] = {}
    for i, (iso, value) in enumerate(ordered):
        ranks[iso] = ranks[ordered[i - 1][0]] if i and value == ordered[i - 1][1] else i + 1
    return ranks


def _spread_threshold(method: Methodology | None) -> float | None:
    return method.priority.spread_threshold if method is not None else None


def _details(
    con: duckdb.DuckDBPyConnection,
    cycle: CycleInfo,
    lang: Lang,
    priorities: Sequence[Priority],
    scores: dict[str, list[dict[str, Any]]],
    country_names: dict[str, str],
    indicator_names: dict[str, str],
    cycles_to_date: Sequence[str],
    spread_threshold: float | None,
) -> tuple[list[CategoryDetail], int]:
    cid = cycle.cycle_id
    # Expert ratings as the countries gave them, with their justification (untrusted).
    expert = _rows(
        con,
        "SELECT i.category_code, v.country_iso3, v.value, v.trend_reported, "
        "string_agg(DISTINCT r.notes_raw, ' · ') AS notes "
        "FROM core_threat__indicator_values v "
        "JOIN core_ref__indicators i USING (indicator_code) "
        "JOIN raw_intake__submissions s USING (submission_sha256) "
        "LEFT JOIN raw_intake__indicator_rows r ON r.submission_sha256 = v.submission_sha256 "
        "AND list_contains(v.source_rows, r.source_row) "
        "WHERE v.cycle_id = ? AND s.is_current AND i.indicator_kind = 'expert' "
        "GROUP BY ALL",
        [cid],
    )
    ratings = {(str(r["category_code"]), str(r["country_iso3"])): r for r in expert}
    indicators = _rows(
        con,
        "SELECT i.indicator_code, i.category_code, i.indicator_kind, i.unit, i.denominator, "
        "count(s.value) AS n_reported, median(s.rate) AS median_rate, "
        "avg(s.normalised_0_100) AS mean_normalised, max(s.weight) AS weight "
        "FROM core_ref__indicators i LEFT JOIN out_threat__indicator_scores s "
        "ON s.indicator_code = i.indicator_code AND s.cycle_id = ? "
        "GROUP BY ALL ORDER BY i.category_code, i.indicator_kind DESC, i.indicator_code",
        [cid],
    )
    drivers = _rows(
        con,
        "SELECT d.* FROM out_threat__priority_drivers d JOIN out_run__manifests m "
        "USING (cycle_id) WHERE d.cycle_id = ? AND d.methodology_sha256 = m.methodology_sha256 "
        "ORDER BY d.category_code, d.driver_rank, d.indicator_code",
        [cid],
    )
    history = _rows(
        con,
        "SELECT p.cycle_id, p.category_code, p.priority_0_100, "
        "(SELECT median(s.score_0_100) FROM out_threat__category_scores s "
        " WHERE s.cycle_id = p.cycle_id AND s.category_code = p.category_code) AS median_score "
        "FROM out_threat__regional_priorities p WHERE list_contains(?, p.cycle_id)",
        [list(cycles_to_date)],
    )
    by_cycle = {(str(h["cycle_id"]), str(h["category_code"])): h for h in history}
    units = _unit_labels(lang)
    out: list[CategoryDetail] = []
    for p in priorities:
        rows = scores.get(p.code, [])
        valid = [
            (str(r["country_iso3"]), v) for r in rows if (v := _num(r["score_0_100"])) is not None
        ]
        computed = _ranks(valid)
        median = statistics.median(v for _, v in valid) if valid else None
        threshold = _affected_threshold(rows, p, spread_threshold)
        countries = []
        for r in rows:
            iso = str(r["country_iso3"])
            score = _num(r["score_0_100"])
            rating = ratings.get((p.code, iso), {})
            countries.append(
                CountryScore(
                    rank=_int(r["rank_in_category"]) or computed.get(iso),
                    iso3=iso,
                    name=country_names.get(iso, iso),
                    score=score,
                    quantitative=_num(r["quantitative_0_100"]),
                    expert=_num(r["expert_0_100"]),
                    expert_rating=_num(rating.get("value")),
                    expert_trend=rating.get("trend_reported"),
                    change=_num(r["change_0_100"]),
                    confidence=_num(r["confidence_0_1"]),
                    coverage=_num(r["coverage_ratio"]),
                    is_affected=score is not None and threshold is not None and score >= threshold,
                )
            )
        countries.sort(key=lambda c: (c.rank is None, c.rank or 0, sort_key(c.name)))
        notes = sorted(
            (
                ExpertNote(
                    country=country_names.get(str(r["country_iso3"]), str(r["country_iso3"])),
                    rating=_num(r["value"]),
                    trend=r["trend_reported"],
                    note=clip(r["notes"], MAX_NOTE) or "",
                )
                for (code, _iso), r in ratings.items()
                if code == p.code and r["notes"]
            ),
            key=lambda n: sort_key(n.country),
        )
        out.append(
            CategoryDetail(
                code=p.code,
                name=p.name,
                priority=p,
                countries=tuple(countries),
                indicators=tuple(
                    IndicatorSummary(
                        code=str(i["indicator_code"]),
                        name=indicator_names.get(
                            str(i["indicator_code"]), str(i["indicator_code"])
                        ),
                        kind=str(i["indicator_kind"]),
                        unit=units(i["unit"], i["denominator"]),
                        weight=_num(i["weight"]),
                        n_reported=int(i["n_reported"] or 0),
                        median_rate=_num(i["median_rate"]),
                        mean_normalised=_num(i["mean_normalised"]),
                    )
                    for i in indicators
                    if i["category_code"] == p.code
                ),
                drivers=tuple(
                    Driver(
                        rank=int(d["driver_rank"]),
                        indicator_code=str(d["indicator_code"]),
                        indicator_name=indicator_names.get(
                            str(d["indicator_code"]), str(d["indicator_code"])
                        ),
                        contribution=_num(d["contribution_points"]),
                        relative_change=_num(d["mean_relative_change"]),
                    )
                    for d in drivers
                    if d["category_code"] == p.code
                ),
                trend=tuple(
                    TrendPoint(
                        cycle_id=c,
                        priority=_num(by_cycle.get((c, p.code), {}).get("priority_0_100")),
                        median_score=_num(by_cycle.get((c, p.code), {}).get("median_score")),
                    )
                    for c in cycles_to_date
                ),
                notes=tuple(notes),
                median=median,
            )
        )
    return out, len(drivers)


def _affected_threshold(
    rows: Sequence[dict[str, Any]], p: Priority, spread_threshold: float | None
) -> float | None:
    """The score from which a country counts as affected, as the scoring applied it.

    The methodology's ``priority.spread_threshold`` when its file is here; otherwise read
    back from the priority row: the lowest score among the ``n_affected`` highest.
    """
    if spread_threshold is not None:
        return spread_threshold
    if not p.n_affected:
        return None
    values = sorted((v for r in rows if (v := _num(r["score_0_100"])) is not None), reverse=True)
    if len(values) < p.n_affected:
        return None
    return values[p.n_affected - 1]


def _yaml(raw: str | bytes) -> Any:
    # libyaml's loader when the wheel has it: six times faster than the pure-Python one,
    # which matters for a report rendered once per process.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(raw, Loader=loader)


def _catalogue_doc() -> dict[str, Any]:
    """The catalogue file as data (units and denominators only are read from it)."""
    from ideal.config import CATALOGUE_PATH

    try:
        doc = _yaml(CATALOGUE_PATH.read_bytes())
    except (OSError, yaml.YAMLError):  # a report must still render from the warehouse alone
        return {}
    return doc if isinstance(doc, dict) else {}


def _unit_labels(lang: Lang) -> Callable[[str | None, str | None], str]:
    """A function (unit code, denominator code) -> localised unit label."""
    doc = _catalogue_doc()
    units = doc.get("units") or {}
    denominators = doc.get("denominators") or {}

    def name(entry: Any, fallback: str) -> str:
        names = entry.get("name") if isinstance(entry, dict) else None
        return str(names.get(lang) or fallback) if isinstance(names, dict) else fallback

    def label(unit: str | None, denominator: str | None) -> str:
        text = name(units.get(unit or ""), unit or "")
        if denominator and denominator in denominators:
            return f"{text} {name(denominators[denominator], denominator)}"
        return text

    return label


def _denominators(lang: Lang) -> list[tuple[str, float]]:
    out = []
    for code, entry in (_catalogue_doc().get("denominators") or {}).items():
        if isinstance(entry, dict) and entry.get("per") is not None:
            names = entry.get("name") or {}
            out.append((str(names.get(lang) or code), float(entry["per"])))
    return out


def _coverage(
    con: duckdb.DuckDBPyConnection, cycle_ids: Sequence[str], n_indicators: int
) -> dict[tuple[str, str], float]:
    """(cycle, country) -> share of the catalogue's indicators with a current value."""
    if not n_indicators:
        return {}
    rows = _rows(
        con,
        "SELECT v.cycle_id, v.country_iso3, count(DISTINCT v.indicator_code) AS n "
        "FROM core_threat__indicator_values v JOIN raw_intake__submissions s "
        "USING (submission_sha256) WHERE s.is_current AND list_contains(?, v.cycle_id) "
        "GROUP BY ALL",
        [list(cycle_ids)],
    )
    return {(str(r["cycle_id"]), str(r["country_iso3"])): r["n"] / n_indicators for r in rows}


def _profiles(
    cycle: CycleInfo,
    priorities: Sequence[Priority],
    scores: dict[str, list[dict[str, Any]]],
    submissions: Sequence[CountrySubmissions],
    coverage: dict[tuple[str, str], float],
    country_names: dict[str, str],
    con: duckdb.DuckDBPyConnection,
    spread_threshold: float | None,
) -> list[CountryProfile]:
    top = {p.code for p in priorities[:TOP_N]}
    by_country: dict[str, dict[str, dict[str, Any]]] = {}
    medians: dict[str, float | None] = {}
    ranks: dict[str, dict[str, int]] = {}
    thresholds: dict[str, float | None] = {}
    for p in priorities:
        found = scores.get(p.code, [])
        valid = [
            (str(r["country_iso3"]), v) for r in found if (v := _num(r["score_0_100"])) is not None
        ]
        medians[p.code] = statistics.median(v for _, v in valid) if valid else None
        ranks[p.code] = _ranks(valid)
        thresholds[p.code] = _affected_threshold(found, p, spread_threshold)
        for r in found:
            by_country.setdefault(str(r["country_iso3"]), {})[p.code] = r
    sources = _sources(con, cycle.cycle_id)
    subs = {s.iso3: s for s in submissions if s.iso3 is not None}
    isos = sorted(
        set(cycle.expected_countries) | set(by_country),
        key=lambda iso: _country_key(country_names, iso),
    )
    out = []
    for iso in isos:
        mine = by_country.get(iso, {})
        rows: list[ProfileRow] = []
        for p in priorities:
            mr = mine.get(p.code)
            score = _num(mr["score_0_100"]) if mr else None
            threshold = thresholds[p.code]
            rows.append(
                ProfileRow(
                    code=p.code,
                    name=p.name,
                    score=score,
                    median=medians[p.code],
                    rank=(_int(mr["rank_in_category"]) if mr else None) or ranks[p.code].get(iso),
                    n_ranked=len(ranks[p.code]),
                    change=_num(mr["change_0_100"]) if mr else None,
                    is_affected=score is not None and threshold is not None and score >= threshold,
                    is_top=p.code in top,
                )
            )
        confidences = [c for m in mine.values() if (c := _num(m["confidence_0_1"])) is not None]
        sub = subs.get(iso)
        files = sub.deciding if sub else ()
        has_score = any(r.score is not None for r in rows)
        out.append(
            CountryProfile(
                iso3=iso,
                name=country_names.get(iso, iso),
                status=sub.status if sub else "missing",
                is_expected=iso in cycle.expected_countries,
                n_files=sub.n_files if sub else 0,
                is_late=any(f.is_late for f in files),
                n_errors=sum(f.n_errors for f in files),
                n_warnings=sum(f.n_warnings for f in files),
                coverage=coverage.get((cycle.cycle_id, iso)),
                confidence=statistics.fmean(confidences) if confidences else None,
                rows=tuple(rows),
                sources=tuple(sources.get(iso, ())),
                n_top_affected=sum(1 for r in rows if r.is_top and r.is_affected)
                if has_score
                else None,
            )
        )
    return out


def _sources(con: duckdb.DuckDBPyConnection, cycle_id: str) -> dict[str, list[str]]:
    """Per country, the distinct sources its current submission cites (untrusted text)."""
    rows = _rows(
        con,
        "SELECT s.country_iso3, r.source_raw, count(*) AS n FROM raw_intake__indicator_rows r "
        "JOIN raw_intake__submissions s USING (submission_sha256) "
        "WHERE s.cycle_id = ? AND s.is_current AND r.source_raw IS NOT NULL "
        "GROUP BY ALL ORDER BY s.country_iso3, n DESC, r.source_raw",
        [cycle_id],
    )
    out: dict[str, list[str]] = {}
    for r in rows:
        found = out.setdefault(str(r["country_iso3"]), [])
        text = clip(r["source_raw"])
        if text and text not in found and len(found) < MAX_SOURCES:
            found.append(text)
    return out


def _map_rows(con: duckdb.DuckDBPyConnection, profiles: Sequence[CountryProfile]) -> list[MapRow]:
    numeric = {
        str(r["country_iso3"]): str(r["iso_numeric"]) if r["iso_numeric"] is not None else None
        for r in _rows(con, "SELECT country_iso3, iso_numeric FROM core_ref__countries", [])
    }
    out = []
    for prof in profiles:
        scored = [r for r in prof.rows if r.score is not None]
        highest = max(scored, key=lambda r: (r.score or 0.0, -len(r.name))) if scored else None
        out.append(
            MapRow(
                iso3=prof.iso3,
                name=prof.name,
                iso_numeric=numeric.get(prof.iso3),
                n_top_affected=prof.n_top_affected,
                top_affected=tuple(r.name for r in prof.rows if r.is_top and r.is_affected),
                highest_name=highest.name if highest else None,
                highest_score=highest.score if highest else None,
            )
        )
    # Most affected first; within a count, by name.
    return sorted(
        out,
        key=lambda m: (m.n_top_affected is None, -(m.n_top_affected or 0), sort_key(m.name)),
    )


def _quality(
    con: duckdb.DuckDBPyConnection,
    cycle: CycleInfo,
    cycles_to_date: Sequence[str],
    country_names: dict[str, str],
    n_indicators: int,
    current: Sequence[CountrySubmissions],
) -> list[QualityRow]:
    """Per country and cycle (oldest first): what was sent, what was kept, how complete."""
    cycle_ids = list(dict.fromkeys([*cycles_to_date, cycle.cycle_id]))
    defs = {
        str(r["cycle_id"]): r
        for r in _rows(
            con,
            "SELECT cycle_id, deadline, expected_countries FROM core_cycle__cycles "
            "WHERE list_contains(?, cycle_id)",
            [cycle_ids],
        )
    }
    files = _rows(
        con,
        "SELECT cycle_id, country_iso3, submission_status, is_current, received_at, "
        "n_errors, n_warnings FROM raw_intake__submissions WHERE list_contains(?, cycle_id) "
        "ORDER BY received_at",
        [cycle_ids],
    )
    coverage = _coverage(con, cycle_ids, n_indicators)
    current_status = {c.iso3: c.status for c in current if c.iso3 is not None}
    out = []
    for cid in cycle_ids:
        d = defs.get(cid, {})
        expected = set(d.get("expected_countries") or ())
        deadline = d.get("deadline")
        mine = [f for f in files if f["cycle_id"] == cid and f["country_iso3"] is not None]
        isos = sorted(
            expected | {str(f["country_iso3"]) for f in mine},
            key=lambda iso: _country_key(country_names, iso),
        )
        for iso in isos:
            fs = [f for f in mine if f["country_iso3"] == iso]
            deciding = [f for f in fs if f["is_current"]] or fs[-1:]
            statuses = {str(f["submission_status"]) for f in deciding}
            status: CountryStatus = "missing"
            for s in ("accepted_with_warnings", "accepted", "rejected", "unreadable"):
                if s in statuses:
                    status = s
                    break
            if cid == cycle.cycle_id and iso in current_status:
                status = current_status[iso]
            out.append(
                QualityRow(
                    cycle_id=cid,
                    iso3=iso,
                    name=country_names.get(iso, iso),
                    is_expected=iso in expected,
                    status=status,
                    n_files=len(fs),
                    n_accepted=sum(
                        1 for f in fs if str(f["submission_status"]).startswith("accepted")
                    ),
                    n_rejected=sum(
                        1 for f in fs if f["submission_status"] in ("rejected", "unreadable")
                    ),
                    coverage=coverage.get((cid, iso)),
                    n_warnings=sum(int(f["n_warnings"] or 0) for f in deciding),
                    n_errors=sum(int(f["n_errors"] or 0) for f in fs),
                    is_late=bool(
                        deadline is not None
                        and any(
                            f["received_at"] is not None and f["received_at"].date() > deadline
                            for f in deciding
                        )
                    ),
                )
            )
    return out


def _inputs(
    con: duckdb.DuckDBPyConnection, run: RunInfo, country_names: dict[str, str]
) -> list[ManifestInput]:
    if not run.input_sha256s:
        return []
    found = {
        str(r["submission_sha256"]): r
        for r in _rows(
            con,
            "SELECT submission_sha256, file_name, country_iso3, submission_status, received_at "
            "FROM raw_intake__submissions WHERE list_contains(?, submission_sha256)",
            [list(run.input_sha256s)],
        )
    }
    out = []
    for sha in run.input_sha256s:
        r = found.get(sha, {})
        iso = r.get("country_iso3")
        out.append(
            ManifestInput(
                sha256=sha,
                file_name=clip(r.get("file_name")),
                country=country_names.get(iso, iso) if iso else None,
                status=r.get("submission_status"),
                received_at=r.get("received_at"),
            )
        )
    return sorted(out, key=lambda i: (sort_key(i.country or "~"), i.sha256))


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
            file_name=clip(r["file_name"]) or "?",
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
                value=clip(r["cell_value"]),
                message=_issue_message(r, lang),
            )
        )
    return out


def _methodology(run: RunInfo) -> Methodology | None:
    """The methodology file the run used, found by its sha256; None if it is not here.

    Matching on the hash (not the name) guarantees the annex never shows parameters that
    did not produce these scores, even if a file was edited in place.
    """
    # Looked up at call time so tests (and installations) can point it elsewhere.
    from ideal.report import render

    for path in sorted(render.METHODOLOGY_DIR.glob("*.y*ml")):
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != run.methodology_sha256:
            continue
        # No catalogue cross-check here: an old file stays readable after the catalogue moves.
        try:
            return Methodology.model_validate(_yaml(raw))
        except (ValidationError, yaml.YAMLError) as exc:
            logger.warning("methodology file %s does not load (%s); annex omits it", path, exc)
            return None
    logger.warning(
        "methodology %s %s (sha256 %s) not found in %s; the annex omits its parameters",
        run.methodology_name,
        run.methodology_version,
        run.short_sha,
        render.METHODOLOGY_DIR,
    )
    return None
