"""Assessment cycles as records: open, close, publish, look up, follow.

A cycle has an id, the year it assesses, a submission deadline, the countries expected
to submit and a status: ``open`` (taking submissions) → ``closed`` → ``published``.

Revisions. Scoring writes the live ``out_`` tables (``out_threat__…``), which always
hold a cycle's *current* revision: other code and analysts read them as before, keyed
by ``cycle_id``. Publishing freezes the current revision: in the same transaction its
rows are copied to the ``…_published`` twin of every ``out_`` table (same columns plus
``revision``; ``ideal.warehouse.published_table``) and the revision is marked published
in ``core_cycle__revisions``. Scoring a published cycle is refused unless a new revision
is asked for; then the revision number goes up, the cycle is ``closed`` again until the
new revision is published, and the published copies of the earlier revisions stay. So
``SELECT * FROM out_threat__regional_priorities_published WHERE cycle_id = '2025' AND
revision = 1`` is what the committee saw, whatever happened since. (Keying the live
tables by revision would have changed every ``out_`` key that the scoring, report and
pipeline code reads.)

Every change of state is written to the audit log (``ideal.audit``) in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from ideal import audit
from ideal.aggregation import mismatches
from ideal.reference import default_resolver
from ideal.warehouse import PUBLISHED, transaction

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
    revision: int = 1


def check_takes_submissions(cycle: Cycle) -> None:
    """Raise CycleError unless ``cycle`` is open: only an open cycle takes submissions."""
    if cycle.status != "open":
        raise CycleError(
            f"Cycle {cycle.cycle_id} is {cycle.status}: it accepts no more submissions. "
            "Ask the secretariat to open a new cycle or a revision."
        )


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
    with transaction(con):
        con.execute(
            "INSERT INTO core_cycle__cycles (cycle_id, period_year, deadline, "
            "expected_countries, cycle_status, opened_at) VALUES (?, ?, ?, ?, 'open', ?)",
            [
                cycle.cycle_id,
                cycle.period_year,
                cycle.deadline,
                sorted(cycle.expected_countries),
                _now(),
            ],
        )
        audit.record(
            con,
            "open",
            cycle_id=cycle.cycle_id,
            details={
                "period_year": cycle.period_year,
                "deadline": cycle.deadline.isoformat(),
                "expected_countries": sorted(cycle.expected_countries),
            },
        )
    logger.info("opened cycle %s (%s countries)", cycle.cycle_id, len(cycle.expected_countries))
    return get_cycle(con, cycle.cycle_id)


def find_cycle(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Cycle | None:
    row = con.execute(
        "SELECT cycle_id, period_year, deadline, expected_countries, cycle_status, "
        "(SELECT max(revision) FROM core_cycle__revisions r WHERE r.cycle_id = c.cycle_id) "
        "FROM core_cycle__cycles c WHERE cycle_id = ?",
        [cycle_id],
    ).fetchone()
    if row is None:
        return None
    return Cycle(row[0], row[1], row[2], tuple(row[3]), row[4], row[5] or 1)


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def close_cycle(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Cycle:
    """open → closed: the cycle takes no more submissions. Closing a closed cycle is a no-op."""
    cycle = get_cycle(con, cycle_id)
    if cycle.status == "closed":
        return cycle
    if cycle.status == "published":
        raise CycleError(f"Cycle {cycle_id} is already published (revision {cycle.revision}).")
    with transaction(con):
        _close(con, cycle)
    logger.info("closed cycle %s", cycle_id)
    return get_cycle(con, cycle_id)


def _close(con: duckdb.DuckDBPyConnection, cycle: Cycle, **details: object) -> None:
    _set_status(con, cycle.cycle_id, "closed")
    audit.record(con, "close", cycle_id=cycle.cycle_id, details=details or None)


def _set_status(con: duckdb.DuckDBPyConnection, cycle_id: str, status: str) -> None:
    con.execute(
        "UPDATE core_cycle__cycles SET cycle_status = ? WHERE cycle_id = ?", [status, cycle_id]
    )


def has_scores(con: duckdb.DuckDBPyConnection, cycle_id: str) -> bool:
    row = con.execute(
        "SELECT (SELECT count(*) FROM out_run__manifests WHERE cycle_id = $1) > 0 AND "
        "(SELECT count(*) FROM out_threat__regional_priorities WHERE cycle_id = $1) > 0",
        [cycle_id],
    ).fetchone()
    return bool(row and row[0])


def publish_revision(con: duckdb.DuckDBPyConnection, cycle_id: str) -> Cycle:
    """Freeze the cycle's current revision: copy its out_ rows, mark it published.

    Needs scores. Publishing an open cycle closes it first (both are audited).
    Publishing a published cycle changes nothing. One transaction; not to be called
    inside a caller's transaction.
    """
    cycle = get_cycle(con, cycle_id)
    if cycle.status == "published":
        logger.info("cycle %s is already published (revision %d)", cycle_id, cycle.revision)
        return cycle
    if not has_scores(con, cycle_id):
        raise CycleError(
            f"Cycle {cycle_id} has no scores to publish: score it first "
            f"(`ideal run --cycle {cycle_id}`)."
        )
    with transaction(con):
        if cycle.status == "open":
            _close(con, cycle, before="publish")
        revision = _current_revision(con, cycle_id, create=True)
        n_rows = snapshot(con, cycle_id, revision)
        con.execute(
            "UPDATE core_cycle__revisions SET is_published = true, published_at = ? "
            "WHERE cycle_id = ? AND revision = ?",
            [_now(), cycle_id, revision],
        )
        _set_status(con, cycle_id, "published")
        audit.record(
            con, "publish", cycle_id=cycle_id, revision=revision, details={"rows_frozen": n_rows}
        )
    logger.info("published cycle %s, revision %d (%d rows frozen)", cycle_id, revision, n_rows)
    return get_cycle(con, cycle_id)


def _current_revision(con: duckdb.DuckDBPyConnection, cycle_id: str, *, create: bool) -> int:
    row = con.execute(
        "SELECT max(revision) FROM core_cycle__revisions WHERE cycle_id = ?", [cycle_id]
    ).fetchone()
    if row is not None and row[0] is not None:
        return int(row[0])
    if create:
        _start_revision(con, cycle_id, 1)
    return 1


def _start_revision(
    con: duckdb.DuckDBPyConnection, cycle_id: str, revision: int, reason: str | None = None
) -> None:
    con.execute(
        "INSERT INTO core_cycle__revisions (cycle_id, revision, started_at, is_published, "
        "reason) VALUES (?, ?, ?, false, ?)",
        [cycle_id, revision, _now(), reason],
    )


def out_tables() -> list[str]:
    """The live out_ tables that publishing freezes (every out_ table but the copies)."""
    return list(PUBLISHED)


def snapshot(con: duckdb.DuckDBPyConnection, cycle_id: str, revision: int) -> int:
    """Copy the cycle's live out_ rows into the ``…_published`` tables as ``revision``.

    Runs inside the caller's transaction; returns the number of rows copied.
    """
    total = 0
    for live, frozen in PUBLISHED.items():
        con.execute(
            f"DELETE FROM {frozen.name} WHERE cycle_id = ? AND revision = ?", [cycle_id, revision]
        )
        row = con.execute(
            f"INSERT INTO {frozen.name} BY NAME SELECT CAST(? AS INTEGER) AS revision, * "
            f"FROM {live} WHERE cycle_id = ?",
            [revision, cycle_id],
        ).fetchone()
        total += int(row[0]) if row else 0
    return total


def check_scorable(cycle: Cycle, new_revision: bool) -> None:
    """Refuse to overwrite a published cycle's scores unless a new revision is asked for."""
    if cycle.status == "published" and not new_revision:
        raise CycleError(
            f"Cycle {cycle.cycle_id} is published (revision {cycle.revision}): its scores "
            f"are frozen. To score it again, start a new revision: `ideal cycle revise "
            f"{cycle.cycle_id} --reason …` (revision {cycle.revision} stays in the "
            "out_…_published tables)."
        )


