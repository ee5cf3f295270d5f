"""Table quality of event files: a GX suite judging a DuckDB summary of the valid events.

Every file here is CSV text read by the real readers and validated by both row engines of
``ideal.intake.parse_and_validate`` (pydantic row by row, and the SQL path); each rule
must fire on a crafted register, stay quiet on a clean one, and give the same findings on
both engines. The jump rule is checked against a previous cycle really loaded into a
DuckDB warehouse under ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from ideal import intake, quality
from ideal.assessment import ensure_cycle, ingest_paths
from ideal.catalogue import LANGS, load_catalogue
from ideal.cli import app
from ideal.config import Workspace
from ideal.cycles import Cycle
from ideal.events import EventValidation
from ideal.intake import Engine, parse_and_validate, previous_cycle_event_counts
from ideal.messages import RULES
from ideal.reference import default_resolver
from ideal.validation import MAX_LISTED_PER_RULE, Issue, ValidationResult
from ideal.warehouse import connect

CATALOGUE = load_catalogue()
TYPES = list(CATALOGUE.event_types)  # seizure, incident, victim
TODAY = dt.date(2026, 1, 15)
CYCLE = Cycle("2025", 2025, dt.date(2026, 3, 31), ("COL",))
EVENT_RULES = {"duplicate_event", "event_type_not_reported", "event_count_jump"}
HEADER = (
    "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
    "credibilidad;notas"
)
PLACES = ("Nariño", "Cauca", "Chocó", "Putumayo", "Antioquia")


def day(k: int, year: int = 2025) -> str:
    return (dt.date(year, 1, 1) + dt.timedelta(days=k % 365)).strftime("%d/%m/%Y")


def register(
    seizures: int = 30,
    incidents: int = 20,
    victims: int = 10,
    *,
    country: str = "Colombia",
    year: int = 2025,
) -> list[str]:
    """A clean register: every event type, no two rows alike, no row for pydantic."""
    lines = [
        f"{country};{day(k, year)};{PLACES[k % 5]};incautación;cocaína;{k + 1},5;kg;DIJIN;B;2;"
        for k in range(seizures)
    ]
    lines += [
        f"{country};{day(k, year)};{PLACES[k % 5]};incidente;secuestro;1;count;GAULA;B;2;"
        for k in range(incidents)
    ]
    lines += [
        f"{country};{day(k, year)};{PLACES[k % 5]};víctima;víctima de trata;1;count;Fiscalía;A;1;"
        for k in range(victims)
    ]
    return lines


def encode(lines: list[str]) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


def both(
    lines: list[str], previous: Mapping[str, Mapping[str, int]] | None = None
) -> ValidationResult:
    """The findings of the pydantic path, checked to be the SQL path's as well."""
    data = encode(lines)
    results = []
    engines: tuple[Engine, ...] = ("pydantic", "sql")
    for engine in engines:
        raw, result = parse_and_validate(
            data,
            CYCLE,
            CATALOGUE,
            default_resolver(),
            TODAY,
            engine=engine,
            previous_events=previous,
        )
        assert raw is not None and raw.kind == "events"
        assert isinstance(result, EventValidation)
        results.append(result)
    py, via_sql = results
    assert (via_sql.status, via_sql.country_iso3) == (py.status, py.country_iso3)
    assert via_sql.issues == py.issues
    assert [i.message(lang) for i in via_sql.issues for lang in LANGS] == [
        i.message(lang) for i in py.issues for lang in LANGS
    ]
    return py


def found(result: ValidationResult, rule: str) -> list[Issue]:
    return [i for i in result.issues if i.rule == rule]


# -- a clean register ----------------------------------------------------------------------
def test_a_clean_register_has_no_table_findings() -> None:
    result = both(register(), previous={"COL": {"seizure": 25, "incident": 18, "victim": 9}})
    assert result.issues == []
    assert (result.status, result.country_iso3) == ("accepted", "COL")


def test_no_valid_event_no_table_finding() -> None:
    result = both(["Colombia;31/02/2025;Nariño;incautación;cocaína;1;kg;DIJIN;B;2;"] * 3)
    assert {i.rule for i in result.issues} == {"invalid_date"}


