"""Intake: receive a file, keep every byte, validate it, and load or quarantine it.

Order matters for "nothing is lost": the bytes are archived under their sha256 and the
submission is recorded in the ledger *before* parsing. Then validation runs, and one
transaction records the outcome: raw rows, findings and, when accepted, the country's
annual values (indicator files) or events (event-record files) in ``core_``, replacing
those of the country's earlier submission of the same kind. A rejected or unreadable
file is copied to quarantine with its findings. Identical bytes received again change
nothing.

``parse_and_validate`` is the one validation entry point (``ideal validate`` and the
pipeline): small files go through pydantic row by row, large CSV files through the SQL
path of ``ideal.sqlcheck``; both give the same findings. Rows are loaded with set-based
SQL (``INSERT … SELECT`` from the staged file or from a registered frame).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from ideal import audit
from ideal.catalogue import LANGS, Catalogue
from ideal.config import Workspace
from ideal.contract import COLUMNS, EVENT_TYPED_COLUMNS, ContractContext, Kind
from ideal.cycles import Cycle
from ideal.events import EventValidation, ValidEvent, validate_events
from ideal.readers import RawSubmission, UnreadableFile, read_submission, sniff_csv, sniff_format
from ideal.reference import CountryResolver
from ideal.sqlcheck import (
    NOT_UTF8,
    SQL_MIN_ROWS,
    SqlPathUnavailable,
    drop_staged,
    validate_large_csv,
)
from ideal.validation import (
    Issue,
    IssueCounts,
    Status,
    ValidationResult,
    issue,
    validate_submission,
)
from ideal.warehouse import TABLE_BY_NAME, borrowed_or_private, replace_where, transaction

logger = logging.getLogger(__name__)

Engine = Literal["auto", "pydantic", "sql"]
"""Which row engine validates a file: by size (auto), or one of them (for tests, bench)."""
# EventRecord field -> its column in core_threat__events (the event file's columns that
# table keeps; source and notes stay in the raw layer).
CORE_EVENT_FIELDS: dict[str, str] = {
    c: typed
    for c, typed in EVENT_TYPED_COLUMNS.items()
    if typed in TABLE_BY_NAME["core_threat__events"].columns
}
RAW_TABLES: dict[Kind, str] = {
    "indicators": "raw_intake__indicator_rows",
    "events": "raw_intake__event_rows",
}


@dataclass
class IngestOutcome(IssueCounts):
    """What happened to one received file."""

    sha256: str
    file_name: str
    status: Status
    country_iso3: str | None
    n_rows: int
    is_new: bool
    archive_path: Path
    quarantine_path: Path | None = None
    issues: list[Issue] = field(default_factory=list)

    def summary(self) -> dict[str, str | int | bool]:
        """One row for tables and Prefect artifacts."""
        return {
            "file": self.file_name,
            "country": self.country_iso3 or "",
            "status": self.status,
            "rows": self.n_rows,
            "errors": self.n_errors,
            "warnings": self.n_warnings,
            "new": self.is_new,
            "sha256": self.sha256[:12],
        }


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_name(name: str) -> str:
    """A file name that cannot escape a folder ('../x' -> 'x'), for display copies only."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^\w.\- ]", "_", base).strip(". ") or "submission"
    return cleaned[:120]


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def archive_bytes(ws: Workspace, data: bytes, sha: str) -> Path:
    """Keep the exact bytes under their hash; idempotent."""
    path = ws.archive / sha[:2] / sha
    if not path.exists():
        _write_atomic(path, data)
    return path