def record_scoring(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    *,
    new_revision: bool = False,
    reason: str | None = None,
    methodology_sha256: str | None = None,
    n_inputs: int | None = None,
    flow_run_id: str | None = None,
) -> int:
    """Note a scoring run of the cycle, inside the scoring transaction, before its writes.

    Returns the revision the scores belong to. On a published cycle (with
    ``new_revision``) a new revision is started and the cycle is closed again until that
    one is published; the published revision's copy was made when it was published (or,
    for a cycle published under schema 1, by ``ideal.migrations``).
    """
    cycle = get_cycle(con, cycle_id)
    check_scorable(cycle, new_revision)
    revision = _current_revision(con, cycle_id, create=True)
    details: dict[str, object] = {"methodology_sha256": methodology_sha256, "inputs": n_inputs}
    if cycle.status == "published":
        revision += 1
        _start_revision(con, cycle_id, revision, reason)
        _set_status(con, cycle_id, "closed")
        details.update(new_revision=True, reason=reason)
        logger.info("cycle %s: scoring new revision %d", cycle_id, revision)
    elif new_revision:
        logger.info("cycle %s is not published: scoring revision %d again", cycle_id, revision)
    audit.record(
        con,
        "score",
        cycle_id=cycle_id,
        revision=revision,
        details=details,
        flow_run_id=flow_run_id,
    )
    return revision


