"""Intake on a real DuckDB file: every byte kept, rejected files quarantined, resubmissions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ideal.assessment import ensure_cycle, ingest_paths
from ideal.config import Workspace
from ideal.cycles import Cycle
from ideal.warehouse import connect

CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL", "PER"))
HEADER = "country,period,indicator,value,unit,source,reliability,credibility,trend,notes\n"


def write(folder: Path, name: str, body: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes((HEADER + body).encode(encoding))
    return path


GOOD_COL = (
    "COL,2025,cocaine_seized_kg,650000,kg,DIJIN,B,2,,\n"
    "COL,2025,cocaine_expert_score,9,score_1_10,DIJIN,B,2,up,\n"
    "COL,2025-Q1,kidnappings_count,40,count,GAULA,B,2,,\n"
    "COL,2025-Q2,kidnappings_count,45,count,GAULA,B,2,,\n"
    "COL,2025-Q3,kidnappings_count,50,count,GAULA,B,2,,\n"
    "COL,2025-Q4,kidnappings_count,55,count,GAULA,B,2,,\n"
)


def test_accepted_file_is_archived_and_loaded(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    src = write(tmp_path, "COL.csv", GOOD_COL)
    [out] = ingest_paths(ws, "2025", [src])
    assert out.status == "accepted_with_warnings"  # the other indicators are not reported
    assert out.archive_path.read_bytes() == src.read_bytes()
    with connect(ws.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "SELECT indicator_code, value, n_periods, source_rows FROM "
            "core_threat__indicator_values ORDER BY indicator_code"
        ).fetchall()
        raw = con.execute("SELECT count(*) FROM raw_intake__indicator_rows").fetchone()
    assert rows == [
        ("cocaine_expert_score", 9.0, 1, [3]),
        ("cocaine_seized_kg", 650000.0, 1, [2]),
        ("kidnappings_count", 190.0, 4, [4, 5, 6, 7]),
    ]
    assert raw == (6,)


def test_identical_bytes_change_nothing(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    src = write(tmp_path, "COL.csv", GOOD_COL)
    first = ingest_paths(ws, "2025", [src])[0]
    again = ingest_paths(ws, "2025", [src])[0]
    assert first.is_new and not again.is_new
    assert again.status == first.status and again.sha256 == first.sha256
    with connect(ws.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_intake__submissions").fetchone() == (1,)


def test_rejected_file_is_quarantined_with_findings(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    bad = write(
        tmp_path,
        "../../etc/PER.csv".replace("/", "_"),
        "PER,2025,cocaine_seized,12,kg,PNP,G,2,,<script>alert(1)</script>\n",
    )
    [out] = ingest_paths(ws, "2025", [bad])
    assert out.status == "rejected"
    assert out.quarantine_path is not None and out.quarantine_path.read_bytes() == bad.read_bytes()
    assert ws.quarantine in out.quarantine_path.parents
    findings = json.loads((out.quarantine_path.parent / "findings.json").read_text("utf-8"))
    assert {i["rule"] for i in findings["issues"]} >= {"unknown_indicator", "invalid_reliability"}
    assert "fiabilidad" in " ".join(i["message_es"] for i in findings["issues"])
    with connect(ws.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core_threat__indicator_values").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM raw_intake__issues").fetchone()[0] >= 2


def test_unreadable_file_is_kept_and_explained(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    junk = tmp_path / "foto.jpg"
    junk.write_bytes(bytes(range(256)) * 8)
    [out] = ingest_paths(ws, "2025", [junk])
    assert out.status == "unreadable"
    assert out.issues[0].rule == "unreadable_file"
    assert out.archive_path.read_bytes() == junk.read_bytes()


def test_corrected_resubmission_supersedes_and_both_stay(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    v1 = write(tmp_path, "COL_v1.csv", GOOD_COL)
    v2 = write(tmp_path, "COL_v2.csv", GOOD_COL.replace("650000", "700000"))
    ingest_paths(ws, "2025", [v1, v2])
    with connect(ws.warehouse_path, read_only=True) as con:
        subs = con.execute(
            "SELECT file_name, is_current FROM raw_intake__submissions ORDER BY file_name"
        ).fetchall()
        value = con.execute(
            "SELECT value FROM core_threat__indicator_values WHERE "
            "indicator_code = 'cocaine_seized_kg'"
        ).fetchall()
    assert subs == [("COL_v1.csv", False), ("COL_v2.csv", True)]
    assert value == [(700000.0,)]


def test_rejected_resubmission_keeps_the_accepted_data(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    good = write(tmp_path, "COL_v1.csv", GOOD_COL)
    bad = write(tmp_path, "COL_v2.csv", "COL,2025,cocaine_seized_kg,abc,kg,X,B,2,,\n")
    outcomes = ingest_paths(ws, "2025", [good, bad])
    assert [o.status for o in outcomes] == ["accepted_with_warnings", "rejected"]
    with connect(ws.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core_threat__indicator_values").fetchone() == (3,)
