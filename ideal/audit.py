"""The audit log: who or what did what to the warehouse, when, and to which record.

``core_audit__actions`` is append-only. This module is its only writer and offers no
way to change or remove a row: ``record`` appends one, ``read`` returns them, and
``ideal.warehouse.replace_where`` refuses the table. Rows are written inside the
transaction of the action they describe, so an action that rolls back (or dies with
its process) leaves no audit row, and one that commits always has one.

Who: the operating-system user and host, plus the Prefect flow run id when the action
runs under a flow: passed explicitly, set with ``acting_for(flow_run_id)`` (the
``pipelines/`` tasks can wrap their calls in it; ideal itself never imports prefect),
or found in ``PREFECT__FLOW_RUN_ID``, which Prefect sets for deployed runs.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, get_args

import duckdb
import pandas as pd

logger = logging.getLogger(__name__)

TABLE = "core_audit__actions"

Action = Literal[
    "open", "close", "score", "publish", "ingest", "reject", "supersede", "restore", "migrate"
]
ACTIONS: frozenset[str] = frozenset(get_args(Action))

_flow_run: ContextVar[str | None] = ContextVar("ideal_audit_flow_run", default=None)


@contextmanager
def acting_for(flow_run_id: str | None) -> Iterator[None]:
    """Attribute the actions recorded inside this block to a Prefect flow run."""
    token = _flow_run.set(flow_run_id)
    try:
        yield
    finally:
        _flow_run.reset(token)


def actor() -> str:
    """``user@host`` of this process (a container without a passwd entry gives uid N)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def current_flow_run(explicit: str | None = None) -> str | None:
    return explicit or _flow_run.get() or os.environ.get("PREFECT__FLOW_RUN_ID") or None


def record(
    con: duckdb.DuckDBPyConnection,
    action: Action,
    *,
    cycle_id: str | None = None,
    revision: int | None = None,
    country_iso3: str | None = None,
    submission_sha256: str | None = None,
    details: dict[str, object] | None = None,
    flow_run_id: str | None = None,
) -> int:
    """Append one action; returns its number. Runs inside the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; known: {sorted(ACTIONS)}")
    # One writer holds the warehouse (ideal.locking), so max + 1 cannot race.
    row = con.execute(
        f"INSERT INTO {TABLE} SELECT coalesce(max(action_no), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? "
        f"FROM {TABLE} RETURNING action_no",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            actor(),
            current_flow_run(flow_run_id),
            action,
            cycle_id,
            revision,
            country_iso3,
            submission_sha256,
            json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
            if details
            else None,
        ],
    ).fetchone()
    assert row is not None  # RETURNING gives the inserted row
    return int(row[0])


def record_ingest(
    con: duckdb.DuckDBPyConnection,
    *,
    sha: str,
    cycle_id: str,
    status: str,
    country_iso3: str | None,
    kind: str | None,
    n_rows: int,
    n_errors: int,
    n_warnings: int,
) -> None:
    """Audit one submission's outcome, and the submissions it supersedes.

    Call inside the ingest transaction *before* the ledger is updated: the submissions
    still current then are the ones this one retires.
    """
    accepted = status in ("accepted", "accepted_with_warnings")
    details: dict[str, object] = {
        "status": status,
        "kind": kind,
        "rows": n_rows,
        "errors": n_errors,
        "warnings": n_warnings,
    }
    record(
        con,
        "ingest" if accepted else "reject",
        cycle_id=cycle_id,
        country_iso3=country_iso3,
        submission_sha256=sha,
        details=details,
    )
    if not accepted or country_iso3 is None or kind is None:
        return
    retired = con.execute(
        "SELECT submission_sha256 FROM raw_intake__submissions WHERE cycle_id = ? "
        "AND country_iso3 = ? AND submission_kind = ? AND is_current "
        "AND submission_sha256 <> ? ORDER BY submission_sha256",
        [cycle_id, country_iso3, kind, sha],
    ).fetchall()
    for (old,) in retired:
        record(
            con,
            "supersede",
            cycle_id=cycle_id,
            country_iso3=country_iso3,
            submission_sha256=old,
            details={"superseded_by": sha, "kind": kind},
        )


def read(
    con: duckdb.DuckDBPyConnection, cycle_id: str | None = None, limit: int | None = None
) -> pd.DataFrame:
    """The log, oldest first (optionally one cycle's actions, optionally the last N)."""
    where = "WHERE cycle_id = ?" if cycle_id is not None else ""
    params: list[object] = [cycle_id] if cycle_id is not None else []
    frame = con.execute(f"SELECT * FROM {TABLE} {where} ORDER BY action_no", params).df()
    return frame.tail(limit).reset_index(drop=True) if limit else frame
