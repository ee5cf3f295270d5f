"""Schema versions: a version-1 warehouse is upgraded on open, a newer one is refused."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ideal import migrations
from ideal.warehouse import SCHEMA_VERSION, TABLES, VIEWS, WarehouseError, connect

V1_DDL = Path(__file__).parent / "data" / "warehouse_schema_v1.sql"


def make_v1(path: Path) -> None:
    """A warehouse exactly as ideal 'schema 1' made it, with a published, scored cycle."""
    con = duckdb.connect(str(path))
    con.execute(V1_DDL.read_text(encoding="utf-8"))
    con.execute(
        "INSERT INTO core_cycle__cycles VALUES ('2024', 2024, '2025-03-31', ['COL', 'PER'], "
        "'published', '2025-01-01 00:00:00'), ('2025', 2025, '2026-03-31', ['COL'], 'open', "
        "'2026-01-01 00:00:00')"
    )
    con.execute(
        "INSERT INTO out_threat__category_scores (cycle_id, country_iso3, category_code, "
        "score_0_100) VALUES ('2024', 'COL', 'cocaine', 88.5), ('2024', 'PER', 'cocaine', 61.0)"
    )
    con.execute(
        "INSERT INTO out_run__manifests (cycle_id, run_at, methodology_sha256, input_sha256s) "
        "VALUES ('2024', '2025-04-01 00:00:00', 'abc', ['s1', 's2'])"
    )
    con.close()


def test_a_v1_warehouse_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    make_v1(path)
    with connect(path) as con:
        assert migrations.schema_version(con) == SCHEMA_VERSION
        history = con.execute("SELECT schema_version FROM meta__schema ORDER BY 1").fetchall()
        assert history == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert {t.name for t in TABLES} <= tables
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        assert {v.name for v in VIEWS} <= views
        # the published cycle keeps its scores as revision 1, frozen
        assert con.execute(
            "SELECT cycle_id, revision, is_published FROM core_cycle__revisions"
        ).fetchall() == [("2024", 1, True)]
        frozen = con.execute(
            "SELECT country_iso3, score_0_100 FROM out_threat__category_scores_published "
            "WHERE cycle_id = '2024' AND revision = 1 ORDER BY 1"
        ).fetchall()
        assert frozen == [("COL", 88.5), ("PER", 61.0)]
        assert con.execute("SELECT action, details_json FROM core_audit__actions").fetchall() == [
            ("migrate", '{"to_schema": 2}')
        ]
    with connect(path) as con:  # a second open changes nothing
        assert con.execute("SELECT count(*) FROM meta__schema").fetchone() == (SCHEMA_VERSION,)


def test_a_read_only_open_upgrades_an_older_warehouse_first(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    make_v1(path)
    with connect(path, read_only=True) as con:
        assert migrations.schema_version(con) == SCHEMA_VERSION
        assert con.execute("SELECT count(*) FROM core_cycle__revisions").fetchone() == (1,)


def test_a_failed_migration_leaves_the_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warehouse.duckdb"
    make_v1(path)

    def half_done(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE core_cycle__revisions (cycle_id VARCHAR)")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(migrations.MIGRATIONS, 2, half_done)
    with pytest.raises(OSError), connect(path):
        pass
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert migrations.schema_version(con) == 1
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "core_cycle__revisions" not in tables  # rolled back with the version row
    finally:
        con.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_warehouse_is_refused(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "warehouse.duckdb"
    with connect(path):
        pass
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO meta__schema VALUES (99)")
    con.close()
    with (
        pytest.raises(WarehouseError, match=r"made by a newer ideal \(schema 99\); upgrade ideal"),
        connect(path, read_only=read_only),
    ):
        pass


def test_every_version_has_its_migration() -> None:
    assert sorted(migrations.MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))
