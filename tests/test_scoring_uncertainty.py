"""The vectorised Monte Carlo: ranks, draws, reproducibility, and equality with a rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ideal.scoring.engine import rank_desc
from ideal.scoring.methodology import WeightNoise
from ideal.scoring.spec import (
    IndexMethod,
    MethodFileError,
    build_from_spec,
    prepare_idata,
    read_idata,
    read_imeta,
)
from ideal.scoring.uncertainty import (
    IndexProblem,
    WeightSet,
    draw,
    make_choice,
    rank_rows,
)

ASEM = Path(__file__).parent / "data" / "asem"
FAST = settings(max_examples=40, deadline=None)

values = st.integers(min_value=-10_000, max_value=10_000).map(lambda i: i / 100)


@st.composite
def index_case(draw_: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random tree (indicators -> pillars -> root) and complete data over 3-9 units."""
    n_ind = draw_(st.integers(2, 6))
    n_pillars = draw_(st.integers(1, min(3, n_ind)))
    parents = list(range(n_pillars)) + draw_(
        st.lists(
            st.integers(0, n_pillars - 1), min_size=n_ind - n_pillars, max_size=n_ind - n_pillars
        )
    )
    weights = st.floats(min_value=0.1, max_value=10.0)
    rows = [
        (f"i{k}", 1, f"P{p}", draw_(st.sampled_from([1, -1])), draw_(weights))
        for k, p in enumerate(parents)
    ]
    rows += [(f"P{p}", 2, "I", 1, draw_(weights)) for p in range(n_pillars)]
    rows.append(("I", 3, None, 1, 1.0))
    meta = pd.DataFrame(rows, columns=["iCode", "Level", "Parent", "Direction", "Weight"])
    n_units = draw_(st.integers(3, 9))
    data = pd.DataFrame(
        {
            f"i{k}": draw_(st.lists(values, min_size=n_units, max_size=n_units))
            for k in range(n_ind)
        },
        index=[f"u{u}" for u in range(n_units)],
    )
    return data, meta


def method(**uncertainty: Any) -> IndexMethod:
    return IndexMethod.model_validate(
        {
            "normalisation": {"method": "minmax", "lo": 1, "hi": 100, "zero_range": "midpoint"},
            "ranking": {"tie_decimals": 9},
            "uncertainty": {"n": 200, "seed": 7, **uncertainty},
        }
    )


# -- ranks ------------------------------------------------------------------------------


@FAST
@given(
    rows=st.lists(
        st.lists(st.sampled_from([1.0, 2.0, 2.0, 3.5, -1.0, float("nan")]), min_size=5, max_size=5),
        min_size=1,
        max_size=6,
    )
)
def test_rank_rows_matches_rank_desc_row_by_row(rows: list[list[float]]) -> None:
    scores = np.array(rows)
    ranks = rank_rows(scores)
    for r, row in enumerate(scores):
        expected = rank_desc(pd.Series(row)).astype("float64").to_numpy()
        np.testing.assert_array_equal(ranks[r], expected)


@FAST
@given(xs=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30, unique=True))
def test_rank_rows_without_ties_is_a_permutation(xs: list[float]) -> None:
    ranks = rank_rows(np.array([xs]))[0]
    assert sorted(ranks.tolist()) == list(range(1, len(xs) + 1))


# -- properties of the Monte Carlo ------------------------------------------------------


@FAST
@given(case=index_case(), winmax=st.integers(0, 5))
def test_deterministic_inputs_give_degenerate_intervals_at_the_nominal_rank(
    case: tuple[pd.DataFrame, pd.DataFrame], winmax: int
) -> None:
    data, meta = case
    # Every element "uncertain" but with only its nominal value to draw, and zero noise.
    spec = method(
        weights={"method": "uniform", "noise": 0.0},
        normalisation=[{"method": "minmax", "lo": 1, "hi": 100, "zero_range": "midpoint"}],
        aggregation=[{"method": "arithmetic"}],
    )
    assert spec.uncertainty is not None
    result = IndexProblem(data, meta, spec, spec.uncertainty).run(n=50)
    stats = result.stats
    for col in ("mean", "median", "q5", "q95"):
        np.testing.assert_array_equal(stats[col].to_numpy(), stats["nominal"].to_numpy())
    assert ((stats["q5"] <= stats["nominal"]) & (stats["nominal"] <= stats["q95"])).all()
    expected_top = (stats["nominal"] <= 3).astype(float)
    np.testing.assert_array_equal(stats["p_top3"].to_numpy(), expected_top.to_numpy())
    nominal = build_from_spec(data, meta, spec).index.ranks["I"].astype(float)
    np.testing.assert_array_equal(stats["nominal"].to_numpy(), nominal.to_numpy())
    assert result.sensitivity.empty  # nothing was varied


