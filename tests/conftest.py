"""Shared fixtures: a throw-away workspace per test, and one Prefect harness per session.

Only tests marked ``flow`` use the Prefect harness; everything else runs on plain
functions and a real DuckDB file under ``tmp_path``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Offline, quiet settings before anything imports prefect or great_expectations.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "ideal")

from ideal.config import Workspace, workspace  # noqa: E402


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return workspace(tmp_path / "home", tmp_path / "reports").ensure()


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One real ephemeral Prefect API for the whole session (flow tests only)."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
