"""Table quality: a submission judged as a whole, with Great Expectations suites.

The contract (``ideal.contract``) judges one row at a time. The rules here judge the
table of rows that passed it: one row per key, one country per file, the countries and
indicators (or event types) expected in the cycle, plausible annual values, and jumps
from the country's previous cycle. They are written for people in
``schemas/quality_rules.yaml``; this module turns that file and the catalogue into one
GX ``ExpectationSuite`` per submission kind, runs it, and translates GX's results back
into ideal ``Issue`` findings (severity, the steward's row, column, value, rule,
parameters), so a table finding reads like a row finding in every language.

Indicator files are judged on a pandas frame of their accepted rows (``table_frame``).
Event files may hold a million rows, so GX never sees them: one DuckDB summary of the
valid events (``summarize_events``; both row engines hand it the same relation) gives a
frame of one row per country and catalogue event type, with its number of events, the
previous cycle's, and how many rows repeat an earlier one; GX judges that frame and the
findings point back to the steward's rows (``check_events``).

GX needs seconds to import and tenths of a second to set up, so the context, the pandas
data source, its one data asset and the suites are made once per process and reused;
``ideal.validation`` imports this module only when a file has rows to judge.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypedDict

import duckdb
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ideal.catalogue import Catalogue, Names
from ideal.config import SCHEMAS_DIR
from ideal.contract import EVENT_TYPED_COLUMNS, Kind
from ideal.messages import RULES, Severity
from ideal.runtime import OFFLINE_DEFAULTS
from ideal.sqlcheck import lit
from ideal.validation import (
    MAX_LISTED_PER_RULE,
    AnnualValue,
    Issue,
    ValidRow,
    issue,
    used_value,
)

# GX reads its telemetry switch when it is imported: set it first, whoever imports us.
os.environ.setdefault("GX_ANALYTICS_ENABLED", OFFLINE_DEFAULTS["GX_ANALYTICS_ENABLED"])

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig

logger = logging.getLogger(__name__)

QUALITY_RULES_PATH = SCHEMAS_DIR / "quality_rules.yaml"
# Submission kinds as the contract names them; the rules file says which rules apply.
SubmissionKind = Kind

# The columns of ``table_frame``; the ones only findings show are not handed to GX,
# which copies the frame for every metric it computes.
KEY_COLUMNS = ("country", "period", "indicator")
NUMERIC_COLUMNS = ("value", "checked_value", "annual_value", "previous_value", "jump_ratio")
SHOWN_COLUMNS = ("unit", "value_cell", "checked_text", "annual_text")
FRAME_COLUMNS = ("source_row", *KEY_COLUMNS, *NUMERIC_COLUMNS, *SHOWN_COLUMNS)

# Event-file column -> its typed column in the relation of valid events the summary reads:
# every column but the grades, which no event rule reads.
EVENT_FIELDS: dict[str, str] = {
    c: typed for c, typed in EVENT_TYPED_COLUMNS.items() if c not in ("reliability", "credibility")
}
EVENT_ROW_COLUMNS = ("source_row", *EVENT_FIELDS.values())
# A group of valid events identical to an earlier one (``repeated_events``): what its
# finding shows. ``source_row`` is the group's first repeat, ``copies`` how many repeats
# it has, ``later_rows`` the first of them.
REPEAT_COLUMNS = (
    "source_row", "first_row", "country", "event_type", "item", "date", "copies", "later_rows"
)  # fmt: skip
# Rows named in one finding on a group of repeats; the count says how many there are.
REPEAT_ROWS_SHOWN = 10
# The summary GX judges: one row per country of the file and catalogue event type.
EVENT_FRAME_COLUMNS = (
    "summary_row",
    "country",
    "event_type",
    "n_events",
    "reported_type",  # the event type if it has events, else empty (completeness)
    "previous_events",
    "count_ratio",  # as jump_ratio, on the numbers of events
    "later_copies",  # rows repeating an earlier row of this country and type
)


class QualityCheckError(RuntimeError):
    """GX could not evaluate an expectation: a fault of the suite, not of the file."""


# -- the rules file ---------------------------------------------------------------------
class TableRule(BaseModel):
    """One table rule as declared in ``schemas/quality_rules.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    severity: Severity
    kinds: tuple[SubmissionKind, ...] = Field(min_length=1)
    description: Names

    def describe(self, lang: str) -> str:
        """The one-line description in ``lang``, with the rule's settings filled in."""
        settings = {
            k: f"{v:g}" if isinstance(v, float) else v
            for k, v in self.model_dump(exclude={"severity", "kinds", "description"}).items()
        }
        return self.description.get(lang).format(**settings)


def _known(names: tuple[str, ...], allowed: Collection[str], what: str) -> tuple[str, ...]:
    """``names`` if every one is ``allowed``; else a ValueError naming the others."""
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise ValueError(f"{what} columns {unknown} are not among {tuple(allowed)}")
    return names


