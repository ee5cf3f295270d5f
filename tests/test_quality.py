"""Table quality with real Great Expectations suites: each rule, its row and its column.

Files are written as CSV text, read by the real readers and validated by
``validate_submission``, so row numbers are the ones the steward sees (header = row 1).
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import re
from collections.abc import Collection, Mapping

import pytest

from ideal import quality, validation
from ideal.catalogue import LANGS, load_catalogue
from ideal.contract import ContractContext
from ideal.messages import RULES
from ideal.readers import read_submission
from ideal.reference import default_resolver
from ideal.validation import Issue, ValidationResult, validate_submission

CATALOGUE = load_catalogue()
BY_CODE = CATALOGUE.indicator_by_code
CODES = [i.code for i in CATALOGUE.indicators]
HEADER = "country,period,indicator,value,unit,source,reliability,credibility,trend,notes"
TABLE_RULES = set(quality.load_rules().rules.by_code())
INDICATOR_RULES = {
    c for c, r in quality.load_rules().rules.by_code().items() if "indicators" in r.kinds
}


def line(code: str, value: object, country: str = "COL", period: str = "2025") -> str:
    return f"{country},{period},{code},{value},{BY_CODE[code].unit},DIJIN,B,2,,"


def full_file(country: str = "COL", **values: object) -> list[str]:
    """One plausible row per catalogue indicator; ``values`` overrides some of them."""
    default = {"expert": 5, "quantitative": 10}
    return [
        line(i.code, values.get(i.code, default[i.kind]), country) for i in CATALOGUE.indicators
    ]


def validate(
    lines: list[str],
    *,
    expected_countries: tuple[str, ...] = (),
    previous: Mapping[str, Mapping[str, float]] | None = None,
    expected_indicators: Mapping[str, Collection[str]] | None = None,
    preamble: str = "",
) -> ValidationResult:
    data = (preamble + HEADER + "\n" + "\n".join(lines) + "\n").encode("utf-8")
    raw = read_submission(data)
    ctx = ContractContext(
        CATALOGUE, default_resolver(), "2025", 2025, raw.decimal, dt.date(2026, 11, 28)
    )
    return validate_submission(
        raw,
        ctx,
        expected_countries,
        previous=previous,
        expected_indicators=expected_indicators,
    )


def table(result: ValidationResult, rule: str) -> list[Issue]:
    return [i for i in result.issues if i.rule == rule]


def test_a_complete_plausible_file_has_no_table_findings() -> None:
    result = validate(full_file(), expected_countries=("COL", "PER"))
    assert [i.rule for i in result.issues if i.rule in TABLE_RULES] == []
    assert result.status == "accepted" and result.country_iso3 == "COL"


# -- each rule: severity, row, column ---------------------------------------------------
def test_duplicate_rows_are_errors_on_the_later_rows() -> None:
    lines = full_file()
    lines += [lines[0], lines[0].replace(",10,", ",12,")]  # rows 46 and 47 repeat row 2
    result = validate(lines)
    found = table(result, "duplicate_row")
    assert [(i.severity, i.row, i.column) for i in found] == [
        ("error", 46, "indicator"),
        ("error", 47, "indicator"),
    ]
    assert found[0].params == {"indicator": CODES[0], "period": "2025", "first_row": 2}
    assert result.status == "rejected"
    # the first row counts; the repeats do not change the annual value
    assert next(a for a in result.annual if a.indicator_code == CODES[0]).value == 10


def test_one_country_per_file() -> None:
    lines = full_file()
    lines[3] = lines[3].replace("COL,", "Perú,", 1)
    result = validate(lines, expected_countries=("COL",))
    [found] = table(result, "multiple_countries")
    assert (found.severity, found.row, found.column) == ("error", None, "country")
    assert found.params == {"countries": "COL, PER"}
    assert table(result, "country_not_expected") == []  # judged once there is one country
    assert result.country_iso3 is None and result.status == "rejected"


def test_a_country_not_expected_in_the_cycle_is_a_warning() -> None:
    result = validate(full_file(), expected_countries=("PER", "BRA"))
    [found] = table(result, "country_not_expected")
    assert found.severity == "warning"
    assert found.params == {"country": "COL", "cycle": "2025"}
    assert "COL" in found.message("es")[0] and "2025" in found.message("es")[0]
    assert result.status == "accepted_with_warnings"


def test_missing_indicators_are_warnings_in_catalogue_order() -> None:
    left_out = {CODES[5], CODES[1]}
    lines = [ln for ln in full_file() if ln.split(",")[2] not in left_out]
    found = table(validate(lines), "indicator_not_reported")
    assert [(i.severity, i.row, i.column, i.params["indicator"]) for i in found] == [
        ("warning", None, "indicator", CODES[1]),
        ("warning", None, "indicator", CODES[5]),
    ]
    assert BY_CODE[CODES[1]].name.pt in found[0].message("pt")[0]


def test_every_missing_indicator_is_reported_beyond_gx_list_of_20() -> None:
    found = table(validate([line(CODES[0], 10)]), "indicator_not_reported")
    assert [i.params["indicator"] for i in found] == CODES[1:]  # 43 > GX's 20


def test_completeness_follows_the_indicators_expected_of_the_country() -> None:
    lines = [line(CODES[0], 10), line(CODES[1], 10)]
    expected = {"COL": [CODES[0], CODES[2]], "PER": CODES}
    found = table(validate(lines, expected_indicators=expected), "indicator_not_reported")
    assert [i.params["indicator"] for i in found] == [CODES[2]]


def test_an_annual_value_outside_the_plausible_range_is_a_warning() -> None:
    result = validate(full_file(integrity_index_0_100=350), preamble="Ministerio,,\n")
    [found] = table(result, "implausible_value")
    row = 2 + 1 + CODES.index("integrity_index_0_100")  # a notes line above the header
    assert (found.severity, found.row, found.column, found.value) == (
        "warning",
        row,
        "value",
        "350",
    )
    assert found.params == {"indicator": "integrity_index_0_100", "low": 0.0, "high": 100.0}
    assert result.status == "accepted_with_warnings"


def test_quarters_of_a_summed_indicator_are_judged_by_their_total() -> None:
    high = BY_CODE["kidnappings_count"].plausible[1]
    quarter = int(high / 4) + 1  # each quarter plausible, the year not
    lines = [ln for ln in full_file() if ",kidnappings_count," not in ln]
    lines += [line("kidnappings_count", quarter, period=f"2025-Q{q}") for q in (1, 2, 3, 4)]
    [found] = table(validate(lines), "implausible_value")
    assert (found.row, found.column, found.value) == (len(CODES) + 1, "value", str(quarter * 4))


def test_quarters_of_an_averaged_indicator_are_judged_one_by_one() -> None:
    code = "thb_victims_minors_pct"
    lines = [ln for ln in full_file() if f",{code}," not in ln]
    lines += [
        line(code, v, period=f"2025-Q{q}")
        for q, v in zip((1, 2, 3, 4), (20, 30, 140, 10), strict=True)
    ]
    [found] = table(validate(lines), "implausible_value")
    assert (found.row, found.value) == (len(CODES) + 3, "140")  # the third quarter's row


# -- jumps from the previous cycle ------------------------------------------------------
def test_a_jump_from_the_previous_cycle_is_a_warning() -> None:
    code = "cocaine_seized_kg"
    previous = {"COL": {code: 1500.0, "kidnappings_count": 4.0}, "PER": {code: 10.0}}
    result = validate(full_file(cocaine_seized_kg=4800, kidnappings_count=13), previous=previous)
    [found] = table(result, "value_jump")
    assert (found.severity, found.row, found.column, found.value) == (
        "warning",
        2 + CODES.index(code),
        "value",
        "4800",
    )
    assert found.params == {"indicator": code, "annual": 4800.0, "previous": 1500.0, "ratio": 3.0}
    message = found.message("es")[0]
    assert "4.800" in message and "1.500" in message and "ciclo anterior" in message
    assert result.status == "accepted_with_warnings"  # kidnappings 4 -> 13: too small


@pytest.mark.parametrize(
    ("before", "now", "jump"),
    [
        (1500.0, 4000, False),
        (1500.0, 400, True),
        (0.0, 500, True),
        (50.0, 0, False),
        (0.0, 0, False),
    ],
)
def test_jump_threshold_both_ways_and_minimum_size(before: float, now: int, jump: bool) -> None:
    # kg: minimum size 100 (schemas/quality_rules.yaml); 50 -> 0 stays below it
    result = validate(
        full_file(cocaine_seized_kg=now), previous={"COL": {"cocaine_seized_kg": before}}
    )
    assert bool(table(result, "value_jump")) is jump


def test_an_implausible_value_is_not_also_reported_as_a_jump() -> None:
    previous = {"COL": {"integrity_index_0_100": 35.0}}
    result = validate(full_file(integrity_index_0_100=350), previous=previous)
    assert [i.rule for i in result.issues] == ["implausible_value"]


def test_no_jump_warning_without_a_previous_cycle() -> None:
    assert table(validate(full_file(cocaine_seized_kg=10**6)), "value_jump") == []


# -- nothing lost past GX's limits ----------------------------------------------------------
COUNTRIES = ["ARG", "BOL", "BRA", "CHL", "COL", "CRI", "DOM", "ECU", "SLV", "GTM", "HND", "MEX"]


def test_more_than_200_implausible_rows_are_all_reported() -> None:
    quantitative = [i for i in CATALOGUE.indicators if i.kind == "quantitative"][:25]
    lines = [
        line(i.code, int(i.plausible[1] * 2), country)
        for country in COUNTRIES
        for i in quantitative
    ]
    result = validate(lines)
    found = table(result, "implausible_value")
    assert len(lines) == 300 and len(found) == 300
    assert sorted(i.row for i in found if i.row) == list(range(2, 302))


def test_more_than_200_duplicate_rows_are_all_reported() -> None:
    lines = [line(CODES[0], n) for n in range(1, 252)]
    found = table(validate(lines), "duplicate_row")
    assert [i.row for i in found] == list(range(3, 253))
    assert {i.params["first_row"] for i in found} == {2}


def test_a_short_gx_list_is_completed() -> None:
    """Were GX to cap its list of unexpected rows, the missing ones are still found."""
    lines = [line(CODES[0], n) for n in range(1, 252)]
    lines += [line(i.code, int(i.plausible[1] * 2), "PER") for i in CATALOGUE.indicators[:40]]
    result = validate(lines)
    frame = quality.table_frame(result.rows, result.annual, CATALOGUE)
    suite = quality.build_suite("indicators", CATALOGUE, with_expected_countries=False)
    run = quality._validate(suite, frame, {"expected_indicators": CODES})
    checked = 0
    for r in run.results:
        listed = r.result.get("unexpected_index_list")
        if r.success or not listed:
            continue
        full = quality.unexpected_rows(r, frame, {})
        r.result["unexpected_index_list"] = listed[:3]  # as a capped GX would
        assert quality.unexpected_rows(r, frame, {}) == full
        checked += 1
    assert checked >= 2  # duplicates and at least one range


# -- the suites and the rules file ------------------------------------------------------------
def test_the_suite_covers_every_catalogue_indicator_with_its_range() -> None:
    suite = quality.build_suite("indicators", CATALOGUE)
    ranges: dict[str, tuple[float, float]] = {}
    for e in suite.expectations:
        if e.meta["rule"] == "implausible_value":
            for code in e.meta["indicators"]:
                assert code not in ranges, f"{code} judged twice"
                ranges[code] = (e.min_value, e.max_value)
    assert ranges == {i.code: i.plausible for i in CATALOGUE.indicators}
    assert {e.meta["rule"] for e in suite.expectations} == INDICATOR_RULES


def test_suite_thresholds_and_severities_come_from_the_rules_file() -> None:
    rules = quality.load_rules()
    suite = quality.build_suite("indicators", CATALOGUE)
    [jump] = [e for e in suite.expectations if e.meta["rule"] == "value_jump"]
    assert jump.max_value == rules.rules.value_jump.ratio
    for e in suite.expectations:
        rule = rules.rules.by_code()[e.meta["rule"]]
        assert e.severity == ("critical" if rule.severity == "error" else "warning")


def test_context_and_suites_are_made_once() -> None:
    rules = quality.load_rules()
    assert quality._engine() is quality._engine()
    first = quality._suite("indicators", CATALOGUE, rules, True, True)
    assert quality._suite("indicators", CATALOGUE, rules, True, True) is first


def test_rules_file_and_messages_agree() -> None:
    rules = quality.load_rules()
    for code, rule in rules.rules.by_code().items():
        assert code in RULES, f"{code} has no message in ideal/messages.py"
        assert RULES[code].severity == rule.severity
        for lang in LANGS:
            assert RULES[code].message[lang] and RULES[code].hint[lang]
            described = rule.describe(lang)
            assert described and not re.search(r"[{}]", described), described
    assert "3" in rules.rules.value_jump.describe("es")
    rules.check_units(CATALOGUE)


def test_a_rules_file_that_contradicts_the_messages_is_refused() -> None:
    data = quality.load_rules().model_dump(mode="json")
    data["rules"]["implausible_value"]["severity"] = "error"
    with pytest.raises(ValueError, match="implausible_value"):
        quality.QualityRules.model_validate(data)


def test_gx_telemetry_is_switched_off_before_gx_is_imported() -> None:
    """ideal.quality sets GX_ANALYTICS_ENABLED above its GX imports; nothing else imports GX."""
    tree = ast.parse(inspect.getsource(quality))
    first_gx = next(
        n.lineno
        for n in tree.body
        if isinstance(n, ast.Import | ast.ImportFrom) and "great_expectations" in ast.unparse(n)
    )
    setting = next(n.lineno for n in tree.body if "GX_ANALYTICS_ENABLED" in ast.unparse(n))
    assert setting < first_gx
    assert "great_expectations" not in inspect.getsource(validation)
