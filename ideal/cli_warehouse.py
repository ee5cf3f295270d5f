"""Warehouse commands: cycle close/publish/revise/status, explain, export, backup, restore.

``ideal/cli.py`` registers them under their command names.

Mistakes a user can make (unknown cycle, unpublishable cycle, busy or read-only
warehouse, non-empty target folder) end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ideal.cli_common import HomeOpt, exits_cleanly
from ideal.config import Workspace, workspace
from ideal.warehouse import WarehouseError, connect

logger = logging.getLogger(__name__)

_out = Console()

CycleOpt = Annotated[str, typer.Option("--cycle", help="Cycle id, e.g. 2025.")]


# One line on stderr and exit code 2 for anything a user can cause; ValueError covers
# CycleError, ExportError and RulesError.
_user_errors = exits_cleanly(WarehouseError, ValueError)


def _ws(home: Path | None) -> Workspace:
    if not logging.getLogger().handlers:  # the lock's "waiting…" message must show
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    return workspace(home)


# -- cycles ---------------------------------------------------------------------------------
@_user_errors
def cycle_close(
    cycle_id: Annotated[str, typer.Argument(help="Cycle id.")], home: HomeOpt = None
) -> None:
    """Close a cycle: it takes no more submissions; score it, then publish it."""
    from ideal.cycles import close_cycle

    with connect(_ws(home).warehouse_path) as con:
        cycle = close_cycle(con, cycle_id)
    _out.print(f"Cycle {cycle.cycle_id} is {cycle.status}.")


@_user_errors
def cycle_publish(
    cycle_id: Annotated[str, typer.Argument(help="Cycle id.")],
    home: HomeOpt = None,
    methodology: Annotated[
        Path | None,
        typer.Option(help="Methodology file the cycle was scored with (default: the project's)."),
    ] = None,
) -> None:
    """Publish a scored cycle: its scores are frozen (kept as revision N)."""
    from ideal.manifest import publish_checked
    from ideal.scoring.methodology import load_methodology

    _, method_sha = load_methodology(methodology)
    with connect(_ws(home).warehouse_path) as con:
        cycle = publish_checked(con, cycle_id, method_sha)
    _out.print(f"Cycle {cycle.cycle_id} is published (revision {cycle.revision}).")


@_user_errors
def cycle_revise(
    cycle_id: Annotated[str, typer.Argument(help="Cycle id.")],
    reason: Annotated[str, typer.Option(help="Why the published scores are revised.")],
    home: HomeOpt = None,
    methodology: Annotated[Path | None, typer.Option(help="Methodology file.")] = None,
) -> None:
    """Score a published cycle again as a new revision (the published one is kept)."""
    from ideal.assessment import load_cycle, score

    ws = _ws(home)
    summary = score(ws, cycle_id, methodology, new_revision=True, reason=reason)
    cycle = load_cycle(ws, cycle_id)
    _out.print(
        f"Cycle {summary.cycle_id} scored as revision {cycle.revision} ({cycle.status}); "
        f"publish it with `ideal cycle publish {cycle_id}`."
    )


@_user_errors
def cycle_status(
    cycle_id: Annotated[str, typer.Argument(help="Cycle id.")], home: HomeOpt = None
) -> None:
    """Per expected country: submitted, accepted, rejected, missing, last received."""
    from ideal.cycles import cycle_status as status_of

    with connect(_ws(home).warehouse_path, read_only=True) as con:
        st = status_of(con, cycle_id)
    c = st.cycle
    published = ", ".join(map(str, st.published_revisions)) or "none"
    table = Table(
        title=f"Cycle {c.cycle_id} ({c.status}, revision {c.revision}; published: "
        f"{published}), year {c.period_year}, deadline {c.deadline}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for col in ("country", "state", "submitted", "accepted", "rejected", "in force", "last"):
        table.add_column(col)
    colour = {"accepted": "green", "rejected": "red", "missing": "red", "pending": "yellow"}
    for r in st.countries:
        table.add_row(
            r.country_iso3,
            f"[{colour[r.state]}]{r.state}[/]"
            + (f" [yellow]⚠ {r.n_mismatches}[/]" if r.n_mismatches else ""),
            str(r.n_submitted),
            str(r.n_accepted),
            str(r.n_rejected),
            ", ".join(r.kinds_current) or "–",
            f"{r.last_received_at:%Y-%m-%d %H:%M}" if r.last_received_at else "–",
        )
    _out.print(table)
    if st.n_unattributed:
        _out.print(
            f"{st.n_unattributed} file(s) could not be attributed to a country "
            "(unreadable or mixed countries)."
        )
    for country, indicator, reported, aggregated, allowed in st.mismatches:
        _out.print(
            f"[yellow]⚠[/] {country} {indicator}: reported {reported:,.1f} but its events add "
            f"up to {aggregated:,.1f} (allowed difference {allowed:,.1f})."
        )


# -- lineage --------------------------------------------------------------------------------
def _num(value: object, fmt: str = ",.2f") -> str:
    if value is None:
        return "–"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return "–" if math.isnan(number) else format(number, fmt)


@_user_errors
def explain(
    country: Annotated[str, typer.Argument(help="Country: ISO3 code (COL) or name.")],
    category: Annotated[str, typer.Argument(help="Category code, e.g. cocaine.")],
    cycle: CycleOpt,
    home: HomeOpt = None,
) -> None:
    """Show where a country's category score comes from, down to files and rows."""
    from ideal.lineage import explain as explain_score
    from ideal.lineage import source_label

    with connect(_ws(home).warehouse_path, read_only=True) as con:
        e = explain_score(con, cycle, country, category)
    s = e.score
    _out.print(
        f"[bold]{e.country_iso3} · {e.category_code} · cycle {e.cycle.cycle_id}[/] "
        f"({e.cycle.status}, revision {e.cycle.revision})\n"
        f"score {_num(s['score_0_100'], '.1f')} (rank {s['rank_in_category']}), "
        f"quantitative {_num(s['quantitative_0_100'], '.1f')}, "
        f"expert {_num(s['expert_0_100'], '.1f')}, coverage {_num(s['coverage_ratio'], '.0%')}, "
        f"confidence {_num(s['confidence_0_1'], '.2f')}, "
        f"change {_num(s['change_0_100'], '+.1f')}",
        soft_wrap=True,
    )
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("indicator", "value", "unit", "rate", "normalised", "weight"):
        table.add_column(
            col, no_wrap=True, justify="left" if col in ("indicator", "unit") else "right"
        )
    table.add_column("source (file · sha256 · rows)", overflow="fold")
    for _, row in e.indicators.iterrows():
        source = escape(source_label(row))
        if not row["is_value_unchanged"] and row.get("value_origin") is not None:
            source += " [yellow](changed since scoring)[/]"
        table.add_row(
            str(row["indicator_code"]),
            _num(row["value"]),
            str(row["unit"] or ""),
            _num(row["rate"], ",.3f"),
            _num(row["normalised_0_100"], ".1f"),
            _num(row["weight"], ".2f"),
            source,
        )
    _out.print(table)
    for _, m in e.mismatches.iterrows():
        _out.print(
            f"[yellow]⚠[/] {m['indicator_code']}: reported {_num(m['reported_value'])}, "
            f"events add up to {_num(m['aggregated_value'])} ({int(m['n_events'])} events; "
            f"allowed difference {_num(m['allowed_difference'])})."
        )
    _out.print(
        f"SQL: SELECT * FROM out_threat__lineage WHERE cycle_id = '{e.cycle.cycle_id}' "
        f"AND country_iso3 = '{e.country_iso3}' AND category_code = '{e.category_code}'",
        highlight=False,
        soft_wrap=True,
    )


