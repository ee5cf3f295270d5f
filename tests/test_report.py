"""The committee's HTML report: content, language, safety and self-containment.

A tiny warehouse (3 scored countries × 3 categories, one country rejected with an
injection attempt in its file, one expected country missing) is built in ``tmp_path``
and rendered in every language.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from babel.messages.plurals import get_plural

from ideal.catalogue import BABEL_LOCALES, LANGS
from ideal.report import charts
from ideal.report.i18n import (
    POT_PATH,
    Formatter,
    catalog_problems,
    extract_messages,
    load_catalog,
    translations,
)
from ideal.report.render import (
    _environment,
    css_string,
    render_report,
    report_filename,
)
from ideal.warehouse import connect, replace_where

CYCLE = "2025"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SHA_METHOD = "ab" * 32
GENERATED = date(2026, 4, 15)

COUNTRIES = [
    # iso3, iso2, numeric, en, es, pt
    ("BRA", "BR", "076", "Brazil", "Brasil", "Brasil"),
    ("MEX", "MX", "484", "Mexico", "México", "México"),
    ("PER", "PE", "604", "Peru", "Perú", "Peru"),
    ("ARG", "AR", "032", "Argentina", "Argentina", "Argentina"),
    ("COL", "CO", "170", "Colombia", "Colombia", "Colômbia"),
]
CATEGORIES = [
    ("cocaine", "drugs", "Cocaine trafficking", "Tráfico de cocaína", "Tráfico de cocaína"),
    (
        "firearms",
        "firearms",
        "Firearms and ammunition trafficking",
        "Tráfico de armas de fuego y municiones",
        "Tráfico de armas de fogo e munições",
    ),
    (
        "human_trafficking",
        "persons",
        "Trafficking in human beings",
        "Trata de personas",
        "Tráfico de pessoas",
    ),
]
# rank order: firearms, cocaine, human_trafficking (not the insertion order)
PRIORITIES = {"firearms": (1, 72.44), "cocaine": (2, 61.06), "human_trafficking": (3, 38.52)}
SCORES = {
    ("BRA", "cocaine"): 55.5,
    ("BRA", "firearms"): 80.25,
    ("BRA", "human_trafficking"): 12.0,
    ("MEX", "cocaine"): 70.0,
    ("MEX", "firearms"): 91.7,
    ("MEX", "human_trafficking"): 44.4,
    ("PER", "cocaine"): 88.8,
    ("PER", "firearms"): 30.1,
    ("PER", "human_trafficking"): None,  # not assessed: shows "–"
}


def _frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    from ideal.warehouse import TABLE_BY_NAME

    return pd.DataFrame(rows, columns=list(TABLE_BY_NAME[table].columns))


def build_warehouse(
    path: Path,
    *,
    with_previous: bool = True,
    with_scores: bool = True,
    methodology_sha256: str = SHA_METHOD,
) -> Path:
    with connect(path) as con:
        con.executemany(
            "INSERT INTO core_ref__countries VALUES (?, ?, ?, ?, ?, ?, 'South America')",
            [list(c) for c in COUNTRIES],
        )
        con.executemany(
            "INSERT INTO core_ref__categories VALUES (?, ?, ?, ?, ?)",
            [list(c) for c in CATEGORIES],
        )
        cycles = [
            {
                "cycle_id": CYCLE,
                "period_year": 2025,
                "deadline": date(2026, 3, 31),
                "expected_countries": ["BRA", "MEX", "PER", "ARG", "COL"],
                "cycle_status": "closed",
                "opened_at": datetime(2026, 1, 10),
            }
        ]
        if with_previous:
            cycles.append(
                {
                    "cycle_id": "2024",
                    "period_year": 2024,
                    "deadline": date(2025, 3, 31),
                    "expected_countries": ["BRA", "MEX", "PER"],
                    "cycle_status": "published",
                    "opened_at": datetime(2025, 1, 10),
                }
            )
        replace_where(con, "core_cycle__cycles", _frame("core_cycle__cycles", cycles), "1=1", [])
        subs = [
            _submission("s-bra", "BRA", "bra_2025.xlsx", "accepted", n_rows=1234),
            _submission("s-mex", "MEX", "mex_2025.csv", "accepted_with_warnings", n_warnings=1),
            # Peru sent after the deadline (31 March).
            _submission("s-per", "PER", "per_2025.xlsx", "accepted", received=datetime(2026, 4, 2)),
            _submission("s-arg", "ARG", f"{IMG}.xlsx", "rejected", n_errors=30, current=False),
        ]
        replace_where(
            con, "raw_intake__submissions", _frame("raw_intake__submissions", subs), "1=1", []
        )
        issues = [
            {
                "submission_sha256": "s-arg",
                "issue_no": 1,
                "severity": "error",
                "source_row": 7,
                "column_name": "country",
                "cell_value": SCRIPT,
                "rule": "unknown_country",
                # As intake stores it: the cell's value lives in cell_value, not in params.
                "params_json": "{}",
                "message_en": f"'{SCRIPT}' is not a recognised country.",
            },
            {
                "submission_sha256": "s-mex",
                "issue_no": 1,
                "severity": "warning",
                "source_row": None,
                "column_name": "source",
                "cell_value": None,
                "rule": "missing_source",
                "params_json": "{}",
                "message_en": "The source of the figure is missing.",
            },
        ]
        # Argentina's file also has 29 more errors: the report shows the first 25 in all.
        issues += [
            {
                "submission_sha256": "s-arg",
                "issue_no": n,
                "severity": "error",
                "source_row": 7 + n,
                "column_name": "period",
                "cell_value": "2025-13",
                "rule": "invalid_period",
                "params_json": "{}",
                "message_en": "'2025-13' is not a valid period.",
            }
            for n in range(2, 31)
        ]
        replace_where(con, "raw_intake__issues", _frame("raw_intake__issues", issues), "1=1", [])
        if not with_scores:
            return path
        manifest = {
            "cycle_id": CYCLE,
            "run_at": datetime(2026, 4, 10, 12, 30),
            "package_version": "0.1.0",
            "methodology_name": "ideal-test",
            "methodology_version": "2026.1",
            "methodology_sha256": methodology_sha256,
            "input_sha256s": ["s-bra", "s-mex", "s-per"],
            "flow_run_id": None,
        }
        replace_where(
            con, "out_run__manifests", _frame("out_run__manifests", [manifest]), "1=1", []
        )
        prio = [
            {
                "cycle_id": CYCLE,
                "category_code": code,
                "priority_0_100": score,
                "priority_rank": rank,
                "severity_0_100": score + 5,
                "spread_ratio": 2 / 3,
                "n_countries_affected": 2,
                "n_countries_assessed": 3,
                "trend_0_100": {1: 70.0, 2: 50.0, 3: 20.0}[rank],
                "confidence_0_1": {1: 0.82, 2: 0.5, 3: 0.2}[rank],
                "coverage_ratio": 0.9,
                "previous_score_0_100": score - 3.0 if with_previous else None,
                "change_0_100": 3.0 if with_previous else None,
                "methodology_sha256": methodology_sha256,
            }
            for code, (rank, score) in PRIORITIES.items()
        ]
        replace_where(
            con,
            "out_threat__regional_priorities",
            _frame("out_threat__regional_priorities", prio),
            "1=1",
            [],
        )
        scores = [
            {
                "cycle_id": cycle_id,
                "country_iso3": iso,
                "category_code": cat,
                "score_0_100": value,
                "quantitative_0_100": value,
                "expert_0_100": None,
                "coverage_ratio": 1.0,
                "confidence_0_1": 0.7,
                "previous_score_0_100": None,
                "change_0_100": None,
                "rank_in_category": None,
                "methodology_sha256": methodology_sha256,
            }
            for cycle_id in ([CYCLE, "2024"] if with_previous else [CYCLE])
            for (iso, cat), value in SCORES.items()
        ]
        replace_where(
            con,
            "out_threat__category_scores",
            _frame("out_threat__category_scores", scores),
            "1=1",
            [],
        )
    return path


def _submission(
    sha: str,
    iso3: str,
    name: str,
    status: str,
    *,
    n_rows: int = 40,
    n_errors: int = 0,
    n_warnings: int = 0,
    current: bool = True,
    received: datetime = datetime(2026, 3, 1, 9, 0),
) -> dict[str, object]:
    return {
        "submission_sha256": sha,
        "cycle_id": CYCLE,
        "file_name": name,
        "received_at": received,
        "size_bytes": 1000,
        "archive_path": f"archive/{sha}",
        "quarantine_path": None,
        "submission_kind": "indicators",
        "country_iso3": iso3,
        "submission_status": status,
        "is_current": current and status != "rejected",
        "n_rows": n_rows,
        "n_errors": n_errors,
        "n_warnings": n_warnings,
    }


# --------------------------------------------------------------------------------------
# A minimal HTML reader for assertions on structure rather than on raw strings
# --------------------------------------------------------------------------------------
class _Tables(HTMLParser):
    """Collects every table (by class) as rows of cell texts, and the h1/h2 texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._heading: list[str] | None = None
        self.html_lang: str | None = None
        self.tags: set[str] = set()
        self.links: list[str] = []  # every href / src / xlink:href value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        self.links += [v or "" for k, v in attrs if k in ("href", "src", "xlink:href")]
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "table":
            self.tables.append((a.get("class") or "", []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1][1].append(self._row)
            self._row = None
        elif tag in ("h1", "h2") and self._heading is not None:
            self.headings.append(_squash("".join(self._heading)))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)

    def table(self, cls: str) -> list[list[str]]:
        found = [rows for c, rows in self.tables if cls in c.split()]
        assert found, f"no table with class {cls}"
        return found[0]


