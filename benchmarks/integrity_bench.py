"""Cost of the tamper-evident audit trail (streams/store/integrity.py), as ratios measured in the same run.

(a) writing: simulated events go through ``Store.write`` in batches; the time spent chaining and hashing
    (``IntegrityWriter.prepare`` + ``finish``) is reported as a share of the whole write.
(b) verifying: ``verify_db`` over the written file, against a floor that only reads the same rows into
    Python (what any check of every row must at least do).

Run: ``python -m benchmarks.integrity_bench [--sessions N] [--batch B]`` (docs/security.md quotes it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from streams.simulator.workload import simulate_events
from streams.store.database import Batch, Store
from streams.store.integrity import CHAINED_TABLES, IntegrityWriter, verify_db


def timed(spent: list[float], method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    return wrapper


def read_floor(db: Path) -> tuple[int, float]:
    """Rows of the chained tables read into Python dicts, and how long that took."""
    start = time.perf_counter()
    rows = 0
    with duckdb.connect(str(db), read_only=True) as con:
        for table in CHAINED_TABLES:
            cursor = con.execute(f"SELECT * FROM {table} ORDER BY session_id")
            names = [d[0] for d in cursor.description]
            while chunk := cursor.fetchmany(20_000):
                rows += sum(1 for values in chunk if dict(zip(names, values, strict=True)))
    return rows, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args(argv)

    events = simulate_events(seed=21, sessions=args.sessions)
    spent: list[float] = []
    original = IntegrityWriter.prepare, IntegrityWriter.finish
    IntegrityWriter.prepare = timed(spent, original[0])  # type: ignore[method-assign]
    IntegrityWriter.finish = timed(spent, original[1])  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            start = time.perf_counter()
            with Store(db) as store:
                for i in range(0, len(events), args.batch):
                    store.write(Batch(events=events[i : i + args.batch]))
            t_write = time.perf_counter() - start
            t_chain = sum(spent)
            rows, t_floor = read_floor(db)
            start = time.perf_counter()
            report = verify_db(db)
            t_verify = time.perf_counter() - start
    finally:
        IntegrityWriter.prepare, IntegrityWriter.finish = original  # type: ignore[method-assign]
    assert report.ok, [str(p) for p in report.problems[:5]]
    print(f"events: {len(events)} of {args.sessions} sessions, batches of {args.batch}")
    print(
        f"(a) Store.write {t_write:.2f} s, of which chaining + hashing {t_chain:.2f} s "
        f"({t_chain / t_write:.0%} of the write)"
    )
    print(
        f"(b) verify {report.rows} rows in {t_verify:.2f} s ({report.rows / t_verify:,.0f} rows/s); "
        f"floor (read {rows} rows into Python) {t_floor:.2f} s: verify = {t_verify / t_floor:.1f}x the floor"
    )


if __name__ == "__main__":
    main()
