"""The submission contract: one pydantic definition of every column a steward sends.

There are two kinds of submission. An indicator row arrives as text (or as a
spreadsheet cell) and leaves as a typed ``IndicatorRecord``; an event row (one seizure,
incident or identified victim) leaves as an ``EventRecord``. Columns the two share
(country, unit, source, reliability, credibility, notes) are defined once, as annotated
types with their parser, and both models use them.

Parsing of awkward national formats (decimal commas, "n/d", "<5", quarters written
"2025-T1", dates written 14/03/2025, country names) happens here, once. The JSON Schemas
in ``schemas/`` are exported from these models, and header names in Spanish and
Portuguese are declared on the fields themselves. ``ideal.sqlcheck`` compiles the same
field constraints into DuckDB SQL for large files.

Validation needs a context (``ContractContext``): the catalogue, the country encoder,
the file's decimal separator and the cycle's year.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ideal.catalogue import Catalogue, fold
from ideal.reference import CountryResolver, UnknownCountryError

__all__ = [
    "COLUMNS",
    "EVENT_COLUMNS",
    "EVENT_TYPED_COLUMNS",
    "FILE_COLUMNS",
    "KINDS",
    "MODELS",
    "REQUIRED",
    "REQUIRED_COLUMNS",
    "ContractContext",
    "EventRecord",
    "IndicatorRecord",
    "Kind",
    "column_headers",
    "fold",
    "header_lookup",
    "json_schemas",
    "parse_number",
]

MISSING_TOKENS = frozenset({"n/d", "nd", "s/d", "sd", "n/a", "na", "-", "–", "—", "x", ".."})
MAX_TEXT = 2000
MAX_PLACE = 200
RELIABILITY_GRADES = ("A", "B", "C", "D", "E", "F")
EXPERT_SCALE: tuple[int, int] = (1, 10)
"""The lowest and highest expert rating."""
Reliability = Literal["A", "B", "C", "D", "E", "F"]
TRENDS: dict[str, str] = {
    # canonical value -> itself, plus the words stewards write in es/pt
    "up": "up",
    "sube": "up",
    "aumenta": "up",
    "sobe": "up",
    "aumento": "up",
    "↑": "up",
    "stable": "stable",
    "estable": "stable",
    "estável": "stable",
    "estavel": "stable",
    "=": "stable",
    "down": "down",
    "baja": "down",
    "disminuye": "down",
    "desce": "down",
    "diminui": "down",
    "↓": "down",
}
EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Excel's date serials (the 1900 system, with its leap-year bug absorbed)."""
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


@dataclass(frozen=True)
class ContractContext:
    """What validating a row needs to know beyond the row itself."""

    catalogue: Catalogue
    resolver: CountryResolver
    cycle_id: str
    cycle_year: int
    decimal: Literal[".", ","] = "."
    today: dt.date = field(default_factory=dt.date.today)
    # The previous cycle's annual values, country -> indicator -> value (jump checks).
    previous_values: Mapping[str, Mapping[str, float]] | None = None
    # The previous cycle's number of events, country -> event type -> count (jump checks).
    previous_event_counts: Mapping[str, Mapping[str, int]] | None = None


def _ctx(info: ValidationInfo) -> ContractContext:
    ctx = info.context
    if not isinstance(ctx, ContractContext):
        raise TypeError("validate submission rows with context=ContractContext(...)")
    return ctx


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def parse_number(text: str, decimal: Literal[".", ","]) -> float:
    """Parse '1.234,5' (decimal comma) or '1,234.5' / '1234.5' (decimal point).

    Raises ValueError if the text is not a number in that convention.
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    thousands = "." if decimal == "," else ","
    if thousands in s:
        # thousands separators must group by three, else it is not this convention
        int_part = s.split(decimal)[0].lstrip("+-")
        groups = int_part.split(thousands)
        if not groups[0] or any(len(g) != 3 for g in groups[1:]) or len(groups[0]) > 3:
            raise ValueError(text)
        s = s.replace(thousands, "")
    if decimal == ",":
        s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
        if s.lower() in {"nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
            return float(s)
        raise ValueError(text)
    return float(s)


def suggest(value: str, choices: list[str]) -> str:
    """The closest codes to a mistyped one ('' if none is close), for the hint."""
    return " / ".join(difflib.get_close_matches(value, choices, n=2, cutoff=0.6))


def _headers(es: str, pt: str, *aliases: str) -> dict[str, Any]:
    """Field metadata: the column's header in es and pt, and other headers accepted."""
    extra: dict[str, Any] = {"headers": {"es": es, "pt": pt}}
    if aliases:
        extra["aliases"] = list(aliases)
    return extra


