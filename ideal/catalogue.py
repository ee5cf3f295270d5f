"""The indicator catalogue (``schemas/catalogue.yaml``) as typed, validated objects.

Every fact about a category, an indicator, an event type and its items, a unit or a
denominator is written once in the YAML file; this module loads and checks it, and offers
the look-ups the rest of the code needs (unit conversion, localised names, codes by any
spelling a steward may use). Nothing here restates a catalogue fact.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ideal.config import CATALOGUE_PATH

Lang = Literal["es", "pt", "en"]
LANGS: tuple[Lang, ...] = ("es", "pt", "en")
# Babel/CLDR locale used to format numbers and dates in each working language. Plain "es"
# (not es_MX) gives the decimal comma most member states write; Brazilian Portuguese is
# the Portuguese of the region.
BABEL_LOCALES: dict[Lang, str] = {"es": "es", "pt": "pt_BR", "en": "en"}


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form used to compare headers and words."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_]+", " ", plain).strip().lower()


def _ordered(v: tuple[float, float]) -> tuple[float, float]:
    if v[0] > v[1]:
        raise ValueError(f"plausible range {v} has min > max")
    return v


PlausibleRange = Annotated[tuple[float, float], AfterValidator(_ordered)]
"""[min, max] of a plausible value; min must not exceed max."""


class Names(BaseModel):
    """A label in the three working languages."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    es: str = Field(min_length=1)
    pt: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return str(getattr(self, lang, self.en))


class Unit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    dimension: str
    to_base: float = Field(gt=0)
    name: Names


class Denominator(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    per: float = Field(gt=0)
    source: str
    name: Names


class Category(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Names
    group: str


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: str
    kind: Literal["quantitative", "expert"]
    unit: str
    direction: Literal[1, -1]
    denominator: str | None
    plausible: PlausibleRange
    period_aggregation: Literal["sum", "mean"]
    name: Names


class EventItem(BaseModel):
    """What an event may concern (cocaine, firearms, a victim of trafficking …)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: str
    unit: str
    plausible: PlausibleRange
    name: Names


class EventType(BaseModel):
    """A kind of event record (seizure, incident, victim) and the items it allows."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Names
    items: dict[str, EventItem]

    @model_validator(mode="before")
    @classmethod
    def _inject_item_codes(cls, data: dict[str, object]) -> dict[str, object]:
        items = data.get("items")
        if isinstance(items, dict):
            data = {**data, "items": {c: {"code": c, **v} for c, v in items.items()}}
        return data


class Catalogue(BaseModel):
    """The whole catalogue, cross-checked: every reference resolves, every code is unique."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    catalogue_version: str
    units: dict[str, Unit]
    denominators: dict[str, Denominator]
    categories: tuple[Category, ...]
    indicators: tuple[Indicator, ...]
    event_types: dict[str, EventType] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _inject_codes(cls, data: dict[str, object]) -> dict[str, object]:
        # The YAML keys units/denominators/event types by code; carry the key into each.
        for key in ("units", "denominators", "event_types"):
            section = data.get(key)
            if isinstance(section, dict):
                data[key] = {c: {"code": c, **v} for c, v in section.items()}
        return data

    @model_validator(mode="after")
    def _cross_check(self) -> Catalogue:
        cats = [c.code for c in self.categories]
        codes = [i.code for i in self.indicators]
        for label, items in (("category", cats), ("indicator", codes)):
            dupes = sorted({c for c in items if items.count(c) > 1})
            if dupes:
                raise ValueError(f"duplicate {label} codes: {dupes}")
        for ind in self.indicators:
            if ind.category not in cats:
                raise ValueError(f"indicator {ind.code}: unknown category {ind.category!r}")
            if ind.unit not in self.units:
                raise ValueError(f"indicator {ind.code}: unknown unit {ind.unit!r}")
            if ind.denominator is not None and ind.denominator not in self.denominators:
                raise ValueError(f"indicator {ind.code}: unknown denominator {ind.denominator!r}")
        for cat in cats:
            kinds = [i.kind for i in self.indicators if i.category == cat]
            if kinds.count("expert") != 1 or kinds.count("quantitative") < 1:
                raise ValueError(
                    f"category {cat}: needs exactly one expert item and at least one "
                    f"quantitative indicator"
                )
        self._check_events(cats)
        return self

    def _check_events(self, cats: list[str]) -> None:
        items = [i.code for t in self.event_types.values() for i in t.items.values()]
        dupes = sorted({c for c in items if items.count(c) > 1})
        if dupes:
            raise ValueError(f"event items listed under two event types: {dupes}")
        for etype in self.event_types.values():
            for item in etype.items.values():
                if item.category not in cats:
                    raise ValueError(f"event item {item.code}: unknown category {item.category!r}")
                if item.unit not in self.units:
                    raise ValueError(f"event item {item.code}: unknown unit {item.unit!r}")
        # A spelling a steward may write must name one code only.
        for label, spellings in (
            ("event type", _spellings(list(self.event_types.values()))),
            (
                "event item",
                _spellings([i for t in self.event_types.values() for i in t.items.values()]),
            ),
        ):
            clashes = sorted(k for k, codes in spellings.items() if len(codes) > 1)
            if clashes:
                raise ValueError(f"{label} spellings name two codes: {clashes}")

    # -- look-ups ---------------------------------------------------------------------
    @property
    def indicator_by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @property
    def category_by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    def indicators_of(self, category: str) -> list[Indicator]:
        return [i for i in self.indicators if i.category == category]

    @property
    def event_item_by_code(self) -> dict[str, EventItem]:
        return {i.code: i for t in self.event_types.values() for i in t.items.values()}

    @cached_property
    def event_type_spellings(self) -> dict[str, str]:
        """Folded spelling (code or a name in es/pt/en) -> event type code."""
        return {k: next(iter(v)) for k, v in _spellings(list(self.event_types.values())).items()}

    @cached_property
    def event_item_spellings(self) -> dict[str, str]:
        """Folded spelling (code or a name in es/pt/en) -> event item code."""
        items = [i for t in self.event_types.values() for i in t.items.values()]
        return {k: next(iter(v)) for k, v in _spellings(items).items()}

    def conversion_factor(self, from_unit: str, to_unit: str) -> float | None:
        """Factor that turns a value in ``from_unit`` into ``to_unit``; None if incompatible."""
        src, dst = self.units.get(from_unit), self.units.get(to_unit)
        if src is None or dst is None or src.dimension != dst.dimension:
            return None
        return src.to_base / dst.to_base


def _spellings(entries: list[EventType] | list[EventItem]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for e in entries:
        for text in (e.code, e.name.es, e.name.pt, e.name.en):
            found.setdefault(fold(text), set()).add(e.code)
    return found


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (the project's by default)."""
    if path is None:
        return _default_catalogue()
    return _read(path)


def _read(path: Path) -> Catalogue:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return Catalogue.model_validate(data)


@cache
def _default_catalogue() -> Catalogue:
    return _read(CATALOGUE_PATH)
