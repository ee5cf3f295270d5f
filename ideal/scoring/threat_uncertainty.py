"""Monte Carlo uncertainty of the regional priority ranking of one cycle (units = categories).

What belongs here: the CLASI-specific problem on top of ``ideal.scoring.uncertainty`` —
which elements vary (the methodology's ``uncertainty`` section), how one replicate turns
category scores per country into priorities (severity, spread, trend, as in
``threat._priority_table``), and the two ``out_threat__priority_*`` frames. Replicates
are evaluated in batches: one normalised matrix per combination of imputation, winmax and
normalisation; blocks and categories as batched matrix products; priorities as array
reductions over countries. docs/methodology.md §11 states the design and every choice.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ideal.scoring.engine import FloatArray, LevelMethod
from ideal.scoring.methodology import ThreatAggregation, Uncertainty
from ideal.scoring.threat import (
    PRIORITY_SENSITIVITY,
    PRIORITY_UNCERTAINTY,
    NormalisationChoice,
    ThreatInputs,
    _min_coverage,
    _relative_changes,
    normalise_rates,
    prepare_rates,
)
from ideal.scoring.uncertainty import (
    Choice,
    Draws,
    FirstLevelCache,
    MonteCarloResult,
    Scheme,
    WeightSet,
    aggregate_replicates,
    compile_levels,
    group_rows,
    make_choice,
    monte_carlo,
    weight_sets,
)
from ideal.warehouse import TABLE_BY_NAME

logger = logging.getLogger(__name__)

# Means other than the arithmetic one are taken on [1, 100] (0 -> 1, 100 -> 100) and
# mapped back, so geometric and harmonic means are defined on min-max scores.
_RESCALE = (1.0, 0.99)


class PriorityProblem:
    """The regional priorities of one cycle as a function of the uncertain choices."""

    def __init__(self, inp: ThreatInputs, settings: Uncertainty) -> None:
        self.inp = inp
        self.settings = settings
        method = inp.method
        t = method.treatment
        nominal_winmax = t.winmax if t.method == "coinr_default" else None
        self.nominal_winmax = nominal_winmax
        self.choices: tuple[Choice, ...] = (
            make_choice("imputation", method.imputation.method, settings.imputation),
            make_choice("winmax", nominal_winmax, settings.winmax),
            make_choice(
                "normalisation", method.normalisation.quantitative.method, settings.normalisation
            ),
            make_choice("aggregation", ThreatAggregation(), settings.aggregation),
        )
        h = inp.hierarchy
        self.levels = compile_levels(h)
        self.countries = [str(c) for c in inp.rates.index]
        self.categories = list(self.levels[-1].parents)
        shares = _min_coverage(inp.catalogue, method)
        coverage = tuple(
            np.array([shares.get(p, 0.0) for p in level.parents], dtype=np.float64)
            for level in self.levels
        )
        self.schemes = tuple(
            self._scheme(a, coverage)  # type: ignore[arg-type]
            for a in self.choices[3].options
        )
        w = method.priority.weights
        priority_set = WeightSet(
            "priority",
            np.array([w.severity, w.spread, w.trend], dtype=np.float64),
            np.zeros(3, dtype=np.intp),
        )
        self.sets: tuple[WeightSet, ...] = (*weight_sets(h), priority_set)
        self.units = [str(c) for c in inp.priorities["category_code"]]
        self.unit_cols = np.array([self.categories.index(c) for c in self.units], dtype=np.intp)
        self.change_sum, self.change_count = self._changes()
        self.threshold = method.priority.spread_threshold
        self.decimals = method.ranking.tie_decimals
        self._matrices: dict[tuple[int, int, int], FloatArray] = {}
        self._treated: dict[tuple[int, int], pd.DataFrame] = {}
        self._cache = FirstLevelCache()

    @staticmethod
    def _scheme(agg: ThreatAggregation, coverage: tuple[FloatArray, ...]) -> Scheme:
        m = LevelMethod(agg.method, agg.p)
        return Scheme(
            methods=(m, m),
            coverage=coverage,
            rescale=None if agg.method == "arithmetic" else _RESCALE,
            label=m.label,
        )

    def _changes(self) -> tuple[FloatArray, FloatArray]:
        """Sum and count of the clipped relative changes per (country, category)."""
        shape = (len(self.countries), len(self.categories))
        total, count = np.zeros(shape), np.zeros(shape)
        if self.inp.previous_frame is None:
            return total, count
        changes = _relative_changes(
            self.inp.frame, self.inp.previous_frame, self.inp.method.priority.trend_cap
        )
        if changes.empty:
            return total, count
        r = pd.Index(self.countries).get_indexer(pd.Index(changes["country_iso3"]))
        c = pd.Index(self.categories).get_indexer(pd.Index(changes["category_code"]))
        ok = (r >= 0) & (c >= 0)
        np.add.at(total, (r[ok], c[ok]), changes["change"].to_numpy(np.float64)[ok])
        np.add.at(count, (r[ok], c[ok]), 1.0)
        return total, count

    def matrix(self, imp: int, win: int, nor: int) -> FloatArray:
        """The normalised matrix of one combination; imputation and treatment are shared
        by the normalisation alternatives. Each is computed once, then cached."""
        key = (imp, win, nor)
        hit = self._matrices.get(key)
        if hit is None:
            inp = self.inp
            treated = self._treated.get((imp, win))
            if treated is None:
                winmax = self.choices[1].options[win]
                choice = NormalisationChoice(
                    imputation=str(self.choices[0].options[imp]),
                    winmax=None if winmax == self.nominal_winmax else int(winmax),  # type: ignore[call-overload]
                    quantitative="",
                )
                _, result = prepare_rates(
                    inp.rates,
                    inp.hierarchy,
                    inp.catalogue,
                    inp.method,
                    choice,
                    inp.previous_rates,
                    inp.groups,
                    inp.cycle_id,
                    quiet=True,
                )
                treated = result.data
                self._treated[(imp, win)] = treated
            hit = normalise_rates(
                treated,
                inp.rates,
                inp.hierarchy,
                inp.catalogue,
                inp.method,
                str(self.choices[2].options[nor]),
            ).to_numpy(np.float64)
            self._matrices[key] = hit
        return hit

    def evaluate(self, draws: Draws, strict: bool = True) -> FloatArray:
        """Priority of every category (R x categories) for a batch of replicates."""
        out = np.full((draws.n, len(self.units)), np.nan)
        keys = [draws.choice[c.name] for c in self.choices]
        for (imp, win, nor, agg), rows in group_rows(keys):
            x = self.matrix(imp, win, nor)
            scheme = self.schemes[agg]
            try:
                scores = aggregate_replicates(
                    x,
                    self.levels,
                    scheme,
                    [draws.weights[0][rows], draws.weights[1][rows]],
                    units=self.countries,
                    cache=self._cache,
                    cache_key=(imp, win, nor),
                )[-1]
            except ValueError as exc:
                if not strict:
                    continue
                raise ValueError(
                    f"Monte Carlo of the priorities, {scheme.label} mean: {exc}"
                ) from None
            pw = np.asarray(draws.weights[2][rows], dtype=np.float64)
            pw = pw / pw.sum(axis=1, keepdims=True)
            out[rows] = self._priorities(scores, pw)[:, self.unit_cols]
        return out

    def _priorities(self, scores: FloatArray, pw: FloatArray) -> FloatArray:
        """``threat._priority_table`` for (R x countries x categories) scores at once."""
        assessed = ~np.isnan(scores)
        rounded = np.round(scores, self.decimals)
        touched = assessed & (rounded >= self.threshold)
        n_assessed = assessed.sum(axis=1)
        n_touched = touched.sum(axis=1)
        # Severity over the touched countries; over all assessed if none is touched.
        in_severity = touched | ((n_touched == 0)[:, None, :] & assessed)
        n_severity = in_severity.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            severity = np.where(in_severity, scores, 0.0).sum(axis=1) / n_severity
            spread = n_touched / n_assessed
            num = np.einsum("ruk,uk->rk", in_severity, self.change_sum)
            cnt = np.einsum("ruk,uk->rk", in_severity, self.change_count)
            trend = np.where(cnt > 0, 50.0 + 50.0 * num / cnt, 50.0)
        priority = pw[:, 0:1] * severity + pw[:, 1:2] * spread * 100.0 + pw[:, 2:3] * trend
        return np.asarray(np.where(n_assessed > 0, priority, np.nan), dtype=np.float64)

    def run(self) -> MonteCarloResult:
        s = self.settings
        return monte_carlo(
            self.evaluate,
            self.units,
            self.choices,
            self.sets,
            s.weights,
            n=s.n,
            seed=s.seed,
            decimals=self.decimals,
        )


def priority_uncertainty(inp: ThreatInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``out_threat__priority_uncertainty`` and ``_sensitivity`` frames of a cycle."""
    settings = inp.method.uncertainty
    assert settings is not None
    problem = PriorityProblem(inp, settings)
    result = problem.run()
    nominal = inp.priorities.set_index("category_code")["priority_rank"]
    mine = pd.Series(result.stats["nominal"].to_numpy(), index=result.units)
    if not (mine.astype("Int64") == nominal.reindex(mine.index).astype("Int64")).all():
        logger.warning(
            "Cycle %s: the Monte Carlo's nominal ranking differs from the published one "
            "(floating-point ties?): %s vs %s",
            inp.cycle_id,
            mine.to_dict(),
            nominal.to_dict(),
        )
    logger.info(
        "Cycle %s: %d Monte Carlo replicates of the priority ranking in %.2f s (%s varied).",
        inp.cycle_id,
        result.n,
        result.seconds,
        ", ".join(result.elements) or "nothing",
    )
    return _uncertainty_frame(result, inp), _sensitivity_frame(result, inp)


