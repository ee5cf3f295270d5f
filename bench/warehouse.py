"""Warehouse benchmark: load event records and aggregate them into indicators (issue 4).

``python -m bench.warehouse [--sizes 10000,1000000,5000000]``

For each size, a national event register is generated (streamed to disk, the same
generator as ``python -m bench``: ';', decimal commas, Spanish headers, ~300 rows that
need pydantic), then measured in the same run:

* baseline: DuckDB's bare ``read_csv`` of the file (``count(*)``, every column VARCHAR);
* ingest: ``ideal ingest`` of the file into a fresh warehouse (archive, ledger, SQL-path
  validation, loading raw rows and events in one transaction, the audit row);
* aggregate: reading the cycle's ``core_threat__event_indicator_values`` view (events →
  indicators by schemas/aggregation_rules.yaml), and ``core_threat__scoring_values``,
  what scoring reads.

Each is given in seconds and as a ratio to the baseline; the growth column divides the
time per row by the time per row at the smallest size. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from bench import best_of

logger = logging.getLogger("bench.warehouse")


def bare_read(path: Path) -> float:
    con = duckdb.connect()
    try:
        sql = (
            f"SELECT count(*) FROM read_csv('{path}', delim=';', header=true, "
            "all_varchar=true, quote='\"')"
        )
        return best_of(lambda: con.execute(sql).fetchone())
    finally:
        con.close()


def measure(rows: int, workdir: Path) -> dict[str, float]:
    from bench.__main__ import make_event_csv
    from ideal.assessment import ensure_cycle, ingest_paths
    from ideal.config import workspace
    from ideal.cycles import Cycle
    from ideal.warehouse import connect

    path = workdir / f"COL_eventos_{rows}.csv"
    started = time.perf_counter()
    make_event_csv(path, rows)
    generated = time.perf_counter() - started
    read = bare_read(path)

    ws = workspace(workdir / f"home-{rows}", workdir / "reports").ensure()
    ensure_cycle(ws, Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL",)))
    started = time.perf_counter()
    [outcome] = ingest_paths(ws, "2025", [path])
    ingest = time.perf_counter() - started
    if outcome.n_rows != rows or not outcome.status.startswith("accepted"):
        raise RuntimeError(f"ingest of {rows:,} rows gave {outcome.status}")

    with connect(ws.warehouse_path, read_only=True) as con:
        aggregate = best_of(
            lambda: con.execute(
                "SELECT * FROM core_threat__event_indicator_values WHERE cycle_id = '2025'"
            ).fetchall()
        )
        scoring = best_of(
            lambda: con.execute(
                "SELECT * FROM core_threat__scoring_values WHERE cycle_id = '2025'"
            ).fetchall()
        )
        n_events = con.execute("SELECT count(*) FROM core_threat__events").fetchone()
    assert n_events == (rows,)
    shutil.rmtree(ws.home)
    path.unlink()
    return {
        "rows": rows,
        "generate": generated,
        "read": read,
        "ingest": ingest,
        "aggregate": aggregate,
        "scoring": scoring,
    }


def table(results: list[dict[str, float]]) -> str:
    base = results[0]
    base_per_row = base["ingest"] / base["rows"]
    lines = [
        "| rows | read_csv (s) | ingest (s) | ingest ÷ read | aggregate (s) | aggregate ÷ read "
        "| scoring view (s) | ingest µs/row | growth per row vs smallest |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per_row = r["ingest"] / r["rows"]
        lines.append(
            f"| {int(r['rows']):,} | {r['read']:.3f} | {r['ingest']:.2f} | "
            f"{r['ingest'] / r['read']:.1f}× | {r['aggregate']:.3f} | "
            f"{r['aggregate'] / r['read']:.2f}× | {r['scoring']:.3f} | {per_row * 1e6:.2f} | "
            f"{per_row / base_per_row:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000,5000000")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="ideal-bench-warehouse-"))
    results = []
    try:
        for rows in sizes:
            result = measure(rows, workdir)
            print(
                f"{rows:,} rows: generated in {result['generate']:.1f} s, "
                f"ingested in {result['ingest']:.2f} s",
                flush=True,
            )
            results.append(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
