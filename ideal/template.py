"""Submission templates: the file a data steward fills in, in XLSX, CSV or JSON.

A template is made for one country and one cycle, in the steward's language. It lists
one row per indicator of the catalogue, pre-filled with country, period (the cycle's
year), indicator code and unit, so that the steward only types values, sources and
grades. The XLSX version also guards against the common mistakes before the file is
ever sent: drop-down lists for codes, units, grades and trends, a value check that
accepts figures, "n/d" and "<5", input messages with each indicator's name and
plausible range, a protected header, an instructions sheet and a reference sheet.

Every fact comes from where it is defined once: columns and headers from
``ideal.contract``, indicators and units from the catalogue, words from
``ideal.messages.LABELS``. A filled template reads back through the same readers and
contract as any submission (``ideal.intake.parse_and_validate``).
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from babel.numbers import format_decimal

from ideal.catalogue import BABEL_LOCALES, LANGS, Catalogue, Indicator, Lang, load_catalogue
from ideal.contract import FILE_COLUMNS, MAX_TEXT, RELIABILITY_GRADES, column_headers
from ideal.messages import label
from ideal.reference import UnknownCountryError, country_name, default_resolver

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

logger = logging.getLogger(__name__)

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
# Excel refuses (and "repairs" away) input messages and alerts longer than this.
DV_TITLE_MAX = 32
DV_TEXT_MAX = 255
DVKind = Literal["list", "custom", "textLength"]
DVOperator = Literal["equal", "lessThanOrEqual"]
# A JSON file larger than this is not parsed twice just to find its stamp.
MAX_STAMP_JSON_BYTES = 16 * 1024 * 1024
# Custom properties that stamp the workbook with what it was made for.
PROP_PREFIX = "ideal_"


class TemplateError(ValueError):
    """A template that cannot be made as asked; the one-line message says what to do."""


@dataclass(frozen=True)
class TemplateSpec:
    """What one template is for: a country, a cycle (and its year) and a language."""

    country_iso3: str
    cycle_id: str
    year: int
    lang: Lang
    catalogue: Catalogue = field(repr=False)
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def country_label(self) -> str:
        return country_name(self.country_iso3, self.lang)

    @property
    def headers(self) -> dict[str, str]:
        return column_headers(self.lang)

    @property
    def trend_words(self) -> tuple[str, str, str]:
        return TREND_WORDS[self.lang]

    @property
    def periods(self) -> tuple[str, ...]:
        """The year and its four quarters, as the steward's language writes them."""
        q = QUARTER_LETTER[self.lang]
        return (str(self.year), *(f"{self.year}-{q}{n}" for n in range(1, 5)))


def cycle_year(cycle_id: str) -> int:
    """The year a cycle id names ("2026", "2026-rev1" -> 2026)."""
    m = re.match(r"^\s*(\d{4})(?!\d)", cycle_id)
    if not m:
        raise TemplateError(
            f"the cycle {cycle_id!r} does not start with a year; write it as e.g. 2026."
        )
    return int(m.group(1))


def check_lang(lang: str) -> Lang:
    """``lang`` as a Lang, or a TemplateError naming the languages there are."""
    for known in LANGS:
        if lang.strip().lower() == known:
            return known
    raise TemplateError(f"unknown language {lang!r}; use es, pt or en.")


def check_format(fmt: str) -> Format:
    for known in FORMATS:
        if fmt.strip().lower().lstrip(".") == known:
            return known
    raise TemplateError(f"unknown format {fmt!r}; use xlsx, csv or json.")


def make_spec(
    country: str,
    cycle_id: str,
    lang: str,
    catalogue: Catalogue | None = None,
    today: dt.date | None = None,
) -> TemplateSpec:
    """Check what was asked for and resolve it; raises TemplateError with a clear message."""
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
    )


# -- the rows ---------------------------------------------------------------------------
def template_rows(spec: TemplateSpec) -> list[dict[str, str | int | None]]:
    """One pre-filled row per indicator, keyed by canonical column, value left empty."""
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