class DuplicateRule(TableRule):
    key: tuple[str, ...] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _known_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _known(v, KEY_COLUMNS, "duplicate key")


class EventDuplicateRule(TableRule):
    key: tuple[str, ...] = Field(min_length=1)
    skip_units: tuple[str, ...] = ()

    @field_validator("key")
    @classmethod
    def _known_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _known(v, EVENT_FIELDS, "event key")


class CountryRule(TableRule):
    max_countries: int = Field(ge=1)


class PlausibilityRule(TableRule):
    # catalogue period_aggregation -> how quarterly rows are judged
    quarters: dict[Literal["sum", "mean"], Literal["total", "each"]]

    @field_validator("quarters")
    @classmethod
    def _every_aggregation(
        cls, v: dict[Literal["sum", "mean"], Literal["total", "each"]]
    ) -> dict[Literal["sum", "mean"], Literal["total", "each"]]:
        if set(v) != {"sum", "mean"}:
            raise ValueError("quarters must say how to judge both 'sum' and 'mean' indicators")
        return v


class JumpRule(TableRule):
    ratio: float = Field(gt=1)
    min_size: dict[str, float]

    @field_validator("min_size")
    @classmethod
    def _default_and_positive(cls, v: dict[str, float]) -> dict[str, float]:
        if "default" not in v:
            raise ValueError("min_size needs a 'default' entry")
        if any(x < 0 for x in v.values()):
            raise ValueError("min_size values cannot be negative")
        return v

    def min_size_for(self, unit: str) -> float:
        return self.min_size.get(unit, self.min_size["default"])


class EventJumpRule(TableRule):
    ratio: float = Field(gt=1)
    min_count: int = Field(ge=0)


