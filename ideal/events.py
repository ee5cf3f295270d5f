"""Validation of event-record submissions: one seizure, incident or victim per row.

Each row is checked by the pydantic contract (``ideal.contract.EventRecord``), then the
file as a whole by the table rules of ``schemas/quality_rules.yaml`` (``file_issues``):
one country per file, a country the cycle expects, every event type reported, no event
entered twice, no jump in the number of events from the country's previous cycle. Row
findings come from one function, ``check_event_row`` (as ``check_indicator_row`` for
indicator files), which both engines call: the pydantic path here for every row of a
small file, and the SQL path of ``ideal.sqlcheck`` for the rows its DuckDB query flags
in a large one. The table rules are judged by
``ideal.quality`` on one DuckDB relation of the valid events, which both engines build
alike. So both give the same findings, row for row.

Aggregating events into indicator values is not done here (issue 4).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from pydantic import ValidationError

from ideal.catalogue import Catalogue
from ideal.contract import EVENT_TYPED_COLUMNS, HARD_LIMIT_FACTOR, ContractContext, EventRecord
from ideal.readers import Cell, RawSubmission
from ideal.validation import (
    Issue,
    ValidationResult,
    check_rows,
    header_issues,
    issue,
    issues_from_error,
    sort_issues,
)
from ideal.warehouse import borrowed_or_private

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidEvent:
    source_row: int
    record: EventRecord


@dataclass
class EventValidation(ValidationResult):
    """The outcome of validating an event file.

    ``events`` holds the rows pydantic typed: every valid row on the pydantic path, only
    the valid rows the SQL query flagged on the SQL path. There, ``sql_clean`` is a
    DuckDB query giving the typed rows the query found clean, on the connection that
    staged the file (``RawSubmission.staged``).
    """

    events: list[ValidEvent] = field(default_factory=list)
    sql_clean: str | None = None


def check_event_row(
    cells: Mapping[str, Cell], row_no: int, ctx: ContractContext
) -> tuple[ValidEvent | None, list[Issue]]:
    """The typed event (None if the row has errors) and the row's findings."""
    try:
        record = EventRecord.model_validate(cells, context=ctx)
    except ValidationError as exc:
        # the event contract names every cell its cross-field rules judge
        return None, issues_from_error(exc, row_no, cells, field_rules={}, model_rule_columns={})
    return ValidEvent(row_no, record), event_warnings(row_no, record, cells, ctx.catalogue)


def event_warnings(
    row_no: int, rec: EventRecord, cells: Mapping[str, Cell], catalogue: Catalogue
) -> list[Issue]:
    """Findings on a valid event that do not block the file."""
    item = catalogue.event_item_by_code[rec.item]
    raw_quantity = cells.get("quantity")
    out: list[Issue] = []
    if rec.reported_unit is not None:
        out.append(
            issue(
                "unit_converted",
                row_no,
                "unit",
                raw_quantity,
                unit=rec.reported_unit,
                expected=item.unit,
                converted=rec.quantity,
            )
        )
    low, high = item.plausible
    if high > 0 and rec.quantity > high * HARD_LIMIT_FACTOR:
        out.append(
            issue(
                "beyond_hard_limit",
                row_no,
                "quantity",
                raw_quantity,
                limit=high * HARD_LIMIT_FACTOR,
            )
        )
    elif not low <= rec.quantity <= high:
        out.append(
            issue(
                "implausible_value",
                row_no,
                "quantity",
                raw_quantity,
                indicator=item.code,
                low=low,
                high=high,
            )
        )
    if not rec.source:
        out.append(issue("missing_source", row_no, "source", None))
    return out


def file_issues(
    ctx: ContractContext,
    expected_countries: tuple[str, ...],
    events: Sequence[ValidEvent],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    clean: str | None = None,
) -> tuple[str | None, list[Issue]]:
    """The file's country (None unless exactly one) and the table findings on the file.

    The valid events are ``events`` (typed by pydantic) and, on the SQL path, the rows of
    the ``clean`` query on ``con`` (``ideal.sqlcheck``). Both become one DuckDB relation
    (on a private in-memory connection without ``con``), which ``ideal.quality`` sums up
    for its Great Expectations suite: the same SQL and the same suite for either engine.
    """
    if not events and clean is None:
        return None, []
    from ideal import quality  # late: GX takes seconds to import

    columns = ", ".join(quality.EVENT_ROW_COLUMNS)
    parts = [] if clean is None else [f"SELECT {columns} FROM ({clean})"]
    frame = f"_ideal_valid_events_{uuid.uuid4().hex[:12]}"
    with borrowed_or_private(con) as db:
        if events:
            db.register(frame, _typed_frame(events, quality.EVENT_FIELDS))
            typed = ", ".join(
                f"CAST({c} AS {_SQL_TYPES.get(c, 'VARCHAR')}) AS {c}"
                for c in quality.EVENT_ROW_COLUMNS
            )
            parts.append(f"SELECT {typed} FROM {frame}")
        try:
            table = quality.check_events(
                db,
                " UNION ALL ".join(parts),
                ctx.catalogue,
                cycle_id=ctx.cycle_id,
                expected_countries=expected_countries,
                previous=ctx.previous_event_counts,
            )
        finally:
            if events:
                db.unregister(frame)
    country = table.countries[0] if len(table.countries) == 1 else None
    return country, table.issues


# The typed columns' SQL types, as the SQL path's query gives them; the others are text.
_SQL_TYPES = {
    "source_row": "INTEGER",
    EVENT_TYPED_COLUMNS["date"]: "DATE",
    EVENT_TYPED_COLUMNS["quantity"]: "DOUBLE",
}


def _typed_frame(events: Sequence[ValidEvent], fields: Mapping[str, str]) -> pd.DataFrame:
    """The events pydantic typed, for DuckDB; ``fields`` maps a record field to its column."""
    records = [e.record for e in events]
    frame = pd.DataFrame(
        {column: [getattr(r, name) for r in records] for name, column in fields.items()}
    )
    frame.insert(0, "source_row", [e.source_row for e in events])
    frame[fields["date"]] = pd.to_datetime(frame[fields["date"]])
    return frame


def validate_events(
    raw: RawSubmission, ctx: ContractContext, expected_countries: tuple[str, ...] = ()
) -> EventValidation:
    """Check every row of an event file with pydantic (the path for small files)."""
    issues = header_issues(raw)
    if raw.missing_columns:
        return EventValidation(None, [], issues, raw.n_rows)
    if not raw.rows:
        issues.append(issue("no_data_rows"))
        return EventValidation(None, [], issues, 0)
    events, found = check_rows(((r.source_row, r.cells) for r in raw.rows), check_event_row, ctx)
    issues += found
    country, more = file_issues(ctx, expected_countries, events)
    issues += more
    sort_issues(issues)
    return EventValidation(country, [], issues, raw.n_rows, events=events)
