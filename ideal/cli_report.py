"""``ideal report``: write the committee's report of a scored cycle from the warehouse.

The lead registers :func:`report` in ``ideal/cli.py`` (``app.command("report")(report)``).
It renders one language (``--lang``) or all three, and with ``--pdf`` also prints each
report with headless Chromium. Mistakes a user can make (an unknown cycle, a cycle not
scored yet, no Chromium for ``--pdf``) end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ideal.cli_common import HomeOpt, ReportsOpt, err_console

logger = logging.getLogger(__name__)

_out = Console()


def _fail(message: str) -> typer.Exit:
    # One line, no traceback: the message says what to do.
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def report(
    cycle: Annotated[str, typer.Option("--cycle", help="Cycle id, e.g. 2025.")],
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language: es, pt or en (default: all three)."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print each report to PDF with headless Chromium.")
    ] = False,
    home: HomeOpt = None,
    reports: ReportsOpt = None,
    classification: Annotated[
        str | None,
        typer.Option(
            "--classification",
            help="Marking printed on every page "
            "(default: $IDEAL_CLASSIFICATION or RESERVADO / RESTRICTED).",
        ),
    ] = None,
) -> None:
    """Write the committee's report of a scored cycle (HTML; PDF with --pdf)."""
    from ideal.catalogue import LANGS
    from ideal.config import workspace
    from ideal.report.i18n import check_lang
    from ideal.report.pdf import find_chromium, print_pdf
    from ideal.warehouse import WarehouseError

    ws = workspace(home, reports)
    try:
        langs = [check_lang(lang)] if lang is not None else list(LANGS)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if pdf and find_chromium() is None:
        # Said before any work, so nobody waits for HTML they did not ask for alone.
        raise _fail(
            "--pdf needs Chromium, and `chromium` is not on PATH. Install it "
            "(Debian/Ubuntu: `apt-get install chromium`) or run without --pdf."
        )
    from ideal.report.render import render_report

    written: list[Path] = []
    try:
        for code in langs:
            path = render_report(
                ws.warehouse_path, cycle, code, ws.reports_for(cycle), classification=classification
            )
            written.append(path)
            if pdf:
                written.append(print_pdf(path))
    except WarehouseError as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:  # unknown cycle (CycleError), not scored, bad cycle id
        raise _fail(str(exc)) from None
    except RuntimeError as exc:  # Chromium failed to print
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.strerror or exc}: {exc.filename or ''}") from None
    for path in written:
        _out.print(str(path), highlight=False, soft_wrap=True)
