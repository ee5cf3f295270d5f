"""Event-record templates: one row per seizure, incident or victim, in XLSX, CSV and JSON.

Templates are written to real files, filled the way a steward would (openpyxl for XLSX,
the csv module with the locale's separator and decimal mark, json) and validated by the
same ``parse_and_validate`` the pipeline uses. openpyxl cannot calculate formulas, so
``excel_saves`` stands in for the spreadsheet application: it stores the value of each
country formula in the file, as Excel and LibreOffice do when they save.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from test_cli import invoke

from ideal.catalogue import LANGS, fold, load_catalogue
from ideal.contract import EVENT_COLUMNS, EXCEL_EPOCH, MAX_PLACE, MAX_TEXT, column_headers
from ideal.cycles import Cycle
from ideal.events import EventValidation
from ideal.intake import parse_and_validate
from ideal.messages import label
from ideal.readers import RawSubmission
from ideal.reference import default_resolver
from ideal.template import (
    CSV_DELIMITER,
    DV_TEXT_MAX,
    DV_TITLE_MAX,
    EVENT_ITEM_LIST,
    EVENT_ITEM_TYPES,
    EVENT_ROWS,
    EVENT_TYPE_LIST,
    FORMATS,
    PROP_PREFIX,
    TemplateError,
    check_format,
    check_kind,
    make_spec,
    template_cycle,
    write_template,
)

CATALOGUE = load_catalogue()
TODAY = dt.date(2026, 1, 15)
LETTER = {c: "ABCDEFGHIJK"[i] for i, c in enumerate(EVENT_COLUMNS)}
LAST = EVENT_ROWS + 1
ALL_ITEMS = {i.code for t in CATALOGUE.event_types.values() for i in t.items.values()}


def validate(
    path: Path, country: str, cycle_id: str = "2025"
) -> tuple[RawSubmission | None, EventValidation]:
    year = int(cycle_id[:4])
    cycle = Cycle(cycle_id, year, dt.date(year + 1, 3, 31), (country,))
    raw, result = parse_and_validate(
        path.read_bytes(), cycle, CATALOGUE, default_resolver(), today=TODAY
    )
    assert isinstance(result, EventValidation)
    return raw, result


def item_name(code: str, lang: str) -> str:
    return CATALOGUE.event_item_by_code[code].name.get(lang)


def type_name(code: str, lang: str) -> str:
    return CATALOGUE.event_types[code].name.get(lang)


_COUNTRY_FORMULA = re.compile(r'IF\(COUNTA\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)=0,"","([A-Z]{3})"\)')


def excel_saves(path: Path) -> None:
    """Store each country formula's value in the file, as a spreadsheet app saves it.

    Only the formula the template writes is understood (anything else fails the test):
    empty text while the rest of the row is empty, the country once it is not.
    """
    ws = openpyxl.load_workbook(path).worksheets[1]
    values: dict[int, str] = {}
    for r in range(2, ws.max_row + 1):
        formula = ws.cell(r, 1).value
        if not (isinstance(formula, str) and formula.startswith("=")):
            continue
        m = _COUNTRY_FORMULA.fullmatch(formula[1:])
        assert m, formula
        first, row, last, row2, iso3 = m.groups()
        assert int(row) == int(row2) == r
        cells = ws[f"{first}{r}:{last}{r}"][0]
        values[r] = iso3 if any(c.value not in (None, "") for c in cells) else ""

    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet2.xml"
    xml = members[sheet].decode("utf-8")

    def cached(m: re.Match[str]) -> str:
        value = values[int(m.group(1))]
        return f'<c r="A{m.group(1)}"{m.group(2)} t="str"><f>{m.group(3)}</f><v>{value}</v></c>'

    xml, n = re.subn(r'<c r="A(\d+)"([^>]*)><f>(.*?)</f>(?:<v\s*/>|<v></v>)?</c>', cached, xml)
    assert n == len(values)
    members[sheet] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def type_rows(path: Path, rows: Iterable[Mapping[str, Any]]) -> str:
    """Type ``rows`` (column -> value) into the data sheet from row 2 and save the file
    with openpyxl, which leaves the country formulas uncalculated; the sheet's title."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[1]
    for r, row in enumerate(rows, start=2):
        for column, value in row.items():
            ws[f"{LETTER[column]}{r}"].value = value
    wb.save(path)
    return ws.title


