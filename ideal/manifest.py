"""What a cycle's run manifest records, and publishing a cycle against it.

Scoring (``ideal.assessment.score``) writes one ``out_run__manifests`` row per cycle in
the same transaction as the scores: the sha256 of every input submission, the
methodology's name, version and sha256, the package version and the Prefect flow run id.
This module adds what the row cannot say on its own and reads it back:

* the git commit, when ideal runs from a checkout, carried in ``package_version`` as a
  PEP 440 local label (``0.1.0+g1a2b3c4d5e6f``, ``.dirty`` when the tree has uncommitted
  changes): the manifest table has no column of its own for it yet;
* the Monte Carlo seeds, read from the uncertainty tables that store them per row (they
  follow from the methodology file, whose sha256 the manifest records);
* ``publish_checked`` (in an open connection) and ``publish_cycle`` (from a workspace):
  freeze a scored cycle once its manifest still matches the warehouse's current inputs
  and the methodology file (the status change and the frozen copy are
  ``ideal.cycles.publish_revision``).

Everything here is a plain function over the workspace; ``pipelines/`` wraps them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ideal import __version__
from ideal.config import PROJECT_ROOT, Workspace
from ideal.cycles import Cycle, CycleError, get_cycle, publish_revision
from ideal.scoring.methodology import load_methodology
from ideal.warehouse import connect

logger = logging.getLogger(__name__)

_LOCAL_COMMIT = re.compile(r"(?:^|[+.])g([0-9a-f]{7,40})(?:\.|$)")


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """``git rev-parse HEAD`` of the checkout ideal runs from; None for an installed copy."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return None
    out = _git(root, "rev-parse", "HEAD")
    return out if out and re.fullmatch(r"[0-9a-f]{40}", out) else None


def _is_dirty(root: Path) -> bool:
    # Tracked files only: a stray untracked file does not change what ran.
    return bool(_git(root, "status", "--porcelain", "--untracked-files=no"))


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def package_version(root: Path = PROJECT_ROOT) -> str:
    """The package version, with the git commit as a PEP 440 local label in a checkout."""
    commit = git_commit(root)
    if commit is None:
        return __version__
    label = f"g{commit[:12]}" + (".dirty" if _is_dirty(root) else "")
    return f"{__version__}.{label}" if "+" in __version__ else f"{__version__}+{label}"


def commit_of(version: str) -> str | None:
    """The (abbreviated) git commit recorded in a ``package_version``, if any."""
    _, _, local = version.partition("+")
    match = _LOCAL_COMMIT.search(local)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Manifest:
    """One cycle's latest scoring run, as recorded in the warehouse."""

    cycle_id: str
    run_at: dt.datetime
    package_version: str
    methodology_name: str
    methodology_version: str
    methodology_sha256: str
    input_sha256s: tuple[str, ...]
    flow_run_id: str | None
    seeds: tuple[int, ...]

    @property
    def git_commit(self) -> str | None:
        return commit_of(self.package_version)

    def as_markdown(self) -> str:
        """A short record for a Prefect artifact or a note."""
        lines = [
            f"| cycle | {self.cycle_id} |",
            "|---|---|",
            f"| scored at (UTC) | {self.run_at:%Y-%m-%d %H:%M:%S} |",
            f"| package version | `{self.package_version}` |",
            f"| git commit | {self.git_commit or '–'} |",
            f"| methodology | {self.methodology_name} {self.methodology_version} |",
            f"| methodology sha256 | `{self.methodology_sha256}` |",
            f"| seeds | {', '.join(map(str, self.seeds)) or '–'} |",
            f"| flow run | {self.flow_run_id or '–'} |",
            f"| inputs | {len(self.input_sha256s)} submissions |",
            "",
            *(f"- `{sha}`" for sha in self.input_sha256s),
        ]
        return "\n".join(lines)


