"""The composite-indicator engine: COINr's ASEM example and the engine's edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ideal.scoring.engine import (
    HierarchyError,
    aggregate,
    build_index,
    denominate,
    normalise,
    rank_desc,
    validate_meta,
)

ASEM = Path(__file__).parent / "data" / "asem"

# COINr README / JOSS: Raw -> n_minmax [0, 100] -> a_amean at every level.
ASEM_INDEX = {
    "DEU": 75.2278,
    "GBR": 68.9363,
    "FRA": 65.9181,
    "CHE": 62.6059,
    "NLD": 61.2438,
    "SWE": 60.5932,
    "BRN": 31.7054,
}


@pytest.fixture(scope="module")
def asem() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(ASEM / "ASEM_iData.csv").set_index("uCode")
    meta = pd.read_csv(ASEM / "ASEM_iMeta.csv")
    return data, meta


def tree(rows: list[tuple[str, int, str | None, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["iCode", "Level", "Parent", "Direction", "Weight"])


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


# -- ASEM -----------------------------------------------------------------------------


def test_asem_structure_is_read_from_imeta(asem: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, meta = asem
    h = validate_meta(meta)
    assert len(h.indicators) == 49
    assert h.n_levels == 4
    assert h.roots == ["Index"]
    assert len(h.codes_at(2)) == 8 and h.codes_at(3) == ["Conn", "Sust"]
    # Group and Denominator rows are iData columns, not elements of the tree.
    assert "GDP_group" not in h.table.index and "Population" not in h.table.index


def test_asem_reproduces_coinr(asem: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, meta = asem
    result = build_index(data, meta, normalisation="minmax", aggregation="arithmetic")
    index = result.scores()
    for unit, expected in ASEM_INDEX.items():
        assert index[unit] == pytest.approx(expected, abs=1e-4), unit
    ranks = result.ranks["Index"]
    assert ranks["DEU"] == 1 and ranks["BRN"] == 51
    top6 = list(index.sort_values(ascending=False).index[:6])
    assert top6 == ["DEU", "GBR", "FRA", "CHE", "NLD", "SWE"]
    # The aggregated set holds every element at every level, like COINr's "Aggregated".
    assert result.aggregated.shape == (51, 49 + 8 + 2 + 1)
    normalised = result.normalised
    assert np.nanmin(normalised.to_numpy()) == 0 and np.nanmax(normalised.to_numpy()) == 100


def test_asem_denomination_divides_by_named_column(
    asem: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    data, meta = asem
    out = denominate(data, meta)
    assert out.loc["AUT", "Flights"] == pytest.approx(
        data.loc["AUT", "Flights"] / data.loc["AUT", "Population"]
    )
    assert out.loc["AUT", "Goods"] == pytest.approx(
        data.loc["AUT", "Goods"] / data.loc["AUT", "GDP"]
    )
    assert out.loc["AUT", "LPI"] == data.loc["AUT", "LPI"]  # no denominator: unchanged
    scaled = denominate(data, meta, scale=1000.0)
    assert scaled.loc["AUT", "Flights"] == pytest.approx(1000 * out.loc["AUT", "Flights"])


def test_asem_geometric_needs_positive_inputs(asem: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    data, meta = asem
    with pytest.raises(ValueError, match=r"strictly positive.*Normalise to \[1, 100\]"):
        build_index(data, meta, aggregation="geometric")
    result = build_index(data, meta, aggregation="geometric", lo=1, hi=100)
    assert result.scores().notna().all()
    assert result.scores().between(1, 100).all()


# -- normalisation --------------------------------------------------------------------


def test_minmax_applies_direction_first() -> None:
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 2], "c": [10.0, 20.0, np.nan]})
    out = normalise(data, SMALL)
    assert out["a"].tolist() == [0, 50, 100]
    assert out["c"].iloc[:2].tolist() == [100, 0]  # direction -1: the highest scores 0
    assert np.isnan(out["c"].iloc[2])


def test_constant_column_is_nan_by_default_or_midpoint(caplog: pytest.LogCaptureFixture) -> None:
    data = pd.DataFrame({"a": [5.0, 5.0, np.nan], "b": [0, 1, 2], "c": [1.0, 2.0, 3.0]})
    out = normalise(data, SMALL)
    assert out["a"].isna().all()
    assert "no spread" in caplog.text and "a" in caplog.text
    mid = normalise(data, SMALL, zero_range="midpoint", lo=1, hi=11)
    assert mid["a"].iloc[:2].tolist() == [6, 6] and np.isnan(mid["a"].iloc[2])


def test_zscore_uses_sample_sd() -> None:
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 6.0], "b": [0, 1, 2, 3], "c": [1.0, 1, 1, 2]})
    out = normalise(data, SMALL, method="zscore")
    x = data["a"].to_numpy()
    np.testing.assert_allclose(out["a"], (x - x.mean()) / x.std(ddof=1))
    np.testing.assert_allclose(out["c"], -(data["c"] - 1.25) / data["c"].std(ddof=1))


def test_goalposts_fixed_scale_and_truncation() -> None:
    data = pd.DataFrame({"a": [1.0, 5.5, 10.0, 12.0], "b": [0, 1, 2, 3], "c": [1.0, 10, 4, 0]})
    out = normalise(data, SMALL, method="goalposts", goalposts=(1, 10))
    assert out["a"].tolist() == [0, 50, 100, 100]
    assert out["c"].tolist() == [100, 0, pytest.approx(200 / 3), 100]  # direction -1


def test_unknown_normalisation_method_is_named() -> None:
    data = pd.DataFrame({"a": [1.0], "b": [1.0], "c": [1.0]})
    with pytest.raises(ValueError, match="Unknown normalisation method 'borda'"):
        normalise(data, SMALL, method="borda")  # type: ignore[arg-type]


# -- aggregation ----------------------------------------------------------------------


def test_arithmetic_mean_reweights_over_present_values() -> None:
    norm = pd.DataFrame(
        {"a": [10.0, np.nan, np.nan], "b": [50.0, 50.0, np.nan], "c": [20.0, 40.0, np.nan]},
        index=["u1", "u2", "u3"],
    )
    out = aggregate(norm, SMALL)
    assert out.loc["u1", "P"] == pytest.approx((1 * 10 + 3 * 50) / 4)
    assert out.loc["u2", "P"] == pytest.approx(50.0)  # weight of a dropped, b re-weighted
    assert np.isnan(out.loc["u3", "P"])  # nothing present: missing, not zero
    assert out.loc["u1", "I"] == pytest.approx((40 + 20) / 2)
    assert list(out.columns) == ["a", "b", "c", "P", "Q", "I"]


def test_min_coverage_sets_thin_aggregates_to_nan() -> None:
    norm = pd.DataFrame({"a": [10.0, 10.0], "b": [np.nan, 30.0], "c": [20.0, 40.0]})
    out = aggregate(norm, SMALL, min_coverage={"P": 1.0})
    assert np.isnan(out.loc[0, "P"]) and out.loc[1, "P"] == pytest.approx(25.0)
    assert out.loc[0, "I"] == pytest.approx(20.0)  # I re-weights over Q alone
    one_of_two = aggregate(norm, SMALL, min_coverage=0.5)
    assert one_of_two.loc[0, "P"] == pytest.approx(10.0)


def test_geometric_refuses_zero_naming_indicator_and_unit() -> None:
    norm = pd.DataFrame({"a": [10.0, 0.0], "b": [5.0, 5.0], "c": [1.0, 2.0]}, index=["ARG", "BRA"])
    with pytest.raises(ValueError) as err:
        aggregate(norm, SMALL, method="geometric")
    message = str(err.value)
    assert "a = 0 for unit BRA" in message
    assert "[1, 100]" in message


def test_geometric_weighted_mean() -> None:
    norm = pd.DataFrame({"a": [2.0], "b": [8.0], "c": [4.0]})
    out = aggregate(norm, SMALL, method="geometric")
    assert out.loc[0, "P"] == pytest.approx(np.exp((np.log(2) + 3 * np.log(8)) / 4))
    assert out.loc[0, "I"] == pytest.approx(np.sqrt(out.loc[0, "P"] * 4.0))


# -- ranks ----------------------------------------------------------------------------


def test_rank_desc_ties_take_min_and_nan_stays_missing() -> None:
    ranks = rank_desc(pd.Series([70.0, 90.0, 70.0, np.nan, 10.0], index=list("vwxyz")))
    assert str(ranks.dtype) == "Int64"
    assert ranks.tolist() == [2, 1, 2, pd.NA, 4]
    assert rank_desc(pd.Series([0.1 + 0.2, 0.3]), decimals=9).tolist() == [1, 1]
    assert rank_desc(pd.Series([0.1 + 0.2, 0.3])).tolist() == [1, 2]


# -- hierarchy validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ([("a", 1, "X", 1, 1.0), ("P", 2, None, 1, 1.0)], r"Parent that is not.*a -> X"),
        (
            [("a", 1, "P", 1, 1.0), ("b", 1, None, 1, 1.0), ("P", 2, None, 1, 1.0)],
            r"rows b \(Level 1\) have no Parent",
        ),
        (
            [("a", 1, "P", 1, 1.0), ("P", 2, "Q", 1, 1.0), ("Q", 3, "P", 1, 1.0)],
            r"cycle: P -> Q -> P",
        ),
        ([("a", 1, "a", 1, 1.0)], r"cycle: a -> a"),
        (
            [("a", 1, "I", 1, 1.0), ("P", 2, "I", 1, 1.0), ("I", 3, None, 1, 1.0)],
            r"exactly one Level",
        ),
        ([("a", 1, "P", 1, 1.0), ("a", 1, "P", 1, 1.0), ("P", 2, None, 1, 1.0)], r"repeats.*'a'"),
        ([("a", 1, "P", 0, 1.0), ("P", 2, None, 1, 1.0)], r"Direction other than 1 or -1"),
        ([("a", 1, "P", 1, -1.0), ("P", 2, None, 1, 1.0)], r"negative Weight"),
        (
            [("a", 1, "P", 1, 1.0), ("P", 2, None, 1, 1.0), ("E", 2, None, 1, 1.0)],
            r"aggregates E have no children",
        ),
        ([("a", 0, None, 1, 1.0)], r"Level that is not an integer"),
    ],
)
def test_hierarchy_errors_are_specific(
    rows: list[tuple[str, int, str | None, float, float]], pattern: str
) -> None:
    with pytest.raises(HierarchyError, match=pattern):
        validate_meta(tree(rows))


def test_hierarchy_missing_columns_and_unknown_type() -> None:
    with pytest.raises(HierarchyError, match=r"lacks the column\(s\) \['Weight'\]"):
        validate_meta(SMALL.drop(columns="Weight"))
    typed = SMALL.assign(Type=["Indicator"] * 3 + ["Aggregate", "Aggregate", "Pillar"])
    with pytest.raises(HierarchyError, match=r"unknown Type value\(s\) \['Pillar'\]"):
        validate_meta(typed)
    wrong = SMALL.assign(Type=["Indicator", "Aggregate"] + ["Aggregate"] * 4)
    with pytest.raises(HierarchyError, match=r"indicators must be at Level 1"):
        validate_meta(wrong)


def test_several_roots_are_allowed() -> None:
    h = validate_meta(
        tree(
            [
                ("a", 1, "P", 1, 1.0),
                ("b", 1, "Q", 1, 1.0),
                ("P", 2, None, 1, 1.0),
                ("Q", 2, None, 1, 1.0),
            ]
        )
    )
    assert h.roots == ["P", "Q"]


def test_denominate_rejects_zero_denominator() -> None:
    meta = tree([("a", 1, "P", 1, 1.0), ("P", 2, None, 1, 1.0)]).assign(Denominator=["pop", None])
    data = pd.DataFrame({"a": [1.0, 2.0], "pop": [10.0, 0.0]}, index=["ARG", "BRA"])
    with pytest.raises(ValueError, match=r"positive.*BRA/pop=0"):
        denominate(data, meta)
    missing = pd.DataFrame({"a": [1.0]})
    with pytest.raises(ValueError, match=r"lack the denominator column\(s\) pop"):
        denominate(missing, meta)
