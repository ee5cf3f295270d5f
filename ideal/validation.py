"""Validation of a submission: every row against the contract, then the table as a whole.

Two layers. Each row is checked by the pydantic contract (``ideal.contract``); the rows
that pass are combined into annual values, and the table of them is checked by the
Great Expectations suite of ``ideal.quality`` (duplicate keys, one country, expected
countries and indicators, plausible values, jumps from the previous cycle), which is the
only place those table rules are evaluated.

The result says, for each finding, the row the steward sees, the column, the value as
sent, the rule broken and its severity. ``error`` findings block the submission;
``warning`` findings are accepted and shown. The pipeline and ``ideal validate`` call
the same ``validate_submission``.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from pydantic import ValidationError

from ideal.catalogue import Catalogue
from ideal.contract import ContractContext, IndicatorRecord
from ideal.messages import RULES, Severity, format_issue
from ideal.readers import Cell, RawSubmission

logger = logging.getLogger(__name__)

Status = Literal["accepted", "accepted_with_warnings", "rejected", "unreadable"]
GRADE_ORDER = "ABCDEF"  # worst grade of combined rows = latest letter / highest digit


@dataclass(frozen=True)
class Issue:
    severity: Severity
    rule: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    params: dict[str, object] = field(default_factory=dict)

    def message(self, lang: str = "en") -> tuple[str, str]:
        return format_issue(
            self.rule, {"column": self.column, "value": self.value, **self.params}, lang
        )


# Row findings listed for one rule and column; the others are counted in one finding. A
# systematic mistake (every date written month first) would otherwise list the same
# finding hundreds of thousands of times, which helps no one and costs gigabytes.
MAX_LISTED_PER_RULE = 1_000


class RowFindings:
    """The row findings of one file, at most ``limit`` listed per rule and column.

    ``check_rows`` (both engines) passes every row's findings through ``keep`` in row
    order and ends with ``summary``: one finding per rule and column with more than
    ``limit``, saying how many more rows have it and which row was the first.
    """

    def __init__(self, limit: int = MAX_LISTED_PER_RULE) -> None:
        self.limit = limit
        self._listed: Counter[tuple[str, str | None]] = Counter()
        self._first: dict[tuple[str, str | None], int | None] = {}
        self._more: Counter[tuple[str, str | None]] = Counter()

    def keep(self, found: Sequence[Issue]) -> list[Issue]:
        """The findings of one row that are still listed."""
        out: list[Issue] = []
        for i in found:
            key = (i.rule, i.column)
            if self._listed[key] < self.limit:
                self._listed[key] += 1
                self._first.setdefault(key, i.row)
                out.append(i)
            else:
                self._more[key] += 1
        return out

    def summary(self) -> list[Issue]:
        """One finding per rule and column whose findings were not all listed."""
        return [
            issue(
                "more_errors" if RULES[rule].severity == "error" else "more_warnings",
                column=column,
                like=rule,
                count=count,
                shown=self.limit,
                first_row=self._first[rule, column],
            )
            for (rule, column), count in self._more.items()
        ]


def issue(
    rule: str,
    row: int | None = None,
    column: str | None = None,
    value: Cell | str = None,
    **params: object,
) -> Issue:
    """A finding with the severity its rule declares."""
    text = None if value is None else str(value)
    return Issue(RULES[rule].severity, rule, row, column, text, dict(params))


@dataclass(frozen=True)
class ValidRow:
    source_row: int
    record: IndicatorRecord
    value_cell: str | None = None  # the value cell as sent, shown in findings


@dataclass(frozen=True)
class AnnualValue:
    """One indicator's annual value, built from one or more valid rows."""

    indicator_code: str
    value: float | None
    unit: str
    n_periods: int
    is_unit_converted: bool
    reliability: str
    credibility: int
    trend_reported: str | None
    source_rows: tuple[int, ...]


class _Graded(Protocol):
    @property
    def severity(self) -> str: ...


class IssueCounts:
    """Counts of blocking and non-blocking findings, for anything holding ``issues``."""

    issues: Sequence[_Graded]

    @property
    def n_errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def n_warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")


@dataclass
class ValidationResult(IssueCounts):
    country_iso3: str | None
    rows: list[ValidRow]
    issues: list[Issue]
    n_rows: int
    annual: list[AnnualValue] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.n_errors:
            return "rejected"
        return "accepted_with_warnings" if self.n_warnings else "accepted"


# Pydantic's own error types, when a field has no custom rule, map to these rules.
_FIELD_RULES = {
    "reliability": "invalid_reliability",
    "credibility": "invalid_credibility",
    "trend": "invalid_trend",
    "period": "invalid_period",
    "country": "unknown_country",
    "indicator": "unknown_indicator",
    "value": "not_a_number",
    "unit": "incompatible_unit",
}


