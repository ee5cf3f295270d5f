"""Lineage: a country's category score back to its values, weights, files and rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner
from warehouse_support import DEMO_DIR, cli_app, scored_demo

from ideal.assessment import ingest_paths
from ideal.lineage import explain, source_label
from ideal.warehouse import VIEWS, connect

WIDE = CliRunner(env={"COLUMNS": "200"})


def test_every_view_has_the_columns_it_declares(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    with connect(ws.warehouse_path, read_only=True) as con:
        for view in VIEWS:
            cols = tuple(r[0] for r in con.execute(f"DESCRIBE {view.name}").fetchall())
            assert cols == view.columns, view.name


def test_explain_traces_a_score_to_its_file_and_rows(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    with connect(ws.warehouse_path, read_only=True) as con:
        e = explain(con, "2024", "Colombia", "cocaine")
        scores = con.execute(
            "SELECT indicator_code, rate, normalised_0_100, weight FROM "
            "out_threat__indicator_scores WHERE cycle_id = '2024' AND country_iso3 = 'COL' "
            "AND category_code = 'cocaine' ORDER BY 1"
        ).df()
        sha = con.execute(
            "SELECT submission_sha256 FROM raw_intake__submissions "
            "WHERE country_iso3 = 'COL' AND is_current"
        ).fetchone()
    assert e.country_iso3 == "COL" and e.score["score_0_100"] > 0
    lineage = e.indicators
    pd.testing.assert_frame_equal(
        lineage[["indicator_code", "rate", "normalised_0_100", "weight"]], scores
    )
    assert set(lineage["file_name"]) == {"COL_ideal_2024.csv"}
    assert sha is not None and set(lineage["submission_sha256"]) == {sha[0]}
    assert all(len(rows) >= 1 for rows in lineage["source_rows"])
    assert lineage["is_value_unchanged"].all()
    assert (lineage["score_0_100"] == e.score["score_0_100"]).all()
    label = source_label(lineage.iloc[0])
    assert label.startswith(f"COL_ideal_2024.csv · sha256 {sha[0][:12]} · rows ")


def test_explain_on_the_command_line(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    app, home = cli_app(), ["--home", str(ws.home)]
    shown = WIDE.invoke(app, ["explain", "COL", "cocaine", "--cycle", "2024", *home])
    assert shown.exit_code == 0, shown.output
    assert "COL · cocaine · cycle 2024" in shown.output
    assert "cocaine_seized_kg" in shown.output and "COL_ideal_2024.csv" in shown.output
    assert "SELECT * FROM out_threat__lineage" in shown.output
    bad = CliRunner().invoke(app, ["explain", "COL", "piracy", "--cycle", "2024", *home])
    assert bad.exit_code == 2 and "Unknown category 'piracy'" in bad.output
    assert "Traceback" not in bad.output


def test_a_resubmission_after_scoring_is_flagged(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    text = (DEMO_DIR / "2024" / "COL_ideal_2024.csv").read_text(encoding="cp1252")
    assert ";644.398,4;kg;" in text
    resubmitted = tmp_path / "COL_ideal_2024_v2.csv"
    resubmitted.write_text(text.replace(";644.398,4;kg;", ";650.000;kg;"), encoding="cp1252")
    [out] = ingest_paths(ws, "2024", [resubmitted])
    assert out.status.startswith("accepted")
    shown = WIDE.invoke(
        cli_app(), ["explain", "COL", "cocaine", "--cycle", "2024", "--home", str(ws.home)]
    )
    assert shown.exit_code == 0, shown.output
    assert "changed since scoring" in shown.output
