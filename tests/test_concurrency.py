"""One writer at a time, across processes: a second writer waits, readers are told why.

Every test here uses real subprocesses: the lock is an fcntl.flock on a file under
IDEAL_HOME, and DuckDB's own file lock is per process.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from warehouse_support import subprocess_env, write_events

from ideal.assessment import ensure_cycle, ingest_paths
from ideal.config import Workspace
from ideal.cycles import Cycle
from ideal.warehouse import WarehouseError, connect

CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL", "PER"))

INGEST = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
from ideal.assessment import ingest_paths
from ideal.config import workspace
ws = workspace(sys.argv[1], sys.argv[1] + "/reports")
print("ready", flush=True)
sys.stdin.readline()  # "go": both processes have imported everything by then
[out] = ingest_paths(ws, "2025", [Path(sys.argv[2])])
print(out.status, out.country_iso3, out.n_rows, flush=True)
"""

HOLD = """
import sys, time
from pathlib import Path
from ideal.warehouse import connect
with connect(Path(sys.argv[1])) as con:
    con.execute("SELECT 1")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
"""


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


@pytest.fixture
def holder(ws: Workspace) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the warehouse for writing for 4 s."""
    proc = _spawn(HOLD, str(ws.warehouse_path), "4")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    proc.wait(timeout=30)


def test_two_ingests_at_once_both_load_the_second_after_waiting(
    ws: Workspace, tmp_path: Path
) -> None:
    ensure_cycle(ws, CYCLE)
    col = write_events(tmp_path / "COL.csv", 60_000, "Colombia")
    per = write_events(tmp_path / "PER.csv", 60_000, "Perú", seed=1)
    first = _spawn(INGEST, str(ws.home), str(col))
    second = _spawn(INGEST, str(ws.home), str(per))
    for proc in (first, second):
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    assert first.stdin is not None and second.stdin is not None
    first.stdin.write("go\n")
    first.stdin.flush()
    lock = ws.warehouse_path.with_name("warehouse.duckdb.lock")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and f'"pid": {first.pid}' not in _text(lock):
        time.sleep(0.01)  # until the first one holds the writer lock
    second.stdin.write("go\n")
    second.stdin.flush()
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "accepted COL 60000" in out1
    assert "accepted PER 60000" in out2
    assert f"another ideal process is writing (pid {first.pid}" in err2
    assert "waiting up to" in err2
    with connect(ws.warehouse_path, read_only=True) as con:
        counts = con.execute(
            "SELECT country_iso3, count(*) FROM core_threat__events GROUP BY 1 ORDER BY 1"
        ).fetchall()
        statuses = con.execute(
            "SELECT country_iso3, submission_status FROM raw_intake__submissions ORDER BY 1"
        ).fetchall()
    assert counts == [("COL", 60_000), ("PER", 60_000)]
    assert statuses == [("COL", "accepted"), ("PER", "accepted")]


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def test_a_writer_gives_up_after_the_timeout_with_one_clear_line(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_cycle(ws, CYCLE)
    proc = _spawn(HOLD, str(ws.warehouse_path), "4")
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    monkeypatch.setenv("IDEAL_LOCK_TIMEOUT", "0.5")
    started = time.monotonic()
    with pytest.raises(WarehouseError) as caught:
        ingest_paths(ws, "2025", [write_events(tmp_path / "COL.csv", 10)])
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert "\n" not in message
    assert (
        f"Gave up after 0 s: another ideal process is still writing the warehouse (pid {proc.pid}"
        in message
    )
    assert "IDEAL_LOCK_TIMEOUT" in message
    proc.wait(timeout=30)
    # nothing was recorded by the writer that gave up
    with connect(ws.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_intake__submissions").fetchone() == (0,)


def test_a_reader_during_a_write_is_told_why_and_what_to_do(
    ws: Workspace, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEAL_READ_WAIT", "0.3")
    with pytest.raises(WarehouseError) as caught, connect(ws.warehouse_path, read_only=True):
        pass
    message = str(caught.value)
    assert message.startswith("Cannot read the warehouse now: another process is writing it")
    assert f"pid {holder.pid}" in message and "ideal backup" in message


def test_a_reader_waits_for_a_short_write(
    ws: Workspace, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEAL_READ_WAIT", "30")
    with connect(ws.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core_cycle__cycles").fetchone() == (0,)
    assert holder.poll() is not None or holder.wait(timeout=10) == 0


def test_threads_of_one_process_take_turns(ws: Workspace) -> None:
    ensure_cycle(ws, CYCLE)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for _ in range(5):
                with connect(ws.warehouse_path) as con:
                    con.execute("BEGIN TRANSACTION")
                    con.execute(
                        "INSERT INTO core_ref__population VALUES ('COL', ?, 1)",
                        [2000 + k * 10 + _],
                    )
                    con.execute("COMMIT")
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with connect(ws.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core_ref__population").fetchone() == (20,)
