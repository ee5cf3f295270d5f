"""The DuckDB warehouse: table definitions, schema creation and connections.

Tables follow ``{layer}_{domain}__{name}`` (raw = as received, core = typed and
harmonised, out = scores). Every column is defined once in ``FIELDS`` with its type and
description; each table lists its columns, its grain and its primary key, and the DDL
and docs/warehouse.md are generated from these definitions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import duckdb
import pandas as pd

from ideal.audit import Action

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""Bump with every change to a table; ``ideal.migrations`` upgrades older warehouses."""

# Offline: a warehouse must never make DuckDB fetch an extension from the network.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@dataclass(frozen=True)
class Field:
    type: str
    description: str


FIELDS: dict[str, Field] = {
    # identifiers
    "cycle_id": Field("VARCHAR", "Assessment cycle identifier, e.g. '2025'."),
    "country_iso3": Field("VARCHAR", "ISO 3166-1 alpha-3 code of the reporting country."),
    "category_code": Field("VARCHAR", "Threat category code from schemas/catalogue.yaml."),
    "indicator_code": Field("VARCHAR", "Indicator code from schemas/catalogue.yaml."),
    "submission_sha256": Field("VARCHAR", "sha256 of the submitted file's bytes; identifies it."),
    "source_row": Field("INTEGER", "Row number the steward sees in the file (header = 1)."),
    "source_rows": Field("INTEGER[]", "Source rows (in the submission) a value was built from."),
    # cycles
    "period_year": Field("INTEGER", "Reporting year the cycle assesses."),
    "deadline": Field("DATE", "Submission deadline of the cycle."),
    "expected_countries": Field("VARCHAR[]", "ISO3 codes of the countries expected to submit."),
    "cycle_status": Field("VARCHAR", "open | closed | published."),
    "opened_at": Field("TIMESTAMP", "When the cycle was opened (UTC)."),
    # submissions
    "file_name": Field("VARCHAR", "File name as received (never used as a path)."),
    "received_at": Field("TIMESTAMP", "When the file was received (UTC)."),
    "size_bytes": Field("BIGINT", "Size of the submitted file in bytes."),
    "archive_path": Field("VARCHAR", "Path of the byte-for-byte copy in the archive."),
    "quarantine_path": Field("VARCHAR", "Path of the quarantined copy, if rejected."),
    "submission_kind": Field("VARCHAR", "indicators | events."),
    "submission_status": Field(
        "VARCHAR", "accepted | accepted_with_warnings | rejected | unreadable."
    ),
    "is_current": Field("BOOLEAN", "True for the latest accepted submission of its country."),
    "n_rows": Field("INTEGER", "Number of data rows in the file."),
    "n_errors": Field("INTEGER", "Number of blocking issues found."),
    "n_warnings": Field("INTEGER", "Number of non-blocking issues found."),
    # raw rows, kept as text exactly as received
    "country_raw": Field("VARCHAR", "country cell as received."),
    "period_raw": Field("VARCHAR", "period cell as received."),
    "indicator_raw": Field("VARCHAR", "indicator cell as received."),
    "value_raw": Field("VARCHAR", "value cell as received."),
    "unit_raw": Field("VARCHAR", "unit cell as received."),
    "source_raw": Field("VARCHAR", "source cell as received."),
    "reliability_raw": Field("VARCHAR", "reliability cell as received."),
    "credibility_raw": Field("VARCHAR", "credibility cell as received."),
    "trend_raw": Field("VARCHAR", "trend cell as received."),
    "notes_raw": Field("VARCHAR", "notes cell as received."),
    "date_raw": Field("VARCHAR", "date cell as received."),
    "admin1_raw": Field("VARCHAR", "admin1 cell as received."),
    "event_type_raw": Field("VARCHAR", "event_type cell as received."),
    "item_raw": Field("VARCHAR", "item cell as received."),
    "quantity_raw": Field("VARCHAR", "quantity cell as received."),
    # issues
    "issue_no": Field("INTEGER", "Sequence number of the issue within its submission."),
    "severity": Field("VARCHAR", "error (blocks the submission) | warning (accepted, shown)."),
    "column_name": Field("VARCHAR", "Canonical column the issue is about, if any."),
    "cell_value": Field("VARCHAR", "Offending value as received, if any."),
    "rule": Field("VARCHAR", "Machine-readable rule code, e.g. 'unknown_indicator'."),
    "params_json": Field("VARCHAR", "JSON parameters used to phrase the message in any language."),
    "message_en": Field("VARCHAR", "Message in English (other languages from rule + params)."),
    # reference
    "iso2": Field("VARCHAR", "ISO 3166-1 alpha-2 code."),
    "iso_numeric": Field("VARCHAR", "ISO 3166-1 numeric code, zero-padded."),
    "name_en": Field("VARCHAR", "Name in English."),
    "name_es": Field("VARCHAR", "Name in Spanish."),
    "name_pt": Field("VARCHAR", "Name in Portuguese."),
    "subregion": Field("VARCHAR", "UN M49 subregion."),
    "year": Field("INTEGER", "Calendar year."),
    "population": Field("BIGINT", "Total population (World Bank SP.POP.TOTL)."),
    "category_group": Field("VARCHAR", "Broader family of the category (drugs, persons, …)."),
    "indicator_kind": Field("VARCHAR", "quantitative | expert."),
    "unit": Field("VARCHAR", "Catalogue unit code of the value or quantity."),
    "direction": Field("TINYINT", "+1: higher is more threat; -1: higher is less threat."),
    "denominator": Field("VARCHAR", "Denominator code (e.g. population) or NULL."),
    "plausible_min": Field("DOUBLE", "Lower end of the plausible range, in unit."),
    "plausible_max": Field("DOUBLE", "Upper end of the plausible range, in unit."),
    "period_aggregation": Field("VARCHAR", "How sub-annual values combine: sum | mean."),
    # core values
    "value": Field("DOUBLE", "Annual value in the catalogue unit (converted if needed)."),
    "n_periods": Field("INTEGER", "Number of reported periods combined into the annual value."),
    "is_unit_converted": Field("BOOLEAN", "True if the reported unit was converted."),
    "reliability": Field(
        "VARCHAR", "Admiralty source reliability A-F (of an annual value: the worst of its rows)."
    ),
    "credibility": Field(
        "TINYINT",
        "Admiralty information credibility 1-6 (of an annual value: the worst of its rows).",
    ),
    "trend_reported": Field("VARCHAR", "Perceived trend for expert items: up | stable | down."),
    # core events
    "event_date": Field("DATE", "Date of the event (within the cycle's year)."),
    "admin1": Field("VARCHAR", "First administrative level where the event took place, as sent."),
    "event_type": Field("VARCHAR", "Event type code from schemas/catalogue.yaml (seizure, ...)."),
    "item": Field("VARCHAR", "Event item code from schemas/catalogue.yaml (cocaine, ...)."),
    "quantity": Field(
        "DOUBLE", "Quantity of the item in the event, in `unit` (converted if needed)."
    ),
    # scores
    "population_year": Field("INTEGER", "Year of the population figure used as denominator."),
    "denominator_value": Field("DOUBLE", "Denominator value (e.g. population), NULL if none."),
    "rate": Field("DOUBLE", "Value per denominator unit (e.g. per 100,000 inhabitants)."),
    "normalised_0_100": Field("DOUBLE", "Rate after direction and normalisation, 0-100."),
    "weight": Field("DOUBLE", "Weight of the element within its parent (methodology)."),
    "score_0_100": Field("DOUBLE", "Threat score 0-100 of a country in a category."),
    "quantitative_0_100": Field("DOUBLE", "Aggregate of the quantitative indicators, 0-100."),
    "expert_0_100": Field("DOUBLE", "Expert rating rescaled to 0-100."),
    "coverage_ratio": Field("DOUBLE", "Share of the element's indicators that were present."),
    "confidence_0_1": Field("DOUBLE", "Confidence 0-1 (grades x coverage)."),
    "previous_score_0_100": Field("DOUBLE", "Same score in the previous cycle, if any."),
    "change_0_100": Field("DOUBLE", "Score minus previous score (points)."),
    "rank_in_category": Field("INTEGER", "Rank of the country within the category (1 = worst)."),
    "severity_0_100": Field("DOUBLE", "Mean score where the threat occurs."),
    "spread_ratio": Field("DOUBLE", "Share of assessed countries the threat touches."),
    "n_countries_affected": Field("INTEGER", "Countries whose score reaches the spread threshold."),
    "n_countries_assessed": Field("INTEGER", "Countries with a score in the category."),
    "trend_0_100": Field("DOUBLE", "Trend component, 50 = stable, >50 growing."),
    "priority_0_100": Field("DOUBLE", "Regional priority score 0-100."),
    "priority_rank": Field("INTEGER", "Regional priority rank (1 = highest priority)."),
    "methodology_sha256": Field("VARCHAR", "sha256 of the methodology file used."),
    # rank uncertainty (Monte Carlo) and sensitivity
    "n_replicates": Field("INTEGER", "Number of Monte Carlo replicates."),
    "seed": Field("BIGINT", "Random seed of the Monte Carlo run (reproducible)."),
    "nominal_rank": Field("INTEGER", "Rank under the nominal methodology."),
    "mean_rank": Field("DOUBLE", "Mean rank over the Monte Carlo replicates."),
    "median_rank": Field("DOUBLE", "Median rank over the Monte Carlo replicates."),
    "q05_rank": Field("DOUBLE", "5th percentile of the rank over the replicates."),
    "q95_rank": Field("DOUBLE", "95th percentile of the rank over the replicates."),
    "p_top3": Field("DOUBLE", "Share of replicates in which the category ranks in the top 3."),
    "uncertain_element": Field(
        "VARCHAR", "The uncertain choice held at its nominal value (e.g. 'weights')."
    ),
    "mean_abs_rank_shift": Field(
        "DOUBLE", "Mean absolute rank change when the element is removed from the analysis."
    ),
    # drivers of change
    "driver_rank": Field("INTEGER", "Order of the driver (1 = largest contribution)."),
    "contribution_points": Field(
        "DOUBLE", "Points of the category's change since the previous cycle due to the indicator."
    ),
    "mean_relative_change": Field(
        "DOUBLE", "Mean relative change of the indicator's rate across countries (0.1 = +10%)."
    ),
    # run manifests
    "run_at": Field("TIMESTAMP", "When the run finished (UTC)."),
    "package_version": Field("VARCHAR", "Version of ideal that produced the result."),
    "methodology_name": Field("VARCHAR", "Name of the methodology file."),
    "methodology_version": Field("VARCHAR", "Version of the methodology file."),
    "input_sha256s": Field("VARCHAR[]", "sha256 of every submission the run used."),
    "flow_run_id": Field("VARCHAR", "Prefect flow run id, if run under Prefect."),
    # cycle revisions (ideal.cycles)
    "revision": Field("INTEGER", "Revision of a cycle's scores (1, then +1 per re-scoring)."),
    "started_at": Field("TIMESTAMP", "When the revision was started (UTC)."),
    "is_published": Field("BOOLEAN", "True once the revision is published (frozen)."),
    "published_at": Field("TIMESTAMP", "When the revision was published (UTC)."),
    "reason": Field("VARCHAR", "Why a new revision of a published cycle was scored."),
    # audit log (ideal.audit)
    "action_no": Field("BIGINT", "Sequence number of the action in the audit log (1, 2, ...)."),
    "acted_at": Field("TIMESTAMP", "When the action was recorded (UTC)."),
    "actor": Field("VARCHAR", "Who acted: the operating-system user, and host."),
    "action": Field("VARCHAR", " | ".join(get_args(Action)) + "."),
    "details_json": Field("VARCHAR", "JSON details of the action (status, counts, ...)."),
    # views: event aggregation, reconciliation, lineage (ideal.aggregation, ideal.lineage)
    "value_origin": Field(
        "VARCHAR", "reported (the country's indicator file) | events (aggregated from events)."
    ),
    "n_events": Field("BIGINT", "Number of event records an aggregated value was built from."),
    "reported_value": Field("DOUBLE", "Value the country reported directly, in unit."),
    "aggregated_value": Field("DOUBLE", "Same indicator aggregated from the country's events."),
    "difference": Field("DOUBLE", "aggregated_value - reported_value."),
    "allowed_difference": Field(
        "DOUBLE", "Largest |difference| accepted (tolerance of schemas/aggregation_rules.yaml)."
    ),
    "is_mismatch": Field("BOOLEAN", "True when |difference| exceeds allowed_difference."),
    "is_value_unchanged": Field(
        "BOOLEAN", "True when the scored value still equals the warehouse's current value."
    ),
}


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    # Million-row tables declare their key but build no index for it: an ART index costs
    # more than the load itself, and the loader makes the key unique by construction.
    is_key_indexed: bool = True
    # Append-only tables (the audit log) have no update or delete path in ideal.
    is_append_only: bool = False

    @property
    def layer(self) -> str:
        return self.name.split("_", 1)[0]

    def ddl(self) -> str:
        cols = [
            f"    {c} {FIELDS[c].type}{' NOT NULL' if c in self.key else ''}" for c in self.columns
        ]
        key = [f"    PRIMARY KEY ({', '.join(self.key)})"] if self.is_key_indexed else []
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n" + ",\n".join(cols + key) + "\n)"


