"""The ``intake`` flow: poll the inboxes, validate files in parallel, load them one by one.

For every open cycle (or the cycles asked for), each file waiting in the inbox is
validated as its own task, concurrently: validation is pure (bytes in, findings out), so
it runs on threads or on a Dask cluster (``pipelines.common.validation_runner``). The
run reserves its share of the ``ideal-validation`` limit and never has more validations
in flight than that. Each validation also renders the steward's HTML report in es, pt
and en.

DuckDB allows one writer, so loading is one task per file, called one after another in
inbox order (a resubmission sorts after the file it corrects), while the run holds the
``ideal-warehouse-writer`` slot. ``ideal.assessment.ingest_paths`` archives, records and
loads or quarantines the file; it validates again while loading, and its outcome is
the one recorded. The steward reports are written next to the quarantined copy or the
archived bytes. A file that changed since it was validated, or whose validation
failed, stays in the inbox for the next poll.

Outcome: a table artifact (file, country, status, errors, warnings) and a markdown
artifact linking each steward report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency

from ideal import assessment
from ideal.catalogue import load_catalogue
from ideal.cycles import Cycle, check_takes_submissions
from ideal.intake import parse_and_validate, pickup_inbox, sha256_bytes
from ideal.reference import default_resolver
from ideal.steward import render_pages
from pipelines.common import (
    IO_TASK,
    VALIDATION_LIMIT,
    WAIT_SECONDS,
    WRITER_LIMIT,
    artifact_key,
    ensure_limits,
    read_settled,
    validation_runner,
    ws_of,
)

NOT_LOADED = "not_loaded"


@task(name="find-cycles", **IO_TASK)
def find_cycles(home: str | None, reports: str | None, cycle_ids: list[str] | None) -> list[Cycle]:
    """The cycles to poll: those asked for (each must be open), else every open one."""
    ws = ws_of(home, reports)
    if cycle_ids is None:
        return assessment.open_cycles(ws)
    cycles = [assessment.load_cycle(ws, c) for c in cycle_ids]
    for cycle in cycles:  # before any file is validated, not when it is loaded
        check_takes_submissions(cycle)
    return cycles


@task(name="pick-up-inbox", task_run_name="inbox {cycle_id}", **IO_TASK)
def pick_up_inbox(home: str | None, reports: str | None, cycle_id: str) -> list[str]:
    return [str(p) for p in pickup_inbox(ws_of(home, reports), cycle_id)]


@task(name="validate-submission", task_run_name="validate {name}", **IO_TASK)
def validate_submission(path: str, name: str, cycle: Cycle) -> dict[str, Any]:
    """Validate one file and render its steward report (es, pt, en); writes nothing."""
    data = read_settled(Path(path))
    sha = sha256_bytes(data)
    raw, result = parse_and_validate(data, cycle, load_catalogue(), default_resolver())
    kind = None if raw is None else raw.kind
    html = render_pages(name, sha, result, kind=kind, cycle_id=cycle.cycle_id)
    status = "unreadable" if raw is None else result.status
    get_run_logger().info(
        "%s: %s (%s, %d errors, %d warnings)",
        name,
        status,
        result.country_iso3 or "country unknown",
        result.n_errors,
        result.n_warnings,
    )
    return {
        "sha256": sha,
        "status": status,
        "country": result.country_iso3,
        "html": html,
    }


@task(name="load-submission", task_run_name="load {name}", **IO_TASK)
def load_submission(
    home: str | None,
    reports: str | None,
    cycle_id: str,
    path: str,
    name: str,
    validated: dict[str, Any],
) -> dict[str, Any] | None:
    """The single writer: archive, record, load or quarantine one file; None if skipped."""
    logger = get_run_logger()
    ws = ws_of(home, reports)
    file = Path(path)
    if not file.exists():
        logger.info("%s: no longer in the inbox (taken by another run)", name)
        return None
    if sha256_bytes(read_settled(file)) != validated["sha256"]:
        logger.warning("%s changed since it was validated; left for the next poll", name)
        return None
    outcome = assessment.ingest_paths(ws, cycle_id, [file], remove_from_inbox=True)[0]
    if outcome.is_new and outcome.status != validated["status"]:
        logger.warning(
            "%s: validated as %s but loaded as %s", name, validated["status"], outcome.status
        )
    folder = (outcome.quarantine_path or outcome.archive_path).parent
    stem = "steward-report" if outcome.quarantine_path else f"{outcome.sha256}.steward-report"
    steward: dict[str, str] = {}
    for lang, page in validated["html"].items():
        target = folder / f"{stem}.{lang}.html"
        target.write_text(page, encoding="utf-8")
        steward[lang] = str(target)
    return {"cycle": cycle_id, **outcome.summary(), "steward_reports": steward}


@flow(name="intake")
def intake(
    cycle_ids: list[str | int] | None = None,
    home: str | None = None,
    reports: str | None = None,
) -> list[dict[str, Any]]:
    """Poll the inbox of every open cycle (or of ``cycle_ids``); validate, then load."""
    logger = get_run_logger()
    slots = ensure_limits()
    cycles = find_cycles(home, reports, None if cycle_ids is None else [str(c) for c in cycle_ids])
    waiting = [
        (cycle, path) for cycle in cycles for path in pick_up_inbox(home, reports, cycle.cycle_id)
    ]
    if not waiting:
        logger.info("no new files in the inboxes of %s", [c.cycle_id for c in cycles] or "none")
        _artifacts([])
        return []
    rows: list[dict[str, Any]] = []
    # This run reserves its validation slots and the writer slot once, for the whole run.
    with (
        concurrency(VALIDATION_LIMIT, occupy=slots, timeout_seconds=WAIT_SECONDS),
        concurrency(WRITER_LIMIT, occupy=1, timeout_seconds=WAIT_SECONDS),
        validation_runner() as runner,
    ):
        futures: list[Any] = []
        for i, (cycle, path) in enumerate(waiting):
            # At most `slots` validations in flight, whatever the runner's size; files
            # before i are done, so the window [i, i + slots) bounds them.
            while len(futures) < min(len(waiting), i + slots):
                c, p = waiting[len(futures)]
                futures.append(
                    runner.submit(
                        validate_submission, {"path": p, "name": Path(p).name, "cycle": c}
                    )
                )
            # One writer: load in inbox order, each file as soon as its validation is done.
            name = Path(path).name
            future = futures[i]
            future.wait()
            if not future.state.is_completed():
                logger.error("%s: not loaded, validation failed: %s", name, future.state.message)
                rows.append(_not_loaded(cycle.cycle_id, name, "validation failed"))
                continue
            row = load_submission(home, reports, cycle.cycle_id, path, name, future.result())
            if row is not None:
                rows.append(row)
    _artifacts(rows)
    return rows


def _not_loaded(cycle_id: str, name: str, why: str) -> dict[str, Any]:
    return {
        "cycle": cycle_id,
        "file": name,
        "country": "",
        "status": NOT_LOADED,
        "rows": 0,
        "errors": 0,
        "warnings": 0,
        "new": False,
        "sha256": "",
        "steward_reports": {},
        "reason": why,
    }


def _artifacts(rows: list[dict[str, Any]]) -> None:
    columns = ("cycle", "file", "country", "status", "errors", "warnings", "rows", "new")
    create_table_artifact(
        key="ideal-intake",
        table=[{c: r[c] for c in columns} for r in rows],
        description=f"Submissions received in this run: {len(rows)}",
    )
    linked = [r for r in rows if r["steward_reports"]]
    if not linked:
        return
    lines = ["| cycle | file | status | steward report |", "|---|---|---|---|"]
    for r in linked:
        links = " · ".join(
            f"[{lang}]({Path(p).as_uri()})" for lang, p in sorted(r["steward_reports"].items())
        )
        lines.append(f"| {r['cycle']} | {_md(r['file'])} | {r['status']} | {links} |")
    create_markdown_artifact(
        key=artifact_key("ideal", "steward-reports"),
        markdown="\n".join(lines),
        description="Steward reports (es, pt, en), next to the archived or quarantined file",
    )


def _md(text: str) -> str:
    # A file name comes from a steward: keep it from breaking the table or adding markup.
    return "".join("\\" + c if c in "\\`*_[]()|<>#" else c for c in text)
