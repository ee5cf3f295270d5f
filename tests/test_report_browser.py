"""The committee's report opened in a real browser (Debian's Chromium, driven by Playwright).

One workspace is built end to end for the module: two cycles of national CSV files go
through the real intake (``ingest_paths``) and scoring, one file carrying a script and an
``onerror`` image in its notes and sources; the uncertainty tables are filled directly (their
engine is tested elsewhere). The three reports are then opened in headless Chromium with
every request routed: anything that is not ``file://`` or ``data:`` fails the test.

``page.on("request")`` and routing see the page's own traffic only, not the browser's
background services; those are shut by the launch flags, and ``tests/test_offline.py``
covers running without a network at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ideal.catalogue import LANGS
from ideal.report.i18n import Formatter, translations

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "Chromium is not installed (`apt-get install chromium`; .ci/run installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a dev dependency: pip install -e '.[dev]'"
)

from ideal.report.pdf import CHROMIUM_ARGS  # noqa: E402  (after the skips, on purpose)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
COUNTRIES = ("ARG", "BRA", "COL", "MEX", "PER")
SECTIONS = (
    "cover",
    "summary",
    "map",
    "priorities",
    "matrix",
    "categories",
    "countries",
    "annex-method",
    "annex-quality",
    "annex-manifest",
)
HEADINGS = (
    "Executive summary",
    "Where the highest priorities reach",
    "Regional priorities, ranked",
    "Threat scores by country and category",
    "Threat categories in detail",
    "Country profiles",
    "Annex A: methodology",
    "Annex B: data quality",
    "Annex C: run manifest",
)


def _write_submission(path: Path, iso: str, year: int, factor: float, hostile: bool) -> None:
    from ideal.catalogue import load_catalogue

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "country",
                "period",
                "indicator",
                "value",
                "unit",
                "source",
                "reliability",
                "credibility",
                "trend",
                "notes",
            ]
        )
        for n, ind in enumerate(load_catalogue().indicators):
            low, high = ind.plausible
            if ind.kind == "expert":
                value = min(10.0, round(1 + 7 * factor * ((n % 5) + 1) / 5, 1))
                trend = ("up", "stable", "down")[n % 3]
                notes = f"Panel nacional {IMG} {SCRIPT}" if hostile else "Panel nacional"
            else:
                value = round(low + (high - low) * 0.02 * factor * ((n % 7) + 1), 1)
                trend, notes = "", ""
            source = f"Ministerio {SCRIPT}" if hostile else "Ministerio del Interior"
            w.writerow([iso, year, ind.code, value, ind.unit, source, "B", 2, trend, notes])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A two-cycle workspace through intake and scoring, and its three reports."""
    from ideal.assessment import ensure_cycle, ingest_paths, render_reports, score
    from ideal.config import workspace
    from ideal.cycles import Cycle

    root = tmp_path_factory.mktemp("browser")
    ws = workspace(root / "home", root / "reports").ensure()
    files = root / "files"
    files.mkdir()
    for k, (cycle_id, year) in enumerate((("2024", 2024), ("2025", 2025))):
        ensure_cycle(ws, Cycle(cycle_id, year, dt.date(year + 1, 3, 31), COUNTRIES))
        paths = []
        for n, iso in enumerate(COUNTRIES[:4]):  # PER never submits: a gap on the map
            path = files / f"{iso}_{year}.csv"
            _write_submission(path, iso, year, 0.5 + 0.2 * n + 0.1 * k, hostile=iso == "MEX")
            paths.append(path)
        if cycle_id == "2025":  # a file name carrying the same attack
            hostile = files / f"{IMG}.csv"
            _write_submission(hostile, "COL", year, 0.9, hostile=True)
            hostile.write_text(hostile.read_text("utf-8").replace("COL,", "XXX,"), "utf-8")
            paths.append(hostile)
        outcomes = ingest_paths(ws, cycle_id, paths)
        assert sum(o.summary()["status"].startswith("accepted") for o in outcomes) == 4
        score(ws, cycle_id)
    _fill_uncertainty(ws.warehouse_path, "2025")
    reports = {p.name.rsplit("-", 1)[1][:2]: p for p in render_reports(ws, "2025")}
    return {"ws": ws, "reports": reports, "root": root}


def _fill_uncertainty(path: Path, cycle_id: str) -> None:
    import pandas as pd

    from ideal.warehouse import TABLE_BY_NAME, connect, replace_where

    with connect(path) as con:
        prio = con.execute(
            "SELECT category_code, priority_rank, methodology_sha256 FROM "
            "out_threat__regional_priorities WHERE cycle_id = ?",
            [cycle_id],
        ).fetchall()
        rows = [
            {
                "cycle_id": cycle_id,
                "category_code": code,
                "nominal_rank": rank,
                "mean_rank": float(rank),
                "median_rank": float(rank),
                "q05_rank": float(max(1, rank - 1)),
                "q95_rank": float(rank + 2),
                "p_top3": 1.0 if rank < 3 else 0.1,
                "n_replicates": 500,
                "seed": 7,
                "methodology_sha256": sha,
            }
            for code, rank, sha in prio
        ]
        table = "out_threat__priority_uncertainty"
        frame = pd.DataFrame(rows, columns=list(TABLE_BY_NAME[table].columns))
        replace_where(con, table, frame, "cycle_id = ?", [cycle_id])


@pytest.fixture(scope="module")
def browser(built: dict[str, Any]) -> Iterator[Any]:
    # Re-render after the uncertainty rows exist (render_reports ran before them).
    from ideal.report.render import render_report

    ws = built["ws"]
    for lang in LANGS:
        built["reports"][lang] = render_report(
            ws.warehouse_path, "2025", lang, ws.reports_for("2025")
        )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