class RuleSet(BaseModel):
    """The table rules, in the order findings are listed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    duplicate_row: DuplicateRule
    duplicate_event: EventDuplicateRule
    multiple_countries: CountryRule
    country_not_expected: TableRule
    indicator_not_reported: TableRule
    event_type_not_reported: TableRule
    implausible_value: PlausibilityRule
    value_jump: JumpRule
    event_count_jump: EventJumpRule

    def by_code(self) -> dict[str, TableRule]:
        return {code: getattr(self, code) for code in type(self).model_fields}


class QualityRules(BaseModel):
    """The whole rules file, checked against the steward messages (``ideal.messages``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    rules_version: str
    rules: RuleSet

    @model_validator(mode="after")
    def _agree_with_messages(self) -> QualityRules:
        for code, rule in self.rules.by_code().items():
            if code not in RULES:
                raise ValueError(f"table rule {code!r} has no message in ideal/messages.py")
            if RULES[code].severity != rule.severity:
                raise ValueError(
                    f"table rule {code!r} is an {rule.severity} here but an "
                    f"{RULES[code].severity} in ideal/messages.py"
                )
        return self

    def check_units(self, catalogue: Catalogue) -> None:
        """Every unit named in the thresholds exists in the catalogue."""
        unknown = sorted(set(self.rules.value_jump.min_size) - {"default", *catalogue.units})
        if unknown:
            raise ValueError(f"value_jump.min_size names units not in the catalogue: {unknown}")
        unknown = sorted(set(self.rules.duplicate_event.skip_units) - set(catalogue.units))
        if unknown:
            raise ValueError(
                f"duplicate_event.skip_units names units not in the catalogue: {unknown}"
            )


def load_rules(path: Path | None = None) -> QualityRules:
    """Read and check a quality rules file (the project's by default)."""
    if path is None:
        return _default_rules()
    with path.open(encoding="utf-8") as fh:
        return QualityRules.model_validate(yaml.safe_load(fh))


@cache
def _default_rules() -> QualityRules:
    return load_rules(QUALITY_RULES_PATH)


# -- the frame GX judges ------------------------------------------------------------------
def table_frame(
    valid: Sequence[ValidRow],
    annual: Sequence[AnnualValue],
    catalogue: Catalogue,
    *,
    previous: Mapping[str, Mapping[str, float]] | None = None,
    rules: QualityRules | None = None,
) -> pd.DataFrame:
    """One row per accepted row, indexed by the steward's row number.

    Besides the typed row (``value`` is the figure used: a censored ``<5`` counts as 2.5),
    the frame carries what the table rules judge, on the row a finding should point to:
    ``checked_value`` (against the plausible range; copied into the column of that range,
    see ``range_column``), ``annual_value``, ``previous_value`` and ``jump_ratio`` (the
    larger of this and the previous cycle's value over the smaller, left empty when both
    are below the unit's minimum size). Empty cells are not judged.
    Duplicate rows and indicators with mixed periods have no annual value, so they carry
    only the typed row.
    """
    rules = rules or load_rules()
    by_code = catalogue.indicator_by_code
    records: dict[int, dict[str, Any]] = {}
    for v in valid:
        rec = v.record
        records[v.source_row] = {
            "source_row": v.source_row,
            "country": rec.country,
            "period": rec.period,
            "indicator": rec.indicator,
            "value": used_value(rec),
            "unit": by_code[rec.indicator].unit,
            "value_cell": v.value_cell,
        }
    plausibility, jump = rules.rules.implausible_value, rules.rules.value_jump
    for a in annual:
        ind = by_code[a.indicator_code]
        group = [records[r] for r in a.source_rows]
        anchor = group[0]
        quarterly = "-Q" in anchor["period"]
        # a single annual row shows the cell as sent; a total of quarters shows the total
        annual_text = _figure(a.value) if quarterly else anchor["value_cell"]
        if quarterly and plausibility.quarters[ind.period_aggregation] == "each":
            for r in group:
                r["checked_value"], r["checked_text"] = r["value"], r["value_cell"]
        else:
            anchor["checked_value"], anchor["checked_text"] = a.value, annual_text
        if a.value is None:
            continue
        anchor["annual_value"], anchor["annual_text"] = a.value, annual_text
        before = (previous or {}).get(anchor["country"], {}).get(a.indicator_code)
        if before is not None and math.isfinite(before):
            anchor["previous_value"] = before
            anchor["jump_ratio"] = _jump_ratio(a.value, before, jump.min_size_for(ind.unit))

    frame = pd.DataFrame.from_records(list(records.values()), columns=list(FRAME_COLUMNS))
    frame["source_row"] = frame["source_row"].astype("int64")
    for c in NUMERIC_COLUMNS:
        frame[c] = pd.to_numeric(frame[c], errors="raise").astype("float64")
    for (low, high), codes in indicators_by_range(catalogue).items():
        in_range_group = frame["indicator"].isin(codes)
        frame[range_column(low, high)] = frame["checked_value"].where(in_range_group)
    frame.index = pd.Index(frame["source_row"].to_numpy(), name=None)
    return frame


def _jump_ratio(current: float, before: float, min_size: float) -> float:
    big, small = max(current, before), min(current, before)
    if big == 0 or big < min_size:
        return math.nan  # too small to judge: not checked
    return math.inf if small == 0 else big / small


def _figure(value: float | None) -> str | None:
    """A computed figure as plain digits (the steward's cells are shown as sent)."""
    if value is None or math.isnan(value):
        return None
    return f"{value:f}".rstrip("0").rstrip(".")


# -- the suites ---------------------------------------------------------------------------
def build_suite(
    kind: SubmissionKind,
    catalogue: Catalogue,
    rules: QualityRules | None = None,
    *,
    with_expected_countries: bool = True,
    with_expected_indicators: bool = True,
    with_expected_event_types: bool = True,
) -> Any:
    """The GX suite of a submission kind; each expectation's ``meta.rule`` is its rule code.

    The expected countries, indicators and event types change from cycle to cycle, so
    they are suite parameters (``$PARAMETER``) given when a file is validated; a cycle
    without a list leaves that expectation out. The event suite judges the frame of
    ``summarize_events``, the indicator suite that of ``table_frame``.
    """
    rules = rules or load_rules()
    rules.check_units(catalogue)
    _engine()  # GX builds suites only once a context exists
    suite = gx.ExpectationSuite(name=f"ideal.{kind}.table_quality")
    applies = {c for c, r in rules.rules.by_code().items() if kind in r.kinds}
    if not applies:
        raise ValueError(f"no table rules for submission kind {kind!r}")
    r = rules.rules
    exp: Any = gx.expectations  # its re-exports are implicit, which mypy --strict refuses

    def add(code: str, expectation: Any, **meta: object) -> None:
        if code not in applies:
            return
        expectation.meta = {"rule": code, **meta}
        expectation.severity = "critical" if RULES[code].severity == "error" else "warning"
        suite.add_expectation(expectation)

    add("duplicate_row", exp.ExpectCompoundColumnsToBeUnique(column_list=list(r.duplicate_row.key)))
    add("duplicate_event", exp.ExpectColumnValuesToBeBetween(column="later_copies", max_value=0))
    add(
        "multiple_countries",
        exp.ExpectColumnUniqueValueCountToBeBetween(
            column="country", min_value=1, max_value=r.multiple_countries.max_countries
        ),
    )
    if with_expected_countries:
        add(
            "country_not_expected",
            exp.ExpectColumnDistinctValuesToBeInSet(
                column="country", value_set={"$PARAMETER": "expected_countries"}
            ),
        )
    if with_expected_indicators:
        add(
            "indicator_not_reported",
            exp.ExpectColumnDistinctValuesToContainSet(
                column="indicator", value_set={"$PARAMETER": "expected_indicators"}
            ),
        )
    if with_expected_event_types:
        add(
            "event_type_not_reported",
            exp.ExpectColumnDistinctValuesToContainSet(
                column="reported_type", value_set={"$PARAMETER": "expected_event_types"}
            ),
        )
    # One expectation per plausible range, on the frame's column for that range, naming
    # the indicators that share it. Cost decides the shape: GX spends about 7 ms on an
    # expectation, and 18 ms with a row_condition (it filters the frame with
    # DataFrame.query for every metric); 44 indicators share 20 distinct ranges.
    for (low, high), codes in indicators_by_range(catalogue).items():
        add(
            "implausible_value",
            exp.ExpectColumnValuesToBeBetween(
                column=range_column(low, high), min_value=low, max_value=high
            ),
            indicators=codes,
        )
    add(
        "value_jump",
        exp.ExpectColumnValuesToBeBetween(column="jump_ratio", max_value=r.value_jump.ratio),
    )
    add(
        "event_count_jump",
        exp.ExpectColumnValuesToBeBetween(column="count_ratio", max_value=r.event_count_jump.ratio),
    )
    return suite


def indicators_by_range(catalogue: Catalogue) -> dict[tuple[float, float], list[str]]:
    """Catalogue indicators grouped by their plausible range, in catalogue order."""
    groups: dict[tuple[float, float], list[str]] = {}
    for ind in catalogue.indicators:
        groups.setdefault(ind.plausible, []).append(ind.code)
    return groups


def range_column(low: float, high: float) -> str:
    """The frame column holding the checked values of the indicators with this range."""
    return f"value_{_figure(low)}_to_{_figure(high)}".replace(".", "p").replace("-", "minus")


@dataclass(frozen=True)
class _Engine:
    context: Any
    batch_definition: Any


# GX contexts are not thread-safe; Prefect may run tasks in threads.
_LOCK = threading.RLock()
_SUITES: dict[tuple[object, ...], tuple[Catalogue, QualityRules, Any]] = {}


@cache
def _engine() -> _Engine:
    started = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("ideal")
    asset = source.add_dataframe_asset("submission_rows")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_submission")
    logger.debug("GX context ready in %.2f s", time.perf_counter() - started)
    return _Engine(context, batch_definition)


def _suite(
    kind: SubmissionKind, catalogue: Catalogue, rules: QualityRules, countries: bool, listed: bool
) -> Any:
    """The cached suite; ``listed``: with the completeness check (indicators, event types)."""
    # Keyed by object identity; the entry keeps the objects alive so an id is never reused.
    key = (kind, id(catalogue), id(rules), countries, listed)
    with _LOCK:
        cached = _SUITES.get(key)
        if cached is None:
            if len(_SUITES) >= 32:  # a test run loads many catalogues; keep memory flat
                _SUITES.clear()
            suite = build_suite(
                kind,
                catalogue,
                rules,
                with_expected_countries=countries,
                with_expected_indicators=listed,
                with_expected_event_types=listed,
            )
            cached = _SUITES[key] = (catalogue, rules, suite)
    return cached[2]


# GX (pandas) lists every unexpected row's index in COMPLETE, but caps values and rows at
# 200 and a missing-set list at 20; ``unexpected_rows`` completes any short list.
# ``_validate`` adds the frame's row column (``unexpected_index_column_names``).
RESULT_FORMAT: dict[str, object] = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 20,
}


