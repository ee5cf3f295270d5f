"""End to end under real Prefect: the demo's latest cycle through the assessment_cycle flow.

It runs once per module (``demo``), after the earlier cycle was loaded and scored
without Prefect (it is the previous cycle, for trends); the tests then read what the
run left: the report's ranking, checked against a ranking this module computes on its own with
plain pandas from the accepted values and the numbers in the methodology file (read as
YAML, not through ideal's model); the Prefect artifacts; the steward reports; the run
manifest. Then the latest cycle is run again on the same inputs (identical ``out_``
tables) and the earlier one is published (frozen).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from ideal.config import DEMO_DIR, METHODOLOGY_DIR, PROJECT_ROOT, Workspace, workspace
from ideal.cycles import Cycle, CycleError, load_cycles_file
from ideal.warehouse import TABLES, connect

pytestmark = pytest.mark.flow


def _coinr_treat(x: pd.Series, winmax: int, skew_max: float, kurt_max: float) -> pd.Series:
    """COINr's default Treat(), written out plainly: winsorise, else log of the original."""
    v = x.dropna().astype(float)

    def fails(a: pd.Series) -> bool | None:
        sk, ku = stats.skew(a, bias=False), stats.kurtosis(a, bias=False)
        if np.isnan(sk) or np.isnan(ku):
            return None
        return bool(abs(sk) >= skew_max and ku >= kurt_max)

    if len(v) < 4 or v.nunique() < 2 or not fails(v):
        return x
    w = v.copy()
    while fails(w) and (w != v).sum() < winmax:
        top = stats.skew(w, bias=False) >= 0
        edge = w.max() if top else w.min()
        rest = w[w != edge]
        w[w == edge] = rest.max() if top else rest.min()
    state = fails(w)
    if state is None:
        return x
    if state:
        w = np.log(v - v.min() + 0.01 * (v.max() - v.min()))
    return w.reindex(x.index)


def _independent_priorities(con: Any, cycle_id: str, prev_id: str | None) -> pd.DataFrame:
    m = yaml.safe_load((METHODOLOGY_DIR / "clasi-1.0.yaml").read_text(encoding="utf-8"))
    ind = con.execute("SELECT * FROM core_ref__indicators").df().set_index("indicator_code")
    pop = con.execute("SELECT * FROM core_ref__population").df()

    def rates(cid: str) -> pd.DataFrame:
        year = con.execute(
            "SELECT period_year FROM core_cycle__cycles WHERE cycle_id = ?", [cid]
        ).fetchone()[0]
        v = con.execute(
            "SELECT v.country_iso3, v.indicator_code, v.value FROM "
            "core_threat__indicator_values v JOIN raw_intake__submissions s "
            "USING (submission_sha256) WHERE v.cycle_id = ? AND s.is_current "
            "AND v.value IS NOT NULL",
            [cid],
        ).df()
        p = pop[pop["year"] <= year].sort_values("year").groupby("country_iso3").last()
        v["category"] = v["indicator_code"].map(ind["category_code"])
        v["kind"] = v["indicator_code"].map(ind["indicator_kind"])
        v["direction"] = v["indicator_code"].map(ind["direction"]).astype(float)
        per_pop = v["indicator_code"].map(ind["denominator"]).eq("population")
        v["rate"] = np.where(
            per_pop, v["value"] / v["country_iso3"].map(p["population"]) * 1e5, v["value"]
        )
        return v

    cur = rates(cycle_id)
    q = cur[cur["kind"] == "quantitative"].copy()
    t = m["treatment"]
    assert t["method"] == "coinr_default" and not t.get("overrides"), "test assumes defaults"
    q["treated"] = q.groupby("indicator_code")["rate"].transform(
        lambda r: _coinr_treat(r, t["winmax"], t["skew_thresh"], t["kurt_thresh"])
    )
    q["x"] = q["direction"] * q["treated"]
    lo, hi = (
        q.groupby("indicator_code")["x"].transform("min"),
        q.groupby("indicator_code")["x"].transform("max"),
    )
    q["norm"] = np.where(hi > lo, (q["x"] - lo) / (hi - lo) * 100, np.nan)
    quant = q.groupby(["country_iso3", "category"])["norm"].mean()
    e = cur[cur["kind"] == "expert"].set_index(["country_iso3", "category"])["rate"]
    expert = ((e - 1) / 9).clip(0, 1) * 100
    blocks = pd.concat({"q": quant, "e": expert}, axis=1)
    wq, we = m["category"]["blend"]["quantitative"], m["category"]["blend"]["expert"]
    num = blocks["q"].fillna(0) * wq + blocks["e"].fillna(0) * we
    den = blocks["q"].notna() * wq + blocks["e"].notna() * we
    score = (num / den).dropna().rename("score").reset_index()

    pr = m["priority"]
    score["touched"] = score["score"] >= pr["spread_threshold"]
    out = []
    prev = rates(prev_id) if prev_id else None
    for cat, g in score.groupby("category"):
        sev_set = g[g["touched"]] if g["touched"].any() else g
        trend = 50.0
        if prev is not None:
            a = cur[(cur["category"] == cat) & cur["country_iso3"].isin(sev_set["country_iso3"])]
            b = a.merge(
                prev[["country_iso3", "indicator_code", "rate"]],
                on=["country_iso3", "indicator_code"],
                suffixes=("", "_prev"),
            )
            cap = pr["trend_cap"]
            d = b["direction"] * (b["rate"] - b["rate_prev"])
            rel = np.where(b["rate_prev"] != 0, d / b["rate_prev"].abs(), np.sign(d) * cap)
            if len(b):
                trend = 50 + 50 * float(np.mean(np.clip(rel, -cap, cap) / cap))
        w = pr["weights"]
        out.append(
            {
                "category_code": cat,
                "priority": w["severity"] * sev_set["score"].mean()
                + w["spread"] * g["touched"].mean() * 100
                + w["trend"] * trend,
            }
        )
    frame = pd.DataFrame(out).sort_values("priority", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def _report_ranking(path: Path) -> list[tuple[int, str, float]]:
    """(rank, category name, priority) from the report's ranked table."""
    text = path.read_text(encoding="utf-8")
    table = re.search(r'<table[^>]*id="priorities-table".*?</table>', text, re.S)
    assert table, "the report has no ranked priorities table"
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0), re.S)[1:]:
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        ]
        rows.append((int(cells[0]), cells[1], float(cells[2].replace(",", ""))))
    return rows