def _uncertainty_frame(result: MonteCarloResult, inp: ThreatInputs) -> pd.DataFrame:
    stats = result.stats
    frame = pd.DataFrame(
        {
            "cycle_id": inp.cycle_id,
            "category_code": result.units,
            "nominal_rank": pd.array(stats["nominal"].round().to_numpy(), dtype="Int64"),
            "mean_rank": stats["mean"].to_numpy(),
            "median_rank": stats["median"].to_numpy(),
            "q05_rank": stats["q5"].to_numpy(),
            "q95_rank": stats["q95"].to_numpy(),
            "p_top3": stats["p_top3"].to_numpy(),
            "n_replicates": result.n,
            "seed": result.seed,
            "methodology_sha256": inp.sha,
        }
    )
    frame = frame.sort_values(["nominal_rank", "category_code"]).reset_index(drop=True)
    return frame[list(TABLE_BY_NAME[PRIORITY_UNCERTAINTY].columns)]


def _sensitivity_frame(result: MonteCarloResult, inp: ThreatInputs) -> pd.DataFrame:
    sens = result.sensitivity.rename(
        columns={
            "unit": "category_code",
            "element": "uncertain_element",
            "n_used": "n_replicates",
        }
    )
    frame = sens.assign(cycle_id=inp.cycle_id, seed=result.seed, methodology_sha256=inp.sha)
    return frame[list(TABLE_BY_NAME[PRIORITY_SENSITIVITY].columns)].reset_index(drop=True)
