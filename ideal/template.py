"""Submission templates: the file a data steward fills in, in XLSX, CSV or JSON.

A template is made for one country, one cycle and one kind of submission, in the
steward's language.

- **Indicators** (the default): one row per indicator of the catalogue, pre-filled with
  country, period (the cycle's year), indicator code and unit, so that the steward only
  types values, sources and grades.
- **Events**: one row per seizure, incident or identified victim. The XLSX data sheet
  has blank rows whose country fills itself in (a formula) as soon as the steward
  writes in the row, so unused rows stay blank and are not read as data; the CSV is the
  header alone; the JSON has an empty ``rows`` list, the file's country and a blank row
  to copy.

The XLSX version also guards against the common mistakes before the file is ever
sent: drop-down lists (indicator codes, event types and items, units, grades, trends),
value, quantity, date and text-length checks, input messages in the steward's
language, a protected header, an instructions sheet and a reference sheet. Every
workbook is stamped with custom properties (kind, country, cycle, versions), and the
JSON files carry the same keys at their top level, so ``template_cycle`` finds the cycle.

Every fact comes from where it is defined once: columns, headers and text limits from
``ideal.contract``, indicators, event types, items, units and plausible ranges from the
catalogue, words from ``ideal.messages.LABELS``. A filled template reads back through
the same readers and contract as any submission (``ideal.intake.parse_and_validate``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from babel.numbers import format_decimal

from ideal.catalogue import (
    BABEL_LOCALES,
    LANGS,
    Catalogue,
    EventItem,
    EventType,
    Indicator,
    Lang,
    Names,
    fold,
    load_catalogue,
)
from ideal.contract import (
    COLUMNS,
    EXCEL_EPOCH,
    EXPERT_SCALE,
    FILE_COLUMNS,
    KINDS,
    MAX_PLACE,
    MAX_TEXT,
    RELIABILITY_GRADES,
    REQUIRED,
    Kind,
    column_headers,
)
from ideal.messages import LABELS, label
from ideal.reference import UnknownCountryError, country_name, default_resolver

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

logger = logging.getLogger(__name__)
_Choice = TypeVar("_Choice", bound=str)

Format = Literal["xlsx", "csv", "json"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv", "json")
TEMPLATE_VERSION = "1"
MISSING_TOKEN = "n/d"
CREDIBILITY_GRADES = ("1", "2", "3", "4", "5", "6")
# Words a steward picks for the expert trend; the contract maps each to up/stable/down.
TREND_WORDS: dict[Lang, tuple[str, str, str]] = {
    "es": ("sube", "estable", "baja"),
    "pt": ("sobe", "estável", "desce"),
    "en": ("up", "stable", "down"),
}
# Quarters are written 2026-T1 (trimestre) in es and pt, 2026-Q1 in en.
QUARTER_LETTER: dict[Lang, str] = {"es": "T", "pt": "T", "en": "Q"}
# Excel opens a CSV with the list separator of the user's locale: ";" where the decimal
# mark is a comma (es, pt), "," in English.
CSV_DELIMITER: dict[Lang, str] = {"es": ";", "pt": ";", "en": ","}
# Blank rows below the pre-filled ones, with the same drop-downs: room for quarters.
EXTRA_ROWS = 200
# Blank rows of the event template's data sheet (more can be copied down).
EVENT_ROWS = 500
# Event dates are shown day first, as the region writes them (and as the contract reads
# a date written as text); ISO year-month-day is accepted too.
DATE_NUMBER_FORMAT = "dd/mm/yyyy"
DATE_EXAMPLE = (3, 14)  # month, day of the example date in the instructions
# Excel refuses (and "repairs" away) input messages and alerts longer than this.
DV_TITLE_MAX = 32
DV_TEXT_MAX = 255
DVKind = Literal["list", "custom", "textLength", "date", "decimal"]
DVOperator = Literal["equal", "lessThanOrEqual", "between", "greaterThanOrEqual"]
# Defined names the drop-down lists point at (ranges on the reference sheet).
INDICATOR_LIST = "ideal_indicators"
EVENT_TYPE_LIST = "ideal_event_types"
EVENT_ITEM_LIST = "ideal_event_items"
EVENT_ITEM_TYPES = "ideal_event_item_types"  # the event type of each item in that list
# A JSON file larger than this is not parsed twice just to find its stamp.
MAX_STAMP_JSON_BYTES = 16 * 1024 * 1024
# Custom properties that stamp the workbook with what it was made for.
PROP_PREFIX = "ideal_"
# What the default file name says about the kind: COL_ideal_2026_es.xlsx (indicators),
# COL_ideal_events_2026_es.xlsx (events).
NAME_TAG: dict[Kind, str] = {"indicators": "", "events": "_events"}
TITLE_KEY: dict[Kind, str] = {"indicators": "tpl.title", "events": "tpl.ev.title"}


class TemplateError(ValueError):
    """A template that cannot be made as asked; the one-line message says what to do."""


@dataclass(frozen=True)
class TemplateSpec:
    """What one template is for: a country, a cycle (and its year), a language, a kind."""

    country_iso3: str
    cycle_id: str
    year: int
    lang: Lang
    catalogue: Catalogue = field(repr=False)
    today: dt.date = field(default_factory=dt.date.today)
    kind: Kind = "indicators"

    @property
    def country_label(self) -> str:
        return country_name(self.country_iso3, self.lang)

    @property
    def columns(self) -> tuple[str, ...]:
        """The file's canonical columns, in template order."""
        return COLUMNS[self.kind]

    @property
    def headers(self) -> dict[str, str]:
        return column_headers(self.lang, self.kind)

    @property
    def trend_words(self) -> tuple[str, str, str]:
        return TREND_WORDS[self.lang]

    @property
    def periods(self) -> tuple[str, ...]:
        """The year and its four quarters, as the steward's language writes them."""
        q = QUARTER_LETTER[self.lang]
        return (str(self.year), *(f"{self.year}-{q}{n}" for n in range(1, 5)))

    @property
    def date_examples(self) -> tuple[str, str]:
        """One date of the cycle's year, day first and ISO ('14/03/2026', '2026-03-14')."""
        day = dt.date(self.year, *DATE_EXAMPLE)
        return day.strftime("%d/%m/%Y"), day.isoformat()