# -- status --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountryStatus:
    """Where one expected country stands in a cycle."""

    country_iso3: str
    state: str  # accepted | rejected | pending | missing
    n_submitted: int
    n_accepted: int
    n_rejected: int
    last_received_at: dt.datetime | None
    kinds_current: tuple[str, ...]  # indicators / events in force
    n_mismatches: int  # reported vs event-aggregated values beyond tolerance


@dataclass(frozen=True)
class CycleStatus:
    cycle: Cycle
    countries: tuple[CountryStatus, ...]
    n_unattributed: int
    published_revisions: tuple[int, ...]
    mismatches: tuple[tuple[str, str, float, float, float], ...]


def cycle_status(con: duckdb.DuckDBPyConnection, cycle_id: str) -> CycleStatus:
    """Per expected country: submitted, accepted, rejected, missing, last received."""
    cycle = get_cycle(con, cycle_id)
    rows = con.execute(
        "SELECT country_iso3, count(*), "
        "count(*) FILTER (WHERE submission_status LIKE 'accepted%'), "
        "count(*) FILTER (WHERE submission_status IN ('rejected', 'unreadable')), "
        "count(*) FILTER (WHERE submission_status = 'received'), max(received_at), "
        "list(DISTINCT submission_kind ORDER BY submission_kind) FILTER (WHERE is_current) "
        "FROM raw_intake__submissions WHERE cycle_id = ? GROUP BY country_iso3",
        [cycle_id],
    ).fetchall()
    found = mismatches(con, cycle_id)
    n_mismatches = Counter(found["country_iso3"])
    published = con.execute(
        "SELECT revision FROM core_cycle__revisions WHERE cycle_id = ? AND is_published "
        "ORDER BY revision",
        [cycle_id],
    ).fetchall()
    by_country = {r[0]: r for r in rows}
    out = []
    for code in cycle.expected_countries:
        r = by_country.get(code)
        n_mis = n_mismatches[code]
        if r is None:
            out.append(CountryStatus(code, "missing", 0, 0, 0, None, (), n_mis))
            continue
        kinds = tuple(k for k in (r[6] or []) if k)
        state = "accepted" if kinds else "pending" if r[4] else "rejected"
        out.append(CountryStatus(code, state, r[1], r[2], r[3], r[5], kinds, n_mis))
    unattributed = by_country.get(None)
    return CycleStatus(
        cycle,
        tuple(out),
        int(unattributed[1]) if unattributed else 0,
        tuple(int(p[0]) for p in published),
        tuple(
            (
                m["country_iso3"],
                m["indicator_code"],
                float(m["reported_value"]),
                float(m["aggregated_value"]),
                float(m["allowed_difference"]),
            )
            for m in found.to_dict("records")
        ),
    )
