"""Events → indicators in SQL, by the rules file; reconciliation with reported values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warehouse_support import EVENT_HEADER, cli_app

from ideal.aggregation import (
    Rule,
    Rules,
    RulesError,
    Tolerance,
    check_rules,
    load_rules,
    mismatches,
)
from ideal.assessment import _current_values, ensure_cycle, ingest_paths
from ideal.catalogue import load_catalogue
from ideal.config import Workspace
from ideal.cycles import Cycle
from ideal.warehouse import connect

CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL", "PER"))
HEADER = "country,period,indicator,value,unit,source,reliability,credibility,trend,notes\n"
EVENTS = (
    "Colombia;03/01/2025;Nariño;incautación;cocaína;1.000,5;kg;DIJIN;B;2;\n"
    "Colombia;04/02/2025;Cauca;incautación;cocaína;2;t;DIJIN;C;3;\n"  # 2000 kg
    "Colombia;05/03/2025;Chocó;incautación;armas de fuego;12;count;DIJIN;A;1;\n"
    "Colombia;06/03/2025;Chocó;incautación;fauna silvestre;40;count;DIJIN;A;1;\n"
    "Colombia;07/03/2025;Chocó;incautación;fauna silvestre;3;count;DIJIN;A;1;\n"
    "Colombia;08/03/2025;Meta;víctima;víctima de trata;2;count;Fiscalía;B;2;\n"
    "Colombia;09/03/2025;Meta;incidente;secuestro;1;count;GAULA;B;2;\n"
)


def _load(ws: Workspace, tmp_path: Path, reported: str = "") -> None:
    ensure_cycle(ws, CYCLE)
    files = []
    if reported:
        ind = tmp_path / "COL.csv"
        ind.write_text(HEADER + reported, encoding="utf-8")
        files.append(ind)
    ev = tmp_path / "COL_eventos.csv"
    ev.write_text(EVENT_HEADER + EVENTS, encoding="utf-8")
    files.append(ev)
    outcomes = ingest_paths(ws, "2025", files)
    assert all(o.status.startswith("accepted") for o in outcomes), outcomes


def test_the_rules_file_agrees_with_the_catalogue() -> None:
    rules = load_rules()
    catalogue = load_catalogue()
    assert {r.indicator for r in rules.rules} >= {
        "cocaine_seized_kg",
        "firearms_seized_count",
        "thb_victims_identified_count",
    }
    check_rules(rules, catalogue)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule(indicator="cocaine_seized_kg", event_type="seizure", items=("firearms",),
              measure="sum_quantity"), "gives count, the indicator is in kg"),
        (Rule(indicator="cocaine_seized_kg", event_type="victim", items=("cocaine",),
              measure="sum_quantity"), "'cocaine' is not an item of victim"),
        (Rule(indicator="cocaine_expert_score", event_type="seizure", items=("cocaine",),
              measure="sum_quantity"), "not a quantitative indicator"),
        (Rule(indicator="nope", event_type="seizure", items=("cocaine",),
              measure="count_events"), "not a quantitative indicator"),
    ],
)  # fmt: skip
def test_a_rule_that_contradicts_the_catalogue_is_named(rule: Rule, message: str) -> None:
    rules = Rules(version=1, default_tolerance=Tolerance(), rules=(rule,))
    with pytest.raises(RulesError, match=message):
        check_rules(rules, load_catalogue())


def test_events_are_summed_or_counted_into_indicators(ws: Workspace, tmp_path: Path) -> None:
    _load(ws, tmp_path)
    with connect(ws.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "SELECT indicator_code, value, unit, n_events, is_unit_converted, reliability, "
            "credibility FROM core_threat__event_indicator_values ORDER BY indicator_code"
        ).fetchall()
    assert rows == [
        ("cocaine_seized_kg", 3000.5, "kg", 2, True, "C", 3),  # worst grades, t -> kg
        ("firearms_seized_count", 12.0, "count", 1, False, "A", 1),
        ("kidnappings_count", 1.0, "count", 1, False, "B", 2),
        ("thb_victims_identified_count", 2.0, "count", 1, False, "B", 2),
        ("wildlife_seizures_count", 2.0, "count", 2, False, "A", 1),  # seizures, not animals
    ]


def test_scoring_reads_reported_values_first_then_aggregated_ones(
    ws: Workspace, tmp_path: Path
) -> None:
    _load(ws, tmp_path, "COL,2025,cocaine_seized_kg,3000,kg,DIJIN,B,2,,\n")
    with connect(ws.warehouse_path, read_only=True) as con:
        origin = dict(
            con.execute(
                "SELECT indicator_code, value_origin FROM core_threat__scoring_values"
            ).fetchall()
        )
        values = _current_values(con, "2025")
    assert origin["cocaine_seized_kg"] == "reported"
    assert origin["firearms_seized_count"] == "events"
    assert "value_origin" not in values.columns
    by_code = dict(zip(values["indicator_code"], values["value"], strict=True))
    assert by_code["cocaine_seized_kg"] == 3000.0 and by_code["firearms_seized_count"] == 12.0


def test_reported_and_aggregated_values_are_reconciled(ws: Workspace, tmp_path: Path) -> None:
    reported = (
        "COL,2025,cocaine_seized_kg,3050,kg,DIJIN,B,2,,\n"  # within 5 %: agrees
        "COL,2025,firearms_seized_count,40,count,DIJIN,B,2,,\n"  # events say 12
    )
    _load(ws, tmp_path, reported)
    with connect(ws.warehouse_path, read_only=True) as con:
        found = con.execute(
            "SELECT indicator_code, reported_value, aggregated_value, difference, "
            "allowed_difference, is_mismatch FROM core_threat__reconciliation ORDER BY 1"
        ).fetchall()
        wrong = mismatches(con, "2025")
    assert found == [
        ("cocaine_seized_kg", 3050.0, 3000.5, -49.5, 152.5, False),
        ("firearms_seized_count", 40.0, 12.0, -28.0, 2.0, True),
    ]
    assert list(wrong["indicator_code"]) == ["firearms_seized_count"]
    shown = CliRunner().invoke(cli_app(), ["cycle", "status", "2025", "--home", str(ws.home)])
    assert shown.exit_code == 0, shown.output
    assert "COL firearms_seized_count: reported 40.0 but its events add up to 12.0" in shown.output
