"""The SQL path: DuckDB finds the rows to explain, pydantic explains them, same findings.

Every test here runs both engines of ``ideal.intake.parse_and_validate`` on the same
bytes and compares what a steward would see: status, country, rows, and every finding
(rule, row, column, value, parameters) in order.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import unicodedata
from collections.abc import Iterator, Mapping

import duckdb
import pytest
from annotated_types import MaxLen
from hypothesis import given, settings
from hypothesis import strategies as st

from ideal.catalogue import fold, load_catalogue
from ideal.contract import MAX_TEXT, EventRecord, IndicatorRecord, parse_number
from ideal.cycles import Cycle
from ideal.events import EventValidation
from ideal.intake import parse_and_validate
from ideal.readers import RawSubmission, guess_decimal
from ideal.reference import default_resolver, normalise
from ideal.sqlcheck import (
    PY_WHITESPACE,
    SAFE_LETTERS,
    _fold_sql,
    _number_sql,
    _strip,
    bounds,
    choices,
    lit,
    max_length,
    staged_decimal,
)
from ideal.validation import MAX_LISTED_PER_RULE, ValidationResult

TODAY = dt.date(2026, 1, 15)
CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL",))
EVENT_HEADER = (
    "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
    "credibilidad;notas"
)
GOOD = "Colombia;14/03/2025;Nariño;incautación;cocaína;1.234,5;kg;DIJIN;B;2;"
# Rows with mistakes, each a line of the file.
ERRORS = [
    "Atlantis;14/03/2025;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;31/02/2025;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;14/03/2026;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;14/03/2024;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;;incautación;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;robo;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;heroína;1;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;víctima;cocaína;1;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;-1;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;n/d;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;1;ha;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;armas de fuego;3;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;G;9;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;" + "x" * 2001,
    "Colombia;2025-03-14",  # a short row
    "Perú;2025-03-14;Puno;incautación;cocaína;1;kg;PNP;B;2;",  # a second country
]
# Valid rows that draw warnings, or that only pydantic can read.
VALID_ODD = [
    "Colombia;2025-03-14;Nariño;incautación;cocaína;0,5;t;DIJIN;B;2;",  # converted
    "Colombia;2025-03-14;Nariño;incautación;cocaína;90.000;kg;DIJIN;B;2;",  # implausible
    "Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;;B;2;",  # no source
    " Colombia ;2025-3-4;  Nariño ;Incautación ;COCAINA;1.234,50;KG; DIJIN ;b;2; nota ",
    "CO;14.03.2025;Nariño;seizure;cocaine;12;kg;DIJIN;A;1;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;1e3;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incautación;cocaína;+5;kg;DIJIN;B;2;",
    "Colombia;2025-03-14;Nariño;incidente;secuestro;1;count;GAULA;B;2;",
    'Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;"Operación ""Ñandú""; sur"',
    ";;;;;;;;;;",  # a blank row in Excel's export: not a row
    "   ;  ;;;;;;;;;",  # whitespace only: not a row either
    "\u00a0Colombia\u3000;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;",
]
ATTENTION = ERRORS + VALID_ODD


def event_lines(n: int, attention: list[str] = ATTENTION, every: int = 97) -> list[str]:
    lines = [EVENT_HEADER] + [GOOD] * n
    for k, text in enumerate(attention):
        lines[1 + (k + 1) * every] = text
    return lines


def encode(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def both(
    data: bytes, previous_events: Mapping[str, Mapping[str, int]] | None = None
) -> Iterator[tuple[RawSubmission, ValidationResult]]:
    """The pydantic path's reading, then the SQL path's (staged on a live connection)."""
    run = functools.partial(
        parse_and_validate,
        data,
        CYCLE,
        load_catalogue(),
        default_resolver(),
        TODAY,
        previous_events=previous_events,
    )
    raw, result = run(engine="pydantic")
    assert raw is not None
    yield raw, result
    con = duckdb.connect()
    try:
        raw, result = run(engine="sql", con=con)
        assert raw is not None
        yield raw, result
    finally:
        con.close()


def assert_same(
    data: bytes,
    *,
    sql: bool = True,
    previous_events: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[ValidationResult, ValidationResult]:
    (py_raw, py), (sql_raw, via_sql) = both(data, previous_events)
    assert (sql_raw.staged is not None) is sql, "the SQL path was (not) expected"
    assert (sql_raw.kind, sql_raw.n_rows, sql_raw.decimal) == (
        py_raw.kind,
        py_raw.n_rows,
        py_raw.decimal,
    )
    assert (via_sql.status, via_sql.country_iso3, via_sql.n_rows) == (
        py.status,
        py.country_iso3,
        py.n_rows,
    )
    assert via_sql.issues == py.issues
    assert [i.message("es") for i in via_sql.issues] == [i.message("es") for i in py.issues]
    return py, via_sql


def test_both_paths_give_the_same_findings_on_an_event_file() -> None:
    py, _ = assert_same(encode(event_lines(3000)))
    rules = {(i.rule, i.severity) for i in py.issues}
    assert {
        ("unknown_country", "error"),
        ("invalid_date", "error"),
        ("future_date", "error"),
        ("date_outside_cycle", "error"),
        ("required", "error"),
        ("unknown_event_type", "error"),
        ("unknown_item", "error"),
        ("item_not_allowed", "error"),
        ("negative_value", "error"),
        ("invalid_quantity", "error"),
        ("incompatible_unit", "error"),
        ("invalid_reliability", "error"),
        ("invalid_credibility", "error"),
        ("text_too_long", "error"),
        ("unit_converted", "warning"),
        ("implausible_value", "warning"),
        ("missing_source", "warning"),
        ("multiple_countries", "error"),
        ("duplicate_event", "warning"),  # GOOD, again and again
        ("event_type_not_reported", "warning"),  # the one victim row is wrong
    } <= rules
    # rows as the steward sees them: header is row 1
    assert next(i.row for i in py.issues if i.rule == "unknown_country") == 1 + 97 + 1


def typed_events(
    result: EventValidation, con: duckdb.DuckDBPyConnection | None
) -> dict[int, tuple[object, ...]]:
    """Every valid event typed, by row: pydantic's, plus those the SQL query vouched for."""
    rows: dict[int, tuple[object, ...]] = {
        e.source_row: (
            e.record.country,
            e.record.date,
            e.record.admin1,
            e.record.event_type,
            e.record.item,
            e.record.quantity,
            e.record.unit,
            e.record.reliability,
            e.record.credibility,
            e.record.source,
            e.record.notes,
        )
        for e in result.events
    }
    if result.sql_clean is not None and con is not None:
        for r in con.execute(
            "SELECT source_row, country_iso3, event_date, admin1, event_type, item, quantity, "
            f"unit, reliability, credibility, source, notes FROM ({result.sql_clean})"
        ).fetchall():
            assert r[0] not in rows
            rows[r[0]] = tuple(r[1:])
    return rows


