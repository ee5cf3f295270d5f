"""The committed demo submissions (data/demo): reproducible, complete, deliberately flawed.

Regenerating with the default seed must give the committed files (CSV/JSON/YAML byte for
byte, XLSX cell for cell); every expected country must have a 2024 file; and each
deliberate mistake listed in data/demo/README.md must be present in the raw cells.
The raw reader here is independent of ``ideal.readers`` on purpose: it checks what the
files contain, not what the intake makes of them.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest
import yaml

from ideal.catalogue import load_catalogue

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
}  # fmt: skip

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
        for path in files_of(cycle):
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
