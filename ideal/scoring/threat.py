"""Threat scoring of one assessment cycle, on DataFrames only.

What belongs here: turning one cycle's harmonised indicator values (the rows of
``core_threat__indicator_values``) into the three ``out_threat__*`` tables, using the
catalogue for the structure and the methodology for every number. The maths is the
general engine's (``ideal.scoring.engine``): the catalogue becomes an iMeta tree

    indicator (level 1) -> block "<category>.quantitative" | "<category>.expert" (level 2)
                        -> category (level 3, a root)

so that denomination, outlier treatment, normalisation, re-weighted means, coverage and
ranks are the same code that reproduces COINr's published example. Outlier treatment
changes only what is normalised: the ``rate`` reported per value stays the untreated
rate, which a reader can check against the submission. Reading and writing the warehouse is
the caller's job. docs/methodology.md states every formula used here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ideal.catalogue import Catalogue
from ideal.scoring.engine import (
    FloatArray,
    Hierarchy,
    TreatResult,
    aggregate,
    denominate,
    normalise,
    rank_desc,
    treat,
    validate_meta,
)
from ideal.scoring.methodology import Methodology
from ideal.warehouse import TABLE_BY_NAME

logger = logging.getLogger(__name__)

INDICATOR_SCORES = "out_threat__indicator_scores"
CATEGORY_SCORES = "out_threat__category_scores"
REGIONAL_PRIORITIES = "out_threat__regional_priorities"
POPULATION_SOURCE = "core_ref__population"
_KINDS = ("quantitative", "expert")


def block_code(category: str, kind: str) -> str:
    """iCode of a category's quantitative or expert block in the scoring tree."""
    return f"{category}.{kind}"


@dataclass(frozen=True)
class PreviousCycle:
    """What a cycle needs from the previous (published) cycle for changes and trends.

    ``values``: that cycle's ``core_threat__indicator_values`` rows (at least
    country_iso3, indicator_code, value); rates are recomputed with the population of
    ``period_year`` so both cycles use the same reference data. ``category_scores`` and
    ``regional_priorities``: that cycle's ``out_threat__*`` rows (score_0_100 /
    priority_0_100 are read); either may be empty.
    """

    cycle_id: str
    period_year: int
    values: pd.DataFrame
    category_scores: pd.DataFrame
    regional_priorities: pd.DataFrame | None = None


@dataclass(frozen=True)
class CycleScores:
    indicator_scores: pd.DataFrame  # columns of out_threat__indicator_scores
    category_scores: pd.DataFrame  # columns of out_threat__category_scores
    regional_priorities: pd.DataFrame  # columns of out_threat__regional_priorities
    # engine.treat's log for the quantitative indicators (one row each); None if not scored
    treatment: pd.DataFrame | None = None


def catalogue_meta(catalogue: Catalogue, method: Methodology) -> pd.DataFrame:
    """The catalogue as a COINr iMeta table with the methodology's weights.

    Level 1: every indicator (weight from ``weights``), parent its category's block;
    level 2: the two blocks of each category (weights from ``category.blend``);
    level 3: the categories (roots). Denominators appear as ``Type = Denominator`` rows.
    """
    rows: list[dict[str, object]] = []
    blend = {
        "quantitative": method.category.blend.quantitative,
        "expert": method.category.blend.expert,
    }
    for ind in catalogue.indicators:
        rows.append(
            {
                "iCode": ind.code,
                "Level": 1,
                "Parent": block_code(ind.category, ind.kind),
                "Direction": ind.direction,
                "Weight": method.weights.weight_of(ind.code),
                "Denominator": ind.denominator,
                "Type": "Indicator",
            }
        )
    for cat in catalogue.categories:
        for kind in _KINDS:
            rows.append(
                {
                    "iCode": block_code(cat.code, kind),
                    "Level": 2,
                    "Parent": cat.code,
                    "Direction": 1,
                    "Weight": blend[kind],
                    "Denominator": None,
                    "Type": "Aggregate",
                }
            )
    for cat in catalogue.categories:
        rows.append(
            {
                "iCode": cat.code,
                "Level": 3,
                "Parent": None,
                "Direction": 1,
                "Weight": 1.0,
                "Denominator": None,
                "Type": "Aggregate",
            }
        )
    for code in catalogue.denominators:
        rows.append(
            {
                "iCode": code,
                "Level": None,
                "Parent": None,
                "Direction": None,
                "Weight": None,
                "Denominator": None,
                "Type": "Denominator",
            }
        )
    return pd.DataFrame(rows)