def parse_and_validate(
    data: bytes,
    cycle: Cycle,
    catalogue: Catalogue,
    resolver: CountryResolver,
    today: dt.date | None = None,
    *,
    engine: Engine = "auto",
    con: duckdb.DuckDBPyConnection | None = None,
    path: Path | None = None,
    previous: Mapping[str, Mapping[str, float]] | None = None,
    previous_events: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[RawSubmission | None, ValidationResult]:
    """Read and validate bytes; an unreadable file gives a result with one finding.

    A CSV file of more than ``SQL_MIN_ROWS`` lines (or any CSV with ``engine="sql"``)
    is checked by the SQL path; one DuckDB cannot read line for line takes the pydantic
    path. With ``con``, the SQL path leaves the file's rows staged on it for loading
    (``raw.staged``; ``ideal.sqlcheck.drop_staged`` forgets them); ``path`` is a file
    holding exactly ``data`` that DuckDB may read instead of a temporary copy.
    """
    ctx = ContractContext(
        catalogue=catalogue,
        resolver=resolver,
        cycle_id=cycle.cycle_id,
        cycle_year=cycle.period_year,
        today=today or dt.date.today(),
        previous_values=previous,
        previous_event_counts=previous_events,
    )
    if engine != "pydantic" and _wants_sql(data, engine):
        # The encoding is first judged on the head only (DuckDB checks every byte);
        # a file with other bytes further down is judged again on the whole.
        for whole in (False, True):
            try:
                layout = sniff_csv(data, whole=whole)
                with borrowed_or_private(con) as c:
                    raw, result = validate_large_csv(
                        c, data, layout, ctx, cycle.expected_countries, path
                    )
                    if con is None:  # the staged rows die with the private connection
                        raw.staged = None
                        if isinstance(result, EventValidation):
                            result.sql_clean = None
                    return raw, result
            except UnreadableFile:
                break  # the full reader below says what is wrong, as for any file
            except SqlPathUnavailable as exc:
                if exc.reason == NOT_UTF8 and not whole:
                    continue
                logger.info("pydantic path for this file: %s", exc.reason)
                break
    try:
        raw = read_submission(data)
    except UnreadableFile as exc:
        result = ValidationResult(
            None, [], [issue("unreadable_file", reason=exc.reason, detail=exc.detail)], 0
        )
        return None, result
    ctx = dataclasses.replace(ctx, decimal=raw.decimal)
    if raw.kind == "events":
        return raw, validate_events(raw, ctx, cycle.expected_countries)
    return raw, validate_submission(raw, ctx, cycle.expected_countries)


def previous_cycle_values(
    con: duckdb.DuckDBPyConnection, cycle: Cycle
) -> dict[str, dict[str, float]]:
    """The latest earlier cycle's current annual values, country -> indicator -> value."""
    rows = _from_previous_cycle(
        con,
        cycle,
        "core_threat__indicator_values",
        "t.indicator_code, t.value",
        "AND t.value IS NOT NULL",
    )
    out: dict[str, dict[str, float]] = {}
    for country, indicator, value in rows:
        out.setdefault(country, {})[indicator] = float(value)
    return out


def previous_cycle_event_counts(
    con: duckdb.DuckDBPyConnection, cycle: Cycle
) -> dict[str, dict[str, int]]:
    """The latest earlier cycle's current events counted, country -> event type -> count."""
    rows = _from_previous_cycle(
        con, cycle, "core_threat__events", "t.event_type, count(*)", "GROUP BY ALL"
    )
    out: dict[str, dict[str, int]] = {}
    for country, event_type, n in rows:
        out.setdefault(country, {})[event_type] = int(n)
    return out


def _from_previous_cycle(
    con: duckdb.DuckDBPyConnection, cycle: Cycle, table: str, select: str, tail: str
) -> list[tuple[Any, ...]]:
    """(country, *select) over ``table``'s rows of the latest earlier cycle with any.

    Only rows of current submissions count; ``tail`` ends the query (a filter, a GROUP BY).
    """
    return con.execute(
        "WITH prev AS (SELECT c.cycle_id FROM core_cycle__cycles c "
        f"WHERE c.period_year < ? AND EXISTS (SELECT 1 FROM {table} p "
        "WHERE p.cycle_id = c.cycle_id) ORDER BY c.period_year DESC LIMIT 1) "
        f"SELECT t.country_iso3, {select} FROM {table} t JOIN raw_intake__submissions s "
        "USING (submission_sha256) WHERE t.cycle_id = (SELECT cycle_id FROM prev) "
        f"AND s.is_current {tail}",
        [cycle.period_year],
    ).fetchall()


def _wants_sql(data: bytes, engine: Engine) -> bool:
    try:
        if sniff_format(data) != "csv":
            return False
    except UnreadableFile:
        return False
    return engine == "sql" or _more_lines_than(data, SQL_MIN_ROWS)


def _more_lines_than(data: bytes, n: int) -> bool:
    """True if ``data`` has more than ``n`` line breaks; reads no further than the n+1st."""
    pos = -1
    for _ in range(n + 1):
        pos = data.find(b"\n", pos + 1)
        if pos < 0:
            return False
    return True


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    path: Path,
    cycle: Cycle,
    catalogue: Catalogue,
    resolver: CountryResolver,
    *,
    file_name: str | None = None,
    today: dt.date | None = None,
) -> IngestOutcome:
    """Archive, record, validate and load (or quarantine) one file."""
    data = path.read_bytes()
    name = file_name or path.name
    sha = sha256_bytes(data)
    archive_path = archive_bytes(ws, data, sha)

    known = con.execute(
        "SELECT submission_status, country_iso3, n_rows, quarantine_path "
        "FROM raw_intake__submissions WHERE submission_sha256 = ?",
        [sha],
    ).fetchone()
    if known is not None and known[0] != "received":
        logger.info("%s: identical bytes already received (%s); nothing to do", name, known[0])
        return IngestOutcome(
            sha,
            name,
            known[0],
            known[1],
            known[2] or 0,
            False,
            archive_path,
            Path(known[3]) if known[3] else None,
            _stored_issues(con, sha),
        )

    received_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if known is None:
        con.execute(
            "INSERT INTO raw_intake__submissions (submission_sha256, cycle_id, file_name, "
            "received_at, size_bytes, archive_path, submission_status, is_current) "
            "VALUES (?, ?, ?, ?, ?, ?, 'received', false)",
            [sha, cycle.cycle_id, name, received_at, len(data), str(archive_path)],
        )

    raw, result = parse_and_validate(
        data,
        cycle,
        catalogue,
        resolver,
        today,
        con=con,
        path=archive_path,
        previous=previous_cycle_values(con, cycle),
        previous_events=previous_cycle_event_counts(con, cycle),
    )
    try:
        status: Status = "unreadable" if raw is None else result.status
        quarantine_path = None
        if status in ("rejected", "unreadable"):
            quarantine_path = quarantine(ws, cycle.cycle_id, sha, name, data, result, status)

        with transaction(con):
            # audit first: it sees which submissions this one supersedes
            audit.record_ingest(
                con,
                sha=sha,
                cycle_id=cycle.cycle_id,
                status=status,
                country_iso3=result.country_iso3,
                kind=raw.kind if raw is not None else None,
                n_rows=result.n_rows,
                n_errors=result.n_errors,
                n_warnings=result.n_warnings,
            )
            _record_outcome(con, sha, cycle, raw, result, status, quarantine_path)
    finally:
        drop_staged(con, raw.staged if raw is not None else None)
    logger.info(
        "%s: %s (%s, %d rows, %d errors, %d warnings)",
        name,
        status,
        result.country_iso3,
        result.n_rows,
        result.n_errors,
        result.n_warnings,
    )
    return IngestOutcome(
        sha,
        name,
        status,
        result.country_iso3,
        result.n_rows,
        True,
        archive_path,
        quarantine_path,
        result.issues,
    )


