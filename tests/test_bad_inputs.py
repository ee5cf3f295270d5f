"""The corpus of bad inputs: every one gets a clear message and the right status, never a
traceback. Small files live in tests/corpus/bad/; large or binary ones are made here.

Each case goes through `ideal validate --json` exactly as a steward would run it, and the
expected rule must be among the findings, with a message and a hint in Spanish.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ideal.assessment import ensure_cycle, ingest_paths
from ideal.cli import app
from ideal.config import Workspace
from ideal.contract import column_headers
from ideal.cycles import Cycle

CORPUS = Path(__file__).parent / "corpus" / "bad"
EXIT = {"accepted": 0, "accepted_with_warnings": 0, "rejected": 1, "unreadable": 2}

# file -> (status, a rule that must be among the findings)
EXPECTED: dict[str, tuple[str, str]] = {
    "empty.csv": ("unreadable", "unreadable_file"),
    "whitespace_only.csv": ("unreadable", "unreadable_file"),
    "no_header.csv": ("unreadable", "unreadable_file"),
    "wrong_columns.csv": ("unreadable", "unreadable_file"),
    "truncated.json": ("unreadable", "unreadable_file"),
    "rows_not_objects.json": ("unreadable", "unreadable_file"),
    "header_only.csv": ("rejected", "no_data_rows"),
    "extra_columns.csv": ("accepted_with_warnings", "unknown_column"),
    "mixed_countries.csv": ("rejected", "multiple_countries"),
    "duplicate_rows.csv": ("rejected", "duplicate_row"),
    "negative_value.csv": ("rejected", "negative_value"),
    "nan_value.csv": ("rejected", "not_finite"),
    "inf_value.csv": ("rejected", "not_finite"),
    "huge_value.csv": ("rejected", "beyond_hard_limit"),
    "future_period.csv": ("rejected", "future_period"),
    "unknown_indicator.csv": ("rejected", "unknown_indicator"),
    "formula_in_notes.csv": ("accepted_with_warnings", "indicator_not_reported"),
    "script_in_notes.csv": ("accepted_with_warnings", "indicator_not_reported"),
    "unknown_country.csv": ("rejected", "unknown_country"),
    "bad_reliability.csv": ("rejected", "invalid_reliability"),
    "bad_credibility.csv": ("rejected", "invalid_credibility"),
    "incompatible_unit.csv": ("rejected", "incompatible_unit"),
    "expert_out_of_scale.csv": ("rejected", "out_of_scale"),
    "period_outside_cycle.csv": ("rejected", "period_outside_cycle"),
    "bad_period.csv": ("rejected", "invalid_period"),
    "mixed_periods.csv": ("rejected", "mixed_periods"),
    "text_value.csv": ("rejected", "not_a_number"),
    "empty_value.csv": ("rejected", "required"),
    "bad_trend.csv": ("rejected", "invalid_trend"),
    "event_bad_date.csv": ("rejected", "invalid_date"),
    "event_unknown_item.csv": ("rejected", "unknown_item"),
}

HEADER = "country,period,indicator,value,unit,source,reliability,credibility,trend,notes\n"
ROW = "COL,2025,kidnappings_count,12,count,GAULA,B,2,,"


def check(path: Path, status: str, rule: str) -> dict[str, object]:
    result = CliRunner().invoke(
        app, ["validate", str(path), "--cycle", "2025", "--json", "--lang", "es"]
    )
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    doc = json.loads(result.stdout)
    assert (doc["status"], result.exit_code) == (status, EXIT[status]), doc["issues"][:3]
    issues = doc["issues"]
    assert isinstance(issues, list)
    assert rule in {i["rule"] for i in issues}, [i["rule"] for i in issues]
    assert all(i["message"] and i["hint"] is not None for i in issues)
    return doc


def test_the_corpus_holds_every_expected_file() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_bad_input(name: str) -> None:
    status, rule = EXPECTED[name]
    check(CORPUS / name, status, rule)


def test_values_are_reported_exactly_as_sent() -> None:
    doc = check(CORPUS / "script_in_notes.csv", "accepted_with_warnings", "indicator_not_reported")
    assert doc["country"] == "COL"  # the notes are text, kept verbatim in the warehouse


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(bytes(range(256)) * 64)
    check(path, "unreadable", "unreadable_file")


def test_password_protected_xlsx(tmp_path: Path) -> None:
    # An encrypted workbook is an OLE compound file, not a zip.
    path = tmp_path / "protegido.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    doc = check(path, "unreadable", "unreadable_file")
    assert "contraseña" in str(doc["issues"])


def test_zip_bomb_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "bomba.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MiB that compress to about 300 KiB
                member.write(chunk)
    assert path.stat().st_size < 2_000_000
    check(path, "unreadable", "unreadable_file")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fotos.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("foto.txt", "hola")
    check(path, "unreadable", "unreadable_file")


def test_workbook_with_no_data_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Borrador, sin datos"
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "borrador.xlsx"
    path.write_bytes(buf.getvalue())
    check(path, "unreadable", "unreadable_file")


def test_utf16_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes((HEADER + ROW + "\n").encode("utf-16"))
    check(path, "accepted_with_warnings", "indicator_not_reported")


def test_notes_longer_than_allowed(tmp_path: Path) -> None:
    path = tmp_path / "notas.csv"
    path.write_text(HEADER + ROW + "x" * 5000 + "\n", encoding="utf-8")
    check(path, "rejected", "text_too_long")


@pytest.mark.slow
def test_a_100_mb_csv(tmp_path: Path) -> None:
    """A national register far larger than any indicator file: read through the SQL path."""
    path = tmp_path / "registro.csv"
    line = "COL;14/03/2025;Antioquia;incautación;cocaína;1.234,5;kg;Policía Nacional;B;2;\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(";".join(column_headers("es", "events").values()) + "\n")
        block = line * 10_000
        while fh.tell() < 100 * 1024 * 1024:
            fh.write(block)
    assert path.stat().st_size >= 100 * 1024 * 1024
    result = CliRunner().invoke(app, ["validate", str(path), "--cycle", "2025", "--json"])
    assert "Traceback" not in result.output
    doc = json.loads(result.stdout)
    assert doc["status"] in ("accepted", "accepted_with_warnings"), doc["issues"][:3]
    assert doc["rows"] > 1_000_000


def test_a_file_name_with_dot_dot_stays_inside_the_workspace(ws: Workspace, tmp_path: Path) -> None:
    ensure_cycle(ws, Cycle("2025", 2025, __import__("datetime").date(2026, 3, 31), ("COL",)))
    src = tmp_path / "x.csv"
    src.write_text(HEADER + "COL,2025,kidnappings_count,abc,count,G,B,2,,\n", encoding="utf-8")
    [out] = ingest_paths(ws, "2025", [src])
    # the name a steward's mail client gave the attachment, however hostile
    from ideal.intake import quarantine, safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_name("..") == "submission"
    assert out.status == "rejected" and out.quarantine_path is not None
    assert ws.quarantine in out.quarantine_path.parents
    from ideal.validation import ValidationResult

    target = quarantine(
        ws,
        "2025",
        "ab" * 32,
        "../../../../tmp/evil.csv",
        b"x",
        ValidationResult(None, [], [], 0),
        "rejected",
    )
    assert ws.quarantine in target.parents and target.name == "evil.csv"
