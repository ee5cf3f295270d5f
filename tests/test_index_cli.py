"""``ideal index``: COINr's ASEM example through the command line, and its error messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from ideal.cli_index import index_app
from ideal.config import METHODOLOGY_DIR

ASEM = Path(__file__).parent / "data" / "asem"
EXAMPLE = METHODOLOGY_DIR / "asem-example.yaml"
runner = CliRunner()


def args(command: str, out: Path, method: Path = EXAMPLE, data: Path | None = None) -> list[str]:
    return [
        command,
        "--data",
        str(data or ASEM / "ASEM_iData.csv"),
        "--meta",
        str(ASEM / "ASEM_iMeta.csv"),
        "--method",
        str(method),
        "--out",
        str(out),
    ]


def test_build_reproduces_coinr_readme_example(tmp_path: Path) -> None:
    result = runner.invoke(index_app, args("build", tmp_path))
    assert result.exit_code == 0, result.output
    aggregated = pd.read_csv(tmp_path / "aggregated.csv").set_index("uCode")
    ranks = pd.read_csv(tmp_path / "ranks.csv").set_index("uCode")
    expected = {"DEU": 75.2278, "GBR": 68.9363, "FRA": 65.9181, "CHE": 62.6059, "BRN": 31.7054}
    for unit, score in expected.items():
        assert aggregated.loc[unit, "Index"] == pytest.approx(score, abs=1e-4), unit
    assert ranks.loc["DEU", "Index"] == 1 and ranks.loc["BRN", "Index"] == 51
    # One column per iCode at every level, indicators normalised (like COINr's Aggregated).
    assert aggregated.shape == (51, 49 + 8 + 2 + 1)
    assert aggregated["LPI"].min() == 0 and aggregated["LPI"].max() == 100
    assert list(ranks.columns[:3]) == ["Physical", "ConEcFin", "Political"]
    assert "DEU" in result.output and "75.2278" in result.output


def test_uncertainty_writes_rank_stats_and_is_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = runner.invoke(index_app, [*args("uncertainty", out), "--n", "300", "--seed", "5"])
        assert result.exit_code == 0, result.output
    stats = pd.read_csv(first / "rank_stats.csv")
    assert list(stats.columns) == ["uCode", "nominal", "mean", "median", "q5", "q95"]
    assert len(stats) == 51
    assert (first / "rank_stats.csv").read_bytes() == (second / "rank_stats.csv").read_bytes()
    assert (first / "sensitivity.csv").read_bytes() == (second / "sensitivity.csv").read_bytes()
    stats = stats.set_index("uCode")
    assert stats.loc["DEU", "nominal"] == 1 and stats.loc["BRN", "nominal"] == 51
    assert (stats["q5"] <= stats["q95"]).all()
    top = pd.read_csv(first / "top3.csv").set_index("uCode")
    assert top.loc["DEU", "p_top3"] > 0.9
    sens = pd.read_csv(first / "sensitivity.csv")
    assert set(sens["element"]) == {"winmax", "normalisation", "aggregation", "weights"}
    # Min-max [0, 100] held with the geometric alternative cannot be computed: reported.
    assert "left out of its shift" in result.output


def test_goalposts_prints_yaml_for_the_method_file(tmp_path: Path) -> None:
    result = runner.invoke(
        index_app,
        [
            "goalposts",
            "--data",
            str(ASEM / "ASEM_iData.csv"),
            "--meta",
            str(ASEM / "ASEM_iMeta.csv"),
            "--margin",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    posts = yaml.safe_load(result.output)["goalposts"]
    assert len(posts) == 49 and posts["LPI"][0] < posts["LPI"][1]


def write_method(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "method.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("normalisation: {methd: minmax}", "normalisation.methd: Extra inputs are not permitted"),
        ("normalisation: {method: softmax}", "normalisation.method: Input should be"),
        ("aggregation: {method: geometric}", "geometric mean needs strictly positive values"),
        ("aggregation: {method: generalised}", "generalised mean needs a finite power p"),
        ("imputation: {method: group_mean}", "needs group"),
        ("normalisation: [1, 2", "is not valid YAML"),
        ("- just a list", "must be a YAML mapping"),
    ],
)
def test_user_mistakes_give_one_line_errors(tmp_path: Path, method: str, message: str) -> None:
    result = runner.invoke(
        index_app, args("build", tmp_path / "out", write_method(tmp_path, method))
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_columns_and_files_are_named(tmp_path: Path) -> None:
    data = pd.read_csv(ASEM / "ASEM_iData.csv").drop(columns=["LPI", "Flights"])
    path = tmp_path / "iData.csv"
    data.to_csv(path, index=False)
    result = runner.invoke(index_app, args("build", tmp_path / "out", data=path))
    assert result.exit_code == 2
    assert "iData lacks column(s) LPI, Flights" in result.output
    no_ucode = tmp_path / "bad.csv"
    data.drop(columns=["uCode"]).to_csv(no_ucode, index=False)
    result = runner.invoke(index_app, args("build", tmp_path / "out", data=no_ucode))
    assert result.exit_code == 2 and "has no uCode column" in result.output
    result = runner.invoke(
        index_app, args("build", tmp_path / "out", method=tmp_path / "nope.yaml")
    )
    assert result.exit_code == 2 and "No method file" in result.output
    result = runner.invoke(
        index_app,
        args(
            "uncertainty",
            tmp_path / "out",
            method=write_method(tmp_path, "uncertainty: {target: Nope}"),
        ),
    )
    assert result.exit_code == 2 and "uncertainty.target 'Nope'" in result.output


def test_latest_imputation_from_a_panel_with_denomination(tmp_path: Path) -> None:
    data = pd.read_csv(ASEM / "ASEM_iData.csv")
    earlier = data.assign(Time=2017, Flights=data["Flights"] * 2, LPI=data["LPI"] - 0.1)
    later = data.assign(Time=2018)
    later.loc[later["uCode"] == "AUT", ["Flights", "LPI"]] = float("nan")
    later.loc[later["uCode"] == "AUT", "Population"] = 10_000.0
    panel = tmp_path / "panel.csv"
    pd.concat([earlier, later]).to_csv(panel, index=False)
    method = write_method(
        tmp_path, "denominate: true\nimputation: {method: latest}\ntreatment: {method: none}\n"
    )
    result = runner.invoke(index_app, args("build", tmp_path / "out", method=method, data=panel))
    assert result.exit_code == 0, result.output
    log = pd.read_csv(tmp_path / "out" / "imputation.csv").set_index(["uCode", "iCode"])
    assert set(log.index) == {("AUT", "Flights"), ("AUT", "LPI")}
    aut = data.set_index("uCode").loc["AUT"]
    # Flights is per Population: 2017's rate (with 2017's population), not its count.
    assert log.loc[("AUT", "Flights"), "value"] == pytest.approx(
        2 * aut["Flights"] / aut["Population"]
    )
    assert log.loc[("AUT", "LPI"), "value"] == pytest.approx(aut["LPI"] - 0.1)
    assert log.loc[("AUT", "LPI"), "source"] == 2017
    no_panel = runner.invoke(index_app, args("build", tmp_path / "o2", method=method))
    assert no_panel.exit_code == 2 and "needs earlier time points" in no_panel.output
