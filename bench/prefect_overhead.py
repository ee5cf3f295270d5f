"""Prefect's overhead on ``assessment_cycle``: ``python -m bench.prefect_overhead``.

The demo's latest cycle (18 files: 17 indicator files and an event register) is assessed
four ways, each in a fresh workspace, in one process:

* direct: the same ``ideal`` functions the flow's tasks call, in the same order, with
  no Prefect (validate each file and render its steward report, load it, close check,
  score, complete the manifest, three reports);
* ``run_cycle``: ideal's own chain without Prefect (no separate validation pass, no
  steward reports), for reference;
* Prefect, first flow call: includes starting the ephemeral API (no server), as on
  every ``ideal run`` of an analyst whose workspace already has Prefect's database;
* Prefect, second flow call: the API is already up.

Creating Prefect's database on the first use of a workspace (migrations) is a one-time
cost, measured apart in a child process with a trivial flow.

A warm-up run (untimed) comes first so that imports, the GX context and the chart
engine's start are not charged to whichever path runs first. The target is an overhead
under 10 s plus 1 s per flow run (``assessment_cycle`` runs ``intake`` as a subflow: 2).
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ideal.config import DEMO_DIR, Workspace, workspace
from ideal.cycles import Cycle, load_cycles_file
from ideal.runtime import configure_environment

logger = logging.getLogger("bench.prefect_overhead")
FLOW_RUNS = 2  # assessment_cycle and its intake subflow


def prepare(base: Path, name: str, cycle: Cycle) -> Workspace:
    """A fresh workspace with the cycle open and its demo files in the inbox."""
    from ideal.assessment import ensure_cycle
    from ideal.intake import copy_into_inbox

    ws = workspace(base / name / "home", base / name / "reports").ensure()
    ensure_cycle(ws, cycle)
    copy_into_inbox(ws, cycle.cycle_id, sorted((DEMO_DIR / cycle.cycle_id).iterdir()))
    return ws


def direct(ws: Workspace, cycle: Cycle) -> None:
    """What the flow's tasks do, as plain calls in the flow's order."""
    from ideal import assessment
    from ideal.catalogue import LANGS, load_catalogue
    from ideal.intake import parse_and_validate, pickup_inbox, sha256_bytes
    from ideal.manifest import stamp_run
    from ideal.reference import default_resolver
    from ideal.steward import render_pages

    for path in pickup_inbox(ws, cycle.cycle_id):
        data = path.read_bytes()
        sha = sha256_bytes(data)
        raw, result = parse_and_validate(data, cycle, load_catalogue(), default_resolver())
        kind = None if raw is None else raw.kind
        pages = render_pages(path.name, sha, result, kind=kind, cycle_id=cycle.cycle_id)
        outcome = assessment.ingest_paths(ws, cycle.cycle_id, [path], remove_from_inbox=True)[0]
        folder = (outcome.quarantine_path or outcome.archive_path).parent
        for lang, page in pages.items():
            (folder / f"{sha}.bench.{lang}.html").write_text(page, encoding="utf-8")
    assessment.missing_countries(ws, cycle.cycle_id)
    assessment.score(ws, cycle.cycle_id)
    stamp_run(ws, cycle.cycle_id)
    for lang in LANGS:
        assessment.render_reports(ws, cycle.cycle_id, (lang,))
    assessment.priorities_table(ws, cycle.cycle_id)


def run_cycle(ws: Workspace, cycle: Cycle) -> None:
    from ideal.assessment import run_cycle as chain

    chain(ws, cycle.cycle_id)


def prefect_flow(ws: Workspace, cycle: Cycle) -> None:
    from pipelines.cycle import assessment_cycle

    assessment_cycle(cycle.cycle_id, home=str(ws.home), reports=str(ws.reports_root))


def first_use_of_prefect_home() -> float:
    """Seconds for a child process's first trivial flow on a new PREFECT_HOME."""
    code = "from prefect import flow\nflow(lambda: None)()"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def timed(fn: Callable[[Workspace, Cycle], None], ws: Workspace, cycle: Cycle) -> float:
    start = time.perf_counter()
    fn(ws, cycle)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary workspaces.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    base = Path(tempfile.mkdtemp(prefix="ideal-bench-prefect-"))
    # Prefect's state (the ephemeral API's SQLite file) lives in the bench's folder.
    configure_environment(workspace(base / "prefect-state", base / "unused"), quiet=True)
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[-1]
    try:
        t_first_use = first_use_of_prefect_home()
        direct(prepare(base, "warm-up", cycle), cycle)
        t_direct = timed(direct, prepare(base, "direct", cycle), cycle)
        t_chain = timed(run_cycle, prepare(base, "run-cycle", cycle), cycle)
        t_cold = timed(prefect_flow, prepare(base, "prefect-1", cycle), cycle)
        t_warm = timed(prefect_flow, prepare(base, "prefect-2", cycle), cycle)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    budget = 10.0 + 1.0 * FLOW_RUNS
    n_files = len(list((DEMO_DIR / cycle.cycle_id).iterdir()))
    print(
        f"\nassessment_cycle, demo cycle {cycle.cycle_id} ({n_files} files), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; overhead budget {budget:.0f} s "
        f"(10 s + 1 s x {FLOW_RUNS} flow runs)\n"
    )
    print(
        f"One-time: a new PREFECT_HOME's first trivial flow, in a child process "
        f"(interpreter, imports, database migrations, API start): {t_first_use:.1f} s\n"
    )
    print("| path | wall (s) | overhead vs direct (s) | within budget |")
    print("|---|---:|---:|---|")
    print(f"| direct ideal calls (the flow's steps, no Prefect) | {t_direct:.1f} | – | – |")
    print(f"| `run_cycle` (ideal's chain, no Prefect) | {t_chain:.1f} | – | – |")
    for label, wall in (
        ("Prefect, first flow call (starts the ephemeral API)", t_cold),
        ("Prefect, second flow call (API up)", t_warm),
    ):
        over = wall - t_direct
        print(f"| {label} | {wall:.1f} | {over:+.1f} | {'yes' if over <= budget else 'no'} |")


if __name__ == "__main__":
    main()
