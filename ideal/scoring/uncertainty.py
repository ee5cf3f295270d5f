"""Monte Carlo uncertainty and sensitivity analysis of ranks, vectorised across replicates.

What belongs here: the replicate design (which alternative each replicate uses, and its
perturbed weights), the batched aggregation of many replicates at once, ranks per
replicate, rank statistics, the one-at-a-time sensitivity, and the problem of a general
index described by a method file (:class:`IndexProblem`). The CLASI threat scoring builds
its own problem on the same pieces (``ideal.scoring.threat_uncertainty``).

Design (Saisana, Saltelli & Tarantola 2005; COINr ``get_sensitivity``), without a full
rebuild per replicate:

1. The discrete choices (imputation, outlier treatment, normalisation) only change the
   normalised indicator matrix. Each combination that is drawn is computed once with the
   engine's own functions and cached: an (units x indicators) matrix per combination.
2. A replicate is then (combination, aggregation alternative, weight vectors). Replicates
   sharing a combination and an aggregation alternative are aggregated together. At the
   first level the children are fixed, so each parent is one matrix product
   ``W[:, children] (R x k_p) @ f(X)[:, children].T (k_p x units)`` of the replicates'
   weights with the transformed values (``f(x)`` for a mean, pairwise wins for
   Copeland), and the same with the presence mask for the re-weighting. Higher levels
   are batched products over arrays (replicates x units x children).
3. Ranks of all replicates come from one ``argsort`` along the unit axis.

Sensitivity: the same replicates are re-evaluated with one element held at its nominal
value; the mean absolute rank shift per unit is that element's effect.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata

from ideal.scoring.engine import (
    FloatArray,
    Hierarchy,
    LevelMethod,
    check_domain,
    copeland_points,
    denominate,
    domain_error,
    mean_transform,
    validate_meta,
)
from ideal.scoring.methodology import WeightNoise
from ideal.scoring.spec import (
    AggregationSpec,
    IndexMethod,
    MethodFileError,
    NormalisationSpec,
    UncertaintySpec,
    check_data,
    coverage_thresholds,
    denominated_previous,
    impute_spec,
    normalise_spec,
    treat_spec,
)

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.intp]
# The uncertain elements, in the order they are drawn.
ELEMENTS: tuple[str, ...] = ("imputation", "winmax", "normalisation", "aggregation", "weights")
_COVERAGE_TOL = 1e-9
# Replicates aggregated in one go; bounds memory at (chunk x units x children) floats.
_CHUNK = 4096


# --------------------------------------------------------------------------------------
# The replicate design
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A discrete uncertain element.

    ``options[0]`` is the nominal setting; ``draw_from`` lists, for each alternative the
    user gave, its index in ``options`` (duplicates of the nominal map to 0), and
    replicates pick one of them uniformly (COINr's discrete distributions).
    """

    name: str
    options: tuple[object, ...]
    draw_from: tuple[int, ...]

    @property
    def active(self) -> bool:
        return bool(self.draw_from) and set(self.draw_from) != {0}


def make_choice(name: str, nominal: object, alternatives: Sequence[object]) -> Choice:
    options: list[object] = [nominal]
    picks: list[int] = []
    for alt in alternatives:
        if alt in options:
            picks.append(options.index(alt))
        else:
            options.append(alt)
            picks.append(len(options) - 1)
    return Choice(name, tuple(options), tuple(picks))


@dataclass(frozen=True)
class WeightSet:
    """One vector of nominal weights that replicates perturb, e.g. the indicators' weights
    within their pillars. ``group`` gives each weight's parent (Dirichlet draws shares
    within a parent); ``perturb`` is False for sets held fixed."""

    name: str
    nominal: FloatArray
    group: IntArray
    perturb: bool = True