# -- columns both kinds share: one parser and one Field each ---------------------------
def _required(column: str) -> PydanticCustomError:
    return PydanticCustomError("required", "'{column}' is empty", {"column": column})


def _parse_country(v: object, info: ValidationInfo) -> str:
    text = _text(v)
    if not text:
        raise _required("country")
    try:
        return _ctx(info).resolver.resolve(text)
    except UnknownCountryError as exc:
        raise PydanticCustomError(
            "unknown_country",
            "'{value}' is not a recognised country",
            {"value": text, "suggestion": " / ".join(exc.suggestions)},
        ) from None


def _parse_unit(v: object) -> str:
    text = _text(v)
    if not text:
        raise _required("unit")
    return text.lower().replace("³", "3").replace("²", "2")


def _parse_reliability(v: object) -> str:
    text = _text(v).upper()
    if not text:
        raise PydanticCustomError("required", "empty", {"column": "reliability"})
    if text not in RELIABILITY_GRADES:
        raise PydanticCustomError("invalid_reliability", "bad grade", {"value": _text(v)})
    return text


def _parse_credibility(v: object) -> int:
    text = _text(v)
    if not text:
        raise PydanticCustomError("required", "empty", {"column": "credibility"})
    if not re.fullmatch(r"[1-6]", text):
        raise PydanticCustomError("invalid_credibility", "bad grade", {"value": text})
    return int(text)


def _parse_free_text(v: object, info: ValidationInfo) -> str | None:
    text = _text(v)
    if len(text) > MAX_TEXT:
        raise PydanticCustomError(
            "text_too_long", "too long", {"column": info.field_name, "limit": MAX_TEXT}
        )
    return text or None


Country = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="Reporting country: ISO 3166 alpha-3 or alpha-2 code, or its name in "
        "Spanish, Portuguese or English ('PER', 'PE', 'Perú'). Stored as alpha-3.",
        json_schema_extra=_headers("país", "país"),
    ),
    BeforeValidator(_parse_country),
]
Unit = Annotated[
    str,
    Field(
        min_length=1,
        description="Unit code (see catalogue units) of the value or quantity; a unit of "
        "the same dimension is converted (t -> kg) and flagged.",
        json_schema_extra=_headers("unidad", "unidade"),
    ),
    BeforeValidator(_parse_unit),
]
Source = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MAX_TEXT,
        description="Institution that produced the figure.",
        json_schema_extra=_headers("fuente", "fonte"),
    ),
    BeforeValidator(_parse_free_text),
]
ReliabilityGrade = Annotated[
    Reliability,
    Field(
        description="Admiralty source reliability: A completely reliable … E unreliable, "
        "F cannot be judged.",
        json_schema_extra=_headers("fiabilidad", "confiabilidade"),
    ),
    BeforeValidator(_parse_reliability),
]
CredibilityGrade = Annotated[
    int,
    Field(
        ge=1,
        le=6,
        description="Admiralty information credibility: 1 confirmed … 5 improbable, "
        "6 cannot be judged.",
        json_schema_extra=_headers("credibilidad", "credibilidade"),
    ),
    BeforeValidator(_parse_credibility),
]
Notes = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MAX_TEXT,
        description="Free text: caveats, reasons for a missing value.",
        json_schema_extra=_headers("notas", "observações"),
    ),
    BeforeValidator(_parse_free_text),
]