def _min_coverage(catalogue: Catalogue, method: Methodology) -> dict[str, float]:
    """The methodology's counts as engine coverage shares, per block and category."""
    shares: dict[str, float] = {}
    for cat in catalogue.categories:
        n_quant = sum(1 for i in catalogue.indicators_of(cat.code) if i.kind == "quantitative")
        need = min(method.category.min_quantitative_indicators, n_quant)
        shares[block_code(cat.code, "quantitative")] = need / n_quant
        shares[cat.code] = method.category.min_blocks / len(_KINDS)
    return shares


def _prepare_values(
    values: pd.DataFrame, catalogue: Catalogue, cycle_id: str, *, strict: bool
) -> pd.DataFrame:
    """Check and annotate one cycle's values: one row per country and indicator with a value."""
    required = ["country_iso3", "indicator_code", "value"]
    missing = [c for c in required if c not in values.columns]
    if missing:
        raise ValueError(f"The values of cycle {cycle_id} lack the column(s) {missing}.")
    if "cycle_id" in values.columns:
        other = sorted(set(values["cycle_id"].dropna().astype(str)) - {cycle_id})
        if other:
            raise ValueError(
                f"score_cycle({cycle_id!r}) got values of other cycle(s) {other}; pass only "
                "the rows of the cycle being scored."
            )
    frame = values.copy()
    frame["country_iso3"] = frame["country_iso3"].astype(str)
    frame["indicator_code"] = frame["indicator_code"].astype(str)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    by_code = catalogue.indicator_by_code
    unknown = sorted(set(frame["indicator_code"]) - set(by_code))
    if unknown:
        if strict:
            raise ValueError(
                f"Cycle {cycle_id} has values for indicator(s) not in the catalogue: {unknown}."
                " Correct the codes at intake or add the indicators to schemas/catalogue.yaml."
            )
        logger.warning(
            "Cycle %s: ignoring indicators no longer in the catalogue: %s", cycle_id, unknown
        )
        frame = frame[frame["indicator_code"].isin(by_code)]
    dropped = int(frame["value"].isna().sum())
    if dropped:
        logger.info("Cycle %s: %d rows without a value are not scored.", cycle_id, dropped)
        frame = frame[frame["value"].notna()]
    dupes = frame.duplicated(["country_iso3", "indicator_code"], keep=False)
    if dupes.any():
        pairs = sorted(
            set(
                zip(
                    frame.loc[dupes, "country_iso3"],
                    frame.loc[dupes, "indicator_code"],
                    strict=True,
                )
            )
        )
        raise ValueError(
            f"Cycle {cycle_id} has several values for the same country and indicator: "
            f"{pairs[:5]}. Keep one annual value per pair (the current submission's)."
        )
    frame["category_code"] = frame["indicator_code"].map(
        {c: i.category for c, i in by_code.items()}
    )
    frame["kind"] = frame["indicator_code"].map({c: i.kind for c, i in by_code.items()})
    frame["direction"] = frame["indicator_code"].map(
        {c: float(i.direction) for c, i in by_code.items()}
    )
    return frame.reset_index(drop=True)


def _grade_confidence(frame: pd.DataFrame, method: Methodology) -> pd.Series:
    """Confidence of each value: from its Admiralty grades when the frame has them,
    else the ``grade_confidence`` column, else "cannot be judged" (F x 6)."""
    if "reliability" in frame.columns or "credibility" in frame.columns:
        rel = (
            frame["reliability"]
            if "reliability" in frame.columns
            else pd.Series(pd.NA, index=frame.index)
        )
        cred = (
            frame["credibility"]
            if "credibility" in frame.columns
            else pd.Series(pd.NA, index=frame.index)
        )
        return method.confidence.grade_confidence(rel, cred)
    ungraded = method.confidence.reliability["F"] * method.confidence.credibility[6]
    if "grade_confidence" in frame.columns:
        given = pd.to_numeric(frame["grade_confidence"], errors="coerce").astype("float64")
        return given.fillna(ungraded)
    return pd.Series(ungraded, index=frame.index, dtype="float64")