@dataclass
class DemoRun:
    ws: Workspace
    cycles: list[Cycle]
    results: list[dict[str, Any]]


@pytest.fixture(scope="module")
def demo(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """The demo's cycles, oldest first: the earlier one loaded and scored with plain
    ideal calls (it is only the previous cycle here), the latest through assessment_cycle."""
    from ideal.assessment import ensure_cycle, ingest_inbox, score
    from ideal.intake import copy_into_inbox
    from pipelines.cycle import assessment_cycle

    base = tmp_path_factory.mktemp("flow")
    ws = workspace(base / "home", base / "reports").ensure()
    cycles = load_cycles_file(DEMO_DIR / "cycles.yaml")
    results: list[dict[str, Any]] = []
    for cycle in cycles:
        ensure_cycle(ws, cycle)
        copy_into_inbox(ws, cycle.cycle_id, sorted((DEMO_DIR / cycle.cycle_id).iterdir()))
        if cycle is not cycles[-1]:
            ingest_inbox(ws, cycle.cycle_id)
            score(ws, cycle.cycle_id)
            results.append({"cycle_id": cycle.cycle_id})
            continue
        results.append(
            assessment_cycle(cycle.cycle_id, home=str(ws.home), reports=str(ws.reports_root))
        )
    yield DemoRun(ws, cycles, results)


def _client() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _subflow_run_id(parent_id: str) -> str:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    with _client() as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])
            )
        )
    assert len(runs) == 1, "assessment_cycle runs intake as its one subflow"
    return str(runs[0].id)


def _artifacts(flow_run_id: str) -> dict[str, Any]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with _client() as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


def _task_runs(flow_run_id: str, n: int) -> list[Any]:
    """The flow run's task runs (recorded from events: wait until all ``n`` are there)."""
    import time

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    for _ in range(100):
        with _client() as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        if len(runs) >= n and all(r.end_time is not None for r in runs):
            return list(runs)
        time.sleep(0.1)
    raise AssertionError(f"{len(runs)} task runs recorded, expected {n}")


def test_demo_cycles_run_end_to_end(demo: DemoRun) -> None:
    ws, cycles, results = demo.ws, demo.cycles, demo.results
    last, prev = cycles[-1].cycle_id, cycles[-2].cycle_id
    statuses = {r["file"]: r["status"] for r in results[-1]["intake"]}
    assert "rejected" in statuses.values()
    assert "accepted_with_warnings" in statuses.values()
    assert not any(ws.inbox_for(last).iterdir()), "the inbox is cleared once archived"

    reports = [Path(p) for p in results[-1]["reports"]]
    assert sorted(p.name for p in reports) == [
        f"ideal-{last}-{lang}.html" for lang in ("en", "es", "pt")
    ]
    with connect(ws.warehouse_path, read_only=True) as con:
        expected = _independent_priorities(con, last, prev)
        names = dict(
            con.execute("SELECT category_code, name_en FROM core_ref__categories").fetchall()
        )
        n_categories = con.execute("SELECT count(*) FROM core_ref__categories").fetchone()[0]
    ranking = _report_ranking(next(p for p in reports if p.name.endswith("-en.html")))
    assert len(ranking) == n_categories, "every category is listed"
    assert [r[0] for r in ranking] == sorted(r[0] for r in ranking)
    assert [r[1] for r in ranking] == [names[c] for c in expected["category_code"]]
    assert [r[2] for r in ranking] == pytest.approx(
        expected["priority"].round(1).tolist(), abs=0.051
    )


