"""The ``assessment_cycle`` flow: intake → close check → score → reports.

1. ``intake`` runs as a subflow for the cycle (parallel validation, one writer).
2. Close check: which expected countries have no accepted data (a warning, not a stop).
3. Score, including the Monte Carlo rank uncertainty; the manifest row gets the git
   commit and this flow run's id.
4. One report per language (es, pt, en).

Artifacts: the ranked priorities table and the report paths. Tasks pass ids and paths,
never DataFrames; each opens and closes the warehouse itself. A published cycle is
frozen: the flow refuses to score it again. Without ``cycle_id`` (a scheduled run), the
latest open cycle is assessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run

from ideal import assessment
from ideal.catalogue import LANGS
from ideal.cycles import CycleError
from ideal.manifest import stamp_run
from ideal.reference import country_name
from pipelines.common import (
    IO_TASK,
    WAIT_SECONDS,
    WRITER_LIMIT,
    artifact_key,
    ensure_limits,
    ws_of,
)
from pipelines.intake import intake


@task(name="resolve-cycle", **IO_TASK)
def resolve_cycle(home: str | None, reports: str | None, cycle_id: str | None) -> str:
    """The cycle to assess: the one named, else the latest open one; never a published one."""
    ws = ws_of(home, reports)
    if cycle_id is None:
        cycles = assessment.open_cycles(ws)
        if not cycles:
            raise CycleError("There is no open cycle to assess; open one with `ideal cycle open`.")
        return cycles[-1].cycle_id
    if assessment.load_cycle(ws, cycle_id).status == "published":
        raise CycleError(f"Cycle {cycle_id} is published (frozen); it is not scored again.")
    return cycle_id


@task(name="close-check", **IO_TASK)
def close_check(home: str | None, reports: str | None, cycle_id: str) -> list[str]:
    """Warn which expected countries have no accepted data; returns their codes."""
    missing = assessment.missing_countries(ws_of(home, reports), cycle_id)
    if missing:
        names = ", ".join(f"{country_name(c, 'en')} ({c})" for c in missing)
        get_run_logger().warning(
            "cycle %s: %d expected countries have no accepted data and are not scored: %s",
            cycle_id,
            len(missing),
            names,
        )
    return missing


@task(name="score-cycle", **IO_TASK)
def score_cycle(home: str | None, reports: str | None, cycle_id: str) -> dict[str, Any]:
    """Score the cycle (with uncertainty) and complete its manifest (the flow holds the
    writer slot)."""
    ws = ws_of(home, reports)
    run_id = flow_run.get_id()
    summary = assessment.score(ws, cycle_id, flow_run_id=run_id)
    manifest = stamp_run(ws, cycle_id, run_id)
    return {
        "cycle_id": summary.cycle_id,
        "methodology": summary.methodology,
        "methodology_sha256": summary.methodology_sha256,
        "countries": summary.n_countries,
        "categories": summary.n_categories,
        "previous_cycle": summary.previous_cycle_id,
        "package_version": manifest.package_version,
        "git_commit": manifest.git_commit,
        "seeds": list(manifest.seeds),
        "inputs": len(manifest.input_sha256s),
    }


@task(name="render-report", task_run_name="report {lang}", **IO_TASK)
def render_report(home: str | None, reports: str | None, cycle_id: str, lang: str) -> str:
    return str(assessment.render_reports(ws_of(home, reports), cycle_id, (lang,))[0])


@flow(name="assessment_cycle")
def assessment_cycle(
    cycle_id: str | int | None = None,
    home: str | None = None,
    reports: str | None = None,
    langs: tuple[str, ...] = LANGS,
) -> dict[str, Any]:
    """Run one assessment cycle end to end on the files waiting in its inbox.

    ``cycle_id`` may be given as a number (``--param cycle_id=2025`` on the command line);
    without it, the latest open cycle is assessed (scheduled runs).
    """
    cycle = resolve_cycle(home, reports, None if cycle_id is None else str(cycle_id))
    if assessment.load_cycle(ws_of(home, reports), cycle).status == "open":
        # the subflow also creates the concurrency limits score_cycle uses
        received = intake(cycle_ids=[cycle], home=home, reports=reports)
    else:  # a closed cycle is scored again on what it holds; its inbox waits
        ensure_limits()
        get_run_logger().info("cycle %s is closed: its inbox is not read", cycle)
        received = []
    missing = close_check(home, reports, cycle)
    with concurrency(WRITER_LIMIT, occupy=1, timeout_seconds=WAIT_SECONDS):
        scored = score_cycle(home, reports, cycle)
    report_paths = [render_report(home, reports, cycle, lang) for lang in langs]

    priorities = assessment.priorities_table(ws_of(home, reports), cycle)
    create_table_artifact(
        key=artifact_key("priorities", cycle),
        table=[{str(k): v for k, v in r.items()} for r in priorities.round(2).to_dict("records")],
        description=f"Regional priorities, cycle {cycle} (rank 1 = highest priority)",
    )
    lines = [f"- [{Path(p).name}]({Path(p).as_uri()})" for p in report_paths]
    if missing:
        lines.append(f"\nNo accepted data from: {', '.join(missing)}")
    create_markdown_artifact(
        key=artifact_key("reports", cycle),
        markdown="\n".join(lines),
        description=f"Committee reports, cycle {cycle}",
    )
    return {
        "cycle_id": cycle,
        "flow_run_id": flow_run.get_id(),
        "intake": received,
        "missing": missing,
        "score": scored,
        "reports": report_paths,
    }
