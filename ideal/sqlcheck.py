"""Row validation compiled to DuckDB SQL: the engine for large CSV submissions.

Pydantic checks one row at a time (about 190k rows/s here); DuckDB reads a million rows
in a fraction of a second. For a large CSV file this module

1. stages the file's cells in DuckDB with ``read_csv`` (every column VARCHAR, the
   delimiter and encoding ``ideal.readers.sniff_csv`` found), numbering each row with
   the line the steward sees (``stage_csv``);
2. runs ONE query, compiled from the contract's fields and the catalogue
   (``compile_event_checks``, ``compile_indicator_checks``), that types every row and
   flags each check it cannot vouch for; its result is kept in a temp table, from which
   the violating rows come with the rule codes they may break (``violations``) and the
   clean rows are loaded (``clean``);
3. runs the same pydantic row check as the small-file path on just the violating rows,
   so the findings (rule, row, column, value, message) are the pydantic path's, row
   for row.

The query is conservative by design. A row is *clean* only when every cell is in a
plain form whose typed value SQL computes exactly as pydantic does: a country spelling
the reference resolver knows, an event type or item written as its code or catalogue
name in a safe alphabet (accented Latin letters, whose accents DuckDB's
``strip_accents`` removes exactly as Unicode NFKD does), a date written 2025-03-14 or
14/03/2025, a number with digits and the file's separators only, a grade A-F or 1-6,
text within its length. Anything else, and any row that would draw a warning, is
flagged and left to pydantic, which may well accept it.

What the query knows is compiled in, never restated: the event types, items, their
units and plausible ranges, and the indicators come from the catalogue as VALUES
tables; each distinct country cell of the file is resolved once by the reference
resolver (the one country encoder) into another; length limits, grade letters and
credibility bounds are read from the pydantic fields' constraints. Text is cleaned on
DISTINCT cells, not on every row.

Files DuckDB cannot read line for line as Python's csv module does (quoted line
breaks, stray quotes, blank lines between rows, NUL bytes, lone CR line ends) raise
``SqlPathUnavailable`` and take the pydantic path, which is always exact.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import typing
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
from annotated_types import Ge, Le, MaxLen
from pydantic.fields import FieldInfo

from ideal.catalogue import Catalogue
from ideal.contract import (
    EVENT_COLUMNS,
    EVENT_TYPED_COLUMNS,
    EXPERT_SCALE,
    FILE_COLUMNS,
    NUMBER_COLUMN,
    TRENDS,
    ContractContext,
    EventRecord,
    IndicatorRecord,
    Kind,
    quarter_end,
)
from ideal.events import EventValidation, check_event_row, file_issues
from ideal.readers import (
    COMMA_DECIMAL_RE,
    POINT_DECIMAL_RE,
    Cell,
    CsvLayout,
    RawSubmission,
    decide_decimal,
)
from ideal.reference import CountryResolver
from ideal.validation import (
    ValidationResult,
    check_indicator_row,
    check_rows,
    header_issues,
    issue,
    sort_issues,
)

logger = logging.getLogger(__name__)

SQL_MIN_ROWS = 20_000
"""Files with more lines than this take the SQL path (when they are CSV)."""

PY_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
"""What Python's ``str.strip()`` removes; SQL trims exactly these characters."""

# Accented letters whose NFKD form is an ASCII letter plus combining marks, so that
# Python's accent folding and DuckDB's strip_accents agree on them (tests/test_sqlcheck).
SAFE_LETTERS = "áéíóúýÁÉÍÓÚÝàèìòùÀÈÌÒÙâêîôûÂÊÎÔÛãõñÃÕÑäëïöüÿÄËÏÖÜçÇ"
_SAFE_WORD = f"[A-Za-z0-9{SAFE_LETTERS} _]+"  # event types and items
_MAX_NUMBER_CHARS = 20  # longer digit strings go to pydantic (rounding stays Python's)


# The reason given when a file taken for UTF-8 from its head has other bytes further down.
NOT_UTF8 = "bytes that are not UTF-8 past the head of the file"


class SqlPathUnavailable(Exception):
    """The file cannot take the SQL path; ``reason`` says why (it takes pydantic's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- SQL literals -------------------------------------------------------------------------
def lit(value: object) -> str:
    """A SQL literal for a value from the catalogue, reference data or the context."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _values(name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A CTE of literal rows (a lookup table compiled from the catalogue)."""
    if not rows:
        typed_nulls = ", ".join(f"NULL AS {c}" for c in columns)
        return f"{name} AS (SELECT {typed_nulls} WHERE FALSE)"
    body = ",\n    ".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows)
    return f"{name}({', '.join(columns)}) AS (VALUES\n    {body})"