def _validate(
    expectations: Any,
    frame: pd.DataFrame,
    parameters: Mapping[str, object],
    *,
    index: str = "source_row",
) -> Any:
    """Run a suite (or one expectation) on a frame; ``index`` names the frame's row column."""
    result_format = {**RESULT_FORMAT, "unexpected_index_column_names": [index]}
    with _LOCK:
        batch = _engine().batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            expectations, result_format=result_format, expectation_parameters=dict(parameters)
        )
    for r in getattr(result, "results", [result]):
        if _raised(r.exception_info):
            raise QualityCheckError(
                f"GX could not evaluate {r.expectation_config.type}: {r.exception_info}"
            )
    return result


def _raised(info: object) -> bool:
    if not isinstance(info, Mapping):
        return False
    if info.get("raised_exception"):
        return True
    return any(_raised(v) for v in info.values())  # one entry per metric


# -- running a suite and reading its results ----------------------------------------------
@dataclass(frozen=True)
class _Run:
    """What reading one validation's results needs besides the results."""

    frame: pd.DataFrame
    catalogue: Catalogue
    rules: QualityRules
    cycle_id: str
    parameters: Mapping[str, list[str]]
    index: str = "source_row"  # the frame's column GX names unexpected rows by
    repeats: pd.DataFrame | None = None  # event files: the rows repeating an earlier one


