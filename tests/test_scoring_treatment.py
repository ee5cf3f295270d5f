"""Outlier treatment (COINr's default ``Treat()``), checked on hand-built columns.

Each expected result is written out by hand from the rule: pass if |skew| < 2 OR
kurtosis < 3.5 (type-2 estimators); else winsorise one step at a time (ties together) up
to winmax points; else log(x - min + 0.01 (max - min)) of the original values. The
type-2 formulas are re-implemented here from COINr's R code (``skew()``/``kurt()``) so
that the engine's scipy-based estimators are checked independently.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ideal.catalogue import Catalogue
from ideal.config import METHODOLOGY_DIR
from ideal.scoring.engine import TREATMENT_LOG_COLUMNS, skew_kurt, treat
from ideal.scoring.methodology import Methodology, load_methodology
from ideal.scoring.threat import score_cycle

NAN = float("nan")


def type2(x: list[float] | np.ndarray) -> tuple[float, float]:
    """COINr's skew() and kurt() (e1071 type 2), transcribed from R."""
    v = np.asarray(x, dtype=float)
    n = v.size
    d = v - v.mean()
    skew = np.sqrt(n) * np.sum(d**3) / np.sum(d**2) ** 1.5 * np.sqrt(n * (n - 1)) / (n - 2)
    r = n * np.sum(d**4) / np.sum(d**2) ** 2
    kurt = ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float(skew), float(kurt)


def passes(x: list[float] | np.ndarray) -> bool:
    s, k = type2(x)
    return abs(s) < 2 or k < 3.5


def one(x: list[float], **kwargs: Any) -> tuple[np.ndarray, pd.Series]:
    """Treat a single column ``x``; return the treated values and its log row."""
    result = treat(pd.DataFrame({"x": x}), **kwargs)
    return result.data["x"].to_numpy(), result.log.set_index("iCode").loc["x"]


# -- the estimators ---------------------------------------------------------------------


def test_estimators_are_coinr_type_2() -> None:
    for x in ([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], [0.0] * 10 + [1, 1], [-3, 0.5, 2, 2, 7.25]):
        assert skew_kurt(np.array(x, dtype=float)) == pytest.approx(type2(x), rel=1e-12)
    # n = 12, two ones among zeros, by hand: g1 = 4/sqrt(5), g2 = g1^2 - 2 = 1.2.
    s, k = skew_kurt(np.array([0.0] * 10 + [1, 1]))
    assert s == pytest.approx(4 / np.sqrt(5) * np.sqrt(12 * 11) / 10)
    assert k == pytest.approx((13 * 1.2 + 6) * 11 / (10 * 9))  # 2.64
    # Missing values are ignored; too few values or no spread give NaN (COINr: NA).
    assert skew_kurt(np.array([1.0, NAN, 2.0, 9.0, 4.0])) == pytest.approx(type2([1, 2, 9, 4]))
    assert np.isnan(skew_kurt(np.array([1.0, 2.0]))).all()
    assert np.isnan(skew_kurt(np.array([1.0, 2.0, 5.0]))[1])
    assert np.isnan(skew_kurt(np.full(6, 0.1))).all()


# -- the rule, by hand --------------------------------------------------------------------


def test_a_normal_column_is_untouched() -> None:
    x = [3.1, 4.7, 5.0, 5.2, 6.8, 4.4, 5.9]
    out, log = one(x)
    assert out.tolist() == x
    assert (log["treated"], log["method"]) == (False, "none")
    assert log["skew_before"] == log["skew_after"] == pytest.approx(type2(x)[0])
    assert log["note"].startswith("passes")


def test_one_huge_outlier_is_winsorised_to_the_next_value() -> None:
    x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0]
    assert not passes(x)  # skew 3.12, kurtosis 9.80
    out, log = one(x)
    assert out.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert (log["treated"], log["method"]) == (True, "winsorise")
    assert (log["n_winsorised_high"], log["n_winsorised_low"]) == (1, 0)
    assert (log["skew_before"], log["kurt_before"]) == pytest.approx(type2(x))
    assert (log["skew_after"], log["kurt_after"]) == pytest.approx(type2(out))


