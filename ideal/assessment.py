"""The steps of an assessment cycle as plain functions over the workspace.

Each step opens the warehouse, does one thing and closes it, so Prefect tasks
(``pipelines/``) can wrap them one to one and pass only ids and paths between them.
``run_cycle`` chains the steps without Prefect (for the benchmarks and for anyone
scripting ideal directly).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ideal import __version__
from ideal.catalogue import LANGS, Catalogue, load_catalogue
from ideal.config import Workspace
from ideal.cycles import (
    Cycle,
    check_scorable,
    check_takes_submissions,
    get_cycle,
    open_cycle,
    previous_cycle,
    record_scoring,
)
from ideal.intake import IngestOutcome, clear_from_inbox, ingest_file, pickup_inbox
from ideal.reference import default_resolver, load_countries, load_population
from ideal.scoring.methodology import Methodology, load_methodology
from ideal.scoring.threat import PreviousCycle, score_cycle
from ideal.warehouse import connect, replace_where, transaction

logger = logging.getLogger(__name__)


def sync_reference(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Refresh the core_ref tables from data/reference and the catalogue."""
    countries = load_countries()
    replace_where(con, "core_ref__countries", countries, "true", [])
    population = load_population()
    replace_where(con, "core_ref__population", population, "true", [])
    cats = pd.DataFrame(
        [
            {
                "category_code": c.code,
                "category_group": c.group,
                "name_en": c.name.en,
                "name_es": c.name.es,
                "name_pt": c.name.pt,
            }
            for c in catalogue.categories
        ]
    )
    replace_where(con, "core_ref__categories", cats, "true", [])
    inds = pd.DataFrame(
        [
            {
                "indicator_code": i.code,
                "category_code": i.category,
                "indicator_kind": i.kind,
                "unit": i.unit,
                "direction": i.direction,
                "denominator": i.denominator,
                "plausible_min": i.plausible[0],
                "plausible_max": i.plausible[1],
                "period_aggregation": i.period_aggregation,
                "name_en": i.name.en,
                "name_es": i.name.es,
                "name_pt": i.name.pt,
            }
            for i in catalogue.indicators
        ]
    )
    replace_where(con, "core_ref__indicators", inds, "true", [])


def ensure_cycle(ws: Workspace, cycle: Cycle) -> Cycle:
    with connect(ws.warehouse_path) as con:
        return open_cycle(con, cycle)


def load_cycle(ws: Workspace, cycle_id: str) -> Cycle:
    """The cycle's record (raises CycleError, with the known cycles, if there is none)."""
    with connect(ws.warehouse_path) as con:
        return get_cycle(con, cycle_id)


def open_cycles(ws: Workspace) -> list[Cycle]:
    """Cycles still taking submissions (status 'open'), oldest reporting year first."""
    with connect(ws.warehouse_path) as con:
        ids = con.execute(
            "SELECT cycle_id FROM core_cycle__cycles WHERE cycle_status = 'open' "
            "ORDER BY period_year, cycle_id"
        ).fetchall()
        return [get_cycle(con, r[0]) for r in ids]


def missing_countries(ws: Workspace, cycle_id: str) -> list[str]:
    """Expected countries with no accepted indicator submission in force for the cycle."""
    with connect(ws.warehouse_path) as con:
        cycle = get_cycle(con, cycle_id)
        rows = con.execute(
            "SELECT DISTINCT country_iso3 FROM raw_intake__submissions WHERE cycle_id = ? "
            "AND is_current AND coalesce(submission_kind, 'indicators') = 'indicators'",
            [cycle_id],
        ).fetchall()
    have = {r[0] for r in rows}
    return [c for c in cycle.expected_countries if c not in have]


