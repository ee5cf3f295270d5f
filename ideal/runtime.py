"""Process settings that must be in place before Prefect or Great Expectations import.

Both tools read their settings from the environment at import time. ideal runs offline,
so telemetry is off, Prefect keeps its state under the workspace, and library logs
reach the Prefect UI. Values already set by the user win.
"""

from __future__ import annotations

import os
import socket

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


def loopback_available() -> bool:
    """True if this process can reach 127.0.0.1 (Prefect's embedded API listens there).

    In a fresh network namespace (``unshare -n``) the loopback interface is down.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=2):
                return True
    except OSError:
        return False