def test_close_check_names_the_countries_without_accepted_data(demo: DemoRun) -> None:
    cycle, result = demo.cycles[-1], demo.results[-1]
    accepted = {r["country"] for r in result["intake"] if r["status"].startswith("accepted")}
    assert result["missing"] == [c for c in cycle.expected_countries if c not in accepted]
    assert result["missing"], "the demo leaves some countries out"


def test_intake_artifacts_and_steward_reports(demo: DemoRun) -> None:
    result = demo.results[-1]
    artifacts = _artifacts(_subflow_run_id(result["flow_run_id"]))
    table = artifacts["ideal-intake"]
    assert table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert [(r["file"], r["status"]) for r in rows] == [
        (r["file"], r["status"]) for r in result["intake"]
    ]
    assert {"file", "country", "status", "errors", "warnings"} <= set(rows[0])

    markdown = artifacts["ideal-steward-reports"].data
    for row in result["intake"]:
        pages = {lang: Path(p) for lang, p in row["steward_reports"].items()}
        assert sorted(pages) == ["en", "es", "pt"]
        for page in pages.values():
            assert page.is_file() and page.as_uri() in markdown
        text = pages["es"].read_text(encoding="utf-8")
        assert 'lang="es"' in text and "http" not in text.split("<body", 1)[-1].lower()
        if row["status"] in ("rejected", "unreadable"):
            assert (pages["es"].parent / "findings.json").is_file(), "beside the quarantined copy"
        else:
            assert pages["es"].parent.parent == demo.ws.archive, "beside the archived bytes"


def test_cycle_artifacts_and_manifest(demo: DemoRun) -> None:
    from ideal.manifest import current_inputs, git_commit, read_manifest
    from ideal.scoring.methodology import load_methodology

    cycle_id, result = demo.cycles[-1].cycle_id, demo.results[-1]
    artifacts = _artifacts(result["flow_run_id"])
    ranked = artifacts[f"priorities-{cycle_id}"].data
    ranked = json.loads(ranked) if isinstance(ranked, str) else ranked
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
    links = artifacts[f"reports-{cycle_id}"].data
    assert all(Path(p).as_uri() in links for p in result["reports"])

    with connect(demo.ws.warehouse_path, read_only=True) as con:
        manifest = read_manifest(con, cycle_id)
        inputs = current_inputs(con, cycle_id)
    assert manifest is not None
    assert manifest.flow_run_id == result["flow_run_id"]
    assert tuple(sorted(manifest.input_sha256s)) == inputs and len(inputs) > 10
    assert manifest.methodology_sha256 == load_methodology()[1]
    assert manifest.seeds, "the Monte Carlo seed is on record"
    commit = git_commit(PROJECT_ROOT)
    if commit is None:
        assert manifest.git_commit is None
    else:
        assert manifest.git_commit is not None and commit.startswith(manifest.git_commit)
    assert result["score"]["git_commit"] == manifest.git_commit


def _out_tables(ws: Workspace) -> dict[str, pd.DataFrame]:
    """Every out_ table, rows sorted by their key, without what identifies the run itself:
    its time, its flow run id and the code's version (a commit may land between runs)."""
    run_only = {"run_at", "flow_run_id", "package_version"}
    out = {}
    with connect(ws.warehouse_path, read_only=True) as con:
        for t in TABLES:
            if not t.name.startswith("out_"):
                continue
            frame = con.execute(f"SELECT * FROM {t.name}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in run_only])
            out[t.name] = frame.sort_values(list(t.key)).reset_index(drop=True)
    return out


def test_rerun_on_the_same_inputs_gives_identical_out_tables(demo: DemoRun) -> None:
    from ideal.intake import copy_into_inbox
    from ideal.manifest import package_version, read_manifest
    from pipelines.cycle import assessment_cycle

    ws, cycle_id = demo.ws, demo.cycles[-1].cycle_id
    before = _out_tables(ws)
    copy_into_inbox(ws, cycle_id, sorted((DEMO_DIR / cycle_id).iterdir()))
    again = assessment_cycle(
        cycle_id, home=str(ws.home), reports=str(ws.reports_root), langs=("en",)
    )
    version = package_version()
    assert not any(r["new"] for r in again["intake"]), "identical bytes change nothing"
    assert again["flow_run_id"] != demo.results[-1]["flow_run_id"]
    after = _out_tables(ws)
    assert sorted(after) == sorted(before)
    for name in ("out_threat__regional_priorities", "out_threat__priority_uncertainty"):
        assert len(before[name]) > 0, name
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, check_exact=True, obj=name)
    with connect(ws.warehouse_path, read_only=True) as con:
        manifest = read_manifest(con, cycle_id)
    assert manifest is not None and manifest.flow_run_id == again["flow_run_id"]
    assert manifest.package_version == version, "the version of the code that ran"