# -- indicator submissions ------------------------------------------------------------
class IndicatorRecord(BaseModel):
    """One value of one indicator (or one expert rating) for one country and period."""

    model_config = ConfigDict(extra="forbid", title="Indicator submission row")

    country: Country
    period: Annotated[
        str,
        Field(
            pattern=r"^\d{4}(-Q[1-4])?$",
            description="Reporting period: the year ('2025') or a quarter ('2025-Q1'; "
            "'2025-T1' is accepted). Stored as YYYY or YYYY-Qn.",
            json_schema_extra=_headers("periodo", "período"),
        ),
    ]
    indicator: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]*$",
            description="Indicator code from schemas/catalogue.yaml.",
            json_schema_extra=_headers("indicador", "indicador"),
        ),
    ]
    value: Annotated[
        float | None,
        Field(
            description="The value, in the indicator's unit. Decimal comma accepted in files "
            "that use it ('1.234,5'). 'n/d', 's/d', 'N/A', '-' or 'x' mean not available; "
            "'<5' means a suppressed small count.",
            json_schema_extra=_headers("valor", "valor"),
        ),
    ]
    unit: Unit
    source: Source
    reliability: ReliabilityGrade
    credibility: CredibilityGrade
    trend: Annotated[
        Literal["up", "stable", "down"] | None,
        Field(
            default=None,
            description="Perceived trend, for expert ratings only: up, stable or down "
            "(sube/estable/baja, sobe/estável/desce accepted).",
            json_schema_extra=_headers("tendencia", "tendência"),
        ),
    ]
    notes: Notes
    # Derived while parsing; not columns of the file.
    missing_reason: Annotated[
        str | None, Field(default=None, description="Token the steward wrote for 'missing'.")
    ]
    censored_bound: Annotated[
        float | None, Field(default=None, description="Bound of a suppressed value ('<5' → 5).")
    ]
    reported_unit: Annotated[
        str | None, Field(default=None, description="Unit as reported, if it was converted.")
    ]
    reported_value: Annotated[
        float | None, Field(default=None, description="Value as reported, if it was converted.")
    ]

    # -- field parsing ------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _split_value(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        raw = data.get("value")
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            data["value"] = float(raw)
            return data
        text = _text(raw)
        if text == "":
            raise PydanticCustomError("required", "'value' is empty", {"column": "value"})
        if fold(text) in MISSING_TOKENS:
            data["value"] = None
            data["missing_reason"] = text
            return data
        m = re.fullmatch(r"<\s*=?\s*(\d+(?:[.,]\d+)?)", text)
        if m:
            data["value"] = None
            data["censored_bound"] = parse_number(m.group(1), _ctx(info).decimal)
            return data
        try:
            data["value"] = parse_number(text, _ctx(info).decimal)
        except ValueError:
            raise PydanticCustomError(
                "not_a_number", "'{value}' is not a number", {"value": text, "column": "value"}
            ) from None
        return data

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, v: object, info: ValidationInfo) -> str:
        text = _text(v)
        if not text:
            raise PydanticCustomError("required", "'period' is empty", {"column": "period"})
        m = re.fullmatch(r"(\d{4})(?:\s*[-/ ]?\s*[QqTt]([1-4]))?", text)
        if not m:
            raise PydanticCustomError("invalid_period", "bad period", {"value": text})
        ctx = _ctx(info)
        year = int(m.group(1))
        quarter = int(m.group(2)) if m.group(2) else None
        period_end = dt.date(year, 12, 31) if quarter is None else quarter_end(year, quarter)
        if period_end >= ctx.today:
            raise PydanticCustomError("future_period", "period not ended", {"value": text})
        if year != ctx.cycle_year:
            raise PydanticCustomError(
                "period_outside_cycle",
                "period outside cycle",
                {"value": text, "cycle": ctx.cycle_id, "year": ctx.cycle_year},
            )
        return f"{year}" if quarter is None else f"{year}-Q{quarter}"

    @field_validator("indicator", mode="before")
    @classmethod
    def _indicator(cls, v: object, info: ValidationInfo) -> str:
        text = _text(v)
        if not text:
            raise PydanticCustomError("required", "'indicator' is empty", {"column": "indicator"})
        codes = _ctx(info).catalogue.indicator_by_code
        code = text.lower()
        if code not in codes:
            raise PydanticCustomError(
                "unknown_indicator",
                "unknown indicator",
                {"value": text, "suggestion": suggest(code, list(codes))},
            )
        return code

    @field_validator("trend", mode="before")
    @classmethod
    def _trend(cls, v: object) -> str | None:
        text = _text(v)
        if not text:
            return None
        canonical = TRENDS.get(text.lower()) or TRENDS.get(fold(text))
        if canonical is None:
            raise PydanticCustomError("invalid_trend", "bad trend", {"value": text})
        return canonical

    # -- checks across fields -----------------------------------------------------------
    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> IndicatorRecord:
        ctx = _ctx(info)
        ind = ctx.catalogue.indicator_by_code[self.indicator]
        value = self.value
        if value is not None and not math.isfinite(value):
            raise PydanticCustomError("not_finite", "not finite", {"value": _text(value)})
        factor = ctx.catalogue.conversion_factor(self.unit, ind.unit)
        if factor is None:
            raise PydanticCustomError(
                "incompatible_unit",
                "incompatible unit",
                {"value": self.unit, "indicator": ind.code, "expected": ind.unit},
            )
        if value is not None and value < 0:
            raise PydanticCustomError("negative_value", "negative", {"value": _text(value)})
        low, high = EXPERT_SCALE
        if ind.kind == "expert" and value is not None and not low <= value <= high:
            raise PydanticCustomError(
                "out_of_scale", "outside scale", {"value": _text(value), "low": low, "high": high}
            )
        if self.unit != ind.unit:
            self.reported_unit, self.unit = self.unit, ind.unit
            if value is not None:
                self.reported_value, self.value = value, value * factor
            if self.censored_bound is not None:
                self.censored_bound *= factor
        check_hard_limit(self.value, ind.plausible[1], _text(value))
        return self


