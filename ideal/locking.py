"""One writer at a time: a cross-process lock file beside the warehouse.

DuckDB lets one process open a database file for writing and, while it does, no other
process may open it at all (not even to read). Left alone, a second ``ideal ingest``
fails at once with DuckDB's "Could not set lock on file". So every writable
``ideal.warehouse.connect`` first takes an exclusive ``fcntl.flock`` on
``<warehouse>.lock`` (``$IDEAL_HOME/warehouse.duckdb.lock``):

* a second writer waits, saying who holds the lock ("another ideal process is writing
  (pid N, since T); waiting up to S s…"), then proceeds; after ``IDEAL_LOCK_TIMEOUT``
  seconds (default 600) it stops with one clear line;
* the operating system releases a flock when its process dies (even by ``kill -9``), so
  a crashed run never leaves a stale lock behind; the file itself stays, with the last
  holder's pid, and is never deleted (deleting a lock file races with its next holder);
* within one process the lock is re-entrant (a counter per warehouse, under a
  threading lock), so nested writable connections and Prefect's threads do not
  deadlock on themselves.

Readers take no flock. A read-only open that DuckDB refuses because another process
is writing is retried for up to ``IDEAL_READ_WAIT`` seconds (default 30), then fails
saying who is writing and what to do. We do not read from a copy of the file instead:
a copy taken while a writer is mid-transaction is not a consistent snapshot unless the
writer cooperates, which would slow every write; ``ideal backup`` makes a consistent copy
for anyone who needs to query during long loads. Writers retry DuckDB's own lock the
same way, for a reader (or an analyst's DuckDB session) that briefly holds the file.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ideal.warehouse import DUCKDB_CONFIG, WarehouseError

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_ENV = "IDEAL_LOCK_TIMEOUT"
READ_WAIT_ENV = "IDEAL_READ_WAIT"
DEFAULT_LOCK_TIMEOUT = 600.0
DEFAULT_READ_WAIT = 30.0
_POLL = 0.1
_PID_RE = re.compile(r"PID (\d+)")


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse for longer than we may wait."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the writer lock, as it wrote itself into the lock file."""

    pid: int
    since: str
    command: str

    def describe(self) -> str:
        return f"pid {self.pid}, `{self.command}`, since {self.since} UTC"


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _seconds(env: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(env, default)))
    except ValueError:
        return default


def lock_timeout() -> float:
    return _seconds(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT)


def read_wait() -> float:
    return _seconds(READ_WAIT_ENV, DEFAULT_READ_WAIT)


def read_holder(warehouse: Path) -> Holder | None:
    """The last holder recorded in the lock file (None if unknown or half-written)."""
    try:
        doc = json.loads(lock_path(warehouse).read_text(encoding="utf-8"))
        return Holder(int(doc["pid"]), str(doc["since"]), str(doc["command"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _command() -> str:
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:3]]
    return " ".join(a for a in argv if a)[:80]


class _Held:
    """This process's hold on one warehouse's lock file."""

    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.count = 0
        self.fd: int | None = None


_registry: dict[Path, _Held] = {}
_registry_lock = threading.Lock()


def _held(path: Path) -> _Held:
    with _registry_lock:
        return _registry.setdefault(path, _Held())


@contextmanager
def writer_lock(warehouse: Path, timeout: float | None = None) -> Iterator[float]:
    """Hold the warehouse's writer lock; yields the deadline (``time.monotonic``) used.

    Waits up to ``timeout`` seconds (``IDEAL_LOCK_TIMEOUT`` by default) for another
    process, then raises WarehouseBusy with one clear line.
    """
    wait = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + wait
    path = lock_path(warehouse.absolute())
    held = _held(path)
    if not held.thread_lock.acquire(timeout=wait if wait > 0 else -1):
        raise WarehouseBusy(
            f"Gave up after {wait:.0f} s: another thread of this process is writing the "
            f"warehouse {warehouse}."
        )
    try:
        if held.count == 0:
            held.fd = _flock(path, warehouse, wait, deadline)
        held.count += 1
        try:
            yield deadline
        finally:
            held.count -= 1
            if held.count == 0 and held.fd is not None:
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)
                held.fd = None
    finally:
        held.thread_lock.release()


def _flock(path: Path, warehouse: Path, wait: float, deadline: float) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WarehouseError(
            f"Cannot write the warehouse's lock file {path} ({exc.strerror}). Check that "
            f"IDEAL_HOME ({path.parent}) is a writable folder with free space."
        ) from exc
    announced = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            holder = read_holder(warehouse)
            who = holder.describe() if holder else "pid unknown"
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"Gave up after {wait:.0f} s: another ideal process is still writing the "
                    f"warehouse ({who}). Wait for it to finish, or set {LOCK_TIMEOUT_ENV} to "
                    "wait longer."
                )
            if not announced:
                logger.warning(
                    "another ideal process is writing (%s); waiting up to %.0f s…", who, wait
                )
                announced = True
            time.sleep(_POLL)
        # We hold the lock: say who we are, for anyone who waits on us.
        me = {
            "pid": os.getpid(),
            "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "command": _command(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        if announced:
            logger.warning("the other writer finished; proceeding")
        return fd
    except BaseException:
        os.close(fd)
        raise


def is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def open_duckdb(path: Path, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried while another process holds DuckDB's own file lock.

    Raises WarehouseBusy (with the cause) once ``deadline`` passes.
    """
    announced = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(DUCKDB_CONFIG))
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(_busy_message(path, exc, read_only)) from exc
            if not announced:
                logger.warning(
                    "the warehouse is open for writing in another process (%s); waiting…",
                    _who(path, exc),
                )
                announced = True
            time.sleep(_POLL)


def _who(path: Path, exc: BaseException) -> str:
    match = _PID_RE.search(str(exc))
    pid = int(match.group(1)) if match else None
    holder = read_holder(path)
    if holder is not None and (pid is None or holder.pid == pid):
        return f"ideal, {holder.describe()}"
    return f"pid {pid}" if pid is not None else "another process"


def _busy_message(path: Path, exc: BaseException, read_only: bool) -> str:
    who = _who(path, exc)
    if read_only:
        return (
            f"Cannot read the warehouse now: another process is writing it ({who}), and "
            "DuckDB lets no other process open the file until that write ends. Try again "
            f"when it finishes (or set {READ_WAIT_ENV} to wait longer); to query during "
            "long loads, restore a copy made with `ideal backup`."
        )
    return (
        f"Cannot write the warehouse: another program has it open ({who}). Close that "
        "DuckDB session or notebook, or wait for it to finish, and try again."
    )