def _squash(text: str) -> str:
    # Only ASCII whitespace: the no-break space Babel puts before "%" must survive.
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def _parse(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _validate_chart_specs() -> Iterator[None]:
    """Every chart spec drawn here is checked against the Vega-Lite schema (reports skip it)."""
    charts.VALIDATE_SPECS = True
    yield
    charts.VALIDATE_SPECS = False


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def reports(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("reports")
    paths = {
        lang: render_report(warehouse, CYCLE, lang, out, generated_on=GENERATED) for lang in LANGS
    }
    return {lang: p.read_text(encoding="utf-8") for lang, p in paths.items()}


# --------------------------------------------------------------------------------------
# The rendered report
# --------------------------------------------------------------------------------------
def test_writes_named_file(warehouse: Path, tmp_path: Path) -> None:
    path = render_report(warehouse, CYCLE, "es", tmp_path / "out", generated_on=GENERATED)
    assert path == tmp_path / "out" / "ideal-2025-es.html"
    assert path.is_file()
    assert report_filename("2025", "pt") == "ideal-2025-pt.html"


@pytest.mark.parametrize("lang", LANGS)
def test_self_contained(reports: dict[str, str], lang: str) -> None:
    html = reports[lang]
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"(?i)<script", html)
    parsed = _parse(html)
    assert not parsed.tags & {"script", "link", "iframe", "object", "embed", "img", "base"}
    # Every link is an anchor inside the document; every url() points at an SVG id.
    assert parsed.links and all(link.startswith("#") for link in parsed.links), parsed.links
    for target in re.findall(r"(?i)url\(\s*['\"]?([^)'\"]*)", html):
        assert target.startswith("#"), target
    assert html.count("<style>") == 1 and "@page" in html and "A4" in html
    size = len(html.encode("utf-8"))
    assert size < 400_000, f"report is {size} bytes"


@pytest.mark.parametrize("lang", LANGS)
def test_lang_attribute(reports: dict[str, str], lang: str) -> None:
    assert _parse(reports[lang]).html_lang == lang


@pytest.mark.parametrize(
    ("lang", "names", "scores"),
    [
        (
            "es",
            ["Tráfico de armas de fuego y municiones", "Tráfico de cocaína", "Trata de personas"],
            ["72,4", "61,1", "38,5"],
        ),
        (
            "pt",
            ["Tráfico de armas de fogo e munições", "Tráfico de cocaína", "Tráfico de pessoas"],
            ["72,4", "61,1", "38,5"],
        ),
        (
            "en",
            [
                "Firearms and ammunition trafficking",
                "Cocaine trafficking",
                "Trafficking in human beings",
            ],
            ["72.4", "61.1", "38.5"],
        ),
    ],
)
def test_ranked_priorities(
    reports: dict[str, str], lang: str, names: list[str], scores: list[str]
) -> None:
    rows = _parse(reports[lang]).table("priorities")
    body = rows[1:]
    assert [r[0] for r in body] == ["1", "2", "3"]
    assert [r[1] for r in body] == names
    assert [r[2] for r in body] == scores
    # Trend: arrow and word, never colour alone.
    trends = [r[5] for r in body]
    assert trends[0].startswith("▲") and trends[1].startswith("▶") and trends[2].startswith("▼")
    assert all(len(t) > 2 for t in trends)
    # Without the uncertainty analysis the two columns say so, in words.
    assert (
        body[0][3]
        == body[0][4]
        == {"es": "no calculado", "pt": "não calculado", "en": "not computed"}[lang]
    )
    # Change against the previous cycle (2024) is shown with its sign.
    assert "2024" in rows[0][10]
    assert body[0][10] == ("+3,0" if lang != "en" else "+3.0")
    # The chart draws the same ranking, with the same localised labels and numbers.
    chart = reports[lang].split('id="chart-priorities"', 1)[1].split("</svg>", 1)[0]
    assert f">1. {names[0]}<" in chart and f">{scores[0]}<" in chart


def test_priority_cells_in_spanish(reports: dict[str, str]) -> None:
    first = _parse(reports["es"]).table("priorities")[1]
    assert first[9] == "2 / 3 (67\xa0%)"
    assert first[5] == "▲ al alza"
    assert first[6] == "alta (82\xa0%)"


def test_no_change_column_without_previous_cycle(tmp_path: Path) -> None:
    wh = build_warehouse(tmp_path / "w.duckdb", with_previous=False)
    html = render_report(wh, CYCLE, "en", tmp_path, generated_on=GENERATED).read_text("utf-8")
    rows = _parse(html).table("priorities")
    assert len(rows[0]) == 10 and not any("Change" in h for h in rows[0])
    assert "no earlier cycle to compare with" in html
    # The scoring writes trend 50 when there is no baseline: that is no data, not "stable".
    assert [r[5] for r in rows[1:]] == ["no trend data"] * 3


MATRIX_CASES = [
    ("es", "Trata de personas", ["Argentina", "Brasil", "Colombia", "México", "Perú"], "80,2"),
    ("pt", "Tráfico de pessoas", ["Argentina", "Brasil", "Colômbia", "México", "Peru"], "80,2"),
    (
        "en",
        "Trafficking in human beings",
        ["Argentina", "Brazil", "Colombia", "Mexico", "Peru"],
        "80.2",
    ),
]


@pytest.mark.parametrize(("lang", "header", "row_names", "bra_firearms"), MATRIX_CASES)
def test_country_category_matrix(
    reports: dict[str, str],
    lang: str,
    header: str,
    row_names: list[str],
    bra_firearms: str,
) -> None:
    rows = _parse(reports[lang]).table("matrix")
    assert rows[0][-1] == header  # columns follow the priority ranking
    assert [r[0] for r in rows[1:]] == row_names  # localised, alphabetical ignoring accents
    assert rows[2][1] == bra_firearms  # Brazil × firearms (rank 1 column)
    assert rows[5][3] == "–"  # Peru × human trafficking: not assessed
    assert rows[1][1:] == ["–", "–", "–"]  # Argentina: rejected, no scores
    html = reports[lang]
    assert 'id="chart-matrix" role="img"' in html
    assert 'id="chart-priorities" role="img"' in html


@pytest.mark.parametrize("lang", LANGS)
def test_untrusted_text_is_escaped(reports: dict[str, str], lang: str) -> None:
    html = reports[lang]
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    ("lang", "statuses", "message"),
    [
        (
            "es",
            ["Rechazado", "Aceptado", "No recibido", "Aceptado con advertencias", "Aceptado"],
            "no es un país reconocido",
        ),
        (
            "pt",
            ["Rejeitado", "Aceito", "Não recebido", "Aceito com avisos", "Aceito"],
            "não é um país reconhecido",
        ),
        (
            "en",
            ["Rejected", "Accepted", "Missing", "Accepted with warnings", "Accepted"],
            "is not a recognised country",
        ),
    ],
)
def test_submissions(reports: dict[str, str], lang: str, statuses: list[str], message: str) -> None:
    parsed = _parse(reports[lang])
    rows = parsed.table("submissions")[1:]
    # Expected countries, alphabetical: ARG, BRA, COL, MEX, PER.
    assert [r[1].lstrip("✓!✗○ ") for r in rows] == statuses
    assert rows[1][4] == ("1.234" if lang != "en" else "1,234")  # thousands separator
    assert ("fuera de plazo", "fora do prazo", "after the deadline")[LANGS.index(lang)] in rows[4][
        3
    ]
    issue_tables = [rows for c, rows in parsed.tables if c == "issues"]
    assert len(issue_tables) == 2  # Argentina (rejected) and Mexico (warning)
    arg = issue_tables[0][1]
    # Column as the steward's template names it in the reader's language.
    assert arg[1] == "7" and arg[2] == {"es": "país", "pt": "país", "en": "country"}[lang]
    assert arg[3] == SCRIPT  # text, once parsed
    assert message in arg[4]
    # The stored cell value fills the message's placeholder in every language.
    assert SCRIPT in arg[4]


