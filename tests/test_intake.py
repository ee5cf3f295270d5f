"""Intake on a real DuckDB file: every byte kept, rejected files quarantined, resubmissions."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from ideal import intake
from ideal.assessment import ensure_cycle, ingest_paths
from ideal.config import Workspace, workspace
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


# -- event records ---------------------------------------------------------------------------
EVENT_HEADER = (
    "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
    "credibilidad;notas\n"
)


def events_body(n: int, *, qty: str = "12,5", country: str = "Colombia") -> str:
    return "".join(
        f"{country};{1 + k % 28:02d}/03/2025;Nariño;incautación;cocaína;{qty};kg;DIJIN;B;2;\n"
        for k in range(n)
    )


def write_events(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_bytes((EVENT_HEADER + body).encode("utf-8"))
    return path


def event_counts(ws: Workspace) -> tuple[int, int]:
    with connect(ws.warehouse_path, read_only=True) as con:
        raw = con.execute("SELECT count(*) FROM raw_intake__event_rows").fetchone()
        core = con.execute("SELECT count(*) FROM core_threat__events").fetchone()
    assert raw is not None and core is not None
    return raw[0], core[0]


@pytest.fixture(params=["pydantic", "sql"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a loading test on both engines (the SQL path for any size of file)."""
    if request.param == "sql":
        monkeypatch.setattr(intake, "SQL_MIN_ROWS", 0)
    return str(request.param)


