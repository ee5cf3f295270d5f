"""``make serve`` / ``make serve-stop``: a local Prefect server with ideal's deployments.

``python -m pipelines.serve start`` starts, on 127.0.0.1 only:

1. a Prefect server (its state under ``$IDEAL_HOME/prefect-server``, port
   ``IDEAL_PREFECT_PORT``, default 4200), and waits until it is healthy;
2. the process work pool ``ideal-process``;
3. the deployments of ``prefect.yaml`` (``prefect --no-prompt deploy --all``);
4. a process worker, whose environment carries the workspace (``IDEAL_HOME``,
   ``IDEAL_REPORTS``) to every flow run.

The server and the worker run in their own process groups; their PIDs are recorded in
``prefect-server/pids.json``, and ``python -m pipelines.serve stop`` stops exactly those
groups. Logs go to ``prefect-server/*.log``. This module drives the ``prefect`` command
line in child processes and does not import prefect itself; the integration test
(tests/test_server.py) uses the same functions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ideal.config import PROJECT_ROOT, Workspace, workspace
from ideal.runtime import OFFLINE_DEFAULTS

logger = logging.getLogger("pipelines.serve")

HOST = "127.0.0.1"
DEFAULT_PORT = 4200
POOL = "ideal-process"


class ServeError(RuntimeError):
    """Something the person running ``make serve`` can act on; the message says what."""


@dataclass(frozen=True)
class Server:
    """Where a local Prefect server keeps its state and answers."""

    state: Path
    port: int

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pids_file(self) -> Path:
        return self.state / "pids.json"

    def env(self, ws: Workspace | None = None) -> dict[str, str]:
        """The environment of every prefect command and process for this server."""
        env = dict(os.environ)
        for key, value in OFFLINE_DEFAULTS.items():
            env.setdefault(key, value)
        env.update(
            PREFECT_HOME=str(self.state),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_API_HOST=HOST,
            PREFECT_SERVER_API_PORT=str(self.port),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        if ws is not None:
            env.update(IDEAL_HOME=str(ws.home), IDEAL_REPORTS=str(ws.reports_root))
        return env


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def prefect(
    server: Server, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run one ``prefect`` command for this server from the repository root."""
    cmd = [sys.executable, "-m", "prefect", *args]
    done = subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        env=env or server.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise ServeError(
            f"`prefect {' '.join(args)}` failed (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return done


def spawn(
    server: Server, name: str, args: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start a long-running prefect process in its own process group, logging to a file."""
    server.state.mkdir(parents=True, exist_ok=True)
    with (server.state / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopping it stops its children too
        )


def start_server(
    server: Server, *, scheduler: bool = True, ui: bool = True
) -> subprocess.Popen[bytes]:
    if not port_is_free(server.port):
        raise ServeError(
            f"Port {server.port} on {HOST} is taken; set IDEAL_PREFECT_PORT to a free port."
        )
    args = ["server", "start", "--host", HOST, "--port", str(server.port), "--analytics-off"]
    args += [] if scheduler else ["--no-scheduler"]
    args += [] if ui else ["--no-ui"]
    return spawn(server, "server", args, server.env())


def wait_healthy(
    server: Server, proc: subprocess.Popen[bytes] | None = None, timeout: float = 90
) -> float:
    """Seconds until ``/api/health`` answers; ServeError if the server dies or is late."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise ServeError(
                f"The Prefect server exited (code {proc.returncode}); see "
                f"{server.state / 'server.log'}."
            )
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as reply,
        ):
            if reply.status == 200:
                return time.monotonic() - start
        time.sleep(0.25)
    raise ServeError(f"The Prefect server did not answer within {timeout:.0f} s.")


def create_pool(server: Server, pool: str = POOL) -> None:
    # --overwrite: re-running `make serve` is harmless
    prefect(server, "work-pool", "create", pool, "--type", "process", "--overwrite")


def deploy(server: Server) -> None:
    """Every deployment of prefect.yaml, from the repository root."""
    prefect(server, "--no-prompt", "deploy", "--all")


def start_worker(server: Server, ws: Workspace, pool: str = POOL) -> subprocess.Popen[bytes]:
    return spawn(server, "worker", ["worker", "start", "--pool", pool], server.env(ws))


def stop_group(pid: int, grace: float = 10.0) -> bool:
    """Stop the process group led by ``pid`` (TERM, then KILL); False if it was gone."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def _ours(pid: int) -> bool:
    """The recorded PID is still a prefect process (not a reused PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"prefect" in cmdline


def local_server(ws: Workspace, port: int = DEFAULT_PORT) -> Server:
    """The server ``make serve`` runs for this workspace (its state under ``IDEAL_HOME``)."""
    return Server(ws.home / "prefect-server", port)


def running(server: Server) -> dict[str, int]:
    """The recorded processes (server, worker) that are still running, by name."""
    if not server.pids_file.exists():
        return {}
    recorded = json.loads(server.pids_file.read_text(encoding="utf-8"))
    pids = {name: int(pid) for name, pid in recorded.get("pids", {}).items()}
    return {name: pid for name, pid in pids.items() if _ours(pid)}


def start(ws: Workspace, port: int, pool: str = POOL) -> Server:
    """``make serve``: server, pool, deployments, worker; PIDs recorded."""
    server = local_server(ws, port)
    if running(server):
        raise ServeError(f"Already running (PIDs in {server.pids_file}); `make serve-stop` first.")
    server_proc = start_server(server)
    pids = {"server": server_proc.pid}
    try:
        took = wait_healthy(server, server_proc)
        logger.info("Prefect server healthy in %.1f s at %s", took, server.ui_url)
        create_pool(server, pool)
        deploy(server)
        worker = start_worker(server, ws, pool)
        pids["worker"] = worker.pid
    except BaseException:
        for pid in pids.values():
            stop_group(pid)
        raise
    record = {"pids": pids, "port": port, "pool": pool, "api_url": server.api_url}
    server.pids_file.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return server


def stop(ws: Workspace) -> list[str]:
    """``make serve-stop``: stop the recorded server and worker; returns what was stopped."""
    server = local_server(ws)  # the port plays no part in where the PIDs are recorded
    if not server.pids_file.exists():
        return []
    alive = running(server)
    stopped = []
    # the worker first, so that it does not report a lost server
    for name in ("worker", "server"):
        pid = alive.get(name)
        if pid is not None and stop_group(pid):
            stopped.append(f"{name} (PID {pid})")
    server.pids_file.unlink()
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local Prefect server for ideal's flows.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--home", help="Workspace folder (default: $IDEAL_HOME or ./var).")
    parser.add_argument("--reports", help="Reports folder (default: $IDEAL_REPORTS or ./reports).")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("IDEAL_PREFECT_PORT", DEFAULT_PORT))
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ws = workspace(args.home, args.reports).ensure()
    try:
        if args.action == "start":
            server = start(ws, args.port)
            logger.info(
                "Prefect UI: %s (deployments: intake-poll, assessment-cycle, publish)\n"
                "Worker on pool %s for workspace %s. Stop with: make serve-stop",
                server.ui_url,
                POOL,
                ws.home,
            )
        else:
            stopped = stop(ws)
            logger.info("stopped %s", ", ".join(stopped) if stopped else "nothing (not running)")
    except ServeError as exc:
        logger.error("error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