def test_negative_skew_is_winsorised_at_the_low_end() -> None:
    x = [-100.0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    out, log = one(x)
    assert out.tolist() == [1, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert (log["method"], log["n_winsorised_high"], log["n_winsorised_low"]) == (
        "winsorise",
        0,
        1,
    )


def test_winsorising_stops_at_the_first_step_that_passes() -> None:
    # COINr's own example: 1..10 plus 30 and 100. One step (100 -> 30) is enough.
    out, log = one([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100.0])
    assert out.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 30]
    assert log["n_winsorised_high"] == 1
    # 25 ones and a doubling tail: three steps, 128 and 64 and 32 all end at 16.
    x = [1.0] * 25 + [2, 4, 8, 16, 32, 64, 128]
    assert not passes([1.0] * 25 + [2, 4, 8, 16, 32, 32, 32])  # two steps are not enough
    out, log = one(x)
    assert out.tolist() == [1.0] * 25 + [2, 4, 8, 16, 16, 16, 16]
    assert log["n_winsorised_high"] == 3


def test_ties_move_together_and_count_as_points() -> None:
    x = [*range(1, 16), 100, 100.0]
    out, log = one(x)
    assert out.tolist() == [*range(1, 16), 15, 15]
    assert log["n_winsorised_high"] == 2
    # COINr checks the count before each step, so one tied step may pass winmax.
    out, log = one(x, winmax=1)
    assert out.tolist() == [*range(1, 16), 15, 15]
    assert (log["method"], log["n_winsorised_high"]) == ("winsorise", 2)


def test_more_than_winmax_points_gives_the_log_of_the_original_values() -> None:
    x = [0.0] * 40 + [1, 2, 10, 20, 50, 100, 200, 500]
    # After the 5 allowed steps the six largest sit at 10, and it still fails.
    assert not passes([0.0] * 40 + [1, 2, 10, 10, 10, 10, 10, 10])
    out, log = one(x)
    # min 0, max 500: log(x - 0 + 0.01 * 500) = log(x + 5), winsorisation discarded.
    np.testing.assert_allclose(out, np.log(np.array(x) + 5.0), rtol=0, atol=1e-15)
    assert (log["treated"], log["method"]) == (True, "log")
    assert (log["n_winsorised_high"], log["n_winsorised_low"]) == (0, 0)
    assert (log["skew_after"], log["kurt_after"]) == pytest.approx(type2(np.log(np.array(x) + 5)))
    assert "still fails" in log["note"]  # kept anyway, as in COINr

    # A smaller case with winmax = 2: min 0, max 20, so log(x + 0.2).
    y = [0.0] * 19 + [1, 5, 10, 20]
    out, log = one(y, winmax=2)
    np.testing.assert_allclose(out, np.log(np.array(y) + 0.2), rtol=0, atol=1e-15)
    assert log["method"] == "log"
    # winmax = 0: straight to the log.
    out, log = one([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0], winmax=0)
    np.testing.assert_allclose(out, np.log(np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]) - 1 + 0.99))


def test_log_ct_ignores_the_sign_and_log_ct_plus_mirrors_it() -> None:
    x = [0.0] * 40 + [-1, -2, -10, -20, -50, -100, -200, -500]
    out, log = one(x)
    # COINr's default log_CT: log(x - min + 0.01 (max - min)) = log(x + 505).
    np.testing.assert_allclose(out, np.log(np.array(x) + 505.0), rtol=0, atol=1e-15)
    assert log["method"] == "log"
    out, _ = one(x, log="log_CT_plus")
    # log_CT_plus with negative skew: -log(max + a - x) = -log(5 - x).
    np.testing.assert_allclose(out, -np.log(5.0 - np.array(x)), rtol=0, atol=1e-15)