@dataclass(frozen=True)
class Draws:
    """The sampled inputs of ``n`` replicates: an option index per discrete element and
    an (n x k) weight matrix per weight set."""

    n: int
    choice: Mapping[str, IntArray]
    weights: tuple[FloatArray, ...]

    def at_nominal(self, element: str, sets: Sequence[WeightSet]) -> Draws:
        """The same replicates with ``element`` held at its nominal value."""
        if element == "weights":
            nominal = tuple(np.broadcast_to(s.nominal, (self.n, s.nominal.size)) for s in sets)
            return replace(self, weights=nominal)
        choice = dict(self.choice)
        choice[element] = np.zeros(self.n, dtype=np.intp)
        return replace(self, choice=choice)


def nominal_draws(choices: Sequence[Choice], sets: Sequence[WeightSet]) -> Draws:
    return Draws(
        n=1,
        choice={c.name: np.zeros(1, dtype=np.intp) for c in choices},
        weights=tuple(s.nominal[None, :].copy() for s in sets),
    )


def draw(
    n: int,
    seed: int,
    choices: Sequence[Choice],
    sets: Sequence[WeightSet],
    noise: WeightNoise | None,
) -> Draws:
    """Sample ``n`` replicates reproducibly: same seed and inputs, same draws.

    Discrete elements first (in the order given), then the weight sets in order. Uniform
    noise: ``w (1 + noise U(-1, 1))`` per weight (COINr ``get_noisy_weights``); Dirichlet:
    the shares within each parent ~ ``Dirichlet(concentration x nominal shares)``, scaled
    back to the parent's nominal total.
    """
    rng = np.random.default_rng(seed)
    picked: dict[str, IntArray] = {}
    for c in choices:
        if c.draw_from:
            options = np.asarray(c.draw_from, dtype=np.intp)
            picked[c.name] = options[rng.integers(0, options.size, size=n)]
        else:
            picked[c.name] = np.zeros(n, dtype=np.intp)
    weights: list[FloatArray] = []
    for s in sets:
        if noise is None or not s.perturb:
            weights.append(np.broadcast_to(s.nominal, (n, s.nominal.size)))
        elif noise.method == "uniform":
            u = rng.uniform(-1.0, 1.0, size=(n, s.nominal.size))
            weights.append(s.nominal * (1.0 + noise.noise * u))
        else:
            weights.append(_dirichlet(rng, s, n, noise.concentration))
    return Draws(n=n, choice=picked, weights=tuple(weights))


def _dirichlet(rng: np.random.Generator, s: WeightSet, n: int, concentration: float) -> FloatArray:
    n_groups = int(s.group.max()) + 1 if s.group.size else 0
    total = np.bincount(s.group, weights=s.nominal, minlength=n_groups)
    share = np.divide(
        s.nominal, total[s.group], out=np.zeros_like(s.nominal), where=total[s.group] > 0
    )
    g = rng.gamma(np.maximum(concentration * share, 0.0), size=(n, s.nominal.size))
    g = np.where(share > 0, g, 0.0)
    sums = np.zeros((n, n_groups))
    np.add.at(sums.T, s.group, g.T)
    denom = sums[:, s.group]
    return np.asarray(
        np.divide(g, denom, out=np.zeros_like(g), where=denom > 0) * total[s.group], np.float64
    )


# --------------------------------------------------------------------------------------
# Batched aggregation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledLevel:
    """One aggregation level: ``structure[k, p] = 1`` where child k belongs to parent p."""

    level: int
    children: tuple[str, ...]
    parents: tuple[str, ...]
    structure: FloatArray


def compile_levels(h: Hierarchy) -> tuple[CompiledLevel, ...]:
    return tuple(
        CompiledLevel(
            level=lv,
            children=tuple(h.codes_at(lv - 1)),
            parents=tuple(h.codes_at(lv)),
            structure=h.structure_matrix(lv),
        )
        for lv in range(2, h.n_levels + 1)
    )