def test_both_paths_type_every_valid_event_alike() -> None:
    # no errors: every row is valid, some drew warnings, some only pydantic could read
    data = encode(event_lines(2000, VALID_ODD))
    catalogue, resolver = load_catalogue(), default_resolver()
    raw, py = parse_and_validate(data, CYCLE, catalogue, resolver, TODAY, engine="pydantic")
    assert isinstance(py, EventValidation) and raw is not None
    assert py.status == "accepted_with_warnings", [i.rule for i in py.issues]
    con = duckdb.connect()
    sql_raw, via_sql = parse_and_validate(
        data, CYCLE, catalogue, resolver, TODAY, engine="sql", con=con
    )
    assert isinstance(via_sql, EventValidation) and sql_raw is not None
    assert 0 < len(via_sql.events) < len(py.events)  # most rows came typed from SQL
    assert typed_events(via_sql, con) == typed_events(py, None)
    con.close()


def test_both_paths_judge_the_table_rules_alike() -> None:
    # repeats among the rows SQL types, among those pydantic types, and across the two
    lines = varied_lines(3000)
    lines += [
        lines[1],  # a clean row again
        lines[1].replace("Colombia;", " Colombia ;", 1),  # pydantic reads it: the same event
        "Colombia;02/01/2025;Nariño;incautación;cocaína;0,5;t;DIJIN;A;1;",  # 500 kg
        "Colombia;02/01/2025;Nariño;incautación;cocaína;500;kg;DIJIN;B;2;",  # clean, the same
        "Colombia;2025-01-02;Nariño;incautación;cocaína;500;KG;DIJIN;C;3;",  # odd, the same
    ]
    previous = {"COL": {"seizure": 100, "incident": 600, "victim": 3000}}
    py, _ = assert_same(encode(lines), previous_events=previous)
    repeats = [
        (i.row, i.params["first_row"], i.params["rows"])
        for i in py.issues
        if i.rule == "duplicate_event"
    ]
    assert (3002, 2, "3002, 3003") in repeats
    assert [r for r in repeats if r[0] > 3003] == [(3005, 3004, "3005, 3006")]
    jumps = {
        i.params["event_type"]: i.params["count"] for i in py.issues if i.rule == "event_count_jump"
    }
    assert jumps == {"seizure": 1805, "victim": 600}  # incidents: 600, as before