def ingest_paths(
    ws: Workspace, cycle_id: str, paths: list[Path], *, remove_from_inbox: bool = False
) -> list[IngestOutcome]:
    """Ingest files one at a time, in the order given."""
    catalogue, resolver = load_catalogue(), default_resolver()
    outcomes = []
    with connect(ws.warehouse_path) as con:
        cycle = get_cycle(con, cycle_id)
        if paths:
            check_takes_submissions(cycle)
        for path in paths:
            outcome = ingest_file(con, ws, path, cycle, catalogue, resolver)
            if remove_from_inbox:
                clear_from_inbox(path, outcome.archive_path)
            outcomes.append(outcome)
    return outcomes


def ingest_inbox(ws: Workspace, cycle_id: str) -> list[IngestOutcome]:
    """Ingest everything waiting in the cycle's inbox, then clear it."""
    return ingest_paths(ws, cycle_id, pickup_inbox(ws, cycle_id), remove_from_inbox=True)


@dataclass(frozen=True)
class ScoreSummary:
    cycle_id: str
    methodology: str
    methodology_sha256: str
    n_countries: int
    n_categories: int
    previous_cycle_id: str | None


def score(
    ws: Workspace,
    cycle_id: str,
    methodology_path: Path | None = None,
    flow_run_id: str | None = None,
    *,
    new_revision: bool = False,
    reason: str | None = None,
) -> ScoreSummary:
    """Score a cycle from its current accepted values; replaces its out_ tables.

    A published cycle's scores are frozen: scoring it raises CycleError unless
    ``new_revision`` (the published revision stays in the ``…_published`` tables).
    """
    catalogue = load_catalogue()
    method, method_sha = load_methodology(methodology_path)
    with connect(ws.warehouse_path) as con:
        cycle = get_cycle(con, cycle_id)
        check_scorable(cycle, new_revision)  # before any work
        sync_reference(con, catalogue)
        values = _current_values(con, cycle_id)
        population = con.execute(
            "SELECT country_iso3, year, population FROM core_ref__population"
        ).df()
        prev = previous_cycle(con, cycle)
        previous = None
        if prev is not None:
            previous = PreviousCycle(
                cycle_id=prev.cycle_id,
                period_year=prev.period_year,
                values=_current_values(con, prev.cycle_id),
                category_scores=con.execute(
                    "SELECT * FROM out_threat__category_scores WHERE cycle_id = ?", [prev.cycle_id]
                ).df(),
                regional_priorities=con.execute(
                    "SELECT * FROM out_threat__regional_priorities WHERE cycle_id = ?",
                    [prev.cycle_id],
                ).df(),
            )
        scores = score_cycle(
            cycle.cycle_id,
            cycle.period_year,
            values,
            population,
            catalogue,
            method,
            method_sha,
            previous,
            groups=_country_groups(con, method.imputation.group) if _uses_groups(method) else None,
        )
        inputs = _input_sha256s(values)
        manifest = pd.DataFrame(
            [
                {
                    "cycle_id": cycle_id,
                    "run_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    "package_version": __version__,
                    "methodology_name": method.name,
                    "methodology_version": method.version,
                    "methodology_sha256": method_sha,
                    "input_sha256s": inputs,
                    "flow_run_id": flow_run_id,
                }
            ]
        )
        with transaction(con):
            record_scoring(
                con,
                cycle_id,
                new_revision=new_revision,
                reason=reason,
                methodology_sha256=method_sha,
                n_inputs=len(inputs),
                flow_run_id=flow_run_id,
            )
            where = "cycle_id = ?"
            replace_where(
                con, "out_threat__indicator_scores", scores.indicator_scores, where, [cycle_id]
            )
            replace_where(
                con, "out_threat__category_scores", scores.category_scores, where, [cycle_id]
            )
            replace_where(
                con,
                "out_threat__regional_priorities",
                scores.regional_priorities,
                where,
                [cycle_id],
            )
            for table, frame in (
                ("out_threat__priority_drivers", scores.drivers),
                ("out_threat__priority_uncertainty", scores.uncertainty),
                ("out_threat__priority_sensitivity", scores.sensitivity),
            ):
                replace_where(con, table, frame, where, [cycle_id])
            replace_where(con, "out_run__manifests", manifest, where, [cycle_id])
    n_countries = scores.category_scores["country_iso3"].nunique()
    logger.info(
        "scored cycle %s: %d countries, %d categories",
        cycle_id,
        n_countries,
        len(scores.regional_priorities),
    )
    return ScoreSummary(
        cycle_id,
        f"{method.name}-{method.version}",
        method_sha,
        n_countries,
        len(scores.regional_priorities),
        prev.cycle_id if prev else None,
    )


