"""Threat scoring of one cycle, checked against an independent hand/numpy computation."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from ideal.catalogue import Catalogue, load_catalogue
from ideal.config import METHODOLOGY_DIR
from ideal.scoring.methodology import Methodology, check_against_catalogue, load_methodology
from ideal.scoring.threat import CycleScores, PreviousCycle, score_cycle
from ideal.warehouse import TABLE_BY_NAME

METHOD_FILE = METHODOLOGY_DIR / "clasi-1.0.yaml"
# Pinned on purpose: a published methodology version is never edited in place. If this
# fails, write clasi-<new version>.yaml instead of changing clasi-1.0.yaml.
METHOD_SHA256 = "0aebb3f8059c69dbcc462b976cdc574faa13ef9ce28453ff63aa2ef9dee10abe"

NAMES = {"es": "x", "pt": "x", "en": "x"}


def indicator(
    code: str, category: str, kind: str, unit: str, direction: int, den: str | None
) -> dict[str, Any]:
    return {
        "code": code,
        "category": category,
        "kind": kind,
        "unit": unit,
        "direction": direction,
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
                for u in ("count", "pct", "index_0_100", "score_1_10")
            },
            "denominators": {
                "population": {"per": 100000, "source": "core_ref__population", "name": NAMES}
            },
            "categories": [
                {"code": "alpha", "name": NAMES, "group": "g"},
                {"code": "beta", "name": NAMES, "group": "g"},
            ],
            "indicators": [
                indicator("a_count", "alpha", "quantitative", "count", 1, "population"),
                indicator("a_pct", "alpha", "quantitative", "pct", 1, None),
                indicator("alpha_expert_score", "alpha", "expert", "score_1_10", 1, None),
                indicator("b_count", "beta", "quantitative", "count", 1, "population"),
                indicator("b_index", "beta", "quantitative", "index_0_100", -1, None),
                indicator("beta_expert_score", "beta", "expert", "score_1_10", 1, None),
            ],
        }
    )


def method_dict() -> dict[str, Any]:
    data = yaml.safe_load(METHOD_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def method(catalogue: Catalogue) -> Methodology:
    data = method_dict()
    data["weights"]["overrides"] = {"a_count": 3.0}
    return Methodology.model_validate(data, context={"catalogue": catalogue})


POPULATION = pd.DataFrame(
    [
        ("AAA", 2023, 900_000),
        ("AAA", 2024, 1_000_000),
        ("AAA", 2025, 9_999_999),  # after the period: must not be used
        ("BBB", 2023, 1_500_000),
        ("BBB", 2024, 2_000_000),
        ("CCC", 2022, 500_000),  # latest year <= 2024 for CCC
    ],
    columns=["country_iso3", "year", "population"],
)

# country, indicator, value, reliability, credibility
CURRENT = [
    ("AAA", "a_count", 100.0, "A", 1),
    ("BBB", "a_count", 300.0, "B", 2),
    ("CCC", "a_count", 25.0, "C", 3),
    ("AAA", "a_pct", 20.0, "A", 1),
    ("CCC", "a_pct", 60.0, "F", 6),
    ("AAA", "alpha_expert_score", 7.0, "B", 1),
    ("BBB", "alpha_expert_score", 4.0, "A", 2),
    ("AAA", "b_count", 10.0, "A", 1),
    ("CCC", "b_count", 20.0, "D", 4),
    ("AAA", "b_index", 80.0, "A", 1),
    ("BBB", "b_index", 30.0, "E", 5),
    ("CCC", "b_index", 55.0, "B", 2),
    ("AAA", "beta_expert_score", 2.0, "A", 1),
    ("BBB", "beta_expert_score", 9.0, "A", 1),
    ("CCC", "beta_expert_score", 5.0, None, None),  # ungraded: cannot be judged
]
REL = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2, "F": 0.5, None: 0.5}
CRED = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.4, 5: 0.2, 6: 0.5, None: 0.5}


def values_frame(
    rows: list[tuple[str, str, float, str | None, int | None]], cycle: str
) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["country_iso3", "indicator_code", "value", "reliability", "credibility"]
    )
    return frame.assign(cycle_id=cycle, credibility=frame["credibility"].astype("Int64"))


@pytest.fixture(scope="module")
def scores(catalogue: Catalogue, method: Methodology) -> CycleScores:
    return score_cycle(
        "2024", 2024, values_frame(CURRENT, "2024"), POPULATION, catalogue, method, "sha"
    )


def minmax(x: np.ndarray) -> np.ndarray:
    return (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x)) * 100


def wmean(x: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(x)
    return float(np.sum(x[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else float("nan")


def expected_categories() -> dict[str, dict[str, float]]:
    """Category scores from the methodology's formulas, for countries AAA, BBB, CCC."""
    nan = np.nan
    pop = np.array([1_000_000, 2_000_000, 500_000])  # latest year <= 2024
    a_count = minmax(np.array([100, 300, 25]) / pop * 1e5)  # rates 10, 15, 5
    a_pct = minmax(np.array([20, nan, 60]))
    alpha_exp = (np.array([7, 4, nan]) - 1) / 9 * 100
    b_count = minmax(np.array([10, nan, 20]) / pop * 1e5)
    b_index = minmax(-np.array([80, 30, 55]))  # direction -1
    beta_exp = (np.array([2, 9, 5]) - 1) / 9 * 100
    out: dict[str, dict[str, float]] = {"alpha": {}, "beta": {}}
    for k, c in enumerate(["AAA", "BBB", "CCC"]):
        qa = wmean(np.array([a_count[k], a_pct[k]]), np.array([3.0, 1.0]))
        out["alpha"][c] = wmean(np.array([qa, alpha_exp[k]]), np.array([0.6, 0.4]))
        qb = wmean(np.array([b_count[k], b_index[k]]), np.array([1.0, 1.0]))
        out["beta"][c] = wmean(np.array([qb, beta_exp[k]]), np.array([0.6, 0.4]))
    return out


