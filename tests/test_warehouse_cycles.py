"""Cycles as records: open → closed → published, frozen scores, revisions, status, audit."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warehouse_support import cli_app, scored_demo

from ideal import audit
from ideal.assessment import ensure_cycle, ingest_paths, score
from ideal.config import PROJECT_ROOT, Workspace
from ideal.cycles import (
    Cycle,
    CycleError,
    close_cycle,
    cycle_status,
    get_cycle,
    out_tables,
    publish_revision,
)
from ideal.warehouse import connect, replace_where

CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL", "MEX", "PER"))
HEADER = "country,period,indicator,value,unit,source,reliability,credibility,trend,notes\n"


def test_a_cycle_goes_open_closed_published(ws: Workspace) -> None:
    ensure_cycle(ws, CYCLE)
    with connect(ws.warehouse_path) as con:
        assert get_cycle(con, "2025").status == "open"
        assert close_cycle(con, "2025").status == "closed"
        assert close_cycle(con, "2025").status == "closed"  # no-op
        with pytest.raises(CycleError, match="no scores to publish"):
            publish_revision(con, "2025")
        assert get_cycle(con, "2025").status == "closed"


def test_publishing_freezes_the_scores_and_a_new_revision_keeps_the_old(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    with connect(ws.warehouse_path) as con:
        cycle = publish_revision(con, "2024")  # from open: closes, then publishes
        assert (cycle.status, cycle.revision) == ("published", 1)
        live = con.execute("SELECT * FROM out_threat__category_scores ORDER BY ALL").fetchall()
        actions = [a for a in audit.read(con, "2024")["action"] if a in ("close", "publish")]
        assert actions == ["close", "publish"]
    with pytest.raises(CycleError, match=r"published \(revision 1\).*ideal cycle revise"):
        score(ws, "2024")
    with connect(ws.warehouse_path, read_only=True) as con:  # the refusal changed nothing
        assert (
            con.execute("SELECT * FROM out_threat__category_scores ORDER BY ALL").fetchall() == live
        )

    score(ws, "2024", new_revision=True, reason="population revised")
    with connect(ws.warehouse_path) as con:
        cycle = get_cycle(con, "2024")
        assert (cycle.status, cycle.revision) == ("closed", 2)
        frozen = con.execute(
            "SELECT * EXCLUDE (revision) FROM out_threat__category_scores_published "
            "WHERE cycle_id = '2024' AND revision = 1 ORDER BY ALL"
        ).fetchall()
        assert frozen == live  # revision 1 as the committee saw it
        for name in out_tables():  # every out_ table has its frozen copy
            frozen_n = con.execute(
                f"SELECT count(*) FROM {name}_published WHERE revision = 1"
            ).fetchone()
            live_n = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            assert frozen_n == live_n, name
        publish_revision(con, "2024")
        revisions = con.execute(
            "SELECT revision, is_published, reason FROM core_cycle__revisions ORDER BY revision"
        ).fetchall()
        assert revisions == [(1, True, None), (2, True, "population revised")]
        both = con.execute(
            "SELECT DISTINCT revision FROM out_threat__regional_priorities_published ORDER BY 1"
        ).fetchall()
        assert both == [(1,), (2,)]


def test_status_per_expected_country(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    good = tmp_path / "COL.csv"
    good.write_text(HEADER + "COL,2025,cocaine_seized_kg,650000,kg,DIJIN,B,2,,\n")
    bad = tmp_path / "PER.csv"
    bad.write_text(
        HEADER + "PER,2025,cocaine_seized_kg,12,kg,PNP,B,2,,\n"
        "PER,2025,kidnappings_count,abc,count,PNP,B,2,,\n"
    )
    ingest_paths(ws, "2025", [good, bad])
    with connect(ws.warehouse_path, read_only=True) as con:
        st = {c.country_iso3: c for c in cycle_status(con, "2025").countries}
    assert (st["COL"].state, st["COL"].n_accepted, st["COL"].kinds_current) == (
        "accepted",
        1,
        ("indicators",),
    )
    assert (st["PER"].state, st["PER"].n_rejected) == ("rejected", 1)
    assert (st["MEX"].state, st["MEX"].n_submitted, st["MEX"].last_received_at) == (
        "missing",
        0,
        None,
    )
    assert st["COL"].last_received_at is not None

    result = CliRunner().invoke(cli_app(), ["cycle", "status", "2025", "--home", str(ws.home)])
    assert result.exit_code == 0, result.output
    assert re.search(r"MEX\s+missing", result.output)
    assert re.search(r"PER\s+rejected", result.output)


def test_cli_publish_and_refusals_are_one_line(tmp_path: Path) -> None:
    ws = scored_demo(tmp_path)
    app, home = cli_app(), ["--home", str(ws.home)]
    done = CliRunner().invoke(app, ["cycle", "publish", "2024", *home])
    assert done.exit_code == 0, done.output
    assert "published (revision 1)" in done.output
    closed = CliRunner().invoke(app, ["cycle", "close", "2024", *home])
    assert closed.exit_code == 2 and "already published" in closed.output
    unknown = CliRunner().invoke(app, ["cycle", "close", "1999", *home])
    assert unknown.exit_code == 2 and "no cycle '1999'" in unknown.output
    assert "Traceback" not in closed.output + unknown.output


# -- the audit log ------------------------------------------------------------------------------
def test_the_audit_log_records_who_did_what(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, CYCLE)
    v1 = tmp_path / "COL_v1.csv"
    v1.write_text(HEADER + "COL,2025,cocaine_seized_kg,650000,kg,DIJIN,B,2,,\n")
    v2 = tmp_path / "COL_v2.csv"
    v2.write_text(HEADER + "COL,2025,cocaine_seized_kg,700000,kg,DIJIN,B,2,,\n")
    bad = tmp_path / "PER.csv"
    bad.write_text(
        HEADER + "PER,2025,cocaine_seized_kg,12,kg,PNP,B,2,,\n"
        "PER,2025,kidnappings_count,abc,count,PNP,B,2,,\n"
    )
    with audit.acting_for("flow-run-123"):
        outcomes = ingest_paths(ws, "2025", [v1, v2, bad, v1])  # v1 again: nothing to log
    with connect(ws.warehouse_path, read_only=True) as con:
        log = audit.read(con)
    assert list(log["action"]) == ["open", "ingest", "ingest", "supersede", "reject"]
    assert list(log["action_no"]) == [1, 2, 3, 4, 5]
    supersede = log.iloc[3]
    assert supersede["submission_sha256"] == outcomes[0].sha256
    assert outcomes[1].sha256 in supersede["details_json"]
    assert log.iloc[4]["country_iso3"] == "PER"
    assert set(log["flow_run_id"].iloc[1:]) == {"flow-run-123"}
    assert log["actor"].str.contains("@").all()


def test_the_audit_log_is_append_only(ws: Workspace) -> None:
    ensure_cycle(ws, CYCLE)
    with connect(ws.warehouse_path) as con:
        with pytest.raises(ValueError, match="append-only"):
            replace_where(con, "core_audit__actions", audit.read(con), "true", [])
        with pytest.raises(ValueError, match="unknown audit action"):
            audit.record(con, "delete")  # type: ignore[arg-type]
    public = [n for n, f in inspect.getmembers(audit, inspect.isfunction) if not n.startswith("_")]
    assert not [n for n in public if re.search(r"update|delete|remove|clear|edit", n)]
    # no code in the package changes or removes audit rows
    for path in (PROJECT_ROOT / "ideal").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(UPDATE|DELETE FROM)\s+core_audit__actions", text), path
