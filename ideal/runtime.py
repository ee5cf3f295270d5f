"""Process settings that must be in place before Prefect or Great Expectations import.

Both tools read their settings from the environment at import time. ideal runs offline,
so telemetry is off, Prefect keeps its state under the workspace, and library logs
reach the Prefect UI. Values already set by the user win.
"""

from __future__ import annotations

import os

from ideal.config import Workspace

OFFLINE_DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "ideal",
    # ideal's loggers also run outside flows (CLI, tests): stay quiet there
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # the first start of the ephemeral API can be slow on a cold machine
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def configure_environment(ws: Workspace, *, quiet: bool = True) -> None:
    """Set offline-safe defaults for this process (and the flows it starts)."""
    os.environ.setdefault("PREFECT_HOME", str(ws.home / "prefect"))
    (ws.home / "prefect").mkdir(parents=True, exist_ok=True)
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