def test_frames_have_exactly_the_warehouse_columns(scores: CycleScores) -> None:
    assert list(scores.indicator_scores.columns) == list(
        TABLE_BY_NAME["out_threat__indicator_scores"].columns
    )
    assert list(scores.category_scores.columns) == list(
        TABLE_BY_NAME["out_threat__category_scores"].columns
    )
    assert list(scores.regional_priorities.columns) == list(
        TABLE_BY_NAME["out_threat__regional_priorities"].columns
    )
    assert len(scores.indicator_scores) == len(CURRENT)
    assert len(scores.category_scores) == 6
    assert set(scores.regional_priorities["category_code"]) == {"alpha", "beta"}


def test_rates_use_latest_population_at_or_before_the_period(scores: CycleScores) -> None:
    ind = scores.indicator_scores.set_index(["country_iso3", "indicator_code"])
    assert ind.loc[("AAA", "a_count"), "population_year"] == 2024
    assert ind.loc[("AAA", "a_count"), "rate"] == pytest.approx(10.0)
    assert ind.loc[("CCC", "a_count"), "population_year"] == 2022
    assert ind.loc[("CCC", "a_count"), "denominator_value"] == 500_000
    assert ind.loc[("CCC", "a_count"), "rate"] == pytest.approx(5.0)
    # No denominator: the value is the rate, and there is no population year.
    assert pd.isna(ind.loc[("AAA", "a_pct"), "population_year"])
    assert ind.loc[("AAA", "a_pct"), "rate"] == 20.0
    assert ind.loc[("AAA", "alpha_expert_score"), "normalised_0_100"] == pytest.approx(600 / 9)
    assert ind.loc[("BBB", "b_index"), "normalised_0_100"] == 100  # lowest integrity, direction -1
    assert ind.loc[("AAA", "a_count"), "weight"] == 3.0
    assert ind.loc[("AAA", "a_pct"), "weight"] == 1.0


