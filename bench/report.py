"""Benchmark of the committee's report: ``python -m bench.report``.

Builds a synthetic warehouse of the size the issue sets (33 countries x 10 categories,
two scored cycles, every out_ table filled, a few rejected files and warnings), scores
it with the real scoring, then measures:

- the first report rendered in a fresh process (charting engine start, template compile
  and all: what ``ideal report`` costs), and
- each further language in the same process (what the cycle flow costs per report),

and the size of each HTML file. The limits are 2 s per report and 2 MB per file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

CYCLES = (("2024", 2024), ("2025", 2025))
MAX_SECONDS = 2.0
MAX_BYTES = 2_000_000


def _frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    from ideal.warehouse import TABLE_BY_NAME

    return pd.DataFrame(rows, columns=list(TABLE_BY_NAME[table].columns))


def build_warehouse(home: Path, *, n_categories: int = 10, seed: int = 7) -> Path:
    """A scored two-cycle warehouse for all 33 countries under ``home``; returns its path."""
    from ideal.assessment import ensure_cycle, score
    from ideal.catalogue import load_catalogue
    from ideal.config import workspace
    from ideal.cycles import Cycle
    from ideal.reference import load_countries
    from ideal.warehouse import connect, replace_where

    rng = random.Random(seed)
    ws = workspace(home, home / "reports").ensure()
    catalogue = load_catalogue()
    categories = [c.code for c in catalogue.categories][:n_categories]
    indicators = [i for i in catalogue.indicators if i.category in categories]
    isos = sorted(load_countries()["country_iso3"])
    # A country's underlying level per category, so the two cycles are related.
    level = {(iso, c): rng.uniform(0.1, 1.0) for iso in isos for c in categories}
    for cycle_id, year in CYCLES:
        ensure_cycle(
            ws,
            Cycle(cycle_id, year, dt.date(year + 1, 3, 31), tuple(isos)),
        )
        subs, raw, values, issues = [], [], [], []
        for n, iso in enumerate(isos):
            sha = f"{cycle_id}-{iso}".ljust(64, "0")
            status = "accepted_with_warnings" if n % 4 == 0 else "accepted"
            if n % 11 == 5:  # a rejected first attempt, then the corrected file
                bad = f"{cycle_id}-{iso}-bad".ljust(64, "0")
                subs.append(_submission(bad, cycle_id, iso, "rejected", year, n_errors=4))
                issues += [_issue(bad, k, "error") for k in range(1, 5)]
            subs.append(_submission(sha, cycle_id, iso, status, year, n_warnings=n % 4 == 0))
            if n % 4 == 0:
                issues.append(_issue(sha, 1, "warning"))
            row = 4
            for ind in indicators:
                row += 1
                base = level[(iso, ind.category)] * rng.uniform(0.8, 1.25)
                if ind.kind == "expert":
                    value = round(1 + 9 * min(base, 1.0), 1)
                else:
                    value = round(base * ind.plausible[1] * 0.05 * rng.uniform(0.5, 1.5), 1)
                values.append(
                    {
                        "cycle_id": cycle_id,
                        "country_iso3": iso,
                        "indicator_code": ind.code,
                        "value": value,
                        "unit": ind.unit,
                        "n_periods": 1,
                        "is_unit_converted": False,
                        "reliability": rng.choice("ABBCCD"),
                        "credibility": rng.choice([1, 2, 2, 3, 3, 4]),
                        "trend_reported": rng.choice(["up", "stable", "down"])
                        if ind.kind == "expert"
                        else None,
                        "submission_sha256": sha,
                        "source_rows": [row],
                    }
                )
                raw.append(
                    {
                        "submission_sha256": sha,
                        "source_row": row,
                        "country_raw": iso,
                        "period_raw": str(year),
                        "indicator_raw": ind.code,
                        "value_raw": str(value),
                        "unit_raw": ind.unit,
                        "source_raw": f"Ministerio del Interior de {iso} – unidad {row % 3}",
                        "reliability_raw": "B",
                        "credibility_raw": "2",
                        "trend_raw": None,
                        "notes_raw": "Valoración del panel nacional: mercado estable, con "
                        "mayor presencia de estructuras transnacionales en la frontera."
                        if ind.kind == "expert"
                        else None,
                    }
                )
        with connect(ws.warehouse_path) as con:
            where, params = "cycle_id = ?", [cycle_id]
            replace_where(
                con,
                "raw_intake__submissions",
                _frame("raw_intake__submissions", subs),
                where,
                params,
            )
            shas = [s["submission_sha256"] for s in subs]
            replace_where(
                con,
                "raw_intake__indicator_rows",
                _frame("raw_intake__indicator_rows", raw),
                "list_contains(?, submission_sha256)",
                [shas],
            )
            replace_where(
                con,
                "raw_intake__issues",
                _frame("raw_intake__issues", issues),
                "list_contains(?, submission_sha256)",
                [shas],
            )
            replace_where(
                con,
                "core_threat__indicator_values",
                _frame("core_threat__indicator_values", values),
                where,
                params,
            )
        score(ws, cycle_id)
        _fill_uncertainty(ws.warehouse_path, cycle_id, rng)
    return ws.warehouse_path


def _submission(
    sha: str,
    cycle_id: str,
    iso: str,
    status: str,
    year: int,
    *,
    n_errors: int = 0,
    n_warnings: int = 0,
) -> dict[str, object]:
    return {
        "submission_sha256": sha,
        "cycle_id": cycle_id,
        "file_name": f"{iso}_IDEAL_{year}.xlsx",
        "received_at": dt.datetime(year + 1, 3, 1 + len(iso) % 20, 10, 0),
        "size_bytes": 20_000,
        "archive_path": f"archive/{sha[:2]}/{sha}",
        "quarantine_path": None,
        "submission_kind": "indicators",
        "country_iso3": iso,
        "submission_status": status,
        "is_current": status != "rejected",
        "n_rows": 50,
        "n_errors": n_errors,
        "n_warnings": int(n_warnings),
    }


def _issue(sha: str, n: int, severity: str) -> dict[str, object]:
    return {
        "submission_sha256": sha,
        "issue_no": n,
        "severity": severity,
        "source_row": 5 + n,
        "column_name": "value",
        "cell_value": "n/d" if severity == "error" else "999999",
        "rule": None,
        "params_json": "{}",
        "message_en": "The value is missing." if severity == "error" else "Outside the range.",
    }


def _fill_uncertainty(path: Path, cycle_id: str, rng: random.Random) -> None:
    """Stand-in rows for the Monte Carlo tables (their own engine fills them for real)."""
    from ideal.warehouse import connect, replace_where

    with connect(path) as con:
        prio = con.execute(
            "SELECT category_code, priority_rank, methodology_sha256 FROM "
            "out_threat__regional_priorities WHERE cycle_id = ? ORDER BY priority_rank",
            [cycle_id],
        ).fetchall()
        n = len(prio)
        unc, sens, drivers = [], [], []
        for code, rank, sha in prio:
            low, high = max(1, rank - rng.randint(0, 2)), min(n, rank + rng.randint(0, 3))
            unc.append(
                {
                    "cycle_id": cycle_id,
                    "category_code": code,
                    "nominal_rank": rank,
                    "mean_rank": rank + 0.3,
                    "median_rank": float(rank),
                    "q05_rank": float(low),
                    "q95_rank": float(high),
                    "p_top3": max(0.0, min(1.0, (4 - low) / 4)),
                    "n_replicates": 1000,
                    "seed": 20250101,
                    "methodology_sha256": sha,
                }
            )
            for element in ("weights", "normalisation", "aggregation"):
                sens.append(
                    {
                        "cycle_id": cycle_id,
                        "category_code": code,
                        "uncertain_element": element,
                        "mean_abs_rank_shift": rng.uniform(0, 2),
                        "n_replicates": 1000,
                        "seed": 20250101,
                        "methodology_sha256": sha,
                    }
                )
            inds = [
                r[0]
                for r in con.execute(
                    "SELECT indicator_code FROM core_ref__indicators WHERE category_code = ? "
                    "ORDER BY indicator_code LIMIT 3",
                    [code],
                ).fetchall()
            ]
            for k, ind in enumerate(inds, start=1):
                drivers.append(
                    {
                        "cycle_id": cycle_id,
                        "category_code": code,
                        "driver_rank": k,
                        "indicator_code": ind,
                        "contribution_points": rng.uniform(-3, 3),
                        "mean_relative_change": rng.uniform(-0.3, 0.3),
                        "methodology_sha256": sha,
                    }
                )
        for table, rows in (
            ("out_threat__priority_uncertainty", unc),
            ("out_threat__priority_sensitivity", sens),
            ("out_threat__priority_drivers", drivers),
        ):
            replace_where(con, table, _frame(table, rows), "cycle_id = ?", [cycle_id])


_CHILD = """
import json, sys, time
start = time.perf_counter()
from pathlib import Path
from ideal.report.render import render_report
out = []
for lang in sys.argv[3:]:
    t, c = time.perf_counter(), time.process_time()
    path = render_report(Path(sys.argv[1]), "2025", lang, Path(sys.argv[2]))
    out.append({"lang": lang, "seconds": time.perf_counter() - t,
                "cpu": time.process_time() - c, "bytes": path.stat().st_size})