# -- a filled template reads back as accepted events -----------------------------------------
@pytest.mark.parametrize(("lang", "country"), [("es", "COL"), ("pt", "BRA")])
def test_filled_xlsx_event_template_is_accepted(tmp_path: Path, lang: str, country: str) -> None:
    spec = make_spec(country, "2025", lang, kind="events")
    path = write_template(spec, "xlsx", tmp_path)
    assert path.name == f"{country}_ideal_events_2025_{lang}.xlsx"

    rows: list[dict[str, Any]] = [
        # an Excel date cell, names from the drop-downs, a decimal quantity
        {
            "date": dt.datetime(2025, 3, 14),
            "admin1": "Nariño",
            "event_type": type_name("seizure", lang),
            "item": item_name("cocaine", lang),
            "quantity": 1234.5,
            "unit": "kg",
            "source": "Policía Nacional – DIJIN",
            "reliability": "B",
            "credibility": 2,
        },
        # a date typed as text, day first; grades typed as text
        {
            "date": "02/05/2025",
            "admin1": "Pará",
            "event_type": type_name("victim", lang),
            "item": item_name("thb_victim", lang),
            "quantity": 1,
            "unit": "count",
            "source": "Fiscalía",
            "reliability": "c",
            "credibility": "3",
            "notes": "Operación conjunta",
        },
        # ISO text date; the steward picked the country from its drop-down
        {
            "country": country,
            "date": "2025-11-30",
            "admin1": "Antioquia",
            "event_type": type_name("incident", lang),
            "item": item_name("extortion", lang),
            "quantity": 1,
            "unit": "count",
            "source": "GAULA",
            "reliability": "A",
            "credibility": 1,
        },
    ]
    sheet = type_rows(path, rows)
    excel_saves(path)

    raw, result = validate(path, country)

    assert raw is not None and raw.kind == "events" and raw.sheet == sheet
    assert [(i.rule, i.row, i.column) for i in result.issues] == []
    assert result.status == "accepted"
    assert result.country_iso3 == country and result.n_rows == 3
    got = [
        (
            e.source_row,
            e.record.country,
            e.record.date,
            e.record.event_type,
            e.record.item,
            e.record.quantity,
            e.record.unit,
            e.record.reliability,
            e.record.credibility,
        )
        for e in result.events
    ]
    assert got == [
        (2, country, dt.date(2025, 3, 14), "seizure", "cocaine", 1234.5, "kg", "B", 2),
        (3, country, dt.date(2025, 5, 2), "victim", "thb_victim", 1.0, "count", "C", 3),
        (4, country, dt.date(2025, 11, 30), "incident", "extortion", 1.0, "count", "A", 1),
    ]


def test_a_row_in_another_unit_is_converted_and_flagged(tmp_path: Path) -> None:
    path = write_template(make_spec("PER", "2025", "es", kind="events"), "xlsx", tmp_path)
    row = {
        "date": dt.date(2025, 7, 1),
        "admin1": "Puno",
        "event_type": "seizure",
        "item": "cocaína",
        "quantity": 2,
        "unit": "t",
        "source": "DIRANDRO",
        "reliability": "B",
        "credibility": 2,
    }
    type_rows(path, [row])
    excel_saves(path)
    _, result = validate(path, "PER")
    assert result.status == "accepted_with_warnings" and result.n_errors == 0
    # (the file-level findings on the whole register are not this test's business)
    assert [(i.rule, i.row) for i in result.issues if i.row] == [("unit_converted", 2)]
    (event,) = result.events
    assert (event.record.quantity, event.record.unit, event.record.reported_unit) == (
        2000.0,
        "kg",
        "t",
    )


# -- an unfilled template reads back as an empty file, without a traceback --------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGS)
def test_unfilled_event_template_reads_back_as_empty(tmp_path: Path, fmt: str, lang: str) -> None:
    path = write_template(
        make_spec("MEX", "2025", lang, kind="events"), check_format(fmt), tmp_path
    )
    raw, result = validate(path, "MEX")
    assert raw is not None and raw.kind == "events" and not raw.missing_columns
    assert raw.unknown_columns == []
    assert result.status == "rejected" and result.n_rows == 0
    assert [i.rule for i in result.issues] == ["no_data_rows"]
    if fmt == "xlsx":  # opened and saved untouched: every country formula is empty text
        excel_saves(path)
        _, again = validate(path, "MEX")
        assert [i.rule for i in again.issues] == ["no_data_rows"]


