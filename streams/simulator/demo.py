"""The demo database the notebooks and the data dictionary's example queries read: the same seeded
workload and replay as ``chainwatch demo``, built on first use."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from streams.store.access import StoreTarget, open_read_only
from streams.store.lake import Lake, reader_statements

DEMO_DB = Path("demo/chainwatch.duckdb")
NOTEBOOK_DB_ENV = "CHAINWATCH_NOTEBOOK_DB"  # tests point the notebooks at a temporary database with it
NOTEBOOK_LAKE_ENV = "CHAINWATCH_NOTEBOOK_LAKE"  # or at a lake's catalog: read live, beside the loader


def notebook_db_path(default: Path = DEMO_DB) -> StoreTarget:
    """``$CHAINWATCH_NOTEBOOK_LAKE`` (a lake's catalog) when set, else ``$CHAINWATCH_NOTEBOOK_DB`` or
    ``default`` (a DuckDB file)."""
    catalog = os.environ.get(NOTEBOOK_LAKE_ENV)
    if catalog:
        return Lake(catalog)
    return Path(os.environ.get(NOTEBOOK_DB_ENV) or default)


def attach_lake(catalog: str) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB connection with the lake attached read-only, made with the statements a data team
    runs in its own DuckDB (``chainwatch db attach --lake CATALOG`` prints them)."""
    con = duckdb.connect()
    for statement in reader_statements(Lake(catalog)):
        con.execute(statement)
    return con


def ensure_demo_db(path: Path = DEMO_DB, *, seed: int = 7, sessions: int = 120) -> Path:
    """Return ``path``, first simulating ``sessions`` agent sessions and replaying them into it when the
    file does not exist yet (the workload is written beside it, as ``chainwatch demo`` does)."""
    if path.is_file():
        return path
    from streams.ingest.replay import replay
    from streams.settings import build_engine, load_settings
    from streams.simulator.workload import simulate, write_jsonl

    simulated = simulate(seed=seed, sessions=sessions, attack_ratio=0.1)
    events = sorted((e for s in simulated for e in s.events), key=lambda e: e.event_time)
    path.parent.mkdir(parents=True, exist_ok=True)
    workload = path.parent / "workload.jsonl"
    write_jsonl(events, workload)
    before = set(path.parent.iterdir())
    try:
        replay([str(workload)], build_engine(load_settings()), db_path=path, fmt="native")
    except BaseException:
        # An interrupted build (a notebook stopped mid-way) must not leave a half-written database that
        # every later run would take for the demo: remove what this build created (the file, its WAL and
        # sidecars), so the next run starts over.
        for created in set(path.parent.iterdir()) - before:
            if created.name.startswith(path.name) and created.is_file():
                created.unlink(missing_ok=True)
        raise
    return path


def connect_notebook_db(default: Path | str = DEMO_DB) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the notebooks' database (``$CHAINWATCH_NOTEBOOK_DB`` or ``default``),
    built first when missing; a chainwatch file written before the views existed gets them first. A team
    database of views over a Parquet export (``chainwatch db views --parquet``) is read as it is."""
    from streams.store.views import is_lake_database, refresh_views

    target = notebook_db_path(Path(default))
    if isinstance(target, Lake):  # the live lake: the loader keeps its views up to date
        return attach_lake(target.catalog)
    path = ensure_demo_db(target)
    probe = open_read_only(path)
    try:
        lake = is_lake_database(probe)
    finally:
        probe.close()
    if not lake:
        refresh_views(path)
    return open_read_only(path)