def test_pass_rule_is_an_or() -> None:
    skewed_light_tails = [0.0] * 10 + [1, 1]  # |skew| 2.06 >= 2 but kurtosis 2.64 < 3.5
    symmetric_heavy_tails = [-1.0] + [0.0] * 10 + [1]  # skew 0 but kurtosis 5.5 >= 3.5
    s, k = type2(skewed_light_tails)
    assert abs(s) >= 2 and k < 3.5
    s, k = type2(symmetric_heavy_tails)
    assert abs(s) < 2 and k >= 3.5
    for x in (skewed_light_tails, symmetric_heavy_tails):
        out, log = one(x)
        assert out.tolist() == x
        assert log["method"] == "none"
    # Failing both tests is what triggers treatment.
    assert one([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0])[1]["treated"]
    # The thresholds are parameters: |skew| 2.04, kurtosis 3.25 passes by default only.
    x = [0.0] * 8 + [0.5, 2, 3]
    assert one(x)[1]["method"] == "none"
    out, log = one(x, kurt_thresh=3.0)
    assert out.tolist() == [0.0] * 8 + [0.5, 2, 2] and log["method"] == "winsorise"


def test_what_coinr_leaves_untreated() -> None:
    # Fewer than 4 values (COINr: kurtosis needs 4; 3 values always pass) ...
    out, log = one([1.0, 2.0, 1000.0])
    assert out.tolist() == [1, 2, 1000] and log["method"] == "none"
    out, log = one([5.0, NAN])
    assert log["note"].startswith("untreated: 1 value")
    # ... no spread ...
    out, log = one([3.0] * 6)
    assert out.tolist() == [3.0] * 6 and log["note"] == "untreated: all values equal"
    # ... and one non-zero country among zeros: winsorising it leaves all values equal,
    # COINr's check is NA and the original values are kept.
    x = [0.0] * 12 + [1]
    assert not passes(x)
    out, log = one(x)
    assert out.tolist() == x and log["method"] == "none"
    assert "winsorising left all values equal" in log["note"]


def test_missing_values_stay_missing_and_other_columns_are_kept() -> None:
    data = pd.DataFrame(
        {
            "x": [1, 2, NAN, 3, 4, 5, 6, 7, 8, 9, 100],
            "pop": [1e6] * 11,
            "y": [NAN] * 11,
        },
        index=[f"u{i}" for i in range(11)],
    )
    meta = pd.DataFrame(
        [
            ("x", 1, "I", 1, 1.0, "Indicator"),
            ("y", 1, "I", -1, 1.0, "Indicator"),
            ("I", 2, None, 1, 1.0, "Aggregate"),
            ("pop", None, None, None, None, "Denominator"),
        ],
        columns=["iCode", "Level", "Parent", "Direction", "Weight", "Type"],
    )
    result = treat(data, meta)
    assert list(result.log["iCode"]) == ["x", "y"]  # the indicators of iMeta only
    assert list(result.log.columns) == list(TREATMENT_LOG_COLUMNS)
    assert result.data.index.equals(data.index)
    assert result.data["x"].isna().tolist() == data["x"].isna().tolist()
    assert result.data["x"].dropna().tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert result.data["pop"].equals(data["pop"])
    assert result.data["y"].isna().all()
    assert data["x"].iloc[-1] == 100  # the input is not modified
    assert result.winsorised == ["x"] and result.log_transformed == []
    with pytest.raises(ValueError, match=r"not level-1 indicators of iMeta: pop"):
        treat(data, meta, indicators=["x", "pop"])


def test_method_none_treats_nothing_but_reports_the_moments() -> None:
    x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0]
    out, log = one(x, method="none")
    assert out.tolist() == x
    assert log["method"] == "none" and log["skew_before"] == pytest.approx(type2(x)[0])


# -- per-indicator settings ---------------------------------------------------------------

OUTLIER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0]