def test_category_scores_match_independent_computation(scores: CycleScores) -> None:
    expected = expected_categories()
    cat = scores.category_scores.set_index(["category_code", "country_iso3"])
    for category, by_country in expected.items():
        for country, value in by_country.items():
            assert cat.loc[(category, country), "score_0_100"] == pytest.approx(value), (
                category,
                country,
            )
    # The same numbers by hand: alpha AAA = 0.6 * (3*50 + 0)/4 + 0.4 * 600/9.
    assert cat.loc[("alpha", "AAA"), "score_0_100"] == pytest.approx(0.6 * 37.5 + 0.4 * 600 / 9)
    assert cat.loc[("alpha", "CCC"), "score_0_100"] == pytest.approx(25.0)  # no expert: quant only
    assert np.isnan(cat.loc[("alpha", "CCC"), "expert_0_100"])
    assert cat.loc[("beta", "BBB"), "quantitative_0_100"] == pytest.approx(100.0)
    assert cat.loc[("alpha", "BBB"), "coverage_ratio"] == pytest.approx(2 / 3)
    ranks = cat["rank_in_category"]
    assert [ranks[("alpha", c)] for c in ("BBB", "AAA", "CCC")] == [1, 2, 3]
    assert [ranks[("beta", c)] for c in ("BBB", "CCC", "AAA")] == [1, 2, 3]
    assert cat["previous_score_0_100"].isna().all()


def test_confidence_is_mean_grade_times_coverage(scores: CycleScores) -> None:
    cat = scores.category_scores.set_index(["category_code", "country_iso3"])
    grades = pd.DataFrame(CURRENT, columns=["c", "i", "v", "r", "k"])
    grades["conf"] = [
        REL[None if pd.isna(r) else r] * CRED[None if pd.isna(k) else int(k)]
        for r, k in zip(grades["r"], grades["k"], strict=True)
    ]
    ccc_alpha = grades[(grades["c"] == "CCC") & grades["i"].str.startswith("a")]["conf"].mean()
    assert ccc_alpha == pytest.approx((0.36 + 0.25) / 2)
    assert cat.loc[("alpha", "CCC"), "confidence_0_1"] == pytest.approx(ccc_alpha * 2 / 3)
    assert cat.loc[("beta", "CCC"), "confidence_0_1"] == pytest.approx((0.16 + 0.64 + 0.25) / 3)


def test_priorities_follow_the_documented_formula(scores: CycleScores) -> None:
    expected = expected_categories()
    pri = scores.regional_priorities.set_index("category_code")
    computed = {}
    for category, by_country in expected.items():
        s = np.array(list(by_country.values()))
        touched = s >= 50
        severity = s[touched].mean() if touched.any() else s.mean()
        spread = touched.mean()
        computed[category] = 0.45 * severity + 0.35 * spread * 100 + 0.20 * 50
        assert pri.loc[category, "severity_0_100"] == pytest.approx(severity)
        assert pri.loc[category, "spread_ratio"] == pytest.approx(spread)
        assert pri.loc[category, "n_countries_affected"] == touched.sum()
        assert pri.loc[category, "n_countries_assessed"] == 3
        assert pri.loc[category, "trend_0_100"] == 50.0  # no previous cycle
        assert pri.loc[category, "priority_0_100"] == pytest.approx(computed[category])
    order = sorted(computed, key=computed.__getitem__, reverse=True)
    assert order == ["beta", "alpha"]
    assert list(scores.regional_priorities["category_code"]) == order
    assert list(scores.regional_priorities["priority_rank"]) == [1, 2]