def _whitespace_class() -> str:
    """An RE2 character class of exactly the characters in PY_WHITESPACE."""
    points = sorted(ord(c) for c in PY_WHITESPACE)
    ranges: list[tuple[int, int]] = []
    for p in points:
        if ranges and p == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], p)
        else:
            ranges.append((p, p))
    parts = (rf"\x{{{a:x}}}" if a == b else rf"\x{{{a:x}}}-\x{{{b:x}}}" for a, b in ranges)
    return "[" + "".join(parts) + "]"


_W = _whitespace_class()
_HAS_EDGE_SPACE = lit(f"^{_W}|{_W}$")
_ONLY_SPACE = lit(f"{_W}*")


def _strip(expr: str) -> str:
    """Python's ``str.strip()`` in SQL.

    DuckDB's trim with a character set is slow, and so is a regular expression on every
    cell: a cell that starts and ends with printable ASCII is returned as it is.
    """
    return (
        f"CASE WHEN {expr} = '' OR (ord({expr}) BETWEEN 33 AND 126 "
        f"AND ord(right({expr}, 1)) BETWEEN 33 AND 126) THEN {expr} "
        f"WHEN regexp_matches({expr}, {_HAS_EDGE_SPACE}) "
        f"THEN trim({expr}, {lit(PY_WHITESPACE)}) ELSE {expr} END"
    )


def is_blank_sql(expr: str) -> str:
    """TRUE for an empty or whitespace-only cell (``ideal.readers.is_blank_row``).

    A cell whose first character is not whitespace is not blank: that test is cheap,
    and the regular expression only runs on the rare cells that start with a space.
    """
    # ord() of the first character: printable ASCII (33-126) is never whitespace
    return (
        f"CASE WHEN {expr} = '' THEN TRUE WHEN ord({expr}) BETWEEN 33 AND 126 THEN FALSE "
        f"ELSE regexp_full_match({expr}, {_ONLY_SPACE}) END"
    )


def _in(expr: str, options: Sequence[object]) -> str:
    return f"{expr} IN ({', '.join(lit(o) for o in options)})"


# -- constraints read from the pydantic fields ----------------------------------------
Model = type[EventRecord] | type[IndicatorRecord]


def _field(model: Model, name: str) -> FieldInfo:
    return model.model_fields[name]


def max_length(model: Model, name: str) -> int:
    for m in _field(model, name).metadata:
        if isinstance(m, MaxLen):
            return int(m.max_length)
    raise ValueError(f"{model.__name__}.{name} declares no max_length")


def bounds(model: Model, name: str) -> tuple[int, int]:
    low = high = None
    for m in _field(model, name).metadata:
        if isinstance(m, Ge):
            low = int(typing.cast(int, m.ge))
        if isinstance(m, Le):
            high = int(typing.cast(int, m.le))
    if low is None or high is None:
        raise ValueError(f"{model.__name__}.{name} declares no ge/le bounds")
    return low, high


def choices(model: Model, name: str) -> tuple[str, ...]:
    """The values of a Literal-typed field (the Admiralty reliability grades)."""
    return tuple(str(a) for a in typing.get_args(_field(model, name).annotation))


# -- the pieces of the query --------------------------------------------------------------
def _number_sql(expr: str, decimal: Literal[".", ","]) -> str:
    """The number a plain cell holds (digits and the file's separators only), else NULL."""
    if decimal == ",":
        pattern = r"(?:[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?|[0-9]+(?:,[0-9]+)?)"
        cast = f"CAST(replace(replace({expr}, '.', ''), ',', '.') AS DOUBLE)"
    else:
        pattern = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
        cast = f"CAST(replace({expr}, ',', '') AS DOUBLE)"
    return (
        f"CASE WHEN length({expr}) <= {_MAX_NUMBER_CHARS} "
        f"AND regexp_full_match({expr}, {lit(pattern)}) THEN {cast} END"
    )


def _distinct(view: str, column: str) -> str:
    """Each distinct cell of a column, as received (``raw``) and stripped (``s``).

    Everything computed from a distinct cell is computed in a SELECT list over this, not
    in a WHERE or JOIN condition: DuckDB would push such a filter below the DISTINCT and
    run it on every row.
    """
    return f"(SELECT raw, {_strip('raw')} AS s FROM (SELECT DISTINCT {column} AS raw FROM {view}))"


def _fold_sql(expr: str) -> str:
    """``ideal.catalogue.fold`` for text in the safe alphabet."""
    return f"trim(regexp_replace(lower(strip_accents({expr})), '[ _]+', ' ', 'g'))"


def _source_and_notes(
    view: str, columns: Collection[str], model: Model, ctes: list[str], joins: list[str]
) -> tuple[str, str]:
    """SQL expressions for the optional source and notes columns (both kinds of file)."""
    notes = "v.notes" if "notes" in columns else "''"
    if "source" not in columns:
        return "CAST(NULL AS VARCHAR)", notes
    ctes.append(_text_map("m_source", view, "source", model, required=True))
    joins.append("m_source ms ON v.source = ms.raw")
    return "ms.text", notes