def test_long_issue_lists_are_cut(reports: dict[str, str]) -> None:
    parsed = _parse(reports["es"])
    arg = parsed.table("issues")
    assert len(arg) == 1 + 25  # header + the first 25 of 30
    assert "30 observaciones" in reports["es"]
    assert "No se muestran 5 observaciones más" in reports["es"]


def test_annex_shows_the_methodology_that_was_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import shutil

    import ideal.report.render as render
    from ideal.config import METHODOLOGY_DIR

    source = METHODOLOGY_DIR / "clasi-1.0.yaml"
    folder = tmp_path / "methodology"
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    monkeypatch.setattr(render, "METHODOLOGY_DIR", folder)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    wh = build_warehouse(tmp_path / "w.duckdb", methodology_sha256=sha)
    html = render_report(wh, CYCLE, "es", tmp_path, generated_on=GENERATED).read_text("utf-8")
    params = dict((r[0], r[1]) for r in _parse(html).table("params")[1:])
    method = yaml.safe_load(source.read_text("utf-8"))
    # Every number of the file is in the annex, as the file writes it (locale separators).
    weights = method["priority"]["weights"]
    for key in ("severity", "spread", "trend"):
        assert params[f"priority.weights.{key}"] == Formatter("es").decimal(weights[key])
    assert params["category.blend.quantitative"] == Formatter("es").decimal(
        method["category"]["blend"]["quantitative"]
    )
    formula = Formatter("es").decimal(weights["severity"]) + " × gravedad"
    assert formula in html

    # The same name with other bytes is not the file that produced the scores.
    (folder / source.name).write_text(source.read_text("utf-8") + "\n# edited\n", "utf-8")
    html = render_report(wh, CYCLE, "es", tmp_path, generated_on=GENERATED).read_text("utf-8")
    assert 'class="params"' not in html
    assert "con este sha256 no está disponible" in html


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        (
            "es",
            [
                "Evaluación regional de la amenaza de la delincuencia organizada transnacional",
                "1. Resumen ejecutivo",
                "2. Hasta dónde llegan las prioridades más altas",
                "3. Prioridades regionales, por orden",
                "4. Puntuaciones de amenaza por país y categoría",
                "5. Categorías de amenaza en detalle",
                "6. Perfiles de país",
                "Anexo A: metodología",
                "Anexo B: calidad de los datos",
                "Anexo C: registro de la ejecución",
            ],
        ),
        (
            "pt",
            [
                "Avaliação regional da ameaça do crime organizado transnacional",
                "1. Resumo executivo",
                "2. Aonde chegam as prioridades mais altas",
                "3. Prioridades regionais, em ordem",
                "4. Pontuações de ameaça por país e categoria",
                "5. Categorias de ameaça em detalhe",
                "6. Perfis dos países",
                "Anexo A: metodologia",
                "Anexo B: qualidade dos dados",
                "Anexo C: registro da execução",
            ],
        ),
        (
            "en",
            [
                "Regional assessment of the threat of transnational organised crime",
                "1. Executive summary",
                "2. Where the highest priorities reach",
                "3. Regional priorities, ranked",
                "4. Threat scores by country and category",
                "5. Threat categories in detail",
                "6. Country profiles",
                "Annex A: methodology",
                "Annex B: data quality",
                "Annex C: run manifest",
            ],
        ),
    ],
)
def test_section_headings_in_order(reports: dict[str, str], lang: str, headings: list[str]) -> None:
    found = _parse(reports[lang]).headings
    positions = [found.index(h) for h in headings]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("lang", "generated"),
    [("es", "15 de abril de 2026"), ("pt", "15 de abril de 2026"), ("en", "April 15, 2026")],
)
def test_cover(reports: dict[str, str], lang: str, generated: str) -> None:
    html = reports[lang]
    assert generated in html
    assert "RESERVADO / RESTRICTED" in html
    assert "ideal-test" in html and SHA_METHOD[:12] in html and "ideal 0.1.0" in html


