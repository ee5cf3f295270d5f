"""Crash safety: kill -9 during an ingest, a read-only or full disk, and idempotency.

The kill test runs a real ingest of a large event-record file (the SQL path) in a
subprocess and kills it at random moments; after each kill the warehouse must open,
hold no partial submission, and a rerun must reach exactly the clean run's tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warehouse_support import DEMO_DIR, subprocess_env, table_fingerprints, table_rows, write_events

from ideal.assessment import ensure_cycle, ingest_paths, score
from ideal.config import Workspace, workspace
from ideal.cycles import Cycle, load_cycles_file
from ideal.warehouse import WarehouseError, connect

CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL", "PER"))
HEADER = "country,period,indicator,value,unit,source,reliability,credibility,trend,notes\n"
N_EVENTS = 200_000
KILLS = 10

# ingest_paths without importing the scoring stack (starts in 0.7 s instead of 1.4 s)
INGEST = """
import sys
from pathlib import Path
from ideal.catalogue import load_catalogue
from ideal.config import workspace
from ideal.cycles import get_cycle
from ideal.intake import ingest_file
from ideal.reference import default_resolver
from ideal.warehouse import connect
ws = workspace(sys.argv[1], sys.argv[1] + "/reports")
catalogue, resolver = load_catalogue(), default_resolver()
print("ready", flush=True)
with connect(ws.warehouse_path) as con:
    cycle = get_cycle(con, "2025")
    for p in sys.argv[2:]:
        ingest_file(con, ws, Path(p), cycle, catalogue, resolver)