def weight_sets(h: Hierarchy, levels: Sequence[int] | None = None) -> tuple[WeightSet, ...]:
    """The children's weights of every aggregation level, as perturbable sets.

    ``levels`` are iMeta levels whose elements' weights are perturbed (COINr's
    ``noise_specs$Level``); None perturbs them all.
    """
    sets = []
    for lv in range(2, h.n_levels + 1):
        _, _, w = h.weight_matrix(lv)
        group = np.argmax(h.structure_matrix(lv), axis=1).astype(np.intp)
        perturb = levels is None or (lv - 1) in levels
        sets.append(WeightSet(f"level {lv - 1}", w.sum(axis=1), group, perturb))
    return tuple(sets)


@dataclass(frozen=True)
class Scheme:
    """One aggregation alternative: a method per level and minimum coverage per parent.

    ``rescale=(a, b)`` maps every value to ``a + b x`` before aggregating and back after
    (the threat scoring uses (1, 0.99): [0, 100] -> [1, 100], so geometric and harmonic
    means are defined on min-max scores; it changes nothing for arithmetic means).
    """

    methods: tuple[LevelMethod, ...]
    coverage: tuple[FloatArray, ...]
    rescale: tuple[float, float] | None = None
    label: str = ""


@dataclass(frozen=True)
class _FirstLevel:
    """One first-level matrix prepared for the products with the replicates' weights:
    per parent, its children's columns and their transformed values (children x units)."""

    columns: tuple[IntArray, ...]
    values: tuple[FloatArray, ...]  # f(x) (or Copeland points), 0 where missing
    present: tuple[FloatArray | None, ...]  # 1/0 per child and unit; None: all present
    has: npt.NDArray[np.bool_]  # (units x parents): at least one child present
    n_present: FloatArray  # (units x parents)


class FirstLevelCache:
    """First-level matrices per (combination, method): reused by every group of replicates
    and by the sensitivity re-runs."""

    def __init__(self) -> None:
        self._store: dict[tuple[object, str], _FirstLevel] = {}

    def get(
        self, key: object, x: FloatArray, method: LevelMethod, level: CompiledLevel
    ) -> _FirstLevel:
        slot = (key, method.label)
        hit = self._store.get(slot)
        if hit is None:
            present = ~np.isnan(x)
            if method.method == "copeland":
                values = copeland_points(x)
            else:
                forward, _ = mean_transform(method)
                with np.errstate(divide="ignore", invalid="ignore"):
                    values = np.where(present, forward(np.where(present, x, 1.0)), 0.0)
            columns = tuple(
                np.flatnonzero(level.structure[:, j]).astype(np.intp)
                for j in range(level.structure.shape[1])
            )
            n_present = present.astype(np.float64) @ level.structure
            hit = _FirstLevel(
                columns=columns,
                values=tuple(np.ascontiguousarray(values[:, c].T) for c in columns),
                present=tuple(
                    None
                    if present[:, c].all()
                    else np.ascontiguousarray(present[:, c].T, np.float64)
                    for c in columns
                ),
                has=n_present > 0,
                n_present=n_present,
            )
            self._store[slot] = hit
        return hit