def test_previous_cycle_gives_changes_and_trend(
    catalogue: Catalogue, method: Methodology, scores: CycleScores
) -> None:
    previous_rows = [
        ("BBB", "a_count", 150.0, "A", 1),  # rate 10 (pop 2023 1.5M) -> 15 now: +50 %
        ("BBB", "alpha_expert_score", 4.0, "A", 1),  # unchanged
        ("AAA", "a_count", 100.0, "A", 1),  # AAA is not touched by alpha: not in its trend
        ("CCC", "b_index", 45.0, "A", 1),  # 45 -> 55 with direction -1: -10/45
    ]
    prev = PreviousCycle(
        cycle_id="2023",
        period_year=2023,
        values=values_frame(previous_rows, "2023"),
        category_scores=scores.category_scores.assign(
            cycle_id="2023", score_0_100=scores.category_scores["score_0_100"] - 5
        ),
        regional_priorities=scores.regional_priorities.assign(
            priority_0_100=scores.regional_priorities["priority_0_100"] - 1
        ),
    )
    now = score_cycle(
        "2024", 2024, values_frame(CURRENT, "2024"), POPULATION, catalogue, method, "sha", prev
    )
    pri = now.regional_priorities.set_index("category_code")
    assert pri.loc["alpha", "trend_0_100"] == pytest.approx(50 + 50 * np.mean([0.5, 0.0]))
    assert pri.loc["beta", "trend_0_100"] == pytest.approx(50 + 50 * (-10 / 45))
    base = scores.regional_priorities.set_index("category_code")["priority_0_100"]
    assert pri.loc["alpha", "priority_0_100"] == pytest.approx(base["alpha"] + 0.2 * 50 * 0.25)
    assert pri.loc["alpha", "previous_score_0_100"] == pytest.approx(base["alpha"] - 1)
    assert pri.loc["alpha", "change_0_100"] == pytest.approx(1 + 0.2 * 50 * 0.25)
    cat = now.category_scores
    assert np.allclose(cat["change_0_100"], 5.0)


def test_min_blocks_two_requires_expert_and_quantitative(catalogue: Catalogue) -> None:
    data = method_dict()
    data["category"]["min_blocks"] = 2
    data["weights"]["overrides"] = {"a_count": 3.0}
    strict = Methodology.model_validate(data, context={"catalogue": catalogue})
    out = score_cycle(
        "2024", 2024, values_frame(CURRENT, "2024"), POPULATION, catalogue, strict, "sha"
    )
    cat = out.category_scores.set_index(["category_code", "country_iso3"])
    assert np.isnan(cat.loc[("alpha", "CCC"), "score_0_100"])
    assert pd.isna(cat.loc[("alpha", "CCC"), "rank_in_category"])
    assert cat.loc[("alpha", "CCC"), "quantitative_0_100"] == pytest.approx(25.0)
    pri = out.regional_priorities.set_index("category_code")
    assert pri.loc["alpha", "n_countries_assessed"] == 2


def test_input_errors_say_what_to_fix(catalogue: Catalogue, method: Methodology) -> None:
    bad = values_frame([*CURRENT, ("AAA", "unknown_code", 1.0, "A", 1)], "2024")
    with pytest.raises(ValueError, match=r"not in the catalogue: \['unknown_code'\]"):
        score_cycle("2024", 2024, bad, POPULATION, catalogue, method, "sha")
    no_pop = POPULATION[POPULATION["country_iso3"] != "CCC"]
    with pytest.raises(ValueError, match=r"No population figure for \['CCC'\] in or before 2024"):
        score_cycle("2024", 2024, values_frame(CURRENT, "2024"), no_pop, catalogue, method, "sha")
    dupes = values_frame([*CURRENT, CURRENT[0]], "2024")
    with pytest.raises(ValueError, match="several values for the same country and indicator"):
        score_cycle("2024", 2024, dupes, POPULATION, catalogue, method, "sha")


# -- the methodology file --------------------------------------------------------------