def _text_map(name: str, view: str, column: str, model: Model, required: bool) -> str:
    """Distinct cells of a text column -> the text stored, if plainly valid (else NULL)."""
    ok = f"length(s) <= {max_length(model, column)}" + (" AND s <> ''" if required else "")
    return (
        f"{name} AS (SELECT raw, CASE WHEN {ok} THEN s END AS text FROM {_distinct(view, column)})"
    )


def _unit_map(view: str) -> str:
    # Python lower-cases the unit; on ASCII codes DuckDB's lower() agrees
    return (
        f"m_unit AS (SELECT raw, CASE WHEN regexp_full_match(s, '[A-Za-z0-9_]+') "
        f"THEN lower(s) END AS unit FROM {_distinct(view, 'unit')})"
    )


def _code_key(view: str, column: str, pattern: str, key: str) -> str:
    """Distinct cells of a code column with the key they are looked up by (NULL if odd)."""
    return (
        f"(SELECT raw, CASE WHEN regexp_full_match(s, {lit(pattern)}) THEN {key} END AS key "
        f"FROM {_distinct(view, column)})"
    )


def _notes_ok(expr: str, model: Model) -> str:
    # High-cardinality free text: a cell is clean as sent, or pydantic strips it.
    return (
        f"({expr} = '' OR (NOT regexp_matches({expr}, {_HAS_EDGE_SPACE}) "
        f"AND length({expr}) <= {max_length(model, 'notes')}))"
    )


def _grade_checks(model: Model) -> list[Check]:
    grades = choices(model, "reliability")
    low, high = bounds(model, "credibility")
    return [
        Check(
            "reliability",
            _in("reliability_cell", [*grades, *(g.lower() for g in grades)]),
        ),
        Check(
            "credibility",
            _in("credibility_cell", [str(n) for n in range(low, high + 1)]),
        ),
    ]


MAX_COUNTRY_SPELLINGS = 5000
"""Distinct country cells resolved for the query; rows with others are left to pydantic."""


def resolve_countries(
    con: duckdb.DuckDBPyConnection, view: str, resolver: CountryResolver
) -> dict[str, str]:
    """Each distinct country cell of the staged file, as received -> ISO3, where known.

    The reference resolver is the one country encoder, so each spelling is resolved by
    it, once, and compiled into the query as a table.
    """
    rows = con.execute(
        f"SELECT DISTINCT country FROM {view} LIMIT {MAX_COUNTRY_SPELLINGS}"
    ).fetchall()
    found = {}
    for (cell,) in rows:
        text = str(cell).strip()  # as the contract's parser sees it
        iso3 = resolver.try_resolve(text) if text else None
        if iso3 is not None:
            found[str(cell)] = iso3
    return found


@dataclass(frozen=True)
class Check:
    """One clause of the query: TRUE when the row is plainly fine on this count.

    ``ok`` is written over the typed columns and the cells (``<column>_cell``). Which
    rule a flagged row breaks, if any, pydantic says when it checks the row again.
    """

    name: str
    ok: str


@dataclass(frozen=True)
class CompiledChecks:
    """The SQL compiled for one file from the contract and the catalogue.

    ``query`` is the one query: every row of the staged view typed, with ``failed``, a
    bit mask of the checks the row fails (bit i for ``checks[i]``; 0 when clean).
    ``ideal.sqlcheck`` materialises it once (``typed_table``);
    ``violations`` and ``clean`` read that table.
    """

    kind: Kind
    query: str
    typed_columns: tuple[str, ...]
    checks: tuple[Check, ...]
    cell_columns: tuple[str, ...]

    def violations(self, typed_table: str, view: str) -> str:
        """The rows the query cannot vouch for, with their cells, in row order."""
        cells = ", ".join(f"v.{c} AS {c}_cell" for c in self.cell_columns)
        return (
            f"SELECT t.source_row, {cells} FROM {typed_table} t JOIN {view} v "
            "USING (source_row) WHERE t.failed <> 0 ORDER BY t.source_row"
        )

    def clean(self, typed_table: str) -> str:
        """The typed rows the query vouches for."""
        return f"SELECT {', '.join(self.typed_columns)} FROM {typed_table} WHERE failed = 0"


