"""The warehouse schema: keys are enforced, and the docs are generated from the definitions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ideal.config import PROJECT_ROOT
from ideal.warehouse import FIELDS, TABLES, WarehouseError, connect, markdown_docs


def test_every_column_is_defined_once_and_every_key_is_a_column() -> None:
    for table in TABLES:
        assert set(table.key) <= set(table.columns), table.name
        assert len(set(table.columns)) == len(table.columns), table.name
        assert all(c in FIELDS for c in table.columns)
        assert table.layer in {"raw", "core", "out"}
        assert "__" in table.name


def test_primary_keys_are_enforced(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("INSERT INTO core_ref__population VALUES ('COL', 2024, 52000000)")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO core_ref__population VALUES ('COL', 2024, 1)")


def test_opening_a_missing_warehouse_read_only_says_what_to_do(tmp_path: Path) -> None:
    with (
        pytest.raises(WarehouseError, match="ideal demo"),
        connect(tmp_path / "none.duckdb", read_only=True),
    ):
        pass


def test_docs_match_the_table_definitions() -> None:
    published = (PROJECT_ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    assert published == markdown_docs(), "docs/warehouse.md drifted: run `ideal docs`"
