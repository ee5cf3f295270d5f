"""The steward's report: HTML that is self-contained and inert, CSV without formulas.

Every test writes a real submission file, runs ``ideal validate`` on it as a steward
would, and reads what it produced. Untrusted text (cell values, notes, the file name)
carries a script tag and a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ideal.cli import app
from ideal.config import DEMO_DIR
from ideal.messages import label
from ideal.reference import country_name
from ideal.steward import FORMULA_TRIGGERS, neutralise
from ideal.template import make_spec, write_template

runner = CliRunner()

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
HEADER_ES = "país;periodo;indicador;valor;unidad;fuente;fiabilidad;credibilidad;tendencia;notas"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.output


# Tags the report may use: text, tables, one style sheet; nothing that loads or runs.
INERT_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "footer",
    "section",
    "h1",
    "h2",
    "p",
    "span",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [name for name, _ in attrs]))


def parse_tags(html: str) -> list[tuple[str, list[str]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def hostile_csv(folder: Path) -> Path:
    """A Spanish CSV whose cells try scripts and formulas, in a file named like a tag."""
    rows = [
        HEADER_ES,
        'COL;2025;cocaine_seized_kg;"' + FORMULA.replace('"', '""') + f'";kg;DIJIN;B;2;;{SCRIPT}',
        "COL;2025;cocaine_labs_dismantled_count;-3;count;DIJIN;B;2;;",
        f"COL;2025;{SCRIPT};5;count;DIJIN;@SUM(A1);2;;",
        "COL;+1;coca_cultivation_ha;1;ha;DIJIN;A;1;;",
        'COL;2025;cannabis_seized_kg;"\t=1+1";kg;DIJIN;A;1;;',
        "COL;2025;cannabis_plants_eradicated_count;12;count;;A;1;;",
    ]
    path = folder / "<b>datos&amp;<img src=x>.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    return path


# -- HTML -------------------------------------------------------------------------------------
def test_html_report_is_self_contained_and_escapes_injections(tmp_path: Path) -> None:
    src = hostile_csv(tmp_path)
    out = tmp_path / "out" / "informe.html"
    code, _, _ = invoke("validate", str(src), "--cycle", "2025", "--html", str(out))
    assert code == 1
    html = out.read_text(encoding="utf-8")

    # nothing runs, nothing is fetched: only inert tags, no attribute that loads anything
    assert "<script" not in html.lower()
    tags = parse_tags(html)
    assert {name for name, _ in tags} <= INERT_TAGS
    assert not [a for _, attrs in tags for a in attrs if a in ("src", "href", "action")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    assert "url(" not in html and "@import" not in html
    assert re.search(r"<style>", html) and '<html lang="es">' in html
    # untrusted text is shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html
    assert "&lt;b&gt;datos&amp;amp;&lt;img src=x&gt;.csv" in html
    # status in words and a symbol, not colour alone; what to do next
    assert "✖" in html and label("report.status.rejected", "es") in html
    assert label("report.next.rejected", "es") in html
    # localised headers name the columns
    assert ">valor<" in html and ">fiabilidad<" in html


def test_html_lists_errors_first_then_rows(tmp_path: Path) -> None:
    src = hostile_csv(tmp_path)
    out = tmp_path / "r.html"
    invoke("validate", str(src), "--cycle", "2025", "--html", str(out), "--lang", "en")
    html = out.read_text(encoding="utf-8")
    rows = re.findall(
        r'<tr class="sev-(error|warning)">\s*<td class="sev">.*?</td>\s*'
        r'<td class="num">(.*?)</td>',
        html,
        re.DOTALL,
    )
    severities = [s for s, _ in rows]
    assert severities == sorted(severities, key=lambda s: s != "error")
    error_rows = [int(n) for s, n in rows if s == "error" and n.isdigit()]
    assert error_rows == sorted(error_rows) and error_rows[0] == 2
    assert "warning" in severities  # the missing source on row 7


@pytest.mark.parametrize(
    ("lang", "word"),
    [("es", "Aceptado"), ("pt", "Aceito"), ("en", "Accepted")],
)
def test_html_says_accepted_in_the_stewards_language(tmp_path: Path, lang: str, word: str) -> None:
    out = tmp_path / "ok.html"
    code, _, _ = invoke(
        "validate",
        str(DEMO_DIR / "2025" / "COL_ideal_2025.csv"),
        "--cycle",
        "2025",
        "--lang",
        lang,
        "--html",
        str(out),
    )
    html = out.read_text(encoding="utf-8")
    assert code == 0
    assert f'<html lang="{lang}">' in html
    assert f"✔</span>{word}<" in html
    assert label("report.no_issues", lang) in html
    assert f"{country_name('COL', lang)} (COL)" in html


def test_html_for_an_unreadable_file(tmp_path: Path) -> None:
    src = tmp_path / "protegido.xlsx"
    src.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    out = tmp_path / "r.html"
    code, _, _ = invoke("validate", str(src), "--html", str(out), "--lang", "pt")
    html = out.read_text(encoding="utf-8")
    assert code == 2
    assert label("report.status.unreadable", "pt") in html and "senha" in html
    assert label("report.whole_file", "pt") in html


# -- CSV --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("", ""),
        ("«=1» no es un número.", "«=1» no es un número."),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_csv_export_neutralises_formulas(tmp_path: Path) -> None:
    src = hostile_csv(tmp_path)
    out = tmp_path / "issues.csv"
    code, _, _ = invoke("validate", str(src), "--cycle", "2025", "--csv", str(out))
    assert code == 1
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Gravedad", "Fila", "Columna", "Valor enviado"]
    cells = [c for row in body for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
    values = {row[3] for row in body}
    assert {"'" + FORMULA, "'-3", "'@SUM(A1)", "'+1", "'\t=1+1"} <= values
    assert SCRIPT in values  # text, not a formula: left as sent
    assert body[0][0] == "error" and body[-1][0] == "advertencia"


def test_json_keeps_values_exactly_as_sent(tmp_path: Path) -> None:
    src = hostile_csv(tmp_path)
    code, stdout, _ = invoke(
        "validate",
        str(src),
        "--cycle",
        "2025",
        "--json",
        "--html",
        str(tmp_path / "r.html"),
        "--csv",
        str(tmp_path / "r.csv"),
    )
    doc = json.loads(stdout)  # the notes about written files go to stderr
    assert code == 1
    assert set(doc) == {"file", "sha256", "kind", "country", "status", "rows", "issues"}
    assert doc["file"] == str(src) and doc["status"] == "rejected" and doc["rows"] == 6
    for item in doc["issues"]:
        assert set(item) == {"severity", "row", "column", "value", "rule", "message", "hint"}
    values = {i["value"] for i in doc["issues"]}
    assert {FORMULA, "-3", "@SUM(A1)", "+1", "\t=1+1", SCRIPT} <= values


# -- the local check of a template-made file ---------------------------------------------------
def test_validate_reads_the_cycle_from_the_template(tmp_path: Path) -> None:
    path = write_template(make_spec("COL", "2024", "es"), "xlsx", tmp_path / "col.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[1]
    for r in range(2, ws.max_row + 1):
        code = ws.cell(r, 3).value
        if code:
            ws.cell(r, 4).value = 5 if str(code).endswith("_expert_score") else "n/d"
            ws.cell(r, 6).value, ws.cell(r, 7).value, ws.cell(r, 8).value = "MinDefensa", "F", 6
            ws.cell(r, 10).value = "no disponible"
    wb.save(path)
    code, stdout, _ = invoke("validate", str(path), "--json")
    doc = json.loads(stdout)
    assert code == 0 and doc["status"] == "accepted_with_warnings"
    assert {i["rule"] for i in doc["issues"]} == {"value_missing"}


def test_validate_prints_status_in_words_and_markup_as_text(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text(
        HEADER_ES + "\r\nCOL;2025;[bold]x[/];1;count;[/];A;1;;[red]\r\n", encoding="utf-8"
    )
    code, stdout, _ = invoke("validate", str(src), "--cycle", "2025", "--lang", "pt")
    assert code == 1
    assert "✖ REJEITADO" in stdout and "[bold]x[/]" in stdout
    assert label("report.next.rejected", "pt")[:30] in stdout