def _assemble(
    kind: Kind,
    view: str,
    columns: Sequence[str],
    ctes: list[str],
    joins: list[str],
    typed: dict[str, str],
    checks: list[Check],
) -> CompiledChecks:
    inner = ",\n    ".join(
        ["v.source_row", *(f"{expr} AS {name}" for name, expr in typed.items())]
        + [f"v.{c} AS {c}_cell" for c in columns]
    )
    if len(checks) > 31:
        raise ValueError("more checks than bits in the failed mask")
    # One INTEGER per row instead of a column per check: bit i set when check i fails.
    # The typed rows are materialised once, and a narrower table is cheaper to write.
    failed = " + ".join(
        f"CASE WHEN coalesce({c.ok}, FALSE) THEN 0 ELSE {1 << bit} END"
        for bit, c in enumerate(checks)
    )
    public = [name for name in typed if not name.startswith("_")]
    query = (
        "WITH "
        + ",\n".join(ctes)
        + f"\nSELECT source_row, {', '.join(public)},\n  CAST({failed} AS INTEGER) AS failed"
        + f"\nFROM (SELECT\n    {inner}\n  FROM {view} v\n  "
        + "\n  ".join(f"LEFT JOIN {j}" for j in joins)
        + ")"
    )
    return CompiledChecks(kind, query, ("source_row", *public), tuple(checks), tuple(columns))


def compile_event_checks(
    view: str, present: Sequence[str], ctx: ContractContext, countries: dict[str, str]
) -> CompiledChecks:
    """The query that types an event file's rows and flags those it cannot vouch for.

    ``present`` lists the canonical columns the file has (the required ones, at least);
    ``countries`` maps the file's country cells to ISO3 (``resolve_countries``).
    """
    m: Model = EventRecord
    cat: Catalogue = ctx.catalogue
    columns = [c for c in EVENT_COLUMNS if c in present]
    items = [
        (t.code, key, i.code, i.unit, i.plausible[0], i.plausible[1])
        for t in cat.event_types.values()
        for key, code in cat.event_item_spellings.items()
        if (i := t.items.get(code)) is not None
    ]
    day = (
        "CAST(CASE WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}') "
        "THEN try_strptime(s, '%Y-%m-%d') "
        "WHEN regexp_full_match(s, '[0-9]{2}/[0-9]{2}/[0-9]{4}') "
        "THEN try_strptime(s, '%d/%m/%Y') END AS DATE)"
    )
    ctes = [
        _values("m_country", ("raw", "iso3"), sorted(countries.items())),
        _values("type_codes", ("key", "code"), sorted(cat.event_type_spellings.items())),
        _values("item_codes", ("type_code", "key", "item", "unit", "low", "high"), items),
        f"m_date AS (SELECT raw, CASE WHEN day <= {lit(ctx.today)} "
        f"AND year(day) = {ctx.cycle_year} THEN day END AS day "
        f"FROM (SELECT raw, {day} AS day FROM {_distinct(view, 'date')}))",
        _text_map("m_admin1", view, "admin1", m, required=True),
        "m_type AS (SELECT d.raw, t.code FROM "
        f"{_code_key(view, 'event_type', _SAFE_WORD, _fold_sql('s'))} d "
        "JOIN type_codes t ON t.key = d.key)",
        "m_item AS (SELECT d.raw, i.type_code, i.item, i.unit, i.low, i.high FROM "
        f"{_code_key(view, 'item', _SAFE_WORD, _fold_sql('s'))} d "
        "JOIN item_codes i ON i.key = d.key)",
        _unit_map(view),
    ]
    joins = [
        "m_country mc ON v.country = mc.raw",
        "m_date md ON v.date = md.raw",
        "m_admin1 ma ON v.admin1 = ma.raw",
        "m_type mt ON v.event_type = mt.raw",
        "m_item mi ON v.item = mi.raw AND mi.type_code = mt.code",
        "m_unit mu ON v.unit = mu.raw",
    ]
    source, notes = _source_and_notes(view, columns, m, ctes, joins)
    t = EVENT_TYPED_COLUMNS
    by_column = {
        "country": "mc.iso3",
        "date": "md.day",
        "admin1": "ma.text",
        "event_type": "mt.code",
        "item": "mi.item",
        "quantity": _number_sql("v.quantity", ctx.decimal),
        "unit": "mi.unit",
        "reliability": "upper(v.reliability)",
        "credibility": "TRY_CAST(v.credibility AS TINYINT)",
        "source": source,
        "notes": f"NULLIF({notes}, '')",
    }
    typed = {
        **{t[c]: expr for c, expr in by_column.items()},
        "_unit_given": "mu.unit",
        "_low": "mi.low",
        "_high": "mi.high",
        "_notes_cell": notes,
    }
    checks = [
        Check("country", f"{t['country']} IS NOT NULL"),
        Check("date", f"{t['date']} IS NOT NULL"),
        Check("admin1", "admin1 IS NOT NULL"),
        Check("event_type", "event_type IS NOT NULL"),
        Check("item", "item IS NOT NULL"),
        Check("quantity", "quantity IS NOT NULL"),
        # a unit to convert draws a warning: pydantic explains it
        Check("unit", "_unit_given = unit"),
        Check("plausible", "quantity BETWEEN _low AND _high"),
        Check("source", "source IS NOT NULL"),
        Check("notes", _notes_ok("_notes_cell", m)),
        *_grade_checks(m),
    ]
    return _assemble("events", view, columns, ctes, joins, typed, checks)