def test_per_indicator_override_none_is_respected() -> None:
    data = pd.DataFrame({"a": OUTLIER, "b": OUTLIER, "c": OUTLIER})
    result = treat(data, per_indicator={"b": {"method": "none"}, "c": {"winmax": 0}})
    assert result.data["a"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert result.data["b"].tolist() == OUTLIER
    assert result.log.set_index("iCode")["method"].to_dict() == {
        "a": "winsorise",
        "b": "none",
        "c": "log",
    }
    assert "switched off" in result.log.set_index("iCode").loc["b", "note"]
    # The other way round: off by default, on for one indicator.
    result = treat(data, method="none", per_indicator={"a": {"method": "coinr_default"}})
    assert result.log["treated"].tolist() == [True, False, False]


def test_unknown_codes_or_settings_are_errors() -> None:
    data = pd.DataFrame({"a": OUTLIER})
    with pytest.raises(ValueError, match=r"not being treated: zz"):
        treat(data, per_indicator={"zz": {"method": "none"}})
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['win_max'\]"):
        treat(data, per_indicator={"a": {"win_max": 3}})
    with pytest.raises(ValueError, match=r"method must be one of"):
        treat(data, per_indicator={"a": {"method": "winsorise"}})
    with pytest.raises(ValueError, match=r"winmax must be an integer >= 0"):
        treat(data, winmax=-1)
    with pytest.raises(ValueError, match=r"lack the indicator column\(s\) b"):
        treat(data, indicators=["a", "b"])


# -- property ------------------------------------------------------------------------------

grid = st.integers(-100_000, 100_000).map(lambda i: i / 100)
outlier = st.integers(-(10**7), 10**7).map(float)
cell = st.one_of(grid, grid, grid, outlier, st.just(NAN))


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(st.lists(cell, min_size=20, max_size=20), min_size=1, max_size=4),
    winmax=st.integers(0, 6),
    log=st.sampled_from(["log_CT", "log_CT_plus"]),
)
def test_treatment_keeps_the_order_and_never_invents_or_loses_values(
    columns: list[list[float]], winmax: int, log: str
) -> None:
    data = pd.DataFrame({f"i{k}": col for k, col in enumerate(columns)})
    out = treat(data, winmax=winmax, log=log).data  # type: ignore[arg-type]
    for code in data.columns:
        x, t = data[code].to_numpy(), out[code].to_numpy()
        assert (np.isnan(t) == np.isnan(x)).all()
        assert np.isfinite(t[~np.isnan(x)]).all()
        xs, ts = x[~np.isnan(x)], t[~np.isnan(x)]
        # Winsorisation and the log are monotone non-decreasing: order kept, ties kept.
        below = xs[:, None] < xs[None, :]
        assert (ts[:, None] <= ts[None, :])[below].all()
        assert (ts[:, None] == ts[None, :])[xs[:, None] == xs[None, :]].all()


# -- in the threat scoring -------------------------------------------------------------------

NAMES = {"es": "x", "pt": "x", "en": "x"}


def _indicator(code: str, category: str, kind: str, unit: str, den: str | None) -> dict[str, Any]:
    return {
        "code": code,
        "category": category,
        "kind": kind,
        "unit": unit,
        "direction": 1,
        "denominator": den,
        "plausible": [0, 1e9],
        "period_aggregation": "sum",
        "name": NAMES,
    }


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.model_validate(
        {
            "catalogue_version": "test",
            "units": {
                u: {"dimension": u, "to_base": 1, "name": NAMES}
                for u in ("count", "pct", "score_1_10")
            },
            "denominators": {
                "population": {"per": 100000, "source": "core_ref__population", "name": NAMES}
            },
            "categories": [{"code": "alpha", "name": NAMES, "group": "g"}],
            "indicators": [
                _indicator("a_count", "alpha", "quantitative", "count", "population"),
                _indicator("a_pct", "alpha", "quantitative", "pct", None),
                _indicator("alpha_expert_score", "alpha", "expert", "score_1_10", None),
            ],
        }
    )


