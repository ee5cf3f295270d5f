"""``ideal index``: the composite-indicator engine on any index, from COINr-style files.

What belongs here: the typer app ``index_app`` (registered as ``ideal index`` by
``ideal/cli.py``) with ``build``, ``uncertainty`` and ``goalposts``; reading the iData,
iMeta and method files, writing the CSV results, and turning user mistakes into one-line
messages (exit code 2, no traceback). The maths is in ``ideal.scoring``. Run it alone
with ``python -m ideal.cli_index --help``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
import yaml
from rich.console import Console
from rich.table import Table

from ideal.cli_common import exits_cleanly
from ideal.scoring.engine import HierarchyError, derive_goalposts, validate_meta
from ideal.scoring.spec import (
    MethodFileError,
    UncertaintySpec,
    build_from_spec,
    load_index_method,
    prepare_idata,
    read_idata,
    read_imeta,
)

index_app = typer.Typer(
    help="Build any composite index from COINr-style iData/iMeta files, and its rank uncertainty.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
logger = logging.getLogger(__name__)


DataOpt = Annotated[
    Path, typer.Option("--data", help="iData CSV: uCode plus indicator (and denominator) columns.")
]
MetaOpt = Annotated[
    Path,
    typer.Option("--meta", help="iMeta CSV: iCode, Level, Parent, Direction, Weight (+ Type)."),
]
MethodOpt = Annotated[
    Path, typer.Option("--method", help="Method file (YAML), see docs/methodology.md §13.")
]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder for the CSV results (created).")]
TimeOpt = Annotated[
    str | None,
    typer.Option("--time", help="With a Time column: the time point to build (default latest)."),
]


user_errors = exits_cleanly(MethodFileError, HierarchyError, ValueError, FileNotFoundError)


def _inputs(
    data: Path, meta: Path, method: Path, time_point: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, object, dict[str, pd.DataFrame]]:
    spec, _ = load_index_method(method)
    frame = read_idata(data)
    meta_frame = read_imeta(meta)
    validate_meta(meta_frame)
    prepared = prepare_idata(frame, time_point)
    return prepared.current, meta_frame, spec, prepared.previous


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format="%.10g")


@index_app.command()
@user_errors
def build(
    data: DataOpt,
    meta: MetaOpt,
    method: MethodOpt,
    out: OutOpt,
    time_point: TimeOpt = None,
) -> None:
    """Build the index: aggregated.csv (every iCode at every level) and ranks.csv."""
    current, meta_frame, spec, previous = _inputs(data, meta, method, time_point)
    result = build_from_spec(current, meta_frame, spec, previous)  # type: ignore[arg-type]
    out.mkdir(parents=True, exist_ok=True)
    index = result.index
    aggregated = index.aggregated.reset_index(names="uCode")
    ranks = index.ranks.reset_index(names="uCode")
    _write(aggregated, out / "aggregated.csv")
    _write(ranks, out / "ranks.csv")
    written = ["aggregated.csv", "ranks.csv"]
    if len(result.imputation.log):
        _write(result.imputation.log, out / "imputation.csv")
        written.append("imputation.csv")
    if result.treatment.log["treated"].any():
        _write(result.treatment.log, out / "treatment.csv")
        written.append("treatment.csv")
    h = index.hierarchy
    roots = h.roots
    table = Table(title=f"{roots[0] if len(roots) == 1 else 'Index'}: top units", box=None)
    table.add_column("rank", justify="right")
    table.add_column("uCode")
    table.add_column("score", justify="right")
    if len(roots) == 1:
        top = index.aggregated[roots[0]].sort_values(ascending=False).head(5)
        rank_of = index.ranks[roots[0]].to_dict()
        for unit, score in top.items():
            table.add_row(str(rank_of[unit]), str(unit), f"{score:.4f}")
        console.print(table)
    console.print(
        f"{len(aggregated)} units, {len(h.indicators)} indicators, {h.n_levels} levels -> "
        f"{out} ({', '.join(written)})"
    )


@index_app.command()
@user_errors
def uncertainty(
    data: DataOpt,
    meta: MetaOpt,
    method: MethodOpt,
    out: OutOpt,
    n: Annotated[
        int | None, typer.Option("--n", min=1, help="Replicates (default: the method file's).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Random seed (default: the file's).")
    ] = None,
    sensitivity: Annotated[
        bool,
        typer.Option(help="Also re-run with each uncertain element held at nominal."),
    ] = True,
    time_point: TimeOpt = None,
) -> None:
    """Monte Carlo of the ranks: rank_stats.csv (uCode, nominal, mean, median, q5, q95),
    top3.csv (uCode, p_top3) and sensitivity.csv."""
    from ideal.scoring.uncertainty import IndexProblem  # heavier import, only here

    current, meta_frame, spec, previous = _inputs(data, meta, method, time_point)
    unc = spec.uncertainty or UncertaintySpec()  # type: ignore[attr-defined]
    if spec.uncertainty is None:  # type: ignore[attr-defined]
        console.print(
            "[yellow]The method file has no uncertainty section: nothing varies, so every "
            "replicate reproduces the nominal ranks.[/]"
        )
    start = time.perf_counter()
    problem = IndexProblem(current, meta_frame, spec, unc, previous)  # type: ignore[arg-type]
    result = problem.run(n=n, seed=seed, sensitivity=sensitivity)
    elapsed = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    stats = result.stats.reset_index(names="uCode")
    _write(stats[["uCode", "nominal", "mean", "median", "q5", "q95"]], out / "rank_stats.csv")
    _write(stats[["uCode", "p_top3"]], out / "top3.csv")
    written = ["rank_stats.csv", "top3.csv"]
    if sensitivity:
        _write(result.sensitivity.rename(columns={"unit": "uCode"}), out / "sensitivity.csv")
        written.append("sensitivity.csv")
    table = Table(title="Mean absolute rank shift when an element is held at nominal", box=None)
    table.add_column("element")
    table.add_column("mean over units", justify="right")
    if len(result.sensitivity):
        by = result.sensitivity.groupby("element", sort=False)["mean_abs_rank_shift"].mean()
        for element, value in by.sort_values(ascending=False).items():
            table.add_row(str(element), f"{value:.2f}")
        console.print(table)
    if len(result.sensitivity):
        used = result.sensitivity.groupby("element", sort=False)["n_used"].first()
        for element, k in used[used < result.n].items():
            console.print(
                f"[yellow]note:[/] with {element} at its nominal setting, {result.n - k} of "
                f"{result.n} replicates cannot be computed (e.g. a geometric mean of zeros) "
                "and are left out of its shift."
            )
    varied = ", ".join(result.elements) or "nothing"
    console.print(
        f"{result.n} replicates (seed {result.seed}; {varied} varied) in {elapsed:.2f} s -> "
        f"{out} ({', '.join(written)})"
    )


@index_app.command()
@user_errors
def goalposts(
    data: DataOpt,
    meta: MetaOpt,
    margin: Annotated[
        float, typer.Option(min=0.0, help="Widen each side by this share of the range.")
    ] = 0.0,
    time_point: TimeOpt = None,
) -> None:
    """Derive goalposts once from a base cycle; prints YAML for normalisation.goalposts."""
    frame = read_idata(data)
    meta_frame = read_imeta(meta)
    h = validate_meta(meta_frame)
    current = prepare_idata(frame, time_point).current
    posts = derive_goalposts(current, h, margin=margin)
    text = yaml.safe_dump(
        {"goalposts": {c: [round(a, 10), round(b, 10)] for c, (a, b) in posts.items()}},
        sort_keys=False,
        default_flow_style=None,
    )
    typer.echo(text, nl=False)


if __name__ == "__main__":
    index_app()
