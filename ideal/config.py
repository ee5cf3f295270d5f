"""Where things live: the project's contract files and the runtime workspace.

Runtime state (inbox, archive, quarantine, the DuckDB warehouse) lives under
``IDEAL_HOME`` (default ``./var``); generated reports go to ``IDEAL_REPORTS``
(default ``./reports``). Contract files (``schemas/``) and reference data (``data/``)
ship with the source tree and are located relative to the package.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
DEMO_DIR = DATA_DIR / "demo"
CATALOGUE_PATH = SCHEMAS_DIR / "catalogue.yaml"
METHODOLOGY_DIR = SCHEMAS_DIR / "methodology"


@dataclass(frozen=True)
class Workspace:
    """The runtime folders of one ideal installation."""

    home: Path
    reports_root: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def inbox_for(self, cycle_id: str) -> Path:
        return self.inbox / cycle_id

    def reports_for(self, cycle_id: str) -> Path:
        return self.reports_root / cycle_id

    def ensure(self) -> Workspace:
        """Create the folders if missing; returns self for chaining."""
        for path in (self.inbox, self.archive, self.quarantine, self.reports_root):
            path.mkdir(parents=True, exist_ok=True)
        return self


def workspace(home: Path | str | None = None, reports: Path | str | None = None) -> Workspace:
    """The workspace from explicit paths, else ``IDEAL_HOME``/``IDEAL_REPORTS``, else defaults."""
    home_path = Path(home or os.environ.get("IDEAL_HOME") or "var")
    reports_path = Path(reports or os.environ.get("IDEAL_REPORTS") or "reports")
    return Workspace(home=home_path.absolute(), reports_root=reports_path.absolute())