def _record_outcome(
    con: duckdb.DuckDBPyConnection,
    sha: str,
    cycle: Cycle,
    raw: RawSubmission | None,
    result: ValidationResult,
    status: Status,
    quarantine_path: Path | None,
) -> None:
    accepted = status in ("accepted", "accepted_with_warnings")
    con.execute(
        "UPDATE raw_intake__submissions SET submission_status = ?, submission_kind = ?, "
        "country_iso3 = ?, n_rows = ?, n_errors = ?, n_warnings = ?, quarantine_path = ?, "
        "is_current = ? WHERE submission_sha256 = ?",
        [
            status,
            raw.kind if raw is not None else None,
            result.country_iso3,
            result.n_rows,
            result.n_errors,
            result.n_warnings,
            str(quarantine_path) if quarantine_path else None,
            accepted,
            sha,
        ],
    )
    replace_where(
        con, "raw_intake__issues", _issues_frame(sha, result.issues), "submission_sha256 = ?", [sha]
    )
    if raw is None or not accepted:
        return
    # Rows carry their key (sha256, source_row): the order they land in does not matter,
    # and DuckDB inserts faster when it need not keep it.
    con.execute("SET preserve_insertion_order = false")
    try:
        _load_rows(con, sha, cycle, raw, result)
    finally:
        con.execute("RESET preserve_insertion_order")


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    sha: str,
    cycle: Cycle,
    raw: RawSubmission,
    result: ValidationResult,
) -> None:
    _load_raw_rows(con, sha, raw)
    if result.country_iso3 is None:
        return
    # The newest accepted submission of a country supersedes its earlier ones of the
    # same kind (an event file does not retire the country's indicator values).
    con.execute(
        "UPDATE raw_intake__submissions SET is_current = false WHERE cycle_id = ? "
        "AND country_iso3 = ? AND submission_kind = ? AND submission_sha256 <> ?",
        [cycle.cycle_id, result.country_iso3, raw.kind, sha],
    )
    if isinstance(result, EventValidation):
        _load_events(con, sha, cycle, result)
        return
    replace_where(
        con,
        "core_threat__indicator_values",
        _core_frame(sha, cycle, result),
        "cycle_id = ? AND country_iso3 = ?",
        [cycle.cycle_id, result.country_iso3],
    )