def cycle_year(cycle_id: str) -> int:
    """The year a cycle id names ("2026", "2026-rev1" -> 2026)."""
    m = re.match(r"^\s*(\d{4})(?!\d)", cycle_id)
    if not m:
        raise TemplateError(
            f"the cycle {cycle_id!r} does not start with a year; write it as e.g. 2026."
        )
    return int(m.group(1))


def _one_of(text: str, known: tuple[_Choice, ...], what: str, *, strip: str = "") -> _Choice:
    """The choice ``text`` names (any case, ``strip`` left off), or a TemplateError."""
    wanted = text.strip().lower().lstrip(strip)
    for choice in known:
        if wanted == choice:
            return choice
    choices = ", ".join(known[:-1]) + " or " + known[-1]
    raise TemplateError(f"unknown {what} {text!r}; use {choices}.")


def check_lang(lang: str) -> Lang:
    """``lang`` as a Lang, or a TemplateError naming the languages there are."""
    return _one_of(lang, LANGS, "language")


def check_format(fmt: str) -> Format:
    """``fmt`` (".xlsx" too) as a Format, or a TemplateError naming the formats there are."""
    return _one_of(fmt, FORMATS, "format", strip=".")


def check_kind(kind: str) -> Kind:
    """``kind`` as a Kind, or a TemplateError naming the kinds there are."""
    return _one_of(kind, KINDS, "kind")


def make_spec(
    country: str,
    cycle_id: str,
    lang: str,
    catalogue: Catalogue | None = None,
    today: dt.date | None = None,
    kind: str = "indicators",
) -> TemplateSpec:
    """Check what was asked for and resolve it; raises TemplateError with a clear message."""
    kind_ = check_kind(kind)
    try:
        iso3 = default_resolver().resolve(country.strip())
    except UnknownCountryError as exc:
        raise TemplateError(str(exc)) from None
    return TemplateSpec(
        country_iso3=iso3,
        cycle_id=cycle_id.strip(),
        year=cycle_year(cycle_id),
        lang=check_lang(lang),
        catalogue=catalogue or load_catalogue(),
        today=today or dt.date.today(),
        kind=kind_,
    )


# -- the rows ---------------------------------------------------------------------------
def template_rows(spec: TemplateSpec) -> list[dict[str, str | int | None]]:
    """The pre-filled rows, keyed by canonical column, values left empty.

    One per indicator for an indicator template; none for an event template, whose rows
    are the steward's own.
    """
    if spec.kind == "events":
        return []
    rows: list[dict[str, str | int | None]] = []
    for ind in _ordered_indicators(spec.catalogue):
        row: dict[str, str | int | None] = dict.fromkeys(FILE_COLUMNS)
        row.update(country=spec.country_iso3, period=spec.year, indicator=ind.code, unit=ind.unit)
        rows.append(row)
    return rows


def _ordered_indicators(catalogue: Catalogue) -> list[Indicator]:
    # By category, as the catalogue lists them; the expert rating closes each category.
    out: list[Indicator] = []
    for cat in catalogue.categories:
        items = catalogue.indicators_of(cat.code)
        out += [i for i in items if i.kind != "expert"] + [i for i in items if i.kind == "expert"]
    return out


def _event_items(catalogue: Catalogue) -> list[tuple[EventType, EventItem]]:
    """Every event item with its type, in catalogue order."""
    return [(t, i) for t in catalogue.event_types.values() for i in t.items.values()]


def _event_units(catalogue: Catalogue) -> list[str]:
    """Every unit an event quantity may be given in: the units of the items' dimensions."""
    dims = {catalogue.units[i.unit].dimension for _, i in _event_items(catalogue)}
    return [u for u, spec in catalogue.units.items() if spec.dimension in dims]


def _type_names(spec: TemplateSpec) -> str:
    """The event types as the steward's language names them: 'incautación, incidente, …'."""
    return ", ".join(t.name.get(spec.lang) for t in spec.catalogue.event_types.values())


def _other_names(names: Names, lang: Lang) -> str:
    """The names in the other working languages that are spelt differently."""
    seen = {fold(names.get(lang))}
    out: list[str] = []
    for other in LANGS:
        name = names.get(other)
        if fold(name) not in seen:
            seen.add(fold(name))
            out.append(name)
    return ", ".join(out)


def _number(value: float, lang: Lang) -> str:
    return str(format_decimal(value, locale=BABEL_LOCALES[lang]))


def _units_like(catalogue: Catalogue, unit: str) -> list[str]:
    """The unit itself first, then every unit of the same dimension (convertible to it)."""
    dim = catalogue.units[unit].dimension
    return [unit] + [
        u for u, spec in catalogue.units.items() if spec.dimension == dim and u != unit
    ]


def _expert_units(catalogue: Catalogue) -> list[str]:
    return sorted({i.unit for i in catalogue.indicators if i.kind == "expert"})


def _excel_serial(day: dt.date) -> int:
    return (day - EXCEL_EPOCH).days


def _column_note(spec: TemplateSpec, column: str, params: Mapping[str, object]) -> str:
    """What to write in a column; event columns have their own words where they differ."""
    key = f"tpl.ev.col.{column}"
    if spec.kind != "events" or key not in LABELS:
        key = f"tpl.col.{column}"
    return label(key, spec.lang, **params)


def _note_params(spec: TemplateSpec, reference: str) -> dict[str, object]:
    """What the column notes are filled with, in the header comments and the instructions."""
    params: dict[str, object] = {
        "iso3": spec.country_iso3,
        "year": spec.year,
        "reference": reference,
    }
    if spec.kind == "events":
        example, iso = spec.date_examples
        params.update(types=_type_names(spec), example=example, iso=iso)
    else:
        params.update(trends=", ".join(spec.trend_words), **_SCALE)
    return params


# The expert scale, as the sentences that state it are filled.
_SCALE = {"low": EXPERT_SCALE[0], "high": EXPERT_SCALE[1]}


# -- file names and writing ---------------------------------------------------------------
def default_name(spec: TemplateSpec, fmt: Format) -> str:
    tag = NAME_TAG[spec.kind]
    return f"{spec.country_iso3}_ideal{tag}_{spec.cycle_id}_{spec.lang}.{fmt}"


def build(spec: TemplateSpec, fmt: Format) -> bytes:
    """The template's bytes in the given format."""
    if fmt == "xlsx":
        return build_xlsx(spec)
    if fmt == "csv":
        return build_csv(spec)
    return build_json(spec)