INDICATOR_HEADER = (
    "país;periodo;indicador;valor;unidad;fuente;fiabilidad;credibilidad;tendencia;notas"
)


def test_both_paths_give_the_same_result_on_an_indicator_file() -> None:
    inds = load_catalogue().indicators
    lines = [INDICATOR_HEADER]
    for n in range(6000):
        ind = inds[n % len(inds)]
        value = "7" if ind.kind == "expert" else f"{n % 900},{n % 10}"
        trend = "sube" if ind.kind == "expert" and n % 2 else ""
        lines.append(f"Colombia;2025-T{n % 4 + 1};{ind.code};{value};{ind.unit};DIJIN;B;2;{trend};")
    odd = [
        "Colombia;2025;cocaine_seized_kg;n/d;kg;DIJIN;B;2;;",
        "Colombia;2025;cocaine_seized_kg;<5;kg;DIJIN;B;2;;",
        "Colombia;2025;cocaine_seized_kg;2,5;t;DIJIN;B;2;;",
        "Colombia;2024;cocaine_seized_kg;2;kg;DIJIN;B;2;;",
        "Colombia;2025;cocaine;2;kg;DIJIN;B;2;;",
        "Colombia;2025;cocaine_seized_kg;2;kg;;B;2;sube;",
        "Colombia;2025;cocaine_expert_score;11;score_1_10;DIJIN;B;2;;",
        " colombia ;2025-q1;COCAINE_SEIZED_KG;1.234,5;KG;DIJIN;b;2;;",
        "Colombia;2025 T2;cocaine_seized_kg;3;kg;DIJIN;B;2;;",
    ]
    for k, text in enumerate(odd):
        lines[1 + (k + 1) * 211] = text
    py, via_sql = assert_same(encode(lines))
    assert py.annual == via_sql.annual
    assert py.rows == via_sql.rows


@pytest.mark.parametrize(
    ("encoding", "note"),
    [
        ("utf-8-sig", "Operación Ñandú"),
        ("cp1252", "Operación Ñandú"),  # DuckDB reads it as Latin-1 directly
        ("cp1252", "Operación “Ñandú” – 5 €"),  # bytes 0x80-0x9F: transcoded first
        ("utf-16", "Operación Ñandú"),
    ],
)
def test_encodings_national_exports_use(encoding: str, note: str) -> None:
    lines = event_lines(300, ATTENTION[:6], every=31)
    lines[5] = GOOD + note
    _, via_sql = assert_same(encode(lines, encoding))
    assert via_sql.status == "rejected"


@pytest.mark.parametrize(
    "trouble",
    [
        "\n",  # a blank line between rows: DuckDB skips it, Python numbers past it
        'Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;"dos\nlíneas"',
        'Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2; "comillas" después',
        'Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;12" pulgadas',
        # DuckDB drops the space after a closing quote without a word; Python keeps it
        'Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;"nota" ',
        'Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;"B" ;2;',
        "Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;;;extra",
    ],
)
def test_files_duckdb_would_read_differently_take_the_pydantic_path(trouble: str) -> None:
    lines = event_lines(300, ATTENTION[:4], every=31)
    lines[40] = trouble  # below the lines the header is sniffed from
    assert_same(encode(lines), sql=False)