def _periods(ctx: ContractContext) -> list[str]:
    """The canonical periods a row of this cycle may report (ended, in the cycle's year)."""
    y = ctx.cycle_year
    out = [str(y)] if dt.date(y, 12, 31) < ctx.today else []
    return out + [f"{y}-Q{q}" for q in range(1, 5) if quarter_end(y, q) < ctx.today]


def compile_indicator_checks(
    view: str, present: Sequence[str], ctx: ContractContext, countries: dict[str, str]
) -> CompiledChecks:
    """The query that types an indicator file's rows and flags those it cannot vouch for."""
    m: Model = IndicatorRecord
    columns = [c for c in FILE_COLUMNS if c in present]
    inds = [
        (i.code, i.unit, i.kind, i.plausible[0], i.plausible[1]) for i in ctx.catalogue.indicators
    ]
    # Only ASCII spellings: DuckDB's lower() and Python's agree on them.
    trends = sorted((k, v) for k, v in TRENDS.items() if re.fullmatch(r"[a-z]+", k))
    periods = _periods(ctx) or [""]
    ctes = [
        _values("m_country", ("raw", "iso3"), sorted(countries.items())),
        _values("indicator_codes", ("code", "unit", "kind", "low", "high"), inds),
        _values("trend_words", ("word", "trend"), trends),
        "m_period AS (SELECT raw, CASE WHEN "
        f"{_in('period', periods)} THEN period END AS period FROM (SELECT raw, CASE "
        "WHEN regexp_full_match(s, '[0-9]{4}') THEN s "
        "WHEN regexp_full_match(s, '[0-9]{4}[-/ ]?[QqTt][1-4]') "
        f"THEN left(s, 4) || '-Q' || right(s, 1) END AS period FROM {_distinct(view, 'period')}))",
        "m_indicator AS (SELECT d.raw, i.* FROM "
        f"{_code_key(view, 'indicator', '[A-Za-z0-9_]+', 'lower(s)')} d "
        "JOIN indicator_codes i ON i.code = d.key)",
        _unit_map(view),
    ]
    joins = [
        "m_country mc ON v.country = mc.raw",
        "m_period mp ON v.period = mp.raw",
        "m_indicator mi ON v.indicator = mi.raw",
        "m_unit mu ON v.unit = mu.raw",
    ]
    trend, trend_ok, trend_given = "CAST(NULL AS VARCHAR)", "TRUE", "''"
    if "trend" in columns:
        ctes.append(
            "m_trend AS (SELECT d.raw, d.s, w.trend FROM (SELECT raw, s, CASE WHEN "
            "regexp_full_match(s, '[A-Za-z]+') THEN lower(s) END AS key FROM "
            f"{_distinct(view, 'trend')}) d LEFT JOIN trend_words w ON w.word = d.key)"
        )
        joins.append("m_trend mt ON v.trend = mt.raw")
        trend, trend_given = "mt.trend", "mt.s"
        # a trend on a non-expert indicator draws a warning: pydantic explains it
        trend_ok = "_trend_given = '' OR (_kind = 'expert' AND trend IS NOT NULL)"
    source, notes = _source_and_notes(view, columns, m, ctes, joins)
    typed = {
        "country": "mc.iso3",
        "period": "mp.period",
        "indicator": "mi.code",
        "value": _number_sql("v.value", ctx.decimal),
        "unit": "mi.unit",
        "source": source,
        "reliability": "upper(v.reliability)",
        "credibility": "TRY_CAST(v.credibility AS TINYINT)",
        "trend": trend,
        "notes": f"NULLIF({notes}, '')",
        "value_cell": "v.value",
        "_unit_given": "mu.unit",
        "_kind": "mi.kind",
        "_low": "mi.low",
        "_high": "mi.high",
        "_trend_given": trend_given,
        "_notes_cell": notes,
    }
    checks = [
        Check("country", "country IS NOT NULL"),
        Check("period", "period IS NOT NULL"),
        Check("indicator", "indicator IS NOT NULL"),
        Check("value", "value IS NOT NULL"),
        Check(
            "scale", f"_kind <> 'expert' OR value BETWEEN {EXPERT_SCALE[0]} AND {EXPERT_SCALE[1]}"
        ),
        Check("unit", "_unit_given = unit"),
        # conservative: plausibility is judged on annual values, but a flagged row costs little
        Check("plausible", "value BETWEEN _low AND _high"),
        Check("trend", trend_ok),
        Check("source", "source IS NOT NULL"),
        Check("notes", _notes_ok("_notes_cell", m)),
        *_grade_checks(m),
    ]
    return _assemble("indicators", view, columns, ctes, joins, typed, checks)


# -- staging a CSV file in DuckDB --------------------------------------------------------
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
_RE2_DELIMITER = {",": ",", ";": ";", "\t": r"\t", "|": r"\|"}