TABLES: tuple[Table, ...] = (
    Table(
        "core_cycle__cycles",
        "one row per assessment cycle",
        ("cycle_id",),
        ("cycle_id", "period_year", "deadline", "expected_countries", "cycle_status", "opened_at"),
    ),
    Table(
        "raw_intake__submissions",
        "one row per distinct file received (identical bytes are one submission)",
        ("submission_sha256",),
        (
            "submission_sha256",
            "cycle_id",
            "file_name",
            "received_at",
            "size_bytes",
            "archive_path",
            "quarantine_path",
            "submission_kind",
            "country_iso3",
            "submission_status",
            "is_current",
            "n_rows",
            "n_errors",
            "n_warnings",
        ),
    ),
    Table(
        "raw_intake__indicator_rows",
        "one row per data row of an accepted submission, every cell as received",
        ("submission_sha256", "source_row"),
        (
            "submission_sha256",
            "source_row",
            "country_raw",
            "period_raw",
            "indicator_raw",
            "value_raw",
            "unit_raw",
            "source_raw",
            "reliability_raw",
            "credibility_raw",
            "trend_raw",
            "notes_raw",
        ),
    ),
    Table(
        "raw_intake__event_rows",
        "one row per data row of an accepted event-record submission, every cell as received",
        ("submission_sha256", "source_row"),
        (
            "submission_sha256",
            "source_row",
            "country_raw",
            "date_raw",
            "admin1_raw",
            "event_type_raw",
            "item_raw",
            "quantity_raw",
            "unit_raw",
            "source_raw",
            "reliability_raw",
            "credibility_raw",
            "notes_raw",
        ),
        is_key_indexed=False,
    ),
    Table(
        "raw_intake__issues",
        "one row per validation finding on a submission",
        ("submission_sha256", "issue_no"),
        (
            "submission_sha256",
            "issue_no",
            "severity",
            "source_row",
            "column_name",
            "cell_value",
            "rule",
            "params_json",
            "message_en",
        ),
    ),
    Table(
        "core_ref__countries",
        "one row per country ideal knows (the 33 states of Latin America and the Caribbean)",
        ("country_iso3",),
        ("country_iso3", "iso2", "iso_numeric", "name_en", "name_es", "name_pt", "subregion"),
    ),
    Table(
        "core_ref__population",
        "one row per country and year",
        ("country_iso3", "year"),
        ("country_iso3", "year", "population"),
    ),
    Table(
        "core_ref__categories",
        "one row per threat category of the catalogue",
        ("category_code",),
        ("category_code", "category_group", "name_en", "name_es", "name_pt"),
    ),
    Table(
        "core_ref__indicators",
        "one row per indicator of the catalogue",
        ("indicator_code",),
        (
            "indicator_code",
            "category_code",
            "indicator_kind",
            "unit",
            "direction",
            "denominator",
            "plausible_min",
            "plausible_max",
            "period_aggregation",
            "name_en",
            "name_es",
            "name_pt",
        ),
    ),
    Table(
        "core_threat__indicator_values",
        "one annual value per cycle, country and indicator, from the current submission",
        ("cycle_id", "country_iso3", "indicator_code"),
        (
            "cycle_id",
            "country_iso3",
            "indicator_code",
            "value",
            "unit",
            "n_periods",
            "is_unit_converted",
            "reliability",
            "credibility",
            "trend_reported",
            "submission_sha256",
            "source_rows",
        ),
    ),
    Table(
        "core_threat__events",
        "one row per event (seizure, incident, identified victim) of a country's current "
        "accepted event-record submission in a cycle",
        ("submission_sha256", "source_row"),
        (
            "cycle_id",
            "country_iso3",
            "event_date",
            "admin1",
            "event_type",
            "item",
            "quantity",
            "unit",
            "is_unit_converted",
            "reliability",
            "credibility",
            "submission_sha256",
            "source_row",
        ),
        is_key_indexed=False,
    ),
    Table(
        "out_threat__indicator_scores",
        "one row per cycle, country and indicator that entered the scoring",
        ("cycle_id", "country_iso3", "indicator_code"),
        (
            "cycle_id",
            "country_iso3",
            "indicator_code",
            "category_code",
            "value",
            "population_year",
            "denominator_value",
            "rate",
            "normalised_0_100",
            "weight",
            "methodology_sha256",
        ),
    ),
    Table(
        "out_threat__category_scores",
        "one row per cycle, country and category",
        ("cycle_id", "country_iso3", "category_code"),
        (
            "cycle_id",
            "country_iso3",
            "category_code",
            "score_0_100",
            "quantitative_0_100",
            "expert_0_100",
            "coverage_ratio",
            "confidence_0_1",
            "previous_score_0_100",
            "change_0_100",
            "rank_in_category",
            "methodology_sha256",
        ),
    ),
    Table(
        "out_threat__regional_priorities",
        "one row per cycle and category: the region's ranked priorities",
        ("cycle_id", "category_code"),
        (
            "cycle_id",
            "category_code",
            "priority_0_100",
            "priority_rank",
            "severity_0_100",
            "spread_ratio",
            "n_countries_affected",
            "n_countries_assessed",
            "trend_0_100",
            "confidence_0_1",
            "coverage_ratio",
            "previous_score_0_100",
            "change_0_100",
            "methodology_sha256",
        ),
    ),
    Table(
        "out_threat__priority_uncertainty",
        "one row per cycle and category: Monte Carlo rank statistics of the regional priority",
        ("cycle_id", "category_code"),
        (
            "cycle_id",
            "category_code",
            "nominal_rank",
            "mean_rank",
            "median_rank",
            "q05_rank",
            "q95_rank",
            "p_top3",
            "n_replicates",
            "seed",
            "methodology_sha256",
        ),
    ),
    Table(
        "out_threat__priority_sensitivity",
        "one row per cycle, category and uncertain element: rank shift when it is removed",
        ("cycle_id", "category_code", "uncertain_element"),
        (
            "cycle_id",
            "category_code",
            "uncertain_element",
            "mean_abs_rank_shift",
            "n_replicates",
            "seed",
            "methodology_sha256",
        ),
    ),
    Table(
        "out_threat__priority_drivers",
        "one row per cycle, category and indicator among the top drivers of its change",
        ("cycle_id", "category_code", "indicator_code"),
        (
            "cycle_id",
            "category_code",
            "driver_rank",
            "indicator_code",
            "contribution_points",
            "mean_relative_change",
            "methodology_sha256",
        ),
    ),
    Table(
        "out_run__manifests",
        "one row per cycle: the latest scoring run and everything needed to reproduce it",
        ("cycle_id",),
        (
            "cycle_id",
            "run_at",
            "package_version",
            "methodology_name",
            "methodology_version",
            "methodology_sha256",
            "input_sha256s",
            "flow_run_id",
        ),
    ),
    Table(
        "core_cycle__revisions",
        "one row per cycle and revision of its scores; the live out_ tables hold the latest",
        ("cycle_id", "revision"),
        ("cycle_id", "revision", "started_at", "is_published", "published_at", "reason"),
    ),
    Table(
        "core_audit__actions",
        "one row per action on the warehouse (append-only): who did what, when, to what",
        ("action_no",),
        (
            "action_no",
            "acted_at",
            "actor",
            "flow_run_id",
            "action",
            "cycle_id",
            "revision",
            "country_iso3",
            "submission_sha256",
            "details_json",
        ),
        is_append_only=True,
    ),
)


