"""Helpers shared by the warehouse tests: a scored demo warehouse, table snapshots, a CLI.

The demo warehouse (cycle 2024 of data/demo, ingested and scored) is built once per test
process and copied for each test that needs one, so each test owns its file.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import typer

from ideal.config import DEMO_DIR, PROJECT_ROOT, Workspace, workspace
from ideal.warehouse import TABLES, connect

# Columns that record *when* something happened (or who): they differ between two runs
# that are otherwise identical.
VOLATILE = {"received_at", "opened_at", "run_at", "acted_at", "started_at", "published_at"}
PATHS = {"archive_path", "quarantine_path"}


def subprocess_env() -> dict[str, str]:
    """This environment, with the project importable by a child ``python -c`` process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@functools.cache
def _demo_home() -> Path:
    from ideal.assessment import ensure_cycle, ingest_paths, score
    from ideal.cycles import load_cycles_file

    root = Path(tempfile.mkdtemp(prefix="ideal-demo-wh-"))
    ws = workspace(root / "home", root / "reports").ensure()
    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[0]
    ensure_cycle(ws, cycle)
    files = sorted(p for p in (DEMO_DIR / cycle.cycle_id).iterdir() if p.is_file())
    ingest_paths(ws, cycle.cycle_id, files)
    score(ws, cycle.cycle_id)
    return ws.home


def scored_demo(tmp_path: Path) -> Workspace:
    """A private copy of the scored demo warehouse (cycle 2024, 17 countries)."""
    ws = workspace(tmp_path / "home", tmp_path / "reports").ensure()
    shutil.copyfile(_demo_home() / "warehouse.duckdb", ws.warehouse_path)
    return ws


def table_rows(
    path: Path, layers: tuple[str, ...] = ("raw", "core", "out"), *, with_audit: bool = True
) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted, without the columns that record time or place."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with connect(path, read_only=True) as con:
        for t in TABLES:
            if t.layer not in layers or (t.name == "core_audit__actions" and not with_audit):
                continue
            cols = [c for c in t.columns if c not in VOLATILE | PATHS]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t.name}").fetchall()
            out[t.name] = sorted(rows, key=repr)
    return out


def cli_app() -> typer.Typer:
    """The real ``ideal`` command, with the warehouse commands as users get them."""
    from ideal.cli import app

    return app


EVENT_HEADER = (
    "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
    "credibilidad;notas\n"
)
_ITEMS = (
    ("incautación", "cocaína", "kg"),
    ("incautación", "armas de fuego", "count"),
    ("víctima", "víctima de trata", "count"),
    ("incidente", "secuestro", "count"),
)


def write_events(path: Path, n: int, country: str = "Colombia", seed: int = 0) -> Path:
    """An event-record CSV (; and decimal comma, as national exports are) of n rows.

    No two rows are the same event (a repeat draws a warning) below 336,084 rows.
    """
    with path.open("w", encoding="utf-8") as fh:
        fh.write(EVENT_HEADER)
        for k in range(n):
            etype, item, unit = _ITEMS[(k + seed) % len(_ITEMS)]
            qty = f"{1 + (k * 7 + seed) % 90},5" if unit == "kg" else str(1 + (k + seed) % 3)
            fh.write(
                f"{country};{1 + k % 28:02d}/{1 + k % 12:02d}/2025;Región {k % 4001};{etype};"
                f"{item};{qty};{unit};Policía;B;2;\n"
            )
    return path


def table_fingerprints(path: Path, *, with_audit: bool = True) -> dict[str, tuple[object, ...]]:
    """Per table: row count and an order-free sum of row hashes (fast on millions of rows)."""
    out: dict[str, tuple[object, ...]] = {}
    with connect(path, read_only=True) as con:
        for t in TABLES:
            if t.name == "core_audit__actions" and not with_audit:
                continue
            cols = [c for c in t.columns if c not in VOLATILE | PATHS]
            row = con.execute(
                f"SELECT count(*), sum(hash({', '.join(cols)})::HUGEINT) FROM {t.name}"
            ).fetchone()
            assert row is not None
            out[t.name] = tuple(row)
    return out