def _first_level(
    prepared: _FirstLevel, w: FloatArray, method: LevelMethod, n: int
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Numerator and denominator (R x units x parents) of the first level's means: one
    (R x k_j) @ (k_j x units) product per parent, so no multiplication by zeros."""
    r = w.shape[0]
    p = len(prepared.columns)
    num = np.empty((r, n, p))
    den = np.empty((r, n, p))
    for j, cols in enumerate(prepared.columns):
        wj = w[:, cols]
        num[:, :, j] = wj @ prepared.values[j]
        present = prepared.present[j]
        if method.method == "copeland" or present is None:
            # Copeland scales by all children's weights; complete data by the same sum.
            den[:, :, j] = wj.sum(axis=1)[:, None]
        else:
            den[:, :, j] = wj @ present
    return num, den, np.broadcast_to(prepared.has, (r, n, p))


def aggregate_replicates(
    x: FloatArray,
    levels: Sequence[CompiledLevel],
    scheme: Scheme,
    weights: Sequence[FloatArray],
    *,
    units: Sequence[object],
    cache: FirstLevelCache | None = None,
    cache_key: object = None,
) -> list[FloatArray]:
    """Aggregate one normalised matrix ``x`` (units x indicators) for R replicates.

    ``weights[i]`` is the (R x children) weight matrix of ``levels[i]``. Returns one array
    (R x units x parents) per level, on the children's scale (``rescale`` undone).
    Missing values are dropped and weights re-normalised over the children present;
    a mean that cannot use a value raises ValueError naming it.
    """
    if scheme.rescale is not None:
        a, b = scheme.rescale
        x = a + b * x
    n = x.shape[0]
    out: list[FloatArray] = []
    current: FloatArray | None = None  # (R, n, k) once past the first level
    for i, level in enumerate(levels):
        method = scheme.methods[i]
        w = np.asarray(weights[i], dtype=np.float64)
        s = level.structure
        if current is None:
            check_domain(x, method, level.children, units)
            # The key names the data; the rescaling is part of it (x above is mapped).
            key = (cache_key, scheme.rescale)
            prepared = (cache or FirstLevelCache()).get(key, x, method, level)
            num, den, has = _first_level(prepared, w, method, n)
            n_present: FloatArray = prepared.n_present
        else:
            num, den, has, n_present = _upper_level(current, w, method, level, units)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = num / den
            if method.method == "copeland":
                value = ratio
            else:
                _, inverse = mean_transform(method)
                value = inverse(ratio)
        value = np.where(has, value, np.nan)
        need = scheme.coverage[i]
        if need.any():
            coverage = n_present / s.sum(axis=0)
            value = np.where(coverage + _COVERAGE_TOL >= need, value, np.nan)
        current = np.asarray(value, dtype=np.float64)
        out.append(current)
    if scheme.rescale is not None:
        a, b = scheme.rescale
        out = [(v - a) / b for v in out]
    return out


def _upper_level(
    current: FloatArray,
    w: FloatArray,
    method: LevelMethod,
    level: CompiledLevel,
    units: Sequence[object],
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_], FloatArray]:
    """Numerator, denominator, "any child present" and children present, for a level whose
    children differ per replicate (R x units x children)."""
    s = level.structure
    _check_batch(current, method, level, units)
    missing = np.isnan(current)
    complete = not missing.any()
    if method.method == "copeland":
        points = rankdata(current, axis=1, nan_policy="omit") - 1.0
        if not complete:
            points = np.where(missing, 0.0, points)
        num = (points * w[:, None, :]) @ s
        den = (w @ s)[:, None, :]
    else:
        forward, _ = mean_transform(method)
        if complete:
            num = (forward(current) * w[:, None, :]) @ s
            den = (w @ s)[:, None, :]
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                fx = np.where(missing, 0.0, forward(np.where(missing, 1.0, current)))
            num = (fx * w[:, None, :]) @ s
            den = ((~missing) * w[:, None, :]) @ s
    if complete:
        n_present = np.broadcast_to(s.sum(axis=0), num.shape)
        has = np.ones(num.shape, dtype=bool)
    else:
        n_present = (~missing).astype(np.float64) @ s
        has = n_present > 0
    if method.method != "copeland":
        has = has & (den > 0)
    return num, np.broadcast_to(den, num.shape), has, n_present


def _check_batch(
    values: FloatArray, method: LevelMethod, level: CompiledLevel, units: Sequence[object]
) -> None:
    rule = domain_error(method)
    if rule is None:
        return
    test, need = rule
    present = ~np.isnan(values)
    bad = present & test(np.where(present, values, 1.0))
    if bad.any():
        _, u, k = np.argwhere(bad)[0]
        raise ValueError(
            f"The {method.label} mean needs {need}, but in some replicates "
            f"{level.children[k]} = {values[bad][0]:g} for unit {units[u]}."
        )


# --------------------------------------------------------------------------------------
# Ranks and statistics
# --------------------------------------------------------------------------------------


def rank_rows(scores: FloatArray, decimals: int | None = None) -> FloatArray:
    """Descending ranks within each row (1 = highest); ties share the lowest rank ("min",
    as ``rank_desc``); NaN scores get NaN ranks. One argsort for all replicates."""
    s = np.round(scores, decimals) if decimals is not None else scores
    missing = np.isnan(s)
    key = np.where(missing, np.inf, -s)
    order = np.argsort(key, axis=1, kind="stable")
    ordered = np.take_along_axis(key, order, axis=1)
    pos = np.broadcast_to(np.arange(s.shape[1]), s.shape)
    new_run = np.ones(s.shape, dtype=bool)
    new_run[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(new_run, pos, 0), axis=1)
    ranks = np.empty(s.shape, dtype=np.float64)
    np.put_along_axis(ranks, order, first + 1.0, axis=1)
    ranks[missing] = np.nan
    return ranks


def rank_statistics(
    ranks: FloatArray, nominal: FloatArray, units: Sequence[str], top: int = 3
) -> pd.DataFrame:
    """Per unit: nominal rank, mean, median, 5th and 95th percentile rank (R's default
    quantile type 7, as COINr), and ``p_top3``, the share of replicates ranked 3 or better
    (``top`` changes the 3, not the column name)."""
    with np.errstate(invalid="ignore"), _quiet():
        frame = pd.DataFrame(
            {
                "nominal": nominal,
                "mean": np.nanmean(ranks, axis=0),
                "median": np.nanmedian(ranks, axis=0),
                "q5": np.nanquantile(ranks, 0.05, axis=0),
                "q95": np.nanquantile(ranks, 0.95, axis=0),
                "p_top3": np.nanmean(np.where(np.isnan(ranks), np.nan, ranks <= top), axis=0),
            },
            index=pd.Index(list(units), name="unit"),
        )
    return frame


def _quiet() -> warnings.catch_warnings[None]:
    """Silence numpy's all-NaN warnings (a unit never ranked gets NaN statistics)."""
    return warnings.catch_warnings(action="ignore", category=RuntimeWarning)


@dataclass(frozen=True)
class MonteCarloResult:
    """Ranks of every replicate and their summaries.

    ``stats``: one row per unit (``nominal, mean, median, q5, q95, p_top3``);
    ``sensitivity``: one row per unit and uncertain element held at nominal
    (``unit, element, mean_abs_rank_shift, n_used``); ``ranks``: (replicates x units).
    """

    units: list[str]
    nominal_scores: FloatArray
    ranks: FloatArray
    stats: pd.DataFrame
    sensitivity: pd.DataFrame
    n: int
    seed: int
    elements: list[str]
    seconds: float = 0.0


def monte_carlo(
    evaluate: Callable[[Draws, bool], FloatArray],
    units: Sequence[str],
    choices: Sequence[Choice],
    sets: Sequence[WeightSet],
    noise: WeightNoise | None,
    *,
    n: int,
    seed: int,
    decimals: int | None = None,
    top: int = 3,
    sensitivity: bool = True,
) -> MonteCarloResult:
    """Draw ``n`` replicates, score them with ``evaluate`` (Draws, strict -> scores R x
    units), rank, summarise, and (``sensitivity``) re-run with each active element at
    nominal.

    The main run is strict: a replicate a mean cannot compute is an error naming the
    alternatives. Holding an element at nominal can pair it with alternatives it was never
    meant to meet (e.g. min-max [0, 100] with a geometric mean); those replicates are left
    out of that element's shift (``evaluate(..., strict=False)`` returns NaN rows, as
    COINr's regeneration returns NA) and counted in the ``n_used`` column.
    """
    start = time.perf_counter()
    nominal = evaluate(nominal_draws(choices, sets), True)
    nominal_ranks = rank_rows(nominal, decimals)[0]
    draws = draw(n, seed, choices, sets, noise)
    ranks = rank_rows(evaluate(draws, True), decimals)
    stats = rank_statistics(ranks, nominal_ranks, units, top)
    active = [c.name for c in choices if c.active]
    if (
        noise is not None
        and any(s.perturb for s in sets)
        and (noise.method == "dirichlet" or noise.noise > 0)
    ):
        active.append("weights")
    rows = []
    if sensitivity:
        for element in active:
            held_scores = evaluate(draws.at_nominal(element, sets), False)
            used = int((~np.isnan(held_scores).all(axis=1)).sum())
            if used < n:
                logger.info(
                    "Sensitivity to %s: %d of %d replicates cannot be computed with %s at "
                    "its nominal setting and are left out of its shift.",
                    element,
                    n - used,
                    n,
                    element,
                )
            held = rank_rows(held_scores, decimals)
            with _quiet():
                shift = np.nanmean(np.abs(ranks - held), axis=0)
            rows += [
                {"unit": u, "element": element, "mean_abs_rank_shift": float(v), "n_used": used}
                for u, v in zip(units, shift, strict=True)
            ]
    sens = pd.DataFrame(rows, columns=["unit", "element", "mean_abs_rank_shift", "n_used"])
    return MonteCarloResult(
        units=list(units),
        nominal_scores=nominal[0],
        ranks=ranks,
        stats=stats,
        sensitivity=sens,
        n=n,
        seed=seed,
        elements=active,
        seconds=time.perf_counter() - start,
    )


def group_rows(keys: Sequence[IntArray]) -> list[tuple[tuple[int, ...], IntArray]]:
    """Replicate indices grouped by their combination of option indices, in chunks."""
    stacked = np.stack(keys, axis=1) if keys else np.zeros((0, 0), dtype=np.intp)
    combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(combos) + 1))
    out = []
    for g, combo in enumerate(combos):
        rows = order[bounds[g] : bounds[g + 1]]
        for start in range(0, rows.size, _CHUNK):
            out.append((tuple(int(v) for v in combo), rows[start : start + _CHUNK]))
    return out


