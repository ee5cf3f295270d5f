"""Readers: national file formats come in as rows of cells with the steward's row numbers."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from ideal.readers import UnreadableFile, read_submission

HEADER_ES = "país;periodo;indicador;valor;unidad;fuente;fiabilidad;credibilidad;tendencia;notas"


def test_excel_spanish_csv_with_decimal_comma_in_cp1252() -> None:
    text = (
        "Ministerio de Defensa – datos IDEAL;;;\n"
        f"{HEADER_ES}\n"
        "Perú;2025;cocaine_seized_kg;1.234,5;kg;DIRANDRO;B;2;;Operación Ñandú\n"
    )
    sub = read_submission(text.encode("cp1252"))
    assert (sub.fmt, sub.delimiter, sub.decimal, sub.encoding) == ("csv", ";", ",", "cp1252")
    assert sub.header_row == 2
    assert sub.rows[0].source_row == 3
    assert sub.rows[0].cells["country"] == "Perú"
    assert sub.rows[0].cells["notes"] == "Operación Ñandú"


def test_utf8_bom_comma_csv_with_english_headers() -> None:
    text = (
        "country,period,indicator,value,unit,source,reliability,credibility\n"
        'JAM,2025,firearms_seized_count,"1,234",count,JCF,B,2\n'
    )
    sub = read_submission(b"\xef\xbb\xbf" + text.encode())
    assert (sub.delimiter, sub.decimal) == (",", ".")
    assert sub.columns["country"] == "country"
    assert sub.rows[0].cells["value"] == "1,234"


def test_tab_separated_portuguese_headers() -> None:
    text = (
        "país\tperíodo\tindicador\tvalor\tunidade\tfonte\tconfiabilidade\tcredibilidade\n"
        "Brasil\t2025-T1\tcocaine_seized_kg\t10,5\tkg\tPF\tA\t1\n"
    )
    sub = read_submission(text.encode())
    assert sub.delimiter == "\t" and sub.decimal == ","
    assert sub.rows[0].cells["period"] == "2025-T1"


def test_quoted_newline_keeps_editor_line_numbers() -> None:
    text = (
        "country,period,indicator,value,unit,reliability,credibility,notes\n"
        'COL,2025,kidnappings_count,3,count,B,2,"two\nlines"\n'
        "COL,2025,extortion_reports_count,4,count,B,2,\n"
    )
    sub = read_submission(text.encode())
    assert [r.source_row for r in sub.rows] == [2, 4]


def test_unknown_columns_are_reported_not_lost() -> None:
    text = (
        "country,period,indicator,value,unit,reliability,credibility,comentario\n"
        "COL,2025,kidnappings_count,3,count,B,2,x\n"
    )
    assert read_submission(text.encode()).unknown_columns == ["comentario"]


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "instrucciones"
    ws["A1"] = "Complete la hoja datos"
    data = wb.create_sheet("datos")
    data["A1"] = "Ministerio de Seguridad – ciclo IDEAL 2025"
    data.merge_cells("A1:J1")
    data.append(HEADER_ES.split(";"))
    data.append(["Ecuador", "2025", "cocaine_seized_kg", 221543.25, "kg", "PN", "B", 2, None, None])
    data.append([None] * 10)
    data.append(["Ecuador", "2025", "kidnappings_count", 97, "count", "PN", "B", 2, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_finds_the_data_sheet_below_a_merged_title() -> None:
    sub = read_submission(xlsx_bytes())
    assert (sub.fmt, sub.sheet, sub.header_row) == ("xlsx", "datos", 2)
    assert [r.source_row for r in sub.rows] == [3, 5]
    assert sub.rows[0].cells["value"] == 221543.25


def test_json_rows_inherit_the_top_level_country() -> None:
    doc = {
        "country": "CRI",
        "cycle": "2025",
        "rows": [
            {
                "period": "2025",
                "indicator": "kidnappings_count",
                "value": 3,
                "unit": "count",
                "reliability": "B",
                "credibility": 2,
            }
        ],
    }
    sub = read_submission(json.dumps(doc).encode())
    assert sub.fmt == "json"
    assert sub.rows[0].cells["country"] == "CRI" and sub.rows[0].source_row == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (bytes(range(256)) * 4, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "encrypted_or_xls"),
        (b"PK\x03\x04garbage", "bad_xlsx"),
        (b'{"rows": [1, 2]}', "bad_json"),
        (b"{not json", "bad_json"),
        (b"hello,world\n1,2\n", "no_header"),
    ],
)
def test_files_that_are_not_submissions(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile) as info:
        read_submission(data)
    assert info.value.reason == reason