def _uses_groups(method: Methodology) -> bool:
    """Whether the nominal imputation or one of its Monte Carlo alternatives is by group."""
    methods = [method.imputation.method]
    if method.uncertainty is not None and method.uncertainty.enabled:
        methods += list(method.uncertainty.imputation)
    return any(m.startswith("group_") for m in methods)


def _country_groups(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, str]:
    """Each country's group for group imputation (a column of core_ref__countries)."""
    columns = {r[0] for r in con.execute("DESCRIBE core_ref__countries").fetchall()}
    if column not in columns:
        raise ValueError(
            f"imputation.group {column!r} is not a column of core_ref__countries "
            f"({sorted(columns)})."
        )
    rows = con.execute(
        f'SELECT country_iso3, "{column}" FROM core_ref__countries WHERE "{column}" IS NOT NULL'
    ).fetchall()
    return {str(c): str(g) for c, g in rows}


def _current_values(con: duckdb.DuckDBPyConnection, cycle_id: str) -> pd.DataFrame:
    # Reported values, else values aggregated from events (ideal.aggregation).
    return con.execute(
        "SELECT * EXCLUDE (value_origin, n_events) FROM core_threat__scoring_values "
        "WHERE cycle_id = ? ORDER BY country_iso3, indicator_code",
        [cycle_id],
    ).df()


def _input_sha256s(values: pd.DataFrame) -> list[str]:
    """The submissions a scoring run over ``values`` used, as its manifest lists them."""
    return sorted(set(values["submission_sha256"].dropna()))


def scoring_inputs(con: duckdb.DuckDBPyConnection, cycle_id: str) -> tuple[str, ...]:
    """sha256 of the submissions scoring would use now, as its manifest lists them."""
    return tuple(_input_sha256s(_current_values(con, cycle_id)))


def render_reports(ws: Workspace, cycle_id: str, langs: tuple[str, ...] = LANGS) -> list[Path]:
    """Write the committee's report for each language; returns the paths."""
    from ideal.report.render import render_report  # late: charts are heavy to import

    out_dir = ws.reports_for(cycle_id)
    return [render_report(ws.warehouse_path, cycle_id, lang, out_dir) for lang in langs]


def priorities_table(ws: Workspace, cycle_id: str, lang: str = "en") -> pd.DataFrame:
    """The ranked regional priorities with localised category names (for summaries)."""
    name = {"es": "name_es", "pt": "name_pt"}.get(lang, "name_en")
    with connect(ws.warehouse_path, read_only=True) as con:
        return con.execute(
            f"SELECT p.priority_rank AS rank, c.{name} AS category, p.priority_0_100, "
            "p.severity_0_100, p.spread_ratio, p.trend_0_100, p.confidence_0_1, "
            "p.change_0_100 FROM out_threat__regional_priorities p "
            "JOIN core_ref__categories c USING (category_code) WHERE p.cycle_id = ? "
            "ORDER BY p.priority_rank, c.category_code",
            [cycle_id],
        ).df()


@dataclass
class CycleRun:
    cycle_id: str
    outcomes: list[IngestOutcome]
    score: ScoreSummary
    reports: list[Path] = field(default_factory=list)


def run_cycle(ws: Workspace, cycle_id: str, langs: tuple[str, ...] = LANGS) -> CycleRun:
    """Every step of a cycle, without Prefect: inbox → validate/load → score → report."""
    outcomes = ingest_inbox(ws, cycle_id)
    summary = score(ws, cycle_id)
    return CycleRun(cycle_id, outcomes, summary, render_reports(ws, cycle_id, langs))