# -- duplicate_event -------------------------------------------------------------------------
def test_repeated_events_are_one_finding_per_group_on_its_first_repeat() -> None:
    lines = register()
    first = "Colombia;01/01/2025;Nariño;incautación;cocaína;500;kg;DIJIN;B;2;"
    lines[0] = first  # row 2
    lines += [
        first,  # row 62: the same event again
        "Colombia;2025-01-01; Nariño ;seizure;COCAINA;0,5;t;DIJIN;C;3;",  # row 63: again
        "Colombia;01/01/2025;Nariño;incautación;cocaína;500;kg;DIJIN;B;2;segundo alijo",
        "Colombia;01/01/2025;Nariño;incautación;cocaína;500;kg;Policía;B;2;",  # other source
        "Colombia;01/01/2025;Nariño;incautación;cocaína;501;kg;DIJIN;B;2;",  # other quantity
        "Colombia;02/01/2025;Nariño;incautación;cocaína;500;kg;DIJIN;B;2;",  # other day
    ]
    result = both(lines)
    repeats = found(result, "duplicate_event")
    # 0,5 t is 500 kg and the grades do not tell two events apart; the notes do (row 64)
    assert [(i.severity, i.row, i.column, i.value) for i in repeats] == [
        ("warning", 62, None, None),  # the row as a whole: no one cell is wrong
    ]
    assert repeats[0].params == {
        "item": "cocaine",
        "name_es": "cocaína",
        "name_pt": "cocaína",
        "name_en": "cocaine",
        "date": "2025-01-01",
        "first_row": 2,
        "copies": 2,
        "rows": "62, 63",
    }
    assert repeats[0].message("es")[0] == (
        "Posible evento repetido: cocaína del 2025-01-01, fila 2, figura 2 vez/veces más "
        "con los mismos datos, en las filas 62, 63."
    )
    assert "linhas 62, 63" in repeats[0].message("pt")[0]
    assert result.status == "accepted_with_warnings"


def test_events_counted_one_by_one_may_repeat() -> None:
    # two victims identified on one day, in one place, by one prosecutor: two rows alike
    lines = register()
    lines += [lines[-1], lines[40]]  # a victim and an incident again
    assert found(both(lines), "duplicate_event") == []


def test_a_group_names_its_first_rows_and_counts_them_all() -> None:
    lines = register()
    lines += [lines[0]] * 250 + [lines[5]] * 3  # a seizure 250 times, another 3 times
    repeats = found(both(lines), "duplicate_event")
    assert [(i.row, i.params["first_row"], i.params["copies"]) for i in repeats] == [
        (62, 2, 250),
        (312, 7, 3),
    ]
    rows = ", ".join(str(r) for r in range(62, 72))
    assert repeats[0].params["rows"] == f"{rows} … (250)"
    assert repeats[1].params["rows"] == "312, 313, 314"


def test_a_register_pasted_twice_gives_a_bounded_number_of_findings() -> None:
    limit = MAX_LISTED_PER_RULE
    seizures = [
        f"Colombia;{day(k)};{PLACES[k % 5]};incautación;cocaína;{k + 1},5;kg;DIJIN;B;2;"
        for k in range(limit + 7)
    ]
    lines = register(seizures=0) + seizures + seizures
    result = both(lines)
    repeats = found(result, "duplicate_event")
    more = found(result, "duplicate_event_more")
    assert len(repeats) == limit and repeats[0].params["copies"] == 1
    assert [(i.row, i.params) for i in more] == [(None, {"groups": 7, "shown": limit})]
    assert "7" in more[0].message("es")[0]


def test_rows_differing_only_in_country_are_not_repeats() -> None:
    # the first pass hashes without the country; the whole key decides
    lines = register()
    lines.append(lines[0].replace("Colombia", "Perú"))
    result = both(lines)
    assert found(result, "duplicate_event") == []
    assert [i.rule for i in result.issues] == ["multiple_countries"]


def test_the_gx_frame_stays_small() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev AS SELECT i AS source_row, 'COL' AS country_iso3, "
        "DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS event_date, 'Cauca' AS admin1, "
        "'seizure' AS event_type, 'cocaine' AS item, CAST(i AS DOUBLE) AS quantity, "
        "'kg' AS unit, 'DIJIN' AS source, NULL AS notes FROM range(2, 100002) t(i)"
    )
    summary = quality.summarize_events(con, "SELECT * FROM ev", CATALOGUE)
    assert list(summary.frame.columns) == list(quality.EVENT_FRAME_COLUMNS)
    assert len(summary.frame) == len(TYPES)  # one country x the catalogue's event types
    assert summary.frame["n_events"].tolist() == [100_000, 0, 0]
    assert summary.repeats.empty


# -- event_type_not_reported -----------------------------------------------------------------
def test_an_event_type_without_rows_is_a_warning() -> None:
    result = both(register(victims=0, incidents=0))
    missing = found(result, "event_type_not_reported")
    assert [(i.severity, i.row, i.column, i.params["event_type"]) for i in missing] == [
        ("warning", None, "event_type", "incident"),
        ("warning", None, "event_type", "victim"),
    ]
    victim = CATALOGUE.event_types["victim"].name
    assert victim.es in missing[1].message("es")[0]
    assert victim.pt in missing[1].message("pt")[0]
    assert result.status == "accepted_with_warnings"


