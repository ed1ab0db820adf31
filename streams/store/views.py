"""The analytic views (schemas/sql/views.sql): one DDL, created over the store's tables or over a Parquet
export (``streams.store.export.parquet_views_sql``), so both sources answer a query the same way."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import duckdb

from schemas.errors import ChainwatchError
from streams.store.access import connect

_VIEW_NAME = re.compile(r"^CREATE OR REPLACE VIEW (\w+) AS", re.MULTILINE)


def views_sql() -> str:
    return (importlib.resources.files("schemas") / "sql" / "views.sql").read_text(encoding="utf-8")


def view_names() -> list[str]:
    """The views the DDL creates, in creation order (helpers first, as they are defined)."""
    return _VIEW_NAME.findall(views_sql())


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view; the tables (or table-named views) they read must exist."""
    con.execute(views_sql())


class ViewsError(ChainwatchError):
    """The views cannot be (re)created in this file; the message says why and what to run instead."""


def is_lake_database(con: duckdb.DuckDBPyConnection) -> bool:
    """True for a database made by ``chainwatch db views --parquet``: its ``events`` is a view over Parquet
    files, not a table, and the store's DDL must not run on it."""
    found = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'events'"
    ).fetchone()
    return found is not None and found[0] == "VIEW"


def refresh_views(db_path: Path) -> None:
    """(Re)create the views in an existing chainwatch database without going through the store (whose
    writer would anchor an integrity run): the idempotent table DDL first, so a file written by an older
    chainwatch gains the columns the views read."""
    con = connect(db_path, read_only=False)
    try:
        if is_lake_database(con):
            raise ViewsError(
                f"--db {db_path}: its tables are views over a Parquet export, not a chainwatch database; "
                f"recreate them with `chainwatch db views --parquet DIR --db {db_path}`"
            )
        con.execute((importlib.resources.files("schemas") / "sql" / "schema.sql").read_text(encoding="utf-8"))
        create_views(con)
    finally:
        con.close()