@FAST
@given(case=index_case(), noise=st.floats(0.01, 0.5))
def test_rank_statistics_are_ordered_and_nominal_weights_give_the_nominal_scores(
    case: tuple[pd.DataFrame, pd.DataFrame], noise: float
) -> None:
    data, meta = case
    spec = method(weights={"method": "uniform", "noise": noise})
    assert spec.uncertainty is not None
    problem = IndexProblem(data, meta, spec, spec.uncertainty)
    result = problem.run(n=60)
    s = result.stats
    assert ((s["q5"] <= s["median"]) & (s["median"] <= s["q95"])).all()
    assert ((s["q5"] >= 1) & (s["q95"] <= len(data))).all()
    assert ((s["p_top3"] >= 0) & (s["p_top3"] <= 1)).all()
    built = build_from_spec(data, meta, spec).index.aggregated["I"].to_numpy()
    np.testing.assert_allclose(result.nominal_scores, built, rtol=1e-12, atol=1e-9)
    # Holding the only uncertain element at nominal gives the nominal ranks, so its shift
    # is exactly the mean distance of the replicate ranks from the nominal ones.
    shift = result.sensitivity.set_index("unit")["mean_abs_rank_shift"]
    expected = np.abs(result.ranks - s["nominal"].to_numpy()).mean(axis=0)
    np.testing.assert_allclose(shift.reindex(result.units).to_numpy(), expected)


def test_same_seed_same_results_and_another_seed_differs() -> None:
    data = prepare_idata(read_idata(ASEM / "ASEM_iData.csv")).current
    meta = read_imeta(ASEM / "ASEM_iMeta.csv")
    spec = method(
        weights={"method": "dirichlet", "concentration": 20},
        winmax=[1, 3],
        normalisation=[
            {"method": "minmax", "lo": 1, "hi": 100},
            {"method": "prank", "lo": 1, "hi": 100},
        ],
        aggregation=[{"method": "arithmetic"}, {"method": "geometric"}],
    )
    assert spec.uncertainty is not None
    first = IndexProblem(data, meta, spec, spec.uncertainty).run(n=300, sensitivity=False)
    again = IndexProblem(data, meta, spec, spec.uncertainty).run(n=300, sensitivity=False)
    other = IndexProblem(data, meta, spec, spec.uncertainty).run(n=300, seed=8, sensitivity=False)
    np.testing.assert_array_equal(first.ranks, again.ranks)
    pd.testing.assert_frame_equal(first.stats, again.stats)
    assert not np.array_equal(first.ranks, other.ranks)


# -- the vectorised path equals a rebuild per replicate ---------------------------------

NASTY = pd.DataFrame(
    {
        "a": [3.0, 9.0, np.nan, 4.0, 7.0, 1.0],
        "b": [10.0, 20.0, 30.0, np.nan, 25.0, 12.0],
        "c": [5.0, 1.0, 2.0, 8.0, np.nan, 3.0],
        "d": [100.0, 2.0, 3.0, 1.0, 2.5, 1.5],
        "e": [0.5, 0.7, 0.2, 0.9, 0.1, np.nan],
        "grp": ["x", "x", "x", "y", "y", "y"],
    },
    index=["u0", "u1", "u2", "u3", "u4", "u5"],
)
NASTY_META = pd.DataFrame(
    [
        ("a", 1, "P", 1, 1.0),
        ("b", 1, "P", -1, 2.0),
        ("c", 1, "Q", 1, 1.0),
        ("d", 1, "Q", 1, 1.0),
        ("e", 1, "R", -1, 1.0),
        ("P", 2, "S", 1, 1.0),
        ("Q", 2, "S", 1, 2.0),
        ("R", 2, "T", 1, 1.0),
        ("S", 3, "I", 1, 1.0),
        ("T", 3, "I", 1, 1.0),
        ("I", 4, None, 1, 1.0),
    ],
    columns=["iCode", "Level", "Parent", "Direction", "Weight"],
)


