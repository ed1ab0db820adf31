"""A seeded demo database shared by the triage tests (CLI and page): same seed, same alert ids."""

from __future__ import annotations

from pathlib import Path

from streams.ingest.replay import replay
from streams.settings import Settings, build_engine
from streams.simulator.workload import simulate, write_jsonl


def seeded_demo_db(folder: Path, seed: int = 7, sessions: int = 120) -> Path:
    """Simulate ``sessions`` (10 % with an attack chain), replay them through the catalog into a DuckDB."""
    workload = folder / "workload.jsonl"
    simulated = simulate(seed=seed, sessions=sessions, attack_ratio=0.1)
    write_jsonl(sorted((e for s in simulated for e in s.events), key=lambda e: e.event_time), workload)
    db = folder / "cw.duckdb"
    replay([str(workload)], build_engine(Settings()), db_path=db)
    return db