# -- file names and writing ---------------------------------------------------------------
def default_name(spec: TemplateSpec, fmt: Format) -> str:
    return f"{spec.country_iso3}_ideal_{spec.cycle_id}_{spec.lang}.{fmt}"


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
    """UTF-8 with BOM (so Excel reads the accents), ';' for es/pt and ',' for en."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=CSV_DELIMITER[spec.lang], lineterminator="\r\n")
    headers = spec.headers
    writer.writerow([headers[c] for c in FILE_COLUMNS])
    for row in template_rows(spec):
        writer.writerow(["" if row[c] is None else str(row[c]) for c in FILE_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def build_json(spec: TemplateSpec) -> bytes:
    """``{"country", "cycle", ..., "rows": [...]}`` with canonical (English) keys."""
    lang = spec.lang
    words = ", ".join(spec.trend_words)
    doc = {
        "country": spec.country_iso3,
        "cycle": spec.cycle_id,
        "year": spec.year,
        "lang": lang,
        "catalogue_version": spec.catalogue.catalogue_version,
        "template_version": TEMPLATE_VERSION,
        # Top-level keys other than "rows" are kept by the reader but never validated.
        "instructions": [
            label("tpl.col.value", lang),
            label("tpl.special.missing", lang, value="value", notes="notes"),
            label("tpl.dv.reliability", lang),
            label("tpl.dv.credibility", lang),
            label("tpl.expert.1", lang, trends=words, notes="notes"),
            label("tpl.col.period", lang, year=spec.year),
            _check_command(spec, f"{spec.country_iso3}_ideal_{spec.cycle_id}.json"),
        ],
        # the period as text, as a steward would type it ("2026", "2026-T1")
        "rows": [
            {c: str(row[c]) if c == "period" else row[c] for c in FILE_COLUMNS}
            for row in template_rows(spec)
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _check_command(spec: TemplateSpec, file_name: str) -> str:
    report = label("tpl.check.report", spec.lang)
    return f"ideal validate {file_name} --cycle {spec.cycle_id} --lang {spec.lang} --html {report}"


# -- XLSX -------------------------------------------------------------------------------
def build_xlsx(spec: TemplateSpec) -> bytes:
    """The workbook: instructions, data (pre-filled, with checks) and reference sheets."""
    from openpyxl import Workbook  # only the XLSX template needs it
    from openpyxl.packaging.custom import StringProperty
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

    n_codes = _fill_reference(reference, spec)
    # Drop-downs name the reference column through a defined name: it survives sorting
    # and works in every Excel version that opens .xlsx.
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names["ideal_indicators"] = DefinedName(
        "ideal_indicators", attr_text=f"{_quote_sheet(reference.title)}!$A$2:$A${n_codes + 1}"
    )
    _fill_data(data, spec, names)
    _fill_instructions(instructions, spec, names)

    wb.properties.title = label(
        "tpl.title",
        spec.lang,
        country=spec.country_label,
        iso3=spec.country_iso3,
        cycle=spec.cycle_id,
    )
    wb.properties.creator = "ideal"
    wb.properties.language = spec.lang
    for key, value in (
        ("country", spec.country_iso3),
        ("cycle", spec.cycle_id),
        ("lang", spec.lang),
        ("catalogue_version", spec.catalogue.catalogue_version),
        ("template_version", TEMPLATE_VERSION),
    ):
        # (custom_doc_props is missing from the openpyxl stubs)
        cast(Any, wb).custom_doc_props.append(StringProperty(name=PROP_PREFIX + key, value=value))
    # Sheets can be neither deleted, renamed nor reordered by accident.
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
}


def _fill_data(ws: Worksheet, spec: TemplateSpec, names: dict[str, str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    lang, cat = spec.lang, spec.catalogue
    headers = spec.headers
    col = {c: get_column_letter(i) for i, c in enumerate(FILE_COLUMNS, start=1)}
    rows = template_rows(spec)
    first, last_filled = 2, len(rows) + 1
    last = last_filled + EXTRA_ROWS

    # header: the contract's words in the steward's language, each explained in a note
    words = ", ".join(spec.trend_words)
    params = {
        "iso3": spec.country_iso3,
        "year": spec.year,
        "reference": names["reference"],
        "trends": words,
    }
    for c in FILE_COLUMNS:
        cell = ws[f"{col[c]}1"]
        cell.value = headers[c]
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        note = Comment(label(f"tpl.col.{c}", lang, **params), "ideal")
        note.width, note.height = 260, 110
        cell.comment = note
        ws.column_dimensions[col[c]].width = max(COLUMN_WIDTHS[c], len(headers[c]) + 4)
    ws.row_dimensions[1].height = 22

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
    # Every data cell stays editable; only the header row is locked (sheet protection).
    unlocked = Protection(locked=False)
    for r in range(first, last + 1):
        for c in FILE_COLUMNS:
            ws[f"{col[c]}{r}"].protection = unlocked

    _data_validations(ws, spec, rows, col, first, last)

    todo = PatternFill("solid", fgColor=TODO_FILL, bgColor=TODO_FILL)
    for start, end in (("value", "value"), ("source", "credibility")):
        area = f"{col[start]}{first}:{col[end]}{last_filled}"
        ws.conditional_formatting.add(
            area,
            FormulaRule(  # type: ignore[no-untyped-call]
                formula=[f"LEN(TRIM({col[start]}{first}))=0"], fill=todo
            ),
        )

    ws.freeze_panes = f"{col['value']}2"
    ws.auto_filter.ref = f"A1:{col[FILE_COLUMNS[-1]]}{last_filled}"
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


def _data_validations(
    ws: Worksheet,
    spec: TemplateSpec,
    rows: list[dict[str, str | int | None]],
    col: dict[str, str],
    first: int,
    last: int,
) -> None:
    lang, cat = spec.lang, spec.catalogue
    headers = spec.headers
    last_filled = first + len(rows) - 1
    extra = f"{first + len(rows)}" if len(rows) else f"{first}"
    words = ", ".join(spec.trend_words)
    list_error = label("tpl.dv.list_error", lang)

    def title(column: str) -> str:
        return headers[column][:1].upper() + headers[column][1:]

    def add(
        dv_kind: DVKind,
        formula: str,
        cells: Iterable[str],
        column: str,
        prompt: str,
        error: str = list_error,
        operator: DVOperator | None = None,
    ) -> None:
        from openpyxl.worksheet.datavalidation import DataValidation

        dv = DataValidation(
            type=dv_kind,
            formula1=formula,
            operator=operator,
            allow_blank=True,
            showInputMessage=True,
            showErrorMessage=True,
            errorStyle="stop",
            promptTitle=_fit(title(column), DV_TITLE_MAX),
            prompt=_fit(prompt, DV_TEXT_MAX),
            errorTitle=_fit(label("tpl.dv.error_title", lang), DV_TITLE_MAX),
            error=_fit(error, DV_TEXT_MAX),
        )
        for ref in cells:
            dv.add(ref)
        ws.add_data_validation(dv)

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
    add(
        "list",
        _inline_list(RELIABILITY_GRADES),
        [whole("reliability")],
        "reliability",
        label("tpl.dv.reliability", lang),
    )
    add(
        "list",
        _inline_list(CREDIBILITY_GRADES),
        [whole("credibility")],
        "credibility",
        label("tpl.dv.credibility", lang),
    )
    for text_col in ("source", "notes"):
        add(
            "textLength",
            str(MAX_TEXT),
            [whole(text_col)],
            text_col,
            label("tpl.dv.text", lang, limit=MAX_TEXT),
            label("tpl.dv.text_error", lang, limit=MAX_TEXT),
            operator="lessThanOrEqual",
        )

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
            "ideal_indicators",
            [f"{col['indicator']}{r}"],
            "indicator",
            label("tpl.dv.indicator", lang, name=name, category=category),
        )
        if ind.kind == "expert":
            prompt = label("tpl.dv.value_expert", lang, name=name)
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
            label("tpl.dv.value_error", lang),
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
            "ideal_indicators",
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
            label("tpl.dv.value_error", lang),
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
    cell in the blank rows) must lie in 1..10 and cannot be censored.
    """
    missing = f'{cell}="{MISSING_TOKEN}"'
    censored = f'AND(LEFT({cell},1)="<",ISNUMBER(VALUE(MID({cell},2,20))))'
    number = f"ISNUMBER({cell})"
    if expert:
        return f"OR({missing},AND({number},{cell}>=1,{cell}<=10))"
    if unit_cell is None:
        return f"OR({missing},AND({number},{cell}>=0),{censored})"
    is_expert = "OR(" + ",".join(f'{unit_cell}="{u}"' for u in expert_units or []) + ")"
    return (
        f"OR({missing},AND({number},{cell}>=0,OR(NOT({is_expert}),AND({cell}>=1,{cell}<=10))),"
        f"AND(NOT({is_expert}),{censored}))"
    )


