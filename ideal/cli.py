"""The ``ideal`` command line: one entry point for analysts and data stewards.

Commands print tables with rich and never show a stack trace for a mistake a user can
make: those end with a one-line message saying what to do and a non-zero exit code.
Flows are imported only inside the commands that run them, after the offline settings
for Prefect are in place.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ideal import cli_warehouse as wh
from ideal.cli_common import HomeOpt, ReportsOpt, err_console, exits_cleanly
from ideal.cli_index import index_app
from ideal.cli_report import report
from ideal.config import DEMO_DIR, Workspace, workspace
from ideal.cycles import Cycle, CycleError
from ideal.messages import label
from ideal.runtime import configure_environment
from ideal.template import TemplateError
from ideal.warehouse import WarehouseError

if TYPE_CHECKING:
    from ideal.steward import StewardReport

app = typer.Typer(
    help="ideal: regional threat assessment of transnational organised crime (CLASI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cycle_app = typer.Typer(
    help="Open assessment cycles and follow their submissions.", no_args_is_help=True
)
app.add_typer(cycle_app, name="cycle")
app.add_typer(index_app, name="index")
app.command("report")(report)
cycle_app.command("close")(wh.cycle_close)
cycle_app.command("publish")(wh.cycle_publish)
cycle_app.command("revise")(wh.cycle_revise)
cycle_app.command("status")(wh.cycle_status)
app.command("explain")(wh.explain)
app.command("export")(wh.export)
app.command("backup")(wh.backup)
app.command("restore")(wh.restore)

console = Console()
logger = logging.getLogger(__name__)


VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show progress logs.")]


user_errors = exits_cleanly(
    CycleError, TemplateError, WarehouseError, FileNotFoundError, PermissionError
)


def _setup(home: Path | None, reports: Path | None, verbose: bool) -> Workspace:
    ws = workspace(home, reports).ensure()
    configure_environment(ws, quiet=not verbose)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # GX sets its own logger to INFO; a quiet run stays quiet
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return ws


# -- running cycles -----------------------------------------------------------------------
@app.command()
@user_errors
def demo(
    home: HomeOpt = None,
    reports: ReportsOpt = None,
    verbose: VerboseOpt = False,
    lang: Annotated[str, typer.Option(help="Language of the summary: es, pt or en.")] = "en",
) -> None:
    """Run a full assessment cycle on the bundled demo data and show the result.

    The demo holds two cycles: the earlier one is loaded and scored directly, as the
    baseline for trends; the latest runs through the Prefect flow `assessment_cycle`.
    """
    ws = _setup(home, reports, verbose)
    from ideal.assessment import ensure_cycle, run_cycle
    from ideal.cycles import load_cycles_file
    from ideal.intake import copy_into_inbox

    cycles = load_cycles_file(DEMO_DIR / "cycles.yaml")
    console.print(f"[bold]ideal demo[/] — workspace {ws.home}")
    result: dict[str, Any] = {}
    for n, cycle in enumerate(cycles):
        ensure_cycle(ws, cycle)
        files = sorted(p for p in (DEMO_DIR / cycle.cycle_id).iterdir() if p.is_file())
        copy_into_inbox(ws, cycle.cycle_id, files)
        if n < len(cycles) - 1:
            with console.status(f"Baseline cycle {cycle.cycle_id}: loading and scoring…"):
                done = run_cycle(ws, cycle.cycle_id, langs=())
            console.print(
                f"\n[bold]Baseline cycle {cycle.cycle_id}[/]: {len(done.outcomes)} files "
                "loaded and scored (the previous cycle that trends compare with)."
            )
            continue
        console.print(f"\n[bold]Cycle {cycle.cycle_id}[/]: {len(files)} files in the inbox")
        result = _run_flow(ws, cycle.cycle_id)
        _print_intake(result["intake"])
    _print_outcome(ws, cycles[-1].cycle_id, result, lang)


@app.command()
@user_errors
def run(
    cycle: Annotated[str, typer.Option("--cycle", help="Cycle id, e.g. 2025.")],
    home: HomeOpt = None,
    reports: ReportsOpt = None,
    verbose: VerboseOpt = False,
    lang: Annotated[str, typer.Option(help="Language of the summary.")] = "en",
) -> None:
    """Run the assessment_cycle flow for one cycle (Prefect, embedded)."""
    ws = _setup(home, reports, verbose)
    from ideal.cycles import get_cycle
    from ideal.warehouse import connect

    with connect(ws.warehouse_path) as con:
        get_cycle(con, cycle)  # a clear error before Prefect starts
    result = _run_flow(ws, cycle)
    _print_intake(result["intake"])
    _print_outcome(ws, cycle, result, lang)


def _run_flow(ws: Workspace, cycle_id: str) -> dict[str, Any]:
    from ideal.runtime import loopback_available

    if not loopback_available():
        # Without a loopback interface Prefect's embedded API cannot start; the same
        # steps still run, in the same order, without the orchestrator.
        err_console.print(
            "[yellow]note:[/] the loopback interface (127.0.0.1) is down, so Prefect's "
            "embedded API cannot start; running the cycle's steps without Prefect. "
            "(In a network namespace, `ip link set lo up` enables it.)"
        )
        from ideal.assessment import run_cycle

        with console.status(f"Running cycle {cycle_id} (without Prefect)…"):
            done = run_cycle(ws, cycle_id)
        return {
            "cycle_id": cycle_id,
            "intake": [o.summary() for o in done.outcomes],
            "reports": [str(p) for p in done.reports],
        }

    from pipelines.cycle import assessment_cycle

    with console.status(f"Running assessment_cycle for {cycle_id} (Prefect, embedded)…"):
        out: dict[str, Any] = assessment_cycle(
            cycle_id, home=str(ws.home), reports=str(ws.reports_root)
        )
    return out


_STATUS_LABELS = {
    "accepted": "[green]✔ accepted[/]",
    "accepted_with_warnings": "[yellow]⚠ warnings[/]",
    "rejected": "[red]✖ rejected[/]",
    "unreadable": "[red]✖ unreadable[/]",
}


def _print_intake(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No new files in the inbox.")
        return
    table = Table(title="Submissions", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("file", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("country", min_width=7)
    table.add_column("status", no_wrap=True)
    for col in ("rows", "errors", "warnings"):
        table.add_column(col, justify="right", min_width=len(col))
    for r in rows:
        status = _STATUS_LABELS.get(r["status"], r["status"])
        if not r["new"]:
            status += " (seen)"
        table.add_row(
            r["file"],
            r["country"],
            status,
            str(r["rows"]),
            str(r["errors"]),
            str(r["warnings"]),
        )
    console.print(table)


def _print_outcome(ws: Workspace, cycle_id: str, result: dict[str, Any], lang: str) -> None:
    from ideal.assessment import priorities_table

    frame = priorities_table(ws, cycle_id, lang)
    table = Table(
        title=f"Regional priorities — cycle {cycle_id}",
        title_justify="left",
        box=None,  # no separators: the eight columns fit an 80-column terminal
        header_style="bold underline",
        pad_edge=False,
    )
    table.add_column("#", justify="right", min_width=2, no_wrap=True)
    table.add_column("category", no_wrap=True, overflow="ellipsis", max_width=22)
    for col in ("priority", "severity", "spread", "trend", "conf.", "change"):
        table.add_column(col, justify="right", min_width=len(col), no_wrap=True)
    for r in frame.to_dict("records"):
        delta = float(r["change_0_100"])
        change = "–" if math.isnan(delta) else f"{delta:+.1f}"
        table.add_row(
            str(r["rank"]),
            str(r["category"]),
            f"{r['priority_0_100']:.1f}",
            f"{r['severity_0_100']:.1f}",
            f"{r['spread_ratio']:.0%}",
            f"{r['trend_0_100']:.0f}",
            f"{r['confidence_0_1']:.2f}",
            change,
        )
    console.print(table)
    console.print("\n[bold]Reports:[/]")
    for p in result["reports"]:
        console.print(f"  {p}")


# -- cycles -------------------------------------------------------------------------------
@cycle_app.command("open")
@user_errors
def cycle_open(
    cycle_id: Annotated[str, typer.Argument(help="Cycle id, e.g. 2025.")],
    year: Annotated[int, typer.Option(help="Reporting year assessed.")],
    deadline: Annotated[str, typer.Option(help="Submission deadline, YYYY-MM-DD.")],
    countries: Annotated[str, typer.Option(help="Expected countries, e.g. COL,BRA,MEX.")],
    home: HomeOpt = None,
) -> None:
    """Open an assessment cycle."""
    ws = _setup(home, None, False)
    from ideal.assessment import ensure_cycle

    try:
        due = dt.date.fromisoformat(deadline)
    except ValueError:
        raise CycleError(
            f"--deadline {deadline!r} is not a date; write it as 2026-03-31."
        ) from None
    codes = tuple(sorted(c.strip().upper() for c in countries.split(",") if c.strip()))
    opened = ensure_cycle(ws, Cycle(cycle_id, year, due, codes))
    console.print(
        f"Cycle {opened.cycle_id} is {opened.status}: year {opened.period_year}, "
        f"deadline {opened.deadline}, {len(opened.expected_countries)} countries."
    )


# -- intake -------------------------------------------------------------------------------
@app.command()
@user_errors
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to ingest.")],
    cycle: Annotated[str, typer.Option("--cycle", help="Cycle id.")],
    home: HomeOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Archive, validate and load files into the warehouse (no Prefect)."""
    ws = _setup(home, None, verbose)
    from ideal.assessment import ingest_paths

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"No such file: {', '.join(missing)}")
    outcomes = ingest_paths(ws, cycle, files)
    _print_intake(
        [
            {
                "file": o.file_name,
                "country": o.country_iso3 or "",
                "status": o.status,
                "rows": o.n_rows,
                "errors": o.n_errors,
                "warnings": o.n_warnings,
                "new": o.is_new,
            }
            for o in outcomes
        ]
    )
    if any(o.status in ("rejected", "unreadable") for o in outcomes):
        raise typer.Exit(1)