def test_extra_fields_in_the_sniffed_lines_are_read_alike() -> None:
    lines = event_lines(300, ATTENTION[:4], every=31)
    lines[7] = "Colombia;2025-03-14;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;;;extra"
    lines[9] = ";;;;;;;;;;;;extra"  # not blank: Python reads the extra field too
    assert_same(encode(lines))


def test_rows_below_notes_and_a_header_in_portuguese() -> None:
    lines = [
        "Polícia Federal — registro de apreensões",
        "",
        "país;data;estado;tipo de evento;item;quantidade;unidade;fonte;confiabilidade;"
        "credibilidade;observações",
    ] + [
        f"Brasil;{d:02d}/05/2025;Paraná;apreensão;maconha;{d},{k}5;kg;PF;A;1;"
        for k in range(10)
        for d in range(1, 29)
    ]
    lines[40] = "Brasil;31/05/2025;Paraná;apreensão;maconha;1;kg;PF;A;7;"
    py, _ = assert_same(encode(lines))
    assert [(i.row, i.rule, i.params.get("event_type")) for i in py.issues] == [
        (41, "invalid_credibility", None),
        (None, "country_not_expected", None),
        (None, "event_type_not_reported", "incident"),  # a register of seizures only
        (None, "event_type_not_reported", "victim"),
    ]


# -- the pieces the query is compiled from --------------------------------------------------
def test_constraints_are_read_from_the_pydantic_fields() -> None:
    assert max_length(EventRecord, "notes") == MAX_TEXT
    assert max_length(EventRecord, "admin1") == next(
        m.max_length for m in EventRecord.model_fields["admin1"].metadata if isinstance(m, MaxLen)
    )
    assert bounds(IndicatorRecord, "credibility") == (1, 6)
    assert choices(EventRecord, "reliability") == ("A", "B", "C", "D", "E", "F")


def sql_value(con: duckdb.DuckDBPyConnection, expr: str, text: str) -> object:
    row = con.execute(f"SELECT {expr} FROM (SELECT ? AS x)", [text]).fetchone()
    return row[0] if row else None


def test_accent_folding_agrees_with_python_on_the_safe_letters() -> None:
    con = duckdb.connect()
    for ch in SAFE_LETTERS:
        assert unicodedata.normalize("NFKD", ch)[0].isascii(), ch
        assert sql_value(con, _fold_sql("x"), f"Ab_{ch} c") == fold(f"Ab_{ch} c"), ch
        assert normalise(ch).isascii()


@pytest.mark.parametrize("ws", list(PY_WHITESPACE))
def test_sql_strips_what_python_strips(ws: str) -> None:
    con = duckdb.connect()
    for text in (f"{ws}Nariño{ws}", f"{ws}", f"a{ws}b", f"{ws}{ws}x"):
        assert sql_value(con, _strip("x"), text) == text.strip()


NUMBER_TEXT = st.text(alphabet="0123456789.,", min_size=1, max_size=14)
_CON = duckdb.connect()  # one in-memory database for the property tests below


@settings(max_examples=300, deadline=None)
@given(NUMBER_TEXT, st.sampled_from([",", "."]))
def test_a_number_sql_reads_is_the_number_python_reads(text: str, decimal: str) -> None:
    value = sql_value(_CON, _number_sql("x", decimal), text)  # type: ignore[arg-type]
    if value is None:
        return  # not plain: left to pydantic
    assert value == parse_number(text, decimal)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.,- \u00a0", max_size=9), min_size=1, max_size=12))
def test_the_decimal_separator_is_guessed_alike(cells: list[str]) -> None:
    con = _CON.cursor()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE v AS SELECT unnest(?::VARCHAR[]) AS quantity", [cells]
    )
    for delimiter in (";", ","):
        assert staged_decimal(con, "v", "quantity", delimiter) == guess_decimal(cells, delimiter)


def test_literals_are_quoted() -> None:
    assert lit("O'Higgins") == "'O''Higgins'"
    assert lit(dt.date(2025, 1, 2)) == "DATE '2025-01-02'"


# -- size -----------------------------------------------------------------------------------
ADMIN1 = ("Antioquia", "Nariño", "Valle del Cauca", "Bogotá D.C.", "Putumayo", "Cauca", "Chocó")
ITEMS = (
    ("incautación", "cocaína", "kg"),
    ("incautación", "marihuana", "kg"),
    ("incautación", "armas de fuego", "count"),
    ("incidente", "extorsión", "count"),
    ("víctima", "víctima de trata", "count"),
)