def check_table(
    frame: pd.DataFrame,
    catalogue: Catalogue,
    *,
    cycle_id: str,
    expected_countries: Collection[str] = (),
    expected_indicators: Collection[str] | None = None,
    kind: SubmissionKind = "indicators",
    rules: QualityRules | None = None,
) -> list[Issue]:
    """The table findings of a frame made by ``table_frame``, in the rules file's order.

    ``expected_countries`` empty means any country; ``expected_indicators`` None means
    every catalogue indicator.
    """
    if frame.empty:
        return []
    rules = rules or load_rules()
    codes = [i.code for i in catalogue.indicators]
    expected = _expected_codes(codes, expected_indicators, "indicators")
    run = _Run(
        frame,
        catalogue,
        rules,
        cycle_id,
        {"expected_countries": sorted(set(expected_countries)), "expected_indicators": expected},
    )
    started = time.perf_counter()
    suite = _suite(kind, catalogue, rules, bool(expected_countries), bool(expected))
    result = _validate(suite, frame.drop(columns=list(SHOWN_COLUMNS)), run.parameters)
    logger.debug(
        "table quality: %d rows, %d expectations, %.3f s",
        len(frame),
        len(result.results),
        time.perf_counter() - started,
    )
    return _findings(result, run)


def _expected_codes(codes: Sequence[str], wanted: Collection[str] | None, what: str) -> list[str]:
    """The catalogue ``codes`` a cycle expects, in catalogue order (all of them for None)."""
    if wanted is None:
        return list(codes)
    wanted = set(wanted)
    unknown = sorted(wanted - set(codes))
    if unknown:
        raise ValueError(f"expected {what} not in the catalogue: {unknown}")
    return [c for c in codes if c in wanted]


def _findings(result: Any, run: _Run) -> list[Issue]:
    """The findings of a suite's failed expectations, in the rules file's order."""
    found: dict[str, list[Issue]] = {}
    for r in result.results:
        if not r.success:
            code = str(r.expectation_config.meta["rule"])
            found.setdefault(code, []).extend(_READERS[code](r, run))
    if found.get("multiple_countries"):
        found.pop("country_not_expected", None)  # judged once the file has one country
    # A value outside its plausible range is wrong already; a jump would say it twice.
    implausible = {i.row for i in found.get("implausible_value", [])}
    found["value_jump"] = [i for i in found.get("value_jump", []) if i.row not in implausible]
    return [i for code in run.rules.rules.by_code() for i in found.get(code, [])]


def unexpected_rows(
    result: Any,
    frame: pd.DataFrame,
    parameters: Mapping[str, object],
    index: str = "source_row",
) -> list[int]:
    """Every row one expectation found unexpected, even where its result lists only some."""
    details = result.result
    listed = _listed_rows(details.get("unexpected_index_list"), index)
    count = int(details.get("unexpected_count") or 0)
    if len(listed) < count:
        logger.info("GX listed %d of %d unexpected rows; completing the list", len(listed), count)
        listed |= _complete(result.expectation_config, frame, listed, count, parameters, index)
    return sorted(listed)


def _listed_rows(entries: object, index: str = "source_row") -> set[int]:
    # One dict per row, or (with exclude_unexpected_values) one dict of lists.
    rows: set[int] = set()
    for entry in entries if isinstance(entries, list) else []:
        value = entry[index] if isinstance(entry, Mapping) else entry
        rows.update(int(v) for v in (value if isinstance(value, list) else [value]))
    return rows


def _complete(
    config: Any,
    frame: pd.DataFrame,
    listed: set[int],
    count: int,
    parameters: Mapping[str, object],
    index: str = "source_row",
) -> set[int]:
    # Uniqueness depends on the other rows, so it is recomputed with pandas; a row-by-row
    # expectation is run again by GX on the rows not listed yet, until all are found.
    if config.type == "expect_compound_columns_to_be_unique":
        dup = frame[frame.duplicated(subset=list(config.kwargs["column_list"]), keep=False)]
        return {int(r) for r in dup["source_row"]}
    expectation = config.to_domain_obj()
    found = set(listed)
    while len(found) < count:
        rest = frame[~frame[index].isin(sorted(found))]
        more = _validate(expectation, rest, parameters, index=index).result
        rows = _listed_rows(more.get("unexpected_index_list"), index)
        if not rows:
            logger.error("GX reports %d unexpected rows but lists %d", count, len(found))
            break
        found |= rows
    return found


def _duplicates(result: Any, run: _Run) -> list[Issue]:
    rows = run.frame.loc[unexpected_rows(result, run.frame, run.parameters)]
    out: list[Issue] = []
    for _, group in rows.groupby(list(run.rules.rules.duplicate_row.key), sort=False):
        first, *later = sorted(int(r) for r in group["source_row"])
        for row in later:
            code, period = str(run.frame.at[row, "indicator"]), str(run.frame.at[row, "period"])
            out.append(
                issue(
                    "duplicate_row",
                    row,
                    "indicator",
                    code,
                    indicator=code,
                    period=period,
                    first_row=first,
                )
            )
    return sorted(out, key=lambda i: i.row or 0)