# -- what the XLSX offers the steward ---------------------------------------------------------
def _validations(ws: Worksheet) -> dict[str, list[DataValidation]]:
    """Validations by the column letter of the cells they cover."""
    out: dict[str, list[DataValidation]] = {}
    for dv in ws.data_validations.dataValidation:
        for letter in {re.sub(r"\d", "", str(r.coord).split(":")[0]) for r in dv.sqref.ranges}:
            out.setdefault(letter, []).append(dv)
    return out


def _named_list(wb: Any, name: str) -> list[str]:
    ((sheet, cells),) = list(wb.defined_names[name].destinations)
    assert sheet == wb.worksheets[2].title  # the reference sheet
    return [str(row[0].value) for row in wb[sheet][cells.replace("$", "")]]


def _item_choices(wb: Any, formula: str, type_cell: str) -> Callable[[str | None], list[str]]:
    """What the item drop-down offers for a row's event type, computed as Excel does.

    The formula must be the dependent list: every item when MATCH finds no type, else
    OFFSET(items, MATCH(type) - 1, 0, COUNTIF(type), 1).
    """
    match = f"MATCH({type_cell},{EVENT_ITEM_TYPES},0)"
    assert formula == (
        f"IF(ISNA({match}),{EVENT_ITEM_LIST},OFFSET({EVENT_ITEM_LIST},{match}-1,0,"
        f"COUNTIF({EVENT_ITEM_TYPES},{type_cell}),1))"
    )
    items, types = _named_list(wb, EVENT_ITEM_LIST), _named_list(wb, EVENT_ITEM_TYPES)
    assert len(items) == len(types)

    def offered(chosen: str | None) -> list[str]:
        folded = [t.casefold() for t in types]  # MATCH and COUNTIF ignore case
        if chosen is None or chosen.casefold() not in folded:
            return items
        start = folded.index(chosen.casefold())
        return items[start : start + folded.count(chosen.casefold())]

    return offered


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_drop_downs_and_checks_sit_on_the_right_columns(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("COL", "2026", lang, kind="events"), "xlsx", tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[1]
    by_col = _validations(ws)

    # one validation per column, over every data row and never the header
    for column in EVENT_COLUMNS:
        (dv,) = by_col[LETTER[column]]
        assert str(dv.sqref) == f"{LETTER[column]}2:{LETTER[column]}{LAST}", column
        assert f"{LETTER[column]}1" not in dv.sqref
        assert dv.allow_blank and dv.showErrorMessage and dv.showInputMessage
        assert not dv.showDropDown  # (the OOXML flag is inverted: True hides the arrow)
        assert dv.errorStyle == "stop"

    def only(column: str) -> DataValidation:
        return by_col[LETTER[column]][0]

    assert (only("country").type, only("country").formula1) == ("list", '"COL"')
    assert (only("event_type").type, only("event_type").formula1) == ("list", EVENT_TYPE_LIST)
    assert only("item").type == "list"
    assert only("reliability").formula1 == '"A,B,C,D,E,F"'
    assert only("credibility").formula1 == '"1,2,3,4,5,6"'

    # the lists hold every event type and item of the catalogue, as the contract reads them
    types = _named_list(wb, EVENT_TYPE_LIST)
    items = _named_list(wb, EVENT_ITEM_LIST)
    assert [CATALOGUE.event_type_spellings[fold(t)] for t in types] == list(CATALOGUE.event_types)
    assert sorted(CATALOGUE.event_item_spellings[fold(i)] for i in items) == sorted(ALL_ITEMS)
    assert types == [type_name(t, lang) for t in CATALOGUE.event_types]

    # the item drop-down offers the items of the row's event type, as Excel computes it
    offered = _item_choices(wb, str(only("item").formula1), f"${LETTER['event_type']}2")
    for code, etype in CATALOGUE.event_types.items():
        assert offered(type_name(code, lang)) == [i.name.get(lang) for i in etype.items.values()]
    assert offered(None) == offered("no such type") == items  # no known type: every item

    # every unit an item may be given in, and no other
    units = set(str(only("unit").formula1).strip('"').split(","))
    dims = {CATALOGUE.units[CATALOGUE.event_item_by_code[i].unit].dimension for i in ALL_ITEMS}
    assert units == {u for u, s in CATALOGUE.units.items() if s.dimension in dims}
    assert {"kg", "t", "g", "count"} <= units and "usd" not in units

    date = only("date")
    assert (date.type, date.operator) == ("date", "between")
    assert int(str(date.formula1)) == (dt.date(2026, 1, 1) - EXCEL_EPOCH).days
    assert int(str(date.formula2)) == (dt.date(2026, 12, 31) - EXCEL_EPOCH).days
    assert "2026" in str(date.prompt) and "14/03/2026" in str(date.prompt)
    quantity = only("quantity")
    # the contract's bound: 0 or more
    assert (quantity.type, quantity.operator, quantity.formula1) == (
        "decimal",
        "greaterThanOrEqual",
        "0",
    )
    admin1 = only("admin1")
    assert (admin1.type, admin1.operator, admin1.formula1) == (
        "textLength",
        "lessThanOrEqual",
        str(MAX_PLACE),
    )
    for column in ("source", "notes"):
        assert (only(column).type, only(column).formula1) == ("textLength", str(MAX_TEXT))

    # the country fills itself in; dates show day first
    assert ws["A2"].value == '=IF(COUNTA(B2:K2)=0,"","COL")'
    assert ws[f"A{LAST}"].value == f'=IF(COUNTA(B{LAST}:K{LAST})=0,"","COL")'
    assert ws[f"A{LAST + 1}"].value is None
    assert ws["B2"].number_format == ws[f"B{LAST}"].number_format == "dd/mm/yyyy"


def test_xlsx_event_messages_fit_excel_limits(tmp_path: Path) -> None:
    for lang in LANGS:
        spec = make_spec("BRA", "2025", lang, kind="events")
        path = write_template(spec, "xlsx", tmp_path / f"{lang}.xlsx")
        dvs = openpyxl.load_workbook(path).worksheets[1].data_validations.dataValidation
        assert len(dvs) == len(EVENT_COLUMNS)
        for dv in dvs:
            assert dv.prompt and not dv.prompt.endswith("…")  # nothing had to be cut
            assert len(dv.prompt) <= DV_TEXT_MAX and len(dv.error or "") <= DV_TEXT_MAX
            assert len(dv.promptTitle or "") <= DV_TITLE_MAX
            assert len(dv.errorTitle or "") <= DV_TITLE_MAX
            assert len(str(dv.formula1)) <= 255


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_event_sheets_speak_the_steward_s_language(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("COL", "2025", lang, kind="events"), "xlsx", tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        label(f"tpl.sheet.{k}", lang) for k in ("instructions", "data", "reference")
    ]
    text = "\n".join(
        str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v
    )
    for key in ("tpl.ev.h.fill", "tpl.ev.h.dates", "tpl.h.grades", "tpl.grade.A", "tpl.cred.6"):
        assert label(key, lang) in text
    for other in (x for x in LANGS if x != lang):
        assert label("tpl.ev.h.fill", other) not in text
    for needle in (
        "14/03/2025",
        "2025-03-14",
        "COL",
        str(EVENT_ROWS),
        "ideal validate COL_ideal_events_2025_",
        "--cycle 2025",
        *(type_name(t, lang) for t in CATALOGUE.event_types),
    ):
        assert needle in text, needle
    headers = column_headers(lang, "events")
    assert [c.value for c in wb.worksheets[1][1]] == [headers[c] for c in EVENT_COLUMNS]
    assert all(c.comment is not None for c in wb.worksheets[1][1])

    # the reference sheet: every item with its code, names, unit and plausible range
    ref = {row[1]: row for row in wb.worksheets[2].iter_rows(values_only=True) if row[1]}
    for etype in CATALOGUE.event_types.values():
        for item in etype.items.values():
            row = ref[item.code]
            assert row[0] == item.name.get(lang) and row[3] == etype.name.get(lang)
            assert (row[5], row[8], row[9]) == (item.unit, *item.plausible)
            others = {item.name.get(x) for x in LANGS} - {item.name.get(lang)}
            assert all(name in str(row[2]) for name in others)


def test_xlsx_event_template_is_protected_and_stamped(tmp_path: Path) -> None:
    spec = make_spec("COL", "2024-rev", "es", kind="events")
    path = write_template(spec, "xlsx", tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.security is not None and wb.security.lockStructure
    instructions, data, reference = wb.worksheets
    assert instructions.protection.sheet and reference.protection.sheet and data.protection.sheet
    assert not data.protection.insertRows and not data.protection.sort  # allowed
    assert data.protection.insertColumns  # refused: no extra columns
    assert data["A1"].protection.locked and data["K1"].protection.locked
    assert not data["A2"].protection.locked and not data[f"K{LAST}"].protection.locked
    props = {p.name: p.value for p in cast(Any, wb).custom_doc_props.props}
    assert {k: props[PROP_PREFIX + k] for k in ("kind", "country", "cycle", "lang")} == {
        "kind": "events",
        "country": "COL",
        "cycle": "2024-rev",
        "lang": "es",
    }
    assert props[PROP_PREFIX + "template_version"]
    assert wb.properties.title == label(
        "tpl.ev.title", "es", country="Colombia", iso3="COL", cycle="2024-rev"
    )
    for fmt, expected in (("xlsx", "2024-rev"), ("json", "2024-rev"), ("csv", None)):
        made = write_template(spec, check_format(fmt), tmp_path, force=True)
        assert template_cycle(made.read_bytes()) == expected


def test_indicator_templates_carry_their_kind_too(tmp_path: Path) -> None:
    spec = make_spec("COL", "2025", "en")
    xlsx = openpyxl.load_workbook(write_template(spec, "xlsx", tmp_path))
    assert {p.name: p.value for p in cast(Any, xlsx).custom_doc_props.props}[
        PROP_PREFIX + "kind"
    ] == ("indicators")
    doc = json.loads(write_template(spec, "json", tmp_path).read_text(encoding="utf-8"))
    assert doc["kind"] == "indicators" and len(doc["rows"]) == len(CATALOGUE.indicators)


# -- CSV and JSON round trips -----------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_csv_event_template_round_trip(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("CHL", "2025", lang, kind="events"), "csv", tmp_path)
    assert path.name == f"CHL_ideal_events_2025_{lang}.csv"
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    delimiter = CSV_DELIMITER[lang]  # type: ignore[index]
    headers = column_headers(lang, "events")
    assert data.decode("utf-8-sig").splitlines() == [
        delimiter.join(headers[c] for c in EVENT_COLUMNS)
    ]

    quantity = "1.234,5" if delimiter == ";" else "1,234.5"  # as Excel in that locale
    seizure, cannabis = type_name("seizure", lang), item_name("cannabis", lang)
    no_source = ["Chile", "2025-08-09", "Arica", "incident", "migrant_smuggling", "14", "count"]
    rows = [
        ["CHL", "14/03/2025", "Tarapacá", seizure, cannabis, quantity, "kg", "PDI", "B", "2", ""],
        [*no_source, "", "C", "3", "sin fuente publicada"],
        ["CHL", "31/12/2025", "Santiago", "victim", "thb_victim", "1", "count", "PDI", "B", "2"],
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(data + buf.getvalue().encode("utf-8"))

    _, result = validate(path, "CHL")
    assert result.country_iso3 == "CHL" and result.n_rows == 3
    # the second row names no source: a warning, not an error
    assert [(i.rule, i.row) for i in result.issues] == [("missing_source", 3)]
    assert result.status == "accepted_with_warnings"
    assert [(e.record.item, e.record.quantity, e.record.date) for e in result.events] == [
        ("cannabis", 1234.5, dt.date(2025, 3, 14)),
        ("migrant_smuggling", 14.0, dt.date(2025, 8, 9)),
        ("thb_victim", 1.0, dt.date(2025, 12, 31)),
    ]


def test_json_event_template_round_trip(tmp_path: Path) -> None:
    path = write_template(make_spec("ury", "2025", "pt", kind="events"), "json", tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert (doc["kind"], doc["country"], doc["cycle"], doc["rows"]) == ("events", "URY", "2025", [])
    assert set(doc["blank_row"]) == set(EVENT_COLUMNS)
    listed = {code for t in doc["event_types"].values() for code in t["items"]}
    assert listed == ALL_ITEMS
    assert doc["event_types"]["seizure"]["items"]["cocaine"]["plausible"] == list(
        CATALOGUE.event_item_by_code["cocaine"].plausible
    )

    # rows without "country": the file's country stands for it
    row = {k: v for k, v in doc["blank_row"].items() if k != "country"}
    doc["rows"] = [
        row
        | {
            "date": "2025-06-30",
            "admin1": "Montevideo",
            "event_type": "seizure",
            "item": "cocaine",
            "quantity": 350.25,
            "unit": "kg",
            "source": "Policía Nacional",
            "reliability": "B",
            "credibility": 2,
        },
        row
        | {
            "date": "2025-04-02",
            "admin1": "Canelones",
            "event_type": "ocorrência",
            "item": "kidnapping",
            "quantity": 1,
            "unit": "count",
            "source": "Ministerio del Interior",
            "reliability": "B",
            "credibility": 3,
        },
        row
        | {
            "date": "01/12/2025",
            "admin1": "Rivera",
            "event_type": "vítima",
            "item": "vítima de tráfico de pessoas",
            "quantity": 1,
            "unit": "count",
            "source": "INAU",
            "reliability": "A",
            "credibility": 1,
        },
    ]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    raw, result = validate(path, "URY")
    assert raw is not None and raw.kind == "events"
    assert [(i.rule, i.row) for i in result.issues] == []
    assert result.status == "accepted" and result.country_iso3 == "URY"
    assert [(e.record.country, e.record.item, e.record.quantity) for e in result.events] == [
        ("URY", "cocaine", 350.25),
        ("URY", "kidnapping", 1.0),
        ("URY", "thb_victim", 1.0),
    ]


# -- mistakes and the command line ------------------------------------------------------------
def test_unknown_kind_is_refused_with_the_choices() -> None:
    assert check_kind(" Events ") == "events"
    with pytest.raises(TemplateError, match=r"unknown kind 'seizures'; use indicators or events"):
        make_spec("COL", "2025", "es", kind="seizures")


def test_cli_writes_event_templates_in_each_format(tmp_path: Path) -> None:
    for fmt in FORMATS:
        code, out = invoke(
            "template",
            "--country",
            "COL",
            "--cycle",
            "2026",
            "--lang",
            "es",
            "--format",
            fmt,
            "--kind",
            "events",
            "--out",
            str(tmp_path),
        )
        assert code == 0, out
        assert (tmp_path / f"COL_ideal_events_2026_es.{fmt}").is_file()
        assert "event-record template" in out
        assert "ideal validate COL_ideal_events_2026_es." in out
    # the default kind is unchanged
    code, _ = invoke("template", "--country", "COL", "--cycle", "2026", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "COL_ideal_2026_es.xlsx").is_file()


def test_cli_unknown_kind_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = invoke("template", "--country", "COL", "--cycle", "2026", "--kind", "victims")
    assert code == 2
    assert out.strip().splitlines() == ["error: unknown kind 'victims'; use indicators or events."]
    assert list(tmp_path.iterdir()) == []


def test_cli_validates_a_filled_event_template(tmp_path: Path) -> None:
    code, _ = invoke(
        "template",
        "--country",
        "Brasil",
        "--cycle",
        "2025",
        "--lang",
        "pt",
        "--kind",
        "events",
        "--out",
        str(tmp_path / "bra.xlsx"),
    )
    assert code == 0
    path = tmp_path / "bra.xlsx"
    row = {
        "date": dt.date(2025, 9, 3),
        "admin1": "Pará",
        "event_type": "apreensão",
        "item": "madeira",
        "quantity": 80,
        "unit": "m3",
        "source": "IBAMA",
        "reliability": "B",
        "credibility": 2,
    }
    type_rows(path, [row])
    excel_saves(path)
    # no --cycle: the workbook's stamp gives it
    code, out = invoke("validate", str(path), "--json", "--lang", "pt")
    doc = json.loads(out)
    assert code == 0, doc
    assert doc["status"] in ("accepted", "accepted_with_warnings")
    assert (doc["kind"], doc["country"], doc["rows"]) == ("events", "BRA", 1)
    assert [i for i in doc["issues"] if i["severity"] == "error"] == []