def published_table(live: Table) -> Table:
    """The frozen copy of an out_ table: its rows per published revision (ideal.cycles)."""
    rest = tuple(c for c in live.columns if c != "cycle_id")
    return Table(
        f"{live.name}_published",
        f"{live.grain}, as published: one copy per published revision",
        ("cycle_id", "revision", *(k for k in live.key if k != "cycle_id")),
        ("cycle_id", "revision", *rest),
    )


# Every out_ table gets its frozen copy, so a table added later is covered too.
PUBLISHED: dict[str, Table] = {t.name: published_table(t) for t in TABLES if t.layer == "out"}
"""Live out_ table name -> its ``…_published`` copy (``ideal.cycles.snapshot``)."""
TABLES += tuple(PUBLISHED.values())

TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


@dataclass(frozen=True)
class View:
    """A SQL view: its SQL lives in the module named by ``source``; its columns in FIELDS."""

    name: str
    grain: str
    columns: tuple[str, ...]
    source: str


VIEWS: tuple[View, ...] = (
    View(
        "core_threat__event_indicator_values",
        "one row per cycle, country and indicator aggregated from the country's current "
        "event records (rules: schemas/aggregation_rules.yaml)",
        (
            "cycle_id",
            "country_iso3",
            "indicator_code",
            "value",
            "unit",
            "n_events",
            "is_unit_converted",
            "reliability",
            "credibility",
            "submission_sha256",
        ),
        "ideal.aggregation",
    ),
    View(
        "core_threat__scoring_values",
        "one row per cycle, country and indicator that scoring reads: the value reported "
        "in the country's current indicator file, else the one aggregated from its events",
        # the indicator values' own columns, plus where each value came from
        (*TABLE_BY_NAME["core_threat__indicator_values"].columns, "value_origin", "n_events"),
        "ideal.aggregation",
    ),
    View(
        "core_threat__reconciliation",
        "one row per cycle, country and indicator both reported directly and aggregated "
        "from events: the difference and whether it exceeds the rules' tolerance",
        (
            "cycle_id",
            "country_iso3",
            "indicator_code",
            "reported_value",
            "aggregated_value",
            "n_events",
            "difference",
            "allowed_difference",
            "is_mismatch",
        ),
        "ideal.aggregation",
    ),
    View(
        "out_threat__lineage",
        "one row per cycle, country and indicator scored: the category score it feeds, its "
        "rate, normalised value and weight, and the submission (file, sha256, rows) it came from",
        (
            "cycle_id",
            "country_iso3",
            "category_code",
            "score_0_100",
            "rank_in_category",
            "indicator_code",
            "value",
            "unit",
            "denominator_value",
            "rate",
            "normalised_0_100",
            "weight",
            "value_origin",
            "submission_sha256",
            "file_name",
            "received_at",
            "source_rows",
            "n_events",
            "is_value_unchanged",
            "methodology_sha256",
        ),
        "ideal.lineage",
    ),
)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that is missing and record the schema version."""
    con.execute("CREATE TABLE IF NOT EXISTS meta__schema (schema_version INTEGER NOT NULL)")
    for table in TABLES:
        con.execute(table.ddl())
    row = con.execute("SELECT max(schema_version) FROM meta__schema").fetchone()
    if row is None or row[0] is None:
        con.execute("INSERT INTO meta__schema VALUES (?)", [SCHEMA_VERSION])


class WarehouseError(RuntimeError):
    """A problem with the warehouse file that the user can act on."""


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One explicit transaction: committed when the block ends, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


@contextmanager
def borrowed_or_private(
    con: duckdb.DuckDBPyConnection | None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``con`` as it is, or a private in-memory DuckDB (offline) closed after the block."""
    if con is not None:
        yield con
        return
    own = duckdb.connect(config=dict(DUCKDB_CONFIG))
    try:
        yield own
    finally:
        own.close()


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse and close it after.

    A writable open holds the cross-process writer lock (``ideal.locking``) until it
    closes, creates what is missing and upgrades an older schema (``ideal.migrations``).
    A read-only open waits a bounded time for a writer in another process. A warehouse
    made by a newer ideal is refused. Storage failures (disk full, read-only folder)
    become a WarehouseError saying so; DuckDB has rolled back the failed transaction.
    """
    from ideal import locking, migrations  # late: both import this module

    if read_only and not path.exists():
        raise WarehouseError(
            f"No warehouse at {path}. Run an ingest or `ideal demo` first, or set IDEAL_HOME."
        )
    if read_only:
        con = _open(path, True, time.monotonic() + locking.read_wait())
        try:
            try:
                migrations.prepare(con, path, read_only=True)
            except migrations.NeedsUpgrade:
                con.close()
                with connect(path):  # upgrade once, under the writer lock
                    pass
                con = _open(path, True, time.monotonic() + locking.read_wait())
                migrations.prepare(con, path, read_only=True)
            yield con
        finally:
            con.close()
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(_storage_message(path, exc)) from exc
    with locking.writer_lock(path) as deadline:
        con = _open(path, False, deadline)
        try:
            migrations.prepare(con, path, read_only=False)
            yield con
        except (duckdb.IOException, duckdb.FatalException) as exc:
            raise WarehouseError(_storage_message(path, exc)) from exc
        finally:
            con.close()


def _open(path: Path, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
    from ideal import locking

    try:
        return locking.open_duckdb(path, read_only, deadline)
    except (duckdb.IOException, OSError) as exc:
        raise WarehouseError(_storage_message(path, exc)) from exc
    except duckdb.Error as exc:  # not a DuckDB file, or a damaged one
        raise WarehouseError(f"Cannot open the warehouse {path}: {exc}") from exc


_STORAGE_CAUSES = ("No space left on device", "Read-only file system", "Permission denied")


def _storage_message(path: Path, exc: BaseException) -> str:
    """One line: what failed, and that the step can simply be run again."""
    text = " ".join(str(exc).split())  # DuckDB's messages span lines
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename or path.parent}"
    else:
        text = next((c for c in _STORAGE_CAUSES if c in text), text[:200])
    return (
        f"Cannot write the warehouse {path} ({text}). Check that IDEAL_HOME "
        f"({path.parent}) is a writable folder with free space. The failed step was not "
        "recorded, nothing is half-written: run it again once that is fixed."
    )


def replace_where(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    where: str,
    params: list[object],
) -> int:
    """Delete the rows matching ``where`` and insert ``frame`` (columns in table order).

    Runs inside the caller's transaction, if any. Returns the number of rows inserted.
    """
    spec = TABLE_BY_NAME[table]
    if spec.is_append_only:
        raise ValueError(f"{table} is append-only: add rows with ideal.audit.record")
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: frame lacks columns {missing}")
    con.execute(f"DELETE FROM {table} WHERE {where}", params)
    if frame.empty:
        return 0
    view = f"_incoming_{table}"
    con.register(view, frame[list(spec.columns)])
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return len(frame)


def markdown_docs() -> str:
    """docs/warehouse.md body: every table with its grain, key and columns."""
    lines = [
        "# Warehouse tables",
        "",
        "Generated from `ideal/warehouse.py`; do not edit by hand.",
        "",
        *DOCS_INTRO.strip().splitlines(),
        "",
    ]
    for t in TABLES:
        key = f"Key: `({', '.join(t.key)})`"
        if not t.is_key_indexed:
            key += " (unique by construction; not indexed)"
        if t.is_append_only:
            key += " Append-only: ideal never updates or deletes its rows"
        lines += [f"## `{t.name}`", "", f"Grain: {t.grain}. {key}.", ""]
        lines += _column_table(t.columns)
    lines += ["# Views", ""]
    for v in VIEWS:
        lines += [f"## `{v.name}` (view)", "", f"Grain: {v.grain}. SQL: `{v.source}`.", ""]
        lines += _column_table(v.columns)
    return "\n".join(lines)


def _column_table(columns: tuple[str, ...]) -> list[str]:
    """The markdown table of a table's or view's columns, from FIELDS."""
    rows = [
        f"| `{c}` | {FIELDS[c].type} | {FIELDS[c].description.replace('|', '/')} |" for c in columns
    ]
    return ["| column | type | description |", "|---|---|---|", *rows, ""]


DOCS_INTRO = """
Layers: `raw_` holds every row as received (with its submission's sha256 and the row
number the steward sees), `core_` the typed and harmonised records, `out_` what scoring
concluded. Names are `{layer}_{domain}__{name}`; every column is defined once, and each
table's key is a PRIMARY KEY unless marked otherwise. `meta__schema` records the schema
version (`ideal.migrations` upgrades an older warehouse when it is opened for writing and
refuses one made by a newer ideal).

Cycles and revisions: a cycle is `open`, `closed` or `published`. The live `out_` tables
hold each cycle's current revision of its scores. Publishing copies them, in the same
transaction, to their `…_published` twins (same columns plus `revision`); a published
cycle is scored again only as a new revision, and earlier published revisions stay.
`core_audit__actions` logs who did what and when (append-only).

Event records are aggregated to indicators by the views below, from the rules in
`schemas/aggregation_rules.yaml`; `out_threat__lineage` traces every score to its files.

One process writes at a time (lock file `warehouse.duckdb.lock` beside the warehouse);
while it writes, DuckDB lets no other process open the file. To query during long loads,
restore a copy made with `ideal backup DIR` (`ideal restore DIR --home COPY`), or export a
cycle with `ideal export --cycle ID --format parquet DIR`.
"""