def _multiple_countries(result: Any, run: _Run) -> list[Issue]:
    # GX gives the number of countries; the message names them
    countries = ", ".join(sorted(str(c) for c in run.frame["country"].unique()))
    return [issue("multiple_countries", column="country", countries=countries)]


def _country_not_expected(result: Any, run: _Run) -> list[Issue]:
    outside = list(result.result.get("partial_unexpected_list") or [])
    if len(outside) != 1:  # several countries: multiple_countries says so
        return []
    return [issue("country_not_expected", country=str(outside[0]), cycle=run.cycle_id)]


def _missing(result: Any, expected: Sequence[str], present: pd.Series) -> list[str]:
    """The expected codes a contain-set expectation found missing, in expected order."""
    details = result.result
    missing = set(details.get("partial_missing_list") or [])
    if len(missing) < int(details.get("missing_count") or 0):  # GX lists at most 20
        missing = set(expected) - set(present.dropna())
    return [code for code in expected if code in missing]


class _NameParams(TypedDict):
    name_es: str
    name_pt: str
    name_en: str


def _names(names: Names) -> _NameParams:
    """A catalogue name as message parameters, one per working language."""
    return {"name_es": names.es, "name_pt": names.pt, "name_en": names.en}


def _not_reported(result: Any, run: _Run) -> list[Issue]:
    names = {code: i.name for code, i in run.catalogue.indicator_by_code.items()}
    return _codes_not_reported(result, run, "indicator_not_reported", "indicator", names)


def _codes_not_reported(
    result: Any, run: _Run, rule: str, column: str, names: Mapping[str, Names], present: str = ""
) -> list[Issue]:
    """One finding per expected code (indicator, event type) the file has no row of.

    The expected codes are the run's ``expected_<column>s`` parameter; ``present`` is
    the frame column holding the codes found (``column`` unless given).
    """
    expected = run.parameters[f"expected_{column}s"]
    found = run.frame[present or column]
    out = []
    for code in _missing(result, expected, found):
        params: dict[str, object] = {column: code, **_names(names[code])}
        out.append(issue(rule, None, column, None, **params))
    return out


def _implausible(result: Any, run: _Run) -> list[Issue]:
    kwargs = result.expectation_config.kwargs
    low, high = float(kwargs["min_value"]), float(kwargs["max_value"])
    return [
        issue(
            "implausible_value",
            row,
            "value",
            _text_at(run.frame, row, "checked_text"),
            indicator=str(run.frame.at[row, "indicator"]),
            low=low,
            high=high,
        )
        for row in unexpected_rows(result, run.frame, run.parameters)
    ]


def _jumps(result: Any, run: _Run) -> list[Issue]:
    ratio = float(result.expectation_config.kwargs["max_value"])
    return [
        issue(
            "value_jump",
            row,
            "value",
            _text_at(run.frame, row, "annual_text"),
            indicator=str(run.frame.at[row, "indicator"]),
            annual=_number_at(run.frame, row, "annual_value"),
            previous=_number_at(run.frame, row, "previous_value"),
            ratio=ratio,
        )
        for row in unexpected_rows(result, run.frame, run.parameters)
    ]


def _event_duplicates(result: Any, run: _Run) -> list[Issue]:
    # GX names the (country, event type) rows with repeats; ``repeats`` names the rows
    cells = run.frame.loc[unexpected_rows(result, run.frame, run.parameters, run.index)]
    repeats = run.repeats
    assert repeats is not None  # check_events hands them over with the event frame
    flagged = pd.MultiIndex.from_frame(cells[["country", "event_type"]])
    mine = repeats[pd.MultiIndex.from_frame(repeats[["country", "event_type"]]).isin(flagged)]
    # a finding on the row: the summary holds typed values, not the cells as sent
    names = {code: _names(item.name) for code, item in run.catalogue.event_item_by_code.items()}
    limit = MAX_LISTED_PER_RULE  # groups listed, as row findings are per rule
    shown = mine.head(limit)
    found = [
        issue(
            "duplicate_event",
            row,
            item=item,
            **names[item],
            date=date,
            first_row=first,
            copies=int(copies),
            rows=_row_list(later, int(copies)),
        )
        for row, first, item, date, copies, later in zip(
            shown["source_row"].tolist(),
            shown["first_row"].tolist(),
            shown["item"].tolist(),
            shown["date"].tolist(),
            shown["copies"].tolist(),
            shown["later_rows"].tolist(),
            strict=True,
        )
    ]
    if len(mine) > limit:
        found.append(issue("duplicate_event_more", groups=len(mine) - limit, shown=limit))
    return found


