"""Validation of a submission: every row against the contract, then the table as a whole.

The result says, for each finding, the row the steward sees, the column, the value as
sent, the rule broken and its severity. ``error`` findings block the submission;
``warning`` findings are accepted and shown. The pipeline and ``ideal validate`` call
the same ``validate_submission``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

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


class IssueCounts:
    """Counts of blocking and non-blocking findings, for anything holding ``issues``."""

    issues: list[Issue]

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
    "incompatible_unit": "unit",
    "required": "value",
    "not_a_number": "value",
}


def _issues_from_error(
    exc: ValidationError, raw: RawSubmission, row_no: int, cells: dict[str, Cell]
) -> list[Issue]:
    found: list[Issue] = []
    for err in exc.errors(include_url=False):
        ctx = dict(err.get("ctx") or {})
        kind = err["type"]
        if err["loc"]:
            column: str | None = str(err["loc"][0])
        else:  # raised by the model's cross-field checks: the rule says which cell
            column = str(ctx.get("column") or _MODEL_RULE_COLUMNS.get(kind, "")) or None
        if kind in RULES:
            rule = kind
        elif kind == "missing":
            rule = "required"
        elif kind == "string_too_long":
            rule = "text_too_long"
        elif column in _FIELD_RULES:
            rule = _FIELD_RULES[column]
        else:  # a pydantic rule we did not phrase: keep its text rather than lose it
            logger.warning("unmapped pydantic error %s on %s", kind, column)
            rule = "not_a_number" if column == "value" else "required"
        cell = cells.get(column) if column else None
        ctx.pop("value", None)
        ctx.pop("column", None)
        found.append(issue(rule, row_no, column, cell, **ctx))
    return found


def validate_submission(
    raw: RawSubmission,
    ctx: ContractContext,
    expected_countries: tuple[str, ...] = (),
) -> ValidationResult:
    """Check a parsed file against the contract and the table rules."""
    issues: list[Issue] = [issue("missing_column", column=c) for c in raw.missing_columns]
    issues += [issue("unknown_column", column=c) for c in raw.unknown_columns]
    if raw.missing_columns:
        return ValidationResult(None, [], issues, len(raw.rows))
    if not raw.rows:
        issues.append(issue("no_data_rows"))
        return ValidationResult(None, [], issues, 0)

    valid: list[ValidRow] = []
    for row in raw.rows:
        try:
            record = IndicatorRecord.model_validate(row.cells, context=ctx)
        except ValidationError as exc:
            issues += _issues_from_error(exc, raw, row.source_row, row.cells)
            continue
        valid.append(ValidRow(row.source_row, record))
        issues += _row_warnings(row.source_row, record, row.cells, ctx.catalogue)

    country = _single_country(valid, issues)
    if country and expected_countries and country not in expected_countries:
        issues.append(issue("country_not_expected", country=country, cycle=ctx.cycle_id))
    annual = _annual_values(valid, issues, ctx.catalogue)
    _completeness(annual, valid, issues, ctx.catalogue)
    issues.sort(key=lambda i: (i.row is None, i.row or 0, i.severity != "error"))
    return ValidationResult(country, valid, issues, len(raw.rows), annual)


def _row_warnings(
    row_no: int, rec: IndicatorRecord, cells: dict[str, Cell], catalogue: Catalogue
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
    low, high = ind.plausible
    # plausibility is judged on the annual figure; a quarter is compared with its share
    if rec.value is not None and rec.period.find("-Q") < 0 and not low <= rec.value <= high:
        out.append(
            issue(
                "implausible_value",
                row_no,
                "value",
                raw_value,
                indicator=ind.code,
                low=low,
                high=high,
            )
        )
    if rec.trend is not None and ind.kind != "expert":
        out.append(issue("trend_ignored", row_no, "trend", cells.get("trend"), indicator=ind.code))
    if not rec.source:
        out.append(issue("missing_source", row_no, "source", None))
    return out


def _single_country(valid: list[ValidRow], issues: list[Issue]) -> str | None:
    countries = sorted({v.record.country for v in valid})
    if len(countries) > 1:
        issues.append(issue("multiple_countries", column="country", countries=", ".join(countries)))
        return None
    return countries[0] if countries else None


def _annual_values(
    valid: list[ValidRow], issues: list[Issue], catalogue: Catalogue
) -> list[AnnualValue]:
    by_indicator: dict[str, list[ValidRow]] = defaultdict(list)
    seen: dict[tuple[str, str, str], int] = {}
    for v in valid:
        key = (v.record.country, v.record.period, v.record.indicator)
        if key in seen:
            issues.append(
                issue(
                    "duplicate_row",
                    v.source_row,
                    "indicator",
                    v.record.indicator,
                    indicator=v.record.indicator,
                    period=v.record.period,
                    first_row=seen[key],
                )
            )
            continue
        seen[key] = v.source_row
        by_indicator[v.record.indicator].append(v)

    annual: list[AnnualValue] = []
    for code, group in by_indicator.items():
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
        values = [_used_value(g.record) for g in group]
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
        if value is not None and quarterly:
            low, high = ind.plausible
            if not low <= value <= high:
                issues.append(
                    issue(
                        "implausible_value",
                        group[0].source_row,
                        "value",
                        value,
                        indicator=code,
                        low=low,
                        high=high,
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


def _used_value(rec: IndicatorRecord) -> float | None:
    if rec.value is not None:
        return rec.value
    if rec.censored_bound is not None:
        return rec.censored_bound / 2  # documented in docs/methodology.md
    return None


def _completeness(
    annual: list[AnnualValue], valid: list[ValidRow], issues: list[Issue], catalogue: Catalogue
) -> None:
    if not valid:
        return
    reported = {a.indicator_code for a in annual}
    reported |= {v.record.indicator for v in valid}
    for ind in catalogue.indicators:
        if ind.code not in reported:
            issues.append(
                issue(
                    "indicator_not_reported",
                    column="indicator",
                    indicator=ind.code,
                    name_es=ind.name.es,
                    name_pt=ind.name.pt,
                    name_en=ind.name.en,
                )
            )