def varied_lines(n: int) -> list[str]:
    """A register whose cells vary as a real one's do (dates, places, quantities)."""
    lines = [EVENT_HEADER]
    for k in range(n):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=k % 365)
        etype, item, unit = ITEMS[k % len(ITEMS)]
        qty = f"{k % 4000},{k % 100:02d}" if unit == "kg" else str(1 + k % 7)
        date = day.strftime("%d/%m/%Y") if k % 2 else day.isoformat()
        lines.append(
            f"Colombia;{date};{ADMIN1[k % len(ADMIN1)]};{etype};{item};{qty};{unit};DIJIN;"
            f"{'ABC'[k % 3]};{1 + k % 3};{'' if k % 10 else f'caso {k}'}"
        )
    return lines


def test_a_200k_row_file_takes_the_sql_path() -> None:
    lines = varied_lines(200_000)
    for k, text in enumerate(ATTENTION):
        lines[1 + (k + 1) * 6_113] = text
    data = encode(lines)
    catalogue, resolver = load_catalogue(), default_resolver()
    start = time.perf_counter()
    raw, result = parse_and_validate(data, CYCLE, catalogue, resolver, TODAY)
    seconds = time.perf_counter() - start
    assert raw is not None and raw.kind == "events" and raw.n_rows == 200_000 - 2
    assert raw.rows == []  # DuckDB read them
    assert result.status == "rejected"
    assert len({i.rule for i in result.issues}) >= 15
    # about 1.5 s here; the pydantic path needs 10 s or more for the same file
    assert seconds < 10, f"{seconds:.1f} s"


def test_line_separators_other_than_newline_above_the_header() -> None:
    lines = event_lines(300, ATTENTION[:5], every=31)
    lines.insert(0, "Registro\u2028nacional\x0b2025;;")  # splitlines() would break these
    assert_same(encode(lines))


def test_a_systematic_mistake_lists_its_first_rows_and_counts_the_rest_on_both_paths() -> None:
    # dates written month first: every row whose day is above 12 is an invalid date
    limit = MAX_LISTED_PER_RULE
    lines = varied_lines(4 * limit + 500)
    us = [lines[0]]
    for line in lines[1:]:
        country, date, rest = line.split(";", 2)
        if "/" in date:
            d, m, y = date.split("/")
            date = f"{m}/{d}/{y}"
        us.append(f"{country};{date};{rest}")
    py, _ = assert_same(encode(us))
    listed = [i for i in py.issues if i.rule == "invalid_date"]
    [more] = [i for i in py.issues if i.rule == "more_errors"]
    wrong = sum(
        1 for line in us[1:] if "/" in line.split(";")[1] and int(line.split(";")[1][3:5]) > 12
    )
    assert len(listed) == limit and wrong > limit
    assert (more.severity, more.row, more.column) == ("error", None, "date")
    assert more.params == {
        "like": "invalid_date",
        "count": wrong - limit,
        "shown": limit,
        "first_row": listed[0].row,
    }
    assert f"{wrong - limit} filas" in more.message("es")[0]
    assert py.status == "rejected"


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted-note"])
def test_a_byte_that_is_not_utf8_far_below_the_head_is_read_as_cp1252(quoted: bool) -> None:
    # The encoding is judged on the head first; DuckDB meets the stray byte and the file
    # is judged again on the whole: cp1252, still on the SQL path. A quote in the file
    # has DuckDB meet the byte first where it checks the quoting: the same.
    lines = event_lines(1500, ATTENTION[:6], every=97)
    if quoted:
        lines[5] += '"nota"'
    head = ("\n".join(lines[:-1]) + "\n").encode("utf-8")
    assert len(head) > 65536
    data = head + (lines[-1] + "Operación Ñandú\n").encode("cp1252")
    (py_raw, py), (sql_raw, via_sql) = both(data)
    assert sql_raw.staged is not None  # the SQL path, on its second reading
    assert py_raw.encoding == sql_raw.encoding == "cp1252"
    assert via_sql.issues == py.issues and via_sql.status == py.status == "rejected"
