"""What the flows share: the workspace, concurrency limits, retries and the task runner.

* Concurrency. Two global concurrency limits, created on first use if missing so that
  they hold on the embedded API as on a server: ``ideal-validation`` caps how many files
  are validated at once across every flow run and worker (``IDEAL_VALIDATION_SLOTS``,
  default 4; change it later with ``prefect gcl update``), and ``ideal-warehouse-writer``
  (1 slot) queues the flow runs that write the DuckDB warehouse, which allows a single
  writer process. Slots are taken in the flow body, once per phase, not per task:
  acquiring a slot from inside a running task costs about 2 s on the SQLite-backed API
  (the server answers 503 "database is locked" once and the client backs off).
* Retries only where I/O fails transiently: a file still being copied into the inbox,
  or the warehouse locked by another process. A validation finding or a bug is never
  retried (``retry_transient`` is every task's ``retry_condition_fn``).
* Library logs: Prefect hands its API log handler to the extra loggers
  (``PREFECT_LOGGING_EXTRA_LOGGERS=ideal``) but not a level, so ideal's INFO records
  would stop at the root logger's WARNING; ``ideal`` gets Prefect's logging level.
* Task runner for validation, chosen at run time: threads by default, Dask through
  prefect-dask with ``IDEAL_TASK_RUNNER=dask`` (``IDEAL_DASK_ADDRESS`` for an existing
  scheduler, else a temporary local cluster on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import duckdb
from prefect.cache_policies import NO_CACHE

from ideal.config import Workspace, workspace
from ideal.warehouse import WarehouseError

VALIDATION_LIMIT = "ideal-validation"
WRITER_LIMIT = "ideal-warehouse-writer"
DEFAULT_VALIDATION_SLOTS = 4
# An empty file this young is probably still being created by a copy.
SETTLE_SECONDS = 5.0
# Back-off for transient I/O: enough for a copy or another writer's transaction to end.
RETRY_DELAYS: list[float] = [2.0, 10.0, 30.0]
# A flow run waits at most this long for its concurrency slots before it fails.
WAIT_SECONDS = 1800.0


def _library_logs_reach_prefect() -> None:
    from prefect.settings import get_current_settings

    library = logging.getLogger("ideal")
    if library.level == logging.NOTSET:  # a level set by the user wins
        library.setLevel(get_current_settings().logging.level)


_library_logs_reach_prefect()


def ws_of(home: str | None, reports: str | None) -> Workspace:
    return workspace(home, reports).ensure()


def artifact_key(*parts: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return "".join(c if c.isalnum() else "-" for c in text)


# -- transient I/O ------------------------------------------------------------------------
class FileStillChanging(OSError):
    """The file changed while it was read: a copy into the inbox is still running."""


def read_settled(path: Path, now: float | None = None) -> bytes:
    """The file's bytes, or FileStillChanging if it is still being written."""
    before = path.stat()
    age = (now if now is not None else time.time()) - before.st_mtime
    if before.st_size == 0 and age < SETTLE_SECONDS:
        raise FileStillChanging(f"{path.name} is empty and {age:.1f} s old: still being copied?")
    data = path.read_bytes()
    after = path.stat()
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise FileStillChanging(f"{path.name} changed while it was read: still being copied?")
    return data


def is_transient(exc: BaseException | None) -> bool:
    """True for I/O errors worth retrying: a file being copied, a locked warehouse."""
    if isinstance(exc, FileStillChanging):
        return True
    cause = exc.__cause__ if isinstance(exc, WarehouseError) else exc
    return isinstance(cause, duckdb.IOException) and "lock" in str(cause).lower()


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry a failed task only for transient I/O."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # a state without a readable result: do not retry blindly
        return False
    return isinstance(exc, BaseException) and is_transient(exc)


# Options of every task: retried on transient I/O only, and never cached (tasks read and
# write the workspace, so a cached result would hide a change; and no DataFrame is hashed).
IO_TASK: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "retries": len(RETRY_DELAYS),
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_condition_fn": retry_transient,
}


# -- concurrency limits -------------------------------------------------------------------
def validation_slots() -> int:
    return max(1, int(os.environ.get("IDEAL_VALIDATION_SLOTS", DEFAULT_VALIDATION_SLOTS)))


def ensure_limits() -> int:
    """Create the global concurrency limits if missing (existing values are kept).

    Returns how many validations a flow run may have in flight: ``IDEAL_VALIDATION_SLOTS``,
    capped by the ``ideal-validation`` limit (a run reserves that many of its slots).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    wanted = validation_slots()
    limits: dict[str, int] = {}
    with get_client(sync_client=True) as client:
        for name, slots in ((VALIDATION_LIMIT, wanted), (WRITER_LIMIT, 1)):
            try:
                found = client.read_global_concurrency_limit_by_name(name)
                limits[name] = found.limit if found.active else slots
            except ObjectNotFound:
                # another run may create it meanwhile
                with contextlib.suppress(ObjectAlreadyExists):
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(name=name, limit=slots)
                    )
                limits[name] = slots
    return max(1, min(wanted, limits[VALIDATION_LIMIT]))


# -- task runner --------------------------------------------------------------------------
def validation_runner() -> Any:
    """A fresh task runner for the validation tasks, from the environment.

    ``IDEAL_TASK_RUNNER``: ``threads`` (default; ``IDEAL_VALIDATION_SLOTS`` threads) or
    ``dask`` (``IDEAL_DASK_ADDRESS``: a running scheduler such as tcp://127.0.0.1:8786;
    unset, a temporary local cluster on 127.0.0.1 with no dashboard).
    """
    kind = os.environ.get("IDEAL_TASK_RUNNER", "threads").strip().lower()
    if kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=validation_slots())
    if kind == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        address = os.environ.get("IDEAL_DASK_ADDRESS")
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": 2,
                "threads_per_worker": 1,
                "host": "127.0.0.1",
                "dashboard_address": None,
            }
        )
    raise ValueError(f"IDEAL_TASK_RUNNER={kind!r}: use 'threads' or 'dask'.")
