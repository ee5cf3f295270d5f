"""Run the benchmarks: ``make bench`` (``python -m bench [--rows N]``).

Every figure is reported as a ratio to a baseline measured in the same run, on the same
file: DuckDB's bare ``read_csv`` and a naive per-row pydantic loop. Results are printed
as a markdown table to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from ideal.runtime import OFFLINE_DEFAULTS

for _key, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def make_indicator_csv(path: Path, rows: int) -> None:
    """A large Spanish-style submission (';', decimal comma) with realistic cells."""
    from ideal.catalogue import load_catalogue

    codes = [i for i in load_catalogue().indicators if i.kind == "quantitative"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(
            [
                "país",
                "periodo",
                "indicador",
                "valor",
                "unidad",
                "fuente",
                "fiabilidad",
                "credibilidad",
                "tendencia",
                "notas",
            ]
        )
        for n in range(rows):
            ind = codes[n % len(codes)]
            w.writerow(
                [
                    "Perú",
                    f"2025-T{n % 4 + 1}",
                    ind.code,
                    f"{(n % 997) * 1.5:.1f}".replace(".", ","),
                    ind.unit,
                    "Policía Nacional",
                    "B",
                    "2",
                    "",
                    "",
                ]
            )


def bench_validation(rows: int, workdir: Path) -> list[tuple[str, float, str]]:
    from ideal.catalogue import load_catalogue
    from ideal.contract import ContractContext, IndicatorRecord
    from ideal.cycles import Cycle
    from ideal.intake import parse_and_validate
    from ideal.readers import read_submission
    from ideal.reference import default_resolver

    path = workdir / "big.csv"
    make_indicator_csv(path, rows)
    data = path.read_bytes()
    cycle = Cycle("2025", 2025, dt.date(2026, 3, 31), ("PER",))
    catalogue, resolver = load_catalogue(), default_resolver()

    def duck() -> None:
        duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', delim=';', header=true)").fetchall()

    def naive() -> None:
        ctx = ContractContext(catalogue, resolver, "2025", 2025, ",")
        sub = read_submission(data)
        for r in sub.rows:
            IndicatorRecord.model_validate(r.cells, context=ctx)

    def ours() -> None:
        parse_and_validate(data, cycle, catalogue, resolver)

    base = timed(duck)
    t_naive = timed(naive, 1)
    t_ours = timed(ours, 1)
    return [
        (f"DuckDB read_csv, {rows:,} rows (baseline)", base, "1.0×"),
        ("naive per-row pydantic loop", t_naive, f"{t_naive / base:.1f}×"),
        ("ideal parse + validate (contract + table rules)", t_ours, f"{t_ours / base:.1f}×"),
    ]


def bench_cycle(workdir: Path) -> list[tuple[str, float, str]]:
    from ideal import assessment
    from ideal.config import DEMO_DIR, workspace
    from ideal.cycles import load_cycles_file
    from ideal.intake import copy_into_inbox

    ws = workspace(workdir / "home", workdir / "reports").ensure()
    cycles = load_cycles_file(DEMO_DIR / "cycles.yaml")
    timings: dict[str, float] = {"ingest": 0.0, "score": 0.0, "report": 0.0}
    for cycle in cycles:
        assessment.ensure_cycle(ws, cycle)
        copy_into_inbox(ws, cycle.cycle_id, sorted((DEMO_DIR / cycle.cycle_id).iterdir()))
        for step, fn in (
            ("ingest", lambda c=cycle.cycle_id: assessment.ingest_inbox(ws, c)),
            ("score", lambda c=cycle.cycle_id: assessment.score(ws, c)),
            ("report", lambda c=cycle.cycle_id: assessment.render_reports(ws, c)),
        ):
            start = time.perf_counter()
            fn()
            timings[step] += time.perf_counter() - start
    total = sum(timings.values())
    return [
        (f"demo, both cycles: {k}", v, f"{v / total:.0%} of {total:.2f} s")
        for k, v in timings.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ideal-bench-"))
    try:
        results = bench_validation(args.rows, workdir) + bench_cycle(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = sys.stdout
    out.write(
        f"\nideal benchmarks — {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores\n\n"
    )
    out.write("| measure | seconds | ratio |\n|---|---:|---:|\n")
    for name, seconds, ratio in results:
        out.write(f"| {name} | {seconds:.3f} | {ratio} |\n")
    out.write(f"\nPeak resident memory of the benchmark process: {peak_mb:.0f} MB\n")


if __name__ == "__main__":
    main()