# --------------------------------------------------------------------------------------
# A general index described by a method file
# --------------------------------------------------------------------------------------


class IndexProblem:
    """The Monte Carlo of an index built by ``spec.build_from_spec``.

    The discrete elements are imputation, winmax (each alternative is the nominal
    treatment with that ``winmax``, and COINr's default treatment switched on),
    normalisation and aggregation; weights are perturbed per ``uncertainty.weights``.
    ``evaluate`` scores the target aggregate (the single root by default) for any batch
    of replicates.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        meta: pd.DataFrame,
        spec: IndexMethod,
        unc: UncertaintySpec,
        previous: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        self.h = validate_meta(meta)
        check_data(data, self.h, spec)
        self.meta = meta
        self.spec = spec
        self.unc = unc
        self.previous = denominated_previous(previous, self.h, spec)
        self.units = [str(u) for u in data.index]
        self.data = (
            denominate(data, self.h, scale=spec.denominator_scale) if spec.denominate else data
        )
        treatments = [
            spec.treatment.model_copy(update={"method": "coinr_default", "winmax": w})
            for w in unc.winmax
        ]
        self.choices = (
            make_choice("imputation", spec.imputation, unc.imputation),
            make_choice("winmax", spec.treatment, treatments),
            make_choice("normalisation", spec.normalisation, unc.normalisation),
            make_choice("aggregation", spec.aggregation, unc.aggregation),
        )
        self.levels = compile_levels(self.h)
        noise = unc.weights
        self.sets = weight_sets(self.h, noise.levels if noise is not None else None)
        self.schemes = tuple(self._scheme(a) for a in self.choices[3].options)
        self.target_level, self.target_col = self._target(unc.target)
        self._matrices: dict[tuple[int, int, int], FloatArray] = {}
        self._treated: dict[tuple[int, int], pd.DataFrame] = {}
        self._cache = FirstLevelCache()

    def _target(self, target: str | None) -> tuple[int, int]:
        if target is None:
            roots = self.h.roots
            if len(roots) != 1:
                raise MethodFileError(
                    f"The index has several roots {roots}; set uncertainty.target to one."
                )
            target = roots[0]
        if target not in self.h.aggregates:
            raise MethodFileError(
                f"uncertainty.target {target!r} is not an aggregate of iMeta "
                f"(aggregates: {self.h.aggregates[:8]}...)."
            )
        level = next(lv for lv in range(2, self.h.n_levels + 1) if target in self.h.codes_at(lv))
        return level - 2, self.h.codes_at(level).index(target)

    def _scheme(self, agg: object) -> Scheme:
        assert isinstance(agg, AggregationSpec)
        methods = agg.methods(self.h)
        coverage = coverage_thresholds(agg, self.h)
        needs = []
        for level in self.levels:
            if isinstance(coverage, dict):
                need = [coverage.get(p, 0.0) for p in level.parents]
            else:
                need = [coverage or 0.0] * len(level.parents)
            needs.append(np.asarray(need, dtype=np.float64))
        return Scheme(
            methods=tuple(methods[lv.level] for lv in self.levels),
            coverage=tuple(needs),
            label=agg.label(),
        )

    def normalised(self, imp: int, tre: int, nor: int) -> FloatArray:
        """The normalised matrix of one combination (computed once, then cached; the
        imputed and treated data are shared by the normalisation alternatives)."""
        key = (imp, tre, nor)
        hit = self._matrices.get(key)
        if hit is None:
            treated = self._treated.get((imp, tre))
            if treated is None:
                imp_spec = self.choices[0].options[imp]
                tre_spec = self.choices[1].options[tre]
                imputed = impute_spec(self.data, self.h, imp_spec, self.previous)  # type: ignore[arg-type]
                treated = treat_spec(imputed.data, self.h, tre_spec).data  # type: ignore[arg-type]
                self._treated[(imp, tre)] = treated
            nor_spec = self.choices[2].options[nor]
            assert isinstance(nor_spec, NormalisationSpec)
            frame = normalise_spec(treated, self.h, nor_spec, raw_meta=self.meta)
            hit = frame.to_numpy(dtype=np.float64)
            self._matrices[key] = hit
        return hit

    def evaluate(self, draws: Draws, strict: bool = True) -> FloatArray:
        """Scores of the target for every replicate (R x units); with ``strict=False``
        replicates a mean cannot compute are NaN instead of an error."""
        out = np.full((draws.n, len(self.units)), np.nan)
        keys = [draws.choice[c.name] for c in self.choices]
        for (imp, tre, nor, agg), rows in group_rows(keys):
            x = self.normalised(imp, tre, nor)
            scheme = self.schemes[agg]
            weights = [w[rows] for w in draws.weights]
            try:
                levels = aggregate_replicates(
                    x,
                    self.levels[: self.target_level + 1],
                    scheme,
                    weights,
                    units=self.units,
                    cache=self._cache,
                    cache_key=(imp, tre, nor),
                )
            except ValueError as exc:
                if not strict:
                    continue
                raise MethodFileError(
                    f"Monte Carlo: aggregation {scheme.label!r} with normalisation "
                    f"{_describe(self.choices[2].options[nor])!r}: {exc}"
                ) from None
            out[rows] = levels[self.target_level][:, :, self.target_col]
        return out

    def run(
        self, *, n: int | None = None, seed: int | None = None, sensitivity: bool = True
    ) -> MonteCarloResult:
        unc = self.unc
        return monte_carlo(
            self.evaluate,
            self.units,
            self.choices,
            self.sets,
            unc.weights,
            n=unc.n if n is None else n,
            seed=unc.seed if seed is None else seed,
            decimals=self.spec.ranking.tie_decimals,
            sensitivity=sensitivity,
        )


def _describe(option: object) -> str:
    method = getattr(option, "method", option)
    return str(method)