def _row_list(rows: Sequence[int], total: int) -> str:
    """'3, 4, 5' or, past REPEAT_ROWS_SHOWN, '3, 4, … (12)' (``rows``: the first shown)."""
    shown = ", ".join(str(int(r)) for r in rows)
    return shown if total <= REPEAT_ROWS_SHOWN else f"{shown} … ({total})"


def _event_types_not_reported(result: Any, run: _Run) -> list[Issue]:
    names = {code: t.name for code, t in run.catalogue.event_types.items()}
    return _codes_not_reported(
        result, run, "event_type_not_reported", "event_type", names, "reported_type"
    )


def _event_count_jumps(result: Any, run: _Run) -> list[Issue]:
    ratio = float(result.expectation_config.kwargs["max_value"])
    cells = run.frame.loc[unexpected_rows(result, run.frame, run.parameters, run.index)]
    types = run.catalogue.event_types
    return [
        issue(
            "event_count_jump",
            column="event_type",
            event_type=code,
            **_names(types[code].name),
            count=int(n),
            previous=int(before),
            ratio=ratio,
        )
        for code, n, before in zip(
            cells["event_type"], cells["n_events"], cells["previous_events"], strict=True
        )
    ]


_READERS: dict[str, Callable[[Any, _Run], list[Issue]]] = {
    "duplicate_row": _duplicates,
    "duplicate_event": _event_duplicates,
    "multiple_countries": _multiple_countries,
    "country_not_expected": _country_not_expected,
    "indicator_not_reported": _not_reported,
    "event_type_not_reported": _event_types_not_reported,
    "implausible_value": _implausible,
    "value_jump": _jumps,
    "event_count_jump": _event_count_jumps,
}


def _text_at(frame: pd.DataFrame, row: int, column: str) -> str | None:
    value: object = frame.at[row, column]
    return value if isinstance(value, str) else None  # empty cells are None or NaN


def _number_at(frame: pd.DataFrame, row: int, column: str) -> float:
    return float(frame.at[row, column])  # type: ignore[arg-type]


# -- event files: GX judges a summary made in DuckDB ----------------------------------------
@dataclass(frozen=True)
class EventSummary:
    """What the event suite judges, computed in DuckDB from the file's valid events.

    ``frame`` has one row per country of the file and catalogue event type
    (``EVENT_FRAME_COLUMNS``), indexed by ``summary_row``; it is empty when no event is
    valid. ``repeats`` has one row per valid event that repeats an earlier one
    (``REPEAT_COLUMNS``), in row order.
    """

    frame: pd.DataFrame
    repeats: pd.DataFrame

    @property
    def countries(self) -> list[str]:
        return sorted({str(c) for c in self.frame["country"]})


@dataclass(frozen=True)
class EventTable:
    """The countries of an event file's valid events and its table findings."""

    countries: list[str]
    issues: list[Issue]


def summarize_events(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    catalogue: Catalogue,
    *,
    previous: Mapping[str, Mapping[str, int]] | None = None,
    rules: QualityRules | None = None,
) -> EventSummary:
    """The summary of the valid events that ``rows`` selects on ``con``.

    ``rows`` is a SQL query with the columns ``EVENT_ROW_COLUMNS``, one row per valid
    event. ``previous`` holds the previous cycle's number of events, country -> event
    type -> count; a country it does not name is not judged for jumps. Whatever the
    number of rows, GX gets one per country and event type: the rows are read twice in
    full (events by country and type; a hash of each row's key) and once more for those
    whose hash repeats (``repeated_events``).
    """
    rules = rules or load_rules()
    started = time.perf_counter()
    counts = {
        (str(country), str(etype)): int(n)
        for country, etype, n in con.execute(
            f"SELECT {EVENT_FIELDS['country']}, event_type, count(*) FROM ({rows}) GROUP BY ALL"
        ).fetchall()
    }
    if not counts:
        return EventSummary(
            pd.DataFrame(columns=list(EVENT_FRAME_COLUMNS)),
            pd.DataFrame(columns=list(REPEAT_COLUMNS)),
        )
    dup = rules.rules.duplicate_event
    repeats = repeated_events(con, rows, dup.key, dup.skip_units)
    copies: Counter[tuple[str, str]] = Counter()
    for country, etype, n in zip(
        repeats["country"].tolist(),
        repeats["event_type"].tolist(),
        repeats["copies"].tolist(),
        strict=True,
    ):
        copies[country, etype] += int(n)
    min_count = rules.rules.event_count_jump.min_count
    types = list(catalogue.event_types)
    types += sorted({t for _, t in counts} - set(types))  # the contract admits none
    records: list[dict[str, Any]] = []
    for country in sorted({c for c, _ in counts}):
        before = None if previous is None else previous.get(country)
        for etype in types:
            n = counts.get((country, etype), 0)
            # a country with events last cycle had 0 of a type it did not report
            was = math.nan if before is None else float(before.get(etype, 0))
            judged = n > 0 and not math.isnan(was)
            records.append(
                {
                    "summary_row": len(records),
                    "country": country,
                    "event_type": etype,
                    "n_events": n,
                    "reported_type": etype if n else None,
                    "previous_events": was,
                    "count_ratio": _jump_ratio(n, was, min_count) if judged else math.nan,
                    "later_copies": copies[country, etype],
                }
            )
    frame = pd.DataFrame.from_records(records, columns=list(EVENT_FRAME_COLUMNS))
    frame.index = pd.Index(frame["summary_row"].to_numpy(), name=None)
    logger.debug(
        "event summary: %d events, %d repeating an earlier one, %.3f s",
        sum(counts.values()),
        sum(copies.values()),
        time.perf_counter() - started,
    )
    return EventSummary(frame, repeats)


