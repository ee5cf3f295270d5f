-- The warehouse schema as ideal created it at schema version 1 (frozen for the
-- migration test: tests/test_warehouse_migrations.py). Do not edit.
CREATE TABLE IF NOT EXISTS meta__schema (schema_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS core_cycle__cycles (
    cycle_id VARCHAR NOT NULL,
    period_year INTEGER,
    deadline DATE,
    expected_countries VARCHAR[],
    cycle_status VARCHAR,
    opened_at TIMESTAMP,
    PRIMARY KEY (cycle_id)
);
CREATE TABLE IF NOT EXISTS raw_intake__submissions (
    submission_sha256 VARCHAR NOT NULL,
    cycle_id VARCHAR,
    file_name VARCHAR,
    received_at TIMESTAMP,
    size_bytes BIGINT,
    archive_path VARCHAR,
    quarantine_path VARCHAR,
    submission_kind VARCHAR,
    country_iso3 VARCHAR,
    submission_status VARCHAR,
    is_current BOOLEAN,
    n_rows INTEGER,
    n_errors INTEGER,
    n_warnings INTEGER,
    PRIMARY KEY (submission_sha256)
);
CREATE TABLE IF NOT EXISTS raw_intake__indicator_rows (
    submission_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    country_raw VARCHAR,
    period_raw VARCHAR,
    indicator_raw VARCHAR,
    value_raw VARCHAR,
    unit_raw VARCHAR,
    source_raw VARCHAR,
    reliability_raw VARCHAR,
    credibility_raw VARCHAR,
    trend_raw VARCHAR,
    notes_raw VARCHAR,
    PRIMARY KEY (submission_sha256, source_row)
);
CREATE TABLE IF NOT EXISTS raw_intake__event_rows (
    submission_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    country_raw VARCHAR,
    date_raw VARCHAR,
    admin1_raw VARCHAR,
    event_type_raw VARCHAR,
    item_raw VARCHAR,
    quantity_raw VARCHAR,
    unit_raw VARCHAR,
    source_raw VARCHAR,
    reliability_raw VARCHAR,
    credibility_raw VARCHAR,
    notes_raw VARCHAR
);
CREATE TABLE IF NOT EXISTS raw_intake__issues (
    submission_sha256 VARCHAR NOT NULL,
    issue_no INTEGER NOT NULL,
    severity VARCHAR,
    source_row INTEGER,
    column_name VARCHAR,
    cell_value VARCHAR,
    rule VARCHAR,
    params_json VARCHAR,
    message_en VARCHAR,
    PRIMARY KEY (submission_sha256, issue_no)
);
CREATE TABLE IF NOT EXISTS core_ref__countries (
    country_iso3 VARCHAR NOT NULL,
    iso2 VARCHAR,
    iso_numeric VARCHAR,
    name_en VARCHAR,
    name_es VARCHAR,
    name_pt VARCHAR,
    subregion VARCHAR,
    PRIMARY KEY (country_iso3)
);
CREATE TABLE IF NOT EXISTS core_ref__population (
    country_iso3 VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    population BIGINT,
    PRIMARY KEY (country_iso3, year)
);
CREATE TABLE IF NOT EXISTS core_ref__categories (
    category_code VARCHAR NOT NULL,
    category_group VARCHAR,
    name_en VARCHAR,
    name_es VARCHAR,
    name_pt VARCHAR,
    PRIMARY KEY (category_code)
);
CREATE TABLE IF NOT EXISTS core_ref__indicators (
    indicator_code VARCHAR NOT NULL,
    category_code VARCHAR,
    indicator_kind VARCHAR,
    unit VARCHAR,
    direction TINYINT,
    denominator VARCHAR,
    plausible_min DOUBLE,
    plausible_max DOUBLE,
    period_aggregation VARCHAR,
    name_en VARCHAR,
    name_es VARCHAR,
    name_pt VARCHAR,
    PRIMARY KEY (indicator_code)
);
CREATE TABLE IF NOT EXISTS core_threat__indicator_values (
    cycle_id VARCHAR NOT NULL,
    country_iso3 VARCHAR NOT NULL,
    indicator_code VARCHAR NOT NULL,
    value DOUBLE,
    unit VARCHAR,
    n_periods INTEGER,
    is_unit_converted BOOLEAN,
    reliability VARCHAR,
    credibility TINYINT,
    trend_reported VARCHAR,
    submission_sha256 VARCHAR,
    source_rows INTEGER[],
    PRIMARY KEY (cycle_id, country_iso3, indicator_code)
);
CREATE TABLE IF NOT EXISTS core_threat__events (
    cycle_id VARCHAR,
    country_iso3 VARCHAR,
    event_date DATE,
    admin1 VARCHAR,
    event_type VARCHAR,
    item VARCHAR,
    quantity DOUBLE,
    unit VARCHAR,
    is_unit_converted BOOLEAN,
    reliability VARCHAR,
    credibility TINYINT,
    submission_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS out_threat__indicator_scores (
    cycle_id VARCHAR NOT NULL,
    country_iso3 VARCHAR NOT NULL,
    indicator_code VARCHAR NOT NULL,
    category_code VARCHAR,
    value DOUBLE,
    population_year INTEGER,
    denominator_value DOUBLE,
    rate DOUBLE,
    normalised_0_100 DOUBLE,
    weight DOUBLE,
    methodology_sha256 VARCHAR,
    PRIMARY KEY (cycle_id, country_iso3, indicator_code)
);
CREATE TABLE IF NOT EXISTS out_threat__category_scores (
    cycle_id VARCHAR NOT NULL,
    country_iso3 VARCHAR NOT NULL,
    category_code VARCHAR NOT NULL,
    score_0_100 DOUBLE,
    quantitative_0_100 DOUBLE,
    expert_0_100 DOUBLE,
    coverage_ratio DOUBLE,
    confidence_0_1 DOUBLE,
    previous_score_0_100 DOUBLE,
    change_0_100 DOUBLE,
    rank_in_category INTEGER,
    methodology_sha256 VARCHAR,
    PRIMARY KEY (cycle_id, country_iso3, category_code)
);
CREATE TABLE IF NOT EXISTS out_threat__regional_priorities (
    cycle_id VARCHAR NOT NULL,
    category_code VARCHAR NOT NULL,
    priority_0_100 DOUBLE,
    priority_rank INTEGER,
    severity_0_100 DOUBLE,
    spread_ratio DOUBLE,
    n_countries_affected INTEGER,
    n_countries_assessed INTEGER,
    trend_0_100 DOUBLE,
    confidence_0_1 DOUBLE,
    coverage_ratio DOUBLE,
    previous_score_0_100 DOUBLE,
    change_0_100 DOUBLE,
    methodology_sha256 VARCHAR,
    PRIMARY KEY (cycle_id, category_code)
);
CREATE TABLE IF NOT EXISTS out_threat__priority_uncertainty (
    cycle_id VARCHAR NOT NULL,
    category_code VARCHAR NOT NULL,
    nominal_rank INTEGER,
    mean_rank DOUBLE,
    median_rank DOUBLE,
    q05_rank DOUBLE,
    q95_rank DOUBLE,
    p_top3 DOUBLE,
    n_replicates INTEGER,
    seed BIGINT,
    methodology_sha256 VARCHAR,
    PRIMARY KEY (cycle_id, category_code)
);
CREATE TABLE IF NOT EXISTS out_threat__priority_sensitivity (
    cycle_id VARCHAR NOT NULL,
    category_code VARCHAR NOT NULL,
    uncertain_element VARCHAR NOT NULL,
    mean_abs_rank_shift DOUBLE,
    n_replicates INTEGER,
    seed BIGINT,
    methodology_sha256 VARCHAR,
    PRIMARY KEY (cycle_id, category_code, uncertain_element)
);
CREATE TABLE IF NOT EXISTS out_threat__priority_drivers (
    cycle_id VARCHAR NOT NULL,
    category_code VARCHAR NOT NULL,
    driver_rank INTEGER,
    indicator_code VARCHAR NOT NULL,
    contribution_points DOUBLE,
    mean_relative_change DOUBLE,
    methodology_sha256 VARCHAR,
    PRIMARY KEY (cycle_id, category_code, indicator_code)
);
CREATE TABLE IF NOT EXISTS out_run__manifests (
    cycle_id VARCHAR NOT NULL,
    run_at TIMESTAMP,
    package_version VARCHAR,
    methodology_name VARCHAR,
    methodology_version VARCHAR,
    methodology_sha256 VARCHAR,
    input_sha256s VARCHAR[],
    flow_run_id VARCHAR,
    PRIMARY KEY (cycle_id)
);
INSERT INTO meta__schema VALUES (1);