def test_classification_is_escaped_everywhere(warehouse: Path, tmp_path: Path) -> None:
    marking = 'SECRET</style><script>x"</script>'
    html = render_report(
        warehouse, CYCLE, "en", tmp_path, classification=marking, generated_on=GENERATED
    ).read_text("utf-8")
    assert "<script" not in html
    assert "SECRET&lt;/style&gt;" in html
    # In CSS the marking is a hex-escaped string: nothing can close the <style> block.
    assert css_string(marking) in html
    assert html.count("</style>") == 1


@pytest.mark.parametrize("text", ["RESERVADO / RESTRICTED", 'a"b\\c</style>', "Ñandú · ü"])
def test_css_string_round_trips(text: str) -> None:
    quoted = css_string(text)
    assert re.fullmatch(r'"[A-Za-z0-9 \\]*"', quoted)  # nothing that can end <style>
    # Decode as CSS does: a hex escape, then one optional whitespace that it swallows.
    decoded = re.sub(
        r"\\([0-9a-fA-F]{1,6})[ \t\n]?", lambda m: chr(int(m.group(1), 16)), quoted[1:-1]
    )
    assert decoded == text


def test_errors_are_clear(tmp_path: Path) -> None:
    wh = build_warehouse(tmp_path / "w.duckdb", with_scores=False)
    with pytest.raises(ValueError, match=r"ideal run --cycle 2025"):
        render_report(wh, CYCLE, "es", tmp_path)
    with pytest.raises(ValueError, match="no cycle '1999'"):
        render_report(wh, "1999", "es", tmp_path)
    with pytest.raises(ValueError, match="Unsupported language"):
        render_report(wh, CYCLE, "fr", tmp_path)
    with pytest.raises(ValueError, match="file name"):
        report_filename("../../etc", "es")


