"""Assessment cycles as records: open one, look it up, find the one before it.

A cycle has an id, the year it assesses, a submission deadline, the countries expected
to submit and a status (open, closed, published).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from ideal.reference import default_resolver

logger = logging.getLogger(__name__)


class CycleError(ValueError):
    """A cycle that does not exist or cannot be changed as asked; the message says why."""


@dataclass(frozen=True)
class Cycle:
    cycle_id: str
    period_year: int
    deadline: dt.date
    expected_countries: tuple[str, ...]
    status: str = "open"


def open_cycle(con: duckdb.DuckDBPyConnection, cycle: Cycle) -> Cycle:
    """Record a new cycle; re-opening with the same definition is a no-op."""
    unknown = [c for c in cycle.expected_countries if default_resolver().try_resolve(c) != c]
    if unknown:
        raise CycleError(
            f"Unknown country codes in cycle {cycle.cycle_id}: {unknown}. "
            "Use ISO 3166 alpha-3 codes such as COL or BRA."
        )
    existing = find_cycle(con, cycle.cycle_id)
    if existing is not None:
        same = (existing.period_year, existing.deadline, existing.expected_countries) == (
            cycle.period_year,
            cycle.deadline,
            tuple(sorted(cycle.expected_countries)),
        )
        if not same:
            raise CycleError(
                f"Cycle {cycle.cycle_id} is already open with a different definition "
                f"(year {existing.period_year}, deadline {existing.deadline}, "
                f"{len(existing.expected_countries)} countries)."
            )
        return existing
    con.execute(
        "INSERT INTO core_cycle__cycles VALUES (?, ?, ?, ?, 'open', now())",
        [cycle.cycle_id, cycle.period_year, cycle.deadline, sorted(cycle.expected_countries)],
    )
    logger.info("opened cycle %s (%s countries)", cycle.cycle_id, len(cycle.expected_countries))
    return get_cycle(con, cycle.cycle_id)


def find_cycle(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Cycle | None:
    row = con.execute(
        "SELECT cycle_id, period_year, deadline, expected_countries, cycle_status "
        "FROM core_cycle__cycles WHERE cycle_id = ?",
        [cycle_id],
    ).fetchone()
    if row is None:
        return None
    return Cycle(row[0], row[1], row[2], tuple(row[3]), row[4])


def get_cycle(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Cycle:
    cycle = find_cycle(con, cycle_id)
    if cycle is None:
        known = [
            r[0]
            for r in con.execute(
                "SELECT cycle_id FROM core_cycle__cycles ORDER BY period_year"
            ).fetchall()
        ]
        raise CycleError(
            f"There is no cycle {cycle_id!r}. Known cycles: {', '.join(known) or 'none'}. "
            "Open it first with `ideal cycle open`."
        )
    return cycle


def previous_cycle(con: duckdb.DuckDBPyConnection, cycle: Cycle) -> Cycle | None:
    """The latest earlier cycle (by reporting year) that has scores, if any."""
    row = con.execute(
        "SELECT c.cycle_id FROM core_cycle__cycles c WHERE c.period_year < ? AND EXISTS "
        "(SELECT 1 FROM out_threat__category_scores s WHERE s.cycle_id = c.cycle_id) "
        "ORDER BY c.period_year DESC LIMIT 1",
        [cycle.period_year],
    ).fetchone()
    return None if row is None else get_cycle(con, row[0])


def load_cycles_file(path: Path) -> list[Cycle]:
    """Cycle definitions from a YAML file (``cycles: [{cycle_id, period_year, ...}]``)."""
    with path.open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    out = []
    for item in doc["cycles"]:
        deadline = item["deadline"]
        if isinstance(deadline, str):
            deadline = dt.date.fromisoformat(deadline)
        out.append(
            Cycle(
                str(item["cycle_id"]),
                int(item["period_year"]),
                deadline,
                tuple(sorted(item["expected_countries"])),
            )
        )
    return out