def _population_for(
    countries: list[str], population: pd.DataFrame, period_year: int
) -> pd.DataFrame:
    """Latest population at or before ``period_year`` per country (index country_iso3)."""
    missing_cols = [
        c for c in ("country_iso3", "year", "population") if c not in population.columns
    ]
    if missing_cols:
        raise ValueError(f"The population frame lacks the column(s) {missing_cols}.")
    pop = population[["country_iso3", "year", "population"]].copy()
    pop["country_iso3"] = pop["country_iso3"].astype(str)
    pop["year"] = pd.to_numeric(pop["year"], errors="coerce")
    pop["population"] = pd.to_numeric(pop["population"], errors="coerce").astype("float64")
    pop = pop[(pop["year"] <= period_year) & pop["population"].notna()]
    latest = pop.sort_values("year").groupby("country_iso3").tail(1).set_index("country_iso3")
    absent = sorted(set(countries) - set(latest.index))
    if absent:
        raise ValueError(
            f"No population figure for {absent} in or before {period_year}; add them to "
            f"{POPULATION_SOURCE} (data/reference) so their values can become rates."
        )
    return latest.loc[countries, ["year", "population"]]


def _with_rates(
    frame: pd.DataFrame,
    population: pd.DataFrame,
    period_year: int,
    catalogue: Catalogue,
    hierarchy: Hierarchy,
) -> pd.DataFrame:
    """Add population_year, denominator_value and rate (value per ``per`` of the denominator)."""
    by_code = catalogue.indicator_by_code
    den_of = frame["indicator_code"].map({c: i.denominator for c, i in by_code.items()})
    used = sorted({str(d) for d in den_of.dropna()})
    unsupported = [d for d in used if catalogue.denominators[d].source != POPULATION_SOURCE]
    if unsupported:
        raise ValueError(
            f"Denominator(s) {unsupported} are not supported by the scoring yet (only "
            f"denominators from {POPULATION_SOURCE})."
        )
    out = frame.copy()
    out["population_year"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["denominator_value"] = np.nan
    countries = sorted(set(out["country_iso3"]))
    wide = out.pivot(index="country_iso3", columns="indicator_code", values="value")
    wide = wide.reindex(index=countries, columns=hierarchy.indicators)
    # Every denominator of the tree needs a column; those no value uses stay NaN.
    for d in hierarchy.table["Denominator"].dropna().unique():
        wide[str(d)] = np.nan
    if used:
        needs = sorted(set(out.loc[den_of.notna(), "country_iso3"]))
        pop = _population_for(needs, population, period_year)
        for d in used:
            wide[d] = pop["population"].reindex(countries)
        has_den = den_of.notna().to_numpy()
        rows = out.loc[has_den, "country_iso3"]
        out.loc[has_den, "population_year"] = pop["year"].reindex(rows).astype("Int64").to_numpy()
        out.loc[has_den, "denominator_value"] = pop["population"].reindex(rows).to_numpy()
    scale = {
        str(d): catalogue.denominators[str(d)].per
        for d in hierarchy.table["Denominator"].dropna().unique()
    }
    rates = denominate(wide, hierarchy, scale=scale)
    out["rate"] = _lookup(rates, out)
    return out


def _lookup(wide: pd.DataFrame, long: pd.DataFrame) -> FloatArray:
    """wide[country, indicator] for each row of ``long`` (vectorised; NaN if absent)."""
    r = wide.index.get_indexer(pd.Index(long["country_iso3"]))
    c = wide.columns.get_indexer(pd.Index(long["indicator_code"]))
    found = (r >= 0) & (c >= 0)
    picked = wide.to_numpy(dtype=np.float64)[np.where(found, r, 0), np.where(found, c, 0)]
    return np.where(found, picked, np.nan)


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLE_BY_NAME[table].columns})