def test_template_autoescapes() -> None:
    env = _environment("es")
    assert env.autoescape is not False
    assert callable(env.autoescape) and env.autoescape("report.html.j2")


# --------------------------------------------------------------------------------------
# Translations and formatting
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "pt"])
def test_catalog_complete_and_clean(lang: str) -> None:
    assert catalog_problems(lang) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_every_message_is_translated(lang: str) -> None:
    catalog = load_catalog(lang)  # type: ignore[arg-type]
    missing = []
    for message in extract_messages():
        if not message.id:
            continue
        found = catalog.get(message.id)
        strings = (
            (found.string if isinstance(found.string, tuple) else (found.string,)) if found else ()
        )
        if not strings or not all(strings):
            missing.append(message.id)
    assert missing == []


def test_pot_is_up_to_date() -> None:
    with POT_PATH.open("rb") as fh:
        from babel.messages.pofile import read_po

        pot = {m.id for m in read_po(fh) if m.id}
    extracted = {m.id for m in extract_messages() if m.id}
    assert pot == extracted, "re-run write_pot() (see ideal/report/i18n.py)"


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_plural_forms_match_cldr(lang: str) -> None:
    catalog = load_catalog(lang)  # type: ignore[arg-type]
    assert catalog.num_plurals == 3 == get_plural(BABEL_LOCALES[lang]).num_plurals  # type: ignore[index]
    assert catalog.plural_expr == get_plural(BABEL_LOCALES[lang]).plural_expr  # type: ignore[index]


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("es", 1, "1 archivo recibido"),
        ("es", 2, "2 archivos recibidos"),
        ("es", 0, "0 archivos recibidos"),
        ("es", 1_000_000, "1000000 archivos recibidos"),  # the CLDR "many" form
        ("pt", 0, "0 arquivo recebido"),  # pt: 0 and 1 are singular
        ("pt", 1, "1 arquivo recebido"),
        ("pt", 5, "5 arquivos recebidos"),
        ("pt", 1_000_000, "1000000 arquivos recebidos"),
        ("en", 1, "1 file received"),
        ("en", 3, "3 files received"),
    ],
)
def test_plurals(lang: str, n: int, expected: str) -> None:
    t = translations(lang)  # type: ignore[arg-type]
    text = t.ngettext("%(num)d file received", "%(num)d files received", n) % {"num": n}
    assert text == expected


def test_target_languages_compile_to_gnu_translations() -> None:
    assert isinstance(translations("es"), gettext.GNUTranslations)
    assert translations("pt").gettext("Rank") == "Posição"


def test_two_plural_forms_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ideal.report.i18n as i18n

    po = tmp_path / "es" / "LC_MESSAGES" / "ideal.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
        '"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "%(num)d file"\nmsgid_plural "%(num)d files"\n'
        'msgstr[0] "%(num)d archivo"\nmsgstr[1] "%(num)d archivos"\n\n'
        'msgid "Rank"\nmsgstr ""\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    problems = i18n.catalog_problems("es")
    assert any("Plural-Forms" in p for p in problems)
    assert any("'Rank'" in p and "no translation" in p for p in problems)


@pytest.mark.parametrize(
    ("lang", "number", "percent", "signed"),
    [
        ("es", "1.234,5", "67\xa0%", "-1.234,5"),
        ("pt", "1.234,5", "67%", "-1.234,5"),
        ("en", "1,234.5", "67%", "-1,234.5"),
    ],
)
def test_formatter(lang: str, number: str, percent: str, signed: str) -> None:
    fmt = Formatter(lang)  # type: ignore[arg-type]
    assert fmt.number(1234.5) == number
    assert fmt.percent(2 / 3) == percent
    assert fmt.signed(-1234.5) == signed
    assert fmt.number(None) == "–" and fmt.number(float("nan")) == "–"
    assert fmt.integer(2025) in ("2.025", "2,025")


# --------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def svgs() -> Iterator[tuple[str, str]]:
    bars = charts.priority_bars(
        [charts.Bar("1. Trata de personas", 72.4, "72,4"), charts.Bar("2. Ciberdelito", 5, "5,0")],
        lang="es",
        chart_id="c-bars",
        label="Gráfico de <prioridades>",
        x_title="Puntuación",
    )
    heat = charts.heatmap(
        [
            charts.Cell("Perú", "Trata de personas", 80.0, "80,0"),
            charts.Cell("Perú", "Ciberdelito", None, "–"),
        ],
        rows=["Perú"],
        columns=["Trata de personas", "Ciberdelito"],
        lang="es",
        chart_id="c-heat",
        label="Mapa de calor",
        legend_title="Puntuación (0–100)",
    )
    yield bars, heat


