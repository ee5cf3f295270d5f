"""The committed demo submissions (data/demo): reproducible, complete, deliberately flawed.

Regenerating with the default seed must give the committed files (CSV/JSON/YAML byte for
byte, XLSX cell for cell); every expected country must have a 2024 file; and each
deliberate mistake listed in data/demo/README.md must be present in the raw cells.
Colombia's 2025 event register must agree with its indicator file, by the aggregation
rules, on every indicator but one (firearms), and the intake must accept it without
changing what scoring reads. The raw reader here is independent of ``ideal.readers`` on
purpose: it checks what the files contain, not what the intake makes of them.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest
import yaml

from ideal.aggregation import load_rules
from ideal.catalogue import fold, load_catalogue
from ideal.config import SCHEMAS_DIR
from ideal.contract import column_headers

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
CYCLE_IDS = ("2024", "2025")
MISSING_TOKENS = {"n/d", "s/d", "N/A", "-"}
GRADES = set("ABCDEF")
CREDIBILITIES = set("123456")
HEADER_TO_CANONICAL = {
    "country": "country", "país": "country",
    "period": "period", "periodo": "period", "período": "period",
    "indicator": "indicator", "indicador": "indicator",
    "value": "value", "valor": "value",
    "unit": "unit", "unidad": "unit", "unidade": "unit",
    "source": "source", "fuente": "source", "fonte": "source",
    "reliability": "reliability", "fiabilidad": "reliability", "confiabilidade": "reliability",
    "credibility": "credibility", "credibilidad": "credibility", "credibilidade": "credibility",
    "trend": "trend", "tendencia": "trend", "tendência": "trend",
    "notes": "notes", "notas": "notes", "observações": "notes",
    # event records
    "date": "date", "fecha": "date", "data": "date",
    "admin1": "admin1", "departamento": "admin1", "estado": "admin1",
    "event_type": "event_type", "tipo de evento": "event_type",
    "item": "item", "elemento": "item",
    "quantity": "quantity", "cantidad": "quantity", "quantidade": "quantity",
}  # fmt: skip
EVENT_REGISTER = Path("2025") / "COL_eventos_2025.csv"
SQL_PATH_ROWS = 20_000  # ideal.sqlcheck.SQL_MIN_ROWS: larger CSV files take the SQL path
MAX_REGISTER_BYTES = 1_500_000

Row = dict[str, Any]


def _load_generator() -> ModuleType:
    name = "ideal_demo_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DEMO / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory, gen: ModuleType) -> Path:
    out = tmp_path_factory.mktemp("demo")
    gen.main(out)
    return out


def _submission_files(root: Path) -> list[Path]:
    return sorted(
        p.relative_to(root)
        for cycle in CYCLE_IDS
        if (root / cycle).is_dir()
        for p in (root / cycle).iterdir()
        if p.is_file()
    )


# -- a minimal raw reader -----------------------------------------------------------------
def _canonical(header: list[Any]) -> list[str]:
    return [HEADER_TO_CANONICAL[str(h).strip()] for h in header]


def read_raw(path: Path) -> tuple[list[Row], str]:
    """Rows as written (canonical keys) and the decimal separator of the file."""
    if path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [{"country": doc["country"], **r} for r in doc["rows"]], "."
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, data_only=True)
        values = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        start = next(i for i, r in enumerate(values) if r[0] in ("país", "country"))
        keys = _canonical(values[start])
        return [dict(zip(keys, r, strict=True)) for r in values[start + 1 :]], "."
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data.decode("utf-8-sig")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
    delimiter = ";" if ";" in text.splitlines()[0] else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    keys = _canonical(records[0])
    return [dict(zip(keys, r, strict=True)) for r in records[1:]], "," if delimiter == ";" else "."


def number(cell: Any, decimal: str) -> float:
    if isinstance(cell, int | float):
        return float(cell)
    text = str(cell)
    if decimal == ",":
        text = text.replace(".", "").replace(",", ".")
    return float(text)


def files_of(cycle: str) -> list[Path]:
    return sorted(p for p in (DEMO / cycle).iterdir() if p.is_file())


def is_event_file(path: Path) -> bool:
    rows, _ = read_raw(path)
    return bool(rows) and "event_type" in rows[0]


def indicator_files_of(cycle: str) -> list[Path]:
    return [p for p in files_of(cycle) if not is_event_file(p)]


def file_of(gen: ModuleType, cycle: str, iso3: str) -> Path:
    return DEMO / cycle / gen.STYLES[iso3].filename.replace("{year}", cycle)


# -- reproducibility ------------------------------------------------------------------------
def test_regenerating_gives_the_committed_files(regenerated: Path) -> None:
    committed, fresh = _submission_files(DEMO), _submission_files(regenerated)
    assert committed == fresh, "regenerate with: .venv/bin/python data/demo/generate.py"
    assert (DEMO / "cycles.yaml").read_bytes() == (regenerated / "cycles.yaml").read_bytes()
    for rel in committed:
        old, new = DEMO / rel, regenerated / rel
        if rel.suffix != ".xlsx":
            assert old.read_bytes() == new.read_bytes(), f"{rel} differs from a regeneration"
            continue
        wb_old, wb_new = openpyxl.load_workbook(old), openpyxl.load_workbook(new)
        assert wb_old.sheetnames == wb_new.sheetnames, rel
        for ws_old, ws_new in zip(wb_old.worksheets, wb_new.worksheets, strict=True):
            cells_old = [list(r) for r in ws_old.iter_rows(values_only=True)]
            cells_new = [list(r) for r in ws_new.iter_rows(values_only=True)]
            assert cells_old == cells_new, f"{rel}: sheet {ws_old.title} differs"
            merged_old = sorted(str(m) for m in ws_old.merged_cells.ranges)
            assert merged_old == sorted(str(m) for m in ws_new.merged_cells.ranges), rel
        assert wb_old.properties.modified == wb_new.properties.modified, rel


def test_another_seed_gives_other_values(gen: ModuleType, tmp_path: Path) -> None:
    gen.main(tmp_path, seed=7)
    name = Path("2025") / "COL_ideal_2025.csv"
    assert (tmp_path / name).read_bytes() != (DEMO / name).read_bytes()


# -- completeness ---------------------------------------------------------------------------
def test_cycles_file_lists_both_cycles() -> None:
    doc = yaml.safe_load((DEMO / "cycles.yaml").read_text(encoding="utf-8"))
    cycles = {c["cycle_id"]: c for c in doc["cycles"]}
    assert set(cycles) == set(CYCLE_IDS)
    assert str(cycles["2025"]["deadline"]) == "2026-03-31"
    assert len(cycles["2024"]["expected_countries"]) == 17


def test_every_expected_country_has_a_file_in_2024(gen: ModuleType) -> None:
    doc = yaml.safe_load((DEMO / "cycles.yaml").read_text(encoding="utf-8"))
    expected = next(c for c in doc["cycles"] if c["cycle_id"] == "2024")["expected_countries"]
    assert len(files_of("2024")) == len(expected) == 17
    for iso3 in expected:
        path = file_of(gen, "2024", iso3)
        assert path.is_file(), f"{iso3}: no 2024 file"
        rows, _ = read_raw(path)
        assert {r["country"] for r in rows} == {gen.STYLES[iso3].country_cell}


def test_2024_files_are_clean() -> None:
    catalogue = load_catalogue()
    by_code = catalogue.indicator_by_code
    for path in files_of("2024"):
        rows, decimal = read_raw(path)
        totals: dict[str, float] = {}
        for r in rows:
            ind = by_code[r["indicator"]]
            assert r["unit"] == ind.unit, (path.name, r)
            assert str(r["reliability"]) in GRADES and str(r["credibility"]) in CREDIBILITIES
            assert str(r["period"]).startswith("2024")
            if str(r["value"]) in MISSING_TOKENS | {"<5"}:
                continue
            totals[ind.code] = totals.get(ind.code, 0.0) + number(r["value"], decimal)
        assert set(totals) | {r["indicator"] for r in rows} == set(by_code), path.name
        for code, total in totals.items():
            low, high = by_code[code].plausible
            assert low <= total <= high, (path.name, code, total)


# -- the deliberate mistakes of cycle 2025 (README.md) -------------------------------------
def test_jamaica_does_not_submit_in_2025(gen: ModuleType) -> None:
    assert not file_of(gen, "2025", "JAM").exists()
    for path in files_of("2025"):
        rows, _ = read_raw(path)
        assert "Jamaica" not in {r["country"] for r in rows}


def test_honduras_file_has_four_errors_and_no_resubmission(gen: ModuleType) -> None:
    codes = set(load_catalogue().indicator_by_code)
    path = file_of(gen, "2025", "HND")
    assert [p.name for p in files_of("2025") if p.name.startswith("HND")] == [path.name]
    rows, _ = read_raw(path)
    assert "cocaine_seized" in {r["indicator"] for r in rows} and "cocaine_seized" not in codes
    assert "mil doscientos" in {r["value"] for r in rows}
    assert "G" in {r["reliability"] for r in rows}
    negative = [r for r in rows if r["unit"] == "count" and str(r["value"]).startswith("-")]
    assert negative and str(negative[0]["value"]).lstrip("-").isdigit()


def test_paraguay_bad_file_sorts_before_its_correction() -> None:
    names = sorted(p.name for p in files_of("2025") if p.name.startswith("PRY"))
    assert names == ["PRY_ideal_2025.csv", "PRY_ideal_2025_v2.csv"]
    rows, decimal = read_raw(DEMO / "2025" / names[0])
    assert "7" in {r["credibility"] for r in rows}
    assert "2024" in {r["period"] for r in rows}
    shifted = [r for r in rows if r["value"] == ""]
    assert len(shifted) == 2
    assert all(number(r["unit"], decimal) > 0 for r in shifted)  # the value slid into 'unit'


def test_paraguay_resubmission_is_clean() -> None:
    by_code = load_catalogue().indicator_by_code
    rows, _ = read_raw(DEMO / "2025" / "PRY_ideal_2025_v2.csv")
    assert {r["indicator"] for r in rows} == set(by_code)
    assert {r["period"] for r in rows} == {"2025"}
    assert all(r["credibility"] in CREDIBILITIES and r["reliability"] in GRADES for r in rows)
    assert all(r["unit"] == by_code[r["indicator"]].unit for r in rows)


def test_peru_reports_tonnes_and_leaves_one_indicator_out(gen: ModuleType) -> None:
    rows, decimal = read_raw(file_of(gen, "2025", "PER"))
    cocaine = next(r for r in rows if r["indicator"] == "cocaine_seized_kg")
    assert cocaine["unit"] == "t" and 1 < number(cocaine["value"], decimal) < 1000
    left_out = set(load_catalogue().indicator_by_code) - {r["indicator"] for r in rows}
    assert left_out == {"wildlife_seizures_count"}


def test_dominican_republic_has_one_implausible_value(gen: ModuleType) -> None:
    by_code = load_catalogue().indicator_by_code
    rows, decimal = read_raw(file_of(gen, "2025", "DOM"))
    outside = []
    for r in rows:
        if str(r["value"]) in MISSING_TOKENS | {"<5"}:
            continue
        low, high = by_code[r["indicator"]].plausible
        if not low <= number(r["value"], decimal) <= high:
            outside.append((r["indicator"], r["value"]))
    assert outside == [("integrity_index_0_100", "350")]


# -- realities of national files ------------------------------------------------------------
def test_files_show_the_realities_of_national_data() -> None:
    raw = {p.name: p.read_bytes() for c in CYCLE_IDS for p in files_of(c)}
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values()), "a UTF-8 file with BOM"
    cp1252 = [n for n, b in raw.items() if n.endswith(".csv") and b"\xed" in b]  # í in cp1252
    assert cp1252, "a cp1252 export"
    tokens: set[str] = set()
    periods: set[str] = set()
    for cycle in CYCLE_IDS:
        for path in indicator_files_of(cycle):
            rows, _ = read_raw(path)
            tokens |= {str(r["value"]) for r in rows if str(r["value"]) in MISSING_TOKENS}
            tokens |= {"<5" for r in rows if r["value"] == "<5"}
            periods |= {str(r["period"])[4:] for r in rows}
            for r in rows:
                if str(r["value"]) in MISSING_TOKENS:
                    assert r["notes"], f"{path.name}: a missing value without a reason"
    assert tokens == MISSING_TOKENS | {"<5"}
    assert {"-T1", "-Q1", ""} <= periods
    sheets = {
        p.name: openpyxl.load_workbook(p).sheetnames for c in CYCLE_IDS for p in files_of(c)
        if p.suffix == ".xlsx"
    }  # fmt: skip
    assert any(len(names) == 2 for names in sheets.values()), "a workbook with a notes sheet"


# -- Colombia's event register (cycle 2025) ---------------------------------------------------
def _register() -> tuple[list[Row], str]:
    return read_raw(DEMO / EVENT_REGISTER)


def _reported(path: Path) -> dict[str, float]:
    rows, decimal = read_raw(path)
    return {r["indicator"]: number(r["value"], decimal) for r in rows}


def test_only_colombia_sends_an_event_register_and_only_in_2025() -> None:
    events = [p.relative_to(DEMO) for c in CYCLE_IDS for p in files_of(c) if is_event_file(p)]
    assert events == [EVENT_REGISTER]
    assert (DEMO / "2025" / "COL_ideal_2025.csv").is_file(), "sent beside its indicator file"
    assert len(files_of("2025")) == 18  # 16 countries (no JAM), PRY twice, COL's register


def test_colombia_register_is_written_as_a_colombian_export(gen: ModuleType) -> None:
    data = (DEMO / EVENT_REGISTER).read_bytes()
    assert len(data) < MAX_REGISTER_BYTES
    assert not data.startswith(b"\xef\xbb\xbf") and b"\xed" in data  # cp1252: í is one byte
    text = data.decode("cp1252")
    header = text.split("\r\n", 1)[0]
    assert header.split(";") == list(column_headers("es", "events").values())
    rows, decimal = _register()
    assert decimal == "," and 1000 < len(rows) < SQL_PATH_ROWS
    assert {r["country"] for r in rows} == {"COL"}
    for r in rows:
        assert re.fullmatch(r"[0-3][0-9]/[01][0-9]/2025", r["date"]), r
        dt.datetime.strptime(r["date"], "%d/%m/%Y")
        assert r["reliability"] in GRADES and r["credibility"] in CREDIBILITIES, r
    departments = {r["admin1"] for r in rows}
    assert departments <= set(gen.COL_DEPARTMENTS) and len(gen.COL_DEPARTMENTS) == 33
    assert len(departments) == 33, "every department has some event"
    quantities = [r["quantity"] for r in rows]
    assert any("." in q and "," in q for q in quantities), "1.234,5"
    sources = {r["source"] for r in rows}
    assert {"Armada de Colombia", "Fiscalía General de la Nación"} <= sources
    assert any(r["notes"] for r in rows) and any(not r["notes"] for r in rows)


def test_colombia_register_uses_the_catalogue_in_spanish() -> None:
    catalogue = load_catalogue()
    rules = yaml.safe_load((SCHEMAS_DIR / "quality_rules.yaml").read_text(encoding="utf-8"))
    duplicate = rules["rules"]["duplicate_event"]
    rows, decimal = _register()
    seen: set[tuple[Any, ...]] = set()
    types: set[str] = set()
    for r in rows:
        etype = catalogue.event_type_spellings[fold(r["event_type"])]
        item = catalogue.event_types[etype].items[catalogue.event_item_spellings[fold(r["item"])]]
        assert r["event_type"] == catalogue.event_types[etype].name.es, r
        assert r["item"] == item.name.es and r["unit"] == item.unit, r
        low, high = item.plausible
        assert low <= number(r["quantity"], decimal) <= high, r
        types.add(etype)
        if item.unit in duplicate["skip_units"]:
            continue
        key = tuple(number(r[c], decimal) if c == "quantity" else r[c] for c in duplicate["key"])
        assert key not in seen, f"duplicate_event would flag {r}"
        seen.add(key)
    assert types == set(catalogue.event_types)


def test_colombia_register_agrees_with_its_indicator_file_but_for_firearms() -> None:
    """By the aggregation rules and their tolerance: one disagreement, firearms ~15 % short."""
    catalogue, rules = load_catalogue(), load_rules()
    reported = _reported(DEMO / "2025" / "COL_ideal_2025.csv")
    rows, decimal = _register()
    aggregated: dict[str, float] = {}
    for r in rows:
        etype = catalogue.event_type_spellings[fold(r["event_type"])]
        item = catalogue.event_item_spellings[fold(r["item"])]
        for rule in rules.rules:
            if rule.event_type == etype and item in rule.items:
                one = 1.0 if rule.measure == "count_events" else number(r["quantity"], decimal)
                aggregated[rule.indicator] = aggregated.get(rule.indicator, 0.0) + one
    assert set(aggregated) == {rule.indicator for rule in rules.rules} <= set(reported)
    disagree = {}
    for rule in rules.rules:
        value, tol = reported[rule.indicator], rules.tolerance_of(rule)
        if abs(aggregated[rule.indicator] - value) > max(tol.absolute, tol.relative * value):
            disagree[rule.indicator] = aggregated[rule.indicator] / value
    assert list(disagree) == ["firearms_seized_count"]
    assert 0.84 < disagree["firearms_seized_count"] < 0.86


@pytest.mark.slow
def test_colombia_register_is_accepted_and_scoring_reads_the_same(tmp_path: Path) -> None:
    """The intake accepts the register without findings; the reconciliation shows the one
    disagreement; COL's values for scoring stay the reported ones, so its scores do not move
    (scoring reads nothing else of the cycle: ideal.assessment)."""
    from ideal.assessment import ensure_cycle, ingest_paths
    from ideal.config import workspace
    from ideal.cycles import load_cycles_file
    from ideal.warehouse import connect

    ws = workspace(tmp_path / "home", tmp_path / "reports").ensure()
    cycle = next(c for c in load_cycles_file(DEMO / "cycles.yaml") if c.cycle_id == "2025")
    ensure_cycle(ws, cycle)
    scoring = (
        "SELECT * FROM core_threat__scoring_values WHERE cycle_id = '2025' "
        "AND country_iso3 = 'COL' ORDER BY indicator_code"
    )
    ingest_paths(ws, "2025", [DEMO / "2025" / "COL_ideal_2025.csv"])
    with connect(ws.warehouse_path, read_only=True) as con:
        before = con.execute(scoring).fetchall()
    (outcome,) = ingest_paths(ws, "2025", [DEMO / EVENT_REGISTER])
    with connect(ws.warehouse_path, read_only=True) as con:
        status = con.execute(
            "SELECT submission_kind, submission_status, n_rows, n_errors, n_warnings "
            "FROM raw_intake__submissions WHERE submission_sha256 = ?",
            [outcome.sha256],
        ).fetchone()
        after = con.execute(scoring).fetchall()
        origins = con.execute(
            "SELECT DISTINCT value_origin FROM core_threat__scoring_values "
            "WHERE cycle_id = '2025' AND country_iso3 = 'COL'"
        ).fetchall()
        n_aggregated = con.execute(
            "SELECT count(*) FROM core_threat__event_indicator_values "
            "WHERE cycle_id = '2025' AND country_iso3 = 'COL'"
        ).fetchone()
        mismatches = con.execute(
            "SELECT indicator_code FROM core_threat__reconciliation "
            "WHERE cycle_id = '2025' AND country_iso3 = 'COL' AND is_mismatch"
        ).fetchall()
    n_rows = len(_register()[0])
    assert status == ("events", "accepted", n_rows, 0, 0)
    assert n_aggregated == (len(load_rules().rules),)
    assert mismatches == [("firearms_seized_count",)]
    assert origins == [("reported",)]
    assert after == before