class Opened:
    """A report loaded in a fresh page, with everything the page tried to do recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1240, "height": 1754})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")

    def _console(self, msg: Any) -> None:
        if msg.type in ("error", "warning"):
            self.errors.append(f"{msg.type}: {msg.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture(scope="module")
def pages(browser: Any, built: dict[str, Any]) -> Iterator[dict[str, Opened]]:
    opened = {lang: Opened(browser, built["reports"][lang]) for lang in LANGS}
    yield opened
    for o in opened.values():
        o.page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_loads_clean_and_offline(
    pages: dict[str, Opened], lang: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    o = pages[lang]
    assert o.errors == []
    assert o.blocked == [], f"the report tried to reach {o.blocked}"
    assert o.page.evaluate("document.documentElement.lang") == lang
    # Every image, stylesheet or font the page would need is inline: none is pending.
    assert o.page.evaluate("performance.getEntriesByType('resource').length") == 0
    shots = tmp_path_factory.mktemp("screenshots")
    o.page.screenshot(path=str(shots / f"first-page-{lang}.png"))
    assert (shots / f"first-page-{lang}.png").stat().st_size > 10_000


@pytest.mark.parametrize("lang", LANGS)
def test_every_section_in_its_language(pages: dict[str, Opened], lang: str) -> None:
    page = pages[lang].page
    _ = translations(lang).gettext
    for section in SECTIONS:
        assert page.locator(f"section#{section}").count() == 1, section
    headings = page.locator("h2").all_inner_texts()
    for english in HEADINGS:
        wanted = _(english)
        assert any(h.endswith(wanted) for h in headings), (wanted, headings)
    # One part per category and one profile per country, all rendered.
    n_categories = page.locator("#priorities-table tbody tr").count()
    assert page.locator("article.category").count() == n_categories >= 10
    assert page.locator("article.country").count() == len(COUNTRIES)
    for chart in ("chart-priorities", "chart-intervals", "chart-map", "chart-matrix"):
        assert page.locator(f"svg#{chart}[role=img]").count() == 1, chart
    assert page.locator("svg[id^=chart-trend-]").count() == n_categories


@pytest.mark.parametrize("lang", LANGS)
def test_ranked_table_matches_the_warehouse(
    pages: dict[str, Opened], built: dict[str, Any], lang: str
) -> None:
    from ideal.warehouse import connect

    with connect(built["ws"].warehouse_path, read_only=True) as con:
        expected = con.execute(
            f"SELECT p.priority_rank, c.name_{lang}, p.priority_0_100, u.q05_rank, u.q95_rank, "
            "u.p_top3, p.coverage_ratio FROM out_threat__regional_priorities p "
            "JOIN core_ref__categories c USING (category_code) "
            "LEFT JOIN out_threat__priority_uncertainty u USING (cycle_id, category_code) "
            "WHERE p.cycle_id = '2025' ORDER BY p.priority_rank, p.category_code"
        ).fetchall()
    rows = pages[lang].page.evaluate(
        "Array.from(document.querySelectorAll('#priorities-table tbody tr')).map("
        "tr => Array.from(tr.children).map(c => c.innerText.trim()))"
    )
    fmt = Formatter(lang)
    assert len(rows) == len(expected)
    for row, (rank, name, score, q05, q95, p3, coverage) in zip(rows, expected, strict=True):
        low, high = fmt.number(q05, 0), fmt.number(q95, 0)
        assert row[:5] == [
            str(rank),
            name,
            fmt.number(score),
            low if low == high else f"{low}–{high}",
            fmt.percent(p3),
        ]
        assert row[7] == fmt.percent(coverage)
        assert re.match(r"^[▲▶▼] \S", row[5]) or row[5] == translations(lang).gettext(
            "no trend data"
        )


@pytest.mark.parametrize("lang", LANGS)
def test_injection_stays_inert(pages: dict[str, Opened], lang: str) -> None:
    o = pages[lang]
    assert o.dialogs == []
    assert o.page.evaluate("document.querySelectorAll('script').length") == 0
    assert o.page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    # Every event handler attribute anywhere in the document: none.
    handlers = o.page.evaluate(
        "Array.from(document.querySelectorAll('*')).flatMap(e => "
        "Array.from(e.attributes).filter(a => a.name.startsWith('on')).map(a => a.name))"
    )
    assert handlers == []
    text = o.page.inner_text("body")
    assert SCRIPT in text and IMG in text  # shown as text: the notes, sources, file name


def test_print_to_pdf(built: dict[str, Any], tmp_path: Path) -> None:
    from ideal.report.pdf import print_pdf

    path = built["reports"]["es"]
    pdf = print_pdf(path, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    n_categories = 11
    # Cover + six sections + one page per category + three annexes at least; a layout
    # that spills every table over several pages would more than double that.
    floor = 1 + 6 + n_categories + 3
    assert floor <= pages <= 3 * floor, pages


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="unshare -n is not permitted here")
def test_prints_with_no_network_at_all(built: dict[str, Any], tmp_path: Path) -> None:
    # Routing sees the page's requests only; in an empty network namespace nothing at
    # all can leave, and the report must still print whole (fonts, charts, map inline).
    out = tmp_path / "offline.pdf"
    code = (
        "import sys; from pathlib import Path; from ideal.report.pdf import print_pdf; "
        "print_pdf(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", code, str(built["reports"]["en"]), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(re.findall(rb"/Type\s*/Page\b", out.read_bytes())) >= 20
