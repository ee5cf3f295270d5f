"""Shared fixtures: a throw-away workspace per test, and one Prefect harness per session.

Only tests marked ``flow`` use the Prefect harness; everything else runs on plain
functions and a real DuckDB file under ``tmp_path``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ideal.config import Workspace, workspace
from ideal.runtime import OFFLINE_DEFAULTS

# Offline, quiet settings before anything imports prefect or great_expectations.
for _key, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)


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