HARD_LIMIT_FACTOR = 1000.0
"""A value beyond this many times the top of its plausible range cannot be a real figure
(a typo of several digits, 1e308): an error, where merely implausible is a warning."""


def check_hard_limit(value: float | None, plausible_max: float, text: str) -> None:
    """Raise the ``beyond_hard_limit`` finding for an impossible value (catalogue unit)."""
    limit = plausible_max * HARD_LIMIT_FACTOR
    if value is not None and plausible_max > 0 and value > limit:
        raise PydanticCustomError(
            "beyond_hard_limit", "impossible", {"value": text, "limit": limit}
        )


def quarter_end(year: int, quarter: int) -> dt.date:
    """Last day of a calendar quarter."""
    month = quarter * 3
    return (dt.date(year + (month // 12), month % 12 + 1, 1)) - dt.timedelta(days=1)


# -- event records ----------------------------------------------------------------------
_ISO_DATE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)
_DAY_FIRST_DATE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")


def _parse_event_date(v: object, info: ValidationInfo) -> dt.date:
    ctx = _ctx(info)
    text = _text(v)
    if isinstance(v, dt.datetime):
        day = v.date()
    elif isinstance(v, dt.date):
        day = v
    elif isinstance(v, int | float) and not isinstance(v, bool):
        # a spreadsheet date cell without a date format arrives as Excel's day serial
        if not (math.isfinite(v) and 1 <= v <= EXCEL_MAX_SERIAL):
            raise PydanticCustomError("invalid_date", "bad date", {"value": text})
        day = EXCEL_EPOCH + dt.timedelta(days=int(v))
    else:
        if not text:
            raise _required("date")
        iso, day_first = _ISO_DATE.fullmatch(text), _DAY_FIRST_DATE.fullmatch(text)
        try:
            if iso:
                day = dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            elif day_first:  # Latin American usage: day first
                day = dt.date(
                    int(day_first.group(4)), int(day_first.group(3)), int(day_first.group(1))
                )
            else:
                raise ValueError(text)
        except ValueError:
            raise PydanticCustomError("invalid_date", "bad date", {"value": text}) from None
    if day > ctx.today:
        raise PydanticCustomError("future_date", "date in the future", {"value": text})
    if day.year != ctx.cycle_year:
        raise PydanticCustomError(
            "date_outside_cycle",
            "date outside cycle",
            {"value": text, "cycle": ctx.cycle_id, "year": ctx.cycle_year},
        )
    return day


def _parse_admin1(v: object) -> str:
    text = _text(v)
    if not text:
        raise _required("admin1")
    if len(text) > MAX_PLACE:
        raise PydanticCustomError(
            "text_too_long", "too long", {"column": "admin1", "limit": MAX_PLACE}
        )
    return text


def _parse_event_type(v: object, info: ValidationInfo) -> str:
    text = _text(v)
    if not text:
        raise _required("event_type")
    catalogue = _ctx(info).catalogue
    code = catalogue.event_type_spellings.get(fold(text))
    if code is None:
        raise PydanticCustomError(
            "unknown_event_type",
            "unknown event type",
            {"value": text, "suggestion": suggest(fold(text), list(catalogue.event_types))},
        )
    return code


def _parse_item(v: object, info: ValidationInfo) -> str:
    text = _text(v)
    if not text:
        raise _required("item")
    catalogue = _ctx(info).catalogue
    code = catalogue.event_item_spellings.get(fold(text))
    if code is None:
        choices = list(catalogue.event_item_spellings)
        raise PydanticCustomError(
            "unknown_item",
            "unknown item",
            {"value": text, "suggestion": suggest(fold(text), choices)},
        )
    return code


def _parse_quantity(v: object, info: ValidationInfo) -> float:
    text = _text(v)
    if isinstance(v, int | float) and not isinstance(v, bool):
        quantity = float(v)
    else:
        if not text:
            raise _required("quantity")
        try:
            quantity = parse_number(text, _ctx(info).decimal)
        except ValueError:
            raise PydanticCustomError(
                "invalid_quantity", "not a quantity", {"value": text}
            ) from None
    if not math.isfinite(quantity):
        raise PydanticCustomError("not_finite", "not finite", {"value": text})
    if quantity < 0:
        raise PydanticCustomError("negative_value", "negative", {"value": text})
    return quantity


class EventRecord(BaseModel):
    """One seizure, incident or identified victim reported by a country."""

    model_config = ConfigDict(extra="forbid", title="Event submission row")

    country: Country
    date: Annotated[
        dt.date,
        Field(
            description="Date of the event, within the cycle's year and not in the future: "
            "'2025-03-14', '14/03/2025' (day first) or a spreadsheet date cell. "
            "Stored as a date.",
            json_schema_extra=_headers("fecha", "data"),
        ),
        BeforeValidator(_parse_event_date),
    ]
    admin1: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_PLACE,
            description="First administrative level where the event took place (department, "
            "state, province or region), as the country names it.",
            json_schema_extra=_headers(
                "departamento",
                "estado",
                "admin 1",
                "adm1",
                "provincia",
                "región",
                "region",
                "estado/departamento",
                "departamento/estado",
                "división administrativa",
                "unidad administrativa",
                "uf",
                "unidade federativa",
            ),
        ),
        BeforeValidator(_parse_admin1),
    ]
    event_type: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]*$",
            description="Event type code from schemas/catalogue.yaml (seizure, incident, "
            "victim), or its name in es/pt/en ('incautación', 'apreensão').",
            json_schema_extra=_headers("tipo de evento", "tipo de evento", "tipo"),
        ),
        BeforeValidator(_parse_event_type),
    ]
    item: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]*$",
            description="What the event concerns: an item code of its event type in "
            "schemas/catalogue.yaml ('cocaine', 'firearms', 'thb_victim'), or its name in "
            "es/pt/en ('cocaína', 'armas de fogo').",
            json_schema_extra=_headers("elemento", "item", "objeto", "sustancia", "substância"),
        ),
        BeforeValidator(_parse_item),
    ]
    quantity: Annotated[
        float,
        Field(
            ge=0,
            description="Quantity of the item in the event, in the unit given (1 for one "
            "victim or one incident). Decimal comma accepted in files that use it "
            "('1.234,5'). Stored in the item's catalogue unit.",
            json_schema_extra=_headers("cantidad", "quantidade"),
        ),
        BeforeValidator(_parse_quantity),
    ]
    unit: Unit
    source: Source
    reliability: ReliabilityGrade
    credibility: CredibilityGrade
    notes: Notes
    # Derived while parsing; not columns of the file.
    reported_unit: Annotated[
        str | None, Field(default=None, description="Unit as reported, if it was converted.")
    ]
    reported_quantity: Annotated[
        float | None,
        Field(default=None, description="Quantity as reported, if it was converted."),
    ]

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> EventRecord:
        catalogue = _ctx(info).catalogue
        etype = catalogue.event_types[self.event_type]
        if self.item not in etype.items:
            raise PydanticCustomError(
                "item_not_allowed",
                "item not allowed",
                {
                    "column": "item",
                    "value": self.item,
                    "event_type": self.event_type,
                    "allowed": ", ".join(etype.items),
                },
            )
        item = etype.items[self.item]
        factor = catalogue.conversion_factor(self.unit, item.unit)
        if factor is None:
            raise PydanticCustomError(
                "incompatible_unit",
                "incompatible unit",
                {
                    "column": "unit",
                    "value": self.unit,
                    "indicator": item.code,
                    "expected": item.unit,
                },
            )
        if self.unit != item.unit:
            self.reported_unit, self.unit = self.unit, item.unit
            self.reported_quantity, self.quantity = self.quantity, self.quantity * factor
        return self