# -- exits ----------------------------------------------------------------------------------
@_user_errors
def export(
    folder: Annotated[Path, typer.Argument(help="New or empty folder to write into.")],
    cycle: CycleOpt,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    home: HomeOpt = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty.")] = False,
) -> None:
    """Export a cycle's core_ and out_ tables (one Parquet or CSV file per table)."""
    from ideal.exporting import export_cycle

    written = export_cycle(_ws(home), cycle, fmt, folder, force=force)
    rows = sum(e.n_rows for e in written)
    _out.print(f"Exported {len(written)} tables ({rows:,} rows) of cycle {cycle} to {folder}")


@_user_errors
def backup(
    folder: Annotated[Path, typer.Argument(help="New or empty folder for the backup.")],
    home: HomeOpt = None,
) -> None:
    """Back up the whole warehouse (DuckDB EXPORT DATABASE, Parquet)."""
    from ideal.exporting import backup as backup_to

    _out.print(f"Backed up the warehouse to {backup_to(_ws(home), folder)}")


@_user_errors
def restore(
    folder: Annotated[Path, typer.Argument(help="A folder made by `ideal backup`.")],
    home: HomeOpt = None,
    force: Annotated[
        bool, typer.Option(help="Replace a warehouse that holds data (it is kept beside).")
    ] = False,
) -> None:
    """Restore a backup into a new or empty warehouse (IMPORT DATABASE)."""
    from ideal.exporting import restore as restore_from

    _out.print(f"Restored {restore_from(_ws(home), folder, force=force)} from {folder}")
