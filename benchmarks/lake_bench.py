"""Loader throughput into a DuckLake against the DuckDB file, as a ratio measured in the same run.

What the loader does per Kafka batch is one ``Store.write`` of that batch's events, chain summaries,
findings and alerts (streams/kafka/loader.py). Both backends get the same batches of the same simulated,
detected workload, in alternating rounds (file, lake, file, lake, …) so that machine noise hits both alike;
the best round of each counts. Reported: rows per second of each, and lake / file.

Run: ``python -m benchmarks.lake_bench [--sessions N] [--batch B] [--repeat R]`` (docs/performance.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from detectors.engine import Engine, Output, Runner
from detectors.registry import load_catalog
from schemas.events import AnyEvent
from streams.simulator.workload import simulate_events
from streams.store.access import StoreTarget
from streams.store.database import Batch, Store
from streams.store.integrity import verify_db
from streams.store.lake import Lake

T = TypeVar("T")


def detected_workload(seed: int, sessions: int, **options: Any) -> tuple[list[AnyEvent], Output]:
    """A simulated workload in time order and what the detectors made of it (chains, findings, alerts)."""
    events = sorted(simulate_events(seed=seed, sessions=sessions, **options), key=lambda e: e.event_time)
    runner = Runner(Engine(load_catalog().detectors))
    output = runner.feed(events)
    output.extend(runner.flush())
    return events, output


def loader_batches(events: Sequence[AnyEvent], output: Output, size: int) -> list[Batch]:
    """The workload cut as the loader receives it: ``size`` events per batch, with the chain summaries,
    findings and alerts spread over the batches in the same proportion."""
    count = max(1, -(-len(events) // size))

    def share(items: Sequence[T], index: int) -> list[T]:
        step = -(-len(items) // count) if items else 0
        return list(items[index * step : (index + 1) * step])

    return [
        Batch(
            events=list(events[i * size : (i + 1) * size]),
            chains=share(output.chains, i),
            findings=share(output.findings, i),
            alerts=share(output.alerts, i),
        )
        for i in range(count)
    ]


def write_all(target: StoreTarget, batches: Sequence[Batch]) -> float:
    start = time.perf_counter()
    with Store(target) as store:
        for batch in batches:
            store.write(batch)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--batch", type=int, default=5000, help="events per write (the loader's default)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    events, output = detected_workload(seed=17, sessions=args.sessions)
    batches = loader_batches(events, output, args.batch)
    rows = sum(len(b) for b in batches)
    best = {"file": float("inf"), "lake": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.repeat):
            base = Path(tmp) / f"round-{round_no}"
            targets: dict[str, StoreTarget] = {
                "file": base / "bench.duckdb",
                "lake": Lake(str(base / "lake" / "catalog.sqlite")),
            }
            for name, target in targets.items():
                best[name] = min(best[name], write_all(target, batches))
            assert verify_db(targets["lake"]).ok and verify_db(targets["file"]).ok
    file_rate, lake_rate = rows / best["file"], rows / best["lake"]
    print(f"{len(events)} events of {args.sessions} sessions, {rows} rows in {len(batches)} batches")
    print(f"DuckDB file: {best['file']:.2f} s, {file_rate:,.0f} rows/s (best of {args.repeat})")
    print(f"DuckLake (SQLite catalog): {best['lake']:.2f} s, {lake_rate:,.0f} rows/s (best of {args.repeat})")
    print(f"lake / file throughput: {lake_rate / file_rate:.2f}")


if __name__ == "__main__":
    main()
