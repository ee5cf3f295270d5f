"""Unit tests of what the flows stand on; none of them starts Prefect.

The helpers of ``pipelines.common`` (reading a settled file, telling transient I/O
errors from the rest, the task runner chosen by configuration) and the plain functions
of ``ideal.manifest`` (package version and git commit, publishing against the manifest).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from ideal import __version__
from ideal.config import DEMO_DIR, PROJECT_ROOT, Workspace
from ideal.cycles import CycleError, load_cycles_file
from ideal.warehouse import WarehouseError, connect
from pipelines.common import (
    FileStillChanging,
    artifact_key,
    is_transient,
    read_settled,
    retry_transient,
    validation_runner,
)


# -- reading a file that may still be arriving --------------------------------------------
def test_read_settled_returns_the_bytes(tmp_path: Path) -> None:
    f = tmp_path / "COL.csv"
    f.write_bytes(b"a;b\n1;2\n")
    assert read_settled(f) == b"a;b\n1;2\n"


def test_an_empty_new_file_is_still_being_copied(tmp_path: Path) -> None:
    f = tmp_path / "COL.xlsx"
    f.touch()
    with pytest.raises(FileStillChanging):
        read_settled(f)
    # an old empty file is just empty: validation will say so
    assert read_settled(f, now=time.time() + 60) == b""


def test_a_file_growing_while_read_is_still_being_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "COL.csv"
    f.write_bytes(b"a;b\n")
    original = Path.read_bytes

    def read_then_grow(self: Path) -> bytes:
        data = original(self)
        with self.open("ab") as fh:  # the copy goes on meanwhile
            fh.write(b"1;2\n")
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_grow)
    with pytest.raises(FileStillChanging):
        read_settled(f)


# -- which failures are retried ------------------------------------------------------------
def test_only_transient_io_is_retried() -> None:
    from prefect.states import Completed, Failed

    lock = duckdb.IOException('Could not set lock on file "w.duckdb": Conflicting lock')
    wrapped = WarehouseError("Cannot open the warehouse")
    wrapped.__cause__ = lock
    assert is_transient(FileStillChanging("COL.csv changed"))
    assert is_transient(lock) and is_transient(wrapped)
    assert not is_transient(WarehouseError("No warehouse at var/warehouse.duckdb"))
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(duckdb.IOException("No such file or directory"))

    assert retry_transient(None, None, Failed(data=FileStillChanging("x")))
    assert not retry_transient(None, None, Failed(data=KeyError("country")))
    assert not retry_transient(None, None, Completed(data=1))


# -- configuration -------------------------------------------------------------------------
def test_task_runner_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask.task_runners import DaskTaskRunner

    monkeypatch.delenv("IDEAL_TASK_RUNNER", raising=False)
    monkeypatch.setenv("IDEAL_VALIDATION_SLOTS", "3")
    threads = validation_runner()
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 3

    monkeypatch.setenv("IDEAL_TASK_RUNNER", "dask")
    monkeypatch.setenv("IDEAL_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    remote = validation_runner()
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://127.0.0.1:8786"
    monkeypatch.delenv("IDEAL_DASK_ADDRESS")
    local = validation_runner()
    assert isinstance(local, DaskTaskRunner)
    assert local.cluster_kwargs["host"] == "127.0.0.1"
    assert local.cluster_kwargs["dashboard_address"] is None

    monkeypatch.setenv("IDEAL_TASK_RUNNER", "ray")
    with pytest.raises(ValueError, match="threads"):
        validation_runner()


def test_artifact_keys_are_lowercase_letters_digits_and_dashes() -> None:
    assert artifact_key("priorities", "2025-Q1 (rev)") == "priorities-2025-q1--rev-"


# -- the manifest ----------------------------------------------------------------------------
def test_package_version_carries_the_commit_only_in_a_checkout(tmp_path: Path) -> None:
    from ideal.manifest import commit_of, git_commit, package_version

    assert git_commit(tmp_path) is None
    assert package_version(tmp_path) == __version__
    assert commit_of("0.1.0+g1a2b3c4d5e6f.dirty") == "1a2b3c4d5e6f"
    assert commit_of("0.1.0+g1a2b3c4d5e6f") == "1a2b3c4d5e6f"
    assert commit_of("0.1.0") is None and commit_of("0.0.0+unknown") is None
    if (PROJECT_ROOT / ".git").exists() and shutil.which("git"):
        head = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if head:
            assert git_commit(PROJECT_ROOT) == head
            assert commit_of(package_version(PROJECT_ROOT)) == head[:12]


def test_publish_needs_current_scores_and_then_freezes(ws: Workspace) -> None:
    from ideal import assessment
    from ideal.intake import copy_into_inbox
    from ideal.manifest import publish_cycle, read_manifest, stamp_run

    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[-1]
    assessment.ensure_cycle(ws, cycle)
    demo = sorted((DEMO_DIR / cycle.cycle_id).iterdir())
    with pytest.raises(CycleError, match="no scores"):
        publish_cycle(ws, cycle.cycle_id)

    assessment.ingest_paths(ws, cycle.cycle_id, demo[:4])
    assessment.score(ws, cycle.cycle_id)
    stamped = stamp_run(ws, cycle.cycle_id, "flow-run-1")
    assert stamped.flow_run_id == "flow-run-1" and stamped.seeds
    assert assessment.missing_countries(ws, cycle.cycle_id) == [
        c for c in cycle.expected_countries if c not in {"ARG", "BOL", "BRA", "CHL"}
    ]

    assessment.ingest_paths(ws, cycle.cycle_id, demo[4:5])  # new data after scoring
    with pytest.raises(CycleError, match="changed since scoring"):
        publish_cycle(ws, cycle.cycle_id)
    assessment.score(ws, cycle.cycle_id)
    manifest = publish_cycle(ws, cycle.cycle_id)
    assert assessment.load_cycle(ws, cycle.cycle_id).status == "published"
    assert [c.cycle_id for c in assessment.open_cycles(ws)] == []
    assert publish_cycle(ws, cycle.cycle_id) == manifest, "publishing again changes nothing"
    with connect(ws.warehouse_path, read_only=True) as con:
        assert read_manifest(con, cycle.cycle_id) == manifest
    copy_into_inbox(ws, cycle.cycle_id, demo[5:6])  # the inbox of a frozen cycle is left alone
    assert os.listdir(ws.inbox_for(cycle.cycle_id)) == [demo[5].name]
