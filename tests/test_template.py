"""Submission templates: every format and language reads back as a valid file once filled.

Templates are written to real files under tmp_path, filled the way a steward would
(openpyxl for XLSX, the csv module with the locale's separator and decimal mark, json),
and validated by the same ``parse_and_validate`` the pipeline uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ideal.catalogue import LANGS, Catalogue, Indicator, load_catalogue
from ideal.contract import FILE_COLUMNS, column_headers
from ideal.cycles import Cycle
from ideal.intake import parse_and_validate
from ideal.messages import label
from ideal.reference import default_resolver
from ideal.template import (
    CSV_DELIMITER,
    DV_TEXT_MAX,
    DV_TITLE_MAX,
    EXTRA_ROWS,
    FORMATS,
    TREND_WORDS,
    TemplateError,
    check_format,
    make_spec,
    template_cycle,
    write_template,
)

CATALOGUE = load_catalogue()
N_INDICATORS = len(CATALOGUE.indicators)


def _value_for(ind: Indicator) -> float:
    """A plausible figure: mid-scale for ratings, a tenth of the range otherwise."""
    if ind.kind == "expert":
        return 7.5
    return round(ind.plausible[0] + (ind.plausible[1] - ind.plausible[0]) / 10, 1)


def _decimal_text(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if CSV_DELIMITER[lang] == ";" else text


def fill_xlsx(path: Path, lang: str, catalogue: Catalogue = CATALOGUE) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[1]
    col = {c: i for i, c in enumerate(FILE_COLUMNS, start=1)}
    for r in range(2, ws.max_row + 1):
        code = ws.cell(r, col["indicator"]).value
        if code is None:
            continue
        ind = catalogue.indicator_by_code[str(code)]
        ws.cell(r, col["value"]).value = _value_for(ind)
        ws.cell(r, col["source"]).value = "Policía Nacional – DIJIN"
        ws.cell(r, col["reliability"]).value = "B"
        ws.cell(r, col["credibility"]).value = 2
        if ind.kind == "expert":
            ws.cell(r, col["trend"]).value = TREND_WORDS[lang][1]  # type: ignore[index]
            ws.cell(r, col["notes"]).value = "Panel nacional de expertos"
    wb.save(path)


def fill_csv(path: Path, lang: str) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    delimiter = CSV_DELIMITER[lang]  # type: ignore[index]
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header, body = rows[0], rows[1:]
    headers = column_headers(lang)
    idx = {c: header.index(headers[c]) for c in FILE_COLUMNS}
    for row in body:
        ind = CATALOGUE.indicator_by_code[row[idx["indicator"]]]
        # es/pt files are written with a decimal comma, as Excel in those locales does
        row[idx["value"]] = _decimal_text(_value_for(ind), lang)
        row[idx["source"]] = "Polícia Federal"
        row[idx["reliability"]] = "C"
        row[idx["credibility"]] = "3"
        if ind.kind == "expert":
            row[idx["trend"]] = TREND_WORDS[lang][0]  # type: ignore[index]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows([header, *body])
    path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


def fill_json(path: Path, lang: str) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    for row in doc["rows"]:
        ind = CATALOGUE.indicator_by_code[row["indicator"]]
        row.update(value=_value_for(ind), source="INE", reliability="A", credibility=1)
        if ind.kind == "expert":
            row["trend"] = TREND_WORDS[lang][2]  # type: ignore[index]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


FILLERS = {"xlsx": fill_xlsx, "csv": fill_csv, "json": fill_json}


def validate(path: Path, cycle_id: str, country: str, today: dt.date | None = None) -> Any:
    year = int(cycle_id[:4])
    cycle = Cycle(cycle_id, year, dt.date(year + 1, 3, 31), (country,))
    return parse_and_validate(path.read_bytes(), cycle, CATALOGUE, default_resolver(), today=today)


def data_sheet(path: Path) -> Worksheet:
    ws = openpyxl.load_workbook(path).worksheets[1]
    assert isinstance(ws, Worksheet)
    return ws


# -- every format and language reads back ---------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_filled_template_is_accepted(tmp_path: Path, fmt: str, lang: str) -> None:
    spec = make_spec("COL", "2025", lang)
    path = write_template(spec, check_format(fmt), tmp_path)
    assert path.name == f"COL_ideal_2025_{lang}.{fmt}"
    FILLERS[fmt](path, lang)

    raw, result = validate(path, "2025", "COL")

    assert raw is not None
    assert [(i.rule, i.row, i.value) for i in result.issues] == []
    assert result.status == "accepted"
    assert result.country_iso3 == "COL" and result.n_rows == N_INDICATORS
    annual = {a.indicator_code: a for a in result.annual}
    assert set(annual) == {i.code for i in CATALOGUE.indicators}
    # the localised trend words reach the contract as up / stable / down
    trends = {a.trend_reported for a in result.annual if a.trend_reported}
    assert trends == {{"xlsx": "stable", "csv": "up", "json": "down"}[fmt]}
    seized = annual["cocaine_seized_kg"].value
    assert seized == pytest.approx(_value_for(CATALOGUE.indicator_by_code["cocaine_seized_kg"]))


def test_template_for_the_current_cycle_validates_once_its_year_has_ended(
    tmp_path: Path,
) -> None:
    path = write_template(make_spec("Perú", "2026", "pt"), "xlsx", tmp_path / "per.xlsx")
    fill_xlsx(path, "pt")
    _, during = validate(path, "2026", "PER", today=dt.date(2026, 11, 28))
    _, after = validate(path, "2026", "PER", today=dt.date(2027, 2, 1))
    assert {i.rule for i in during.issues} == {"future_period"}
    assert after.status == "accepted" and after.country_iso3 == "PER"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unfilled_template_asks_for_each_value_on_the_row_excel_shows(
    tmp_path: Path, fmt: str
) -> None:
    path = write_template(make_spec("MEX", "2025", "es"), check_format(fmt), tmp_path)
    _, result = validate(path, "2025", "MEX")
    assert result.status == "rejected"
    assert {i.rule for i in result.issues} == {"required"}
    assert all(i.column == "value" for i in result.issues)
    rows = sorted(i.row for i in result.issues)
    first = 2 if fmt != "json" else 1  # JSON rows are numbered by their place in the list
    assert rows == list(range(first, first + N_INDICATORS))


def test_quarter_rows_added_below_the_table_are_read(tmp_path: Path) -> None:
    path = write_template(make_spec("BRA", "2025", "pt"), "xlsx", tmp_path / "bra.xlsx")
    fill_xlsx(path, "pt")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[1]
    first = next(r for r in range(2, 60) if ws.cell(r, 3).value == "cocaine_seized_kg")
    ws.cell(first, 2).value = "2025-T1"
    ws.cell(first, 4).value = 1000
    for n, r in enumerate(range(N_INDICATORS + 2, N_INDICATORS + 5), start=2):
        for c, v in enumerate(("BRA", f"2025-T{n}", "cocaine_seized_kg", 2, "t", "PF", "B", 2), 1):
            ws.cell(r, c).value = v
    wb.save(path)
    _, result = validate(path, "2025", "BRA")
    assert result.status == "accepted_with_warnings"
    assert {i.rule for i in result.issues} == {"unit_converted"}
    seized = next(a for a in result.annual if a.indicator_code == "cocaine_seized_kg")
    assert seized.n_periods == 4 and seized.value == pytest.approx(1000 + 3 * 2000)


# -- what the XLSX offers the steward -------------------------------------------------------
def _dvs_by_column(ws: Worksheet) -> dict[str, list[DataValidation]]:
    out: dict[str, list[DataValidation]] = {}
    for dv in ws.data_validations.dataValidation:
        letters = {str(r.coord).rstrip("0123456789:")[:1] for r in dv.sqref.ranges}
        for letter in letters:
            out.setdefault(letter, []).append(dv)
    return out


def _covered(dvs: list[DataValidation], cell: str) -> list[DataValidation]:
    return [dv for dv in dvs if cell in dv.sqref]


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_has_drop_downs_on_the_right_columns(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("COL", "2026", lang), "xlsx", tmp_path / "t.xlsx")
    ws = data_sheet(path)
    by_col = _dvs_by_column(ws)
    letter = {c: "ABCDEFGHIJ"[i] for i, c in enumerate(FILE_COLUMNS)}
    last = N_INDICATORS + 1

    def lists(column: str) -> set[str]:
        return {str(dv.formula1) for dv in by_col[letter[column]] if dv.type == "list"}

    assert lists("country") == {'"COL"'}
    assert lists("indicator") == {"ideal_indicators"}
    assert lists("reliability") == {'"A,B,C,D,E,F"'}
    assert lists("credibility") == {'"1,2,3,4,5,6"'}
    assert '"' + ",".join(TREND_WORDS[lang]) + '"' in lists("trend")
    assert '"kg,g,t"' in lists("unit") and '"count"' in lists("unit")
    q = "Q" if lang == "en" else "T"
    assert lists("period") == {f'"2026,2026-{q}1,2026-{q}2,2026-{q}3,2026-{q}4"'}
    assert not by_col.get("A1") and not any(_covered(v, "C1") for v in by_col.values())

    for r in range(2, last + EXTRA_ROWS + 1):
        ind_code = ws.cell(r, 3).value
        ind = CATALOGUE.indicator_by_code.get(str(ind_code))
        for column in (
            "country",
            "period",
            "indicator",
            "value",
            "unit",
            "reliability",
            "credibility",
            "trend",
            "source",
            "notes",
        ):
            cell = f"{letter[column]}{r}"
            found = _covered(by_col[letter[column]], cell)
            assert len(found) == 1, (cell, len(found))
            dv = found[0]
            # showDropDown=True would *hide* the arrow (the OOXML flag is inverted)
            assert not dv.showDropDown and dv.showErrorMessage and dv.allow_blank
            assert dv.errorStyle == "stop"
        value_dv = _covered(by_col["D"], f"D{r}")[0]
        assert value_dv.type == "custom"
        formula = str(value_dv.formula1)
        # relative to the top-left cell of its range (a row of its own, or the blank rows)
        anchor = r if ind_code else last + 1
        assert f'D{anchor}="n/d"' in formula and "ISNUMBER" in formula
        if ind is not None:  # a pre-filled row: the message names its indicator
            name = ind.name.get(lang)
            assert name in str(_covered(by_col["C"], f"C{r}")[0].prompt)
            assert name in str(value_dv.prompt)
            trend_dv = _covered(by_col["I"], f"I{r}")[0]
            if ind.kind == "expert":
                assert "<=10" in formula and "<" not in formula.replace("<=", "")
                assert trend_dv.type == "list"
            else:
                assert f'LEFT(D{r},1)="<"' in formula and ">=0" in formula
                # a trend on a quantitative row is refused: its text must stay empty
                assert trend_dv.type == "textLength" and trend_dv.operator == "equal"


def test_xlsx_messages_fit_excel_limits(tmp_path: Path) -> None:
    for lang in LANGS:
        path = write_template(make_spec("BRA", "2025", lang), "xlsx", tmp_path / f"{lang}.xlsx")
        for dv in data_sheet(path).data_validations.dataValidation:
            assert len(dv.prompt or "") <= DV_TEXT_MAX and len(dv.error or "") <= DV_TEXT_MAX
            assert len(dv.promptTitle or "") <= DV_TITLE_MAX
            assert len(dv.errorTitle or "") <= DV_TITLE_MAX
            assert len(str(dv.formula1)) <= 255


def test_xlsx_indicator_list_names_every_code_on_the_reference_sheet(tmp_path: Path) -> None:
    path = write_template(make_spec("ARG", "2025", "es"), "xlsx", tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    name = wb.defined_names["ideal_indicators"]
    ((sheet, cells),) = list(name.destinations)
    assert sheet == label("tpl.sheet.reference", "es")
    codes = [c[0].value for c in wb[sheet][cells.replace("$", "")]]
    assert sorted(codes) == sorted(i.code for i in CATALOGUE.indicators)


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_sheets_and_instructions_are_in_the_chosen_language(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("COL", "2025", lang), "xlsx", tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        label(f"tpl.sheet.{k}", lang) for k in ("instructions", "data", "reference")
    ]
    assert wb.active is not None and wb.active.title == wb.sheetnames[0]
    text = "\n".join(
        str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v
    )
    for key in ("tpl.h.fill", "tpl.h.grades", "tpl.grade.A", "tpl.cred.6", "tpl.h.check"):
        assert label(key, lang) in text
    others = [x for x in LANGS if x != lang]
    for other in others:
        assert label("tpl.h.fill", other) not in text
    # what the steward must know: tokens, grades, units, quarters, one country, the check
    q = "Q" if lang == "en" else "T"
    for needle in (
        "n/d",
        "<5",
        "A",
        "F",
        "t",
        "g",
        f"2025-{q}1",
        "COL",
        "ideal validate COL_ideal_2025_",
        "--cycle 2025",
    ):
        assert needle in text
    header = [c.value for c in wb.worksheets[1][1]]
    assert header == [column_headers(lang)[c] for c in FILE_COLUMNS]
    ref = list(wb.worksheets[2].iter_rows(values_only=True))
    assert ref[0][1] == label("tpl.ref.name", lang)
    by_code = {row[0]: row for row in ref[1:]}
    coke = by_code["cocaine_seized_kg"]
    assert coke[1] == CATALOGUE.indicator_by_code["cocaine_seized_kg"].name.get(lang)
    assert (coke[-3], coke[-2]) == (0, 1_500_000)
    assert by_code["integrity_index_0_100"][7] == label("tpl.direction.down", lang)


def test_xlsx_protects_the_header_and_the_structure_not_the_data(tmp_path: Path) -> None:
    path = write_template(make_spec("COL", "2025", "es"), "xlsx", tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.security is not None and wb.security.lockStructure
    instructions, data, reference = wb.worksheets
    assert instructions.protection.sheet and reference.protection.sheet
    assert data.protection.sheet
    assert not data.protection.insertRows and not data.protection.sort  # allowed
    assert data.protection.insertColumns  # refused: no extra columns
    assert data["A1"].protection.locked and data["J1"].protection.locked
    assert not data["D2"].protection.locked and not data[f"J{N_INDICATORS + 1}"].protection.locked
    assert data.freeze_panes == "D2"
    assert all(data.cell(1, c).comment is not None for c in range(1, len(FILE_COLUMNS) + 1))


# -- CSV and JSON ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_csv_template_opens_in_excel_of_its_locale(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("CHL", "2025", lang), "csv", tmp_path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    sep = ";" if lang in ("es", "pt") else ","
    assert lines[0] == sep.join(column_headers(lang)[c] for c in FILE_COLUMNS)
    assert len(lines) == N_INDICATORS + 1
    assert lines[1].startswith(sep.join(["CHL", "2025", "cocaine_seized_kg", "", "kg"]))


def test_json_template_shape(tmp_path: Path) -> None:
    path = write_template(make_spec("ury", "2025", "es"), "json", tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["country"] == "URY" and doc["cycle"] == "2025"
    assert len(doc["rows"]) == N_INDICATORS
    assert set(doc["rows"][0]) == set(FILE_COLUMNS)
    assert doc["rows"][0]["period"] == "2025" and doc["rows"][0]["value"] is None


# -- the stamp, and mistakes ----------------------------------------------------------------
def test_template_cycle_is_read_back_from_xlsx_and_json_only(tmp_path: Path) -> None:
    spec = make_spec("COL", "2024-rev", "en")
    for fmt, expected in (("xlsx", "2024-rev"), ("json", "2024-rev"), ("csv", None)):
        path = write_template(spec, check_format(fmt), tmp_path)
        assert template_cycle(path.read_bytes()) == expected
    assert template_cycle(b"PK\x03\x04 not a zip") is None
    assert template_cycle(b"{not json") is None
    assert template_cycle(b"") is None


@pytest.mark.parametrize(
    ("country", "cycle", "lang", "needle"),
    [
        ("XXX", "2025", "es", "not a country"),
        ("COL", "next", "es", "does not start with a year"),
        ("COL", "2025", "fr", "unknown language"),
    ],
)
def test_make_spec_refuses_with_a_clear_message(
    country: str, cycle: str, lang: str, needle: str
) -> None:
    with pytest.raises(TemplateError, match=needle):
        make_spec(country, cycle, lang)


def test_write_template_never_overwrites_a_filled_file(tmp_path: Path) -> None:
    spec = make_spec("COL", "2025", "es")
    path = write_template(spec, "csv", tmp_path / "mine.csv")
    path.write_text("filled in by hand", encoding="utf-8")
    with pytest.raises(TemplateError, match="already exists"):
        write_template(spec, "csv", path)
    assert path.read_text(encoding="utf-8") == "filled in by hand"
    write_template(spec, "csv", path, force=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(TemplateError, match="unknown format"):
        check_format("pdf")