# -- for data stewards: the template and the local check ----------------------------------
@app.command()
@user_errors
def template(
    country: Annotated[
        str, typer.Option("--country", help="Country: ISO3 code (COL), ISO2 or name.")
    ],
    cycle: Annotated[str, typer.Option("--cycle", help="Cycle id, e.g. 2026 (its year).")],
    lang: Annotated[str, typer.Option(help="Language of the template: es, pt or en.")] = "es",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="xlsx, csv or json (default: from --out, else xlsx)."),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="indicators (one row per indicator) or events (one row per seizure, "
            "incident or identified victim).",
        ),
    ] = "indicators",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="File or folder to write (default: ./COL_ideal_2026_es.xlsx, "
            "./COL_ideal_events_2026_es.xlsx for events).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a submission template for one country and cycle (no warehouse needed)."""
    from ideal.template import check_format, make_spec, write_template

    spec = make_spec(country, cycle, lang, kind=kind)
    suffix = out.suffix.lstrip(".") if out is not None else ""
    fmt_ = check_format(fmt or suffix or "xlsx")
    if suffix and fmt and check_format(suffix) != fmt_:
        raise TemplateError(f"--out ends in .{suffix} but --format is {fmt_}; make them agree.")
    if out is not None and not suffix:
        out.mkdir(parents=True, exist_ok=True)  # a name without extension is a folder
    path = write_template(spec, fmt_, out, force=force)
    what = "event-record template" if spec.kind == "events" else "template"
    console.print(
        f"Wrote the {fmt_.upper()} {what} for {spec.country_iso3}, cycle {spec.cycle_id} "
        f"(year {spec.year}, {spec.lang}): {escape(str(path))}",
        soft_wrap=True,
    )
    console.print(
        f"When it is filled in, check it: ideal validate {escape(path.name)} "
        f"--cycle {spec.cycle_id} --lang {spec.lang}",
        soft_wrap=True,
    )


