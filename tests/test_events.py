"""Event records: the contract of one seizure, incident or victim, and a file's findings."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from ideal.catalogue import load_catalogue
from ideal.contract import ContractContext, EventRecord, IndicatorRecord, json_schemas
from ideal.events import validate_events
from ideal.readers import read_submission
from ideal.reference import default_resolver

TODAY = dt.date(2026, 1, 15)
HEADER_ES = (
    "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
    "credibilidad;notas"
)


def ctx(decimal: str = ",", year: int = 2025) -> ContractContext:
    return ContractContext(
        load_catalogue(),
        default_resolver(),
        str(year),
        year,
        decimal,  # type: ignore[arg-type]
        TODAY,
    )


def row(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "country": "COL",
        "date": "14/03/2025",
        "admin1": "Nariño",
        "event_type": "seizure",
        "item": "cocaine",
        "quantity": "1.234,5",
        "unit": "kg",
        "source": "DIJIN",
        "reliability": "B",
        "credibility": "2",
    }
    base.update(over)
    return base


def rules(data: dict[str, object], c: ContractContext | None = None) -> list[str]:
    try:
        EventRecord.model_validate(data, context=c or ctx())
    except ValidationError as exc:
        return [e["type"] for e in exc.errors()]
    return []


def test_a_clean_event_is_typed_and_canonical() -> None:
    rec = EventRecord.model_validate(
        row(country="Colombia", event_type="incautación", item="Cocaína", reliability="b"),
        context=ctx(),
    )
    assert (rec.country, rec.date, rec.event_type, rec.item) == (
        "COL",
        dt.date(2025, 3, 14),
        "seizure",
        "cocaine",
    )
    assert (rec.quantity, rec.unit, rec.reliability, rec.credibility) == (1234.5, "kg", "B", 2)


@pytest.mark.parametrize(
    "cell",
    [
        "2025-03-14",
        "14/03/2025",
        "14-03-2025",
        "14.3.2025",
        "2025-03-14 00:00:00",  # an Excel date cell, as the reader keeps its text
        dt.date(2025, 3, 14),
        dt.datetime(2025, 3, 14, 9, 30),
        45730,  # Excel's serial for 2025-03-14
        45730.5,
    ],
)
def test_dates_in_the_forms_stewards_send(cell: object) -> None:
    assert EventRecord.model_validate(row(date=cell), context=ctx()).date == dt.date(2025, 3, 14)


def test_names_in_spanish_and_portuguese_are_codes() -> None:
    rec = EventRecord.model_validate(
        row(country="Brasil", event_type="apreensão", item="armas de fogo", unit="count"),
        context=ctx(),
    )
    assert (rec.country, rec.event_type, rec.item) == ("BRA", "seizure", "firearms")
    victim = EventRecord.model_validate(
        row(event_type="víctima", item="víctima de trata", quantity="1", unit="count"),
        context=ctx(),
    )
    assert (victim.event_type, victim.item) == ("victim", "thb_victim")


def test_tonnes_are_converted_to_the_items_unit() -> None:
    rec = EventRecord.model_validate(row(unit="t", quantity="2,5"), context=ctx())
    assert (rec.quantity, rec.unit, rec.reported_unit, rec.reported_quantity) == (
        2500.0,
        "kg",
        "t",
        2.5,
    )


@pytest.mark.parametrize(
    ("over", "rule"),
    [
        ({"country": "Atlantis"}, "unknown_country"),
        ({"country": ""}, "required"),
        ({"date": ""}, "required"),
        ({"date": "31/02/2025"}, "invalid_date"),
        ({"date": "2025/03/14"}, "invalid_date"),
        ({"date": "marzo"}, "invalid_date"),
        ({"date": 10**8}, "invalid_date"),
        ({"date": "14/03/2026"}, "future_date"),
        ({"date": "14/03/2024"}, "date_outside_cycle"),
        ({"admin1": "  "}, "required"),
        ({"admin1": "x" * 201}, "text_too_long"),
        ({"event_type": "robo"}, "unknown_event_type"),
        ({"item": "heroína"}, "unknown_item"),
        ({"event_type": "victim"}, "item_not_allowed"),
        ({"quantity": ""}, "required"),
        ({"quantity": "mucho"}, "invalid_quantity"),
        ({"quantity": "n/d"}, "invalid_quantity"),
        ({"quantity": "<5"}, "invalid_quantity"),
        ({"quantity": "1.23.4"}, "invalid_quantity"),
        ({"quantity": "-3"}, "negative_value"),
        ({"quantity": "inf"}, "not_finite"),
        ({"quantity": "nan"}, "not_finite"),
        ({"quantity": "1" + "0" * 400}, "not_finite"),
        ({"unit": "ha"}, "incompatible_unit"),
        ({"unit": ""}, "required"),
        ({"reliability": "G"}, "invalid_reliability"),
        ({"credibility": "7"}, "invalid_credibility"),
        ({"notes": "x" * 2001}, "text_too_long"),
        ({"source": "x" * 2001}, "text_too_long"),
    ],
)
def test_each_mistake_gets_its_rule(over: dict[str, object], rule: str) -> None:
    assert rules(row(**over)) == [rule]


def test_field_errors_of_one_row_are_reported_together() -> None:
    assert set(rules(row(date="32/01/2025", quantity="-1", reliability="Z", country="X"))) == {
        "invalid_date",
        "negative_value",
        "invalid_reliability",
        "unknown_country",
    }


def test_shared_columns_are_one_definition() -> None:
    schemas = json_schemas()
    ind = schemas["indicator_submission_row.schema.json"]["properties"]
    ev = schemas["event_submission_row.schema.json"]["properties"]
    for column in ("country", "unit", "source", "reliability", "credibility", "notes"):
        assert ind[column] == ev[column], column
        assert (
            IndicatorRecord.model_fields[column].metadata
            == EventRecord.model_fields[column].metadata
        )
    required = schemas["event_submission_row.schema.json"]["required"]
    assert "notes" not in required and {"date", "admin1", "quantity"} <= set(required)


def test_event_headers_are_declared_in_spanish_and_portuguese() -> None:
    schema = json_schemas()["event_submission_row.schema.json"]["properties"]
    assert schema["date"]["headers"] == {"es": "fecha", "pt": "data"}
    assert schema["quantity"]["headers"] == {"es": "cantidad", "pt": "quantidade"}


# -- a whole file ---------------------------------------------------------------------------
# Below the rows of a test: one incident and one victim, so that every event type of the
# catalogue is reported (the seizures come from the test).
OTHER_TYPES = (
    "Colombia;15/03/2025;Cauca;incidente;secuestro;1;count;GAULA;B;2;\n"
    "Colombia;16/03/2025;Cauca;víctima;víctima de trata;1;count;Fiscalía;B;2;\n"
)


def findings(body: str, expected: tuple[str, ...] = ()) -> list[tuple[int | None, str]]:
    raw = read_submission((HEADER_ES + "\n" + body + (OTHER_TYPES if body else "")).encode())
    assert raw.kind == "events"
    result = validate_events(raw, ctx(raw.decimal), expected)
    return [(i.row, i.rule) for i in result.issues]


def test_warnings_on_valid_events() -> None:
    body = (
        "Colombia;14/03/2025;Nariño;incautación;cocaína;0,5;t;DIJIN;B;2;\n"
        "Colombia;15/03/2025;Nariño;incautación;cocaína;90.000;kg;;B;2;\n"
    )
    assert findings(body) == [
        (2, "unit_converted"),
        (3, "implausible_value"),
        (3, "missing_source"),
    ]


def test_one_country_per_file_and_the_cycle_expects_it() -> None:
    two = (
        "Colombia;14/03/2025;Nariño;incautación;cocaína;5;kg;DIJIN;B;2;\n"
        "Perú;14/03/2025;Puno;incautación;cocaína;5;kg;PNP;B;2;\n"
    )
    assert findings(two) == [(None, "multiple_countries")]
    one = "Colombia;14/03/2025;Nariño;incautación;cocaína;5;kg;DIJIN;B;2;\n"
    assert findings(one, expected=("PER",)) == [(None, "country_not_expected")]
    assert findings(one, expected=("COL",)) == []


def test_a_header_only_file_and_a_missing_column() -> None:
    assert findings("") == [(None, "no_data_rows")]
    raw = read_submission(
        "país;fecha;tipo de evento;elemento;cantidad;unidad;fiabilidad;credibilidad\n"
        "Colombia;14/03/2025;incautación;cocaína;5;kg;B;2\n".encode()
    )
    result = validate_events(raw, ctx())
    assert [(i.rule, i.column) for i in result.issues] == [("missing_column", "admin1")]
    assert result.status == "rejected"


def test_an_excel_register_with_date_cells() -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Registro nacional de incautaciones"])
    ws.append(HEADER_ES.split(";"))
    ws.append(
        ["Ecuador", dt.datetime(2025, 3, 14), "Guayas", "incautación", "cocaína", 1234.5, "kg",
         "PN", "B", 2, None]
    )  # fmt: skip
    ws.append(["Ecuador", 45731, "Guayas", "incidente", "secuestro", 1, "count", "PN", "B", 2])
    ws.append(["Ecuador", 45732, "Guayas", "víctima", "víctima de trata", 1, "count", "PN", "B", 2])
    buf = io.BytesIO()
    wb.save(buf)
    raw = read_submission(buf.getvalue())
    assert (raw.kind, raw.header_row) == ("events", 2)
    result = validate_events(raw, ctx("."), ("ECU",))
    assert result.status == "accepted", result.issues
    assert [(e.source_row, e.record.date) for e in result.events] == [
        (3, dt.date(2025, 3, 14)),
        (4, dt.date(2025, 3, 15)),
        (5, dt.date(2025, 3, 16)),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t["seizure"]["items"]["cocaine"].update(unit="litre"), "unknown unit"),
        (lambda t: t["seizure"]["items"]["cocaine"].update(category="x"), "unknown category"),
        (lambda t: t["victim"]["items"].update(cocaine=t["seizure"]["items"]["cocaine"]), "two"),
        (lambda t: t["victim"]["name"].update(es="incautación"), "spellings name two codes"),
    ],
)
def test_the_catalogue_checks_its_event_types(change: object, message: str) -> None:
    import copy

    import yaml

    from ideal.catalogue import Catalogue
    from ideal.config import CATALOGUE_PATH

    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    types = copy.deepcopy(data["event_types"])
    change(types)  # type: ignore[operator]
    with pytest.raises(ValidationError, match=message):
        Catalogue.model_validate({**data, "event_types": types})
