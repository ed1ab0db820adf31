"""The demo database the notebooks and the data dictionary's example queries read: the same seeded
workload and replay as ``chainwatch demo``, built on first use."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

DEMO_DB = Path("demo/chainwatch.duckdb")
NOTEBOOK_DB_ENV = "CHAINWATCH_NOTEBOOK_DB"  # tests point the notebooks at a temporary database with it


def notebook_db_path(default: Path = DEMO_DB) -> Path:
    return Path(os.environ.get(NOTEBOOK_DB_ENV) or default)


def ensure_demo_db(path: Path = DEMO_DB, *, seed: int = 7, sessions: int = 120) -> Path:
    """Return ``path``, first simulating ``sessions`` agent sessions and replaying them into it when the
    file does not exist yet (the workload is written beside it, as ``chainwatch demo`` does)."""
    if path.is_file():
        return path
    from streams.replay import replay
    from streams.settings import build_engine, load_settings
    from streams.simulator import simulate, write_jsonl

    simulated = simulate(seed=seed, sessions=sessions, attack_ratio=0.1)
    events = sorted((e for s in simulated for e in s.events), key=lambda e: e.event_time)
    path.parent.mkdir(parents=True, exist_ok=True)
    workload = path.parent / "workload.jsonl"
    write_jsonl(events, workload)
    replay([str(workload)], build_engine(load_settings()), db_path=path, fmt="native")
    return path


def connect_notebook_db(default: Path | str = DEMO_DB) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the notebooks' database (``$CHAINWATCH_NOTEBOOK_DB`` or ``default``),
    built first when missing; a file written before the views existed gets them first."""
    from streams.views import refresh_views

    path = ensure_demo_db(notebook_db_path(Path(default)))
    refresh_views(path)
    return duckdb.connect(str(path), read_only=True)