def _plain_line_re2(delimiter: str) -> str:
    """RE2 for a line whose quoted fields are RFC 4180 on their own line."""
    d = _RE2_DELIMITER.get(delimiter, re.escape(delimiter))
    field = rf'(?:[^"\r\n{d}]*|"(?:[^"\r\n]|"")*")'
    return rf"{field}(?:{d}{field})*\r?"


def _odd_quoting(
    con: duckdb.DuckDBPyConnection, readable: _Readable, skip: int, delimiter: str
) -> bool:
    """True if a line below the header holds a quote that is not RFC 4180 on its own line.

    Python's csv module and DuckDB's reader agree on lines whose quotes all open and
    close whole fields; a quoted line break, text after a closing quote or a space
    before an opening one are read differently (DuckDB trims the space), so a file
    with any of them takes the pydantic path. DuckDB reads the file as lines (no
    quoting; NUL, which no staged file has, as the delimiter) and matches only the
    lines with a quote, in parallel.
    """
    lines = (
        f"read_csv({lit(str(readable.path))}, delim={lit(chr(0))}, header=false, "
        f"skip={skip}, quote='', escape='', auto_detect=false, "
        f"columns={{'line': 'VARCHAR'}}, encoding={lit(readable.encoding)})"
    )
    try:
        row = con.execute(
            f"SELECT count(*) FROM {lines} WHERE contains(line, '\"') "
            f"AND NOT regexp_full_match(line, {lit(_plain_line_re2(delimiter))})"
        ).fetchone()
    except duckdb.Error as exc:
        raise _unreadable("DuckDB cannot read its lines", exc) from None
    return bool(row and row[0])


def _unreadable(what: str, exc: duckdb.Error) -> SqlPathUnavailable:
    """Why DuckDB could not read the file; NOT_UTF8 lets the intake judge it again."""
    if "Invalid unicode" in str(exc):
        return SqlPathUnavailable(NOT_UTF8)
    return SqlPathUnavailable(f"{what}: {str(exc)[:200]}")


@dataclass(frozen=True)
class _Readable:
    path: Path
    encoding: str  # as DuckDB names it
    body: bytes  # the bytes DuckDB reads, for counting lines


@contextmanager
def _readable(data: bytes, encoding: str, path: Path | None) -> Iterator[_Readable]:
    """The file as DuckDB can read it: the original, or a UTF-8 copy when it must be.

    DuckDB reads UTF-8 and Latin-1 itself but refuses bytes 0x80-0x9F as Latin-1; a
    cp1252 file using them (€, “ ”, –) and a UTF-16 file are transcoded to UTF-8 first.
    """
    native: str | None = None
    if encoding in ("utf-8", "utf-8-sig"):
        native = "utf-8"
    elif encoding in ("cp1252", "latin-1") and not _C1_BYTES.search(data):
        native = "latin-1"  # cp1252 and Latin-1 agree outside 0x80-0x9F
    if native is not None and path is not None:
        yield _Readable(path, native, data)
        return
    body = data if native is not None else data.decode(encoding).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix="ideal-sqlcheck-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        yield _Readable(Path(tmp), native or "utf-8", body)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _line_end(body: bytes, line: int) -> int:
    """Offset just past the ``line``-th line break (1-based lines)."""
    pos = -1
    for _ in range(line):
        pos = body.find(b"\n", pos + 1)
        if pos < 0:
            return len(body)
    return pos + 1


def _data_lines(body: bytes, start: int) -> int:
    """Lines after ``start``, not counting line breaks at the very end of the file."""
    end = len(body)
    while end > start and body[end - 1] in b"\r\n":
        end -= 1
    return 0 if end <= start else body.count(b"\n", start, end) + 1