print("done", flush=True)
"""


def _fresh(root: Path) -> Workspace:
    ws = workspace(root / "home", root / "reports").ensure()
    ensure_cycle(ws, CYCLE)
    return ws


def _assert_no_partial_submission(ws: Workspace, watch: str = "") -> str:
    """Check every submission is whole or absent; returns the status of ``watch``."""
    state = "absent"
    with connect(ws.warehouse_path) as con:  # opens, replays its WAL
        subs = con.execute(
            "SELECT submission_sha256, submission_status, n_rows, submission_kind "
            "FROM raw_intake__submissions"
        ).fetchall()
        for sha, status, n_rows, kind in subs:
            raw = con.execute(
                "SELECT (SELECT count(*) FROM raw_intake__event_rows WHERE submission_sha256 = $1)"
                " + (SELECT count(*) FROM raw_intake__indicator_rows WHERE submission_sha256 = $1)",
                [sha],
            ).fetchone()
            events = con.execute(
                "SELECT count(*) FROM core_threat__events WHERE submission_sha256 = ?", [sha]
            ).fetchone()
            logged = con.execute(
                "SELECT count(*) FROM core_audit__actions WHERE submission_sha256 = ?", [sha]
            ).fetchone()
            if sha == watch:
                state = status
            if status == "received":  # ledger row before parsing: allowed, re-processed
                assert (raw, events, logged) == ((0,), (0,), (0,)), sha
            else:
                assert raw == (n_rows,) and logged == (1,), (sha, status)
                if kind == "events":
                    assert events == (n_rows,)
    return state


@pytest.mark.slow
def test_kill_9_during_ingest_never_leaves_a_partial_submission(tmp_path: Path) -> None:
    events = write_events(tmp_path / "COL_eventos.csv", N_EVENTS)
    indicators = tmp_path / "PER.csv"
    indicators.write_text(HEADER + "PER,2025,cocaine_seized_kg,12000,kg,PNP,B,2,,\n")
    files = [str(indicators), str(events)]
    watch = hashlib.sha256(events.read_bytes()).hexdigest()

    clean = _fresh(tmp_path / "clean")
    started = time.monotonic()
    ingest_paths(clean, "2025", [Path(f) for f in files])
    window = time.monotonic() - started  # how long the ingest itself takes
    expected = table_fingerprints(clean.warehouse_path)
    assert expected["core_threat__events"][0] == N_EVENTS
    ledger = table_rows(clean.warehouse_path, ("raw",))["raw_intake__submissions"]

    base = _fresh(tmp_path / "base")
    states = []
    rng = random.Random(20250314)
    for k in range(KILLS):
        root = tmp_path / f"kill{k}"
        shutil.copytree(base.home, root / "home")
        ws = workspace(root / "home", root / "reports")
        proc = subprocess.Popen(
            [sys.executable, "-c", INGEST, str(ws.home), *files],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=subprocess_env(),
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, window * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        states.append(_assert_no_partial_submission(ws, watch))
        ingest_paths(ws, "2025", [Path(f) for f in files])  # the rerun
        assert table_fingerprints(ws.warehouse_path) == expected, f"kill {k}"
        assert table_rows(ws.warehouse_path, ("raw",))["raw_intake__submissions"] == ledger
        shutil.rmtree(root)
    # the kills landed before and during the load, not only after it
    assert {"absent", "received"} & set(states), states


# -- a read-only or full IDEAL_HOME ----------------------------------------------------------
def _mount(*args: str) -> bool:
    try:
        return subprocess.run(["mount", *args], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def test_a_file_where_ideal_home_should_be_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    ws = workspace(blocker, tmp_path / "reports")
    with pytest.raises(WarehouseError) as caught, connect(ws.warehouse_path):
        pass
    message = str(caught.value)
    assert "\n" not in message and "writable folder" in message
    assert blocker.read_text() == "not a folder"


def test_a_read_only_ideal_home_is_one_clear_error_and_reads_still_work(
    tmp_path: Path,
) -> None:
    ws = _fresh(tmp_path)
    src = tmp_path / "COL.csv"
    src.write_text(HEADER + "COL,2025,cocaine_seized_kg,650000,kg,DIJIN,B,2,,\n")
    before = table_rows(ws.warehouse_path)
    if os.geteuid() != 0:  # an ordinary user: permissions are enforced
        for path in (ws.home, *ws.home.iterdir()):
            path.chmod(0o555 if path.is_dir() else 0o444)
        cleanup = lambda: [p.chmod(0o755) for p in (ws.home, *ws.home.iterdir())]  # noqa: E731
    else:  # root ignores permissions: a read-only bind mount enforces them
        if not (_mount("--bind", str(ws.home), str(ws.home))):
            pytest.skip(
                "running as root without permission to mount: cannot make a read-only folder"
            )
        if not _mount("-o", "remount,ro,bind", str(ws.home)):
            _mount_cleanup(ws.home)
            pytest.skip("cannot remount read-only here")
        cleanup = lambda: _mount_cleanup(ws.home)  # noqa: E731
    try:
        with pytest.raises((WarehouseError, OSError)) as caught:
            ingest_paths(ws, "2025", [src])
        message = str(caught.value)
        assert "\n" not in message
        assert "Read-only file system" in message or "Permission denied" in message
        assert table_rows(ws.warehouse_path) == before  # reading still works; nothing changed
    finally:
        cleanup()


def _mount_cleanup(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, timeout=10)


# 6 MB: the archive copy of the 9 MB file fails; 11 MB: it fits and DuckDB's write fails.
@pytest.mark.parametrize("size", ["6m", "11m"])
def test_a_full_disk_is_one_clear_error_and_leaves_nothing_half_written(
    tmp_path: Path, size: str
) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)):
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        ws = _fresh(mnt)
        before = table_rows(ws.warehouse_path)
        events = write_events(tmp_path / "COL_eventos.csv", 120_000)  # outside: ~9 MB
        with pytest.raises((WarehouseError, OSError)) as caught:
            ingest_paths(ws, "2025", [events])
        message = str(caught.value)
        assert "\n" not in message
        assert "No space left on device" in message
        _assert_no_partial_submission(ws)
        after = table_rows(ws.warehouse_path)
        assert after["core_threat__events"] == before["core_threat__events"] == []
        assert not list((ws.archive).rglob(".incoming-*"))  # no half-written archive copy
        # with space again, the same ingest completes
        assert _mount("-o", "remount,size=256m", str(mnt))
        [out] = ingest_paths(ws, "2025", [events])
        assert out.status == "accepted"
    finally:
        _mount_cleanup(mnt)


# -- idempotency ------------------------------------------------------------------------------
@pytest.mark.slow
def test_ingesting_the_same_files_twice_in_any_order_gives_the_same_tables(
    tmp_path: Path,
) -> None:
    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[0]
    files = sorted(p for p in (DEMO_DIR / cycle.cycle_id).iterdir() if p.suffix == ".csv")
    files.append(write_events(tmp_path / "COL_eventos.csv", 5_000))

    def run(root: Path, order: list[Path]) -> tuple[Workspace, dict[str, list[tuple[object, ...]]]]:
        ws = workspace(root / "home", root / "reports").ensure()
        ensure_cycle(ws, cycle)
        ingest_paths(ws, cycle.cycle_id, order)
        score(ws, cycle.cycle_id)
        return ws, table_rows(ws.warehouse_path, ("core", "out"), with_audit=False)

    ws, first = run(tmp_path / "a", files)
    assert first["out_threat__category_scores"]
    rng = random.Random(7)
    again = files[:]
    rng.shuffle(again)
    ingest_paths(ws, cycle.cycle_id, again)  # the same set again, another order
    score(ws, cycle.cycle_id)
    assert table_rows(ws.warehouse_path, ("core", "out"), with_audit=False) == first
    _, other = run(tmp_path / "b", list(reversed(files)))
    assert other == first