# -- the file's columns, by kind --------------------------------------------------------
Kind = Literal["indicators", "events"]
KINDS: tuple[Kind, ...] = ("indicators", "events")

# Canonical file columns, in template order, and which ones a file must have.
FILE_COLUMNS: tuple[str, ...] = (
    "country",
    "period",
    "indicator",
    "value",
    "unit",
    "source",
    "reliability",
    "credibility",
    "trend",
    "notes",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "country",
    "period",
    "indicator",
    "value",
    "unit",
    "reliability",
    "credibility",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "country",
    "date",
    "admin1",
    "event_type",
    "item",
    "quantity",
    "unit",
    "source",
    "reliability",
    "credibility",
    "notes",
)
EVENT_REQUIRED_COLUMNS: tuple[str, ...] = (
    "country",
    "date",
    "admin1",
    "event_type",
    "item",
    "quantity",
    "unit",
    "reliability",
    "credibility",
)
EVENT_TYPED_COLUMNS: dict[str, str] = {
    c: {"country": "country_iso3", "date": "event_date"}.get(c, c) for c in EVENT_COLUMNS
}
"""Event-file column -> the name of its typed value (``EventRecord`` field ``country``
is ``country_iso3`` in ``core_threat__events``, in the SQL path's typed rows and in the
relation the event suite sums up)."""
COLUMNS: dict[Kind, tuple[str, ...]] = {"indicators": FILE_COLUMNS, "events": EVENT_COLUMNS}
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "indicators": REQUIRED_COLUMNS,
    "events": EVENT_REQUIRED_COLUMNS,
}
MODELS: dict[Kind, type[IndicatorRecord] | type[EventRecord]] = {
    "indicators": IndicatorRecord,
    "events": EventRecord,
}
NUMBER_COLUMN: dict[Kind, str] = {"indicators": "value", "events": "quantity"}
"""The column whose cells decide a CSV file's decimal separator."""