def score_cycle(
    cycle_id: str,
    period_year: int,
    values: pd.DataFrame,
    population: pd.DataFrame,
    catalogue: Catalogue,
    method: Methodology,
    methodology_sha256: str,
    previous: PreviousCycle | None = None,
) -> CycleScores:
    """Score one cycle: indicator scores, category scores and regional priorities.

    ``values`` are the cycle's ``core_threat__indicator_values`` rows (country_iso3,
    indicator_code, value, and the Admiralty grades or grade_confidence); ``population``
    has country_iso3, year, population for all years available. Every frame returned has
    exactly the columns of its ``out_threat__*`` table, in order.
    """
    meta = catalogue_meta(catalogue, method)
    hierarchy = validate_meta(meta)
    frame = _prepare_values(values, catalogue, cycle_id, strict=True)
    if frame.empty:
        logger.warning("Cycle %s has no values to score.", cycle_id)
        return CycleScores(
            _empty(INDICATOR_SCORES), _empty(CATEGORY_SCORES), _empty(REGIONAL_PRIORITIES)
        )
    frame["grade_confidence"] = _grade_confidence(frame, method).to_numpy()
    frame = _with_rates(frame, population, period_year, catalogue, hierarchy)

    # Normalise each kind with its own method, over the countries assessed in this cycle.
    countries = sorted(set(frame["country_iso3"]))
    rates = frame.pivot(index="country_iso3", columns="indicator_code", values="rate")
    rates = rates.reindex(index=countries, columns=hierarchy.indicators)
    kind_of = {i.code: i.kind for i in catalogue.indicators}
    quantitative = [c for c in hierarchy.indicators if kind_of[c] == "quantitative"]
    treated = _treat_rates(rates, hierarchy, quantitative, method, cycle_id)
    q = method.normalisation.quantitative
    e = method.normalisation.expert
    normalised = pd.concat(
        [
            normalise(
                treated.data,
                hierarchy,
                "minmax",
                q.lo,
                q.hi,
                zero_range=q.zero_range,
                indicators=quantitative,
            ),
            normalise(
                rates,
                hierarchy,
                "goalposts",
                e.lo,
                e.hi,
                goalposts=(e.scale_min, e.scale_max),
                truncate=e.truncate,
                indicators=[c for c in hierarchy.indicators if kind_of[c] == "expert"],
            ),
        ],
        axis=1,
    )[hierarchy.indicators]
    scored = aggregate(
        normalised, hierarchy, "arithmetic", min_coverage=_min_coverage(catalogue, method)
    )

    frame["normalised_0_100"] = _lookup(normalised, frame)
    frame["weight"] = frame["indicator_code"].map(method.weights.weight_of).astype("float64")
    indicator_scores = _indicator_table(frame, cycle_id, methodology_sha256, catalogue)
    category_scores = _category_table(
        frame, scored, cycle_id, methodology_sha256, catalogue, method, previous
    )
    previous_rates = None
    if previous is not None and not previous.values.empty:
        prev = _prepare_values(previous.values, catalogue, previous.cycle_id, strict=False)
        if not prev.empty:
            previous_rates = _with_rates(
                prev, population, previous.period_year, catalogue, hierarchy
            )
    priorities = _priority_table(
        category_scores,
        frame,
        previous_rates,
        cycle_id,
        methodology_sha256,
        catalogue,
        method,
        previous,
    )
    return CycleScores(indicator_scores, category_scores, priorities, treated.log)


def _treat_rates(
    rates: pd.DataFrame,
    hierarchy: Hierarchy,
    quantitative: list[str],
    method: Methodology,
    cycle_id: str,
) -> TreatResult:
    """Outlier treatment of the cycle's quantitative rates (``treatment`` key).

    Only the quantitative columns change; expert scores are on a fixed 1-10 scale with
    goalposts and are never treated.
    """
    t = method.treatment
    result = treat(
        rates,
        hierarchy,
        method=t.method,
        winmax=t.winmax,
        skew_thresh=t.skew_thresh,
        kurt_thresh=t.kurt_thresh,
        log=t.log,
        indicators=quantitative,
        per_indicator=t.per_indicator(),
    )
    if result.winsorised:
        logger.info("Cycle %s: outliers winsorised in %s.", cycle_id, ", ".join(result.winsorised))
    if result.log_transformed:
        logger.info(
            "Cycle %s: log-transformed (winsorising up to winmax was not enough) %s.",
            cycle_id,
            ", ".join(result.log_transformed),
        )
    return result