def test_charts_are_inline_safe(svgs: tuple[str, str]) -> None:
    bars, heat = svgs
    for svg in (bars, heat):
        assert svg.startswith("<svg ")
        assert "http" not in svg and "<script" not in svg
    assert 'aria-label="Gráfico de &lt;prioridades&gt;"' in bars
    assert "72,4" in bars and "Trata de personas" in bars
    # Every id is prefixed by its chart, so two charts in one page never collide.
    ids = re.findall(r'\bid="([^"]+)"', heat)
    assert ids and all(i.startswith("c-heat") for i in ids)
    assert "80,0" in heat and "–" in heat


# --------------------------------------------------------------------------------------
# Uncertainty, sensitivity and drivers (filled here; the scoring fills them for real)
# --------------------------------------------------------------------------------------
NOTE = f"Mercado en expansión {SCRIPT} {IMG}"
SOURCE = f"Policía {IMG}"


def _fill_analysis(path: Path) -> None:
    with connect(path) as con:
        unc = [
            {
                "cycle_id": CYCLE,
                "category_code": code,
                "nominal_rank": rank,
                "mean_rank": float(rank),
                "median_rank": float(rank),
                "q05_rank": float(max(1, rank - 1)),
                "q95_rank": float(min(3, rank + 1)),
                "p_top3": {1: 0.9, 2: 0.755, 3: 0.4}[rank],
                "n_replicates": 1000,
                "seed": 424242,
                "methodology_sha256": SHA_METHOD,
            }
            for code, (rank, _score) in PRIORITIES.items()
        ]
        replace_where(
            con,
            "out_threat__priority_uncertainty",
            _frame("out_threat__priority_uncertainty", unc),
            "1=1",
            [],
        )
        sens = [
            {
                "cycle_id": CYCLE,
                "category_code": code,
                "uncertain_element": element,
                "mean_abs_rank_shift": shift,
                "n_replicates": 1000,
                "seed": 424242,
                "methodology_sha256": SHA_METHOD,
            }
            for code in PRIORITIES
            for element, shift in (("aggregation", 1.5), ("weights", 0.25))
        ]
        replace_where(
            con,
            "out_threat__priority_sensitivity",
            _frame("out_threat__priority_sensitivity", sens),
            "1=1",
            [],
        )
        drivers = [
            {
                "cycle_id": CYCLE,
                "category_code": "firearms",
                "driver_rank": 1,
                "indicator_code": "firearms_seized_count",
                "contribution_points": 2.5,
                "mean_relative_change": 0.23,
                "methodology_sha256": SHA_METHOD,
            }
        ]
        replace_where(
            con,
            "out_threat__priority_drivers",
            _frame("out_threat__priority_drivers", drivers),
            "1=1",
            [],
        )
        # An expert rating with an untrusted justification and source, as intake keeps it.
        con.execute(
            "INSERT INTO core_ref__indicators VALUES ('firearms_expert_score', 'firearms', "
            "'expert', 'score_1_10', 1, NULL, 1, 10, 'mean', 'Expert rating', "
            "'Valoración de expertos', 'Avaliação de especialistas')"
        )
        con.execute(
            "INSERT INTO core_threat__indicator_values VALUES ('2025', 'MEX', "
            "'firearms_expert_score', 8.5, 'score_1_10', 1, false, 'B', 2, 'up', 's-mex', [5])"
        )
        con.execute(
            "INSERT INTO raw_intake__indicator_rows VALUES ('s-mex', 5, 'MEX', '2025', "
            "'firearms_expert_score', '8,5', 'score_1_10', ?, 'B', '2', 'sube', ?)",
            [SOURCE, NOTE],
        )


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = build_warehouse(tmp_path_factory.mktemp("full") / "warehouse.duckdb")
    _fill_analysis(path)
    out = tmp_path_factory.mktemp("full-reports")
    return {
        lang: render_report(path, CYCLE, lang, out, generated_on=GENERATED).read_text("utf-8")
        for lang in LANGS
    }


def test_rank_intervals_and_top3_chance(full: dict[str, str]) -> None:
    body = _parse(full["es"]).table("priorities")[1:]
    assert [r[3] for r in body] == ["1–2", "1–3", "2–3"]
    assert [r[4] for r in body] == ["90\xa0%", "76\xa0%", "40\xa0%"]
    assert 'id="chart-intervals" role="img"' in full["es"]
    en = _parse(full["en"]).table("priorities")[1:]
    assert en[1][4] == "76%"


def test_summary_rationale_in_words_and_numbers(full: dict[str, str]) -> None:
    html = full["es"]
    top = html.split('id="top-priorities"', 1)[1].split("</ol>", 1)[0]
    # Firearms: severity 77.4 (high), 2 of 3 countries, trend 70 (rising), confidence 82 %.
    assert "Gravedad alta donde se presenta (77,4 de 100)" in top
    assert "alcanza a 2 de 3 países miembros evaluados (67\xa0%)" in top
    assert "al alza desde 2024 (tendencia 70; 50 = estable)" in top
    assert "confianza alta (82\xa0%)" in top
    assert "puesto 1–2 en el 90 % de las simulaciones" in top
    en = full["en"].split('id="top-priorities"', 1)[1].split("</ol>", 1)[0]
    assert "High severity where it occurs (77.4 of 100)" in en
    assert "reaches 2 of 3 member countries assessed (67%)" in en


def test_sensitivity_and_manifest(full: dict[str, str]) -> None:
    parsed = _parse(full["en"])
    rows = parsed.table("sensitivity")[1:]
    assert rows[0][:2] == ["The aggregation method", "1.50"]
    assert "removing its uncertainty changes a category's rank by 1.5 places" in full["en"]
    assert "424242" in full["en"] and "1,000" in full["en"]