def test_a_type_counts_when_one_of_its_rows_is_valid() -> None:
    lines = register(victims=1)
    lines.append("Colombia;01/02/2025;Cauca;víctima;víctima de trata;1;count;Fiscalía;G;1;")
    result = both(lines)  # one valid victim, one rejected: the type is reported
    assert found(result, "event_type_not_reported") == []


def test_the_expected_event_types_can_be_narrowed() -> None:
    con = duckdb.connect()
    con.register("ev", _frame(["seizure"] * 3))
    rows = "SELECT * FROM ev"
    table = quality.check_events(con, rows, CATALOGUE, cycle_id="2025")
    assert [i.params["event_type"] for i in table.issues] == ["incident", "victim"]
    narrowed = quality.check_events(
        con, rows, CATALOGUE, cycle_id="2025", expected_event_types=["seizure"]
    )
    assert narrowed.issues == [] and narrowed.countries == ["COL"]
    with pytest.raises(ValueError, match="not in the catalogue"):
        quality.check_events(con, rows, CATALOGUE, cycle_id="2025", expected_event_types=["x"])


def _frame(types: list[str], country: str = "COL") -> pd.DataFrame:
    items = {t: next(iter(CATALOGUE.event_types[t].items)) for t in TYPES}
    n = len(types)
    return pd.DataFrame(
        {
            "source_row": range(2, n + 2),
            "country_iso3": [country] * n,
            "event_date": pd.to_datetime([dt.date(2025, 1, 1) + dt.timedelta(k) for k in range(n)]),
            "admin1": ["Cauca"] * n,
            "event_type": types,
            "item": [items[t] for t in types],
            "quantity": [1.0] * n,
            "unit": ["count"] * n,
            "source": ["DIJIN"] * n,
            "notes": [None] * n,
        }
    )


# -- event_count_jump ------------------------------------------------------------------------
def test_a_jump_in_the_number_of_events_is_a_warning_on_both_engines() -> None:
    previous = {"COL": {"seizure": 5, "incident": 20, "victim": 2}, "PER": {"seizure": 30}}
    result = both(register(seizures=30, incidents=20, victims=10), previous=previous)
    [jump] = found(result, "event_count_jump")  # victims 2 -> 10: too few to judge
    assert (jump.severity, jump.row, jump.column) == ("warning", None, "event_type")
    assert jump.params == {
        "event_type": "seizure",
        "name_es": "incautación",
        "name_pt": "apreensão",
        "name_en": "seizure",
        "count": 30,
        "previous": 5,
        "ratio": 3.0,
    }
    message = jump.message("es")[0]
    assert "30" in message and "5" in message and "ciclo anterior" in message
    assert result.status == "accepted_with_warnings"


@pytest.mark.parametrize(
    ("before", "now", "jump"),
    [
        ({"seizure": 10}, 31, True),
        ({"seizure": 10}, 30, False),  # exactly 3 times: not more
        ({"seizure": 100}, 33, True),  # a drop counts too
        ({"seizure": 100}, 34, False),
        ({"incident": 5}, 25, True),  # no seizures last cycle: 0 -> 25
        ({"incident": 5}, 19, False),  # below min_count (20)
        ({"seizure": 6}, 18, False),  # 3-fold, below min_count
        (None, 500, False),  # the country had no events then: not judged
    ],
)
def test_jump_threshold_both_ways_and_minimum_count(
    before: dict[str, int] | None, now: int, jump: bool
) -> None:
    con = duckdb.connect()
    con.register("ev", _frame(["seizure"] * now + ["incident", "victim"]))
    previous = {"PER": {"seizure": 1}} | ({"COL": before} if before is not None else {})
    table = quality.check_events(
        con, "SELECT * FROM ev", CATALOGUE, cycle_id="2025", previous=previous
    )
    assert bool([i for i in table.issues if i.rule == "event_count_jump"]) is jump


def test_a_type_with_no_events_now_is_not_also_a_jump() -> None:
    con = duckdb.connect()
    con.register("ev", _frame(["seizure"] * 30 + ["incident"] * 30))
    previous = {"COL": {"seizure": 30, "incident": 30, "victim": 500}}
    table = quality.check_events(
        con, "SELECT * FROM ev", CATALOGUE, cycle_id="2025", previous=previous
    )
    assert [(i.rule, i.params["event_type"]) for i in table.issues] == [
        ("event_type_not_reported", "victim")
    ]


