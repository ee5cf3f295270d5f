"""The templates in a real spreadsheet application: LibreOffice Calc, headless.

Stewards fill the XLSX template in Excel or LibreOffice and send it back, sometimes
re-saved as CSV. These tests hand the generated workbooks to LibreOffice (installed
by .ci/run from Debian's packages) and check what a steward's spreadsheet would do:
it opens them, keeps their drop-downs and checks when it saves them again, and what it
writes — a re-saved workbook or a CSV "save as" — reads back through the same
``parse_and_validate`` the pipeline uses. LibreOffice is stricter than openpyxl and
more forgiving than Excel; an Excel "repair" prompt is not something these can see.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from test_template import CATALOGUE, N_INDICATORS, data_sheet, fill_xlsx, validate
from test_template_events import item_name, type_name, type_rows
from test_template_events import validate as validate_events

from ideal.contract import FILE_COLUMNS, column_headers
from ideal.template import check_format, make_spec, write_template

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if SOFFICE is None:
    pytest.skip(
        "LibreOffice is not installed (`apt-get install libreoffice-calc-nogui`; "
        ".ci/run installs it)",
        allow_module_level=True,
    )

# LibreOffice's CSV filter options: field separator ';' (59), text delimiter '"' (34),
# UTF-8 (76), cells saved as shown (position 9, as Excel saves a CSV) and, at
# position 12, the sheet to export (2: the data sheet).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,true,false,false,2"


def office(src: Path, outdir: Path, to: str) -> Path:
    """Convert ``src`` with LibreOffice (its own profile under tmp); the file it wrote."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = (outdir.parent / "lo-profile").resolve()
    done = subprocess.run(
        [
            str(SOFFICE),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    written = sorted(p for p in outdir.iterdir() if p.is_file())
    assert done.returncode == 0 and written, (done.stdout, done.stderr)
    return written[-1]


def _data_validations(ws: Worksheet) -> list[tuple[str, str]]:
    return sorted((dv.type or "", str(dv.sqref)) for dv in ws.data_validations.dataValidation)


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_libreoffice_opens_the_template_and_keeps_its_checks(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("COL", "2025", lang), check_format("xlsx"), tmp_path)
    resaved = office(path, tmp_path / "resaved", "xlsx")

    ours, theirs = openpyxl.load_workbook(path), openpyxl.load_workbook(resaved)
    assert theirs.sheetnames == ours.sheetnames
    sheet = theirs.worksheets[1]
    assert isinstance(sheet, Worksheet)
    headers = column_headers(lang)
    assert [c.value for c in sheet[1]][: len(FILE_COLUMNS)] == [headers[c] for c in FILE_COLUMNS]
    codes = [sheet.cell(r, FILE_COLUMNS.index("indicator") + 1).value for r in range(2, 60)]
    assert {c for c in codes if c} == {i.code for i in CATALOGUE.indicators}
    # LibreOffice drops a validation it cannot parse; every one of ours survives
    before, after = _data_validations(data_sheet(path)), _data_validations(sheet)
    assert len(after) == len(before) and {t for t, _ in after} == {t for t, _ in before}
    assert sheet.protection.sheet


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_template_filled_and_saved_by_libreoffice_is_accepted(tmp_path: Path, lang: str) -> None:
    path = write_template(make_spec("COL", "2025", lang), check_format("xlsx"), tmp_path)
    fill_xlsx(path, lang)
    resaved = office(path, tmp_path / "resaved", "xlsx")

    raw, result = validate(resaved, "2025", "COL")

    assert raw is not None
    assert [(i.rule, i.row, i.value) for i in result.issues] == []
    assert result.status == "accepted" and result.n_rows == N_INDICATORS


def test_template_saved_as_csv_by_libreoffice_is_accepted(tmp_path: Path) -> None:
    path = write_template(make_spec("BRA", "2025", "pt"), check_format("xlsx"), tmp_path)
    fill_xlsx(path, "pt")
    exported = office(path, tmp_path / "csv", CSV_FILTER)

    raw, result = validate(exported, "2025", "BRA")

    assert raw is not None and raw.fmt == "csv" and raw.delimiter == ";"
    assert [(i.rule, i.row, i.value) for i in result.issues] == []
    assert result.status == "accepted" and result.n_rows == N_INDICATORS


def _fill_events(path: Path, lang: str) -> None:
    """One event of each type, typed as a steward would; the country column left alone."""
    rows = [
        (dt.datetime(2025, 3, 14), "seizure", "cocaine", 1234.5, "kg"),
        ("02/05/2025", "victim", "thb_victim", 1, "count"),
        ("2025-11-30", "incident", "extortion", 1, "count"),
    ]
    type_rows(
        path,
        (
            {
                "date": date,
                "admin1": "Nariño",
                "event_type": type_name(etype, lang),
                "item": item_name(item, lang),
                "quantity": quantity,
                "unit": unit,
                "source": "Policía Nacional",
                "reliability": "B",
                "credibility": 2,
            }
            for date, etype, item, quantity, unit in rows
        ),
    )


@pytest.mark.parametrize("to", ["xlsx", CSV_FILTER])
def test_event_template_filled_in_libreoffice_gets_its_country_and_is_accepted(
    tmp_path: Path, to: str
) -> None:
    # The country cells are formulas that show the country once a row is used:
    # LibreOffice calculates them when it saves, unused rows stay blank.
    spec = make_spec("COL", "2025", "es", kind="events")
    path = write_template(spec, check_format("xlsx"), tmp_path)
    _fill_events(path, "es")
    saved = office(path, tmp_path / "saved", to)

    raw, result = validate_events(saved, "COL")

    assert raw is not None
    assert [(i.rule, i.row, i.column) for i in result.issues] == []
    assert result.status == "accepted" and result.n_rows == 3
    assert [(e.source_row, e.record.country, e.record.date) for e in result.events] == [
        (2, "COL", dt.date(2025, 3, 14)),
        (3, "COL", dt.date(2025, 5, 2)),
        (4, "COL", dt.date(2025, 11, 30)),
    ]