def test_not_computed_is_said(reports: dict[str, str]) -> None:
    html = reports["en"]
    assert "The uncertainty analysis (rank ranges" in html
    assert "Sensitivity analysis: not computed for this cycle." in html
    assert "Drivers of the change since 2024: not computed for this cycle." in html


def test_drivers_table(full: dict[str, str]) -> None:
    rows = _parse(full["es"]).table("drivers")
    assert rows[1][1] == "firearms_seized_count" and rows[1][2] == "+2,5"
    assert rows[1][3] == "+23\xa0%"


@pytest.mark.parametrize("lang", LANGS)
def test_expert_notes_and_sources_are_text(full: dict[str, str], lang: str) -> None:
    html = full[lang]
    assert "<script" not in html.lower() and IMG not in html and "onerror=alert" in html
    parsed = _parse(html)
    assert not parsed.tags & {"script", "img"}
    firearms = parsed.table("countries")  # the first category: firearms
    mex = next(r for r in firearms if r[1] in ("México", "Mexico"))
    assert mex[5] == ("8,5" if lang != "en" else "8.5")
    assert mex[6] == {"es": "sube", "pt": "sobe", "en": "up"}[lang]
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 2  # note and source


def test_map_and_its_table(full: dict[str, str]) -> None:
    html = full["en"]
    assert 'id="chart-map" role="img"' in html
    rows = _parse(html).table("maptable")[1:]
    by_country = {r[0]: r for r in rows}
    # Mexico's scores (91.7, 70.0, 44.4) reach 2 of the top 3 at the read-back threshold.
    assert set(by_country) == {"Argentina", "Brazil", "Colombia", "Mexico", "Peru"}
    assert by_country["Argentina"][1] == "–" and by_country["Argentina"][3] == "no score"
    assert by_country["Mexico"][3] == "Firearms and ammunition trafficking (91.7)"
    assert [r[0] for r in rows][-2:] == ["Argentina", "Colombia"]  # no score: last


def test_category_sections_and_profiles(full: dict[str, str]) -> None:
    html = full["en"]
    for code in PRIORITIES:
        assert f'id="cat-{code}"' in html
    for iso in ("ARG", "BRA", "COL", "MEX", "PER"):
        assert f'id="country-{iso}"' in html
    parsed = _parse(html)
    profile = parsed.table("profile")  # Brazil: first country with scores
    assert profile[0][:4] == ["Threat category", "Score", "Regional median", "Against the median"]
    fire = profile[1]
    assert fire[0] == "Firearms and ammunition trafficking" and fire[1] == "80.2"
    assert fire[2] == "80.2"  # median of 80.25, 91.7, 30.1
    assert fire[4] == "2 of 3"
    cocaine = profile[2]  # Brazil 55.5 against Mexico 70.0 and Peru 88.8
    assert cocaine[0] == "Cocaine trafficking" and cocaine[4] == "3 of 3"
    assert cocaine[3] == "▼ -14.5"
    quality = parsed.table("quality")[1:]
    assert {r[0] for r in quality} == {"2024", "2025"}
    arg = next(r for r in quality if r[0] == "2025" and r[1] == "Argentina")
    assert arg[2].endswith("Rejected") and arg[4:6] == ["0", "1"] and arg[8] == "30"


def test_classification_from_environment(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEAL_CLASSIFICATION", "SECRETO / SECRET")
    html = render_report(warehouse, CYCLE, "es", tmp_path, generated_on=GENERATED).read_text(
        "utf-8"
    )
    assert "SECRETO / SECRET" in html and "RESERVADO" not in html
    assert css_string("SECRETO / SECRET") in html  # the @page header and footer


def test_annex_reads_every_number_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import shutil

    import ideal.report.render as render
    from ideal.config import METHODOLOGY_DIR

    folder = tmp_path / "methodology"
    folder.mkdir()
    text = (METHODOLOGY_DIR / "clasi-1.0.yaml").read_text("utf-8")
    # Other weights and threshold than the shipped file: the annex must follow the file.
    text = text.replace("severity: 0.45", "severity: 0.55").replace("spread: 0.35", "spread: 0.25")
    text = text.replace("spread_threshold: 50", "spread_threshold: 62.5")
    (folder / "clasi-test.yaml").write_text(text, "utf-8")
    shutil.copy(METHODOLOGY_DIR / "clasi-1.0.yaml", folder / "clasi-1.0.yaml")
    monkeypatch.setattr(render, "METHODOLOGY_DIR", folder)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    wh = build_warehouse(tmp_path / "w.duckdb", methodology_sha256=sha)
    html = render_report(wh, CYCLE, "en", tmp_path, generated_on=GENERATED).read_text("utf-8")
    params = dict((r[0], r[1]) for r in _parse(html).table("params")[1:])
    assert params["priority.weights.severity"] == "0.55"
    assert params["priority.spread_threshold"] == "62.5"
    assert "0.55 × severity + 0.25 × spread × 100 + 0.2 × trend" in html
    assert "its category score is 62.5 or more" in html


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("es", 1, "sube 1 puesto"),
        ("es", 3, "sube 3 puestos"),
        ("pt", 1, "sobe 1 posição"),
        ("pt", 2, "sobe 2 posições"),
        ("en", 2, "up 2 places"),
    ],
)
def test_move_plurals(lang: str, n: int, expected: str) -> None:
    t = translations(lang)  # type: ignore[arg-type]
    assert t.ngettext("up %(num)d place", "up %(num)d places", n) % {"num": n} == expected


