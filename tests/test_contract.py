"""The submission contract: parsing of national formats and one finding per mistake."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from ideal.catalogue import load_catalogue
from ideal.config import SCHEMAS_DIR
from ideal.contract import ContractContext, IndicatorRecord, json_schemas, parse_number
from ideal.reference import default_resolver


def ctx(decimal: str = ".", year: int = 2025) -> ContractContext:
    return ContractContext(
        load_catalogue(),
        default_resolver(),
        str(year),
        year,
        decimal,  # type: ignore[arg-type]
        dt.date(2026, 11, 28),
    )


def row(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "country": "COL",
        "period": "2025",
        "indicator": "cocaine_seized_kg",
        "value": "1234.5",
        "unit": "kg",
        "source": "DIJIN",
        "reliability": "B",
        "credibility": "2",
    }
    base.update(over)
    return base


def rules(data: dict[str, object], c: ContractContext | None = None) -> list[str]:
    try:
        IndicatorRecord.model_validate(data, context=c or ctx())
    except ValidationError as exc:
        return [e["type"] for e in exc.errors()]
    return []


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1.234,5", ",", 1234.5),
        ("1234,5", ",", 1234.5),
        ("1.234.567", ",", 1234567.0),
        ("1,234.5", ".", 1234.5),
        ("1234.5", ".", 1234.5),
        (" 12 ", ".", 12.0),
        ("1e3", ".", 1000.0),
    ],
)
def test_parse_number_accepts_both_conventions(text: str, decimal: str, expected: float) -> None:
    assert parse_number(text, decimal) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "decimal"), [("1.23.4", ","), ("12,34,5", "."), ("abc", "."), ("1.2345,6", ",")]
)
def test_parse_number_rejects_malformed(text: str, decimal: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text, decimal)  # type: ignore[arg-type]


def test_a_clean_row_is_typed_and_canonical() -> None:
    rec = IndicatorRecord.model_validate(
        row(country="Perú", period="2025-T2", reliability="b", value="1.234,5"),
        context=ctx(","),
    )
    assert (rec.country, rec.period, rec.value, rec.reliability) == ("PER", "2025-Q2", 1234.5, "B")


def test_tonnes_are_converted_to_the_catalogue_unit() -> None:
    rec = IndicatorRecord.model_validate(row(unit="t", value="2,5"), context=ctx(","))
    assert rec.value == 2500.0 and rec.unit == "kg"
    assert (rec.reported_unit, rec.reported_value) == ("t", 2.5)


def test_missing_and_censored_values_keep_their_meaning() -> None:
    missing = IndicatorRecord.model_validate(row(value="s/d"), context=ctx())
    assert missing.value is None and missing.missing_reason == "s/d"
    censored = IndicatorRecord.model_validate(row(value="<5"), context=ctx())
    assert censored.value is None and censored.censored_bound == 5.0


@pytest.mark.parametrize(
    ("over", "rule"),
    [
        ({"country": "Atlantis"}, "unknown_country"),
        ({"country": ""}, "required"),
        ({"period": "2025-Q5"}, "invalid_period"),
        ({"period": "2024"}, "period_outside_cycle"),
        ({"indicator": "cocaine_seized"}, "unknown_indicator"),
        ({"value": "mil doscientos"}, "not_a_number"),
        ({"value": "-3"}, "negative_value"),
        ({"value": "inf"}, "not_finite"),
        ({"value": "nan"}, "not_finite"),
        ({"unit": "ha"}, "incompatible_unit"),
        ({"reliability": "G"}, "invalid_reliability"),
        ({"credibility": "7"}, "invalid_credibility"),
        ({"trend": "sideways"}, "invalid_trend"),
        ({"notes": "x" * 3000}, "text_too_long"),
        (
            {"indicator": "cocaine_expert_score", "unit": "score_1_10", "value": "11"},
            "out_of_scale",
        ),
    ],
)
def test_each_mistake_gets_its_rule(over: dict[str, object], rule: str) -> None:
    assert rule in rules(row(**over))


def test_a_period_that_has_not_ended_is_refused() -> None:
    c = ContractContext(
        load_catalogue(), default_resolver(), "2026", 2026, ".", dt.date(2026, 11, 28)
    )
    assert rules(row(period="2026"), c) == ["future_period"]
    assert rules(row(period="2026-Q3"), c) == []


def test_several_field_errors_are_reported_together() -> None:
    assert set(rules(row(reliability="Z", credibility="9", period="20x5"))) == {
        "invalid_reliability",
        "invalid_credibility",
        "invalid_period",
    }


def test_published_json_schema_matches_the_models() -> None:
    for name, schema in json_schemas().items():
        published = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
        assert published == schema, f"{name} drifted: run `ideal docs` and commit it"
