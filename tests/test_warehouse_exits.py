"""Analysts' exits: export a cycle, back up and restore the warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from warehouse_support import cli_app, scored_demo, table_rows

from ideal import audit
from ideal.config import workspace
from ideal.exporting import ExportError, backup, export_cycle, restore
from ideal.warehouse import TABLES, connect


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_every_core_and_out_table_of_the_cycle(tmp_path: Path, fmt: str) -> None:
    ws = scored_demo(tmp_path)
    folder = tmp_path / "export"
    written = export_cycle(ws, "2024", fmt, folder)
    names = {e.table for e in written}
    assert {t.name for t in TABLES if t.layer in ("core", "out")} <= names
    assert "out_threat__lineage" in names
    meta = json.loads((folder / "export.json").read_text())
    assert meta["cycle_id"] == "2024" and meta["format"] == fmt
    reader = "read_parquet" if fmt == "parquet" else "read_csv_auto"
    with connect(ws.warehouse_path, read_only=True) as con:
        for e in written:
            assert e.path.is_file()
            n = con.execute(f"SELECT count(*) FROM {reader}('{e.path}')").fetchone()
            assert n == (e.n_rows,), e.table
        live = con.execute(
            "SELECT count(*) FROM out_threat__category_scores WHERE cycle_id = '2024'"
        ).fetchone()
    assert live == (meta["tables"]["out_threat__category_scores"]["rows"],)


def test_export_refuses_a_folder_with_files_and_an_unknown_format(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_cycle(ws, "2024", "parquet", busy)
    with pytest.raises(ExportError, match="parquet or csv"):
        export_cycle(ws, "2024", "xlsx", tmp_path / "new")
    assert (busy / "keep.txt").read_text() == "mine"


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    saved = backup(ws, tmp_path / "backup")
    assert (saved / "schema.sql").is_file()
    copy = workspace(tmp_path / "copy", tmp_path / "reports")
    restore(copy, saved)
    assert table_rows(copy.warehouse_path, with_audit=False) == table_rows(
        ws.warehouse_path, with_audit=False
    )
    with connect(copy.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM out_threat__lineage").fetchone() != (0,)
        assert audit.read(con)["action"].iloc[-1] == "restore"


def test_restore_refuses_to_overwrite_data_unless_forced(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    saved = backup(ws, tmp_path / "backup")
    with pytest.raises(ExportError, match="holds data"):
        restore(ws, saved)
    with pytest.raises(ExportError, match="not a backup"):
        restore(ws, tmp_path)
    with pytest.raises(ExportError, match="not empty"):
        backup(ws, saved)
    restore(ws, saved, force=True)
    kept = list(ws.home.glob("warehouse.duckdb.replaced-*"))
    assert len(kept) == 1
    con = duckdb.connect(str(kept[0]), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM out_threat__category_scores").fetchone() != (0,)
    finally:
        con.close()


def test_exits_on_the_command_line(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    app, home = cli_app(), ["--home", str(ws.home)]
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(app, ["export", str(out), "--cycle", "2024", "--format", "csv", *home])
    assert done.exit_code == 0, done.output
    assert (out / "out_threat__regional_priorities.csv").is_file()
    again = runner.invoke(app, ["export", str(out), "--cycle", "2024", *home])
    assert again.exit_code == 2 and "not empty" in again.output
    assert runner.invoke(app, ["backup", str(tmp_path / "b"), *home]).exit_code == 0
    refused = runner.invoke(app, ["restore", str(tmp_path / "b"), *home])
    assert refused.exit_code == 2 and "--force" in refused.output
    fresh = runner.invoke(app, ["restore", str(tmp_path / "b"), "--home", str(tmp_path / "new")])
    assert fresh.exit_code == 0, fresh.output
