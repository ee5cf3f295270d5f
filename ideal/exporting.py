"""Analysts' exits: export a cycle's tables, back up and restore the whole warehouse.

* ``export_cycle``: the ``core_`` and ``out_`` tables (and the lineage and
  reconciliation views) of one cycle, one file per table, with DuckDB's ``COPY … TO``
  in Parquet (bundled in the DuckDB wheel: no extension is downloaded) or CSV, plus an
  ``export.json`` saying what was exported from which warehouse. Reference tables
  (``core_ref__…``) have no cycle and go whole.
* ``backup``: DuckDB's ``EXPORT DATABASE`` (Parquet) of everything, views included,
  into a new or empty folder. It reads only, so it works beside a read-only analyst.
* ``restore``: ``IMPORT DATABASE`` into a new file next to the warehouse, checked, then
  moved into place (``os.replace``), under the writer lock. A warehouse that holds data
  is replaced only with ``force``; it is then kept as ``warehouse.duckdb.replaced-<time>``,
  never deleted. A backup from an older ideal is upgraded on its first open; one from a
  newer ideal is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from ideal import __version__, audit
from ideal.config import Workspace
from ideal.cycles import get_cycle
from ideal.locking import writer_lock
from ideal.migrations import check_version, schema_version
from ideal.warehouse import DUCKDB_CONFIG, TABLES, VIEWS, connect

logger = logging.getLogger(__name__)

Format = Literal["parquet", "csv"]
FORMATS: tuple[str, ...] = ("parquet", "csv")
EXPORTED_VIEWS = ("out_threat__lineage", "core_threat__reconciliation")


class ExportError(ValueError):
    """An export, backup or restore that cannot be done as asked; the message says why."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_target(folder: Path, force: bool = False) -> None:
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file; give a folder.")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ExportError(f"{folder} is not empty; give a new or empty folder (or --force).")


@dataclass(frozen=True)
class Exported:
    table: str
    path: Path
    n_rows: int


def export_cycle(
    ws: Workspace, cycle_id: str, fmt: str, folder: Path, *, force: bool = False
) -> list[Exported]:
    """Write the cycle's core_ and out_ tables to ``folder`` (one file per table)."""
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r}: use parquet or csv.")
    _check_target(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    options = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER)"
    out: list[Exported] = []
    with connect(ws.warehouse_path, read_only=True) as con:
        cycle = get_cycle(con, cycle_id)
        views = {v.name: v.columns for v in VIEWS}
        exported = [(t.name, t.columns) for t in TABLES if t.layer in ("core", "out")]
        exported += [(name, views[name]) for name in EXPORTED_VIEWS]
        for name, cols in exported:
            where = f" WHERE cycle_id = {_quote(cycle_id)}" if "cycle_id" in cols else ""
            path = folder / f"{name}.{fmt}"
            row = con.execute(
                f"COPY (SELECT * FROM {name}{where}) TO {_quote(str(path))} {options}"
            ).fetchone()
            out.append(Exported(name, path, int(row[0]) if row else 0))
        version = schema_version(con)
    meta = {
        "cycle_id": cycle_id,
        "cycle_status": cycle.status,
        "revision": cycle.revision,
        "format": fmt,
        "warehouse": str(ws.warehouse_path),
        "schema_version": version,
        "ideal_version": __version__,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": {e.table: {"file": e.path.name, "rows": e.n_rows} for e in out},
    }
    (folder / "export.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    logger.info("exported cycle %s: %d tables to %s", cycle_id, len(out), folder)
    return out


def backup(ws: Workspace, folder: Path) -> Path:
    """EXPORT DATABASE (Parquet) into a new or empty folder; returns the folder."""
    _check_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed: a failed backup leaves no folder that
    # looks complete.
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with connect(ws.warehouse_path, read_only=True) as con:
        con.execute(f"EXPORT DATABASE {_quote(str(partial))} (FORMAT parquet)")
    if folder.exists():
        folder.rmdir()  # empty, checked above
    os.replace(partial, folder)
    logger.info("backed up %s to %s", ws.warehouse_path, folder)
    return folder


def _has_data(path: Path) -> bool:
    if not path.exists():
        return False
    with connect(path, read_only=True) as con:
        for t in TABLES:
            row = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {t.name} LIMIT 1)").fetchone()
            if row and row[0]:
                return True
    return False


def restore(ws: Workspace, folder: Path, *, force: bool = False) -> Path:
    """IMPORT DATABASE from a backup folder into the workspace's warehouse."""
    if not (folder / "schema.sql").is_file() or not (folder / "load.sql").is_file():
        raise ExportError(f"{folder} is not a backup made by `ideal backup` (no schema.sql).")
    target = ws.warehouse_path
    if _has_data(target) and not force:
        raise ExportError(
            f"The warehouse {target} holds data; restore into a new workspace (--home) or "
            "pass --force to replace it (the current file is kept beside it)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".restoring")
    with writer_lock(target):
        for leftover in (incoming, incoming.with_name(incoming.name + ".wal")):
            leftover.unlink(missing_ok=True)
        try:
            con = duckdb.connect(str(incoming), config=dict(DUCKDB_CONFIG))
            try:
                con.execute(f"IMPORT DATABASE {_quote(str(folder))}")
                check_version(schema_version(con), folder)
                con.execute("CHECKPOINT")
            finally:
                con.close()
        except BaseException:
            incoming.unlink(missing_ok=True)
            raise
        if target.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = target.with_name(f"{target.name}.replaced-{stamp}")
            os.replace(target, kept)
            wal = target.with_name(target.name + ".wal")
            if wal.exists():
                os.replace(wal, kept.with_name(kept.name + ".wal"))
            logger.warning("the warehouse it replaces is kept as %s", kept)
        os.replace(incoming, target)
        with connect(target) as con:  # upgrades an older backup; re-entrant lock
            audit.record(con, "restore", details={"from": str(folder)})  # one INSERT: atomic
    logger.info("restored %s from %s", target, folder)
    return target