def method_dict() -> dict[str, Any]:
    data = yaml.safe_load((METHODOLOGY_DIR / "clasi-1.0.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


COUNTRIES = [f"C{k:02d}" for k in range(10)]
POPULATION = pd.DataFrame(
    {"country_iso3": COUNTRIES, "year": 2024, "population": 100_000}  # rate = value
)


def cycle_values() -> pd.DataFrame:
    counts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]  # one country far above the rest
    pcts = [10, 12, 14, 16, 18, 20, 22, 24, 26, 28]  # no outlier
    rows = [(c, "a_count", float(v)) for c, v in zip(COUNTRIES, counts, strict=True)]
    rows += [(c, "a_pct", float(v)) for c, v in zip(COUNTRIES, pcts, strict=True)]
    rows += [(c, "alpha_expert_score", 10.0) for c in COUNTRIES]  # one value: never treated
    return pd.DataFrame(rows, columns=["country_iso3", "indicator_code", "value"]).assign(
        cycle_id="2024"
    )


def test_threat_scoring_treats_rates_but_reports_the_untreated_rate(
    catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    method = Methodology.model_validate(method_dict(), context={"catalogue": catalogue})
    with caplog.at_level(logging.INFO, logger="ideal.scoring.threat"):
        out = score_cycle("2024", 2024, cycle_values(), POPULATION, catalogue, method, "sha")
    ind = out.indicator_scores.set_index(["country_iso3", "indicator_code"])
    assert ind.loc[("C09", "a_count"), "rate"] == pytest.approx(100.0)  # untreated
    # Winsorised 100 -> 9, then min-max over 1..9: (x - 1) / 8 * 100.
    for k, c in enumerate(COUNTRIES):
        expected = min(k + 1, 9)
        assert ind.loc[(c, "a_count"), "normalised_0_100"] == pytest.approx(
            (expected - 1) / 8 * 100
        )
        assert ind.loc[(c, "a_pct"), "normalised_0_100"] == pytest.approx(k / 9 * 100)
    assert out.treatment is not None
    log = out.treatment.set_index("iCode")
    assert list(log.index) == ["a_count", "a_pct"]  # quantitative only
    assert log.loc["a_count", "method"] == "winsorise"
    assert log.loc["a_pct", "method"] == "none"
    assert "outliers winsorised in a_count" in caplog.text

    # Switched off for a_count: plain min-max again (C04 = 4/99 of the way).
    data = method_dict()
    data["treatment"]["overrides"] = {"a_count": {"method": "none"}}
    off = Methodology.model_validate(data, context={"catalogue": catalogue})
    out = score_cycle("2024", 2024, cycle_values(), POPULATION, catalogue, off, "sha")
    ind = out.indicator_scores.set_index(["country_iso3", "indicator_code"])
    assert ind.loc[("C04", "a_count"), "normalised_0_100"] == pytest.approx(4 / 99 * 100)


# -- the methodology keys ---------------------------------------------------------------------


def test_methodology_treatment_defaults_are_coinr() -> None:
    method, _ = load_methodology()
    t = method.treatment
    assert (t.method, t.winmax, t.skew_thresh, t.kurt_thresh, t.log) == (
        "coinr_default",
        5,
        2.0,
        3.5,
        "log_CT",
    )
    assert t.overrides == {}


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"cocaine_seized_tonnes": {"method": "none"}}, r"not in the catalogue"),
        ({"alpha_expert_score": {"method": "none"}}, r"expert item\(s\) \['alpha_expert_score'\]"),
        ({"a_count": {"win_max": 3}}, r"win_max\n  Extra inputs are not permitted"),
        ({"a_count": {"method": "winsorise"}}, r"coinr_default"),
        ({"a_count": {"winmax": -1}}, r"greater than or equal to 0"),
    ],
)
def test_bad_treatment_overrides_are_validation_errors(
    catalogue: Catalogue, overrides: dict[str, Any], pattern: str
) -> None:
    data = copy.deepcopy(method_dict())
    data["treatment"]["overrides"] = overrides
    with pytest.raises(ValidationError, match=pattern):
        Methodology.model_validate(data, context={"catalogue": catalogue})


def test_overrides_reach_the_engine(catalogue: Catalogue) -> None:
    data = method_dict()
    data["treatment"]["overrides"] = {"a_count": {"winmax": 3}, "a_pct": {"method": "none"}}
    method = Methodology.model_validate(data, context={"catalogue": catalogue})
    assert method.treatment.per_indicator() == {
        "a_count": {"winmax": 3},
        "a_pct": {"method": "none"},
    }
