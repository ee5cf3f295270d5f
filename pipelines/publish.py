"""The ``publish`` flow: freeze a scored cycle and record its manifest.

Publishing is refused when the cycle has no scores or when its manifest no longer
matches the warehouse (new or superseded submissions, a changed methodology file): the
published ranking must be the one the recorded inputs reproduce. The manifest (inputs'
sha256, methodology hash, package version and git commit, seeds, the scoring flow run)
becomes a markdown artifact of the publishing run. Run on demand.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run

from ideal.manifest import Manifest, publish_cycle
from pipelines.common import (
    IO_TASK,
    WAIT_SECONDS,
    WRITER_LIMIT,
    artifact_key,
    ensure_limits,
    ws_of,
)


@task(name="publish-cycle", **IO_TASK)
def freeze_cycle(home: str | None, reports: str | None, cycle_id: str) -> Manifest:
    return publish_cycle(ws_of(home, reports), cycle_id)


@flow(name="publish")
def publish(
    cycle_id: str | int, home: str | None = None, reports: str | None = None
) -> dict[str, Any]:
    """Freeze ``cycle_id`` (status 'published') and record its manifest as an artifact.

    ``cycle_id`` may be given as a number (``--param cycle_id=2025``).
    """
    cycle_id = str(cycle_id)
    ensure_limits()
    with concurrency(WRITER_LIMIT, occupy=1, timeout_seconds=WAIT_SECONDS):
        manifest = freeze_cycle(home, reports, cycle_id)
    create_markdown_artifact(
        key=artifact_key("manifest", cycle_id),
        markdown=manifest.as_markdown(),
        description=f"Published cycle {cycle_id}: what reproduces its ranking",
    )
    return {
        "cycle_id": cycle_id,
        "status": "published",
        "flow_run_id": flow_run.get_id(),
        "scoring_flow_run_id": manifest.flow_run_id,
        "methodology_sha256": manifest.methodology_sha256,
        "package_version": manifest.package_version,
        "git_commit": manifest.git_commit,
        "seeds": list(manifest.seeds),
        "inputs": list(manifest.input_sha256s),
    }
