"""Event records → indicators, in SQL, by the rules of schemas/aggregation_rules.yaml.

The rules (which events of which type and items make which catalogue indicator, by sum
of quantity or by count of events, and how far a reported value may differ from its
aggregate) are declared once in the YAML file, checked here against the catalogue
(frozen pydantic models), and compiled into three views that
``ideal.migrations.install_views`` keeps in the warehouse:

* ``core_threat__event_indicator_values``: per cycle, country and indicator, the sum
  (or count) over the country's current events; grades are the worst of the events';
* ``core_threat__scoring_values``: what scoring reads (``ideal.assessment``): each
  indicator's value from the country's current indicator file, else the one aggregated
  from its events. A value reported directly wins: it is the country's official figure,
  and the reconciliation says when the two disagree. Rates per 100k follow in scoring;
* ``core_threat__reconciliation``: every indicator both reported and aggregated, the
  difference, the allowed difference and ``is_mismatch``; ``ideal cycle status`` and
  ``ideal explain`` show the mismatches.

They are views, not tables: a finding can never be stale after a resubmission, and
aggregating a million events takes DuckDB a fraction of a second (bench/warehouse.py).
What a scoring run used is kept in ``out_threat__indicator_scores`` and its manifest.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from ideal.catalogue import Catalogue, load_catalogue
from ideal.config import SCHEMAS_DIR

logger = logging.getLogger(__name__)

RULES_PATH = SCHEMAS_DIR / "aggregation_rules.yaml"


class Tolerance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    relative: float = Field(0.0, ge=0)
    absolute: float = Field(0.0, ge=0)

    def allowed_difference(self, reported: float) -> float:
        """How far the events may fall from a reported value (``_ALLOWED_SQL`` in SQL)."""
        return max(self.absolute, self.relative * abs(reported))


# Tolerance.allowed_difference over the reconciliation's reported value (p) and rule (t).
_ALLOWED_SQL = "greatest(t.tolerance_absolute, t.tolerance_relative * abs(p.value))"


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    indicator: str
    event_type: str
    items: tuple[str, ...] = Field(min_length=1)
    measure: Literal["sum_quantity", "count_events"]
    tolerance: Tolerance | None = None


class Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    default_tolerance: Tolerance
    rules: tuple[Rule, ...]

    def tolerance_of(self, rule: Rule) -> Tolerance:
        return rule.tolerance or self.default_tolerance


class RulesError(ValueError):
    """The rules file contradicts the catalogue; the message names the rule."""


def check_rules(rules: Rules, catalogue: Catalogue) -> None:
    """Every rule names a quantitative indicator and items of its event type, units agree."""
    seen: set[str] = set()
    for rule in rules.rules:
        where = f"{RULES_PATH.name}: rule for {rule.indicator}"
        if rule.indicator in seen:
            raise RulesError(f"{where}: the indicator has two rules")
        seen.add(rule.indicator)
        indicator = catalogue.indicator_by_code.get(rule.indicator)
        if indicator is None or indicator.kind != "quantitative":
            raise RulesError(f"{where}: not a quantitative indicator of the catalogue")
        etype = catalogue.event_types.get(rule.event_type)
        if etype is None:
            raise RulesError(f"{where}: unknown event type {rule.event_type!r}")
        for code in rule.items:
            item = etype.items.get(code)
            if item is None:
                raise RulesError(f"{where}: {code!r} is not an item of {rule.event_type}")
            unit = item.unit if rule.measure == "sum_quantity" else "count"
            if unit != indicator.unit:
                raise RulesError(
                    f"{where}: {rule.measure} of {code} gives {unit}, the indicator is in "
                    f"{indicator.unit}"
                )


def load_rules(path: Path | None = None, catalogue: Catalogue | None = None) -> Rules:
    """Read and check a rules file (the project's by default, cached)."""
    if path is None and catalogue is None:
        return _default_rules()
    return _read(path or RULES_PATH, catalogue or load_catalogue())


def _read(path: Path, catalogue: Catalogue) -> Rules:
    with path.open(encoding="utf-8") as fh:
        rules = Rules.model_validate(yaml.safe_load(fh))
    check_rules(rules, catalogue)
    return rules


@cache
def _default_rules() -> Rules:
    return _read(RULES_PATH, load_catalogue())


def _lit(value: object) -> str:
    if isinstance(value, float | int):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def view_sql(rules: Rules | None = None, catalogue: Catalogue | None = None) -> dict[str, str]:
    """The SELECT of each aggregation view, with the rules compiled in as VALUES."""
    rules = rules or load_rules()
    catalogue = catalogue or load_catalogue()
    rows = []
    for rule in rules.rules:
        tol = rules.tolerance_of(rule)
        unit = catalogue.indicator_by_code[rule.indicator].unit
        for item in rule.items:
            parts = (rule.indicator, rule.event_type, item, rule.measure, unit)
            rows.append(
                "(" + ", ".join(_lit(v) for v in (*parts, tol.relative, tol.absolute)) + ")"
            )
    rule_table = (
        "(VALUES " + ", ".join(rows) + ") AS r(indicator_code, event_type, item, measure, "
        "unit, tolerance_relative, tolerance_absolute)"
    )
    reported = (
        "SELECT v.* FROM core_threat__indicator_values v JOIN raw_intake__submissions s "
        "ON s.submission_sha256 = v.submission_sha256 WHERE s.is_current"
    )
    events = (
        "SELECT e.cycle_id, e.country_iso3, r.indicator_code, "
        "CAST(sum(CASE WHEN r.measure = 'count_events' THEN 1 ELSE e.quantity END) AS DOUBLE) "
        "AS value, any_value(r.unit) AS unit, count(*) AS n_events, "
        "bool_or(e.is_unit_converted) AS is_unit_converted, max(e.reliability) AS reliability, "
        "max(e.credibility) AS credibility, min(e.submission_sha256) AS submission_sha256 "
        f"FROM core_threat__events e JOIN {rule_table} "
        "ON e.event_type = r.event_type AND e.item = r.item "
        "JOIN raw_intake__submissions s ON s.submission_sha256 = e.submission_sha256 "
        "WHERE s.is_current GROUP BY e.cycle_id, e.country_iso3, r.indicator_code"
    )
    scoring = (
        "SELECT cycle_id, country_iso3, indicator_code, value, unit, n_periods, "
        "is_unit_converted, reliability, credibility, trend_reported, submission_sha256, "
        "source_rows, 'reported' AS value_origin, CAST(NULL AS BIGINT) AS n_events "
        f"FROM ({reported}) "
        "UNION ALL "
        "SELECT a.cycle_id, a.country_iso3, a.indicator_code, a.value, a.unit, "
        "CAST(NULL AS INTEGER), a.is_unit_converted, a.reliability, a.credibility, "
        "CAST(NULL AS VARCHAR), a.submission_sha256, CAST(NULL AS INTEGER[]), 'events', "
        "a.n_events FROM core_threat__event_indicator_values a "
        f"ANTI JOIN ({reported}) p ON p.cycle_id = a.cycle_id "
        "AND p.country_iso3 = a.country_iso3 AND p.indicator_code = a.indicator_code"
    )
    tolerances = (
        "(SELECT DISTINCT indicator_code, tolerance_relative, tolerance_absolute "
        f"FROM {rule_table})"
    )
    reconciliation = (
        "SELECT p.cycle_id, p.country_iso3, p.indicator_code, p.value AS reported_value, "
        "a.value AS aggregated_value, a.n_events, a.value - p.value AS difference, "
        f"{_ALLOWED_SQL} AS allowed_difference, "
        f"abs(a.value - p.value) > {_ALLOWED_SQL} AS is_mismatch "
        f"FROM ({reported}) p JOIN core_threat__event_indicator_values a "
        "ON p.cycle_id = a.cycle_id AND p.country_iso3 = a.country_iso3 "
        f"AND p.indicator_code = a.indicator_code JOIN {tolerances} t "
        "ON t.indicator_code = p.indicator_code WHERE p.value IS NOT NULL"
    )
    return {
        "core_threat__event_indicator_values": events,
        "core_threat__scoring_values": scoring,
        "core_threat__reconciliation": reconciliation,
    }


def mismatches(con: duckdb.DuckDBPyConnection, cycle_id: str) -> pd.DataFrame:
    """Reported values that their events contradict beyond the rules' tolerance."""
    return con.execute(
        "SELECT * FROM core_threat__reconciliation WHERE cycle_id = ? AND is_mismatch "
        "ORDER BY country_iso3, indicator_code",
        [cycle_id],
    ).df()
