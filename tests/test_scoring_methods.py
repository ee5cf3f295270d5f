"""Imputation, normalisation and aggregation methods against hand-computed values."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ideal.scoring.engine import (
    LevelMethod,
    aggregate,
    copeland_points,
    derive_goalposts,
    effective_weights,
    impute,
    impute_panel,
    normalise,
    skew_kurt,
)

nan = np.nan


def tree(rows: list[tuple[str, int, str | None, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["iCode", "Level", "Parent", "Direction", "Weight"])


# a, b -> P; c -> Q (direction -1); P, Q -> I
SMALL = tree(
    [
        ("a", 1, "P", 1, 1.0),
        ("b", 1, "P", 1, 3.0),
        ("c", 1, "Q", -1, 1.0),
        ("P", 2, "I", 1, 1.0),
        ("Q", 2, "I", 1, 1.0),
        ("I", 3, None, 1, 1.0),
    ]
)
# One pillar of three indicators: the Copeland example.
FLAT = tree(
    [("x", 1, "P", 1, 1.0), ("y", 1, "P", 1, 1.0), ("z", 1, "P", 1, 2.0), ("P", 2, None, 1, 1.0)]
)


# -- imputation -------------------------------------------------------------------------


def test_impute_none_leaves_missing_missing() -> None:
    data = pd.DataFrame({"a": [1.0, nan], "b": [2.0, 3.0], "c": [nan, nan]})
    out = impute(data, SMALL)
    assert out.data["a"].isna().tolist() == [False, True]
    assert out.n_imputed == 0 and out.log.empty


def test_impute_mean_and_median_flag_every_value() -> None:
    data = pd.DataFrame(
        {"a": [1.0, 2.0, 9.0, nan], "b": [nan, 4.0, 4.0, 4.0], "c": [nan] * 4},
        index=["u1", "u2", "u3", "u4"],
    )
    mean = impute(data, SMALL, "mean")
    assert mean.data.loc["u4", "a"] == pytest.approx(4.0)  # (1 + 2 + 9) / 3
    assert mean.data.loc["u1", "b"] == 4.0
    assert mean.data["c"].isna().all()  # nobody has it: nothing to impute from
    median = impute(data, SMALL, "median")
    assert median.data.loc["u4", "a"] == 2.0
    assert median.imputed.loc["u4", "a"] and not median.imputed.loc["u1", "a"]
    assert median.n_imputed == 2
    row = median.log.set_index(["uCode", "iCode"]).loc[("u4", "a")]
    assert (
        row["method"] == "median" and row["value"] == 2.0 and row["source"] == "median of 3 units"
    )


def test_impute_group_mean_and_median() -> None:
    data = pd.DataFrame(
        {
            "a": [1.0, 3.0, nan, 10.0, 20.0, nan, nan],
            "b": [1.0] * 7,
            "c": [1.0] * 7,
            "region": ["N", "N", "N", "S", "S", "S", None],
        },
        index=list("pqrstuv"),
    )
    out = impute(data, SMALL, "group_mean", groups="region")
    assert out.data.loc["r", "a"] == 2.0  # mean of N
    assert out.data.loc["u", "a"] == 15.0  # mean of S
    assert np.isnan(out.data.loc["v", "a"])  # no group: stays missing (COINr skip_f_na)
    assert out.data["region"].tolist() == data["region"].tolist()  # other columns kept
    med = impute(data, SMALL, "group_median", groups=pd.Series({"r": "S", "u": "S", "s": "S"}))
    assert med.data.loc["r", "a"] == 10.0 and med.data.loc["u", "a"] == 10.0
    with pytest.raises(ValueError, match="no group column 'zone'"):
        impute(data, SMALL, "group_mean", groups="zone")


def test_impute_latest_takes_the_newest_earlier_value() -> None:
    now = pd.DataFrame(
        {"a": [nan, nan, 5.0], "b": [1.0, nan, 1.0], "c": [1.0] * 3}, index=list("xyz")
    )
    last = pd.DataFrame({"a": [nan, 7.0], "b": [2.0, nan]}, index=["x", "y"])
    older = pd.DataFrame({"a": [3.0, 1.0], "b": [9.0, 8.0]}, index=["x", "y"])
    out = impute(now, SMALL, "latest", previous={"2024": last, "2023": older})
    assert out.data.loc["x", "a"] == 3.0  # not in 2024: 2023's
    assert out.data.loc["y", "a"] == 7.0  # 2024's, not 2023's
    assert out.data.loc["y", "b"] == 8.0
    assert out.data.loc["x", "b"] == 1.0  # observed values never change
    sources = out.log.set_index(["uCode", "iCode"])["source"]
    assert sources[("x", "a")] == "2023" and sources[("y", "a")] == "2024"


def test_impute_panel_uses_earlier_time_points() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["x", "y", "x", "y", "x", "y"],
            "Time": [2021, 2021, 2022, 2022, 2023, 2023],
            "a": [1.0, 2.0, 3.0, nan, nan, nan],
            "b": [1.0] * 6,
            "c": [1.0] * 6,
        }
    )
    out = impute_panel(panel, SMALL)
    assert out.data.loc["x", "a"] == 3.0 and out.data.loc["y", "a"] == 2.0
    limited = impute_panel(panel, SMALL, max_time=1)
    assert np.isnan(limited.data.loc["y", "a"])  # 2022 is missing too; 2021 is too far
    assert impute_panel(panel, SMALL, time=2022).data.loc["y", "a"] == 2.0


# -- normalisation ----------------------------------------------------------------------


def test_rank_and_percentile_rank_apply_direction_and_ties_min() -> None:
    data = pd.DataFrame(
        {"a": [10.0, 30.0, 20.0, 30.0, nan], "b": [1.0] * 5, "c": [4.0, 1, 2, 3, 5]}
    )
    ranks = normalise(data, SMALL, "rank")
    assert ranks["a"].tolist()[:4] == [1, 3, 2, 3] and np.isnan(ranks["a"].iloc[4])
    assert ranks["c"].tolist() == [2, 5, 4, 3, 1]  # direction -1: the smallest ranks highest
    prank = normalise(data, SMALL, "prank")
    # (rank - 1) / (n - 1) * 100 over the 4 units present
    assert prank["a"].tolist()[:4] == pytest.approx([0, 200 / 3, 100 / 3, 200 / 3])
    assert prank["c"].tolist() == pytest.approx([25, 100, 75, 50, 0])
    assert prank["b"].isna().all()  # no spread: cannot rank (zero_range="nan")


def test_zscore_with_target_mean_and_sd() -> None:
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 6.0], "b": [0.0, 1, 2, 3], "c": [1.0, 1, 1, 2]})
    out = normalise(data, SMALL, "zscore", mean=10, sd=2)
    x = data["a"].to_numpy()
    np.testing.assert_allclose(out["a"], (x - 3) / x.std(ddof=1) * 2 + 10)


def test_goalposts_per_indicator_and_distance_to_target() -> None:
    data = pd.DataFrame({"a": [0.0, 5.0, 12.0], "b": [50.0, 100.0, 150.0], "c": [2.0, 4.0, 6.0]})
    posts = {"a": (0.0, 10.0), "b": (0.0, 200.0), "c": (2.0, 6.0)}
    out = normalise(data, SMALL, "goalposts", goalposts=posts)
    assert out["a"].tolist() == [0, 50, 100]  # 12 truncated to the upper post
    assert out["b"].tolist() == [25, 50, 75]
    assert out["c"].tolist() == [100, 50, 0]  # direction -1 flips the posts
    # dist2targ: (x - min) / (target - min), scaled to [lo, hi]
    d = normalise(data, SMALL, "dist2targ", targets={"a": 10.0, "b": 100.0, "c": 3.0}, cap_max=True)
    assert d["a"].tolist() == [0, 50, 100]  # 12/10 capped at 1
    assert d["b"].tolist() == [0, 100, 100]
    # c, direction -1: x = -c, target -3, min -6: (x + 6) / 3 -> 4/3 (capped), 2/3, 0
    assert d["c"].tolist() == pytest.approx([100, 200 / 3, 0])
    with pytest.raises(ValueError, match=r"No goalposts given for indicator\(s\) c"):
        normalise(data, SMALL, "goalposts", goalposts={"a": (0, 1), "b": (0, 1)})


def test_derive_goalposts_from_a_base_cycle_keeps_later_cycles_comparable() -> None:
    base = pd.DataFrame({"a": [0.0, 10.0], "b": [5.0, 7.0], "c": [1.0, 3.0]})
    posts = derive_goalposts(base, SMALL, margin=0.5)
    assert posts == {"a": (-5.0, 15.0), "b": (4.0, 8.0), "c": (0.0, 4.0)}
    later = pd.DataFrame({"a": [5.0, 20.0], "b": [6.0, 6.0], "c": [2.0, 2.0]})
    # Min-max would give 0 and 100 whatever the level; fixed posts keep the level.
    assert normalise(later, SMALL, "goalposts", goalposts=posts)["a"].tolist() == [50, 100]
    with pytest.raises(ValueError, match="no values or no spread"):
        derive_goalposts(later, SMALL)


def test_skew_kurt_is_bit_identical_to_scipy() -> None:
    rng = np.random.default_rng(5)
    for n in range(3, 30):
        v = rng.lognormal(size=n) * 1000
        assert skew_kurt(v)[0] == float(stats.skew(v, bias=False))
        if n >= 4:
            assert skew_kurt(v)[1] == float(stats.kurtosis(v, bias=False))


# -- aggregation ------------------------------------------------------------------------


def test_harmonic_and_generalised_means_by_hand() -> None:
    norm = pd.DataFrame({"a": [2.0], "b": [8.0], "c": [4.0]})
    h = aggregate(norm, SMALL, "harmonic")
    assert h.loc[0, "P"] == pytest.approx(4 / (1 / 2 + 3 / 8))
    assert h.loc[0, "I"] == pytest.approx(2 / (1 / h.loc[0, "P"] + 1 / 4))
    g = aggregate(norm, SMALL, "generalised", p=2)
    assert g.loc[0, "P"] == pytest.approx(np.sqrt((4 + 3 * 64) / 4))
    # p = 1 is the arithmetic mean; the geometric mean is the limit p -> 0.
    np.testing.assert_allclose(aggregate(norm, SMALL, "generalised", p=1), aggregate(norm, SMALL))
    near = aggregate(norm, SMALL, "generalised", p=1e-9).to_numpy()
    np.testing.assert_allclose(near, aggregate(norm, SMALL, "geometric").to_numpy(), rtol=1e-6)


def test_means_reweight_over_present_values_and_refuse_bad_input() -> None:
    norm = pd.DataFrame({"a": [nan, 2.0], "b": [8.0, 0.0], "c": [4.0, 1.0]}, index=["ARG", "BRA"])
    assert aggregate(norm.iloc[:1], SMALL, "harmonic").loc["ARG", "P"] == 8.0
    with pytest.raises(
        ValueError, match=r"harmonic mean needs strictly positive.*b = 0 for unit BRA"
    ):
        aggregate(norm, SMALL, "harmonic")
    with pytest.raises(ValueError, match=r"generalised\(p=-1\) mean needs strictly positive"):
        aggregate(norm, SMALL, LevelMethod("generalised", -1.0))
    with pytest.raises(ValueError, match="p = 0 is the geometric mean"):
        LevelMethod("generalised", 0.0)
    with pytest.raises(ValueError, match="Unknown aggregation method 'median'"):
        aggregate(norm, SMALL, "median")  # type: ignore[arg-type]


def test_aggregation_can_differ_per_level() -> None:
    norm = pd.DataFrame({"a": [2.0], "b": [8.0], "c": [4.0]})
    out = aggregate(norm, SMALL, {2: "geometric", 3: "arithmetic"})
    p = np.exp((np.log(2) + 3 * np.log(8)) / 4)
    assert out.loc[0, "P"] == pytest.approx(p)
    assert out.loc[0, "I"] == pytest.approx((p + 4) / 2)
    with pytest.raises(ValueError, match=r"level\(s\) \[4\]"):
        aggregate(norm, SMALL, {4: "geometric"})


def outranking_matrix(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """COINr's outrankMatrix written out: sum of weights where i beats j, half where tied."""
    w = w / w.sum()
    n = x.shape[0]
    orm = np.zeros((n, n))
    for i, j in itertools.product(range(n), range(n)):
        if i != j:
            orm[i, j] = w[x[i] > x[j]].sum() + w[x[i] == x[j]].sum() / 2
    return orm