def test_methodology_file_validates_and_its_hash_is_stable() -> None:
    method, sha = load_methodology()
    assert (method.name, method.version) == ("clasi", "1.0")
    assert sha == hashlib.sha256(METHOD_FILE.read_bytes()).hexdigest()
    assert load_methodology(METHOD_FILE)[1] == sha
    assert sha == METHOD_SHA256, "clasi-1.0.yaml changed: publish a new version file instead"
    w = method.priority.weights
    assert w.severity + w.spread + w.trend == pytest.approx(1.0)
    check_against_catalogue(method, load_catalogue())


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda d: d["priority"]["weights"].update(trend=0.3), r"priority.weights must sum to 1"),
        (
            lambda d: d["category"]["blend"].update(expert=0.5),
            r"category.blend weights must sum to 1",
        ),
        (
            lambda d: d["weights"]["overrides"].update(cocaine_seized_tonnes=2.0),
            r"not in the catalogue: \['cocaine_seized_tonnes'\]",
        ),
        (
            lambda d: d["confidence"]["reliability"].pop("F"),
            r"exactly \['A', 'B', 'C', 'D', 'E', 'F'\]",
        ),
        (lambda d: d.update(extra_key=1), r"extra_key\n  Extra inputs are not permitted"),
        (lambda d: d["normalisation"]["quantitative"].update(lo=100, hi=0), r"lo < hi"),
    ],
)
def test_bad_methodology_gives_a_clear_pydantic_error(
    tmp_path: Path, edit: Any, pattern: str
) -> None:
    data = copy.deepcopy(method_dict())
    edit(data)
    with pytest.raises(ValidationError, match=pattern):
        load_methodology(write(tmp_path, data))


def test_missing_methodology_file_lists_available(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"clasi-1.0.yaml"):
        load_methodology(tmp_path / "nope.yaml")


# -- drivers, imputation and the Monte Carlo of the priorities --------------------------

PREVIOUS = [
    ("AAA", "a_count", 80.0, "A", 1),
    ("BBB", "a_count", 300.0, "B", 2),
    ("CCC", "a_count", 40.0, "C", 3),
    ("AAA", "a_pct", 30.0, "A", 1),
    ("CCC", "a_pct", 50.0, "F", 6),
    ("AAA", "alpha_expert_score", 6.0, "B", 1),
    ("BBB", "alpha_expert_score", 5.0, "A", 2),
    ("AAA", "b_count", 12.0, "A", 1),
    ("BBB", "b_count", 7.0, "A", 1),
    ("CCC", "b_count", 20.0, "D", 4),
    ("AAA", "b_index", 70.0, "A", 1),
    ("BBB", "b_index", 40.0, "E", 5),
    ("CCC", "b_index", 55.0, "B", 2),
    ("BBB", "beta_expert_score", 8.0, "A", 1),
    ("CCC", "beta_expert_score", 5.0, None, None),
]


def with_changes(catalogue: Catalogue, **changes: Any) -> Methodology:
    data = method_dict()
    data["weights"]["overrides"] = {"a_count": 3.0}
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return Methodology.model_validate(data, context={"catalogue": catalogue})


def two_cycles(catalogue: Catalogue, method: Methodology) -> CycleScores:
    before = score_cycle(
        "2023",
        2023,
        values_frame(PREVIOUS, "2023"),
        POPULATION,
        catalogue,
        method,
        "sha",
        uncertainty=False,
    )
    prev = PreviousCycle(
        cycle_id="2023",
        period_year=2023,
        values=values_frame(PREVIOUS, "2023"),
        category_scores=before.category_scores,
        regional_priorities=before.regional_priorities,
    )
    return score_cycle(
        "2024", 2024, values_frame(CURRENT, "2024"), POPULATION, catalogue, method, "sha", prev
    )