def _fill_reference(ws: Worksheet, spec: TemplateSpec) -> int:
    """Every indicator with its name, category, unit, direction and plausible range."""
    from openpyxl.styles import Alignment, Font, PatternFill
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
    for i, (key, width) in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=label(f"tpl.ref.{key}", lang))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    indicators = _ordered_indicators(cat)
    for r, ind in enumerate(indicators, start=2):
        denominator = cat.denominators.get(ind.denominator) if ind.denominator else None
        values: list[str | float] = [
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
        ]
        for i, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=i, value=value)
            if isinstance(value, float):
                # Excel shows the thousands separator of the reader's own locale.
                cell.number_format = "#,##0" if value.is_integer() else "#,##0.##"
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(indicators) + 1}"
    ws.protection.sheet = True  # a read-only list: sorting and filtering only
    ws.protection.sort = False
    ws.protection.autoFilter = False
    return len(indicators)


def _fill_instructions(ws: Worksheet, spec: TemplateSpec, names: dict[str, str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.properties import PageSetupProperties

    lang = spec.lang
    headers = spec.headers
    words = ", ".join(f"«{w}»" if lang != "en" else f"'{w}'" for w in spec.trend_words)
    p = {
        "country": spec.country_label,
        "iso3": spec.country_iso3,
        "cycle": spec.cycle_id,
        "year": spec.year,
        "data": names["data"],
        "reference": names["reference"],
        "trends": words,
        "value": headers["value"],
        "notes": headers["notes"],
        "unit": headers["unit"],
        "version": spec.catalogue.catalogue_version,
        "date": spec.today.isoformat(),
    }
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")
    row = 1

    def line(
        text: str, *, size: float = 11, bold: bool = False, code: bool = False, gap: float = 0
    ) -> None:
        nonlocal row
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = wrap
        cell.font = Font(size=size, bold=bold, name="Consolas" if code else None)
        if code:
            cell.fill = PatternFill("solid", fgColor=PREFILLED_FILL)
        ws.row_dimensions[row].height = _row_height(text, 125, size) + gap
        row += 1

    def table(cells: list[tuple[str, str, str]], *, header: bool = False) -> None:
        nonlocal row
        for a, b, c in cells:
            for i, text in enumerate((a, b, c), start=1):
                cell = ws.cell(row=row, column=i, value=text)
                cell.alignment = wrap
                cell.font = Font(bold=header or i == 1)
                if header:
                    cell.fill = PatternFill("solid", fgColor=PREFILLED_FILL)
            ws.row_dimensions[row].height = _row_height(c, 88, 11)
            header = False
            row += 1

    def heading(key: str) -> None:
        nonlocal row
        row += 1
        line(label(key, lang, **p), size=13, bold=True)

    line(label("tpl.title", lang, **p), size=16, bold=True)
    line(label("tpl.subtitle", lang, **p))
    heading("tpl.h.fill")
    for key in ("tpl.fill.1", "tpl.fill.2", "tpl.fill.3"):
        line("• " + label(key, lang, **p))
    heading("tpl.h.columns")
    required = {"country", "period", "indicator", "value", "unit", "reliability", "credibility"}
    table(
        [(label("tpl.th.column", lang), label("tpl.th.required", lang), label("tpl.th.what", lang))]
        + [
            (
                headers[c],
                label("tpl.required.yes" if c in required else "tpl.required.no", lang),
                label(f"tpl.col.{c}", lang, **p),
            )
            for c in FILE_COLUMNS
        ],
        header=True,
    )
    heading("tpl.h.grades")
    line(label("tpl.grades.intro", lang))
    table([(g, "", label(f"tpl.grade.{g}", lang)) for g in RELIABILITY_GRADES])
    row += 1
    table([(g, "", label(f"tpl.cred.{g}", lang)) for g in CREDIBILITY_GRADES])
    heading("tpl.h.special")
    for key in (
        "tpl.special.missing",
        "tpl.special.censored",
        "tpl.special.numbers",
        "tpl.special.plausible",
    ):
        line("• " + label(key, lang, **p))
    heading("tpl.h.units")
    for key in ("tpl.units.1", "tpl.units.2"):
        line("• " + label(key, lang, **p))
    heading("tpl.h.periods")
    for key in ("tpl.periods.1", "tpl.periods.2"):
        line("• " + label(key, lang, **p))
    heading("tpl.h.expert")
    line(label("tpl.expert.1", lang, **p))
    heading("tpl.h.country")
    line(label("tpl.country.1", lang, **p))
    heading("tpl.h.check")
    line(label("tpl.check.1", lang))
    line(_check_command(spec, default_name(spec, "xlsx")), code=True)
    line(label("tpl.check.2", lang))
    line(label("tpl.check.3", lang))
    ws.sheet_view.showGridLines = False
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.protection.sheet = True


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