def _field_headers(kind: Kind, name: str) -> dict[str, Any]:
    extra = MODELS[kind].model_fields[name].json_schema_extra
    return extra if isinstance(extra, dict) else {}


def column_headers(lang: str, kind: Kind | None = None) -> dict[str, str]:
    """Canonical column -> header in ``lang`` (en headers are the canonical names).

    Without ``kind``, the columns of both kinds (indicator columns first).
    """
    out: dict[str, str] = {}
    for k in KINDS if kind is None else (kind,):
        for name in COLUMNS[k]:
            headers = _field_headers(k, name).get("headers", {})
            out.setdefault(
                name, str(headers.get(lang, name)) if isinstance(headers, dict) else name
            )
    return out


@functools.cache
def header_lookup(kind: Kind | None = None) -> dict[str, str]:
    """Folded header text in any language (or an accepted alias) -> canonical column.

    Built once per kind; callers must not change the dict they get.
    """
    lookup: dict[str, str] = {}
    for k in KINDS if kind is None else (kind,):
        for name in COLUMNS[k]:
            extra = _field_headers(k, name)
            headers = extra.get("headers", {})
            spellings = [name, *(headers.values() if isinstance(headers, dict) else ())]
            spellings += list(extra.get("aliases", []))
            for text in spellings:
                lookup.setdefault(fold(str(text)), name)
    return lookup


DERIVED_FIELDS = (
    "missing_reason",
    "censored_bound",
    "reported_unit",
    "reported_value",
    "reported_quantity",
)
SCHEMA_FILES: dict[str, Kind] = {
    "indicator_submission_row.schema.json": "indicators",
    "event_submission_row.schema.json": "events",
}
_SCHEMA_DESCRIPTIONS: dict[Kind, str] = {
    "indicators": "One row of an ideal indicator submission",
    "events": "One row of an ideal event-record submission (one seizure, incident or victim)",
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each submission row model, as published in ``schemas/``."""
    out: dict[str, dict[str, Any]] = {}
    for name, kind in SCHEMA_FILES.items():
        schema = MODELS[kind].model_json_schema(mode="validation")
        for derived in DERIVED_FIELDS:
            schema["properties"].pop(derived, None)
        schema["required"] = [c for c in REQUIRED[kind] if c in schema["properties"]]
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["description"] = (
            f"{_SCHEMA_DESCRIPTIONS[kind]} (CSV/XLSX row or an item of the JSON 'rows' list). "
            "Generated from ideal/contract.py by `ideal docs`; do not edit."
        )
        out[name] = schema
    return out


def write_json_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, schema in json_schemas().items():
        path = folder / name
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