def test_drivers_split_the_mean_change_exactly(catalogue: Catalogue) -> None:
    method = with_changes(catalogue, drivers__top_n=20)
    now = two_cycles(catalogue, method)
    drivers = now.drivers
    assert list(drivers.columns) == list(TABLE_BY_NAME["out_threat__priority_drivers"].columns)
    cats = now.category_scores.dropna(subset=["change_0_100"])
    for category, rows in drivers.groupby("category_code"):
        mean_change = cats.loc[cats["category_code"] == category, "change_0_100"].mean()
        assert rows["contribution_points"].sum() == pytest.approx(mean_change), category
        assert rows["driver_rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["contribution_points"].abs().is_monotonic_decreasing
    rel = drivers.set_index(["category_code", "indicator_code"])["mean_relative_change"]
    # b_index (no denominator): AAA 70 -> 80, BBB 40 -> 30, CCC 55 -> 55.
    assert rel[("beta", "b_index")] == pytest.approx((10 / 70 - 10 / 40 + 0) / 3)
    # a_pct keeps the same min-max scores (AAA 0, CCC 100) and weights: no contribution.
    assert ("alpha", "a_pct") not in rel.index
    top3 = two_cycles(catalogue, with_changes(catalogue, drivers__top_n=1)).drivers
    assert top3.groupby("category_code").size().max() == 1


def test_no_previous_cycle_means_no_drivers(scores: CycleScores) -> None:
    assert scores.drivers.empty
    assert list(scores.drivers.columns) == list(
        TABLE_BY_NAME["out_threat__priority_drivers"].columns
    )


def test_last_cycle_and_group_imputation_fill_quantitative_rates_only(catalogue: Catalogue) -> None:
    method = with_changes(catalogue, imputation__method="last_cycle")
    now = two_cycles(catalogue, method)
    log = now.imputation
    assert log is not None
    imputed = set(zip(log["uCode"], log["iCode"], strict=True))
    # BBB's b_count (7 in 2023, population 1.5M) is missing in 2024 and is filled.
    assert ("BBB", "b_count") in imputed
    assert log.set_index(["uCode", "iCode"]).loc[("BBB", "b_count"), "value"] == pytest.approx(
        7 / 1_500_000 * 100_000
    )
    assert not any(code.endswith("expert_score") for _, code in imputed)
    # Reported rows are unchanged: imputation feeds the scores, not the indicator table.
    assert len(now.indicator_scores) == len(CURRENT)
    grouped = with_changes(catalogue, imputation__method="group_mean")
    with pytest.raises(ValueError, match="needs each country's group"):
        score_cycle(
            "2024", 2024, values_frame(CURRENT, "2024"), POPULATION, catalogue, grouped, "s"
        )
    out = score_cycle(
        "2024",
        2024,
        values_frame(CURRENT, "2024"),
        POPULATION,
        catalogue,
        grouped,
        "s",
        groups={"AAA": "g1", "BBB": "g1", "CCC": "g2"},
        uncertainty=False,
    )
    assert out.imputation is not None
    row = out.imputation.set_index(["uCode", "iCode"]).loc[("BBB", "a_pct")]
    assert row["value"] == 20.0  # mean of group g1 = AAA's 20


def test_priority_uncertainty_frames_and_nominal_ranks(catalogue: Catalogue) -> None:
    now = two_cycles(catalogue, with_changes(catalogue))
    unc, sens = now.uncertainty, now.sensitivity
    assert list(unc.columns) == list(TABLE_BY_NAME["out_threat__priority_uncertainty"].columns)
    assert list(sens.columns) == list(TABLE_BY_NAME["out_threat__priority_sensitivity"].columns)
    nominal = now.regional_priorities.set_index("category_code")["priority_rank"]
    assert unc.set_index("category_code")["nominal_rank"].to_dict() == nominal.to_dict()
    assert (unc["n_replicates"] == 1000).all() and (unc["seed"] == 20250601).all()
    assert ((unc["q05_rank"] <= unc["median_rank"]) & (unc["median_rank"] <= unc["q95_rank"])).all()
    assert set(sens["uncertain_element"]) <= {
        "weights",
        "normalisation",
        "aggregation",
        "winmax",
        "imputation",
    }
    again = two_cycles(catalogue, with_changes(catalogue))
    pd.testing.assert_frame_equal(unc, again.uncertainty)
    pd.testing.assert_frame_equal(sens, again.sensitivity)


def test_deterministic_priority_monte_carlo_sits_on_the_nominal_rank(catalogue: Catalogue) -> None:
    method = with_changes(
        catalogue,
        uncertainty__weights={"method": "uniform", "noise": 0.0},
        uncertainty__normalisation=["minmax"],
        uncertainty__aggregation=[{"method": "arithmetic"}],
        uncertainty__winmax=[5],
        uncertainty__imputation=["none"],
        uncertainty__n=50,
    )
    now = two_cycles(catalogue, method)
    unc = now.uncertainty
    for col in ("mean_rank", "median_rank", "q05_rank", "q95_rank"):
        assert (unc[col] == unc["nominal_rank"].astype(float)).all(), col
    assert now.sensitivity.empty


def test_one_replicate_equals_rescoring_with_its_settings(catalogue: Catalogue) -> None:
    from ideal.scoring.threat import ThreatInputs
    from ideal.scoring.threat_uncertainty import PriorityProblem
    from ideal.scoring.uncertainty import Draws

    method = with_changes(catalogue)
    assert method.uncertainty is not None
    now = two_cycles(catalogue, method)
    captured: dict[str, ThreatInputs] = {}

    import ideal.scoring.threat_uncertainty as tu

    original = tu.priority_uncertainty

    def spy(inp: ThreatInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
        captured["inp"] = inp
        return original(inp)

    tu.priority_uncertainty = spy  # type: ignore[assignment]
    try:
        two_cycles(catalogue, method)
    finally:
        tu.priority_uncertainty = original  # type: ignore[assignment]
    problem = PriorityProblem(captured["inp"], method.uncertainty)
    # A replicate the methodology file can express: percentile ranks, winmax 2, new
    # indicator weights, blend 0.5/0.5 in every category, priority weights 0.2/0.5/0.3.
    ind_w = np.array([2.0 if c == "b_count" else 1.0 for c in problem.levels[0].children])
    blend = np.array([0.5] * len(problem.levels[1].children))
    choice = {
        "imputation": np.array([0]),
        "winmax": np.array([problem.choices[1].options.index(2)]),
        "normalisation": np.array([problem.choices[2].options.index("prank")]),
        "aggregation": np.array([0]),
    }
    draws = Draws(1, choice, (ind_w[None, :], blend[None, :], np.array([[0.2, 0.5, 0.3]])))
    fast = problem.evaluate(draws)[0]
    rescored = with_changes(
        catalogue,
        weights__overrides={"b_count": 2.0},
        category__blend={"quantitative": 0.5, "expert": 0.5},
        priority__weights={"severity": 0.2, "spread": 0.5, "trend": 0.3},
        treatment__winmax=2,
        normalisation__quantitative__method="prank",
    )
    slow = two_cycles(catalogue, rescored).regional_priorities.set_index("category_code")
    expected = slow.loc[problem.units, "priority_0_100"].to_numpy(np.float64)
    np.testing.assert_allclose(fast, expected, rtol=1e-12)
    assert now.regional_priorities is not None


def test_uncertainty_settings_are_validated(tmp_path: Path) -> None:
    data = copy.deepcopy(method_dict())
    data["uncertainty"]["aggregation"] = [{"method": "generalised"}]
    with pytest.raises(ValidationError, match="give p"):
        load_methodology(write(tmp_path, data))
    data = copy.deepcopy(method_dict())
    data["uncertainty"]["normalisation"] = ["goalposts"]
    with pytest.raises(ValidationError, match="has no posts for"):
        load_methodology(write(tmp_path, data))
    data = copy.deepcopy(method_dict())
    data["uncertainty"]["weights"]["noise"] = 1.5
    with pytest.raises(ValidationError, match=r"uncertainty\.weights\.noise"):
        load_methodology(write(tmp_path, data))


def test_country_groups_come_from_the_reference_table(tmp_path: Path) -> None:
    from ideal.assessment import _country_groups, _uses_groups
    from ideal.warehouse import connect

    with connect(tmp_path / "w.duckdb") as con:
        con.execute(
            "INSERT INTO core_ref__countries (country_iso3, subregion) VALUES "
            "('ARG', 'South America'), ('MEX', 'Central America'), ('XXX', NULL)"
        )
        assert _country_groups(con, "subregion") == {
            "ARG": "South America",
            "MEX": "Central America",
        }
        with pytest.raises(ValueError, match="'continent' is not a column"):
            _country_groups(con, "continent")
    method, _ = load_methodology()
    assert not _uses_groups(method)
    data = method_dict()
    data["uncertainty"]["imputation"] = ["none", "group_median"]
    assert _uses_groups(Methodology.model_validate(data))
