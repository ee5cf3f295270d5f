"""Scale-out: the intake flow's validation on a Dask cluster through prefect-dask.

A local cluster stands in for a real one: two workers that talk TCP on 127.0.0.1, so
every task and result is serialised as on a real cluster (they are threads of this
process: separate worker processes would add about 12 s of start-up and shutdown). The
flow is pointed at it by configuration only (``IDEAL_TASK_RUNNER=dask``,
``IDEAL_DASK_ADDRESS``), as a deployment would be. The files must come out exactly as
the plain validation says, loaded by the flow's single writer.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ideal.config import DEMO_DIR, Workspace
from ideal.cycles import load_cycles_file

pytestmark = [pytest.mark.slow, pytest.mark.flow]


def test_validation_runs_on_a_dask_cluster(
    prefect_harness: None, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster

    from ideal.assessment import ensure_cycle
    from ideal.catalogue import load_catalogue
    from ideal.intake import copy_into_inbox, parse_and_validate
    from ideal.reference import default_resolver
    from pipelines.common import validation_runner
    from pipelines.intake import intake

    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[-1]
    ensure_cycle(ws, cycle)
    demo = sorted((DEMO_DIR / cycle.cycle_id).iterdir())
    files = [demo[0], *[p for p in demo if p.name.startswith(("HND", "PRY"))]]
    copy_into_inbox(ws, cycle.cycle_id, files)
    expected = {}
    for path in files:
        raw, result = parse_and_validate(
            path.read_bytes(), cycle, load_catalogue(), default_resolver(), dt.date.today()
        )
        expected[path.name] = "unreadable" if raw is None else result.status

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        monkeypatch.setenv("IDEAL_TASK_RUNNER", "dask")
        monkeypatch.setenv("IDEAL_DASK_ADDRESS", cluster.scheduler_address)
        assert type(validation_runner()).__name__ == "DaskTaskRunner"
        rows = intake([cycle.cycle_id], home=str(ws.home), reports=str(ws.reports_root))
        with Client(cluster.scheduler_address) as client:
            prefixes = client.run_on_scheduler(
                lambda dask_scheduler: list(dask_scheduler.task_prefixes)
            )

    assert "validate_submission" in prefixes, "the validations ran on the cluster"
    assert {r["file"]: r["status"] for r in rows} == expected
    assert [r["file"] for r in rows] == [p.name for p in files], "loaded in inbox order"
    assert all(len(r["steward_reports"]) == 3 for r in rows)
    assert not any(ws.inbox_for(cycle.cycle_id).iterdir())