def test_an_event_file_is_loaded(
    ws: Workspace, tmp_path: Path, engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    ensure_cycle(ws, CYCLE)
    caplog.set_level(logging.INFO, logger="ideal.sqlcheck")
    body = events_body(40) + "Colombia;2025-03-02;Cauca;incautación;cocaína;0,5;t;;A;1;nota\n"
    [out] = ingest_paths(ws, "2025", [write_events(tmp_path, "COL_eventos.csv", body)])
    assert ("SQL path" in caplog.text) is (engine == "sql")
    assert (out.status, out.country_iso3, out.n_rows) == ("accepted_with_warnings", "COL", 41)
    assert event_counts(ws) == (41, 41)
    with connect(ws.warehouse_path, read_only=True) as con:
        keys = con.execute(
            "SELECT count(DISTINCT (submission_sha256, source_row)) FROM core_threat__events"
        ).fetchone()
        assert keys == (41,)
        kind = con.execute("SELECT submission_kind FROM raw_intake__submissions").fetchone()
        last = con.execute(
            "SELECT cycle_id, country_iso3, event_date, admin1, event_type, item, quantity, unit, "
            "is_unit_converted, reliability, credibility, source_row FROM core_threat__events "
            "ORDER BY source_row DESC LIMIT 1"
        ).fetchone()
        cells = con.execute(
            "SELECT quantity_raw, unit_raw, source_raw, notes_raw FROM raw_intake__event_rows "
            "WHERE source_row = 42"
        ).fetchone()
    assert kind == ("events",)
    assert last == (
        "2025", "COL", dt.date(2025, 3, 2), "Cauca", "seizure", "cocaine", 500.0, "kg", True,
        "A", 1, 42,
    )  # fmt: skip
    assert cells == ("0,5", "t", "", "nota")


def test_one_bad_row_rejects_the_file_and_loads_nothing(
    ws: Workspace, tmp_path: Path, engine: str
) -> None:
    ensure_cycle(ws, CYCLE)
    body = events_body(30) + "Colombia;31/02/2025;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;\n"
    [out] = ingest_paths(ws, "2025", [write_events(tmp_path, "COL_eventos.csv", body)])
    assert out.status == "rejected"
    # (its repeated rows and missing event types are warnings: tests/test_event_quality.py)
    assert [(i.row, i.rule) for i in out.issues if i.severity == "error"] == [(32, "invalid_date")]
    assert out.quarantine_path is not None and out.quarantine_path.exists()
    assert event_counts(ws) == (0, 0)


def test_a_corrected_event_file_supersedes_the_earlier_one(
    ws: Workspace, tmp_path: Path, engine: str
) -> None:
    ensure_cycle(ws, CYCLE)
    v1 = write_events(tmp_path, "COL_v1.csv", events_body(30))
    v2 = write_events(tmp_path, "COL_v2.csv", events_body(20, qty="7"))
    indicators = write(tmp_path, "COL.csv", GOOD_COL)
    ingest_paths(ws, "2025", [indicators, v1, v2])
    with connect(ws.warehouse_path, read_only=True) as con:
        subs = con.execute(
            "SELECT file_name, submission_kind, is_current FROM raw_intake__submissions "
            "ORDER BY file_name"
        ).fetchall()
        core = con.execute(
            "SELECT count(*), min(quantity), max(quantity) FROM core_threat__events"
        ).fetchone()
        raw = con.execute(
            "SELECT s.file_name, count(*) FROM raw_intake__event_rows r "
            "JOIN raw_intake__submissions s USING (submission_sha256) GROUP BY 1 ORDER BY 1"
        ).fetchall()
        values = con.execute("SELECT count(*) FROM core_threat__indicator_values").fetchone()
    # both event files stay on record; the events are the corrected file's; an event
    # file does not retire the country's indicator values
    assert subs == [
        ("COL.csv", "indicators", True),
        ("COL_v1.csv", "events", False),
        ("COL_v2.csv", "events", True),
    ]
    assert core == (20, 7.0, 7.0)
    assert raw == [("COL_v1.csv", 30), ("COL_v2.csv", 20)]
    assert values == (3,)


def test_both_engines_load_the_same_rows(ws: Workspace, tmp_path: Path) -> None:
    body = events_body(25) + (
        " Colombia ;2025-3-4;  Nariño ;Incautación ;COCAINA;1.234,50;KG; DIJIN ;b;2; nota \n"
        "CO;14.03.2025;Chocó;seizure;cocaine;0,5;t;DIJIN;A;1;\n"
        "Colombia;2025-03-14;Cauca;incidente;secuestro;2;count;;B;2;\n"
    )
    tables = {}
    for engine in ("pydantic", "sql"):
        home = workspace(tmp_path / engine, tmp_path / engine / "reports").ensure()
        ensure_cycle(home, CYCLE)
        with pytest.MonkeyPatch.context() as mp:
            if engine == "sql":
                mp.setattr(intake, "SQL_MIN_ROWS", 0)
            [out] = ingest_paths(home, "2025", [write_events(tmp_path, "COL.csv", body)])
        assert out.status == "accepted_with_warnings"
        with connect(home.warehouse_path, read_only=True) as con:
            tables[engine] = (
                con.execute("SELECT * FROM raw_intake__event_rows ORDER BY source_row").fetchall(),
                con.execute("SELECT * FROM core_threat__events ORDER BY source_row").fetchall(),
                con.execute("SELECT * FROM raw_intake__issues ORDER BY issue_no").fetchall(),
            )
    assert tables["sql"] == tables["pydantic"]


def test_a_jump_against_the_previous_cycle_is_a_warning(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, Cycle("2024", 2024, dt.date(2025, 3, 31), ("COL", "PER")))
    ensure_cycle(ws, CYCLE)
    earlier = GOOD_COL.replace("2025", "2024").replace("650000", "100000")
    ingest_paths(ws, "2024", [write(tmp_path, "COL_2024.csv", earlier)])
    second = write(tmp_path, "COL_2025.csv", GOOD_COL)  # 650,000 kg: 6.5 times 2024
    [out] = ingest_paths(ws, "2025", [second])
    jumps = [i for i in out.issues if i.rule == "value_jump"]
    assert [(i.severity, i.row, i.column) for i in jumps] == [("warning", 2, "value")]
    assert out.status == "accepted_with_warnings"