@app.command()
@user_errors
def validate(
    file: Annotated[Path, typer.Argument(help="The submission to check.")],
    cycle: Annotated[
        str | None,
        typer.Option(help="Cycle id (default: the template's cycle, else last year)."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the messages: es, pt or en.")] = "es",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as one HTML page.")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the issues as CSV for Excel.")
    ] = None,
) -> None:
    """Check a submission locally, offline. Exit 0 accepted, 1 rejected, 2 unreadable."""
    from ideal.catalogue import load_catalogue
    from ideal.intake import parse_and_validate, sha256_bytes
    from ideal.reference import default_resolver
    from ideal.steward import as_json as report_json
    from ideal.steward import build_report, issues_csv, render_html
    from ideal.template import check_lang, template_cycle

    lang_ = check_lang(lang)
    if not file.is_file():
        err_console.print(f"[bold red]error:[/] no such file: {escape(str(file))}", soft_wrap=True)
        raise typer.Exit(2)
    data = file.read_bytes()
    # A file made from `ideal template` carries its cycle; a plain file is checked
    # against last year's cycle, the one stewards report on in the first months.
    cycle_id = cycle or template_cycle(data) or str(dt.date.today().year - 1)
    year = int(cycle_id[:4]) if cycle_id[:4].isdigit() else dt.date.today().year - 1
    ctx_cycle = Cycle(cycle_id, year, dt.date(year + 1, 3, 31), ())
    raw, result = parse_and_validate(
        data, ctx_cycle, load_catalogue(), default_resolver(), path=file
    )
    report = build_report(
        str(file),
        file.name,
        sha256_bytes(data),
        result,
        kind=None if raw is None else raw.kind,
        cycle_id=cycle_id,
        lang=lang_,
    )
    outputs: list[tuple[Path, Callable[[], bytes]]] = []
    if html is not None:
        outputs.append((html, lambda: render_html(report).encode("utf-8")))
    if csv_out is not None:
        outputs.append((csv_out, lambda: issues_csv(report)))
    for target, content in outputs:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content())
        # stderr: under --json, stdout stays one JSON object
        err_console.print(label("report.wrote", lang_, path=escape(str(target))), soft_wrap=True)
    if as_json:
        sys.stdout.write(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(report)
    raise typer.Exit(
        {"accepted": 0, "accepted_with_warnings": 0, "rejected": 1}.get(report.status, 2)
    )


def _print_report(report: StewardReport) -> None:
    """The report in the terminal; every steward-supplied text is shown literally."""
    from ideal.steward import SEVERITY_SYMBOL, STATUS_SYMBOL

    lang = report.lang
    colour = {"accepted": "green", "accepted_with_warnings": "yellow"}.get(report.status, "red")
    word = label(f"report.status.{report.status}", lang)
    console.print(
        Text.assemble(
            (f"{STATUS_SYMBOL[report.status]} {word.upper()}", f"bold {colour}"),
            "  ",
            report.file_name,
        )
    )
    console.print(
        f"{label('report.rows', lang)}: {report.n_rows} · {label('report.errors', lang)}: "
        f"{report.n_errors} · {label('report.warnings', lang)}: {report.n_warnings} · "
        f"{label('report.cycle', lang)}: {escape(report.cycle_id)}"
    )
    if report.issues:
        table = Table(box=box.SIMPLE_HEAD)
        for key in ("severity", "row", "column", "value", "message", "hint"):
            table.add_column(label(f"report.th.{key}", lang), overflow="fold")
        for i in report.issues:
            table.add_row(
                Text(
                    f"{SEVERITY_SYMBOL[i.severity]} {label(f'report.severity.{i.severity}', lang)}"
                ),
                Text(str(i.row or "")),
                Text(i.column_label or ""),
                Text(i.value or ""),
                Text(i.message),
                Text(i.hint),
            )
        console.print(table)
    console.print(label(f"report.next.{report.status}", lang), markup=False)


@app.command("docs")
def write_docs(
    out: Annotated[Path, typer.Option(help="Where to write warehouse.md.")] = Path("docs"),
) -> None:
    """Regenerate docs/warehouse.md and the JSON Schemas from their single definitions."""
    from ideal.config import SCHEMAS_DIR
    from ideal.contract import write_json_schemas
    from ideal.warehouse import markdown_docs

    out.mkdir(parents=True, exist_ok=True)
    (out / "warehouse.md").write_text(markdown_docs(), encoding="utf-8")
    console.print(f"wrote {out / 'warehouse.md'}")
    for path in write_json_schemas(SCHEMAS_DIR):
        console.print(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