# Cross-field rules name no field in pydantic's error location; this is the cell they judge.
_MODEL_RULE_COLUMNS = {
    "negative_value": "value",
    "not_finite": "value",
    "out_of_scale": "value",
    "beyond_hard_limit": "value",
    "incompatible_unit": "unit",
    "required": "value",
    "not_a_number": "value",
}


def issues_from_error(
    exc: ValidationError,
    row_no: int,
    cells: Mapping[str, Cell],
    *,
    field_rules: Mapping[str, str] = _FIELD_RULES,
    model_rule_columns: Mapping[str, str] = _MODEL_RULE_COLUMNS,
) -> list[Issue]:
    """One finding per pydantic error, with the cell as the steward sent it.

    ``field_rules`` names the rule of an error pydantic raises on a field in words of its
    own; ``model_rule_columns`` the cell a cross-field rule judges when the error does not
    say. Both default to the indicator contract's; event rows pass their own.
    """
    found: list[Issue] = []
    for err in exc.errors(include_url=False):
        ctx = dict(err.get("ctx") or {})
        kind = err["type"]
        if err["loc"]:
            column: str | None = str(err["loc"][0])
        else:  # raised by the model's cross-field checks: the rule says which cell
            column = str(ctx.get("column") or model_rule_columns.get(kind, "")) or None
        if kind in RULES:
            rule = kind
        elif kind == "missing":
            rule = "required"
        elif kind == "string_too_long":
            rule = "text_too_long"
        elif column is not None and column in field_rules:
            rule = field_rules[column]
        else:  # a pydantic rule we did not phrase: keep its text rather than lose it
            logger.warning("unmapped pydantic error %s on %s", kind, column)
            rule = "not_a_number" if column == "value" else "required"
        cell = cells.get(column) if column else None
        ctx.pop("value", None)
        ctx.pop("column", None)
        found.append(issue(rule, row_no, column, cell, **ctx))
    return found


def check_indicator_row(
    cells: Mapping[str, Cell], row_no: int, ctx: ContractContext
) -> tuple[ValidRow | None, list[Issue]]:
    """The typed row (None if the row has errors) and the row's findings.

    Both engines call it: the pydantic path for every row of a file, the SQL path of
    ``ideal.sqlcheck`` for the rows its query flags.
    """
    try:
        record = IndicatorRecord.model_validate(cells, context=ctx)
    except ValidationError as exc:
        return None, issues_from_error(exc, row_no, cells)
    value = cells.get("value")
    row = ValidRow(row_no, record, None if value is None else str(value))
    return row, _row_warnings(row_no, record, cells, ctx.catalogue)


_Typed = TypeVar("_Typed")


def check_rows(
    rows: Iterable[tuple[int, Mapping[str, Cell]]],
    check: Callable[[Mapping[str, Cell], int, ContractContext], tuple[_Typed | None, list[Issue]]],
    ctx: ContractContext,
) -> tuple[list[_Typed], list[Issue]]:
    """(row number, cells) through ``check`` in row order: the typed rows and the findings.

    Both engines judge their rows here (the SQL path only those its query flags), so
    both list the same findings, as ``RowFindings`` bounds them.
    """
    typed: list[_Typed] = []
    issues: list[Issue] = []
    listed = RowFindings()
    for row_no, cells in rows:
        row, found = check(cells, row_no, ctx)
        issues += listed.keep(found)
        if row is not None:
            typed.append(row)
    return typed, issues + listed.summary()


def header_issues(raw: RawSubmission) -> list[Issue]:
    """Findings on the header: columns missing, columns not in the contract."""
    issues = [issue("missing_column", column=c) for c in raw.missing_columns]
    return issues + [issue("unknown_column", column=c) for c in raw.unknown_columns]


def sort_issues(issues: list[Issue]) -> None:
    """Findings in the steward's reading order: by row, errors first; file findings last."""
    issues.sort(key=lambda i: (i.row is None, i.row or 0, i.severity != "error"))


def validate_submission(
    raw: RawSubmission,
    ctx: ContractContext,
    expected_countries: tuple[str, ...] = (),
    *,
    previous: Mapping[str, Mapping[str, float]] | None = None,
    expected_indicators: Mapping[str, Collection[str]] | None = None,
) -> ValidationResult:
    """Check a parsed file against the contract and the table rules.

    ``previous`` holds the previous cycle's annual values, country -> indicator -> value
    in the catalogue unit, for the jump warning (none without it). ``expected_indicators``
    lists, by country, the indicators expected in this cycle; a country it does not name
    is expected to report every catalogue indicator.
    """
    issues = header_issues(raw)
    if raw.missing_columns:
        return ValidationResult(None, [], issues, len(raw.rows))
    if not raw.rows:
        issues.append(issue("no_data_rows"))
        return ValidationResult(None, [], issues, 0)

    valid, found = check_rows(((r.source_row, r.cells) for r in raw.rows), check_indicator_row, ctx)
    issues += found

    countries = {v.record.country for v in valid}
    country = next(iter(countries)) if len(countries) == 1 else None
    annual = _annual_values(valid, issues, ctx.catalogue)
    if valid:
        if previous is None:
            previous = ctx.previous_values
        issues += _table_issues(
            valid, annual, ctx, expected_countries, country, previous, expected_indicators
        )
    sort_issues(issues)
    return ValidationResult(country, valid, issues, len(raw.rows), annual)