def test_what_moved(tmp_path: Path) -> None:
    wh = build_warehouse(tmp_path / "w.duckdb")
    with connect(wh) as con:
        # Last cycle: human trafficking first, firearms third.
        prev = con.execute(
            "SELECT * FROM out_threat__regional_priorities WHERE cycle_id = '2025'"
        ).df()
        prev["cycle_id"] = "2024"
        prev["priority_rank"] = prev["category_code"].map(
            {"human_trafficking": 1, "cocaine": 2, "firearms": 3}
        )
        replace_where(con, "out_threat__regional_priorities", prev, "cycle_id = '2024'", [])
    html = render_report(wh, CYCLE, "en", tmp_path, generated_on=GENERATED).read_text("utf-8")
    rows = _parse(html).table("moves")[1:]
    assert rows[0][:4] == ["Firearms and ammunition trafficking", "3", "1", "▲ up 2 places"]
    assert rows[1][:4] == ["Trafficking in human beings", "1", "3", "▼ down 2 places"]
    assert "Largest rise: Firearms and ammunition trafficking, +3.0 points" in html


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------
def _cli() -> object:
    import typer

    from ideal.cli_report import report

    app = typer.Typer()
    app.command()(report)

    @app.command()
    def _unused() -> None:  # a second command keeps `report` a named sub-command
        pass

    return app


def test_cli_renders_and_fails_clearly(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil as _shutil

    from typer.testing import CliRunner

    import ideal.report.pdf as pdf

    home = tmp_path / "home"
    home.mkdir()
    _shutil.copy(warehouse, home / "warehouse.duckdb")
    runner = CliRunner()
    app = _cli()
    args = ["report", "--cycle", CYCLE, "--home", str(home), "--reports", str(tmp_path / "r")]
    done = runner.invoke(app, [*args, "--lang", "pt"])  # type: ignore[arg-type]
    assert done.exit_code == 0, done.output
    assert (tmp_path / "r" / CYCLE / "ideal-2025-pt.html").is_file()

    bad = runner.invoke(app, [*args[:2], "1999", *args[3:], "--lang", "es"])  # type: ignore[arg-type]
    assert bad.exit_code == 2 and "no cycle '1999'" in bad.output

    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    nopdf = runner.invoke(app, [*args, "--lang", "es", "--pdf"])  # type: ignore[arg-type]
    assert nopdf.exit_code == 2
    assert "--pdf needs Chromium" in nopdf.output and "Traceback" not in nopdf.output
    assert not (tmp_path / "r" / CYCLE / "ideal-2025-es.html").exists()


def test_map_asset_covers_every_member() -> None:
    from ideal.reference import load_countries
    from ideal.report.mapdata import load_shapes

    shapes = load_shapes()
    members = {str(f["id"]) for f in shapes if f["properties"]["member"]}
    assert members == set(load_countries()["iso_numeric"])  # the 33 states, by ISO numeric
    for f in shapes:
        lon, lat = f["properties"]["label_lon"], f["properties"]["label_lat"]
        assert -120 < lon < -30 and -60 < lat < 35, f["id"]
    small = {str(f["id"]) for f in shapes if f["properties"]["small"]}
    assert {"052", "308", "662"} <= small  # Barbados, Grenada, Saint Lucia: drawn as dots


def test_event_registers_are_reconciled_in_the_quality_annex(tmp_path: Path) -> None:
    # MEX reports 1,000 firearms seized and sends a register that adds up to 850: beyond
    # the tolerance of schemas/aggregation_rules.yaml (5 %), so the annex flags it.
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    _fill_analysis(path)
    with connect(path) as con:
        con.execute(
            "INSERT INTO core_ref__indicators VALUES ('firearms_seized_count', 'firearms', "
            "'quantitative', 'count', 1, NULL, 0, 100000, 'sum', 'Firearms seized', "
            "'Armas de fuego incautadas', 'Armas de fogo apreendidas')"
        )
        con.execute(
            "INSERT INTO core_threat__indicator_values VALUES ('2025', 'MEX', "
            "'firearms_seized_count', 1000, 'count', 1, false, 'B', 2, NULL, 's-mex', [6])"
        )
        events = _submission("s-mex-ev", "MEX", "mex_eventos_2025.csv", "accepted", n_rows=2)
        replace_where(
            con,
            "raw_intake__submissions",
            _frame("raw_intake__submissions", [{**events, "submission_kind": "events"}]),
            "submission_sha256 = ?",
            ["s-mex-ev"],
        )
        con.executemany(
            "INSERT INTO core_threat__events VALUES ('2025', 'MEX', ?, 'Sinaloa', 'seizure', "
            "'firearms', ?, 'count', false, 'B', 2, 's-mex-ev', ?)",
            [[date(2025, 3, 1), 500.0, 2], [date(2025, 6, 1), 350.0, 3]],
        )
    html = {
        lang: render_report(path, CYCLE, lang, tmp_path / "out", generated_on=GENERATED).read_text(
            "utf-8"
        )
        for lang in ("es", "en")
    }
    es = _parse(html["es"]).table("reconciliation")
    assert es[0][:3] == ["País", "Indicador", "Informado"]
    assert es[1:] == [
        [
            "México",
            "Armas de fuego incautadas (número)",
            "1.000",
            "850",
            "2",
            "-150 (-15\xa0%)",
            "fuera de la tolerancia (±50)",
        ]
    ]
    en = _parse(html["en"]).table("reconciliation")
    assert en[1][2:] == ["1,000", "850", "2", "-150 (-15%)", "beyond the tolerance (±50)"]
    assert "Event registers against the values reported" in html["en"]