def _indicator_table(
    frame: pd.DataFrame, cycle_id: str, sha: str, catalogue: Catalogue
) -> pd.DataFrame:
    order = {i.code: n for n, i in enumerate(catalogue.indicators)}
    out = frame.assign(
        cycle_id=cycle_id, methodology_sha256=sha, _o=frame["indicator_code"].map(order)
    )
    out = out.sort_values(["country_iso3", "_o"]).reset_index(drop=True)
    return out[list(TABLE_BY_NAME[INDICATOR_SCORES].columns)]


def _category_table(
    frame: pd.DataFrame,
    scored: pd.DataFrame,
    cycle_id: str,
    sha: str,
    catalogue: Catalogue,
    method: Methodology,
    previous: PreviousCycle | None,
) -> pd.DataFrame:
    n_ind = pd.Series({c.code: len(catalogue.indicators_of(c.code)) for c in catalogue.categories})
    grouped = frame.groupby(["country_iso3", "category_code"], sort=False)
    out = grouped.agg(n_present=("indicator_code", "size"), mean_conf=("grade_confidence", "mean"))
    out = out.reset_index()
    lookup = out.rename(columns={"category_code": "indicator_code"})
    out["score_0_100"] = _lookup(scored, lookup)
    lookup["indicator_code"] = out["category_code"].map(lambda c: block_code(c, "quantitative"))
    out["quantitative_0_100"] = _lookup(scored, lookup)
    lookup["indicator_code"] = out["category_code"].map(lambda c: block_code(c, "expert"))
    out["expert_0_100"] = _lookup(scored, lookup)
    out["coverage_ratio"] = out["n_present"] / out["category_code"].map(n_ind)
    out["confidence_0_1"] = out["mean_conf"] * out["coverage_ratio"]

    prev_score = pd.Series(np.nan, index=out.index)
    if previous is not None and not previous.category_scores.empty:
        p = previous.category_scores
        key = pd.MultiIndex.from_arrays(
            [p["country_iso3"].astype(str), p["category_code"].astype(str)]
        )
        prev_map = pd.Series(pd.to_numeric(p["score_0_100"], errors="coerce").to_numpy(), index=key)
        prev_map = prev_map[~prev_map.index.duplicated()]
        mine = pd.MultiIndex.from_arrays([out["country_iso3"], out["category_code"]])
        prev_score = pd.Series(prev_map.reindex(mine).to_numpy(dtype=np.float64), index=out.index)
    out["previous_score_0_100"] = prev_score
    out["change_0_100"] = out["score_0_100"] - out["previous_score_0_100"]
    decimals = method.ranking.tie_decimals
    out["rank_in_category"] = (
        out.groupby("category_code")["score_0_100"]
        .transform(lambda s: rank_desc(s, decimals=decimals))
        .astype("Int64")
    )
    order = {c.code: n for n, c in enumerate(catalogue.categories)}
    out = out.assign(cycle_id=cycle_id, methodology_sha256=sha, _o=out["category_code"].map(order))
    out = out.sort_values(["_o", "rank_in_category", "country_iso3"], na_position="last")
    return out.reset_index(drop=True)[list(TABLE_BY_NAME[CATEGORY_SCORES].columns)]


