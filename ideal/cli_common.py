"""What every ``ideal`` command shares: the error console and the rule that a mistake a
user can make ends with one clear line and exit code 2, never a stack trace."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)

# The workspace options the commands share.
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Workspace folder (default: $IDEAL_HOME or ./var)."),
]
ReportsOpt = Annotated[
    Path | None,
    typer.Option("--reports", help="Reports folder (default: $IDEAL_REPORTS or ./reports)."),
]


P = ParamSpec("P")
R = TypeVar("R")


def exits_cleanly(
    *user_errors: type[BaseException],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the listed errors (and any OSError) print one line and exit with 2."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except user_errors as exc:
                err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
                raise typer.Exit(2) from None
            except OSError as exc:  # disk full, read-only folder, missing file …
                err_console.print(
                    f"[bold red]error:[/] {escape(str(exc.strerror or exc))}: "
                    f"{escape(str(exc.filename or ''))}\n"
                    "Check the path, that the folder is writable and that the disk has space.",
                    soft_wrap=True,
                )
                raise typer.Exit(2) from None

        return wrapper

    return decorate
