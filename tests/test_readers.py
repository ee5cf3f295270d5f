"""Readers: national file formats come in as rows of cells with the steward's row numbers."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from ideal.readers import UnreadableFile, read_submission, sniff_csv

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


# -- which kind of submission a file is -------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (HEADER_ES, "indicators"),
        ("country,period,indicator,value,unit,reliability,credibility", "indicators"),
        (
            "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;"
            "fiabilidad;credibilidad;notas",
            "events",
        ),
        (
            "país;data;estado;tipo de evento;item;quantidade;unidade;confiabilidade;credibilidade",
            "events",
        ),
        ("country,date,admin1,event_type,item,quantity,unit,reliability,credibility", "events"),
        ("country;provincia;tipo;sustancia;cantidad;unidad", "events"),
        ("country;unit;reliability;credibility", "indicators"),  # shared columns only: a tie
    ],
)
def test_the_header_says_which_kind_a_file_is(header: str, kind: str) -> None:
    sub = read_submission((header + "\n").encode())
    assert sub.kind == kind
    layout = sniff_csv((header + "\n").encode())
    assert (layout.kind, layout.columns) == (kind, sub.columns)


def test_the_other_kinds_columns_are_unknown_here() -> None:
    text = (
        "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fiabilidad;"
        "credibilidad;periodo\n"
        "Colombia;14/03/2025;Nariño;incautación;cocaína;1,5;kg;B;2;2025\n"
    )
    sub = read_submission(text.encode())
    assert sub.kind == "events" and sub.unknown_columns == ["periodo"]
    assert "period" not in sub.rows[0].cells
    assert sub.decimal == ","  # guessed from the quantity column


def test_an_event_json_file() -> None:
    doc = {
        "country": "PER",
        "rows": [
            {
                "fecha": "2025-03-14",
                "departamento": "Puno",
                "tipo de evento": "incautación",
                "elemento": "cocaína",
                "cantidad": 12.5,
                "unidad": "kg",
                "fiabilidad": "B",
                "credibilidad": 2,
            }
        ],
    }
    sub = read_submission(json.dumps(doc).encode())
    assert sub.kind == "events" and sub.missing_columns == []
    assert sub.rows[0].cells["country"] == "PER" and sub.rows[0].cells["quantity"] == 12.5


def test_sniffing_the_head_agrees_with_reading_the_whole_file() -> None:
    text = (
        "Ministerio de Defensa – registro;;;\n"
        "\n"
        "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
        "credibilidad;notas;comentario\n"
        "Perú;14/03/2025;Puno;incautación;cocaína;1,5;kg;PNP;B;2;;x\n"
    )
    data = text.encode("cp1252")
    sub, layout = read_submission(data), sniff_csv(data)
    assert (layout.encoding, layout.delimiter, layout.header_row, layout.kind) == (
        sub.encoding,
        sub.delimiter,
        sub.header_row,
        sub.kind,
    )
    assert layout.columns == sub.columns and layout.unknown_columns == sub.unknown_columns
    assert layout.positions["notes"] == 10 and layout.width == 12


def test_a_short_csv_row_reads_as_empty_cells() -> None:
    sub = read_submission(
        b"country,period,indicator,value,unit,reliability,credibility\nCOL,2025\n"
    )
    assert sub.rows[0].cells["value"] == ""