def test_vectorised_scores_equal_a_full_rebuild_for_every_replicate() -> None:
    spec = IndexMethod.model_validate(
        {
            "treatment": {"method": "coinr_default", "winmax": 2},
            "normalisation": {"method": "minmax", "lo": 1, "hi": 100},
            "aggregation": {"method": "arithmetic", "min_coverage": {"S": 1.0}},
            "uncertainty": {
                "n": 40,
                "seed": 3,
                "weights": {"method": "uniform", "noise": 0.3},
                "imputation": [{"method": "none"}, {"method": "group_median", "group": "grp"}],
                "winmax": [1, 2, 4],
                "normalisation": [
                    {"method": "minmax", "lo": 1, "hi": 100},
                    {"method": "prank", "lo": 1, "hi": 100},
                    {"method": "zscore", "mean": 50, "sd": 10},
                ],
                "aggregation": [
                    {"method": "arithmetic"},
                    {"method": "geometric", "min_coverage": 0.5},
                    {"method": "harmonic"},
                    {"method": "generalised", "p": 3, "levels": {4: {"method": "copeland"}}},
                    {"method": "copeland"},
                ],
            },
        }
    )
    unc = spec.uncertainty
    assert unc is not None
    problem = IndexProblem(NASTY, NASTY_META, spec, unc)
    draws = draw(unc.n, unc.seed, problem.choices, problem.sets, unc.weights)
    fast = problem.evaluate(draws)
    h = problem.h
    for r in range(unc.n):
        options = [c.options[int(draws.choice[c.name][r])] for c in problem.choices]
        spec_r = spec.model_copy(
            update=dict(
                zip(
                    ("imputation", "treatment", "normalisation", "aggregation"),
                    options,
                    strict=True,
                )
            )
        )
        meta_r = NASTY_META.set_index("iCode")
        for i, w in enumerate(draws.weights):
            meta_r.loc[h.codes_at(i + 1), "Weight"] = w[r]
        slow = build_from_spec(NASTY, meta_r.reset_index(), spec_r).index.aggregated["I"]
        np.testing.assert_allclose(fast[r], slow.to_numpy(), rtol=1e-10, atol=1e-10, err_msg=str(r))


def test_geometric_alternative_on_zeros_is_a_clear_error() -> None:
    spec = method(aggregation=[{"method": "geometric"}])
    spec = spec.model_copy(
        update={"normalisation": spec.normalisation.model_copy(update={"lo": 0.0})}
    )
    assert spec.uncertainty is not None
    with pytest.raises(MethodFileError, match=r"aggregation 'geometric'.*strictly positive"):
        IndexProblem(NASTY, NASTY_META, spec, spec.uncertainty).run(n=5)


# -- the replicate design ---------------------------------------------------------------


def test_choices_map_alternatives_to_options_with_nominal_first() -> None:
    c = make_choice("winmax", 5, [1, 5, 3, 1])
    assert c.options == (5, 1, 3) and c.draw_from == (1, 0, 2, 1) and c.active
    assert not make_choice("winmax", 5, [5]).active
    assert not make_choice("winmax", 5, []).active


def test_uniform_noise_stays_within_bounds_and_dirichlet_keeps_totals() -> None:
    s = WeightSet("w", np.array([1.0, 3.0, 2.0, 0.0]), np.array([0, 0, 1, 1]))
    uni = draw(5000, 1, [], [s], WeightNoise(method="uniform", noise=0.25)).weights[0]
    ratio = uni[:, :3] / s.nominal[:3]
    assert ratio.min() >= 0.75 and ratio.max() <= 1.25
    assert abs(ratio.mean() - 1) < 0.01
    assert (uni[:, 3] == 0).all()
    dirichlet = draw(5000, 1, [], [s], WeightNoise(method="dirichlet", concentration=50)).weights[0]
    np.testing.assert_allclose(dirichlet[:, 0] + dirichlet[:, 1], 4.0)  # parent totals kept
    np.testing.assert_allclose(dirichlet[:, 2], 2.0)  # the only non-zero child of its parent
    assert abs(dirichlet[:, 0].mean() - 1.0) < 0.02  # mean share = nominal share 1/4
    assert (dirichlet[:, 3] == 0).all()
