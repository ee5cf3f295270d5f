"""prefect.yaml: every deployment loads its entrypoint, its parameters validate against the
flow's signature, and its schedules parse. No Prefect server is started."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ideal.config import PROJECT_ROOT

DEPLOYMENTS: list[dict[str, Any]] = yaml.safe_load(
    (PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8")
)["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: str(d["name"]))
def test_deployment_entrypoint_parameters_and_schedules(
    deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(PROJECT_ROOT)
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    flow.validate_parameters(deployment.get("parameters") or {})
    assert deployment["work_pool"]["name"]
    for schedule in deployment.get("schedules") or []:
        if "cron" in schedule:
            CronSchedule(cron=schedule["cron"], timezone=schedule.get("timezone"))
        else:
            IntervalSchedule(interval=schedule["interval"])


def test_bad_parameters_are_refused() -> None:
    from prefect.exceptions import ParameterTypeError
    from prefect.flows import load_flow_from_entrypoint

    flow = load_flow_from_entrypoint(str(PROJECT_ROOT / "pipelines/cycle.py:assessment_cycle"))
    with pytest.raises((ParameterTypeError, TypeError)):
        flow.validate_parameters({"cycle": "2025"})
