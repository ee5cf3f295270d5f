"""Threat scoring of one assessment cycle, on DataFrames only.

What belongs here: turning one cycle's harmonised indicator values (the rows of
``core_threat__indicator_values``) into the ``out_threat__*`` tables (indicator and
category scores, regional priorities, the drivers of each category's change), using the
catalogue for the structure and the methodology for every number. The Monte Carlo of the
priority ranking is in ``threat_uncertainty``, called from :func:`score_cycle`. The maths is the
general engine's (``ideal.scoring.engine``): the catalogue becomes an iMeta tree

    indicator (level 1) -> block "<category>.quantitative" | "<category>.expert" (level 2)
                        -> category (level 3, a root)

so that denomination, imputation, outlier treatment, normalisation, re-weighted means,
coverage and ranks are the same code that reproduces COINr's published example. Outlier treatment
changes only what is normalised: the ``rate`` reported per value stays the untreated
rate, which a reader can check against the submission. Reading and writing the warehouse is
the caller's job. docs/methodology.md states every formula used here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ideal.catalogue import Catalogue
from ideal.scoring.engine import (
    FloatArray,
    Hierarchy,
    ImputeResult,
    TreatResult,
    aggregate,
    denominate,
    effective_weights,
    impute,
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
PRIORITY_UNCERTAINTY = "out_threat__priority_uncertainty"
PRIORITY_SENSITIVITY = "out_threat__priority_sensitivity"
PRIORITY_DRIVERS = "out_threat__priority_drivers"
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


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLE_BY_NAME[table].columns})


@dataclass(frozen=True)
class CycleScores:
    indicator_scores: pd.DataFrame  # columns of out_threat__indicator_scores
    category_scores: pd.DataFrame  # columns of out_threat__category_scores
    regional_priorities: pd.DataFrame  # columns of out_threat__regional_priorities
    # engine.treat's log for the quantitative indicators (one row each); None if not scored
    treatment: pd.DataFrame | None = None
    # columns of out_threat__priority_drivers (empty without a previous cycle)
    drivers: pd.DataFrame = field(default_factory=lambda: _empty(PRIORITY_DRIVERS))
    # columns of out_threat__priority_uncertainty / _sensitivity (empty when not run)
    uncertainty: pd.DataFrame = field(default_factory=lambda: _empty(PRIORITY_UNCERTAINTY))
    sensitivity: pd.DataFrame = field(default_factory=lambda: _empty(PRIORITY_SENSITIVITY))
    # engine.impute's log of the quantitative rates (empty when nothing was imputed)
    imputation: pd.DataFrame | None = None


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


def score_cycle(
    cycle_id: str,
    period_year: int,
    values: pd.DataFrame,
    population: pd.DataFrame,
    catalogue: Catalogue,
    method: Methodology,
    methodology_sha256: str,
    previous: PreviousCycle | None = None,
    *,
    groups: Mapping[str, str] | None = None,
    uncertainty: bool = True,
) -> CycleScores:
    """Score one cycle: indicator scores, category scores, regional priorities, the drivers
    of each category's change and (``uncertainty``) the Monte Carlo of the ranking.

    ``values`` are the cycle's ``core_threat__indicator_values`` rows (country_iso3,
    indicator_code, value, and the Admiralty grades or grade_confidence); ``population``
    has country_iso3, year, population for all years available; ``groups`` maps a
    country to its group for group imputation (e.g. its subregion). Every frame returned
    has exactly the columns of its ``out_threat__*`` table, in order.
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
    rates = _wide_rates(frame, hierarchy)

    previous_rates = None
    if previous is not None and not previous.values.empty:
        prev = _prepare_values(previous.values, catalogue, previous.cycle_id, strict=False)
        if not prev.empty:
            previous_rates = _with_rates(
                prev, population, previous.period_year, catalogue, hierarchy
            )
    previous_wide = _wide_rates(previous_rates, hierarchy) if previous_rates is not None else None

    settings = NormalisationChoice.nominal(method)
    norm = normalised_matrix(
        rates, hierarchy, catalogue, method, settings, previous_wide, groups, cycle_id
    )
    normalised = norm.data
    scored = aggregate(
        normalised, hierarchy, "arithmetic", min_coverage=_min_coverage(catalogue, method)
    )

    frame["normalised_0_100"] = _lookup(normalised, frame)
    frame["weight"] = frame["indicator_code"].map(method.weights.weight_of).astype("float64")
    indicator_scores = _indicator_table(frame, cycle_id, methodology_sha256, catalogue)
    category_scores = _category_table(
        frame, scored, cycle_id, methodology_sha256, catalogue, method, previous
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
    drivers = _empty(PRIORITY_DRIVERS)
    if previous is not None and previous_rates is not None and previous_wide is not None:
        # The previous cycle re-scored with this methodology, so drivers show threat, not
        # methodology changes.
        prev_norm = normalised_matrix(
            previous_wide,
            hierarchy,
            catalogue,
            method,
            settings.without_last_cycle(),
            None,
            groups,
            previous.cycle_id,
            quiet=True,
        )
        drivers = _drivers_table(
            norm.data,
            scored,
            prev_norm.data,
            rates,
            previous_wide,
            hierarchy,
            catalogue,
            method,
            cycle_id,
            methodology_sha256,
        )
    result = CycleScores(
        indicator_scores,
        category_scores,
        priorities,
        norm.treatment.log,
        drivers=drivers,
        imputation=norm.imputation.log,
    )
    u = method.uncertainty
    if uncertainty and u is not None and u.enabled and not priorities.empty:
        # Imported here: threat_uncertainty imports this module.
        from ideal.scoring.threat_uncertainty import priority_uncertainty

        unc, sens = priority_uncertainty(
            ThreatInputs(
                cycle_id=cycle_id,
                sha=methodology_sha256,
                rates=rates,
                previous_rates=previous_wide,
                frame=frame,
                previous_frame=previous_rates,
                hierarchy=hierarchy,
                catalogue=catalogue,
                method=method,
                groups=groups,
                priorities=priorities,
            )
        )
        result = replace(result, uncertainty=unc, sensitivity=sens)
    return result


def _wide_rates(frame: pd.DataFrame, hierarchy: Hierarchy) -> pd.DataFrame:
    """Untreated rates, one row per country of the frame and one column per indicator."""
    countries = sorted(set(frame["country_iso3"]))
    rates = frame.pivot(index="country_iso3", columns="indicator_code", values="rate")
    return rates.reindex(index=countries, columns=hierarchy.indicators)


@dataclass(frozen=True)
class NormalisationChoice:
    """The settings that decide the normalised matrix: imputation method, the treatment's
    winmax and the quantitative normalisation method (the Monte Carlo varies them)."""

    imputation: str
    winmax: int | None  # None: the methodology's treatment as written
    quantitative: str

    @classmethod
    def nominal(cls, method: Methodology) -> NormalisationChoice:
        return cls(method.imputation.method, None, method.normalisation.quantitative.method)

    def without_last_cycle(self) -> NormalisationChoice:
        # A re-scored previous cycle has no cycle before it to impute from.
        return replace(self, imputation="none") if self.imputation == "last_cycle" else self


@dataclass(frozen=True)
class NormalisedMatrix:
    data: pd.DataFrame  # countries x indicators, 0-100
    treatment: TreatResult
    imputation: ImputeResult


def normalised_matrix(
    rates: pd.DataFrame,
    hierarchy: Hierarchy,
    catalogue: Catalogue,
    method: Methodology,
    choice: NormalisationChoice,
    previous_rates: pd.DataFrame | None,
    groups: Mapping[str, str] | None,
    cycle_id: str,
    *,
    quiet: bool = False,
) -> NormalisedMatrix:
    """Impute, treat and normalise the quantitative rates; goalposts for expert items.

    Quantitative indicators are normalised over the countries of the cycle (min-max or
    percentile rank) or against the fixed goalposts of the methodology; expert ratings
    (1-10) are never imputed or treated. The nominal scoring and every Monte Carlo
    combination go through these steps.
    """
    imputed, treated = prepare_rates(
        rates, hierarchy, catalogue, method, choice, previous_rates, groups, cycle_id, quiet=quiet
    )
    data = normalise_rates(treated.data, rates, hierarchy, catalogue, method, choice.quantitative)
    return NormalisedMatrix(data, treated, imputed)


def prepare_rates(
    rates: pd.DataFrame,
    hierarchy: Hierarchy,
    catalogue: Catalogue,
    method: Methodology,
    choice: NormalisationChoice,
    previous_rates: pd.DataFrame | None,
    groups: Mapping[str, str] | None,
    cycle_id: str,
    *,
    quiet: bool = False,
) -> tuple[ImputeResult, TreatResult]:
    """Imputation (``choice.imputation``) then outlier treatment of the quantitative rates."""
    quantitative = _quantitative(catalogue, hierarchy)
    imputed = _impute_rates(
        rates, hierarchy, quantitative, choice.imputation, previous_rates, groups
    )
    if imputed.n_imputed and not quiet:
        logger.info(
            "Cycle %s: %d missing rate(s) imputed by %s.",
            cycle_id,
            imputed.n_imputed,
            choice.imputation,
        )
    treated = _treat_rates(
        imputed.data, hierarchy, quantitative, method, cycle_id, winmax=choice.winmax, quiet=quiet
    )
    return imputed, treated


def normalise_rates(
    treated: pd.DataFrame,
    rates: pd.DataFrame,
    hierarchy: Hierarchy,
    catalogue: Catalogue,
    method: Methodology,
    quantitative_method: str,
) -> pd.DataFrame:
    """Quantitative: ``treated`` rates by ``quantitative_method``; expert: goalposts."""
    quantitative = _quantitative(catalogue, hierarchy)
    expert = [c for c in hierarchy.indicators if c not in set(quantitative)]
    q = method.normalisation.quantitative
    e = method.normalisation.expert
    if quantitative_method == "goalposts":
        quant = normalise(
            treated,
            hierarchy,
            "goalposts",
            q.lo,
            q.hi,
            goalposts={c: q.goalposts[c] for c in quantitative},
            truncate=q.truncate,
            indicators=quantitative,
        )
    else:
        quant = normalise(
            treated,
            hierarchy,
            quantitative_method,  # type: ignore[arg-type]
            q.lo,
            q.hi,
            zero_range=q.zero_range,
            indicators=quantitative,
        )
    expert_scores = normalise(
        rates,
        hierarchy,
        "goalposts",
        e.lo,
        e.hi,
        goalposts=(e.scale_min, e.scale_max),
        truncate=e.truncate,
        indicators=expert,
    )
    return pd.concat([quant, expert_scores], axis=1)[hierarchy.indicators]


def _quantitative(catalogue: Catalogue, hierarchy: Hierarchy) -> list[str]:
    kind_of = {i.code: i.kind for i in catalogue.indicators}
    return [c for c in hierarchy.indicators if kind_of[c] == "quantitative"]


def _impute_rates(
    rates: pd.DataFrame,
    hierarchy: Hierarchy,
    quantitative: list[str],
    how: str,
    previous_rates: pd.DataFrame | None,
    groups: Mapping[str, str] | None,
) -> ImputeResult:
    if how == "last_cycle":
        previous = {"previous cycle": previous_rates} if previous_rates is not None else {}
        return impute(rates, hierarchy, "latest", indicators=quantitative, previous=previous)
    if how.startswith("group_"):
        if groups is None:
            raise ValueError(
                f"Imputation {how} needs each country's group (e.g. its subregion); pass "
                "groups={country: group} to score_cycle."
            )
        labels = pd.Series({c: groups.get(c) for c in rates.index}, dtype=object)
        return impute(rates, hierarchy, how, indicators=quantitative, groups=labels)
    return impute(rates, hierarchy, how, indicators=quantitative)


@dataclass(frozen=True)
class ThreatInputs:
    """Everything the Monte Carlo of a cycle's priorities needs (built by score_cycle)."""

    cycle_id: str
    sha: str
    rates: pd.DataFrame
    previous_rates: pd.DataFrame | None
    frame: pd.DataFrame
    previous_frame: pd.DataFrame | None
    hierarchy: Hierarchy
    catalogue: Catalogue
    method: Methodology
    groups: Mapping[str, str] | None
    priorities: pd.DataFrame


def _treat_rates(
    rates: pd.DataFrame,
    hierarchy: Hierarchy,
    quantitative: list[str],
    method: Methodology,
    cycle_id: str,
    *,
    winmax: int | None = None,
    quiet: bool = False,
) -> TreatResult:
    """Outlier treatment of the cycle's quantitative rates (``treatment`` key).

    Only the quantitative columns change; expert scores are on a fixed 1-10 scale with
    goalposts and are never treated. ``winmax`` replaces the section's winmax (and
    switches COINr's default treatment on); per-indicator overrides keep their own.
    """
    t = method.treatment
    result = treat(
        rates,
        hierarchy,
        method="coinr_default" if winmax is not None else t.method,
        winmax=t.winmax if winmax is None else winmax,
        skew_thresh=t.skew_thresh,
        kurt_thresh=t.kurt_thresh,
        log=t.log,
        indicators=quantitative,
        per_indicator=t.per_indicator(),
    )
    if quiet:
        return result
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
    # Rounded like the ranks, so a score of 50 that is 49.99999999999999 in binary counts.
    decimals = method.ranking.tie_decimals
    assessed["touched"] = assessed["score_0_100"].round(decimals) >= p.spread_threshold
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


# Contributions smaller than this (points) are rounding noise, not drivers.
_DRIVER_TOL = 1e-9


def _drivers_table(
    norm_now: pd.DataFrame,
    scored_now: pd.DataFrame,
    norm_prev: pd.DataFrame,
    rates_now: pd.DataFrame,
    rates_prev: pd.DataFrame,
    hierarchy: Hierarchy,
    catalogue: Catalogue,
    method: Methodology,
    cycle_id: str,
    sha: str,
) -> pd.DataFrame:
    """The indicators that moved each category's mean score most since the last cycle.

    Both cycles are scored with the current methodology, so the category score of a
    country is ``score(c) = sum_i E(c, i) n(c, i)`` with ``E`` the indicator's effective
    weight (``engine.effective_weights``) and ``n`` its normalised value. Over the
    countries scored in the category in both cycles (B), the change of the mean score is
    split exactly into per-indicator contributions:

        contribution(i) = mean_{c in B} [E_t(c, i) n_t(c, i) - E_t-1(c, i) n_t-1(c, i)]

    and ``sum_i contribution(i) = mean_{c in B} (score_t(c) - score_t-1(c))``. The top
    ``drivers.top_n`` by absolute contribution are listed; ``mean_relative_change`` is
    the mean of ``(rate_t - rate_t-1) / |rate_t-1|`` over the countries of B with the
    indicator in both cycles and a non-zero previous rate (NaN if there are none).
    """
    scored_prev = aggregate(
        norm_prev, hierarchy, "arithmetic", min_coverage=_min_coverage(catalogue, method)
    )
    carried_now = effective_weights(scored_now, hierarchy) * norm_now.fillna(0.0)
    carried_prev = effective_weights(scored_prev, hierarchy) * norm_prev.fillna(0.0)
    both = sorted(set(norm_now.index) & set(norm_prev.index))
    rows: list[dict[str, object]] = []
    for cat in catalogue.categories:
        in_both = [
            c
            for c in both
            if pd.notna(scored_now.loc[c, cat.code]) and pd.notna(scored_prev.loc[c, cat.code])
        ]
        if not in_both:
            continue
        codes = [i.code for i in catalogue.indicators_of(cat.code)]
        points = (carried_now.loc[in_both, codes] - carried_prev.loc[in_both, codes]).mean(axis=0)
        now = rates_now.reindex(index=in_both, columns=codes).to_numpy(np.float64)
        before = rates_prev.reindex(index=in_both, columns=codes).to_numpy(np.float64)
        usable = ~np.isnan(now) & ~np.isnan(before) & (before != 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(usable, (now - before) / np.abs(before), 0.0).sum(axis=0) / usable.sum(
                axis=0
            )
        relative = pd.Series(rel, index=codes)
        ranked = points[points.abs() > _DRIVER_TOL]
        order = np.argsort(-ranked.abs().to_numpy(), kind="stable")
        for k, code in enumerate(ranked.index[order][: method.drivers.top_n]):
            rows.append(
                {
                    "cycle_id": cycle_id,
                    "category_code": cat.code,
                    "driver_rank": k + 1,
                    "indicator_code": code,
                    "contribution_points": float(points[code]),
                    "mean_relative_change": float(relative[code]),
                    "methodology_sha256": sha,
                }
            )
    if not rows:
        return _empty(PRIORITY_DRIVERS)
    out = pd.DataFrame(rows)
    out["driver_rank"] = out["driver_rank"].astype("Int64")
    return out[list(TABLE_BY_NAME[PRIORITY_DRIVERS].columns)]