def _table_issues(
    valid: list[ValidRow],
    annual: list[AnnualValue],
    ctx: ContractContext,
    expected_countries: tuple[str, ...],
    country: str | None,
    previous: Mapping[str, Mapping[str, float]] | None,
    expected_indicators: Mapping[str, Collection[str]] | None,
) -> list[Issue]:
    # Late import: Great Expectations takes seconds to import, and only a file with
    # accepted rows needs it (``ideal --help`` or an unreadable file do not).
    from ideal import quality

    frame = quality.table_frame(valid, annual, ctx.catalogue, previous=previous)
    return quality.check_table(
        frame,
        ctx.catalogue,
        cycle_id=ctx.cycle_id,
        expected_countries=expected_countries,
        expected_indicators=(expected_indicators or {}).get(country) if country else None,
    )


def _row_warnings(
    row_no: int, rec: IndicatorRecord, cells: Mapping[str, Cell], catalogue: Catalogue
) -> list[Issue]:
    ind = catalogue.indicator_by_code[rec.indicator]
    out: list[Issue] = []
    raw_value = cells.get("value")
    if rec.missing_reason is not None:
        out.append(issue("value_missing", row_no, "value", raw_value, indicator=ind.code))
    if rec.censored_bound is not None:
        out.append(
            issue(
                "censored_value",
                row_no,
                "value",
                raw_value,
                indicator=ind.code,
                used=rec.censored_bound / 2,
            )
        )
    if rec.reported_unit is not None:
        out.append(
            issue(
                "unit_converted",
                row_no,
                "unit",
                raw_value,
                unit=rec.reported_unit,
                expected=ind.unit,
                converted=rec.value if rec.value is not None else "",
            )
        )
    if rec.trend is not None and ind.kind != "expert":
        out.append(issue("trend_ignored", row_no, "trend", cells.get("trend"), indicator=ind.code))
    if not rec.source:
        out.append(issue("missing_source", row_no, "source", None))
    return out


def _annual_values(
    valid: list[ValidRow], issues: list[Issue], catalogue: Catalogue
) -> list[AnnualValue]:
    # By country too: a file mixing countries is rejected, but each country's values are
    # still judged on their own by the table rules.
    by_key: dict[tuple[str, str], list[ValidRow]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for v in valid:
        key = (v.record.country, v.record.period, v.record.indicator)
        if key in seen:  # a repeated row: the first one counts; the table rules report it
            continue
        seen.add(key)
        by_key[v.record.country, v.record.indicator].append(v)

    annual: list[AnnualValue] = []
    for (_, code), group in by_key.items():
        ind = catalogue.indicator_by_code[code]
        quarterly = [g for g in group if "-Q" in g.record.period]
        if quarterly and len(quarterly) != len(group):
            issues.append(
                issue(
                    "mixed_periods",
                    quarterly[0].source_row,
                    "period",
                    quarterly[0].record.period,
                    indicator=code,
                )
            )
            continue
        values = [used_value(g.record) for g in group]
        present = [x for x in values if x is not None]
        value: float | None
        if not present:
            value = None
        elif ind.period_aggregation == "mean":
            value = sum(present) / len(present)
        else:
            value = sum(present)
            if quarterly and len(present) < 4:
                value = value * 4 / len(present)
                issues.append(
                    issue(
                        "incomplete_quarters",
                        group[0].source_row,
                        "period",
                        group[0].record.period,
                        indicator=code,
                        n=len(present),
                    )
                )
        annual.append(
            AnnualValue(
                indicator_code=code,
                value=value,
                unit=ind.unit,
                n_periods=len(group),
                is_unit_converted=any(g.record.reported_unit is not None for g in group),
                reliability=max((g.record.reliability for g in group), key=GRADE_ORDER.index),
                credibility=max(g.record.credibility for g in group),
                trend_reported=next((g.record.trend for g in group if g.record.trend), None)
                if ind.kind == "expert"
                else None,
                source_rows=tuple(g.source_row for g in group),
            )
        )
    return annual


def used_value(rec: IndicatorRecord) -> float | None:
    """The figure a row contributes: its value, or half the bound of a censored ``<5``."""
    if rec.value is not None:
        return rec.value
    if rec.censored_bound is not None:
        return rec.censored_bound / 2  # documented in docs/methodology.md
    return None
