"""Lineage: from a country's category score back to the files and rows it came from.

``out_threat__lineage`` (a view, installed by ``ideal.migrations``) has one row per
cycle, country and indicator scored: the category score and rank it feeds, the value,
denominator, rate, normalised value and weight, and where the value came from, i.e.
the submission (file name, sha256, received) and its source rows for a reported value,
or the event file and number of events for a value aggregated from events.
``is_value_unchanged`` is false when the warehouse's current value differs from the
one scored (a resubmission after scoring, or an imputed value with no source).

``explain`` reads it for ``ideal explain --cycle ID COUNTRY CATEGORY``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from ideal.cycles import Cycle, CycleError, get_cycle
from ideal.reference import default_resolver

LINEAGE_SQL = (
    "SELECT i.cycle_id, i.country_iso3, i.category_code, c.score_0_100, c.rank_in_category, "
    "i.indicator_code, i.value, coalesce(v.unit, d.unit) AS unit, i.denominator_value, i.rate, "
    "i.normalised_0_100, i.weight, v.value_origin, v.submission_sha256, s.file_name, "
    "s.received_at, v.source_rows, v.n_events, "
    "coalesce(v.value IS NOT DISTINCT FROM i.value, false) AS is_value_unchanged, "
    "i.methodology_sha256 "
    "FROM out_threat__indicator_scores i "
    "LEFT JOIN out_threat__category_scores c ON c.cycle_id = i.cycle_id "
    "AND c.country_iso3 = i.country_iso3 AND c.category_code = i.category_code "
    "LEFT JOIN core_threat__scoring_values v ON v.cycle_id = i.cycle_id "
    "AND v.country_iso3 = i.country_iso3 AND v.indicator_code = i.indicator_code "
    "LEFT JOIN core_ref__indicators d ON d.indicator_code = i.indicator_code "
    "LEFT JOIN raw_intake__submissions s ON s.submission_sha256 = v.submission_sha256"
)


@dataclass(frozen=True)
class Explanation:
    """Everything behind one country's score in one category."""

    cycle: Cycle
    country_iso3: str
    category_code: str
    score: dict[str, object]  # the out_threat__category_scores row
    indicators: pd.DataFrame  # out_threat__lineage rows, by indicator
    mismatches: pd.DataFrame  # core_threat__reconciliation rows beyond tolerance


def explain(
    con: duckdb.DuckDBPyConnection, cycle_id: str, country: str, category: str
) -> Explanation:
    """The lineage of ``country``'s score in ``category`` (CycleError if there is none)."""
    cycle = get_cycle(con, cycle_id)
    iso3 = default_resolver().try_resolve(country) or country.strip().upper()
    code = category.strip().lower()
    known = [r[0] for r in con.execute("SELECT category_code FROM core_ref__categories").fetchall()]
    if known and code not in known:
        raise CycleError(f"Unknown category {category!r}. Categories: {', '.join(sorted(known))}.")
    score = con.execute(
        "SELECT * FROM out_threat__category_scores WHERE cycle_id = ? AND country_iso3 = ? "
        "AND category_code = ?",
        [cycle_id, iso3, code],
    ).df()
    if score.empty:
        scored = con.execute(
            "SELECT count(*) FROM out_threat__category_scores WHERE cycle_id = ?", [cycle_id]
        ).fetchone()
        if not scored or not scored[0]:
            raise CycleError(f"Cycle {cycle_id} has no scores yet: score it first.")
        raise CycleError(f"Cycle {cycle_id} has no {code} score for {iso3}.")
    indicators = con.execute(
        "SELECT * FROM out_threat__lineage WHERE cycle_id = ? AND country_iso3 = ? "
        "AND category_code = ? ORDER BY indicator_code",
        [cycle_id, iso3, code],
    ).df()
    mismatches = con.execute(
        "SELECT r.* FROM core_threat__reconciliation r JOIN core_ref__indicators d "
        "USING (indicator_code) WHERE r.cycle_id = ? AND r.country_iso3 = ? "
        "AND d.category_code = ? AND r.is_mismatch ORDER BY r.indicator_code",
        [cycle_id, iso3, code],
    ).df()
    first = {str(k): v for k, v in score.iloc[0].to_dict().items()}
    return Explanation(cycle, iso3, code, first, indicators, mismatches)


def source_label(row: pd.Series) -> str:
    """Where one lineage row's value came from, in a few words."""
    origin = row.get("value_origin")
    if origin is None or (isinstance(origin, float) and pd.isna(origin)):
        return "no source in the warehouse (imputed or since removed)"
    name = row.get("file_name") or "?"
    sha = str(row.get("submission_sha256") or "")[:12]
    if origin == "events":
        return f"{name} · sha256 {sha} · {int(row['n_events']):,} events"
    rows = row.get("source_rows")
    listed = ", ".join(str(int(r)) for r in rows) if rows is not None and len(rows) else "?"
    return f"{name} · sha256 {sha} · rows {listed}"