def write_template(
    spec: TemplateSpec, fmt: Format, out: Path | None = None, *, force: bool = False
) -> Path:
    """Write the template to ``out`` (a file, or a folder for the default name).

    An existing file is kept unless ``force``: it may be a template already filled in.
    """
    target = out or Path(default_name(spec, fmt))
    if target.is_dir():
        target = target / default_name(spec, fmt)
    if target.exists() and not force:
        raise TemplateError(
            f"{target} already exists (it may hold data); choose another --out or add --force."
        )
    data = build(spec, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    logger.info("wrote %s (%d bytes)", target, len(data))
    return target


# -- CSV and JSON -------------------------------------------------------------------------
def build_csv(spec: TemplateSpec) -> bytes:
    """UTF-8 with BOM (so Excel reads the accents), ';' for es/pt and ',' for en.

    An event template is the header alone: a CSV has no place for instructions, and a
    row holding only the country would be read as an incomplete event.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=CSV_DELIMITER[spec.lang], lineterminator="\r\n")
    headers = spec.headers
    writer.writerow([headers[c] for c in spec.columns])
    for row in template_rows(spec):
        writer.writerow(["" if row[c] is None else str(row[c]) for c in spec.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def build_json(spec: TemplateSpec) -> bytes:
    """``{"kind", "country", "cycle", ..., "rows": [...]}`` with canonical (English) keys.

    Top-level keys other than "rows" are kept by the reader but never validated; "kind"
    tells it the file's kind even while "rows" is empty, and "country" stands for the
    country of any row that leaves it out.
    """
    doc: dict[str, Any] = {
        "kind": spec.kind,
        "country": spec.country_iso3,
        "cycle": spec.cycle_id,
        "year": spec.year,
        "lang": spec.lang,
        "catalogue_version": spec.catalogue.catalogue_version,
        "template_version": TEMPLATE_VERSION,
    }
    doc.update(_event_json(spec) if spec.kind == "events" else _indicator_json(spec))
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _indicator_json(spec: TemplateSpec) -> dict[str, Any]:
    lang = spec.lang
    words = ", ".join(spec.trend_words)
    return {
        "instructions": [
            label("tpl.col.value", lang),
            label("tpl.special.missing", lang, value="value", notes="notes"),
            label("tpl.dv.reliability", lang),
            label("tpl.dv.credibility", lang),
            label("tpl.expert.1", lang, trends=words, notes="notes", **_SCALE),
            label("tpl.col.period", lang, year=spec.year),
            _check_command(spec, f"{spec.country_iso3}_ideal_{spec.cycle_id}.json"),
        ],
        # the period as text, as a steward would type it ("2026", "2026-T1")
        "rows": [
            {c: str(row[c]) if c == "period" else row[c] for c in FILE_COLUMNS}
            for row in template_rows(spec)
        ],
    }


def _event_json(spec: TemplateSpec) -> dict[str, Any]:
    lang, cat = spec.lang, spec.catalogue
    example, iso = spec.date_examples
    p = {
        "types": ", ".join(cat.event_types),
        "year": spec.year,
        "iso3": spec.country_iso3,
        "example": example,
        "iso": iso,
    }
    return {
        "instructions": [
            label("tpl.ev.json.rows", lang, **p),
            label("tpl.ev.json.values", lang, **p),
            label("tpl.dv.reliability", lang),
            label("tpl.dv.credibility", lang),
            label("tpl.special.plausible", lang, notes="notes"),
            _check_command(spec, default_name(spec, "json")),
        ],
        "blank_row": {c: spec.country_iso3 if c == "country" else None for c in spec.columns},
        "event_types": {
            t.code: {
                "name": t.name.get(lang),
                "items": {
                    i.code: {
                        "name": i.name.get(lang),
                        "unit": i.unit,
                        "units_accepted": _units_like(cat, i.unit),
                        "plausible": list(i.plausible),
                    }
                    for i in t.items.values()
                },
            }
            for t in cat.event_types.values()
        },
        "rows": [],
    }


def _check_command(spec: TemplateSpec, file_name: str) -> str:
    report = label("tpl.check.report", spec.lang)
    return f"ideal validate {file_name} --cycle {spec.cycle_id} --lang {spec.lang} --html {report}"


# -- XLSX: the workbook -------------------------------------------------------------------
def build_xlsx(spec: TemplateSpec) -> bytes:
    """The workbook: instructions, data (with checks) and reference sheets, stamped."""
    from openpyxl import Workbook  # only the XLSX template needs it
    from openpyxl.workbook.protection import WorkbookProtection

    wb = Workbook()
    names = {
        key: label(f"tpl.sheet.{key}", spec.lang) for key in ("instructions", "data", "reference")
    }
    instructions = wb.active
    assert instructions is not None  # a new workbook always has one sheet
    instructions.title = names["instructions"]
    data = wb.create_sheet(names["data"])
    reference = wb.create_sheet(names["reference"])
    # Tab colours: read (blue), fill in (green), look up (grey).
    for sheet, colour in ((instructions, "2F5597"), (data, "548235"), (reference, "7F7F7F")):
        sheet.sheet_properties.tabColor = colour

    # Drop-downs name the reference columns through defined names: they survive sorting
    # and work in every Excel version that opens .xlsx (and in LibreOffice).
    if spec.kind == "events":
        for name, (column, first, last) in _fill_event_reference(reference, spec).items():
            _define_list(wb, name, reference.title, first, last, column)
        _fill_event_data(data, spec, names)
        _fill_event_instructions(instructions, spec, names)
    else:
        n_codes = _fill_reference(reference, spec)
        _define_list(wb, INDICATOR_LIST, reference.title, 2, n_codes + 1)
        _fill_data(data, spec, names)
        _fill_instructions(instructions, spec, names)

    _stamp(wb, spec)
    # Sheets can be neither deleted, renamed nor reordered by accident.
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _stamp(wb: Workbook, spec: TemplateSpec) -> None:
    """Title, language and the custom properties saying what the workbook was made for."""
    from openpyxl.packaging.custom import StringProperty

    wb.properties.title = label(
        TITLE_KEY[spec.kind],
        spec.lang,
        country=spec.country_label,
        iso3=spec.country_iso3,
        cycle=spec.cycle_id,
    )
    wb.properties.creator = "ideal"
    wb.properties.language = spec.lang
    for key, value in (
        ("kind", spec.kind),
        ("country", spec.country_iso3),
        ("cycle", spec.cycle_id),
        ("lang", spec.lang),
        ("catalogue_version", spec.catalogue.catalogue_version),
        ("template_version", TEMPLATE_VERSION),
    ):
        # (custom_doc_props is missing from the openpyxl stubs)
        cast(Any, wb).custom_doc_props.append(StringProperty(name=PROP_PREFIX + key, value=value))


def _define_list(
    wb: Workbook, name: str, sheet: str, first: int, last: int, column: str = "A"
) -> None:
    """A workbook-level name for rows ``first``..``last`` of ``column`` of ``sheet``."""
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names[name] = DefinedName(
        name, attr_text=f"{_quote_sheet(sheet)}!${column}${first}:${column}${last}"
    )


def _quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


# Colours: dark header, grey pre-filled cells, yellow "still to fill" (by conditional
# formatting, so it goes away as the steward types), dark grey "not applicable".
HEADER_FILL = "1F3864"
PREFILLED_FILL = "F2F2F2"
TODO_FILL = "FFF2CC"
NA_FILL = "D9D9D9"
COLUMN_WIDTHS = {
    "country": 9,
    "period": 11,
    "indicator": 38,
    "value": 14,
    "unit": 13,
    "source": 32,
    "reliability": 13,
    "credibility": 14,
    "trend": 12,
    "notes": 45,
    # event columns
    "date": 13,
    "admin1": 24,
    "event_type": 18,
    "item": 28,
    "quantity": 13,
}


# -- XLSX: what both data sheets share -----------------------------------------------------
def _column_letters(columns: Sequence[str]) -> dict[str, str]:
    from openpyxl.utils import get_column_letter

    return {c: get_column_letter(i) for i, c in enumerate(columns, start=1)}


def _write_header(ws: Worksheet, spec: TemplateSpec, params: Mapping[str, object]) -> None:
    """The contract's headers in the steward's language, each explained in a note."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    headers = spec.headers
    col = _column_letters(spec.columns)
    for c in spec.columns:
        cell = ws[f"{col[c]}1"]
        cell.value = headers[c]
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        note = Comment(_column_note(spec, c, params), "ideal")
        note.width, note.height = 260, 110
        cell.comment = note
        ws.column_dimensions[col[c]].width = max(COLUMN_WIDTHS[c], len(headers[c]) + 4)
    ws.row_dimensions[1].height = 22


def _unlock(ws: Worksheet, columns: Sequence[str], first: int, last: int) -> None:
    """Every data cell stays editable; only the header row is locked (sheet protection)."""
    from openpyxl.styles import Protection

    col = _column_letters(columns)
    unlocked = Protection(locked=False)
    for r in range(first, last + 1):
        for c in columns:
            ws[f"{col[c]}{r}"].protection = unlocked


def _runs(columns: Sequence[str], wanted: Iterable[str]) -> list[tuple[str, str]]:
    """The first and last column of each unbroken run of ``wanted`` columns, in order."""
    keep = set(wanted)
    runs = [list(run) for kept, run in groupby(columns, key=keep.__contains__) if kept]
    return [(run[0], run[-1]) for run in runs]


def _highlight_todo(ws: Worksheet, areas: Iterable[str], condition: str) -> None:
    """Yellow fill on each empty cell of ``areas`` (ranges like 'D2:D60') while
    ``condition`` (a formula relative to the area's top-left cell, or '') holds."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    todo = PatternFill("solid", fgColor=TODO_FILL, bgColor=TODO_FILL)
    for area in areas:
        top_left = area.split(":")[0]
        empty = f"LEN(TRIM({top_left}))=0"
        formula = f"AND({condition},{empty})" if condition else empty
        ws.conditional_formatting.add(
            area,
            FormulaRule(formula=[formula], fill=todo),  # type: ignore[no-untyped-call]
        )


def _finish_data_sheet(ws: Worksheet, columns: Sequence[str], freeze: str, last: int) -> None:
    """Frozen header, filter, print setup and protection of a data sheet."""
    from openpyxl.worksheet.properties import PageSetupProperties

    col = _column_letters(columns)
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{col[columns[-1]]}{last}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    # Protected without a password against accidental edits of the header or new
    # columns; rows can still be added, deleted, sorted and filtered.
    ws.protection.sheet = True
    for allowed in (
        "insertRows",
        "deleteRows",
        "formatCells",
        "formatColumns",
        "formatRows",
        "sort",
        "autoFilter",
    ):
        setattr(ws.protection, allowed, False)


@dataclass
class _Validations:
    """Adds data validations to a data sheet, with messages that fit Excel's limits."""

    ws: Worksheet
    lang: Lang
    headers: Mapping[str, str]

    def add(
        self,
        dv_kind: DVKind,
        formula: str,
        cells: Iterable[str],
        column: str,
        prompt: str,
        error: str | None = None,
        operator: DVOperator | None = None,
        formula2: str | None = None,
    ) -> None:
        from openpyxl.worksheet.datavalidation import DataValidation

        header = self.headers[column]
        dv = DataValidation(
            type=dv_kind,
            formula1=formula,
            formula2=formula2,
            operator=operator,
            allow_blank=True,
            showInputMessage=True,
            showErrorMessage=True,
            errorStyle="stop",
            promptTitle=_fit(header[:1].upper() + header[1:], DV_TITLE_MAX),
            prompt=_fit(prompt, DV_TEXT_MAX),
            errorTitle=_fit(label("tpl.dv.error_title", self.lang), DV_TITLE_MAX),
            error=_fit(error or label("tpl.dv.list_error", self.lang), DV_TEXT_MAX),
        )
        for ref in cells:
            dv.add(ref)
        self.ws.add_data_validation(dv)

    def grades_and_text(self, ranges: Mapping[str, str]) -> None:
        """Reliability and credibility drop-downs, length limits on source and notes."""
        lang = self.lang
        for column, grades, key in (
            ("reliability", RELIABILITY_GRADES, "tpl.dv.reliability"),
            ("credibility", CREDIBILITY_GRADES, "tpl.dv.credibility"),
        ):
            self.add("list", _inline_list(grades), [ranges[column]], column, label(key, lang))
        for column in ("source", "notes"):
            self.add(
                "textLength",
                str(MAX_TEXT),
                [ranges[column]],
                column,
                label("tpl.dv.text", lang, limit=MAX_TEXT),
                label("tpl.dv.text_error", lang, limit=MAX_TEXT),
                operator="lessThanOrEqual",
            )


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    logger.warning("shortened a template message to %d characters: %r", limit, text)
    return text[: limit - 1] + "…"


def _inline_list(items: Iterable[str]) -> str:
    """An Excel list written in the validation itself: '"a,b,c"' (at most 255 characters)."""
    joined = ",".join(items)
    if len(joined) > DV_TEXT_MAX or any('"' in i for i in joined.split(",")):
        raise ValueError(f"list too long or quoted for an Excel drop-down: {joined!r}")
    return f'"{joined}"'


def _reference_header(ws: Worksheet, row: int, texts: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for i, text in enumerate(texts, start=1):
        cell = ws.cell(row=row, column=i, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _reference_row(ws: Worksheet, row: int, values: Sequence[str | float]) -> None:
    for i, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=i, value=value)
        if isinstance(value, float):
            # Excel shows the thousands separator of the reader's own locale.
            cell.number_format = "#,##0" if value.is_integer() else "#,##0.##"


def _protect_reference(ws: Worksheet) -> None:
    ws.protection.sheet = True  # a read-only list: sorting and filtering only
    ws.protection.sort = False
    ws.protection.autoFilter = False


# -- XLSX: the indicator data sheet ---------------------------------------------------------
def _fill_data(ws: Worksheet, spec: TemplateSpec, names: dict[str, str]) -> None:
    from openpyxl.styles import PatternFill

    cat = spec.catalogue
    col = _column_letters(FILE_COLUMNS)
    rows = template_rows(spec)
    first, last_filled = 2, len(rows) + 1
    last = last_filled + EXTRA_ROWS

    _write_header(ws, spec, _note_params(spec, names["reference"]))
    grey = PatternFill("solid", fgColor=PREFILLED_FILL)
    na = PatternFill("solid", fgColor=NA_FILL)
    by_code = cat.indicator_by_code
    for r, row in enumerate(rows, start=first):
        for c in FILE_COLUMNS:
            cell = ws[f"{col[c]}{r}"]
            cell.value = row[c]
            if row[c] is not None:
                cell.fill = grey
        if by_code[str(row["indicator"])].kind != "expert":
            ws[f"{col['trend']}{r}"].fill = na
    _unlock(ws, FILE_COLUMNS, first, last)

    _data_validations(ws, spec, rows, col, first, last)

    _highlight_todo(
        ws,
        (
            f"{col[start]}{first}:{col[end]}{last_filled}"
            for start, end in (("value", "value"), ("source", "credibility"))
        ),
        "",
    )
    _finish_data_sheet(ws, FILE_COLUMNS, f"{col['value']}2", last_filled)


def _data_validations(
    ws: Worksheet,
    spec: TemplateSpec,
    rows: list[dict[str, str | int | None]],
    col: dict[str, str],
    first: int,
    last: int,
) -> None:
    lang, cat = spec.lang, spec.catalogue
    last_filled = first + len(rows) - 1
    extra = f"{first + len(rows)}" if len(rows) else f"{first}"
    words = ", ".join(spec.trend_words)
    v = _Validations(ws, lang, spec.headers)
    add = v.add

    def whole(column: str) -> str:
        return f"{col[column]}{first}:{col[column]}{last}"

    def tail(column: str) -> str:
        return f"{col[column]}{extra}:{col[column]}{last}"

    # Lists without cell references apply to the whole column at once.
    add(
        "list",
        _inline_list([spec.country_iso3]),
        [whole("country")],
        "country",
        label("tpl.dv.country", lang, iso3=spec.country_iso3),
    )
    add(
        "list",
        _inline_list(spec.periods),
        [whole("period")],
        "period",
        label("tpl.dv.period", lang, year=spec.year),
    )
    v.grades_and_text({c: whole(c) for c in ("reliability", "credibility", "source", "notes")})

    # Per pre-filled row: the input message names that row's indicator.
    by_code = cat.indicator_by_code
    units_by_group: dict[str, list[str]] = defaultdict(list)
    expert_trend: list[str] = []
    other_trend: list[str] = []
    for r, row in enumerate(rows, start=first):
        ind = by_code[str(row["indicator"])]
        name = ind.name.get(lang)
        category = cat.category_by_code[ind.category].name.get(lang)
        add(
            "list",
            INDICATOR_LIST,
            [f"{col['indicator']}{r}"],
            "indicator",
            label("tpl.dv.indicator", lang, name=name, category=category),
        )
        if ind.kind == "expert":
            prompt = label("tpl.dv.value_expert", lang, name=name, **_SCALE)
            expert_trend.append(f"{col['trend']}{r}")
        else:
            low, high = ind.plausible
            prompt = label(
                "tpl.dv.value",
                lang,
                name=name,
                unit=ind.unit,
                unit_name=cat.units[ind.unit].name.get(lang),
                low=_number(low, lang),
                high=_number(high, lang),
            )
            other_trend.append(f"{col['trend']}{r}")
        value_cell = f"{col['value']}{r}"
        add(
            "custom",
            _value_formula(value_cell, expert=ind.kind == "expert"),
            [value_cell],
            "value",
            prompt,
            label("tpl.dv.value_error", lang, **_SCALE),
        )
        units_by_group[",".join(_units_like(cat, ind.unit))].append(f"{col['unit']}{r}")
    for units, cells in units_by_group.items():
        add("list", _inline_list(units.split(",")), cells, "unit", label("tpl.dv.unit", lang))
    if expert_trend:
        add(
            "list",
            _inline_list(spec.trend_words),
            expert_trend,
            "trend",
            label("tpl.dv.trend", lang, trends=words),
        )
    if other_trend:
        # A trend is for expert ratings only: the cell must stay empty.
        add(
            "textLength",
            "0",
            other_trend,
            "trend",
            label("tpl.dv.trend_na", lang),
            label("tpl.dv.trend_na", lang),
            operator="equal",
        )

    # The blank rows below: the same checks, not tied to one indicator.
    if last_filled < last:
        add(
            "list",
            INDICATOR_LIST,
            [tail("indicator")],
            "indicator",
            label("tpl.dv.indicator_any", lang, reference=label("tpl.sheet.reference", lang)),
        )
        add(
            "custom",
            _value_formula(
                f"{col['value']}{extra}",
                unit_cell=f"{col['unit']}{extra}",
                expert_units=_expert_units(cat),
            ),
            [tail("value")],
            "value",
            label("tpl.dv.value_any", lang),
            label("tpl.dv.value_error", lang, **_SCALE),
        )
        add(
            "list",
            _inline_list(list(cat.units)),
            [tail("unit")],
            "unit",
            label("tpl.dv.unit", lang),
        )
        add(
            "list",
            _inline_list(spec.trend_words),
            [tail("trend")],
            "trend",
            label("tpl.dv.trend", lang, trends=words),
        )


def _value_formula(
    cell: str,
    *,
    expert: bool = False,
    unit_cell: str | None = None,
    expert_units: list[str] | None = None,
) -> str:
    """Excel formula (relative to ``cell``) that accepts a figure, "n/d" or "<N".

    Written without the leading "=", as Excel itself stores it. Text comparison in
    Excel ignores case, so "N/D" passes too. Expert ratings (by row, or by the unit
    cell in the blank rows) must lie on ``EXPERT_SCALE`` and cannot be censored.
    """
    missing = f'{cell}="{MISSING_TOKEN}"'
    censored = f'AND(LEFT({cell},1)="<",ISNUMBER(VALUE(MID({cell},2,20))))'
    number = f"ISNUMBER({cell})"
    low, high = EXPERT_SCALE
    in_scale = f"{cell}>={low},{cell}<={high}"
    if expert:
        return f"OR({missing},AND({number},{in_scale}))"
    if unit_cell is None:
        return f"OR({missing},AND({number},{cell}>=0),{censored})"
    is_expert = "OR(" + ",".join(f'{unit_cell}="{u}"' for u in expert_units or []) + ")"
    return (
        f"OR({missing},AND({number},{cell}>=0,OR(NOT({is_expert}),AND({in_scale}))),"
        f"AND(NOT({is_expert}),{censored}))"
    )


# -- XLSX: the event data sheet -------------------------------------------------------------
def _country_formula(spec: TemplateSpec, row: int) -> str:
    """The country cell of an event row: the country once anything is written in the row,
    else empty text, so that an unused row stays blank and is not read as data."""
    col = _column_letters(spec.columns)
    others = [c for c in spec.columns if c != "country"]
    ranges = ",".join(f"{col[a]}{row}:{col[b]}{row}" for a, b in _runs(spec.columns, others))
    return f'=IF(COUNTA({ranges})=0,"","{spec.country_iso3}")'


def _fill_event_data(ws: Worksheet, spec: TemplateSpec, names: dict[str, str]) -> None:
    from openpyxl.styles import PatternFill

    lang, cat = spec.lang, spec.catalogue
    columns = spec.columns
    col = _column_letters(columns)
    first, last = 2, EVENT_ROWS + 1
    example, iso = spec.date_examples
    reference = names["reference"]
    types = _type_names(spec)
    _write_header(ws, spec, _note_params(spec, reference))
    grey = PatternFill("solid", fgColor=PREFILLED_FILL)
    for r in range(first, last + 1):
        country = ws[f"{col['country']}{r}"]
        country.value = _country_formula(spec, r)
        country.fill = grey
        ws[f"{col['date']}{r}"].number_format = DATE_NUMBER_FORMAT
    _unlock(ws, columns, first, last)

    v = _Validations(ws, lang, spec.headers)
    ranges = {c: f"{col[c]}{first}:{col[c]}{last}" for c in columns}
    v.add(
        "list",
        _inline_list([spec.country_iso3]),
        [ranges["country"]],
        "country",
        label("tpl.ev.dv.country", lang, iso3=spec.country_iso3),
    )
    v.add(
        "date",
        str(_excel_serial(dt.date(spec.year, 1, 1))),
        [ranges["date"]],
        "date",
        label("tpl.ev.dv.date", lang, year=spec.year, example=example, iso=iso),
        label("tpl.ev.dv.date_error", lang, year=spec.year, example=example, iso=iso),
        operator="between",
        formula2=str(_excel_serial(dt.date(spec.year, 12, 31))),
    )
    v.add(
        "textLength",
        str(MAX_PLACE),
        [ranges["admin1"]],
        "admin1",
        label("tpl.ev.dv.admin1", lang, limit=MAX_PLACE),
        label("tpl.dv.text_error", lang, limit=MAX_PLACE),
        operator="lessThanOrEqual",
    )
    v.add(
        "list",
        EVENT_TYPE_LIST,
        [ranges["event_type"]],
        "event_type",
        label("tpl.ev.dv.event_type", lang, types=types, reference=reference),
    )
    v.add(
        "list",
        _items_of_row_type(f"${col['event_type']}{first}"),
        [ranges["item"]],
        "item",
        label("tpl.ev.dv.item", lang, reference=reference),
    )
    v.add(
        "decimal",
        "0",
        [ranges["quantity"]],
        "quantity",
        label("tpl.ev.dv.quantity", lang, reference=reference),
        label("tpl.ev.dv.quantity_error", lang),
        operator="greaterThanOrEqual",  # as the contract: a quantity is never negative
    )
    v.add(
        "list",
        _inline_list(_event_units(cat)),
        [ranges["unit"]],
        "unit",
        label("tpl.ev.dv.unit", lang, reference=reference),
    )
    v.grades_and_text(ranges)

    # Yellow: a required cell still empty in a row the steward has started.
    started = f"LEN(${col['country']}{first})>0"
    required = [c for c in REQUIRED[spec.kind] if c != "country"]
    _highlight_todo(
        ws,
        (f"{col[a]}{first}:{col[b]}{last}" for a, b in _runs(columns, required)),
        started,
    )
    _finish_data_sheet(ws, columns, f"{col['date']}2", last)


def _items_of_row_type(type_cell: str) -> str:
    """The item drop-down's source: the items of the event type chosen in the row.

    ``type_cell`` is the first data row's event-type cell, relative to the row (Excel
    and LibreOffice shift it down the validated range). The items of a type are one
    block of the item list (``_event_items`` keeps catalogue order, type by type); a row
    without a known type offers every item.
    """
    match = f"MATCH({type_cell},{EVENT_ITEM_TYPES},0)"
    return (
        f"IF(ISNA({match}),{EVENT_ITEM_LIST},OFFSET({EVENT_ITEM_LIST},{match}-1,0,"
        f"COUNTIF({EVENT_ITEM_TYPES},{type_cell}),1))"
    )


# -- XLSX: reference sheets -----------------------------------------------------------------
def _fill_reference(ws: Worksheet, spec: TemplateSpec) -> int:
    """Every indicator with its name, category, unit, direction and plausible range."""
    from openpyxl.utils import get_column_letter

    lang, cat = spec.lang, spec.catalogue
    columns = (
        ("code", 36),
        ("name", 48),
        ("category", 30),
        ("kind", 20),
        ("unit", 14),
        ("unit_name", 22),
        ("units_ok", 18),
        ("direction", 26),
        ("compared", 26),
        ("low", 16),
        ("high", 18),
        ("quarters", 18),
    )
    _reference_header(ws, 1, [label(f"tpl.ref.{key}", lang) for key, _ in columns])
    for i, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    indicators = _ordered_indicators(cat)
    for r, ind in enumerate(indicators, start=2):
        denominator = cat.denominators.get(ind.denominator) if ind.denominator else None
        _reference_row(
            ws,
            r,
            [
                ind.code,
                ind.name.get(lang),
                cat.category_by_code[ind.category].name.get(lang),
                label(f"tpl.kind.{ind.kind}", lang),
                ind.unit,
                cat.units[ind.unit].name.get(lang),
                ", ".join(_units_like(cat, ind.unit)),
                label("tpl.direction.up" if ind.direction == 1 else "tpl.direction.down", lang),
                denominator.name.get(lang) if denominator else label("tpl.compared.as_is", lang),
                ind.plausible[0],
                ind.plausible[1],
                label(f"tpl.agg.{ind.period_aggregation}", lang),
            ],
        )
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(indicators) + 1}"
    _protect_reference(ws)
    return len(indicators)


def _fill_event_reference(ws: Worksheet, spec: TemplateSpec) -> dict[str, tuple[str, int, int]]:
    """The event types, then every item with its type, unit and plausible range.

    Column A of each table holds the names the drop-downs offer (in the steward's
    language; the contract reads the code or a name in any working language); column D
    of the item table, each item's type, the items of a type in one block. Returns the
    column and rows of those lists, by defined name.
    """
    from openpyxl.utils import get_column_letter

    lang, cat = spec.lang, spec.catalogue
    headers = spec.headers
    code, also = label("tpl.ref.code", lang), label("tpl.ev.ref.also", lang)
    for i, width in enumerate((30, 20, 34, 30, 30, 14, 22, 18, 16, 18), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    _reference_header(ws, 1, [headers["event_type"], code, also, label("tpl.ev.ref.items", lang)])
    types = list(cat.event_types.values())
    for r, etype in enumerate(types, start=2):
        allowed = ", ".join(i.name.get(lang) for i in etype.items.values())
        _reference_row(
            ws, r, [etype.name.get(lang), etype.code, _other_names(etype.name, lang), allowed]
        )
    types_rows = (2, len(types) + 1)

    top = len(types) + 3  # one blank row between the tables
    item_headers = [
        headers["item"],
        code,
        also,
        headers["event_type"],
        label("tpl.ref.category", lang),
        label("tpl.ref.unit", lang),
        label("tpl.ref.unit_name", lang),
        label("tpl.ref.units_ok", lang),
        label("tpl.ref.low", lang),
        label("tpl.ref.high", lang),
    ]
    _reference_header(ws, top, item_headers)
    items = _event_items(cat)
    for r, (etype, item) in enumerate(items, start=top + 1):
        _reference_row(
            ws,
            r,
            [
                item.name.get(lang),
                item.code,
                _other_names(item.name, lang),
                etype.name.get(lang),
                cat.category_by_code[item.category].name.get(lang),
                item.unit,
                cat.units[item.unit].name.get(lang),
                ", ".join(_units_like(cat, item.unit)),
                item.plausible[0],
                item.plausible[1],
            ],
        )
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(item_headers))}{top + len(items)}"
    _protect_reference(ws)
    items_rows = (top + 1, top + len(items))
    return {
        EVENT_TYPE_LIST: ("A", *types_rows),
        EVENT_ITEM_LIST: ("A", *items_rows),
        EVENT_ITEM_TYPES: ("D", *items_rows),
    }