def repeated_events(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    key: Sequence[str],
    skip_units: Sequence[str] = (),
) -> pd.DataFrame:
    """The groups of valid events identical in each ``key`` column, in row order.

    One row per group (``REPEAT_COLUMNS``): its first repeat, the first row of the
    group, its country, event type, item and date, how many repeats it has and the
    first ``REPEAT_ROWS_SHOWN`` of them. Events in ``skip_units`` are not compared.
    ``key`` names event-file columns (``EVENT_FIELDS``). One query: every row is hashed
    on the cheaper part of its key (``_ROUGH_SKIP``) and the hashes sorted, so the rows
    whose hash repeats are found without a million-entry hash table; only those rows are
    then compared on the whole key. Equal hashes of different events (a collision, or
    rows that differ only in a column left out) report nothing.
    """
    exact = ", ".join(EVENT_FIELDS[c] for c in key)
    rough = ", ".join(EVENT_FIELDS[c] for c in key if c not in _ROUGH_SKIP) or exact
    compared = (
        f"SELECT * FROM ({rows}) WHERE unit NOT IN ({', '.join(map(lit, skip_units))})"
        if skip_units
        else rows
    )
    country, date = EVENT_FIELDS["country"], EVENT_FIELDS["date"]
    return con.execute(
        "WITH candidates AS (SELECT source_row FROM "
        f"(SELECT source_row, hash({rough}) AS h FROM ({compared})) "
        "QUALIFY h = lag(h) OVER (ORDER BY h) OR h = lead(h) OVER (ORDER BY h)), "
        f"grouped AS (SELECT source_row, {country}, event_type, item, {date}, "
        f"min(source_row) OVER (PARTITION BY {exact}) AS first_row "
        f"FROM ({compared}) WHERE source_row IN (SELECT source_row FROM candidates)) "
        f"SELECT min(source_row) AS source_row, first_row, any_value({country}) AS country, "
        "any_value(event_type) AS event_type, any_value(item) AS item, "
        f"strftime(any_value({date}), '%Y-%m-%d') AS date, count(*) AS copies, "
        f"list(source_row ORDER BY source_row)[1:{REPEAT_ROWS_SHOWN}] AS later_rows "
        "FROM grouped WHERE source_row <> first_row GROUP BY first_row ORDER BY source_row"
    ).df()


# Left out of the rough hash (hashing text is what a million rows cost): a valid file has
# one country, and an item's event type and unit follow from it in the catalogue. Leaving
# a column out only makes more candidates; the whole key decides.
_ROUGH_SKIP = frozenset({"country", "event_type", "unit"})


def check_events(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    catalogue: Catalogue,
    *,
    cycle_id: str,
    expected_countries: Collection[str] = (),
    previous: Mapping[str, Mapping[str, int]] | None = None,
    expected_event_types: Collection[str] | None = None,
    rules: QualityRules | None = None,
) -> EventTable:
    """The table findings on an event file's valid events, in the rules file's order.

    ``rows`` and ``previous`` are as for ``summarize_events``. ``expected_countries``
    empty means any country; ``expected_event_types`` None means every catalogue event
    type (cycles list none today).
    """
    rules = rules or load_rules()
    summary = summarize_events(con, rows, catalogue, previous=previous, rules=rules)
    if summary.frame.empty:
        return EventTable([], [])
    expected = _expected_codes(list(catalogue.event_types), expected_event_types, "event types")
    run = _Run(
        summary.frame,
        catalogue,
        rules,
        cycle_id,
        {"expected_countries": sorted(set(expected_countries)), "expected_event_types": expected},
        index="summary_row",
        repeats=summary.repeats,
    )
    started = time.perf_counter()
    suite = _suite("events", catalogue, rules, bool(expected_countries), bool(expected))
    result = _validate(suite, summary.frame, run.parameters, index=run.index)
    logger.debug(
        "event table quality: %d summary rows, %.3f s",
        len(summary.frame),
        time.perf_counter() - started,
    )
    return EventTable(summary.countries, _findings(result, run))
