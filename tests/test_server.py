"""The whole server path, as ``make serve`` sets it up, on loopback only.

A Prefect server on a free port of 127.0.0.1 with its own PREFECT_HOME under tmp_path;
the process work pool; the deployments of prefect.yaml; the assessment-cycle deployment
triggered for a cycle whose inbox holds demo files; a worker with ``--run-once``. The
flow run must complete and the report exist. Everything started here is stopped here,
by process group, also when the test fails. (The scheduler service is off so that the
15-minute intake schedule adds no run of its own.)
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from typing import Any

import pytest

from ideal.config import DEMO_DIR, workspace
from ideal.cycles import load_cycles_file

pytestmark = pytest.mark.slow


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def test_deploy_trigger_and_run_on_a_local_server(tmp_path: Any) -> None:
    from ideal.assessment import ensure_cycle
    from ideal.intake import copy_into_inbox
    from pipelines.serve import (
        POOL,
        Server,
        create_pool,
        deploy,
        free_port,
        prefect,
        spawn,
        start_server,
        stop_group,
        wait_healthy,
    )

    ws = workspace(tmp_path / "home", tmp_path / "reports").ensure()
    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[-1]
    ensure_cycle(ws, cycle)
    demo = sorted((DEMO_DIR / cycle.cycle_id).iterdir())
    copy_into_inbox(
        ws, cycle.cycle_id, [p for p in demo if p.name.startswith(("ARG", "BOL", "HND"))]
    )

    server = Server(tmp_path / "prefect", free_port())
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(start_server(server, scheduler=False, ui=False))
        wait_healthy(server, started[0])
        create_pool(server)
        deploy(server)
        ran = prefect(
            server,
            "deployment",
            "run",
            "assessment_cycle/assessment-cycle",
            "--param",
            f"cycle_id={cycle.cycle_id}",
            "--param",
            'langs=["en"]',
        )
        match = re.search(r"UUID:\s*([0-9a-f-]{36})", ran.stdout)
        assert match, ran.stdout
        flow_run_id = match.group(1)

        worker = spawn(
            server, "worker", ["worker", "start", "--pool", POOL, "--run-once"], server.env(ws)
        )
        started.append(worker)
        assert worker.wait(timeout=240) == 0, (server.state / "worker.log").read_text()

        run = _get(f"{server.api_url}/flow_runs/{flow_run_id}")
        log = (server.state / "worker.log").read_text(encoding="utf-8", errors="replace")
        assert run["state"]["type"] == "COMPLETED", log[-3000:]
    finally:
        for proc in reversed(started):
            stop_group(proc.pid)
            proc.wait(timeout=30)

    report = ws.reports_for(cycle.cycle_id) / f"ideal-{cycle.cycle_id}-en.html"
    assert report.is_file()
    assert not any(ws.inbox_for(cycle.cycle_id).iterdir()), "the worker's run took the inbox"
    assert all(p.poll() is not None for p in started)
