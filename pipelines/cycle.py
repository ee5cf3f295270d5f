"""The ``assessment_cycle`` flow: inbox → validate and load → score → reports.

Tasks pass ids and paths, never DataFrames. Submissions are loaded one after another
because DuckDB allows a single writer; each task wraps one ``ideal.assessment`` step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from ideal import assessment
from ideal.catalogue import LANGS
from ideal.config import Workspace, workspace


def _ws(home: str | None, reports: str | None) -> Workspace:
    return workspace(home, reports).ensure()


@task(name="pick-up-inbox")
def pick_up_inbox(home: str | None, reports: str | None, cycle_id: str) -> list[str]:
    from ideal.intake import pickup_inbox

    return [str(p) for p in pickup_inbox(_ws(home, reports), cycle_id)]


@task(name="ingest-submission", task_run_name="ingest {path}")
def ingest_submission(
    home: str | None, reports: str | None, cycle_id: str, path: str
) -> dict[str, Any]:
    outcome = assessment.ingest_paths(
        _ws(home, reports), cycle_id, [Path(path)], remove_from_inbox=True
    )[0]
    return dict(outcome.summary())


@task(name="score-cycle")
def score_cycle(home: str | None, reports: str | None, cycle_id: str) -> dict[str, Any]:
    run_id = flow_run.get_id()
    summary = assessment.score(_ws(home, reports), cycle_id, flow_run_id=run_id)
    return {
        "cycle_id": summary.cycle_id,
        "methodology": summary.methodology,
        "methodology_sha256": summary.methodology_sha256,
        "countries": summary.n_countries,
        "categories": summary.n_categories,
        "previous_cycle": summary.previous_cycle_id,
    }


@task(name="render-report", task_run_name="report {lang}")
def render_report(home: str | None, reports: str | None, cycle_id: str, lang: str) -> str:
    return str(assessment.render_reports(_ws(home, reports), cycle_id, (lang,))[0])


@flow(name="assessment_cycle")
def assessment_cycle(
    cycle_id: str,
    home: str | None = None,
    reports: str | None = None,
    langs: tuple[str, ...] = LANGS,
) -> dict[str, Any]:
    """Run one assessment cycle end to end on the files waiting in its inbox."""
    paths = pick_up_inbox(home, reports, cycle_id)
    intake = [ingest_submission(home, reports, cycle_id, p) for p in paths]
    scored = score_cycle(home, reports, cycle_id)
    report_paths = [render_report(home, reports, cycle_id, lang) for lang in langs]

    priorities = assessment.priorities_table(_ws(home, reports), cycle_id)
    if intake:
        create_table_artifact(
            key=f"intake-{_key(cycle_id)}", table=intake, description="Submissions received"
        )
    create_table_artifact(
        key=f"priorities-{_key(cycle_id)}",
        table=[{str(k): v for k, v in r.items()} for r in priorities.round(2).to_dict("records")],
        description=f"Regional priorities, cycle {cycle_id}",
    )
    create_markdown_artifact(
        key=f"reports-{_key(cycle_id)}",
        markdown="\n".join(f"- [{Path(p).name}]({Path(p).as_uri()})" for p in report_paths),
        description="Committee reports",
    )
    return {"cycle_id": cycle_id, "intake": intake, "score": scored, "reports": report_paths}


def _key(cycle_id: str) -> str:
    # artifact keys allow lowercase letters, digits and dashes only
    return "".join(c if c.isalnum() else "-" for c in cycle_id.lower())