# -- XLSX: instructions sheets --------------------------------------------------------------
class _Instructions:
    """Writes an instructions sheet from the top: lines, headings and three-column tables."""

    def __init__(self, ws: Worksheet) -> None:
        from openpyxl.styles import Alignment

        self.ws = ws
        self.row = 1
        self.wrap = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions["A"].width = 18
        ws.column_dimensions["B"].width = 22
        ws.column_dimensions["C"].width = 90

    def line(self, text: str, *, size: float = 11, bold: bool = False, code: bool = False) -> None:
        from openpyxl.styles import Font, PatternFill

        ws = self.ws
        ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=3)
        cell = ws.cell(row=self.row, column=1, value=text)
        cell.alignment = self.wrap
        cell.font = Font(size=size, bold=bold, name="Consolas" if code else None)
        if code:
            cell.fill = PatternFill("solid", fgColor=PREFILLED_FILL)
        ws.row_dimensions[self.row].height = _row_height(text, 125, size)
        self.row += 1

    def bullets(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line("• " + text)

    def table(self, cells: list[tuple[str, str, str]], *, header: bool = False) -> None:
        from openpyxl.styles import Font, PatternFill

        ws = self.ws
        for a, b, c in cells:
            for i, text in enumerate((a, b, c), start=1):
                cell = ws.cell(row=self.row, column=i, value=text)
                cell.alignment = self.wrap
                cell.font = Font(bold=header or i == 1)
                if header:
                    cell.fill = PatternFill("solid", fgColor=PREFILLED_FILL)
            ws.row_dimensions[self.row].height = _row_height(c, 88, 11)
            header = False
            self.row += 1

    def heading(self, text: str) -> None:
        self.row += 1
        self.line(text, size=13, bold=True)

    def skip(self) -> None:
        self.row += 1

    def finish(self) -> None:
        from openpyxl.worksheet.properties import PageSetupProperties

        ws = self.ws
        ws.sheet_view.showGridLines = False
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.protection.sheet = True


def _columns_table(doc: _Instructions, spec: TemplateSpec, params: Mapping[str, object]) -> None:
    lang, headers = spec.lang, spec.headers
    required = REQUIRED[spec.kind]
    doc.table(
        [(label("tpl.th.column", lang), label("tpl.th.required", lang), label("tpl.th.what", lang))]
        + [
            (
                headers[c],
                label("tpl.required.yes" if c in required else "tpl.required.no", lang),
                _column_note(spec, c, params),
            )
            for c in spec.columns
        ],
        header=True,
    )


def _grades_section(doc: _Instructions, lang: Lang) -> None:
    doc.line(label("tpl.grades.intro", lang))
    doc.table([(g, "", label(f"tpl.grade.{g}", lang)) for g in RELIABILITY_GRADES])
    doc.skip()
    doc.table([(g, "", label(f"tpl.cred.{g}", lang)) for g in CREDIBILITY_GRADES])


def _check_section(doc: _Instructions, spec: TemplateSpec) -> None:
    lang = spec.lang
    doc.line(label("tpl.check.1", lang))
    doc.line(_check_command(spec, default_name(spec, "xlsx")), code=True)
    doc.line(label("tpl.check.2", lang))
    doc.line(label("tpl.check.3", lang))


def _instruction_params(spec: TemplateSpec, names: dict[str, str]) -> dict[str, object]:
    """What the instructions of either kind of template fill their sentences with."""
    return {
        **_note_params(spec, names["reference"]),
        "country": spec.country_label,
        "cycle": spec.cycle_id,
        "data": names["data"],
        "notes": spec.headers["notes"],
        "version": spec.catalogue.catalogue_version,
        "date": spec.today.isoformat(),
    }


def _fill_instructions(ws: Worksheet, spec: TemplateSpec, names: dict[str, str]) -> None:
    lang = spec.lang
    headers = spec.headers
    # Quoted here, as words to type; the header notes list them plain.
    words = ", ".join(f"«{w}»" if lang != "en" else f"'{w}'" for w in spec.trend_words)
    p = {
        **_instruction_params(spec, names),
        "trends": words,
        "value": headers["value"],
        "unit": headers["unit"],
    }
    doc = _Instructions(ws)
    doc.line(label("tpl.title", lang, **p), size=16, bold=True)
    doc.line(label("tpl.subtitle", lang, **p))
    doc.heading(label("tpl.h.fill", lang))
    doc.bullets(label(key, lang, **p) for key in ("tpl.fill.1", "tpl.fill.2", "tpl.fill.3"))
    doc.heading(label("tpl.h.columns", lang))
    _columns_table(doc, spec, p)
    doc.heading(label("tpl.h.grades", lang))
    _grades_section(doc, lang)
    doc.heading(label("tpl.h.special", lang))
    doc.bullets(
        label(key, lang, **p)
        for key in (
            "tpl.special.missing",
            "tpl.special.censored",
            "tpl.special.numbers",
            "tpl.special.plausible",
        )
    )
    doc.heading(label("tpl.h.units", lang))
    doc.bullets(label(key, lang, **p) for key in ("tpl.units.1", "tpl.units.2"))
    doc.heading(label("tpl.h.periods", lang))
    doc.bullets(label(key, lang, **p) for key in ("tpl.periods.1", "tpl.periods.2"))
    doc.heading(label("tpl.h.expert", lang))
    doc.line(label("tpl.expert.1", lang, **p))
    doc.heading(label("tpl.h.country", lang))
    doc.line(label("tpl.country.1", lang, **p))
    doc.heading(label("tpl.h.check", lang))
    _check_section(doc, spec)
    doc.finish()


def _fill_event_instructions(ws: Worksheet, spec: TemplateSpec, names: dict[str, str]) -> None:
    lang = spec.lang
    p = {**_instruction_params(spec, names), "rows": EVENT_ROWS}
    doc = _Instructions(ws)
    doc.line(label("tpl.ev.title", lang, **p), size=16, bold=True)
    doc.line(label("tpl.ev.subtitle", lang, **p))
    doc.heading(label("tpl.ev.h.fill", lang))
    doc.bullets(label(key, lang, **p) for key in ("tpl.ev.fill.1", "tpl.ev.fill.2", "tpl.fill.3"))
    doc.heading(label("tpl.h.columns", lang))
    _columns_table(doc, spec, p)
    # section 3, as the reliability and credibility column notes say
    doc.heading(label("tpl.h.grades", lang))
    _grades_section(doc, lang)
    doc.heading(label("tpl.ev.h.dates", lang))
    doc.bullets(label(key, lang, **p) for key in ("tpl.ev.dates.1", "tpl.ev.dates.2"))
    doc.heading(label("tpl.ev.h.units", lang))
    doc.bullets(
        label(key, lang, **p)
        for key in ("tpl.ev.units.1", "tpl.ev.units.2", "tpl.units.2", "tpl.special.plausible")
    )
    doc.heading(label("tpl.ev.h.country", lang))
    doc.line(label("tpl.country.1", lang, **p))
    doc.heading(label("tpl.ev.h.check", lang))
    _check_section(doc, spec)
    doc.finish()


def _row_height(text: str, chars_per_line: int, size: float) -> float:
    # openpyxl cannot measure text; Excel does not re-fit rows it is given, so estimate.
    lines = max(1, math.ceil(len(text) / chars_per_line))
    return round(lines * size * 1.45 + 4, 1)


# -- reading the stamp back ---------------------------------------------------------------
def template_cycle(data: bytes) -> str | None:
    """The cycle a file's template was made for, if the file says so (XLSX, JSON)."""
    from ideal.readers import OLE_SIGNATURE, UnreadableFile, check_zip

    try:
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"{") and len(data) <= MAX_STAMP_JSON_BYTES:
            doc = json.loads(data.decode("utf-8-sig"))
            cycle = doc.get("cycle") if isinstance(doc, dict) else None
            return str(cycle) if isinstance(cycle, str | int) and str(cycle).strip() else None
        if data.startswith(b"PK\x03\x04") and not data.startswith(OLE_SIGNATURE):
            check_zip(data)  # never hand a zip bomb to openpyxl
            from openpyxl import load_workbook

            wb = load_workbook(io.BytesIO(data), read_only=True)
            try:
                for prop in cast(Any, wb).custom_doc_props.props:
                    if prop.name == PROP_PREFIX + "cycle" and isinstance(prop.value, str):
                        return prop.value.strip() or None
            finally:
                wb.close()
    except (UnreadableFile, ValueError, UnicodeDecodeError, RecursionError):
        return None
    except Exception:  # a broken workbook: the reader will say why, not this helper
        logger.debug("no template stamp readable", exc_info=True)
        return None
    return None