def _relative_changes(current: pd.DataFrame, previous: pd.DataFrame, cap: float) -> pd.DataFrame:
    """Per country and indicator present in both cycles: direction x relative change of
    the rate, clipped to +-cap and divided by cap (so in [-1, 1])."""
    pairs = current[["country_iso3", "indicator_code", "category_code", "direction", "rate"]].merge(
        previous[["country_iso3", "indicator_code", "rate"]],
        on=["country_iso3", "indicator_code"],
        suffixes=("", "_prev"),
    )
    pairs = pairs[pairs["rate"].notna() & pairs["rate_prev"].notna()]
    now = pairs["rate"].to_numpy(dtype=np.float64)
    before = pairs["rate_prev"].to_numpy(dtype=np.float64)
    diff = pairs["direction"].to_numpy(dtype=np.float64) * (now - before)
    with np.errstate(divide="ignore", invalid="ignore"):
        # From zero to something is the largest possible change: sign(diff) * cap.
        rel = np.where(before != 0, diff / np.abs(before), np.sign(diff) * cap)
    pairs = pairs.assign(change=np.clip(rel, -cap, cap) / cap)
    return pairs[["country_iso3", "category_code", "change"]]


def _priority_table(
    categories: pd.DataFrame,
    frame: pd.DataFrame,
    previous_rates: pd.DataFrame | None,
    cycle_id: str,
    sha: str,
    catalogue: Catalogue,
    method: Methodology,
    previous: PreviousCycle | None,
) -> pd.DataFrame:
    p = method.priority
    assessed = categories[categories["score_0_100"].notna()].copy()
    if assessed.empty:
        return _empty(REGIONAL_PRIORITIES)
    assessed["touched"] = assessed["score_0_100"] >= p.spread_threshold
    g = assessed.groupby("category_code", sort=False)
    out = g.agg(
        n_countries_assessed=("score_0_100", "size"),
        n_countries_affected=("touched", "sum"),
        confidence_0_1=("confidence_0_1", "mean"),
        coverage_ratio=("coverage_ratio", "mean"),
    )
    # Severity is the mean where the threat occurs; if it reaches no country, over all.
    any_touched = assessed["category_code"].map(g["touched"].any())
    assessed["in_severity"] = assessed["touched"] | ~any_touched
    sev = assessed[assessed["in_severity"]].groupby("category_code")["score_0_100"].mean()
    out["severity_0_100"] = sev.reindex(out.index)
    out["spread_ratio"] = out["n_countries_affected"] / out["n_countries_assessed"]

    trend = pd.Series(50.0, index=out.index)
    if previous_rates is not None:
        changes = _relative_changes(frame, previous_rates, p.trend_cap)
        same = assessed.loc[assessed["in_severity"], ["country_iso3", "category_code"]]
        changes = changes.merge(same, on=["country_iso3", "category_code"])
        mean_change = changes.groupby("category_code")["change"].mean()
        trend = (50.0 + 50.0 * mean_change).reindex(out.index).fillna(50.0)
    out["trend_0_100"] = trend
    w = p.weights
    out["priority_0_100"] = (
        w.severity * out["severity_0_100"]
        + w.spread * out["spread_ratio"] * 100.0
        + w.trend * out["trend_0_100"]
    )
    out["priority_rank"] = rank_desc(out["priority_0_100"], decimals=method.ranking.tie_decimals)

    prev_priority = pd.Series(np.nan, index=out.index)
    if (
        previous is not None
        and previous.regional_priorities is not None
        and not previous.regional_priorities.empty
    ):
        rp = previous.regional_priorities
        prev_map = pd.Series(
            pd.to_numeric(rp["priority_0_100"], errors="coerce").to_numpy(),
            index=rp["category_code"].astype(str),
        )
        prev_map = prev_map[~prev_map.index.duplicated()]
        prev_priority = prev_map.reindex(out.index).astype("float64")
    out["previous_score_0_100"] = prev_priority
    out["change_0_100"] = out["priority_0_100"] - out["previous_score_0_100"]
    out["n_countries_assessed"] = out["n_countries_assessed"].astype("Int64")
    out["n_countries_affected"] = out["n_countries_affected"].astype("Int64")
    order = {c.code: n for n, c in enumerate(catalogue.categories)}
    out = out.reset_index()
    out = out.assign(cycle_id=cycle_id, methodology_sha256=sha, _o=out["category_code"].map(order))
    out = out.sort_values(["priority_rank", "_o"]).reset_index(drop=True)
    return out[list(TABLE_BY_NAME[REGIONAL_PRIORITIES].columns)]