print(json.dumps({"total": time.perf_counter() - start, "reports": out}))
"""


def measure(warehouse: Path, out_dir: Path, langs: list[str]) -> dict[str, object]:
    """Render ``langs`` in a fresh interpreter (cold start included); returns the figures."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(warehouse), str(out_dir), *langs],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ideal-bench-report-"))
    start = time.perf_counter()
    warehouse = build_warehouse(workdir / "home")
    built = time.perf_counter() - start
    result = measure(warehouse, workdir / "reports", ["es", "pt", "en"])
    reports = result["reports"]
    assert isinstance(reports, list)
    print(f"# Report benchmark (33 countries x 10 categories, 2 cycles; built in {built:.1f} s)")
    print()
    print("| report | render, wall (s) | render, CPU (s) | size (bytes) | within limits |")
    print("|---|---:|---:|---:|---|")
    ok = True
    for n, r in enumerate(reports):
        within = r["seconds"] < MAX_SECONDS and r["bytes"] < MAX_BYTES
        ok &= within
        label = f"{r['lang']} ({'first in process' if n == 0 else 'same process'})"
        print(
            f"| {label} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['bytes']:,} "
            f"| {'yes' if within else 'NO'} |"
        )
    print()
    print(f"Process total (imports included): {result['total']:.2f} s. Reports: {workdir}")
    load = os.getloadavg()[0]
    print(
        f"Load average during the run: {load:.1f} on {os.cpu_count()} CPUs "
        "(wall time grows with it)."
    )
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