def read_manifest(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Manifest | None:
    row = con.execute(
        "SELECT cycle_id, run_at, package_version, methodology_name, methodology_version, "
        "methodology_sha256, input_sha256s, flow_run_id FROM out_run__manifests "
        "WHERE cycle_id = ?",
        [cycle_id],
    ).fetchone()
    if row is None:
        return None
    seeds = con.execute(
        "SELECT DISTINCT seed FROM out_threat__priority_uncertainty "
        "WHERE cycle_id = ? AND seed IS NOT NULL ORDER BY seed",
        [cycle_id],
    ).fetchall()
    return Manifest(
        cycle_id=row[0],
        run_at=row[1],
        package_version=row[2],
        methodology_name=row[3],
        methodology_version=row[4],
        methodology_sha256=row[5],
        input_sha256s=tuple(row[6] or ()),
        flow_run_id=row[7],
        seeds=tuple(int(s[0]) for s in seeds),
    )


def stamp_run(ws: Workspace, cycle_id: str, flow_run_id: str | None = None) -> Manifest:
    """Complete the row scoring wrote: git commit in the version, and the flow run id."""
    with connect(ws.warehouse_path) as con:
        if read_manifest(con, cycle_id) is None:
            raise CycleError(f"Cycle {cycle_id} has no manifest: score it first.")
        con.execute(
            "UPDATE out_run__manifests SET package_version = ?, "
            "flow_run_id = coalesce(?, flow_run_id) WHERE cycle_id = ?",
            [package_version(), flow_run_id, cycle_id],
        )
        manifest = read_manifest(con, cycle_id)
    assert manifest is not None  # written above, in this connection
    return manifest


def current_inputs(con: duckdb.DuckDBPyConnection, cycle_id: str) -> tuple[str, ...]:
    """sha256 of the submissions scoring would use now (as scoring lists them)."""
    from ideal.assessment import scoring_inputs  # late: assessment is the heavier module

    return scoring_inputs(con, cycle_id)


def stale_reasons(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, methodology_sha256: str
) -> list[str]:
    """Why the recorded run no longer reproduces from what is in the warehouse now."""
    reasons = []
    inputs = current_inputs(con, manifest.cycle_id)
    if inputs != tuple(sorted(manifest.input_sha256s)):
        added = len(set(inputs) - set(manifest.input_sha256s))
        gone = len(set(manifest.input_sha256s) - set(inputs))
        reasons.append(
            f"the accepted submissions changed since scoring ({added} new, {gone} superseded)"
        )
    if methodology_sha256 != manifest.methodology_sha256:
        reasons.append("the methodology file changed since scoring")
    return reasons


def publish_checked(
    con: duckdb.DuckDBPyConnection, cycle_id: str, methodology_sha256: str
) -> Cycle:
    """Freeze a scored cycle (``ideal.cycles.publish_revision``); returns its record.

    Refused when the cycle has no scores, or when its manifest no longer matches the
    current inputs or the methodology file (score it again first). Publishing a published
    cycle changes nothing.
    """
    cycle = get_cycle(con, cycle_id)
    manifest = read_manifest(con, cycle_id)
    if cycle.status != "published" and manifest is not None:
        reasons = stale_reasons(con, manifest, methodology_sha256)
        if reasons:
            raise CycleError(
                f"Cycle {cycle_id} cannot be published: {'; '.join(reasons)}. "
                f"Score it again (`ideal run --cycle {cycle_id}`), then publish."
            )
    # refuses a cycle without scores; the status change, the frozen copy, the audit record
    return publish_revision(con, cycle_id)


def publish_cycle(ws: Workspace, cycle_id: str, methodology_path: Path | None = None) -> Manifest:
    """``publish_checked`` in the workspace's warehouse; returns the cycle's manifest."""
    _, method_sha = load_methodology(methodology_path)
    with connect(ws.warehouse_path) as con:
        publish_checked(con, cycle_id, method_sha)
        manifest = read_manifest(con, cycle_id)
    if manifest is None:  # published under schema 1 without a scoring run
        raise CycleError(f"Cycle {cycle_id} has no manifest: score it first.")
    return manifest
