"""Scale-out benchmark against a real local Kafka broker: one worker against two workers of the same
consumer group, on the same batch messages, in the same run (issue 14: aim >= 1.7x on a 2-core machine).

Run: ``python -m benchmarks.scaleout_bench`` (starts its own broker from kafka/broker.py, or pass
``--bootstrap HOST:PORT``). Options: ``--events`` (default 100,000), ``--repeat`` (default 2: the runs
alternate 1, 2, 1, 2 workers so drifting load on a shared machine hits both), ``--seed``.

Each run makes fresh topics (4 partitions) and a fresh group, starts its workers and waits until they share
the partitions, then sends the simulator's traffic as ``chainwatch produce`` packs it and times from the
first message sent until the workers' summed counters (``/chainwatch/stats/``) show every event ingested
and run through every engine scope — the same measure as ``benchmarks.stream_bench``'s worker figure.

Beside the throughput it prints the CPU each side used during the timed window, in cores: the workers,
the broker (when it started it) and everything else on the machine. On two cores two workers can only
gain what the broker and other jobs leave them; those figures say where a ratio below 2 went.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.stream_bench import batch_messages, broker_process, measure_worker
from streams.settings import Settings
from streams.simulator.workload import simulate_events


def run(events: int, repeat: int, seed: int, bootstrap: str | None) -> dict[str, Any]:
    settings = Settings()
    started = time.perf_counter()
    traffic = simulate_events(seed=seed, sessions=max(20, events // 90), attack_ratio=0.1)[:events]
    messages = batch_messages(traffic, settings)
    print(
        f"simulated {len(traffic):,} events in {time.perf_counter() - started:.1f}s; "
        f"{len(messages)} batch messages; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with (
        broker_process(bootstrap) as (address, broker_pid),
        tempfile.TemporaryDirectory(prefix="scaleout-bench-") as tmp,
    ):
        for round_no in range(repeat):
            for workers in (1, 2):
                result = measure_worker(
                    address,
                    Path(tmp),
                    traffic,
                    messages,
                    {"CHAINWATCH_WORKER__LOG_LEVEL": "warning"},
                    workers=workers,
                    broker_pid=broker_pid,
                )
                # events per CPU-second the workers got: equal for 1 and 2 workers means scaling costs
                # nothing, and a ratio below 2 is CPU the machine did not give them
                result["events_per_worker_cpu_s"] = result["events_per_s"] / max(
                    result["cores_workers"], 1e-9
                )
                runs[workers].append(result)
                print(
                    f"round {round_no + 1}, {workers} worker(s): {result['events_per_s']:>8,.0f} events/s "
                    f"({result['seconds']:.1f}s); cores: workers {result['cores_workers']:.2f}, "
                    f"broker {result['cores_broker']:.2f}, other {result['cores_other']:.2f}; "
                    f"{result['events_per_worker_cpu_s']:,.0f} events per worker CPU-second",
                    flush=True,
                )
    best = {n: max(r["events_per_s"] for r in results) for n, results in runs.items()}
    per_round = [two["events_per_s"] / one["events_per_s"] for one, two in zip(runs[1], runs[2], strict=True)]
    per_cpu = {n: max(r["events_per_worker_cpu_s"] for r in results) for n, results in runs.items()}
    return {
        "events": len(traffic),
        "messages": len(messages),
        "runs": runs,
        "best_events_per_s": best,
        "ratio_best": best[2] / best[1],
        "ratio_per_round": per_round,
        "ratio_per_worker_cpu": per_cpu[2] / per_cpu[1],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scaleout_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--bootstrap", help="an existing broker (default: start a local one)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="rounds of (1 worker, 2 workers)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    report = run(args.events, args.repeat, args.seed, args.bootstrap)
    report["command"] = "python -m benchmarks.scaleout_bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(json.dumps(report, indent=2))
    rounds = ", ".join(f"{r:.2f}" for r in report["ratio_per_round"])
    print(
        f"\n2 workers / 1 worker = {report['ratio_best']:.2f} (best of each; per round {rounds}; aim >= 1.7);"
        f" per worker CPU-second {report['ratio_per_worker_cpu']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
