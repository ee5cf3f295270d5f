"""prefect.yaml: every deployment loads its entrypoint, its parameters validate against the
flow's signature, and its schedules parse. No Prefect server is started."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import yaml

from ideal.config import PROJECT_ROOT
from ideal.runtime import OFFLINE_DEFAULTS

DOC: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS: list[dict[str, Any]] = DOC["deployments"]
# Parameters an on-demand deployment leaves to the person who runs it.
GIVEN_AT_RUN_TIME = {"cycle_id": "2025"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: str(d["name"]))
def test_deployment_entrypoint_parameters_and_schedules(
    deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(PROJECT_ROOT)
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    params = deployment.get("parameters") or {}
    required = {
        name
        for name, p in inspect.signature(flow.fn).parameters.items()
        if p.default is inspect.Parameter.empty
    }
    missing = required - set(params)
    assert missing <= set(GIVEN_AT_RUN_TIME), f"required parameters without a value: {missing}"
    if missing:  # on demand: no schedule could supply them
        assert not deployment.get("schedules"), "a scheduled run would lack " + str(missing)
    flow.validate_parameters({**{k: GIVEN_AT_RUN_TIME[k] for k in missing}, **params})
    assert deployment["work_pool"]["name"] == "ideal-process"
    env = deployment["work_pool"]["job_variables"]["env"]
    # a worker started by hand runs offline, with ideal's logs in the UI, as `make serve`'s
    assert env == OFFLINE_DEFAULTS
    for schedule in deployment.get("schedules") or []:
        if "cron" in schedule:
            CronSchedule(cron=schedule["cron"], timezone=schedule.get("timezone"))
        else:
            IntervalSchedule(interval=schedule["interval"])


def test_the_three_deployments_and_their_triggers() -> None:
    by_name = {d["name"]: d for d in DEPLOYMENTS}
    assert set(by_name) == {"intake-poll", "assessment-cycle", "publish"}
    assert [s["interval"] for s in by_name["intake-poll"]["schedules"]] == [900]
    assert "cron" in by_name["assessment-cycle"]["schedules"][0]
    assert not by_name["publish"].get("schedules"), "publish runs on demand only"


def test_bad_parameters_are_refused() -> None:
    from prefect.exceptions import ParameterTypeError
    from prefect.flows import load_flow_from_entrypoint

    flow = load_flow_from_entrypoint(str(PROJECT_ROOT / "pipelines/cycle.py:assessment_cycle"))
    with pytest.raises((ParameterTypeError, TypeError)):
        flow.validate_parameters({"cycle": "2025"})
    publish = load_flow_from_entrypoint(str(PROJECT_ROOT / "pipelines/publish.py:publish"))
    with pytest.raises((ParameterTypeError, TypeError)):
        publish.validate_parameters({})