def test_publish_freezes_the_cycle(demo: DemoRun) -> None:
    from ideal.assessment import load_cycle
    from ideal.cycles import close_cycle
    from ideal.intake import copy_into_inbox
    from ideal.manifest import read_manifest
    from pipelines.cycle import assessment_cycle
    from pipelines.intake import intake
    from pipelines.publish import publish

    ws, cycle_id = demo.ws, demo.cycles[0].cycle_id  # the earlier cycle
    home, reports = str(ws.home), str(ws.reports_root)

    # closed: scored again on what it holds, its inbox left alone; no intake into it
    with connect(ws.warehouse_path) as con:
        manifest = read_manifest(con, cycle_id)
        assert manifest is not None and manifest.flow_run_id is None, "scored without Prefect"
        close_cycle(con, cycle_id)
    waiting = copy_into_inbox(ws, cycle_id, [next((DEMO_DIR / cycle_id).iterdir())])
    rerun = assessment_cycle(cycle_id, home=home, reports=reports)
    assert rerun["intake"] == [] and rerun["score"] and waiting[0].exists()
    with pytest.raises(CycleError, match="closed: it accepts no more submissions"):
        intake(cycle_ids=[cycle_id], home=home, reports=reports)
    waiting[0].unlink()

    done = publish(int(cycle_id), home=home, reports=reports)  # as `--param cycle_id=2024`
    assert done["status"] == "published" and load_cycle(ws, cycle_id).status == "published"
    assert done["scoring_flow_run_id"] == rerun["flow_run_id"], "the run that scored it last"
    assert _artifacts(done["flow_run_id"])[f"manifest-{cycle_id}"].type == "markdown"

    with pytest.raises(CycleError, match="published"):
        assessment_cycle(cycle_id, home=home, reports=reports)
    late = copy_into_inbox(ws, cycle_id, [next((DEMO_DIR / cycle_id).iterdir())])
    polled = intake(home=home, reports=reports)  # every open cycle: not a published one
    assert all(r["cycle"] != cycle_id for r in polled) and late[0].exists()
    assert publish(cycle_id, home=home, reports=reports)["status"] == "published"


def test_validation_limit_and_single_writer(
    prefect_harness: None, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most IDEAL_VALIDATION_SLOTS validations at once; loads one at a time, in inbox
    order (times as recorded by Prefect)."""
    from ideal.assessment import ensure_cycle
    from ideal.intake import copy_into_inbox
    from pipelines.intake import intake

    cycle = load_cycles_file(DEMO_DIR / "cycles.yaml")[-1]
    ensure_cycle(ws, cycle)
    files = copy_into_inbox(ws, cycle.cycle_id, sorted((DEMO_DIR / cycle.cycle_id).iterdir())[:5])
    monkeypatch.setenv("IDEAL_VALIDATION_SLOTS", "2")
    state = intake(
        [cycle.cycle_id], home=str(ws.home), reports=str(ws.reports_root), return_state=True
    )
    rows = state.result()
    assert [r["file"] for r in rows] == [f.name for f in files]

    runs = _task_runs(str(state.state_details.flow_run_id), n=2 + 2 * len(files))
    by_kind: dict[str, list[Any]] = {}
    for r in runs:
        by_kind.setdefault(r.name.split(" ")[0], []).append(r)

    def peak(spans: list[Any]) -> int:
        events = sorted([(r.start_time, 1) for r in spans] + [(r.end_time, -1) for r in spans])
        depth = top = 0
        for _, step in events:  # at equal times an end (-1) sorts before a start
            depth += step
            top = max(top, depth)
        return top

    validations, loads = by_kind["validate"], by_kind["load"]
    assert len(validations) == len(loads) == len(files)
    assert all(r.run_count == 1 for r in runs), "nothing failed, nothing was retried"
    assert peak(validations) <= 2
    assert peak(loads) == 1, "one writer"
    assert [r.name for r in sorted(loads, key=lambda r: r.start_time)] == [
        f"load {f.name}" for f in files
    ]