@pytest.fixture(params=["pydantic", "sql"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Ingest on both engines (the SQL path for any size of file)."""
    if request.param == "sql":
        monkeypatch.setattr(intake, "SQL_MIN_ROWS", 0)
    return str(request.param)


def write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_bytes(encode(lines))
    return path


def test_the_jump_is_judged_against_the_previous_cycle_in_the_warehouse(
    ws: Workspace, tmp_path: Path, engine: str
) -> None:
    ensure_cycle(ws, Cycle("2024", 2024, dt.date(2025, 3, 31), ("COL",)))
    ensure_cycle(ws, CYCLE)
    earlier = write(tmp_path, "COL_2024.csv", register(seizures=8, incidents=20, year=2024))
    loaded = CliRunner().invoke(
        app, ["ingest", str(earlier), "--cycle", "2024", "--home", str(ws.home)]
    )
    assert loaded.exit_code == 0, loaded.output
    with connect(ws.warehouse_path, read_only=True) as con:
        assert previous_cycle_event_counts(con, CYCLE) == {
            "COL": {"seizure": 8, "incident": 20, "victim": 10}
        }
    now = write(tmp_path, "COL_2025.csv", register(seizures=40, incidents=20))
    [out] = ingest_paths(ws, "2025", [now])
    jumps = [
        (i.rule, i.params["event_type"], i.params["count"], i.params["previous"])
        for i in out.issues
    ]
    assert jumps == [("event_count_jump", "seizure", 40, 8)]
    assert out.status == "accepted_with_warnings"
    with connect(ws.warehouse_path, read_only=True) as con:
        stored = con.execute(
            "SELECT rule, severity, message_en FROM raw_intake__issues i "
            "JOIN raw_intake__submissions s USING (submission_sha256) WHERE s.cycle_id = '2025'"
        ).fetchall()
    assert stored == [
        (
            "event_count_jump",
            "warning",
            "Events of type seizure (seizure): 40 in this file against 8 in the previous "
            "cycle; the number changed more than 3-fold.",
        )
    ]


def test_previous_counts_come_from_the_latest_earlier_cycle_with_events(
    ws: Workspace, tmp_path: Path
) -> None:
    for year in (2023, 2024, 2025, 2026):
        ensure_cycle(ws, Cycle(str(year), year, dt.date(year + 1, 3, 31), ("COL", "PER")))
    ingest_paths(ws, "2023", [write(tmp_path, "a.csv", register(5, 5, 5, year=2023))])
    ingest_paths(ws, "2024", [write(tmp_path, "b.csv", register(7, 1, 1, year=2024))])
    ingest_paths(
        ws, "2024", [write(tmp_path, "c.csv", register(2, 3, 0, country="Perú", year=2024))]
    )
    ingest_paths(ws, "2026", [write(tmp_path, "d.csv", register(9, 9, 9, year=2026))])
    with connect(ws.warehouse_path, read_only=True) as con:
        counts = previous_cycle_event_counts(con, CYCLE)
        first = previous_cycle_event_counts(con, Cycle("2023", 2023, dt.date(2024, 3, 31), ()))
    assert counts == {
        "COL": {"seizure": 7, "incident": 1, "victim": 1},
        "PER": {"seizure": 2, "incident": 3},
    }
    assert first == {}


# -- the suite, the rules file and the messages ----------------------------------------------
def test_the_event_suite_holds_the_event_rules_with_their_thresholds() -> None:
    rules = quality.load_rules()
    suite = quality.build_suite("events", CATALOGUE)
    by_rule = {e.meta["rule"]: e for e in suite.expectations}
    kinds = {c for c, r in rules.rules.by_code().items() if "events" in r.kinds}
    assert set(by_rule) == kinds == EVENT_RULES | {"multiple_countries", "country_not_expected"}
    assert by_rule["event_count_jump"].max_value == rules.rules.event_count_jump.ratio
    assert by_rule["multiple_countries"].max_value == rules.rules.multiple_countries.max_countries
    assert all(e.severity == "warning" for c, e in by_rule.items() if c != "multiple_countries")


def test_new_rules_have_messages_in_every_language() -> None:
    rules = quality.load_rules().rules.by_code()
    for code in EVENT_RULES:
        assert RULES[code].severity == rules[code].severity == "warning"
        for lang in LANGS:
            assert RULES[code].message[lang] and RULES[code].hint[lang]
            described = rules[code].describe(lang)
            assert described and not re.search(r"[{}]", described), described
    assert "ningún" in RULES["event_type_not_reported"].message["es"]
    assert "não" in RULES["event_type_not_reported"].message["pt"]
    assert "20" in rules["event_count_jump"].describe("pt")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("duplicate_event", "key"), ["country", "reliability"], "reliability"),
        (("event_count_jump", "min_count"), -1, "min_count"),
        (("event_count_jump", "ratio"), 1, "ratio"),
        (("event_type_not_reported", "severity"), "error", "event_type_not_reported"),
    ],
)
def test_a_bad_event_rule_is_refused(path: tuple[str, str], value: object, message: str) -> None:
    data = quality.load_rules().model_dump(mode="json")
    data["rules"][path[0]][path[1]] = value
    with pytest.raises(ValueError, match=message):
        quality.QualityRules.model_validate(data)
