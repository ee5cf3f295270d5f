"""End to end under real Prefect: the demo's two cycles through the assessment_cycle flow.

The ranking in the report is checked against a ranking this test computes on its own,
with plain pandas, from the accepted values in the warehouse and the numbers in the
methodology file (read as YAML, not through ideal's model).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from ideal.config import DEMO_DIR, METHODOLOGY_DIR, Workspace
from ideal.cycles import load_cycles_file
from ideal.warehouse import connect

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


def test_demo_cycles_run_end_to_end(prefect_harness: None, ws: Workspace) -> None:
    from ideal.assessment import ensure_cycle
    from ideal.intake import copy_into_inbox
    from pipelines.cycle import assessment_cycle

    cycles = load_cycles_file(DEMO_DIR / "cycles.yaml")
    results = []
    for cycle in cycles:
        ensure_cycle(ws, cycle)
        copy_into_inbox(ws, cycle.cycle_id, sorted((DEMO_DIR / cycle.cycle_id).iterdir()))
        results.append(
            assessment_cycle(cycle.cycle_id, home=str(ws.home), reports=str(ws.reports_root))
        )
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
