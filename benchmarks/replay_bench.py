"""Replay benchmark: ``chainwatch run`` end to end (read, parse, the full catalog, DuckDB with its audit
trail) in events/s per core, as a ratio to the floor measured in the same run (reading and parsing the
same file into validated, redacted events), and the split of its time; with ``--rss``, the peak memory of
replays of growing inputs (each in a fresh process), which the streaming replay keeps flat.

Run: ``python -m benchmarks.replay_bench [--sessions N] [--repeat R] [--rss DAYS]``.
CPU time of this process (the work is single-threaded): other load on a shared machine disturbs it least.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.engine_bench import best_of
from schemas.adapters import DeadLetter, parse_bytes
from streams.ingest.replay import replay
from streams.settings import Settings, build_engine
from streams.simulator.workload import simulate_events, write_jsonl

START = datetime(2026, 1, 5, tzinfo=UTC)


def parse_floor(path: Path) -> int:
    return sum(
        1 for item in parse_bytes(path.read_bytes(), path.name, "native") if not isinstance(item, DeadLetter)
    )


def run_replay(path: Path, db: Path | None) -> int:
    if db is not None:
        for old in db.parent.glob(db.name + "*"):
            old.unlink()
    return replay([str(path)], build_engine(Settings()), db_path=db).events


def timed(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def segments_file(path: Path, segments: int, sessions: int) -> int:
    """``segments`` days of the simulator's workload, one after another (ids differ by seed), in one file."""
    count = 0
    with path.open("wb") as out:
        for day in range(segments):
            part = path.with_suffix(f".{day}")
            count += write_jsonl(
                simulate_events(seed=100 + day, sessions=sessions, start=START + timedelta(days=day)), part
            )
            out.write(part.read_bytes())
            part.unlink()
    return count


def peak_rss() -> float:
    """This process's peak resident memory in MiB (its own, whatever the process it was started from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_peak_rss(path: Path, db: Path) -> float:
    """Peak RSS (MiB) of a fresh process replaying ``path`` into ``db``."""
    # VmHWM, not getrusage: Linux carries ru_maxrss across exec, so a child would report its parent's peak.
    code = (
        "import sys; from pathlib import Path; from benchmarks.replay_bench import run_replay, peak_rss; "
        "run_replay(Path(sys.argv[1]), Path(sys.argv[2])); print(peak_rss())"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path), str(db)], check=True, capture_output=True)
    return float(done.stdout.decode().strip().splitlines()[-1])


def rss_table(work: Path, segments: int, sessions: int) -> None:
    print(f"{'input':>12} {'events':>10} {'peak RSS (MiB)':>15}")
    for count in sorted({1, max(1, segments // 2), segments}):
        path = work / f"days-{count}.jsonl"
        events = segments_file(path, count, sessions)
        rss = child_peak_rss(path, work / f"days-{count}.duckdb")
        print(f"{count:>9} d. {events:>10,} {rss:>15,.0f}")
        path.unlink()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2500)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rss", type=int, default=0, help="also: peak RSS of 1..N days of workload")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cw-replay-bench-") as folder:
        work = Path(folder)
        source = work / "workload.jsonl"
        write_jsonl(simulate_events(seed=11, sessions=args.sessions, concurrency=args.sessions), source)
        db = work / "bench.duckdb"
        n = parse_floor(source)
        build_engine(Settings())  # imports and the catalog, once, outside the measured runs
        run_replay(source, None)  # warm: the content model and caches that live for the process
        t_floor = best_of(args.repeat, lambda: parse_floor(source))
        t_detect = best_of(args.repeat, lambda: run_replay(source, None))
        t_full = best_of(args.repeat, lambda: run_replay(source, db))
        floor = n / t_floor
        print(f"events: {n:,}, sessions: {args.sessions:,}, input {source.stat().st_size / 2**20:,.0f} MiB")
        print(f"{'stage (CPU time, one core)':44} {'events/s':>10} {'ratio to floor':>15}")
        for name, seconds in (
            ("floor: read + parse (no detection)", t_floor),
            ("replay, full catalog, no database", t_detect),
            ("chainwatch run: replay into DuckDB", t_full),
        ):
            print(f"{name:44} {n / seconds:10,.0f} {n / seconds / floor:15.2f}")
        detection, write = (t_detect - t_floor) / t_full, (t_full - t_detect) / t_full
        print(
            f"split of `chainwatch run`: parse {t_floor / t_full:.0%}, detection {detection:.0%}, "
            f"DuckDB write {write:.0%}; "
            f"peak RSS of this process {peak_rss():,.0f} MiB (it holds the generated workload too)"
        )
        if args.rss:
            rss_table(work, args.rss, args.sessions)


if __name__ == "__main__":
    main()