def _load_raw_rows(con: duckdb.DuckDBPyConnection, sha: str, raw: RawSubmission) -> None:
    """Every cell of every row as received, in one INSERT … SELECT."""
    table = RAW_TABLES[raw.kind]
    if raw.staged is None:
        replace_where(con, table, _raw_rows_frame(sha, raw), "submission_sha256 = ?", [sha])
        return
    con.execute(f"DELETE FROM {table} WHERE submission_sha256 = ?", [sha])
    cells = ", ".join(
        f"{c} AS {c}_raw" if c in raw.columns else f"CAST(NULL AS VARCHAR) AS {c}_raw"
        for c in COLUMNS[raw.kind]
    )
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT ? AS submission_sha256, source_row, {cells} "
        f"FROM {raw.staged}",
        [sha],
    )


def _load_events(
    con: duckdb.DuckDBPyConnection, sha: str, cycle: Cycle, result: EventValidation
) -> None:
    """The country's events, replacing those of its earlier event submission.

    Rows the SQL path vouched for go straight from the staged file; rows pydantic typed
    (all of them on the pydantic path) from a registered frame.
    """
    table = "core_threat__events"
    con.execute(
        f"DELETE FROM {table} WHERE cycle_id = ? AND country_iso3 = ?",
        [cycle.cycle_id, result.country_iso3],
    )
    if result.sql_clean is not None:
        typed = ", ".join(CORE_EVENT_FIELDS.values())
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT ? AS cycle_id, {typed}, "
            "false AS is_unit_converted, ? AS submission_sha256, source_row "
            f"FROM ({result.sql_clean})",
            [cycle.cycle_id, sha],
        )
    frame = _events_frame(sha, cycle, result.events)
    if frame.empty:
        return
    view = "_incoming_events"
    con.register(view, frame)
    try:
        cols = ", ".join(TABLE_BY_NAME[table].columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {view}")
    finally:
        con.unregister(view)


def _events_frame(sha: str, cycle: Cycle, events: list[ValidEvent]) -> pd.DataFrame:
    recs = [e.record for e in events]
    frame = pd.DataFrame(
        {column: [getattr(r, name) for r in recs] for name, column in CORE_EVENT_FIELDS.items()}
    )
    # dates stay Python dates (object); DuckDB reads them as DATE
    frame = frame.astype(
        {CORE_EVENT_FIELDS["quantity"]: "float64", CORE_EVENT_FIELDS["credibility"]: "int8"}
    )
    frame["cycle_id"] = cycle.cycle_id
    frame["is_unit_converted"] = pd.array([r.reported_unit is not None for r in recs], dtype="bool")
    frame["submission_sha256"] = sha
    frame["source_row"] = pd.array([e.source_row for e in events], dtype="int32")
    return frame


def _issues_frame(sha: str, issues: list[Issue]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_sha256": [sha] * len(issues),
            "issue_no": list(range(1, len(issues) + 1)),
            "severity": [i.severity for i in issues],
            "source_row": pd.array([i.row for i in issues], dtype="Int32"),
            "column_name": [i.column for i in issues],
            "cell_value": [i.value for i in issues],
            "rule": [i.rule for i in issues],
            "params_json": [json.dumps(i.params, ensure_ascii=False, default=str) for i in issues],
            "message_en": [i.message("en")[0] for i in issues],
        }
    )