def stage_csv(
    con: duckdb.DuckDBPyConnection, data: bytes, layout: CsvLayout, path: Path | None
) -> tuple[str, int]:
    """Load the file's cells into a temp table; returns (view of its rows, row count).

    The view has ``source_row`` (the editor line, as the pydantic path numbers rows) and
    one VARCHAR column per canonical column found, every cell as received; blank rows
    are left out. Raises SqlPathUnavailable if DuckDB would not read the file line for
    line as Python's csv module does.
    """
    if layout.encoding != "utf-16" and b"\x00" in data:
        raise SqlPathUnavailable("NUL bytes in the file")
    name = f"_ideal_stage_{uuid.uuid4().hex[:12]}"
    with _readable(data, layout.encoding, path) as readable:
        body = readable.body
        if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
            raise SqlPathUnavailable("lines ending in a lone CR")
        header_end = _line_end(body, layout.header_row)
        if b'"' in body[:header_end]:
            raise SqlPathUnavailable("quotes above or in the header")
        if b'"' in body and _odd_quoting(con, readable, layout.header_row, layout.delimiter):
            raise SqlPathUnavailable("quoted line breaks or stray quotes")
        n_lines = _data_lines(body, header_end)
        cols = ", ".join(f"{lit(f'c{i}')}: 'VARCHAR'" for i in range(layout.width))
        force = ", ".join(lit(f"c{i}") for i in range(layout.width))
        # A row whose first cell starts with a printable ASCII character is not blank;
        # the full test (every cell) runs only on the others.
        blank = " AND ".join(is_blank_sql(f"c{i}") for i in range(layout.width))
        is_blank = f"CASE WHEN c0 <> '' AND ord(c0) BETWEEN 33 AND 126 THEN FALSE ELSE {blank} END"
        try:
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT *, {is_blank} AS is_blank "
                f"FROM read_csv({lit(str(readable.path))}, "
                f"delim={lit(layout.delimiter)}, header=false, skip={layout.header_row}, "
                f"auto_detect=false, columns={{{cols}}}, quote='\"', escape='\"', "
                f"null_padding=true, allow_quoted_nulls=false, force_not_null=[{force}], "
                f"strict_mode=true, encoding={lit(readable.encoding)})"
            )
        except duckdb.Error as exc:
            raise _unreadable("DuckDB cannot read it", exc) from None
    row = con.execute(f"SELECT count(*), min(rowid), max(rowid) FROM {name}").fetchone()
    n_records, first, last = (int(row[0]), int(row[1] or 0), int(row[2] or 0)) if row else (0, 0, 0)
    if n_records != n_lines:  # DuckDB skips blank lines; then rows and lines differ
        con.execute(f"DROP TABLE {name}")
        raise SqlPathUnavailable("blank lines between rows")
    if n_records and last - first + 1 != n_records:  # rowids number the records in order
        con.execute(f"DROP TABLE {name}")
        raise SqlPathUnavailable("the staged rows are not numbered one by one")
    offset = layout.header_row + 1 - first
    mapped = ", ".join(f"c{i} AS {column}" for column, i in layout.positions.items())
    # rowid is the record's position in the file (insertion order is preserved; inside a
    # transaction DuckDB numbers new rows from a large base, hence the offset)
    con.execute(
        f"CREATE TEMP VIEW {name}_rows AS SELECT "
        f"CAST(rowid + {offset} AS INTEGER) AS source_row, {mapped} "
        f"FROM {name} WHERE NOT is_blank"
    )
    counted = con.execute(f"SELECT count(*) FROM {name}_rows").fetchone()
    return f"{name}_rows", int(counted[0]) if counted else 0


def drop_staged(con: duckdb.DuckDBPyConnection, view: str | None) -> None:
    """Forget a staged file (its view and table)."""
    if view:
        con.execute(f"DROP TABLE IF EXISTS {typed_table(view)}")
        con.execute(f"DROP VIEW IF EXISTS {view}")
        con.execute(f"DROP TABLE IF EXISTS {view.removesuffix('_rows')}")


def staged_decimal(
    con: duckdb.DuckDBPyConnection, view: str, column: str, delimiter: str
) -> Literal[".", ","]:
    """``ideal.readers.guess_decimal`` over the staged number column, in SQL."""
    s = f"replace(replace({_strip(column)}, '\u00a0', ''), ' ', '')"
    comma = f"regexp_full_match({s}, {lit(COMMA_DECIMAL_RE)})"
    point = f"regexp_full_match({s}, {lit(POINT_DECIMAL_RE)})"
    # both patterns need a separator: cells without one count for neither
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {comma} AND NOT {point}), "
        f"count(*) FILTER (WHERE {point} AND NOT {comma}) FROM {view} "
        f"WHERE contains({column}, ',') OR contains({column}, '.')"
    ).fetchone()
    n_comma, n_point = (int(row[0]), int(row[1])) if row else (0, 0)
    return decide_decimal(n_comma, n_point, delimiter)


# -- the SQL path -------------------------------------------------------------------------
def validate_large_csv(
    con: duckdb.DuckDBPyConnection,
    data: bytes,
    layout: CsvLayout,
    ctx: ContractContext,
    expected_countries: tuple[str, ...] = (),
    path: Path | None = None,
) -> tuple[RawSubmission, ValidationResult]:
    """Validate a CSV file staged in DuckDB; the findings are the pydantic path's.

    The staged rows stay on ``con`` (``raw.staged``) for loading; ``drop_staged``
    removes them. Raises SqlPathUnavailable when the file must take the pydantic path.
    """
    view, n_rows = stage_csv(con, data, layout, path)
    try:
        raw = RawSubmission(
            fmt="csv",
            header_row=layout.header_row,
            columns=layout.columns,
            unknown_columns=layout.unknown_columns,
            rows=[],
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            kind=layout.kind,
            staged=view,
            n_staged=n_rows,
        )
        if NUMBER_COLUMN[raw.kind] in raw.columns:
            raw.decimal = staged_decimal(con, view, NUMBER_COLUMN[raw.kind], layout.delimiter)
        ctx = _with_decimal(ctx, raw.decimal)
        if raw.kind == "events":
            return raw, _validate_events(con, raw, ctx, expected_countries)
        return raw, _validate_indicators(con, raw, ctx, expected_countries)
    except BaseException:
        drop_staged(con, view)
        raise