def test_copeland_on_a_small_hand_example() -> None:
    # Four units, three indicators (weights 1, 1, 2).
    norm = pd.DataFrame(
        {"x": [3.0, 1.0, 2.0, 2.0], "y": [1.0, 3.0, 2.0, 0.0], "z": [2.0, 2.0, 5.0, 1.0]},
        index=["A", "B", "C", "D"],
    )
    out = aggregate(norm, FLAT, "copeland")
    # By hand, w = (1/4, 1/4, 1/2). A beats B on x, loses on y, ties on z: 1/4 + 1/4 = 1/2.
    # A vs C: wins x, loses y, loses z: 1/4. A vs D: wins x, y, z: 1. A = 1.75.
    assert out.loc["A", "P"] == pytest.approx(1.75)
    # C beats A, B, D on z (1/2 each); x: beats B, ties D (1/4 + 1/8); y: beats A and D.
    assert out.loc["C", "P"] == pytest.approx(3 * 0.5 + 0.25 + 0.125 + 2 * 0.25)
    orm = outranking_matrix(norm.to_numpy(), np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(out["P"].to_numpy(), orm.sum(axis=1))
    # The scores of n units always add up to n (n - 1) / 2: every pair shares 1 point.
    assert out["P"].sum() == pytest.approx(6.0)


def test_copeland_points_are_wins_plus_half_ties() -> None:
    x = np.array([[1.0], [3.0], [3.0], [nan]])
    np.testing.assert_allclose(copeland_points(x)[:, 0], [0.0, 1.5, 1.5, 0.0])


def test_effective_weights_reproduce_the_arithmetic_index() -> None:
    norm = pd.DataFrame(
        {"a": [10.0, nan, 40.0], "b": [50.0, 20.0, nan], "c": [20.0, 40.0, nan]},
        index=["u1", "u2", "u3"],
    )
    agg = aggregate(norm, SMALL)
    e = effective_weights(agg, SMALL)
    assert e.loc["u1"].tolist() == pytest.approx([1 / 8, 3 / 8, 1 / 2])
    assert e.loc["u3"].tolist() == pytest.approx([1.0, 0.0, 0.0])  # only a is present
    rebuilt = (e * norm.fillna(0)).sum(axis=1)
    np.testing.assert_allclose(rebuilt, agg["I"])
    thin = aggregate(norm, SMALL, min_coverage={"P": 1.0})
    e_thin = effective_weights(thin, SMALL)
    assert e_thin.loc["u2"].tolist() == [0.0, 0.0, 1.0]  # P is NaN: a and b carry nothing
    np.testing.assert_allclose((e_thin * norm.fillna(0)).sum(axis=1), thin["I"].fillna(0))
