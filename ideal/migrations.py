"""Schema versions: an older warehouse is upgraded on open, a newer one refused.

``meta__schema`` gets one row per version a warehouse has been brought to; its highest
is the warehouse's version. ``ideal.warehouse.SCHEMA_VERSION`` is the version this code
writes. On a writable open (``ideal.warehouse.connect`` calls ``prepare``):

* a new file gets every table and the current version, in one transaction;
* an older one runs ``MIGRATIONS[v]`` for each version v above its own, in order, each
  in one transaction with the ``meta__schema`` row that records it (a crash leaves the
  warehouse at the last version fully reached, and the next open carries on);
* then any table that is still missing is created (``CREATE TABLE IF NOT EXISTS``), and
  the SQL views are (re)installed when their definition changed;
* a warehouse made by a newer ideal is refused: "made by a newer ideal (schema N);
  upgrade ideal".

A read-only open checks the version only; ``connect`` upgrades an older file through a
short writable open first.

Writing a migration: bump SCHEMA_VERSION, add ``MIGRATIONS[n]``, and change tables with
statements that still work on a warehouse that skipped versions (``ALTER TABLE … ADD
COLUMN IF NOT EXISTS``): a table new in version n is created from its *current*
definition by the first migration that needs it, or by ``create_schema`` after them.
tests/data/warehouse_schema_v1.sql keeps version 1 as it was, for the upgrade test.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import duckdb

from ideal import audit
from ideal.warehouse import (
    PUBLISHED,
    SCHEMA_VERSION,
    TABLE_BY_NAME,
    VIEWS,
    WarehouseError,
    create_schema,
    transaction,
)

logger = logging.getLogger(__name__)


class NeedsUpgrade(WarehouseError):
    """A read-only open found an older warehouse (``connect`` upgrades it, then reopens)."""


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's version; None for a new, empty file."""
    has_meta = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' "
        "AND table_name = 'meta__schema'"
    ).fetchone()
    if has_meta and has_meta[0]:
        row = con.execute("SELECT max(schema_version) FROM meta__schema").fetchone()
        if row is not None and row[0] is not None:
            return int(row[0])
    has_tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main'"
    ).fetchone()
    # Tables but no version: made before versions were recorded, i.e. version 1.
    return 1 if has_tables and has_tables[0] else None


def check_version(version: int | None, path: Path) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise WarehouseError(
            f"The warehouse {path} was made by a newer ideal (schema {version}); upgrade "
            f"ideal (this one reads schema {SCHEMA_VERSION} and older)."
        )


def prepare(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
    """Bring a freshly opened warehouse to this code's schema (see the module doc)."""
    version = schema_version(con)
    check_version(version, path)
    if read_only:
        if version is None or version < SCHEMA_VERSION:
            raise NeedsUpgrade(f"{path} is at schema {version}; it needs an upgrade")
        return
    if version is None:
        with transaction(con):
            create_schema(con)
            install_views(con)
        return
    for target in range(version + 1, SCHEMA_VERSION + 1):
        logger.warning("upgrading the warehouse %s to schema %d", path, target)
        with transaction(con):
            MIGRATIONS[target](con)
            con.execute("INSERT INTO meta__schema VALUES (?)", [target])
            # the audit log exists from schema 2, the first version a migration reaches
            audit.record(con, "migrate", details={"to_schema": target})
    create_schema(con)
    install_views(con)


# -- views ----------------------------------------------------------------------------------
def views_sql() -> dict[str, str]:
    """Every view's ``SELECT``, from the module that owns it (ideal.warehouse.VIEWS)."""
    from ideal.aggregation import view_sql as aggregation_sql
    from ideal.lineage import LINEAGE_SQL

    found = {**aggregation_sql(), "out_threat__lineage": LINEAGE_SQL}
    missing = [v.name for v in VIEWS if v.name not in found]
    if missing:
        raise RuntimeError(f"no SQL for views {missing}")
    return found


def install_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace the views whose SQL changed (the hash is kept in their comment)."""
    stored = dict(
        con.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal "
            "AND schema_name = 'main'"
        ).fetchall()
    )
    sqls = views_sql()
    for view in VIEWS:  # in order: a view may read the ones before it
        sql = sqls[view.name]
        digest = "sha256:" + hashlib.sha256(sql.encode("utf-8")).hexdigest()
        if stored.get(view.name) == digest:
            continue
        con.execute(f"CREATE OR REPLACE VIEW {view.name} AS {sql}")
        con.execute(f"COMMENT ON VIEW {view.name} IS '{digest}'")


# -- the migrations ---------------------------------------------------------------------------
def _v2_revisions_audit_and_published_copies(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 2: cycle revisions, the audit log, published copies of the out_ tables.

    Cycles scored under schema 1 become revision 1; a cycle already published keeps
    its published scores as revision 1's frozen copy.
    """
    from ideal.cycles import snapshot

    new = [TABLE_BY_NAME["core_cycle__revisions"], TABLE_BY_NAME["core_audit__actions"]]
    for table in (*new, *PUBLISHED.values()):
        con.execute(table.ddl())
    con.execute(
        "INSERT INTO core_cycle__revisions (cycle_id, revision, started_at, is_published, "
        "published_at) SELECT c.cycle_id, 1, c.opened_at, c.cycle_status = 'published', "
        "CASE WHEN c.cycle_status = 'published' THEN now()::TIMESTAMP END "
        "FROM core_cycle__cycles c WHERE c.cycle_status = 'published' OR EXISTS "
        "(SELECT 1 FROM out_run__manifests m WHERE m.cycle_id = c.cycle_id)"
    )
    published = con.execute(
        "SELECT cycle_id FROM core_cycle__cycles WHERE cycle_status = 'published' ORDER BY cycle_id"
    ).fetchall()
    for (cycle_id,) in published:
        snapshot(con, cycle_id, 1)


MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _v2_revisions_audit_and_published_copies,
}
