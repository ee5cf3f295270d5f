"""The submission contract: one pydantic definition of every column a steward sends.

A submission row arrives as text (or as a spreadsheet cell) and leaves as a typed
``IndicatorRecord``. Parsing of awkward national formats (decimal commas, "n/d",
"<5", quarters written "2025-T1", country names) happens here, once. The JSON Schema
in ``schemas/`` is exported from these models, and header names in Spanish and
Portuguese are declared on the fields themselves.

Validation needs a context (``ContractContext``): the catalogue, the country encoder,
the file's decimal separator and the cycle's year.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ideal.catalogue import Catalogue
from ideal.reference import CountryResolver, UnknownCountryError

MISSING_TOKENS = frozenset({"n/d", "nd", "s/d", "sd", "n/a", "na", "-", "–", "—", "x", ".."})
MAX_TEXT = 2000
RELIABILITY_GRADES = ("A", "B", "C", "D", "E", "F")
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


@dataclass(frozen=True)
class ContractContext:
    """What validating a row needs to know beyond the row itself."""

    catalogue: Catalogue
    resolver: CountryResolver
    cycle_id: str
    cycle_year: int
    decimal: Literal[".", ","] = "."
    today: dt.date = field(default_factory=dt.date.today)


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


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form used to compare headers and words."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_]+", " ", plain).strip().lower()


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


class IndicatorRecord(BaseModel):
    """One value of one indicator (or one expert rating) for one country and period."""

    model_config = ConfigDict(extra="forbid", title="Indicator submission row")

    country: Annotated[
        str,
        Field(
            pattern=r"^[A-Z]{3}$",
            description="Reporting country: ISO 3166 alpha-3 or alpha-2 code, or its name in "
            "Spanish, Portuguese or English ('PER', 'PE', 'Perú'). Stored as alpha-3.",
            json_schema_extra={"headers": {"es": "país", "pt": "país"}},
        ),
    ]
    period: Annotated[
        str,
        Field(
            pattern=r"^\d{4}(-Q[1-4])?$",
            description="Reporting period: the year ('2025') or a quarter ('2025-Q1'; "
            "'2025-T1' is accepted). Stored as YYYY or YYYY-Qn.",
            json_schema_extra={"headers": {"es": "periodo", "pt": "período"}},
        ),
    ]
    indicator: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]*$",
            description="Indicator code from schemas/catalogue.yaml.",
            json_schema_extra={"headers": {"es": "indicador", "pt": "indicador"}},
        ),
    ]
    value: Annotated[
        float | None,
        Field(
            description="The value, in the indicator's unit. Decimal comma accepted in files "
            "that use it ('1.234,5'). 'n/d', 's/d', 'N/A', '-' or 'x' mean not available; "
            "'<5' means a suppressed small count.",
            json_schema_extra={"headers": {"es": "valor", "pt": "valor"}},
        ),
    ]
    unit: Annotated[
        str,
        Field(
            min_length=1,
            description="Unit code of the value (see catalogue units); a unit of the same "
            "dimension is converted (t -> kg) and flagged.",
            json_schema_extra={"headers": {"es": "unidad", "pt": "unidade"}},
        ),
    ]
    source: Annotated[
        str | None,
        Field(
            default=None,
            max_length=MAX_TEXT,
            description="Institution that produced the figure.",
            json_schema_extra={"headers": {"es": "fuente", "pt": "fonte"}},
        ),
    ]
    reliability: Annotated[
        Literal["A", "B", "C", "D", "E", "F"],
        Field(
            description="Admiralty source reliability: A completely reliable … E unreliable, "
            "F cannot be judged.",
            json_schema_extra={"headers": {"es": "fiabilidad", "pt": "confiabilidade"}},
        ),
    ]
    credibility: Annotated[
        int,
        Field(
            ge=1,
            le=6,
            description="Admiralty information credibility: 1 confirmed … 5 improbable, "
            "6 cannot be judged.",
            json_schema_extra={"headers": {"es": "credibilidad", "pt": "credibilidade"}},
        ),
    ]
    trend: Annotated[
        Literal["up", "stable", "down"] | None,
        Field(
            default=None,
            description="Perceived trend, for expert ratings only: up, stable or down "
            "(sube/estable/baja, sobe/estável/desce accepted).",
            json_schema_extra={"headers": {"es": "tendencia", "pt": "tendência"}},
        ),
    ]
    notes: Annotated[
        str | None,
        Field(
            default=None,
            max_length=MAX_TEXT,
            description="Free text: caveats, reasons for a missing value.",
            json_schema_extra={"headers": {"es": "notas", "pt": "observações"}},
        ),
    ]
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

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v: object, info: ValidationInfo) -> str:
        text = _text(v)
        if not text:
            raise PydanticCustomError("required", "'country' is empty", {"column": "country"})
        try:
            return _ctx(info).resolver.resolve(text)
        except UnknownCountryError as exc:
            raise PydanticCustomError(
                "unknown_country",
                "'{value}' is not a recognised country",
                {"value": text, "suggestion": " / ".join(exc.suggestions)},
            ) from None

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
        period_end = dt.date(year, 12, 31) if quarter is None else _quarter_end(year, quarter)
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

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, v: object) -> str:
        text = _text(v)
        if not text:
            raise PydanticCustomError("required", "'unit' is empty", {"column": "unit"})
        return text.lower().replace("³", "3").replace("²", "2")

    @field_validator("reliability", mode="before")
    @classmethod
    def _reliability(cls, v: object) -> str:
        text = _text(v).upper()
        if not text:
            raise PydanticCustomError("required", "empty", {"column": "reliability"})
        if text not in RELIABILITY_GRADES:
            raise PydanticCustomError("invalid_reliability", "bad grade", {"value": _text(v)})
        return text

    @field_validator("credibility", mode="before")
    @classmethod
    def _credibility(cls, v: object) -> int:
        text = _text(v)
        if not text:
            raise PydanticCustomError("required", "empty", {"column": "credibility"})
        if not re.fullmatch(r"[1-6]", text):
            raise PydanticCustomError("invalid_credibility", "bad grade", {"value": text})
        return int(text)

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

    @field_validator("source", "notes", mode="before")
    @classmethod
    def _free_text(cls, v: object, info: ValidationInfo) -> str | None:
        text = _text(v)
        if len(text) > MAX_TEXT:
            raise PydanticCustomError(
                "text_too_long", "too long", {"column": info.field_name, "limit": MAX_TEXT}
            )
        return text or None

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
        if ind.kind == "expert" and value is not None and not 1 <= value <= 10:
            raise PydanticCustomError(
                "out_of_scale", "outside scale", {"value": _text(value), "low": 1, "high": 10}
            )
        if self.unit != ind.unit:
            self.reported_unit, self.unit = self.unit, ind.unit
            if value is not None:
                self.reported_value, self.value = value, value * factor
            if self.censored_bound is not None:
                self.censored_bound *= factor
        return self


def _quarter_end(year: int, quarter: int) -> dt.date:
    month = quarter * 3
    return (dt.date(year + (month // 12), month % 12 + 1, 1)) - dt.timedelta(days=1)


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


def column_headers(lang: str) -> dict[str, str]:
    """Canonical column -> header in ``lang`` (en headers are the canonical names)."""
    out: dict[str, str] = {}
    for name in FILE_COLUMNS:
        extra = IndicatorRecord.model_fields[name].json_schema_extra
        headers = extra.get("headers", {}) if isinstance(extra, dict) else {}
        out[name] = str(headers.get(lang, name)) if isinstance(headers, dict) else name
    return out


def header_lookup() -> dict[str, str]:
    """Folded header text in any language -> canonical column name."""
    lookup: dict[str, str] = {}
    for lang in ("en", "es", "pt"):
        for canonical, header in column_headers(lang).items():
            lookup[fold(header)] = canonical
    return lookup


DERIVED_FIELDS = ("missing_reason", "censored_bound", "reported_unit", "reported_value")
SCHEMA_FILES = {"indicator_submission_row.schema.json": IndicatorRecord}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each submission row model, as published in ``schemas/``."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in SCHEMA_FILES.items():
        schema = model.model_json_schema(mode="validation")
        for derived in DERIVED_FIELDS:
            schema["properties"].pop(derived, None)
        schema["required"] = [c for c in REQUIRED_COLUMNS if c in schema["properties"]]
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["description"] = (
            "One row of an ideal indicator submission (CSV/XLSX row or an item of the JSON "
            "'rows' list). Generated from ideal/contract.py by `ideal schema`; do not edit."
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