def _with_decimal(ctx: ContractContext, decimal: Literal[".", ","]) -> ContractContext:
    from dataclasses import replace

    return replace(ctx, decimal=decimal)


def typed_table(view: str) -> str:
    """Where the typed rows of a staged view are kept."""
    return view.removesuffix("_rows") + "_typed"


def run_checks(con: duckdb.DuckDBPyConnection, compiled: CompiledChecks, view: str) -> str:
    """Run the compiled query once over the staged rows; returns the typed table's name."""
    table = typed_table(view)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {compiled.query}")
    return table


def _flagged_rows(
    con: duckdb.DuckDBPyConnection, compiled: CompiledChecks, view: str
) -> Iterator[tuple[int, dict[str, Cell]]]:
    """(row, cells as received) of each row the query flags, in row order (for pydantic)."""
    cur = con.execute(compiled.violations(typed_table(view), view))
    names = [d[0] for d in cur.description]
    i_cells = {c: names.index(f"{c}_cell") for c in compiled.cell_columns}
    n_flagged = 0
    while batch := cur.fetchmany(10_000):
        n_flagged += len(batch)
        for r in batch:
            yield int(r[0]), {c: r[i] for c, i in i_cells.items()}
    logger.info("SQL path: %d rows flagged for pydantic", n_flagged)


def _validate_events(
    con: duckdb.DuckDBPyConnection,
    raw: RawSubmission,
    ctx: ContractContext,
    expected_countries: tuple[str, ...],
) -> EventValidation:
    issues = header_issues(raw)
    if raw.missing_columns:
        return EventValidation(None, [], issues, raw.n_rows)
    if raw.n_rows == 0:
        issues.append(issue("no_data_rows"))
        return EventValidation(None, [], issues, 0)
    assert raw.staged is not None
    present = list(raw.columns)
    countries = resolve_countries(con, raw.staged, ctx.resolver)
    compiled = compile_event_checks(raw.staged, present, ctx, countries)
    typed = run_checks(con, compiled, raw.staged)
    events, found = check_rows(_flagged_rows(con, compiled, raw.staged), check_event_row, ctx)
    issues += found
    logger.info("SQL path: %d rows, %d valid among those flagged", raw.n_rows, len(events))
    # the table rules judge the clean rows and pydantic's alike (ideal.events.file_issues)
    clean = compiled.clean(typed)
    country, more = file_issues(ctx, expected_countries, events, con=con, clean=clean)
    issues += more
    sort_issues(issues)
    return EventValidation(country, [], issues, raw.n_rows, events=events, sql_clean=clean)


def _validate_indicators(
    con: duckdb.DuckDBPyConnection,
    raw: RawSubmission,
    ctx: ContractContext,
    expected_countries: tuple[str, ...],
) -> ValidationResult:
    # The row loop and the table stage of ``ideal.validation.validate_submission``, fed
    # with the flagged rows (checked by pydantic) and the clean rows (typed by SQL).
    from ideal import validation as v

    issues = header_issues(raw)
    if raw.missing_columns:
        return ValidationResult(None, [], issues, raw.n_rows)
    if raw.n_rows == 0:
        issues.append(issue("no_data_rows"))
        return ValidationResult(None, [], issues, 0)
    assert raw.staged is not None
    present = list(raw.columns)
    countries = resolve_countries(con, raw.staged, ctx.resolver)
    compiled = compile_indicator_checks(raw.staged, present, ctx, countries)
    typed = run_checks(con, compiled, raw.staged)
    valid, found = check_rows(_flagged_rows(con, compiled, raw.staged), check_indicator_row, ctx)
    issues += found
    cur = con.execute(compiled.clean(typed))
    names = [d[0] for d in cur.description]
    while batch := cur.fetchmany(50_000):
        for r in batch:
            f = dict(zip(names, r, strict=True))
            record = IndicatorRecord.model_construct(
                **{k: f[k] for k in names if k not in ("source_row", "value_cell")}
            )
            valid.append(v.ValidRow(int(f["source_row"]), record, f["value_cell"]))
    valid.sort(key=lambda row: row.source_row)
    found_countries = {row.record.country for row in valid}
    country = next(iter(found_countries)) if len(found_countries) == 1 else None
    annual = v._annual_values(valid, issues, ctx.catalogue)
    if valid:
        issues += v._table_issues(
            valid, annual, ctx, expected_countries, country, ctx.previous_values, None
        )
    sort_issues(issues)
    return ValidationResult(country, valid, issues, raw.n_rows, annual)