def _raw_rows_frame(sha: str, raw: RawSubmission) -> pd.DataFrame:
    def text(v: object) -> str | None:
        return None if v is None else str(v)

    frame = pd.DataFrame(
        {
            "submission_sha256": [sha] * len(raw.rows),
            "source_row": pd.array([r.source_row for r in raw.rows], dtype="Int32"),
        }
    )
    for c in COLUMNS[raw.kind]:
        frame[f"{c}_raw"] = pd.array([text(r.cells.get(c)) for r in raw.rows], dtype="object")
    return frame


def _core_frame(sha: str, cycle: Cycle, result: ValidationResult) -> pd.DataFrame:
    rows = [
        {
            "cycle_id": cycle.cycle_id,
            "country_iso3": result.country_iso3,
            "indicator_code": a.indicator_code,
            "value": a.value,
            "unit": a.unit,
            "n_periods": a.n_periods,
            "is_unit_converted": a.is_unit_converted,
            "reliability": a.reliability,
            "credibility": a.credibility,
            "trend_reported": a.trend_reported,
            "submission_sha256": sha,
            "source_rows": list(a.source_rows),
        }
        for a in result.annual
    ]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["value"] = frame["value"].astype("float64")
        frame["credibility"] = frame["credibility"].astype("int8")
    return frame


def _stored_issues(con: duckdb.DuckDBPyConnection, sha: str) -> list[Issue]:
    rows = con.execute(
        "SELECT severity, rule, source_row, column_name, cell_value, params_json "
        "FROM raw_intake__issues WHERE submission_sha256 = ? ORDER BY issue_no",
        [sha],
    ).fetchall()
    return [Issue(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def quarantine(
    ws: Workspace,
    cycle_id: str,
    sha: str,
    name: str,
    data: bytes,
    result: ValidationResult,
    status: Status,
) -> Path:
    """Copy a refused file to quarantine with its findings in every language."""
    folder = ws.quarantine / cycle_id / sha[:16]
    target = folder / safe_name(name)
    _write_atomic(target, data)
    report = {
        "file": name,
        "sha256": sha,
        "status": status,
        "issues": [
            {
                "severity": i.severity,
                "row": i.row,
                "column": i.column,
                "value": i.value,
                "rule": i.rule,
                **{f"message_{lang}": " ".join(i.message(lang)) for lang in LANGS},
            }
            for i in result.issues
        ],
    }
    _write_atomic(
        folder / "findings.json", json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    )
    return target


def pickup_inbox(ws: Workspace, cycle_id: str) -> list[Path]:
    """Files waiting in the cycle's inbox, oldest name first (resubmissions sort later)."""
    folder = ws.inbox_for(cycle_id)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def clear_from_inbox(path: Path, archived: Path) -> None:
    """Remove an inbox file once its bytes are safe in the archive."""
    if archived.exists() and archived.stat().st_size == path.stat().st_size:
        path.unlink()
    else:  # never delete what we have not kept
        logger.error("not removing %s: archive copy %s is missing", path, archived)


def copy_into_inbox(ws: Workspace, cycle_id: str, files: list[Path]) -> list[Path]:
    """Place files in a cycle's inbox (used by the demo and by `ideal ingest`)."""
    folder = ws.inbox_for(cycle_id)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in files:
        target = folder / safe_name(f.name)
        shutil.copyfile(f, target)
        out.append(target)
    return out
